"""The collector's speed: ingest rate, small-request latency and query latency over HTTP.

Run with sightline's own environment (about 12 minutes; PostgreSQL optional: a database is
created and dropped)::

    .venv/bin/python benchmarks/ingest.py
    .venv/bin/python benchmarks/ingest.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python benchmarks/ingest.py --parts queries --postgres URL --postgres-queries

Each part starts the collector (``python -m sightline.cli serve``, after ``keys create``) as
a subprocess on loopback, on a fresh DuckDB data directory or a fresh PostgreSQL database,
and drives it from this process with httpx:

- ingest: ``POST .../predictions`` of batches of 1,000 records (Arrow IPC stream, and JSON),
  from 1, 2, 4 and 8 client threads (one ``httpx.Client`` and one ingest key each), for
  ``--seconds`` each; events/s counts the rows the collector answered as stored, over the
  time from the first request to the last answer. Bodies are built beforehand (a pool of
  distinct batches; a new ``Idempotency-Key`` for every request), so the client's cost is
  the HTTP call only. The best concurrency is run once more with gzip bodies.
- small requests: one record per request, one client, requests in sequence: latency
  p50/p99 as the client sees it (connection kept alive); then a fleet's traffic, one
  record per request from ``--small-clients`` threads at once (8, 16, 32; one key each),
  for ``--seconds`` each: requests/s and latency. Then ``--fleet`` connections (64, 256)
  from ``--fleet-processes`` client processes (2), each an asyncio loop writing raw
  HTTP/1.1 requests on keep-alive connections (httpx threads cost more CPU than the
  collector): requests/s, latency, and the CPU cores used by the clients and the collector.
- queries: the store is preloaded before the collector starts (30 days of 1-minute metric
  rows for 100 columns, 4.32M rows; heartbeats and profiles of two models; PostgreSQL is
  then vacuumed, as autovacuum would be by the time such a store is queried), then one client
  sends each query in sequence: the health overview (default 24 h), the 30-day series of
  one column and metric with ``max_points=1000``, the same raw (43,200 rows), and all 100
  columns with ``max_points=1000``.

The collector applies its rate limit per key (200 requests/s), so every client thread has
its own key and the sequential parts rotate over several. ``--sample-server`` samples the
server's Python stacks (every thread, every 2 ms) and prints where the time goes.
Client and server share the machine's cores: the load average is printed before each part.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ARROW = "application/vnd.apache.arrow.stream"
JSON = "application/json"
PROJECT = "default"
BATCH = 1_000
COLUMNS = 100
DAYS = 30
INSTANCES = 4
HEARTBEAT_EVERY = 30  # seconds
PROFILE_DAYS = 7
METRIC = "jensen_shannon"


# -- the collector process -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "sightline.cli", *args]


def create_admin_key(where: Sequence[str]) -> str:
    """An admin key, created with ``sightline keys create`` (before the collector starts)."""
    out = subprocess.run(
        _cli("keys", "create", *where, "--scope", "admin"),
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


class Collector:
    """``sightline serve`` on a free loopback port, stopped with SIGINT at exit."""

    def __init__(self, where: Sequence[str], log: Path, sample_to: Path | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        serve = ["serve", *where, "--port", str(self.port), "--log-level", "warning"]
        if sample_to is None:
            self.command = _cli(*serve)
        else:
            self.command = [sys.executable, __file__, "--serve-sampled", str(sample_to), *serve]
        self.log = log
        self.sample_to = sample_to
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Collector:
        import httpx

        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the collector exited; see {self.log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"the collector did not start; see {self.log}")

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.send_signal(2)  # SIGINT: uvicorn shuts down, the store closes
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.sample_to is not None and self.sample_to.exists():
            print(self.sample_to.read_text())

    def keys(self, admin: str, scope: str, n: int) -> list[str]:
        """``n`` new keys of ``scope`` (POST /api/v1/keys)."""
        import httpx

        out = []
        for _ in range(n):
            r = httpx.post(
                self.url + "/api/v1/keys",
                json={"scope": scope},
                headers={"Authorization": f"Bearer {admin}"},
            )
            r.raise_for_status()
            out.append(r.json()["key"])
        return out


def _serve_sampled(out: Path, argv: list[str]) -> None:
    """Run ``sightline <argv>`` while a thread samples every thread's Python stack (2 ms);
    write the busiest functions (self and inclusive, idle waits left out) to ``out``."""
    from sightline.cli.main import main

    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    samples = 0
    stop = threading.Event()
    idle = ("threading.py", "queue.py", "selectors.py", "runners.py", "base_events.py")

    def sample() -> None:
        nonlocal samples
        me = threading.get_ident()
        while not stop.wait(0.002):
            for tid, frame in sys._current_frames().items():
                if tid == me or frame.f_code.co_filename.endswith(idle):
                    continue
                samples += 1
                seen = set()
                top = True
                f: Any = frame
                while f is not None:
                    code = f.f_code
                    name = f"{code.co_name} ({Path(code.co_filename).name}:{code.co_firstlineno})"
                    if top:
                        own[name] += 1
                        top = False
                    if name not in seen:
                        inclusive[name] += 1
                        seen.add(name)
                    f = f.f_back

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        main(argv)
    finally:
        stop.set()
        thread.join()
        lines = [f"busy samples: {samples}", "self:"]
        lines += [f"  {n / samples:6.1%}  {k}" for k, n in own.most_common(25)]
        lines.append("inclusive:")
        lines += [f"  {n / samples:6.1%}  {k}" for k, n in inclusive.most_common(45)]
        out.write_text("\n".join(lines) + "\n")


# -- request bodies ------------------------------------------------------------------------


def arrow_body(batch: int, n: int, t0: datetime) -> bytes:
    """An Arrow IPC stream of ``n`` prediction records (id, timestamp, prediction, probability)."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(batch)
    start = int(t0.timestamp() * 1e6)
    table = pa.table(
        {
            "id": pa.array([f"b{batch}-{i}" for i in range(n)], pa.string()),
            "timestamp": pa.array(start + np.arange(n) * 1000, pa.timestamp("us")),
            "prediction": pa.array(rng.integers(0, 2, n).astype(float), pa.float64()),
            "probability": pa.array(rng.random(n), pa.float64()),
        }
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def json_body(batch: int, n: int, t0: datetime) -> bytes:
    """The same records as :func:`arrow_body`, as the JSON body."""
    import numpy as np

    rng = np.random.default_rng(batch)
    records = [
        {
            "id": f"b{batch}-{i}",
            "timestamp": (t0 + timedelta(milliseconds=i)).isoformat().replace("+00:00", "Z"),
            "prediction": float(p),
            "probability": float(q),
        }
        for i, (p, q) in enumerate(
            zip(rng.integers(0, 2, n).astype(float), rng.random(n), strict=True)
        )
    ]
    return json.dumps({"records": records}).encode()


def bodies(kind: str, n: int, count: int) -> list[bytes]:
    t0 = datetime.now(UTC).replace(microsecond=0)
    make = arrow_body if kind == ARROW else json_body
    return [make(i, n, t0) for i in range(count)]


# -- driving -------------------------------------------------------------------------------


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def sustained(
    url: str,
    path: str,
    keys: Sequence[str],
    pool: Sequence[bytes],
    content_type: str,
    clients: int,
    seconds: float,
    compress: bool = False,
    *,
    pid: int | None = None,
) -> dict[str, float]:
    """Send the bodies of ``pool`` from ``clients`` threads for ``seconds``; events/s etc.,
    and with ``pid`` (the collector's) its CPU milliseconds per request (all threads)."""
    import httpx

    run = uuid.uuid4().hex[:8]
    if compress:
        pool = [gzip.compress(b) for b in pool]
    start_gate = threading.Barrier(clients + 1)
    stored = [0] * clients
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures: list[Counter[int]] = [Counter() for _ in range(clients)]
    finished = [0.0] * clients
    t_start = 0.0

    def client(c: int) -> None:
        headers = {"Authorization": f"Bearer {keys[c]}", "Content-Type": content_type}
        if compress:
            headers["Content-Encoding"] = "gzip"
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            for i in range(3):  # warm up: connection, caches
                http.post(path, content=pool[i], headers={"Idempotency-Key": f"{run}w{c}-{i}"})
            start_gate.wait()
            deadline = t_start + seconds
            i = 0
            while time.perf_counter() < deadline:
                body = pool[(i * clients + c) % len(pool)]
                t = time.perf_counter()
                r = http.post(path, content=body, headers={"Idempotency-Key": f"{run}-{c}-{i}"})
                latencies[c].append(time.perf_counter() - t)
                if r.status_code == 200:
                    stored[c] += r.json()["stored"]
                else:
                    failures[c][r.status_code] += 1
                i += 1
            finished[c] = time.perf_counter()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    t_start = time.perf_counter()
    cpu = _cpu_seconds(pid) if pid else 0.0
    start_gate.wait()
    for t in threads:
        t.join()
    cpu = _cpu_seconds(pid) - cpu if pid else float("nan")
    elapsed = max(finished) - t_start
    lat = [x for part in latencies for x in part]
    failed = sum((f for f in failures), Counter())
    if failed:
        print(f"    refused: {dict(failed)}", flush=True)
    return {
        "events_per_s": sum(stored) / elapsed,
        "requests_per_s": len(lat) / elapsed,
        "p50_ms": 1e3 * _quantile(lat, 0.5),
        "p99_ms": 1e3 * _quantile(lat, 0.99),
        "failed": float(sum(failed.values())),
        "mb_per_s": sum(len(pool[i % len(pool)]) for i in range(len(lat))) / elapsed / 2**20,
        "server_cpu_ms": 1e3 * cpu / max(1, len(lat)),
    }


def sequential(
    url: str,
    keys: Sequence[str],
    requests: Sequence[Callable[[Any, int], Any]],
    n: int,
    cpu: list[float] | None = None,
) -> list[float]:
    """Latencies (s) of ``n`` calls in sequence, cycling over ``requests`` and ``keys``
    (one kept-alive client per key); every answer must be a 200. With ``cpu`` (``[pid]``,
    the collector's), its CPU seconds over the ``n`` calls are appended to it."""
    import httpx

    clients = [
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {k}"}, timeout=120)
        for k in keys
    ]
    try:
        for i in range(min(n, 10) + len(clients)):  # warm up
            requests[i % len(requests)](clients[i % len(clients)], -1 - i).raise_for_status()
        out = []
        start_cpu = _cpu_seconds(int(cpu[0])) if cpu else 0.0
        for i in range(n):
            call = requests[i % len(requests)]
            http = clients[i % len(clients)]
            t = time.perf_counter()
            r = call(http, i)
            out.append(time.perf_counter() - t)
            if r.status_code != 200:
                raise RuntimeError(f"{r.status_code}: {r.text[:300]}")
        if cpu:
            cpu.append(_cpu_seconds(int(cpu[0])) - start_cpu)
        return out
    finally:
        for c in clients:
            c.close()


# -- a fleet: many connections from a few processes ---------------------------------------


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _fleet_connections(
    port: int, path: str, keys: Sequence[str], pool: Sequence[bytes], job: dict[str, Any]
) -> dict[str, Any]:
    """``job["connections"]`` keep-alive HTTP/1.1 connections, each sending one request
    after the other until ``job["until"]`` (a ``time.time()``); raw requests on asyncio
    streams, so that a client costs little CPU beside the collector's."""
    import asyncio

    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {ARROW}\r\n"
        "Authorization: Bearer {key}\r\nIdempotency-Key: {idem}\r\nContent-Length: {n}\r\n\r\n"
    )
    latencies: list[float] = []
    failed: Counter[int] = Counter()
    stored = 0

    async def connection(c: int) -> None:
        nonlocal stored
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = keys[c % len(keys)]
        i = 0
        while time.time() < job["until"]:
            body = pool[(c + i) % len(pool)]
            idem = f"{job['run']}-{c}-{i}"
            request = head.format(key=key, idem=idem, n=len(body)).encode() + body
            t = time.perf_counter()
            writer.write(request)
            status_and_headers = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in status_and_headers.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            answer = await reader.readexactly(length)
            if time.time() >= job["from"]:  # after the warm-up
                latencies.append(time.perf_counter() - t)
                status = int(status_and_headers[9:12])
                if status == 200 and b'"stored":1' in answer:
                    stored += 1
                else:
                    failed[status] += 1
            i += 1
        writer.close()

    cpu = time.process_time()
    await asyncio.gather(*(connection(c) for c in range(job["first"], job["last"])))
    return {
        "latencies": latencies,
        "stored": stored,
        "failed": failed,
        "cpu": time.process_time() - cpu,
    }


def _fleet_process(args: tuple[int, str, list[str], list[bytes], dict[str, Any]]) -> Any:
    import asyncio

    return asyncio.run(_fleet_connections(*args))


def fleet(
    server: Collector,
    path: str,
    keys: Sequence[str],
    pool: Sequence[bytes],
    connections: int,
    processes: int,
    seconds: float,
) -> dict[str, float]:
    """One-event requests from ``connections`` connections spread over ``processes``
    client processes for ``seconds`` (after 1 s of warm-up): requests/s, latency, and the
    CPU seconds per second of the clients and of the collector."""
    import multiprocessing

    assert server.proc is not None
    now = time.time() + 2.0  # the processes start meanwhile
    share = -(-connections // processes)
    jobs = [
        {
            "run": uuid.uuid4().hex[:8],
            "first": p * share,
            "last": min(connections, (p + 1) * share),
            "from": now + 1.0,
            "until": now + 1.0 + seconds,
        }
        for p in range(processes)
    ]
    with multiprocessing.get_context("spawn").Pool(processes) as workers:
        pending = workers.map_async(
            _fleet_process, [(server.port, path, list(keys), list(pool), job) for job in jobs]
        )
        time.sleep(max(0.0, now + 1.0 - time.time()))
        server_cpu = _cpu_seconds(server.proc.pid)
        results = pending.get(seconds + 120)
        server_cpu = _cpu_seconds(server.proc.pid) - server_cpu
    lat = [x for r in results for x in r["latencies"]]
    failed = sum((r["failed"] for r in results), Counter())
    if failed:
        print(f"    refused: {dict(failed)}", flush=True)
    stored = sum(r["stored"] for r in results)
    return {
        "events_per_s": stored / seconds,
        "requests_per_s": len(lat) / seconds,
        "p50_ms": 1e3 * _quantile(lat, 0.5),
        "p99_ms": 1e3 * _quantile(lat, 0.99),
        "failed": float(sum(failed.values())),
        "mb_per_s": len(lat) * len(pool[0]) / seconds / 2**20,
        "client_cpu": sum(r["cpu"] for r in results) / seconds,
        "server_cpu": server_cpu / seconds,
        "server_cpu_ms": 1e3 * server_cpu / max(1, len(lat)),
    }


# -- the ingest part -----------------------------------------------------------------------

SCHEMA_BODY = {
    "columns": [
        {"name": "x", "role": "feature", "kind": "numeric"},
        {"name": "prediction", "role": "prediction", "kind": "numeric"},
    ]
}


def ingest_part(
    name: str,
    where: Sequence[str],
    log: Path,
    args: argparse.Namespace,
    rows: list[dict[str, Any]],
) -> None:
    """Sustained ingest of both formats at every concurrency, gzip, and small requests."""
    import httpx

    print(f"{name} ingest; load average {_load()}", flush=True)
    admin = create_admin_key(where)
    sample_to = log.with_suffix(".samples.txt") if args.sample_server else None
    with Collector(where, log, sample_to) as server:
        assert server.proc is not None
        pid = server.proc.pid  # its CPU time per request is what bounds requests/s
        keys = server.keys(admin, "ingest", max(*args.clients, *args.small_clients, 16))
        auth = {"Authorization": f"Bearer {admin}"}
        httpx.put(
            server.url + "/api/v1/models/churn/versions/1", json=SCHEMA_BODY, headers=auth
        ).raise_for_status()
        path = "/api/v1/models/churn/versions/1/predictions"
        for label, kind in (("Arrow", ARROW), ("JSON", JSON)):
            if label.lower() not in args.formats:
                continue
            pool = bodies(kind, BATCH, 32)
            best: tuple[float, int] = (0.0, 1)
            for clients in args.clients:
                print(f"  {name} {label} x{clients} ...", flush=True)
                res = sustained(server.url, path, keys, pool, kind, clients, args.seconds, pid=pid)
                rows.append(_ingest_row(name, label, clients, False, res))
                best = max(best, (res["events_per_s"], clients))
            if args.gzip:
                clients = best[1]
                print(f"  {name} {label} x{clients} gzip ...", flush=True)
                res = sustained(
                    server.url, path, keys, pool, kind, clients, args.seconds, True, pid=pid
                )
                rows.append(_ingest_row(name, label, clients, True, res))
        small = {ARROW: bodies(ARROW, 1, 64), JSON: bodies(JSON, 1, 64)}
        run = uuid.uuid4().hex[:8]
        for label, kind in (("Arrow", ARROW), ("JSON", JSON)):
            print(f"  {name} {label} single-event latency ...", flush=True)
            pool = small[kind]

            def post(http: Any, i: int, pool: list[bytes] = pool, kind: str = kind) -> Any:
                return http.post(
                    path,
                    content=pool[i % len(pool)],
                    headers={"Content-Type": kind, "Idempotency-Key": f"{run}-{kind}-{i}"},
                )

            cpu: list[float] = [pid]
            lat = sequential(server.url, keys[:4], [post], args.small_requests, cpu)
            print(
                f"    p50 {1e3 * _quantile(lat, 0.5):.1f} ms, "
                f"collector CPU {1e3 * cpu[1] / len(lat):.2f} ms/request",
                flush=True,
            )
            rows.append(
                {
                    "store": name,
                    "what": f"{label}, 1 event per request, 1 client in sequence",
                    "clients": 1,
                    "events_per_s": len(lat) / sum(lat),
                    "requests_per_s": len(lat) / sum(lat),
                    "p50_ms": 1e3 * _quantile(lat, 0.5),
                    "p99_ms": 1e3 * _quantile(lat, 0.99),
                    "server_cpu_ms": 1e3 * cpu[1] / len(lat),
                }
            )
        for clients in args.small_clients:  # a fleet: many instances, one event each
            print(f"  {name} Arrow single events x{clients} ...", flush=True)
            res = sustained(
                server.url, path, keys, small[ARROW], ARROW, clients, args.seconds, pid=pid
            )
            rows.append(_ingest_row(name, "Arrow", clients, False, res, events=1))
        for connections in args.fleet:
            procs = args.fleet_processes
            print(f"  {name} Arrow single events, {connections} connections ...", flush=True)
            res = fleet(server, path, keys, small[ARROW], connections, procs, args.seconds)
            row = _ingest_row(name, "Arrow", connections, False, res, events=1)
            row["what"] = (
                f"Arrow, 1 event per request, {connections} asyncio connections in "
                f"{procs} processes (CPU: clients {res['client_cpu']:.2f}, "
                f"collector {res['server_cpu']:.2f} cores)"
            )
            rows.append(row)


def _ingest_row(
    store: str,
    label: str,
    clients: int,
    compress: bool,
    res: dict[str, float],
    events: int = BATCH,
) -> dict[str, Any]:
    print(
        f"    {res['events_per_s']:,.0f} events/s, {res['requests_per_s']:.1f} req/s, "
        f"p50 {res['p50_ms']:.1f} ms, p99 {res['p99_ms']:.1f} ms, {res['mb_per_s']:.1f} MB/s, "
        f"collector CPU {res['server_cpu_ms']:.2f} ms/request; load {_load()}",
        flush=True,
    )
    return {
        "store": store,
        "what": (
            f"{label}, batches of {events:,}{', gzip' if compress else ''}"
            if events > 1
            else f"{label}, 1 event per request, {clients} clients at once"
        ),
        "clients": clients,
        **res,
    }


# -- the app in process: CPU per request without HTTP or the other helpers' noise ----------


def inprocess_part(log_dir: Path) -> list[dict[str, Any]]:
    """The collector's ASGI app called in this process (no uvicorn, no sockets) on a new
    DuckDB store: CPU ms per request (all threads: the event loop and the group commits)
    for one-event Arrow requests in sequence and 64 at once, and batches of 1,000 from 8.
    Far less sensitive to other jobs' load than the HTTP figures."""
    import asyncio

    from sightline.server.app import create_app
    from sightline.server.limits import RequestLimits
    from sightline.server.state import Settings
    from sightline.store import open_store

    store = open_store(log_dir / "inprocess")
    limits = RequestLimits(rate_per_second=1e9, burst=10**9, max_inflight=10_000)
    app = create_app(store, Settings(schedule_every=timedelta(0), limits=limits))
    key = store.create_key(PROJECT, "ingest")
    store.register_version(PROJECT, "churn", "1", SCHEMA_BODY)
    path = "/api/v1/models/churn/versions/1/predictions"
    t0 = datetime.now(UTC).replace(microsecond=0)
    sent = 0

    async def call(body: bytes) -> None:
        nonlocal sent
        sent += 1
        headers = [
            (b"content-type", ARROW.encode()),
            (b"authorization", f"Bearer {key}".encode()),
            (b"idempotency-key", f"inprocess-{sent}".encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": b"", "root_path": "", "headers": headers,
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {},
        }  # fmt: skip
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(scope, receive, send)
        if status != [200]:
            raise RuntimeError(f"answered {status}")

    async def run(pool: list[bytes], concurrency: int, n: int) -> float:
        for body in pool[:10]:  # warm up
            await call(body)
        done = 0

        async def client() -> None:
            nonlocal done
            while done < n:
                done += 1
                await call(pool[done % len(pool)])

        cpu = time.process_time()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return 1e3 * (time.process_time() - cpu) / done

    async def main() -> list[dict[str, Any]]:
        out = []
        async with app.router.lifespan_context(app):
            for what, rows, concurrency, n in (
                ("Arrow, 1 event per request, in sequence", 1, 1, 1000),
                ("Arrow, 1 event per request, 64 at once", 1, 64, 5000),
                ("Arrow, batches of 1,000, 8 at once", BATCH, 8, 500),
            ):
                pool = [arrow_body(i, rows, t0) for i in range(64)]
                ms = await run(pool, concurrency, n)
                print(f"  in process: {what}: {ms:.2f} ms of CPU/request; load {_load()}")
                out.append({"what": what, "cpu_ms": ms, "load": _load()})
        return out

    try:
        return asyncio.run(main())
    finally:
        store.close()


# -- the query part ------------------------------------------------------------------------


def preload(location: str, end: datetime) -> str:
    """Fill a new store at ``location``; return an admin key.

    - model ``churn``: 30 days of 1-minute drift rows (``jensen_shannon``) of 100 columns.
    - models ``svc-5m`` and ``svc-1m``: 4 instances, a heartbeat every 30 s for 30 days,
      and one profile per instance and 5-minute (1-minute) window for the last 7 days.
    """
    import numpy as np
    import pyarrow as pa

    from sightline.profile import KLL
    from sightline.store import open_store

    ts = pa.timestamp("us")
    store = open_store(location)
    try:
        admin = store.create_key(PROJECT, "admin")
        columns = [{"name": f"c{i:03d}", "role": "feature", "kind": "numeric"} for i in range(100)]
        store.register_version(PROJECT, "churn", "1", {"columns": columns})
        names = np.array([c["name"] for c in columns], dtype=object)
        first = end - timedelta(days=DAYS)
        rng = np.random.default_rng(0)
        per_day = 1440
        for day in range(DAYS):
            minutes = np.arange(day * per_day, (day + 1) * per_day)
            starts = np.repeat(minutes, COLUMNS)
            n = starts.size
            start_us = np.datetime64(first, "us") + starts.astype("timedelta64[m]")
            value = rng.beta(1, 30, n)
            table = pa.table(
                {
                    "project": pa.array([PROJECT] * n, pa.string()),
                    "model": pa.array(["churn"] * n, pa.string()),
                    "version": pa.array(["1"] * n, pa.string()),
                    "window_start": pa.array(start_us, ts),
                    "window_end": pa.array(start_us + np.timedelta64(1, "m"), ts),
                    "column_name": pa.array(np.tile(names, per_day), pa.string()),
                    "metric": pa.array([METRIC] * n, pa.string()),
                    "value": pa.array(value, pa.float64()),
                    "lower_bound": pa.nulls(n, pa.float64()),
                    "upper_bound": pa.array(np.full(n, 0.1), pa.float64()),
                    "alert": pa.array(value > 0.1, pa.bool_()),
                    "n_ref": pa.array(np.full(n, 100_000), pa.int64()),
                    "n_cur": pa.array(rng.integers(50, 150, n), pa.int64()),
                    "method": pa.array([METRIC] * n, pa.string()),
                    "p_value": pa.nulls(n, pa.float64()),
                    "kind": pa.array(["drift"] * n, pa.string()),
                    "computed_at": pa.array(start_us + np.timedelta64(2, "m"), ts),
                }
            )
            store.insert_rows("metric_rows", table)
        for model, window in (("svc-5m", 5), ("svc-1m", 1)):
            store.register_version(PROJECT, model, "1", SCHEMA_BODY)
            beats = np.arange(0, DAYS * 86400, HEARTBEAT_EVERY)
            beat_ts = np.datetime64(first, "us") + np.repeat(beats, INSTANCES).astype(
                "timedelta64[s]"
            )
            n = beat_ts.size
            instance = np.tile(np.array([f"pod-{i}" for i in range(INSTANCES)], object), beats.size)
            store.insert_rows(
                "heartbeats",
                pa.table(
                    {
                        "project": pa.array([PROJECT] * n, pa.string()),
                        "model": pa.array([model] * n, pa.string()),
                        "version": pa.array(["1"] * n, pa.string()),
                        "instance": pa.array(instance, pa.string()),
                        "host": pa.array(instance, pa.string()),
                        "pid": pa.array(np.full(n, 7), pa.int64()),
                        "started_at": pa.array(np.full(n, np.datetime64(first, "us")), ts),
                        "ts": pa.array(beat_ts, ts),
                        "dropped": pa.array(np.zeros(n, np.int64), pa.int64()),
                    }
                ),
            )
            per_window = 10 * 60 * window  # 10 predictions/s per instance
            sketches = [
                KLL().update(rng.lognormal(3, 0.5, per_window)).to_bytes() for _ in range(64)
            ]
            starts = np.arange(0, PROFILE_DAYS * 86400, window * 60)
            p_start = np.datetime64(end - timedelta(days=PROFILE_DAYS), "us") + np.repeat(
                starts, INSTANCES
            ).astype("timedelta64[s]")
            n = p_start.size
            instance = np.tile(
                np.array([f"pod-{i}" for i in range(INSTANCES)], object), starts.size
            )
            store.insert_rows(
                "profiles",
                pa.table(
                    {
                        "project": pa.array([PROJECT] * n, pa.string()),
                        "model": pa.array([model] * n, pa.string()),
                        "version": pa.array(["1"] * n, pa.string()),
                        "instance": pa.array(instance, pa.string()),
                        "window_start": pa.array(p_start, ts),
                        "window_end": pa.array(p_start + np.timedelta64(window, "m"), ts),
                        "idempotency_key": pa.array([uuid.uuid4().hex for _ in range(n)]),
                        "n_rows": pa.array(np.full(n, per_window), pa.int64()),
                        "n_predictions": pa.array(np.full(n, per_window), pa.int64()),
                        "n_errors": pa.array(rng.integers(0, 3, n), pa.int64()),
                        "latency": pa.array([sketches[i % 64] for i in range(n)], pa.binary()),
                        "payload": pa.array([b"\0" * 1024] * n, pa.binary()),
                        "received_at": pa.array(p_start + np.timedelta64(window, "m"), ts),
                    }
                ),
            )
    finally:
        store.close()
    return admin


def _vacuum(url: str) -> None:
    """What autovacuum does within a minute or two of the preload (the collector's
    migrations make it vacuum ``metric_rows`` after every 1 % of new rows): set the
    visibility map that index-only scans need, and the planner's statistics."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def query_part(
    name: str, where: Sequence[str], location: str, log: Path, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Preload the store at ``location``, start a collector on it, time the queries."""
    import httpx

    end = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
    t = time.perf_counter()
    admin = preload(location, end)
    if location.startswith("postgresql"):
        _vacuum(location)
    print(f"{name} queries: preloaded in {time.perf_counter() - t:.0f} s", flush=True)
    series = {
        "since": (end - timedelta(days=DAYS)).isoformat(),
        "until": end.isoformat(),
        "metric": METRIC,
    }
    # (label, route, query parameters, requests); "{c}" cycles over the 100 columns.
    queries: list[tuple[str, str, dict[str, Any], int]] = [
        ("health overview (24 h), 1-min profiles", "svc-1m/health", {}, args.queries),
        ("health overview (24 h), 5-min profiles", "svc-5m/health", {}, args.queries),
        (
            "30-day series, 1 column, max_points=1000",
            "churn/metrics",
            {**series, "column": "c{c:03d}", "max_points": 1000},
            args.queries,
        ),
        (
            "30-day series, 1 column, raw",
            "churn/metrics",
            {**series, "column": "c{c:03d}"},
            args.record_queries,
        ),
        (
            "30-day series, 100 columns, max_points=1000",
            "churn/metrics",
            {**series, "max_points": 1000},
            args.record_queries,
        ),
    ]
    rows: list[dict[str, Any]] = []
    sample_to = log.with_suffix(".samples.txt") if args.sample_server else None
    with Collector(where, log, sample_to) as server:
        keys = server.keys(admin, "read", 4)
        for label, route, params, n in queries:
            print(f"  {name}: {label}; load average {_load()}", flush=True)

            def get(http: Any, i: int, route: str = route, params: dict[str, Any] = params) -> Any:
                given = {k: str(v).format(c=i % COLUMNS) for k, v in params.items()}
                return http.get(f"/api/v1/models/{route}", params=given)

            auth = {"Authorization": f"Bearer {keys[0]}"}
            with httpx.Client(base_url=server.url, headers=auth, timeout=120) as http:
                probe = get(http, 0)
            probe.raise_for_status()
            answer = probe.json()
            lat = sequential(server.url, keys, [get], n)
            row = {
                "store": name,
                "what": label,
                "requests": len(lat),
                "rows": len(answer["rows"]) if "rows" in answer else None,
                "kb": len(probe.content) / 1024,
                "p50_ms": 1e3 * _quantile(lat, 0.5),
                "p95_ms": 1e3 * _quantile(lat, 0.95),
                "p99_ms": 1e3 * _quantile(lat, 0.99),
            }
            if "predictions" in answer:
                row["rows"] = None
                print(
                    f"    {answer['predictions']:,} predictions, "
                    f"{len(answer['instances'])} instances, "
                    f"uptime {answer['uptime_percent']:.1f} %",
                    flush=True,
                )
            print(f"    p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms", flush=True)
            rows.append(row)
    return rows


# -- PostgreSQL ----------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """The URL of a new database on the server of ``admin_url``, dropped at exit."""
    import psycopg

    name = f"sightline_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# -- tables --------------------------------------------------------------------------------


def _load() -> str:
    """The 1, 5 and 15-minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def ingest_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| store | requests | clients | events/s | requests/s | p50 ms | p99 ms "
        "| collector CPU ms/request |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['store']} | {r['what']} | {r['clients']} | {r['events_per_s']:,.0f} | "
            f"{r['requests_per_s']:,.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['server_cpu_ms']:.2f} |"
        )
    return "\n".join(lines)


def query_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| store | query | rows | answer KB | requests | p50 ms | p95 ms | p99 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        n = "-" if r["rows"] is None else f"{r['rows']:,}"
        lines.append(
            f"| {r['store']} | {r['what']} | {n} | {r['kb']:,.0f} | {r['requests']} | "
            f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per sustained run")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--formats", nargs="+", default=["arrow", "json"])
    parser.add_argument("--no-gzip", dest="gzip", action="store_false")
    parser.add_argument("--small-requests", type=int, default=2000)
    parser.add_argument(
        "--small-clients",
        type=int,
        nargs="+",
        default=[8, 16, 32],
        help="concurrent clients of one-event requests (each its own key)",
    )
    parser.add_argument(
        "--fleet",
        type=int,
        nargs="*",
        default=[64, 256],
        help="connections of one-event requests from asyncio client processes",
    )
    parser.add_argument("--fleet-processes", type=int, default=2, help="client processes")
    parser.add_argument(
        "--queries", type=int, default=200, help="requests of the health and series queries"
    )
    parser.add_argument(
        "--record-queries", type=int, default=20, help="requests of the raw and 100-column ones"
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["ingest", "queries"],
        choices=["ingest", "queries", "inprocess"],
    )
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server (optional)")
    parser.add_argument("--postgres-queries", action="store_true", help="also query PostgreSQL")
    parser.add_argument("--sample-server", action="store_true", help="print server hot spots")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="sightline-bench-"))
    print(f"load average before: {_load()} (2 cores); logs in {tmp}", flush=True)
    ingest_rows: list[dict[str, Any]] = []
    query_rows: list[dict[str, Any]] = []
    try:
        if "inprocess" in args.parts:
            inprocess_part(tmp)
        if "ingest" in args.parts:
            ingest_part(
                "DuckDB",
                ["--data", str(tmp / "ingest")],
                tmp / "ingest-duckdb.log",
                args,
                ingest_rows,
            )
            if args.postgres:
                with fresh_database(args.postgres) as url:
                    ingest_part(
                        "PostgreSQL", ["--store", url], tmp / "ingest-pg.log", args, ingest_rows
                    )
        if "queries" in args.parts:
            loc = str(tmp / "queries")
            query_rows += query_part("DuckDB", ["--data", loc], loc, tmp / "query-duckdb.log", args)
            if args.postgres and args.postgres_queries:
                with fresh_database(args.postgres) as url:
                    query_rows += query_part(
                        "PostgreSQL", ["--store", url], url, tmp / "query-pg.log", args
                    )
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nload average after: {_load()}\n")
    if ingest_rows:
        print(ingest_table(ingest_rows) + "\n")
    if query_rows:
        print(query_table(query_rows))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--serve-sampled":
        _serve_sampled(Path(sys.argv[2]), sys.argv[3:])
    else:
        os.environ.setdefault("PYTHONHASHSEED", "0")
        main()
