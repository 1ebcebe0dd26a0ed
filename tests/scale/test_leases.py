"""Leases on the store (PostgreSQL: shared by replicas; DuckDB: one process), in process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pyarrow as pa
import pytest

from sightline.errors import InvalidInputError
from sightline.scheduler import Replica
from sightline.store import Store, open_store
from sightline.store.leases import JobKey, LeaseLost

T0 = datetime(2026, 1, 1)
LATER = datetime(2026, 2, 1)


def job(window: int, kind: str = "drift", fingerprint: str = "1:10:10") -> JobKey:
    start = T0 + timedelta(hours=window)
    return JobKey("p", "m", "1", start, start + timedelta(hours=1), kind, fingerprint)


def finish(store: Store, lease: object, n_rows: int = 0) -> None:
    """Finish a job as the scheduler does: its rows and its lease in one transaction."""
    j = lease.job  # type: ignore[attr-defined]
    key = (j.model, j.version, j.window_start, j.window_end, j.kind)
    empty = pa.table({"project": pa.array([], pa.string())})
    store.finish_job(
        j.project,
        key,
        j.fingerprint,
        empty,
        lambda tx: store.finish_run(tx, lease, n_rows),  # type: ignore[arg-type]
    )


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[Store]:
    store = open_store(postgres_url)
    try:
        yield store
    finally:
        store.close()


def test_a_leased_job_is_not_claimed_by_another_replica(postgres: Store) -> None:
    jobs = [job(w) for w in range(5)]
    first = postgres.claim_jobs(jobs, "a", timeout=60, due_at=LATER, limit=2)
    assert [lease.job for lease in first] == jobs[:2]  # oldest first, at most the limit
    second = postgres.claim_jobs(jobs, "b", timeout=60, due_at=LATER, limit=10)
    assert [lease.job for lease in second] == jobs[2:]  # what "a" holds is skipped
    assert postgres.claim_jobs(jobs, "c", timeout=60, due_at=LATER) == []


def test_a_finished_job_is_not_run_again_by_a_replica_that_planned_it_before(
    postgres: Store,
) -> None:
    (lease,) = postgres.claim_jobs([job(0)], "a", timeout=60, due_at=LATER)
    finish(postgres, lease, n_rows=7)
    # "b" planned the job before "a" finished it: same fingerprint, nothing to do.
    assert postgres.claim_jobs([job(0)], "b", timeout=60, due_at=LATER) == []
    assert postgres._read("SELECT count(*) FROM job_leases") == [(0,)]  # none left behind
    # New inputs (another fingerprint) make it due again.
    (again,) = postgres.claim_jobs([job(0, fingerprint="2:20:20")], "b", timeout=60, due_at=LATER)
    assert again.replica == "b"
    runs = postgres.job_runs("p")
    assert [(r.replica, r.state, r.n_rows) for r in runs] == [("b", "leased", 0), ("a", "ok", 7)]


def test_an_expired_lease_moves_and_its_first_holder_writes_nothing(postgres: Store) -> None:
    (lost,) = postgres.claim_jobs([job(0)], "a", timeout=0.3, due_at=LATER)
    assert postgres.claim_jobs([job(0)], "b", timeout=60, due_at=LATER) == []
    time.sleep(0.5)  # "a" stopped renewing
    (taken,) = postgres.claim_jobs([job(0)], "b", timeout=60, due_at=LATER)
    with pytest.raises(LeaseLost, match="taken over"):
        finish(postgres, lost)
    assert postgres.jobs_done("p", "m", "1") == {}  # the late finish rolled back
    finish(postgres, taken, n_rows=3)
    states = {r.replica: r.state for r in postgres.job_runs("p")}
    assert states == {"a": "expired", "b": "ok"}


def test_a_beat_keeps_the_leases_of_a_slow_job(postgres: Store) -> None:
    replica = Replica(postgres, "slow", timeout=0.6)
    with replica.holding():  # renews every 0.2 s
        (lease,) = next(iter(replica.claims([job(0)], LATER)))
        time.sleep(1.2)  # twice the timeout
        assert postgres.claim_jobs([job(0)], "other", timeout=60, due_at=LATER) == []
        finish(postgres, lease)
    assert [(r.replica, r.state) for r in postgres.job_runs("p")] == [("slow", "ok")]
    assert [r.replica for r in postgres.replicas(T0)] == ["slow"]


def test_replicas_take_interleaved_batches(postgres: Store) -> None:
    jobs = [job(w, kind) for w in range(10) for kind in ("drift", "quality")]
    a, b = Replica(postgres, "a", batch=3), Replica(postgres, "b", batch=3)
    batches_a, batches_b = a.claims(jobs, LATER), b.claims(jobs, LATER)
    taken = []
    for _ in range(3):
        for batches in (batches_a, batches_b):
            leases = next(batches)
            assert len(leases) == 3
            taken += leases
    assert sorted(lease.job for lease in taken) == sorted(jobs[:18])
    assert len({lease.job for lease in taken}) == 18  # no job twice
    assert [len(rest) for rest in (list(batches_a), list(batches_b))] == [1, 0]


def test_duckdb_takes_every_job_and_frees_the_leases_of_a_killed_process() -> None:
    store = open_store(":memory:")
    try:
        jobs = [job(w) for w in range(40)]
        assert len(store.claim_jobs(jobs, "a", timeout=60, due_at=LATER, limit=2)) == 40
        # One process writes a DuckDB file: leases left by a killed one are free.
        assert len(store.claim_jobs(jobs, "b", timeout=60, due_at=LATER)) == 40
        assert len(store.job_runs("p", state="expired")) == 40
        assert len(store.job_runs("p", state="leased")) == 40
        with pytest.raises(InvalidInputError, match="state"):
            store.job_runs("p", state="done")
    finally:
        store.close()
