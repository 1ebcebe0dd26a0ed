"""Collector replicas on one PostgreSQL database share the scheduler's jobs: real
``sightline serve`` processes, a real database.

Each test starts its replicas on an empty database, then stores a backlog (several
models, 8 closed windows each) in one transaction, so that every replica sees every job
at once. Counted from the store's job runs: every job runs once; a replica SIGKILLed
while it holds leases loses no window (another replica takes its jobs once their leases
expire) and doubles no row; the rows, through the one codec, are those of a single
collector over the same data.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from scale.backlog import encoded_rows, row_keys_unique, runs_by_job, seed
from sightline.scheduler import Scheduler
from sightline.store import Store, open_store
from support.live import free_port, wait_ready

MODELS = 4
LEASE_TIMEOUT = "2"
#: One job per window and kind: drift, quality, health and matrix; and the rollup of each
#: kind into the default daily tier (the 8 hourly windows are of one closed day).
JOBS = MODELS * (8 * 4 + 4)


class Replicas:
    """``sightline serve`` processes on one store; all are killed when the test ends."""

    def __init__(self, url: str, logs: Path) -> None:
        self.url, self.logs = url, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        port = free_port()
        log = self.logs / f"{name}.err"
        argv = [sys.executable, "-m", "sightline.cli", "serve", "--store", self.url]
        argv += ["--port", str(port), "--no-auth", "--log-level", "warning", "--replica", name]
        argv += ["--schedule-every", "0.3", "--lease-timeout", LEASE_TIMEOUT]
        with log.open("wb") as err:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
            )
        self.procs[name] = proc
        wait_ready(f"http://127.0.0.1:{port}", proc, log)

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=20)

    def close(self) -> None:
        for name in self.procs:
            self.kill(name)


@pytest.fixture
def replicas(postgres_url: str, tmp_path: Path) -> Iterator[Replicas]:
    group = Replicas(postgres_url, tmp_path)
    try:
        yield group
    finally:
        group.close()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.02)


def all_done(store: Store) -> bool:
    """Every job of the backlog ran to ``ok`` and none is leased."""
    runs = runs_by_job(store)
    return sum("ok" in states for states in runs.values()) == JOBS and not any(
        "leased" in states for states in runs.values()
    )


def single_collector_rows(tmp_path: Path) -> list[str]:
    """The rows one collector (DuckDB, one process) computes from the same backlog."""
    store = open_store(tmp_path / "single")
    try:
        seed(store, MODELS)
        while Scheduler(store).run_once().planned:
            pass
        return encoded_rows(store, MODELS)
    finally:
        store.close()


@pytest.mark.parametrize("n", [2, 3])
def test_every_job_of_a_backlog_runs_once_across_replicas(
    n: int, replicas: Replicas, postgres_url: str, tmp_path: Path
) -> None:
    names = [f"r{i}" for i in range(n)]
    for name in names:
        replicas.start(name)
    store = open_store(postgres_url)
    try:
        seed(store, MODELS)
        wait_for(lambda: all_done(store), 240, "every job to run")
        runs = runs_by_job(store)
        assert len(runs) == JOBS
        assert all(states == ["ok"] for states in runs.values()), runs  # once, never twice
        by_replica = {r.replica for r in store.job_runs("default", since=datetime(2000, 1, 1))}
        assert by_replica == set(names)  # the work is shared, not duplicated
        assert {r.replica for r in store.replicas(datetime(2000, 1, 1))} == set(names)
        assert row_keys_unique(store)
        assert encoded_rows(store, MODELS) == single_collector_rows(tmp_path)
    finally:
        store.close()


def test_a_replica_killed_mid_pass_loses_no_window_and_doubles_no_row(
    replicas: Replicas, postgres_url: str, tmp_path: Path
) -> None:
    for name in ("r0", "r1", "r2"):
        replicas.start(name)
    store = open_store(postgres_url)
    try:
        seed(store, MODELS)

        def victim_holds_leases() -> bool:
            runs = store.job_runs("default", since=datetime(2000, 1, 1), limit=100_000)
            return any(r.replica == "r0" and r.state == "leased" for r in runs) and any(
                r.replica == "r0" and r.state == "ok" for r in runs
            )

        wait_for(victim_holds_leases, 120, "r0 to finish a job and hold leases")
        replicas.kill("r0")  # SIGKILL, in the middle of its batch
        wait_for(lambda: all_done(store), 240, "the survivors to finish every job")
        runs = runs_by_job(store)
        assert len(runs) == JOBS
        assert all(states.count("ok") == 1 for states in runs.values()), runs
        expired = [
            r for r in store.job_runs("default", state="expired", since=datetime(2000, 1, 1))
        ]
        assert expired and {r.replica for r in expired} == {"r0"}  # taken over after the lease
        assert {
            r.replica for r in store.job_runs("default", state="ok", since=datetime(2000, 1, 1))
        } >= {"r1", "r2"}
        assert row_keys_unique(store)
        assert encoded_rows(store, MODELS) == single_collector_rows(tmp_path)
    finally:
        store.close()
