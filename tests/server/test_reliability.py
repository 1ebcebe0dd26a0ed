"""The collector as real processes: SIGKILL during ingest and restarts on the same data,
one writer per DuckDB directory, two collectors on one PostgreSQL database, and the
``serve`` / ``keys create`` commands.

Every process listens on loopback, every wait has a deadline, and every process a test
starts is killed when the test ends. Each process's stdout and stderr are kept in files
under the test's ``tmp_path`` (``logs/``) and quoted in failure messages.

Commands run as ``python -m sightline.cli ...``. The crash test starts its first collector
that way too; its restarts are forked by a fork server that imported the collector once
(:data:`_ZYGOTE`), so 20 restarts do not cost 20 times 2-3 s of imports. Its kill points
come from a random seed printed on failure; ``SIGHTLINE_CRASH_SEED=<seed>`` replays one.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyarrow as pa
import pytest

from sightline.server.bodies import ARROW
from sightline.store import open_store

#: ``python -m sightline`` has no ``__main__``; the CLI package has one.
CLI = (sys.executable, "-m", "sightline.cli")

_ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
_ENV.pop("SIGHTLINE_DATA", None)

KEY = re.compile(r"\bsl_[0-9a-f]{16}_[A-Za-z0-9_-]{20,}")
MODEL_PATH = "/api/v1/models/churn/versions/1"
SCHEMA = {"columns": [{"name": "score", "role": "prediction", "kind": "numeric"}]}
BATCH = 1_000


# -- processes ------------------------------------------------------------------------------


class Proc:
    """One ``sightline`` subprocess (``python -m sightline.cli ARGV``), its stdout and
    stderr in files under ``logs``."""

    def __init__(self, argv: Sequence[str], logs: Path, name: str) -> None:
        self.name = name
        self.out_path, self.err_path = logs / f"{name}.out", logs / f"{name}.err"
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.popen = subprocess.Popen(
                [*CLI, *argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=logs,
                env=_ENV,
            )

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def describe(self) -> str:
        return f"{self.name} (exit {self.exit_code()}); stderr:\n{self.stderr[-4000:]}"

    def exit_code(self) -> int | None:
        """None while it runs."""
        return self.popen.poll()

    def wait(self, timeout: float) -> int:
        """The exit code, once the process ended within ``timeout`` seconds."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"still running after {timeout} s: {self.describe()}") from None

    def interrupt(self, timeout: float = 20) -> int:
        """SIGINT (Ctrl+C: a clean stop), then the exit code."""
        self.popen.send_signal(signal.SIGINT)
        return self.wait(timeout)

    def kill(self) -> None:
        """SIGKILL unless it already ended, and reap it."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(timeout=20)

    def wait_ready(self, url: str, timeout: float = 45) -> float:
        """Seconds until ``/readyz`` answered 200; fails (with stderr) if the process exits."""
        start = time.monotonic()
        with httpx.Client(timeout=2) as client:
            while True:
                if self.exit_code() is not None:
                    raise AssertionError(f"exited before it was ready: {self.describe()}")
                try:
                    if client.get(f"{url}/readyz").status_code == 200:
                        return time.monotonic() - start
                except httpx.TransportError:
                    pass
                if time.monotonic() - start > timeout:
                    raise AssertionError(f"not ready within {timeout} s: {self.describe()}")
                time.sleep(0.02)


#: A fork server: imports the collector once (2-3 s of CPU here), then for each line
#: ``OUT<TAB>ERR`` on stdin forks a process that runs ``sightline ARGV`` through the CLI's
#: ``main`` with stdout and stderr in those files, and answers its pid. A restart after
#: SIGKILL then costs what it costs in production beyond the imports: opening the store
#: (DuckDB replays its WAL) and binding the port. Children are reaped by the kernel.
_ZYGOTE = """
import os, signal, sys, traceback
import uvicorn, sightline.server.app
from sightline.cli.main import main
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
while line := sys.stdin.readline():
    out, err = line.rstrip("\\n").split("\\t")
    pid = os.fork()
    if pid:
        print(pid, flush=True)
        continue
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
    os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
    code = 1
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
"""


class Forked(Proc):
    """A collector forked by a :class:`Zygote` (not our child: its exit code is unknown)."""

    def __init__(self, pid: int, name: str, out_path: Path, err_path: Path) -> None:
        self.pid, self.name, self.out_path, self.err_path = pid, name, out_path, err_path

    def exit_code(self) -> int | None:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return -1  # ended; the zygote's kernel-reaped children leave no status
        return None

    def kill(self) -> None:
        if self.exit_code() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while self.exit_code() is None:  # gone once the kernel reaped it: the lock is free
            assert time.monotonic() < deadline, f"{self.name} survived SIGKILL"
            time.sleep(0.002)


class Zygote:
    """Forks collectors running ``sightline ARGV`` on request (see :data:`_ZYGOTE`)."""

    def __init__(self, argv: Sequence[str], logs: Path) -> None:
        self.logs = logs
        self.children: list[Forked] = []
        self.err_path = logs / "zygote.err"
        with self.err_path.open("wb") as err:
            self.popen = subprocess.Popen(
                [sys.executable, "-c", _ZYGOTE, *argv],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                cwd=logs,
                env=_ENV,
            )

    def spawn(self, timeout: float = 60) -> Forked:
        """A new collector process (the first call waits for the zygote's imports)."""
        stdin, stdout = self.popen.stdin, self.popen.stdout
        assert stdin is not None and stdout is not None
        name = f"fork-{len(self.children):02d}"
        out, err = self.logs / f"{name}.out", self.logs / f"{name}.err"
        stdin.write(f"{out}\t{err}\n".encode())
        stdin.flush()
        answered, _, _ = select.select([stdout], [], [], timeout)
        line = stdout.readline() if answered else b""
        if not line.strip().isdigit():
            self.close()
            raise AssertionError(f"the zygote did not fork: {self.err_path.read_text()}")
        child = Forked(int(line), name, out, err)
        self.children.append(child)
        return child

    def close(self) -> None:
        for child in self.children:
            child.kill()
        for pipe in (self.popen.stdin, self.popen.stdout):
            if pipe is not None and not pipe.closed:
                with contextlib.suppress(BrokenPipeError):
                    pipe.close()
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(timeout=20)


@dataclass
class Procs:
    """Every process a test started; all are killed when the test ends."""

    logs: Path
    started: list[Proc] = field(default_factory=list)
    zygotes: list[Zygote] = field(default_factory=list)

    def start(self, *argv: str) -> Proc:
        proc = Proc(argv, self.logs, f"{len(self.started):02d}-{argv[0]}")
        self.started.append(proc)
        return proc

    def run(self, *argv: str, timeout: float = 60) -> tuple[int, Proc]:
        """Run a command to its end: (exit code, process)."""
        proc = self.start(*argv)
        return proc.wait(timeout), proc

    def zygote(self, *argv: str) -> Zygote:
        zygote = Zygote(argv, self.logs)
        self.zygotes.append(zygote)
        return zygote

    def kill_all(self) -> None:
        for zygote in self.zygotes:
            zygote.close()
        for proc in self.started:
            proc.kill()


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    logs = tmp_path / "logs"
    logs.mkdir()
    group = Procs(logs)
    try:
        yield group
    finally:
        group.kill_all()


def free_ports(n: int) -> list[int]:
    """``n`` distinct loopback ports that were free a moment ago."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def where(location: str) -> list[str]:
    """The ``--data`` or ``--store`` option of a store location."""
    return ["--store", location] if location.startswith("postgresql") else ["--data", location]


def create_key(procs: Procs, location: str, scope: str) -> str:
    code, proc = procs.run("keys", "create", *where(location), "--scope", scope)
    assert code == 0, proc.describe()
    return proc.stdout.strip()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.002)


# -- data -----------------------------------------------------------------------------------


def arrow_batch(prefix: str, number: int) -> bytes:
    """An Arrow IPC stream of :data:`BATCH` predictions with ids ``<prefix><number>-<i>``."""
    now = datetime.now(UTC)
    table = pa.table(
        {
            "id": pa.array([f"{prefix}{number}-{i}" for i in range(BATCH)], pa.string()),
            "timestamp": pa.array([now] * BATCH, pa.timestamp("us", tz="UTC")),
            "prediction": pa.array([float(i % 2) for i in range(BATCH)], pa.float64()),
            "probability": pa.array([(i % 100) / 100 for i in range(BATCH)], pa.float64()),
        }
    )
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def post_batch(client: httpx.Client, idempotency_key: str, body: bytes) -> httpx.Response:
    headers = {"Idempotency-Key": idempotency_key, "Content-Type": ARROW}
    return client.post(f"{MODEL_PATH}/predictions", content=body, headers=headers)


def register(url: str, admin_key: str) -> None:
    with httpx.Client(base_url=url, headers=bearer(admin_key), timeout=10) as client:
        r = client.put(MODEL_PATH, json=SCHEMA)
    assert r.status_code == 200, r.text


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def stored_predictions(location: str) -> tuple[int, int, int]:
    """(rows, distinct prediction ids, ingest requests), read from the store itself."""
    store = open_store(location)
    try:
        rows = store.count("predictions", "default")
        distinct = store._read("SELECT count(DISTINCT prediction_id) FROM predictions")[0][0]
        requests = store.count("ingest_requests", "default")
    finally:
        store.close()
    return rows, int(distinct), requests


# -- 1. SIGKILL during ingest, on both stores -----------------------------------------------


class Sender(threading.Thread):
    """A client that sends batches in order and resends each until it is acknowledged
    (same idempotency key, same body), whatever happens to the collector meanwhile."""

    def __init__(self, url: str, key: str, bodies: list[bytes], timeout: float) -> None:
        super().__init__(name="sender", daemon=True)
        self.url, self.key, self.bodies = url, key, bodies
        self.deadline = time.monotonic() + timeout
        self.acked = 0  # batches acknowledged so far (in order)
        self.in_request = False
        self.failures = 0  # requests without an answer (connection refused, reset, ...)
        self.unavailable = 0  # 503 answers
        self.duplicates: list[int] = []  # batches whose resend was answered duplicate=true
        self.error: BaseException | None = None
        self.halt = threading.Event()

    def run(self) -> None:
        try:
            self._send_all()
        except BaseException as exc:  # reported by the test through self.error
            self.error = exc

    def _send_all(self) -> None:
        timeout = httpx.Timeout(15, connect=2)
        with httpx.Client(base_url=self.url, headers=bearer(self.key), timeout=timeout) as c:
            for number, body in enumerate(self.bodies):
                self._send(c, number, body)
                self.acked = number + 1

    def _send(self, client: httpx.Client, number: int, body: bytes) -> None:
        attempts = 0
        while not self.halt.is_set():
            if time.monotonic() > self.deadline:
                raise TimeoutError(f"batch {number} not acknowledged before the deadline")
            attempts += 1
            self.in_request = True
            try:
                r = post_batch(client, f"batch-{number:04d}", body)
            except httpx.TransportError:
                self.failures += 1
                time.sleep(0.01)
                continue
            finally:
                self.in_request = False
            if r.status_code == 503:
                self.unavailable += 1
                time.sleep(0.05)
                continue
            assert r.status_code == 200, f"batch {number}: {r.status_code} {r.text}"
            answer = r.json()
            if answer == {"stored": 0, "duplicate": True}:
                # Stored by an earlier attempt whose answer the kill swallowed.
                assert attempts > 1, f"batch {number}: duplicate on its first attempt"
                self.duplicates.append(number)
            else:
                assert answer == {"stored": BATCH, "duplicate": False}, (number, answer)
            return


def test_sigkill_during_ingest_loses_and_doubles_nothing(store_location: str, procs: Procs) -> None:
    """100 acknowledged batches of 1,000 predictions while the collector is SIGKILLed and
    restarted on the same data (20 times on DuckDB, 4 on PostgreSQL); the client resends
    what was not acknowledged. Every restart must reopen the store, and at the end every
    event is stored exactly once."""
    postgres = store_location.startswith("postgresql")
    kills, n_batches = (4 if postgres else 20), 100
    seed = int(os.environ.get("SIGHTLINE_CRASH_SEED") or time.time_ns() % 2**32)
    rng = random.Random(seed)
    story: list[str] = []  # what happened, quoted when an assertion fails

    def context() -> str:
        return f"seed {seed} (SIGHTLINE_CRASH_SEED); {'; '.join(story)}"

    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    serve = ("serve", *where(store_location), "--port", str(port), "--log-level", "warning")
    zygote = procs.zygote(*serve)  # imports while the first collector starts
    key = create_key(procs, store_location, "admin")
    current: Proc = procs.start(*serve)  # the first start: ``python -m sightline.cli serve``
    current.wait_ready(url)
    register(url, key)

    started = time.monotonic()
    sender = Sender(url, key, [arrow_batch("p", i) for i in range(n_batches)], timeout=150)
    sender.start()
    try:
        for cycle in range(kills):
            at = f"{time.monotonic() - started:.1f} s"
            if not postgres and cycle % 7 == 3:
                # Kill a collector that may still be opening the store (WAL replay).
                delay = rng.uniform(0, 0.4)
                time.sleep(delay)
                story.append(f"kill {cycle} at {at}: {delay * 1000:.0f} ms after restart")
            else:
                # Kill after a random number of acknowledged batches and a random pause,
                # so the kill lands inside a request: before, during or after its commit.
                ceiling = n_batches - (kills - cycle)  # leave batches for later kills
                target = max(sender.acked, min(sender.acked + rng.randint(0, 6), ceiling))
                wait_for(
                    lambda t=target: sender.acked >= t or not sender.is_alive(),
                    60,
                    f"batch {target} acknowledged ({context()})",
                )
                time.sleep(rng.uniform(0, 0.04))
                inside = "inside a request" if sender.in_request else "between requests"
                story.append(f"kill {cycle} at {at}: after batch {sender.acked}, {inside}")
            current.kill()
            current = zygote.spawn()
            if postgres or cycle % 7 != 2:  # else the next cycle kills it while it opens
                seconds = current.wait_ready(url)
                story[-1] += f", back in {seconds:.2f} s"
        sender.join(timeout=120)
        assert not sender.is_alive(), f"the client did not finish; {context()}"
    finally:
        sender.halt.set()
        sender.join(timeout=30)
    if sender.error is not None:
        raise AssertionError(f"the client failed: {sender.error!r}; {context()}")
    assert sender.acked == n_batches

    current.kill()  # one more unclean stop: the store must reopen in this process too
    zygote.close()
    try:
        counts = stored_predictions(store_location)
    except Exception as exc:
        raise AssertionError(f"the store did not reopen after SIGKILL: {exc}; {context()}") from exc
    assert counts == (n_batches * BATCH, n_batches * BATCH, n_batches), context()
    print(
        f"\n{len(story)} kills (seed {seed}); {sender.failures} requests unanswered, "
        f"{sender.unavailable} answered 503, resends answered duplicate: {sender.duplicates}\n"
        + "\n".join(story)
    )


# -- 2. one collector per DuckDB directory --------------------------------------------------


def test_second_collector_on_a_duckdb_directory_is_refused(tmp_path: Path, procs: Procs) -> None:
    data = str(tmp_path / "data")
    first_port, second_port = free_ports(2)
    first = procs.start("serve", "--data", data, "--port", str(first_port))
    first.wait_ready(f"http://127.0.0.1:{first_port}")

    code, second = procs.run("serve", "--data", data, "--port", str(second_port))
    err = second.stderr
    assert code == 2, second.describe()
    assert "Traceback" not in err, err
    assert "in use by another collector" in err and "lock" in err, err
    assert "postgresql://" in err and "PostgreSQL" in err, err
    assert KEY.search(second.stdout) is None  # it printed no key either

    code, keys = procs.run("keys", "create", "--data", data, "--scope", "read")
    assert code == 2 and "Traceback" not in keys.stderr, keys.describe()
    assert "POST /api/v1/keys" in keys.stderr, keys.stderr
    assert keys.stdout == ""

    first.wait_ready(f"http://127.0.0.1:{first_port}", timeout=5)  # the first one still serves
    assert first.interrupt() == 0, first.describe()


# -- 3. two collectors on one PostgreSQL database -------------------------------------------


def test_two_collectors_on_one_postgres_database(postgres_url: str, procs: Procs) -> None:
    """Two collectors ingest concurrently, each from its own client; some batches go to
    both at once with the same idempotency key: each is stored once."""
    key = create_key(procs, postgres_url, "admin")
    urls = [f"http://127.0.0.1:{port}" for port in free_ports(2)]
    collectors = [
        procs.start("serve", "--store", postgres_url, "--port", url.rsplit(":", 1)[1])
        for url in urls
    ]
    for collector, url in zip(collectors, urls, strict=True):
        collector.wait_ready(url)
    register(urls[0], key)

    own, shared = 20, 10
    shared_bodies = [arrow_batch("shared", j) for j in range(shared)]
    barrier = threading.Barrier(2, timeout=60)
    answers: dict[tuple[int, int], dict[str, object]] = {}
    errors: list[BaseException] = []

    def client(side: int) -> None:
        try:
            with httpx.Client(base_url=urls[side], headers=bearer(key), timeout=30) as c:
                for i in range(own + shared):
                    if i % 3 == 2:  # every third request: a shared batch, sent by both at once
                        j = i // 3
                        barrier.wait()
                        r = post_batch(c, f"shared-{j}", shared_bodies[j])
                        answers[side, j] = r.json() if r.status_code == 200 else {}
                    else:
                        r = post_batch(c, f"own-{side}-{i}", arrow_batch(f"own{side}-", i))
                    assert r.status_code == 200, f"collector {side}: {r.status_code} {r.text}"
        except BaseException as exc:  # reported by the test
            barrier.abort()
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(side,), daemon=True) for side in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a client did not finish"
    assert not errors, errors

    for j in range(shared):
        pair = sorted((answers[0, j]["duplicate"], answers[1, j]["duplicate"]))  # type: ignore[type-var]
        assert pair == [False, True], (j, answers[0, j], answers[1, j])
    for collector in collectors:
        collector.kill()
    total = 2 * own + shared
    assert stored_predictions(postgres_url) == (total * BATCH, total * BATCH, total)


# -- 4. the command line --------------------------------------------------------------------


def test_first_start_prints_one_admin_key_that_works(tmp_path: Path, procs: Procs) -> None:
    data = str(tmp_path / "data")
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    first = procs.start("serve", "--data", data, "--port", str(port))
    first.wait_ready(url)
    keys = KEY.findall(first.stdout)
    assert len(keys) == 1, first.stdout
    assert "admin key" in first.stdout
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.get("/api/v1/models", headers=bearer(keys[0])).status_code == 200
        assert client.get("/api/v1/models").status_code == 401
    assert first.interrupt() == 0, first.describe()

    again = procs.start("serve", "--data", data, "--port", str(port))
    again.wait_ready(url)
    assert KEY.search(again.stdout) is None and "admin key" not in again.stdout, again.stdout
    with httpx.Client(base_url=url, timeout=10) as client:
        r = client.get("/api/v1/models", headers=bearer(keys[0]))
    assert r.status_code == 200, r.text
    assert again.interrupt() == 0, again.describe()


def test_no_auth_on_a_public_address_is_refused(tmp_path: Path, procs: Procs) -> None:
    data = tmp_path / "data"
    (port,) = free_ports(1)
    code, proc = procs.run(
        "serve", "--no-auth", "--host", "0.0.0.0", "--data", str(data), "--port", str(port)
    )
    assert code == 2, proc.describe()
    err = proc.stderr
    assert "Traceback" not in err, err
    assert "refusing to serve 0.0.0.0 without authentication" in err, err
    assert "--no-auth" in err, err
    assert not data.exists()  # refused before it opened (created) the store


def test_keys_create_prints_a_key_of_the_scope(tmp_path: Path, procs: Procs) -> None:
    data = str(tmp_path / "data")
    key = create_key(procs, data, "read")
    assert KEY.fullmatch(key), key
    code, other = procs.run(
        "keys", "create", "--data", data, "--project", "team-a", "--scope", "ingest"
    )
    assert code == 0, other.describe()
    store = open_store(data)
    try:
        found = store.authenticate(key)
        assert found is not None and (found.project, found.scope) == ("default", "read")
        found = store.authenticate(other.stdout.strip())
        assert found is not None and (found.project, found.scope) == ("team-a", "ingest")
        assert store.authenticate(key[:-1]) is None
    finally:
        store.close()


def test_sigterm_stops_cleanly_and_closes_the_store(tmp_path: Path, procs: Procs) -> None:
    """``docker stop``, systemd and Kubernetes stop with SIGTERM: exit 0, store closed
    (for DuckDB: checkpointed, no WAL left to replay)."""
    data = tmp_path / "data"
    (port,) = free_ports(1)
    collector = procs.start("serve", "--data", str(data), "--port", str(port))
    collector.wait_ready(f"http://127.0.0.1:{port}")
    collector.popen.terminate()
    code = collector.wait(20)
    assert "Traceback" not in collector.stderr, collector.stderr
    assert (code, sorted(p.name for p in data.iterdir())) == (0, ["sightline.duckdb"])
