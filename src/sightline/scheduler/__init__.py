"""Deterministic windowed jobs over the store: planning, leases shared by replicas,
running locally or on Dask."""

from __future__ import annotations

from sightline.scheduler.leasing import Replica
from sightline.scheduler.plan import Job, plan
from sightline.scheduler.runner import RunReport, Scheduler
from sightline.scheduler.windows import parse_duration, window_of

__all__ = ["Job", "Replica", "RunReport", "Scheduler", "parse_duration", "plan", "window_of"]
