"""Leases on the scheduler's jobs, the replicas that hold them, and the record of every run.

Collector replicas on one PostgreSQL database share the jobs of each pass. A replica
claims a few due jobs at a time (:meth:`LeaseQueries.claim_jobs`: one transaction that
takes the free or expired lease rows ``FOR UPDATE SKIP LOCKED``, so two replicas never
wait on or take the same job, and leaves out jobs that another replica finished since
they were planned). It renews its leases while it works (:meth:`LeaseQueries.beat`, also
its heartbeat in ``replicas``) and finishes each job in the transaction that writes the
job's rows (:meth:`LeaseQueries.finish_run`, the hook of ``finish_job``): the lease is
dropped and the run recorded as ``ok`` only if the lease is still this run's, so a
replica that lost its lease (it stalled past the timeout and another took the job)
writes nothing. A replica killed during a job stops renewing, and its leases expire
after the timeout; the next claim of the job takes it over and marks the dead run
``expired``.

DuckDB has one writing process: the same SQL without the row locks, and a claim takes
every due job it is offered (nothing to share; a lease left by a killed process is free).

Every run is a row of ``job_runs``: replica, job, fingerprint of its inputs, start and
finish, state (``leased`` while it runs, then ``ok``, ``failed`` or ``expired``), the
rows written and the error.

>>> from datetime import datetime
>>> from sightline.store import open_store
>>> store = open_store(":memory:")
>>> job = JobKey("p", "m", "1", datetime(2026, 1, 1), datetime(2026, 1, 1, 1), "drift", "2:10:10")
>>> (lease,) = store.claim_jobs([job], "r1", timeout=60, due_at=datetime(2026, 1, 2))
>>> with store._write() as tx:
...     store.finish_run(tx, lease, n_rows=3)
>>> [(r.replica, r.state, r.n_rows) for r in store.job_runs("p")]
[('r1', 'ok', 3)]
>>> store.close()
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Protocol, TypeVar

import pyarrow as pa

from sightline._time import EPOCH
from sightline.errors import InvalidInputError, StoreError

if TYPE_CHECKING:
    from sightline.store.base import Transaction

#: The states of a job run.
RUN_STATES = ("leased", "ok", "failed", "expired")
#: Replicas not seen for this long are forgotten.
FORGET_REPLICAS = timedelta(days=1)

_PK = ("project", "model", "version", "window_start", "kind")
_WHERE_PK = " AND ".join(f"{c} = ?" for c in _PK)


class Claimable(Protocol):
    """What a claim needs of a job (the scheduler's ``Job`` is one)."""

    @property
    def project(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def window_start(self) -> datetime: ...
    @property
    def window_end(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def fingerprint(self) -> str: ...


class JobKey(NamedTuple):
    """A job as the store sees it (tests and the doctest; the scheduler passes its Job)."""

    project: str
    model: str
    version: str
    window_start: datetime
    window_end: datetime
    kind: str
    fingerprint: str


J = TypeVar("J", bound=Claimable)


@dataclass(frozen=True)
class Lease(Generic[J]):
    """A job this replica holds: the job as it was given, and the id of its run."""

    job: J
    run_id: str
    replica: str


class LeaseLost(StoreError):
    """The lease of a run expired and another replica took the job over."""

    @classmethod
    def of(cls, job: Claimable) -> LeaseLost:
        """The error of ``job``'s lost lease."""
        return cls(f"job {_name(job)} was taken over by another replica")


class JobRun(NamedTuple):
    """One run of a job, as ``job_runs`` keeps it."""

    run_id: str
    replica: str
    model: str
    version: str
    window_start: datetime
    window_end: datetime
    kind: str
    fingerprint: str
    started_at: datetime
    finished_at: datetime | None
    state: str
    n_rows: int
    error: str


class SeenReplica(NamedTuple):
    """A collector replica, as its heartbeats in ``replicas`` show it."""

    replica: str
    host: str
    pid: int
    started_at: datetime
    seen_at: datetime


def new_run_id() -> str:
    """A fresh run id (random, 16 hex digits)."""
    return secrets.token_hex(8)


class LeaseQueries:
    """The leases of the scheduler's jobs (mixed into the Store, which supplies ``_read``
    and ``_write``; PostgreSQL sets :attr:`shares_jobs` and the row locks)."""

    #: Whether several processes share the store's jobs (PostgreSQL); else a claim takes
    #: every job it is offered.
    shares_jobs: bool = False
    #: Row locks of the claim: PostgreSQL's ``FOR UPDATE OF l SKIP LOCKED``.
    _claim_lock: str = ""

    if TYPE_CHECKING:  # the Store's hooks, declared for the type checker only

        def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

        def _write(self) -> AbstractContextManager[Transaction]: ...

    def _clock(self, tx: Transaction) -> datetime:
        """The time leases are measured by (PostgreSQL: the database's clock, the same
        for every replica)."""
        from sightline.store.base import utcnow

        return utcnow()

    def beat(self, replica: str, timeout: float, host: str, pid: int, started_at: datetime) -> None:
        """Record that ``replica`` is alive, and extend its leases to ``timeout`` seconds
        from now; forget replicas not seen for :data:`FORGET_REPLICAS`."""
        with self._write() as tx:
            now = self._clock(tx)
            tx.execute(
                "INSERT INTO replicas VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (replica) DO UPDATE SET seen_at = excluded.seen_at",
                (replica, host, pid, started_at, now),
            )
            tx.execute(
                "UPDATE job_leases SET expires_at = ? WHERE replica = ?",
                (now + timedelta(seconds=timeout), replica),
            )
            tx.execute("DELETE FROM replicas WHERE seen_at < ?", (now - FORGET_REPLICAS,))

    def replicas(self, since: datetime) -> list[SeenReplica]:
        """The replicas seen after ``since``, by name."""
        rows = self._read(
            "SELECT replica, host, pid, started_at, seen_at FROM replicas "
            "WHERE seen_at > ? ORDER BY replica",
            (since,),
        )
        return [SeenReplica(r, h, int(p), s, t) for r, h, p, s, t in rows]

    def claim_jobs(
        self,
        jobs: Sequence[J],
        replica: str,
        *,
        timeout: float,
        due_at: datetime,
        limit: int | None = None,
    ) -> list[Lease[J]]:
        """Lease to ``replica`` for ``timeout`` seconds the first ``limit`` (all when
        None, and always on a store that does not share jobs) of ``jobs`` that are free,
        whose lease expired, or that ``replica`` holds already, and that are still due:
        not finished since with the same fingerprint, nor failed on it and waiting for
        their retry at ``due_at``. A run of each is recorded as ``leased``; an expired
        lease's run becomes ``expired``."""
        if not jobs:
            return []
        values = ", ".join(["(?, ?, ?, CAST(? AS TIMESTAMP), ?)"] * len(jobs))
        keys: list[Any] = [v for job in jobs for v in _key(job)]
        with self._write() as tx:
            now = self._clock(tx)
            tx.execute(
                "INSERT INTO job_leases SELECT project, model, version, window_start, kind, "
                f"'', '', CAST(? AS TIMESTAMP) FROM (VALUES {values}) "
                f"AS c({', '.join(_PK)}) ON CONFLICT DO NOTHING",
                [EPOCH, *keys],
            )
            found = tx.execute(
                "SELECT l.project, l.model, l.version, l.window_start, l.kind, l.run_id, "
                "d.fingerprint, f.fingerprint, f.retry_at "
                f"FROM (VALUES {values}) AS c({', '.join(_PK)}) "
                f"JOIN job_leases l USING ({', '.join(_PK)}) "
                f"LEFT JOIN jobs_done d USING ({', '.join(_PK)}) "
                f"LEFT JOIN jobs_failed f USING ({', '.join(_PK)})"
                + (" WHERE l.expires_at <= ? OR l.replica = ?" if self.shares_jobs else "")
                + self._claim_lock,
                [*keys, now, replica] if self.shares_jobs else keys,
            )
            free = {tuple(r[:5]): r[5:] for r in found}
            taken: list[Lease[J]] = []
            settled: list[J] = []  # finished or failed on these inputs since they were planned
            expired: list[str] = []
            for job in jobs:
                row = free.get(_key(job))
                if row is None:
                    continue  # another replica holds it
                old_run, done, failed, retry_at = row
                if done == job.fingerprint or (failed == job.fingerprint and retry_at > due_at):
                    settled.append(job)
                    continue
                if self.shares_jobs and limit is not None and len(taken) >= limit:
                    break
                taken.append(Lease(job, new_run_id(), replica))
                if old_run:
                    expired.append(old_run)
            # No lease row is kept for a settled job unless a run holds one.
            _drop_free(tx, settled)
            _take(tx, taken, now, now + timedelta(seconds=timeout), expired)
        return taken

    def finish_run(self, tx: Transaction, lease: Lease[Any], n_rows: int) -> None:
        """In ``tx`` (the one writing the job's rows): drop the lease and record the run
        ``ok``; :class:`LeaseLost` (which rolls ``tx`` back) when another run holds it."""
        if self.finish_runs(tx, [(lease, n_rows)]):
            raise LeaseLost.of(lease.job)

    def finish_runs(
        self, tx: Transaction, finished: Sequence[tuple[Lease[J], int]]
    ) -> list[Lease[J]]:
        """In ``tx`` (the one writing the jobs' rows): drop the leases and record each
        run ``ok`` with its rows (``finished``: lease and rows); return the leases that
        another run holds now (their jobs were taken over: write nothing of them)."""
        if not finished:
            return []
        now = self._clock(tx)
        marks = ", ".join(["?"] * len(finished))
        held = {
            r[0]
            for r in tx.execute(
                f"DELETE FROM job_leases WHERE run_id IN ({marks}) RETURNING run_id",
                [lease.run_id for lease, _ in finished],
            )
        }
        kept = [(lease, n) for lease, n in finished if lease.run_id in held]
        if kept:
            values = ", ".join(["(?, CAST(? AS BIGINT))"] * len(kept))
            tx.execute(
                "UPDATE job_runs SET state = 'ok', finished_at = ?, n_rows = c.n_rows "
                f"FROM (VALUES {values}) AS c(run_id, n_rows) WHERE job_runs.run_id = c.run_id",
                [now, *(v for lease, n in kept for v in (lease.run_id, n))],
            )
        return [lease for lease, _ in finished if lease.run_id not in held]

    def end_run(self, lease: Lease[Any], state: str, error: str) -> None:
        """Record that the run of ``lease`` ended ``failed`` or ``expired`` with ``error``,
        and drop its lease if it still holds it."""
        with self._write() as tx:
            now = self._clock(tx)
            tx.execute(
                f"DELETE FROM job_leases WHERE {_WHERE_PK} AND run_id = ?",
                (*_key(lease.job), lease.run_id),
            )
            tx.execute(
                "UPDATE job_runs SET state = ?, finished_at = ?, error = ? WHERE run_id = ?",
                (state, now, error[:2000], lease.run_id),
            )

    def job_runs(
        self,
        project: str,
        *,
        model: str | None = None,
        since: datetime | None = None,
        state: str | None = None,
        limit: int = 1000,
    ) -> list[JobRun]:
        """The runs of ``project``'s jobs (of one ``model``, started after ``since``, in
        one ``state``), newest first, at most ``limit``."""
        if state is not None and state not in RUN_STATES:
            raise InvalidInputError(
                f"state must be one of {RUN_STATES}, got {state!r}", field="state"
            )
        where, params = ["project = ?"], [project]  # type: list[str], list[Any]
        for cond, value in (("model = ?", model), ("started_at >= ?", since), ("state = ?", state)):
            if value is not None:
                where.append(cond)
                params.append(value)
        rows = self._read(
            "SELECT run_id, replica, model, version, window_start, window_end, kind, "
            "fingerprint, started_at, finished_at, state, n_rows, error FROM job_runs "
            f"WHERE {' AND '.join(where)} ORDER BY started_at DESC, run_id LIMIT {int(limit)}",
            params,
        )
        return [JobRun._make((*r[:11], int(r[11]), r[12])) for r in rows]


def _take(
    tx: Transaction, leases: Sequence[Lease[Any]], now: datetime, expires: datetime, old: list[str]
) -> None:
    """Give each lease's job to its replica until ``expires``, record its run as leased,
    and the runs that held the jobs before (``old``) as expired."""
    if not leases:
        return
    values = ", ".join(["(?, ?, ?, CAST(? AS TIMESTAMP), ?, ?, ?)"] * len(leases))
    tx.execute(
        "UPDATE job_leases SET replica = c.replica, run_id = c.run_id, expires_at = ? "
        f"FROM (VALUES {values}) AS c({', '.join(_PK)}, replica, run_id) WHERE "
        + " AND ".join(f"job_leases.{k} = c.{k}" for k in _PK),
        [
            expires,
            *(v for lease in leases for v in (*_key(lease.job), lease.replica, lease.run_id)),
        ],
    )
    if old:
        tx.execute(
            "UPDATE job_runs SET state = 'expired', finished_at = ?, "
            "error = 'the lease expired: the replica stopped or stalled' "
            f"WHERE run_id IN ({', '.join(['?'] * len(old))}) AND state = 'leased'",
            [now, *old],
        )
    runs = [
        (
            lease.run_id,
            *_key(lease.job)[:4],
            lease.job.window_end,
            lease.job.kind,
            lease.job.fingerprint,
            lease.replica,
            now,
        )
        for lease in leases
    ]
    tx.insert("job_runs", _runs_table(runs))


#: The ``job_runs`` columns a claim writes (the others: NULL, 'leased', 0, '').
_RUN_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("project", pa.string()),
        ("model", pa.string()),
        ("version", pa.string()),
        ("window_start", pa.timestamp("us")),
        ("window_end", pa.timestamp("us")),
        ("kind", pa.string()),
        ("fingerprint", pa.string()),
        ("replica", pa.string()),
        ("started_at", pa.timestamp("us")),
        ("finished_at", pa.timestamp("us")),
        ("state", pa.string()),
        ("n_rows", pa.int64()),
        ("error", pa.string()),
    ]
)


def _runs_table(runs: list[tuple[Any, ...]]) -> pa.Table:
    """The ``job_runs`` rows of new runs (``leased``, no rows yet)."""
    columns: list[Any] = [list(c) for c in zip(*runs, strict=True)]
    n = len(runs)
    columns += [[None] * n, ["leased"] * n, [0] * n, [""] * n]
    return pa.table(columns, schema=_RUN_SCHEMA)


def _drop_free(tx: Transaction, jobs: Sequence[Claimable]) -> None:
    """Delete the lease rows of ``jobs`` that no run holds (one statement)."""
    if jobs:
        values = ", ".join(["(?, ?, ?, CAST(? AS TIMESTAMP), ?)"] * len(jobs))
        cond = " AND ".join(f"job_leases.{k} = c.{k}" for k in _PK)
        tx.execute(
            f"DELETE FROM job_leases USING (VALUES {values}) AS c({', '.join(_PK)}) "
            f"WHERE {cond} AND job_leases.run_id = ''",
            [v for job in jobs for v in _key(job)],
        )


def _key(job: Claimable) -> tuple[str, str, str, datetime, str]:
    return (job.project, job.model, job.version, job.window_start, job.kind)


def _name(job: Claimable) -> str:
    return f"{job.project}/{job.model}/{job.version}/{job.window_start.isoformat()}/{job.kind}"
