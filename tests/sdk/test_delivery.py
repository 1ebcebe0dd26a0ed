"""Delivery end to end over real HTTP on loopback: retry policy per status, Retry-After,
413 splits, gzip, the spool (spill, bound, replay after close and after SIGKILL), close and
fork.

Status policies run against a tiny Starlette app that answers scripted statuses and records
every request; delivery guarantees run against the real collector over DuckDB, counting
rows in its store. Every wait has a deadline.
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import gzip
import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sightline.errors import InvalidInputError
from sightline.sdk.spool import SUFFIX, decode_payload, encode_payload
from sightline.sdk.transport import Delivery, Payload, tls_context
from sightline.server.app import create_app
from sightline.server.state import Settings
from sightline.store import Store, open_store
from support.live import start_server, stop_server

PATH = "/api/v1/models/churn/versions/1/predictions"
SCHEMA = {"columns": [{"name": "score", "role": "prediction", "kind": "numeric"}]}
FAST = {"backoff_base": 0.01, "backoff_max": 0.05, "timeout": 5.0}
PROFILE_TYPE = "application/x-sightline-profile"


def predictions(key: str, n: int = 3, pad: int = 0) -> Payload:
    """A predictions payload of ``n`` records; ``pad`` lengthens the ids (bigger bodies)."""
    records = [
        {"id": f"{key}-{i}{'x' * pad}", "timestamp": "2024-05-01T00:00:00Z", "prediction": 0.5}
        for i in range(n)
    ]
    body = json.dumps({"records": records}).encode()
    return Payload(PATH, key, body, "application/json", items_field="records")


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spool_files(spool_dir: Path) -> list[Path]:
    return sorted(spool_dir.glob(f"*/*{SUFFIX}"), key=lambda p: p.name)


# -- a scripted server ---------------------------------------------------------------------


@dataclass
class Hit:
    key: str
    status: int
    at: float  # time.monotonic() on arrival
    wall: float  # time.time() on arrival
    encoding: str | None
    body: bytes  # decompressed


Answer = tuple[int, dict[str, str]]


@dataclass
class Script:
    """Answers the planned statuses in order (then 200, or ``rule(key, body)``), records
    every request, and answers a repeated 2xx key as a duplicate like the collector."""

    url: str = ""
    plan: list[Answer] = field(default_factory=list)
    rule: Callable[[str, bytes], Answer] | None = None
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.plan, self.rule, self.hits = [], None, []

    def seen(self, status: int | None = None) -> list[str]:
        with self.lock:
            return [h.key for h in self.hits if status is None or h.status == status]

    def answer(self, key: str, body: bytes) -> Answer:
        with self.lock:
            if self.plan:
                return self.plan.pop(0)
        return self.rule(key, body) if self.rule else (200, {})

    async def endpoint(self, request: Request) -> JSONResponse:
        at, wall = time.monotonic(), time.time()
        raw = await request.body()
        encoding = request.headers.get("content-encoding")
        body = gzip.decompress(raw) if encoding == "gzip" else raw
        key = request.headers.get("idempotency-key", "")
        status, headers = self.answer(key, body)
        with self.lock:
            seen = any(h.key == key and 200 <= h.status < 300 for h in self.hits)
            self.hits.append(Hit(key, status, at, wall, encoding, body))
        doc = {"stored": 0 if seen else 1, "duplicate": seen}
        return JSONResponse(doc if status < 300 else {"error": "scripted"}, status, headers)


@pytest.fixture(scope="module")
def script_server() -> Iterator[Script]:
    script = Script()
    app = Starlette(routes=[Route("/{path:path}", script.endpoint, methods=["POST"])])
    server, thread, url = start_server(app)
    script.url = url
    try:
        yield script
    finally:
        stop_server(server, thread)


@pytest.fixture
def script(script_server: Script) -> Script:
    script_server.reset()
    return script_server


@pytest.fixture
def deliveries() -> Iterator[Callable[..., Delivery]]:
    """Make Deliveries with fast backoff; every one is closed at the end."""
    made: list[Delivery] = []

    def make(url: str, spool_dir: Path | None = None, **options: object) -> Delivery:
        d = Delivery(url, options.pop("api_key", None), spool_dir=spool_dir, **{**FAST, **options})  # type: ignore[arg-type]
        made.append(d)
        return d

    yield make
    for d in made:
        d.close(0.0)


# -- the real collector --------------------------------------------------------------------


@dataclass
class LiveCollector:
    """The real collector over DuckDB with an ingest key; :meth:`start` serves it."""

    store: Store
    key: str
    port: int = 0
    url: str = ""
    server: tuple[uvicorn.Server, threading.Thread] | None = None

    def start(self) -> LiveCollector:
        app = create_app(self.store, Settings())
        if self.port:
            self.server = serve_on(app, self.port)
            self.url = f"http://127.0.0.1:{self.port}"
        else:
            server, thread, self.url = start_server(app)
            self.server = (server, thread)
        return self

    def stop(self) -> None:
        if self.server is not None:
            stop_server(*self.server)
        self.store.close()

    def rows(self) -> int:
        return self.store.count("predictions", "default")


def serve_on(app: object, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started or not thread.is_alive(), 20)
    assert server.started, f"the collector did not start on port {port}"
    return server, thread


@pytest.fixture
def collector_on(tmp_path: Path) -> Iterator[Callable[..., LiveCollector]]:
    """A real collector (DuckDB, version churn/1 registered) for ``port`` (0: any free
    port), not started yet; stopped at the end."""
    made: list[LiveCollector] = []

    def make(port: int = 0) -> LiveCollector:
        store = open_store(tmp_path / f"data{len(made)}")
        store.register_version("default", "churn", "1", SCHEMA)
        made.append(LiveCollector(store, store.create_key("default", "ingest"), port))
        return made[-1]

    yield make
    for c in made:
        c.stop()


# -- status policies -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_until_accepted(
    script: Script, deliveries: Callable[..., Delivery], status: int
) -> None:
    headers = {"Retry-After": "0"} if status == 429 else {}
    script.plan = [(status, headers), (status, headers), (200, {})]
    d = deliveries(script.url)
    d.submit(predictions("k"))
    assert d.flush(5)
    assert script.seen() == ["k", "k", "k"]
    s = d.stats
    assert (s.attempts, s.retried, s.sent, s.rejected, s.dropped) == (3, 2, 1, {}, 0)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
def test_final_statuses_are_not_retried(
    script: Script, deliveries: Callable[..., Delivery], status: int
) -> None:
    script.plan = [(status, {"Retry-After": "0"})]
    d = deliveries(script.url)
    d.submit(predictions("k"))
    d.submit(predictions("next"))  # the queue goes on after a refusal
    assert d.flush(5)
    assert script.seen() == ["k", "next"]
    s = d.stats
    assert (s.attempts, s.retried, s.sent, s.rejected) == (2, 0, 1, {status: 1})


def test_refusals_are_logged_once_per_status(
    script: Script, deliveries: Callable[..., Delivery], caplog: pytest.LogCaptureFixture
) -> None:
    script.plan = [(422, {}), (422, {}), (404, {}), (422, {})]
    d = deliveries(script.url)
    with caplog.at_level(logging.WARNING, logger="sightline.sdk"):
        for i in range(4):
            d.submit(predictions(f"k{i}"))
        assert d.flush(5)
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 2 and "422" in refusals[0] and "404" in refusals[1]
    assert d.stats.rejected == {422: 3, 404: 1}


def test_413_splits_the_list_in_halves(script: Script, deliveries: Callable[..., Delivery]) -> None:
    def at_most(n: int) -> Callable[[str, bytes], Answer]:
        return lambda key, body: (413, {}) if len(json.loads(body)["records"]) > n else (200, {})

    script.rule = at_most(2)
    d = deliveries(script.url)
    sent = predictions("k", n=4)
    d.submit(sent)
    assert d.flush(5)
    assert script.seen() == ["k", "k.1", "k.2"] and script.seen(200) == ["k.1", "k.2"]
    assert (d.stats.attempts, d.stats.split, d.stats.sent) == (3, 1, 2)
    halves = [json.loads(h.body)["records"] for h in script.hits[1:]]
    assert halves[0] + halves[1] == json.loads(sent.body)["records"]

    script.reset()
    script.rule = at_most(1)  # halves of halves: deterministic keys all the way down
    d.submit(predictions("m", n=4))
    assert d.flush(5)
    assert script.seen() == ["m", "m.1", "m.1.1", "m.1.2", "m.2", "m.2.1", "m.2.2"]


def test_413_that_cannot_split_is_refused(
    script: Script, deliveries: Callable[..., Delivery]
) -> None:
    script.rule = lambda key, body: (413, {})
    d = deliveries(script.url)
    d.submit(predictions("one", n=1))
    d.submit(Payload(PATH.replace("predictions", "profiles"), "prof", b"\x00" * 10, PROFILE_TYPE))
    assert d.flush(5)
    assert script.seen() == ["one", "prof"]
    assert (d.stats.rejected, d.stats.split) == ({413: 2}, 0)


def test_retry_after_seconds_and_http_date_are_honoured(
    script: Script, deliveries: Callable[..., Delivery]
) -> None:
    script.plan = [(503, {"Retry-After": "1"})]
    d = deliveries(script.url)
    d.submit(predictions("secs"))
    assert d.flush(5)
    first, second = script.hits
    assert second.at - first.at >= 1.0

    script.reset()
    stamp = email.utils.formatdate(time.time() + 2, usegmt=True)  # whole seconds: 1 to 2 s
    script.plan = [(429, {"Retry-After": stamp})]
    d.submit(predictions("date"))
    assert d.flush(5)
    first, second = script.hits
    assert second.wall >= email.utils.parsedate_to_datetime(stamp).timestamp()
    assert second.at - first.at >= 0.9


def test_big_bodies_are_gzipped(script: Script, deliveries: Callable[..., Delivery]) -> None:
    d = deliveries(script.url, gzip_min_bytes=1024)
    small, big = predictions("small", n=1), predictions("big", n=60)
    assert len(small.body) < 1024 <= len(big.body)
    d.submit(small)
    d.submit(big)
    assert d.flush(5)
    assert [(h.key, h.encoding) for h in script.hits] == [("small", None), ("big", "gzip")]
    assert script.hits[1].body == big.body


def test_bad_options_raise_and_a_bad_spool_dir_runs_without_spool(
    tmp_path: Path, deliveries: Callable[..., Delivery], caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(InvalidInputError, match="backoff_base"):
        Delivery("http://127.0.0.1:1", None, spool_dir=None, backoff_base=-1)
    with pytest.raises(InvalidInputError, match="timeout"):
        Delivery("http://127.0.0.1:1", None, spool_dir=None, timeout=0)
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with caplog.at_level(logging.WARNING, logger="sightline.sdk"):
        d = deliveries(f"http://127.0.0.1:{free_port()}", not_a_dir, queue_max_bytes=0)
        d.submit(predictions("k"))
    assert "unusable" in caplog.text
    assert (d.stats.spooled, d.stats.dropped) == (0, 1)


# -- the spool -----------------------------------------------------------------------------


def test_collector_down_then_up_everything_arrives_once(
    tmp_path: Path, deliveries: Callable[..., Delivery], collector_on: Callable[..., LiveCollector]
) -> None:
    port = free_port()
    collector = collector_on(port)  # not listening yet: connections are refused
    spool = tmp_path / "spool"
    size = len(predictions("k00", n=5, pad=150).body)
    assert size >= 1024  # gzipped on the way: the collector decompresses
    d = deliveries(
        f"http://127.0.0.1:{port}",
        spool,
        api_key=collector.key,
        queue_max_bytes=2 * size,
        backoff_max=0.1,
        timeout=60.0,  # an answer later than the timeout is retried: a duplicate (below)
    )
    for i in range(12):
        d.submit(predictions(f"k{i:02d}", n=5, pad=150))
    assert d.stats.spooled >= 9 and len(spool_files(spool)) >= 9  # the rest waits in memory
    assert not d.flush(0.2)
    assert d.stats.attempts >= 1 and d.stats.sent == 0
    collector.start()
    assert d.flush(15)
    assert collector.rows() == 12 * 5
    assert (d.stats.sent, d.stats.duplicates, d.stats.dropped, d.stats.rejected) == (12, 0, 0, {})
    assert spool_files(spool) == []


def test_an_answer_later_than_the_timeout_is_retried_under_the_same_key(
    tmp_path: Path, script: Script, deliveries: Callable[..., Delivery]
) -> None:
    """The one way the SDK sends a payload again after the collector stored it: the answer
    came after ``timeout``. The retry carries the same key and body, so the collector
    answers it as a duplicate and stores it once (this is the duplicate that
    ``test_collector_down_then_up_everything_arrives_once`` saw under load, when its 5-s
    timeout was shorter than the loaded collector's answer)."""
    first = threading.Event()

    def slow_once(key: str, body: bytes) -> Answer:
        if not first.is_set():
            first.set()
            time.sleep(1.0)  # stored, but answered after the SDK gave up
        return (200, {})

    script.rule = slow_once
    d = deliveries(script.url, tmp_path / "spool", timeout=0.3)
    d.submit(predictions("k0"))
    assert d.flush(10)
    hits = [h for h in script.hits if h.key == "k0"]
    # retries sent while the scripted server slept time out too: two tries or more, each
    # the same key and body; the last is answered in time, as a duplicate
    assert len(hits) >= 2 and {h.body for h in hits} == {hits[0].body}
    assert (d.stats.sent, d.stats.duplicates, d.stats.dropped) == (1, 1, 0)


def test_full_spool_drops_the_oldest(
    tmp_path: Path, script: Script, deliveries: Callable[..., Delivery]
) -> None:
    spool = tmp_path / "spool"
    payloads = [dataclasses.replace(predictions(f"k{i}"), count=3) for i in range(6)]
    size = len(encode_payload(payloads[0]))
    assert {len(encode_payload(p)) for p in payloads} == {size}
    down = f"http://127.0.0.1:{free_port()}"
    lost: list[Payload] = []
    d = deliveries(
        down, spool, queue_max_bytes=0, spool_max_bytes=3 * size + size // 2, on_lost=lost.append
    )
    for p in payloads:
        d.submit(p)
    assert (d.stats.spooled, d.stats.dropped, d.stats.dropped_bytes) == (6, 3, 3 * size)
    assert d.stats.evicted == {"records": 3}  # by kind, and what each held goes to on_lost
    assert [(p.path, p.count) for p in lost] == [(PATH, 3)] * 3
    assert [decode_payload(f.read_bytes()).key for f in spool_files(spool)] == ["k3", "k4", "k5"]
    d.close(0.1)
    smaller = deliveries(
        down, spool, queue_max_bytes=0, spool_max_bytes=2 * size, on_lost=lost.append
    )
    # adopted from a dead process: counted by kind (read from the file), not this process's loss
    assert (smaller.stats.adopted, smaller.stats.evicted, len(lost)) == (3, {"records": 1}, 3)
    smaller.close(0.1)
    replay = deliveries(script.url, spool)
    assert replay.flush(5)
    assert script.seen() == ["k4", "k5"]
    assert (replay.stats.adopted, replay.stats.replayed) == (2, 2)


def test_close_while_down_leaves_the_spool_and_the_next_delivery_replays_it(
    tmp_path: Path, deliveries: Callable[..., Delivery], collector_on: Callable[..., LiveCollector]
) -> None:
    spool = tmp_path / "spool"
    first = deliveries(f"http://127.0.0.1:{free_port()}", spool, instance_id="first")
    for i in range(5):
        first.submit(predictions(f"k{i}"))
    started = time.monotonic()
    first.close(0.3)
    assert time.monotonic() - started < 2.0
    assert first.stats.spooled == 5 and len(spool_files(spool)) == 5
    assert [p.parent.name for p in spool_files(spool)] == ["first"] * 5
    first.submit(predictions("late"))  # after close: dropped and counted, never sent
    assert (first.stats.dropped, len(spool_files(spool))) == (1, 5)

    collector = collector_on().start()
    second = deliveries(collector.url, spool, api_key=collector.key)
    assert second.stats.adopted == 5 and not (spool / "first").exists()
    assert second.flush(10)
    assert collector.rows() == 5 * 3
    assert (second.stats.replayed, second.stats.sent, second.stats.duplicates) == (5, 5, 0)
    second.close(5)
    assert list(spool.iterdir()) == []


def test_a_live_owners_spool_is_not_adopted(
    tmp_path: Path, deliveries: Callable[..., Delivery]
) -> None:
    spool, down = tmp_path / "spool", f"http://127.0.0.1:{free_port()}"
    owner = deliveries(down, spool, queue_max_bytes=0, instance_id="owner")
    owner.submit(predictions("mine"))
    other = deliveries(down, spool, instance_id="other")
    assert other.stats.adopted == 0
    assert [p.parent.name for p in spool_files(spool)] == ["owner"]


def test_a_dead_owners_files_are_replayed_and_corrupt_ones_dropped(
    tmp_path: Path, script: Script, deliveries: Callable[..., Delivery]
) -> None:
    dead = tmp_path / "spool" / "dead"  # as a crashed process leaves it: lock free
    dead.mkdir(parents=True)
    (dead / ".lock").touch()
    (dead / ".tmp-00000000000000000003-dead.slp").write_bytes(b"half-written")
    (dead / f"00000000000000000001-dead{SUFFIX}").write_bytes(encode_payload(predictions("a")))
    (dead / f"00000000000000000002-dead{SUFFIX}").write_bytes(b"junk")
    d = deliveries(script.url, tmp_path / "spool")
    assert d.stats.adopted == 2 and not dead.exists()
    assert d.flush(5)
    assert script.seen() == ["a"]
    assert (d.stats.replayed, d.stats.dropped, d.stats.dropped_bytes) == (1, 1, 4)


_CHILD = """
import sys, time
from sightline.sdk.transport import Delivery, Payload, tls_context
url, spool, n, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
d = Delivery(url, None, spool_dir=spool, queue_max_bytes=0, backoff_base=0.05, backoff_max=0.2)
for i in range(n):
    body = b'{"records": [{"id": "k%d", "timestamp": "2024-05-01T00:00:00Z"}]}' % i
    d.submit(Payload(path, f"k{i}", body, items_field="records"))
print(d.stats.spooled, d.instance_id, flush=True)
time.sleep(60)
"""


def test_a_sigkilled_process_spool_is_replayed(
    tmp_path: Path, deliveries: Callable[..., Delivery], collector_on: Callable[..., LiveCollector]
) -> None:
    spool = tmp_path / "spool"
    down = f"http://127.0.0.1:{free_port()}"
    argv = [sys.executable, "-c", _CHILD, down, str(spool), "7", PATH]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        try:
            assert child.stdout is not None
            ready, _, _ = select.select([child.stdout], [], [], 30)
            assert ready, "the child printed nothing in 30 s"
            line = child.stdout.readline().decode().split()
            assert line and line[0] == "7", child.stderr.read().decode() if child.stderr else ""
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
        finally:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
    assert len(spool_files(spool)) == 7 and (spool / line[1]).is_dir()

    collector = collector_on().start()
    replay = deliveries(collector.url, spool, api_key=collector.key)
    assert replay.stats.adopted == 7 and not (spool / line[1]).exists()
    assert replay.flush(10)
    assert collector.rows() == 7
    assert (replay.stats.replayed, replay.stats.duplicates) == (7, 0)


# -- close and fork ------------------------------------------------------------------------


def test_close_with_the_collector_up_drains(
    tmp_path: Path, deliveries: Callable[..., Delivery], collector_on: Callable[..., LiveCollector]
) -> None:
    collector = collector_on().start()
    spool = tmp_path / "spool"
    d = deliveries(collector.url, spool, api_key=collector.key)
    for i in range(20):
        d.submit(predictions(f"k{i}", n=4, pad=100))
    d.close(10)
    assert collector.rows() == 20 * 4
    assert (d.stats.sent, d.stats.spooled, d.stats.dropped) == (20, 0, 0)
    assert list(spool.iterdir()) == []
    d.submit(predictions("after"))
    assert (d.stats.dropped, collector.rows()) == (1, 80)


def test_close_cuts_a_long_backoff_short_but_honours_retry_after(
    tmp_path: Path, script: Script, deliveries: Callable[..., Delivery]
) -> None:
    script.plan = [(503, {})]  # then 200: the collector is back, but the sender backs off
    spool = tmp_path / "spool"
    d = deliveries(script.url, spool, backoff_base=30.0, backoff_max=30.0)
    d.submit(predictions("k"))
    wait_for(lambda: len(script.hits) == 1)
    started = time.monotonic()
    d.close(3)
    assert time.monotonic() - started < 2.5
    assert script.seen() == ["k", "k"] and d.stats.sent == 1 and spool_files(spool) == []

    script.reset()
    script.plan = [(503, {"Retry-After": "5"})]  # later than close allows: left to the spool
    d = deliveries(script.url, spool, backoff_base=30.0, backoff_max=30.0)
    d.submit(predictions("m"))
    wait_for(lambda: len(script.hits) == 1)
    started = time.monotonic()
    d.close(0.5)
    assert time.monotonic() - started < 1.5
    assert script.seen() == ["m"] and d.stats.spooled == 1 and len(spool_files(spool)) == 1


def _wait_child(pid: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError("the forked child did not finish in time")


def _child_sends_its_own(d: Delivery) -> int:
    d.after_fork_in_child("child-1")
    for i in range(4):
        d.submit(predictions(f"c{i}"))
    ok = d.flush(5)
    s = d.stats
    d.close(1)
    return 0 if ok and (s.sent, s.attempts, d.instance_id) == (4, 4, "child-1") else 3


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:.*multi-threaded.*fork:DeprecationWarning")  # 3.12+
def test_a_forked_child_sends_only_its_own_payloads(
    tmp_path: Path, script: Script, deliveries: Callable[..., Delivery]
) -> None:
    gate = threading.Event()  # the parent's payloads are refused (503) until it opens
    script.rule = lambda key, body: (
        (200, {}) if key.startswith("c") or gate.is_set() else (503, {"Retry-After": "0"})
    )
    spool = tmp_path / "spool"
    d = deliveries(script.url, spool, instance_id="parent")
    for i in range(3):
        d.submit(predictions(f"p{i}"))
    wait_for(lambda: "p0" in script.seen())
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            code = _child_sends_its_own(d)
        finally:
            os._exit(code)
    assert _wait_child(pid, 15) == 0
    assert sorted(p.name for p in spool.iterdir()) == ["parent"]  # the child's dir is gone
    gate.set()
    assert d.flush(5)
    d.close(1)
    accepted = Counter(script.seen(200))
    assert accepted == Counter(["p0", "p1", "p2", "c0", "c1", "c2", "c3"])
    assert sorted(k for k in script.seen() if k.startswith("c")) == ["c0", "c1", "c2", "c3"]
    assert d.stats.sent == 3 and d.stats.rejected == {}


def test_tls_trusts_the_usual_cas_only_where_tls_can_happen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An https collector (or any proxy) gets httpx's CAs, loaded once per process; a plain
    http one a context that trusts nothing (loading the CAs costs ~50 ms of CPU)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert tls_context("http://127.0.0.1:8000").cert_store_stats()["x509_ca"] == 0
    assert tls_context("https://collector").cert_store_stats()["x509_ca"] > 0
    assert tls_context("https://collector") is tls_context("HTTPS://other")
    monkeypatch.setenv("https_proxy", "http://proxy:3128")
    assert tls_context("http://127.0.0.1:8000") is tls_context("https://collector")
