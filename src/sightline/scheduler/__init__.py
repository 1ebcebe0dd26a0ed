"""Deterministic windowed jobs over the store: planning, rendezvous assignment, running
locally or on Dask."""

from __future__ import annotations

from sightline.scheduler.plan import Job, assign, plan
from sightline.scheduler.runner import RunReport, Scheduler
from sightline.scheduler.windows import parse_duration, window_of

__all__ = ["Job", "RunReport", "Scheduler", "assign", "parse_duration", "plan", "window_of"]
