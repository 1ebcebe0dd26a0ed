"""Metric rows written into a store as the scheduler writes them (one window's job)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sightline.analysis.rows import MetricRow
from sightline.scheduler.jobs import rows_table
from sightline.scheduler.plan import Job
from sightline.store import Store


def put_rows(
    store: Store,
    start: datetime,
    rows: Sequence[MetricRow],
    *,
    project: str = "default",
    model: str = "churn",
    version: str = "1",
    size: timedelta = timedelta(minutes=1),
    kind: str = "drift",
) -> None:
    """Store ``rows`` as the ``kind`` rows of the window at ``start``."""
    job = Job(start, project, model, version, kind, start + size, "test")
    stamped = [
        replace(r, model=model, version=version, window_start=start, window_end=start + size)
        for r in rows
    ]
    store.insert_rows("metric_rows", rows_table(job, stamped, start + size))
