"""Run planned jobs: in this process, or on a Dask cluster.

:meth:`Scheduler.run_once` plans the jobs due at ``now`` (once), loads their inputs from
the store, computes their rows (locally, or with ``client.map`` on Dask workers, which
need no access to the store), and writes each job's rows in its own transaction, oldest
window first; the ``matrix`` jobs, which read the rows of the others, run after them.
Running it again with nothing new plans nothing; rerunning a job replaces its rows with
identical ones.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sightline.alerts import Alerting
from sightline.analysis.rows import MetricRow
from sightline.scheduler import jobs as j
from sightline.scheduler.edges import fix_edges
from sightline.scheduler.plan import Job, assign, plan
from sightline.store import Store, utcnow

log = logging.getLogger("sightline.scheduler")


@dataclass
class RunReport:
    """What one run did: jobs planned, jobs written, the keys of the failed ones, and the
    metric rows written."""

    planned: int
    written: int
    failed: list[str]
    rows: int = 0


class Scheduler:
    """Plans and runs the store's windowed jobs.

    ``client``: a ``dask.distributed.Client`` to compute on (None: in this process).
    ``worker``/``workers``: this replica's name among all replicas; each runs only the
    jobs that rendezvous hashing assigns to it (one replica: all jobs).
    ``alerts``: the alert rules evaluated after each run (None: none).
    """

    def __init__(
        self,
        store: Store,
        *,
        client: Any = None,
        worker: str = "local",
        workers: Sequence[str] = ("local",),
        alerts: Alerting | None = None,
    ) -> None:
        self.store = store
        self.alerts = alerts
        self.client = client
        self.worker = worker
        self.workers = tuple(workers)

    def run_once(self, now: datetime | None = None, *, limit: int | None = None) -> RunReport:
        """Fix the bins of rolling references that need them (:mod:`~sightline.scheduler.edges`),
        plan the jobs due at ``now`` once (at most ``limit``, oldest first) and run
        them: first every kind but ``matrix``, then the ``matrix`` jobs, which read the
        rows of the others (those of a window whose other job failed wait for the next
        run); then the alert rules over the rows."""
        moment = utcnow() if now is None else now
        began = time.perf_counter()
        fix_edges(self.store, moment)
        due = [
            job for job in plan(self.store, moment) if assign(job.key, self.workers) == self.worker
        ]
        due = due[:limit] if limit is not None else due
        first = self._run([job for job in due if job.kind != "matrix"], moment)
        broken = {key.rsplit("/", 1)[0] for key in first.failed}
        matrix = [
            job for job in due if job.kind == "matrix" and job.key.rsplit("/", 1)[0] not in broken
        ]
        second = self._run(matrix, moment)
        report = RunReport(
            len(due),
            first.written + second.written,
            first.failed + second.failed,
            first.rows + second.rows,
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

    def _run(self, due: list[Job], moment: datetime) -> RunReport:
        failed: list[str] = []
        written = n_rows = 0
        inputs = [j.load(self.store, job) for job in due]
        for job, rows in zip(due, self._compute(inputs), strict=True):
            if isinstance(rows, str):
                failed.append(job.key)
                key = (job.model, job.version, job.window_start, job.kind)
                attempts = self.store.fail_job(job.project, key, job.fingerprint, rows, moment)
                log.error("job %s failed (attempt %d): %s", job.key, attempts, rows)
                continue
            j.write(self.store, job, rows, moment)
            written += 1
            n_rows += len(rows)
        return RunReport(len(due), written, failed, n_rows)

    def _compute(self, inputs: list[j.JobInputs]) -> list[list[MetricRow] | str]:
        if self.client is not None and inputs:
            futures = self.client.map(_safe_compute, inputs, pure=True)
            return list(self.client.gather(futures))
        return [_safe_compute(i) for i in inputs]


def _safe_compute(inputs: j.JobInputs) -> list[MetricRow] | str:
    """The job's rows, or the text of the error that stopped it (one bad window must not
    stop the others; the scheduler records it and retries later)."""
    try:
        return j.compute(inputs)
    except Exception:
        return traceback.format_exc(limit=5)


__all__ = ["Job", "RunReport", "Scheduler"]
