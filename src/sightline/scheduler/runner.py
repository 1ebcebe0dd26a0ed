"""Run planned jobs: in this process, or on a Dask cluster.

:meth:`Scheduler.run_once` plans the jobs due at ``now``, loads their inputs from the
store, computes their rows (locally, or on Dask workers, which need no access to the
store: each job is submitted as soon as its inputs are loaded), and writes each job's
rows in a few transactions, oldest window first; the ``matrix`` jobs, which read the
rows of the others, run after them, once every other job of their window is done (on any
replica). Running it again with nothing new plans nothing; rerunning a job replaces its
rows with identical ones. Replicas on one store share the due jobs through leases
(:mod:`sightline.scheduler.leasing`): each runs the batches it leased, and every run is
recorded in the store's ``job_runs``.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sightline.alerts import Alerting
from sightline.analysis.rows import MetricRow
from sightline.scheduler import jobs as j
from sightline.scheduler.edges import fix_edges
from sightline.scheduler.leasing import Replica
from sightline.scheduler.plan import Job, plan
from sightline.scheduler.rollup import parse_rollup
from sightline.store import Store, utcnow
from sightline.store.base import Transaction
from sightline.store.leases import Lease, LeaseLost

log = logging.getLogger("sightline.scheduler")

#: Jobs whose rows one write transaction holds at most.
WRITE_BATCH = 256


@dataclass
class RunReport:
    """What one run did: jobs planned, jobs written, the keys of the failed ones, and the
    metric rows written."""

    planned: int
    written: int
    failed: list[str]
    rows: int = 0

    def __add__(self, other: RunReport) -> RunReport:
        return RunReport(
            self.planned + other.planned,
            self.written + other.written,
            self.failed + other.failed,
            self.rows + other.rows,
        )


class Scheduler:
    """Plans and runs the store's windowed jobs.

    ``client``: a ``dask.distributed.Client`` to compute on (None: in this process).
    ``replica``: this process among the replicas sharing the store's jobs (default: a
    new name, the default lease timeout and batch).
    ``alerts``: the alert rules evaluated after each run (None: none).
    ``tiers``: the rollup tiers (seconds) whose rollup jobs it plans (none by default).
    ``embed_texts``: the drift jobs embed the sampled texts of text columns
    (:mod:`~sightline.scheduler.embedding`; off by default: it costs the collector
    milliseconds of CPU per text). Replicas of one store must agree on it.
    """

    def __init__(
        self,
        store: Store,
        *,
        client: Any = None,
        replica: Replica | None = None,
        alerts: Alerting | None = None,
        tiers: Sequence[int] = (),
        embed_texts: bool = False,
    ) -> None:
        self.store = store
        self.embed_texts = embed_texts
        self.tiers = tuple(tiers)
        self.alerts = alerts
        self.client = client
        self.replica = replica or Replica(store)

    def run_once(self, now: datetime | None = None, *, limit: int | None = None) -> RunReport:
        """Fix the bins of rolling references that need them (:mod:`~sightline.scheduler.edges`),
        plan the jobs due at ``now`` (at most ``limit``, oldest first) and run every kind
        but ``matrix``; then the ``matrix`` jobs among them whose window has no other job
        left to do (another replica may still be running one: that matrix waits for the
        next run); then the alert rules over the rows."""
        moment = utcnow() if now is None else now
        began = time.perf_counter()
        fix_edges(self.store, moment)
        due = plan(self.store, moment, self.tiers)
        due = due[:limit] if limit is not None else due
        report = self._leased([job for job in due if job.kind != "matrix"], moment)
        wanted = {job.key for job in due if job.kind == "matrix"}
        if wanted:
            report += self._leased(
                ready_matrix(plan(self.store, moment, self.tiers), wanted), moment
            )
        log.info(
            "scheduler pass: %d windows computed, %d rows written, %d failed, %.2f s",
            report.written,
            report.rows,
            len(report.failed),
            time.perf_counter() - began,
        )
        if self.alerts is not None:
            self.alerts.run(self.store, moment)
        return report

    def _leased(self, jobs: list[Job], moment: datetime) -> RunReport:
        report = RunReport(0, 0, [])
        with self.replica.holding():
            for leases in self.replica.claims(jobs, moment):
                report += self._run(leases, moment)
        return report

    def _run(self, leases: list[Lease[Job]], moment: datetime) -> RunReport:
        """Run the leased jobs; their rows are written a few transactions of up to
        :data:`WRITE_BATCH` jobs, each of which ends their leases (a rollup job: one
        transaction of its own)."""
        failed: list[str] = []
        written = n_rows = 0
        pending: list[tuple[Lease[Job], list[MetricRow]]] = []
        for lease, rows in zip(leases, self._compute(leases), strict=True):
            job = lease.job
            if isinstance(rows, str):
                failed.append(job.key)
                key = (job.model, job.version, job.window_start, job.kind)
                attempts = self.store.fail_job(job.project, key, job.fingerprint, rows, moment)
                self.store.end_run(lease, "failed", rows)
                log.error("job %s failed (attempt %d): %s", job.key, attempts, rows)
                continue
            if parse_rollup(job.kind) is not None:
                written, n_rows = self._write_rollup(lease, rows, moment, written, n_rows)
                continue
            pending.append((lease, rows))
            if len(pending) >= WRITE_BATCH:
                written, n_rows = self._write(pending, moment, written, n_rows)
                pending = []
        written, n_rows = self._write(pending, moment, written, n_rows)
        return RunReport(len(leases), written, failed, n_rows)

    def _write(
        self, done: list[tuple[Lease[Job], list[MetricRow]]], moment: datetime, *counts: int
    ) -> tuple[int, int]:
        """Write the rows of ``done`` in one transaction that ends their leases; the jobs
        another replica took over meanwhile write nothing. Returns ``counts`` (jobs and
        rows written) plus those written."""
        written, n_rows = counts
        if not done:
            return written, n_rows

        def settle(tx: Transaction) -> list[int]:
            lost = self.store.finish_runs(tx, [(lease, len(rows)) for lease, rows in done])
            ids = {lease.run_id for lease in lost}
            return [i for i, (lease, _) in enumerate(done) if lease.run_id in ids]

        lost = j.write_jobs(self.store, [(lease.job, rows) for lease, rows in done], moment, settle)
        for i, (lease, rows) in enumerate(done):
            if i in lost:
                exc = LeaseLost.of(lease.job)
                self.store.end_run(lease, "expired", str(exc))
                log.warning("job %s not written: %s", lease.job.key, exc)
            else:
                written += 1
                n_rows += len(rows)
        return written, n_rows

    def _write_rollup(
        self, lease: Lease[Job], rows: list[MetricRow], moment: datetime, *counts: int
    ) -> tuple[int, int]:
        written, n_rows = counts
        try:
            j.write(self.store, lease.job, rows, moment, then=self._finisher(lease, len(rows)))
        except LeaseLost as exc:
            self.store.end_run(lease, "expired", str(exc))
            log.warning("job %s not written: %s", lease.job.key, exc)
            return written, n_rows
        return written + 1, n_rows + len(rows)

    def _finisher(self, lease: Lease[Job], n_rows: int) -> Callable[[Transaction], None]:
        return lambda tx: self.store.finish_run(tx, lease, n_rows)

    def _compute(self, leases: list[Lease[Job]]) -> Iterable[list[MetricRow] | str]:
        """The rows of each job, in order; every input is loaded before any is written,
        the reads the jobs share once (:class:`~sightline.scheduler.jobs.PassReads`).
        On Dask, each job is computed as soon as it is loaded, and the first are written
        while the workers compute the others."""
        reads = j.PassReads(self.store)
        reads.prefetch([lease.job for lease in leases])
        inputs = (
            j.load(self.store, lease.job, reads, embed_texts=self.embed_texts) for lease in leases
        )
        if self.client is None:
            return [_safe_compute(i) for i in list(inputs)]
        futures = [self.client.submit(_safe_compute, i, pure=False) for i in inputs]
        return (future.result() for future in futures)


def ready_matrix(due: list[Job], wanted: set[str]) -> list[Job]:
    """The ``matrix`` jobs of ``due`` named in ``wanted`` whose window has no other job in
    ``due`` (their inputs, the rows of the other kinds, are all written).

    >>> from datetime import timedelta
    >>> t = datetime(2026, 1, 1)
    >>> jobs = [Job(t, "p", "m", "1", k, t + timedelta(hours=1), "f") for k in ("drift", "matrix")]
    >>> ready_matrix(jobs, {jobs[1].key}), ready_matrix(jobs[1:], {jobs[1].key}) == jobs[1:]
    ([], True)
    """
    busy = {job.key.rsplit("/", 1)[0] for job in due if job.kind != "matrix"}
    return [
        job
        for job in due
        if job.kind == "matrix" and job.key in wanted and job.key.rsplit("/", 1)[0] not in busy
    ]


def _safe_compute(inputs: j.JobInputs) -> list[MetricRow] | str:
    """The job's rows, or the text of the error that stopped it (one bad window must not
    stop the others; the scheduler records it and retries later)."""
    try:
        return j.compute(inputs)
    except Exception:
        return traceback.format_exc(limit=5)


__all__ = ["Job", "RunReport", "Scheduler"]
