"""``GET /api/v1/jobs``: the scheduler's job runs of the caller's project (admin), and the
collector replicas that ran them.

Each run names the replica that ran it, the job (model, version, window, kind), the
fingerprint of its inputs, its start, finish and duration, its state (``leased`` while it
runs, ``ok``, ``failed``, ``expired`` when its replica stopped or stalled and another
took the job) and its error. Runs are kept 7 days (``Settings.retention["job_runs"]``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from sightline.server.auth import Admin
from sightline.server.query import Filter, Since, _time
from sightline.server.state import ERRORS, state_of
from sightline.store import as_utc, utcnow
from sightline.store.leases import JobRun, SeenReplica

router = APIRouter(prefix="/api/v1")

State = Annotated[str | None, Query(pattern="^(leased|ok|failed|expired)$")]
Limit = Annotated[int, Query(ge=1, le=10_000)]
#: Replicas listed: those seen within this long.
REPLICAS_SEEN = timedelta(hours=1)


@router.get("/jobs", responses=ERRORS, summary="The scheduler's job runs and replicas (admin)")
async def list_jobs(
    request: Request,
    key: Admin,
    model: Filter = None,
    since: Since = None,
    state: State = None,
    limit: Limit = 1000,
) -> dict[str, Any]:
    """Runs newest first (default: those started in the last 24 hours), and the replicas
    seen in the last hour."""
    store = state_of(request).store
    start = utcnow() - timedelta(days=1) if since is None else _time(since, "since")
    runs = await run_in_threadpool(
        store.job_runs, key.project, model=model, since=start, state=state, limit=limit
    )
    seen = await run_in_threadpool(store.replicas, utcnow() - REPLICAS_SEEN)
    return {"jobs": [run_out(r) for r in runs], "replicas": [_replica_out(r) for r in seen]}


def run_out(run: JobRun) -> dict[str, Any]:
    """A run as the API shows it (times ISO 8601 UTC, ``duration_s`` once finished)."""
    duration = None if run.finished_at is None else (run.finished_at - run.started_at)
    return {
        "replica": run.replica,
        "model": run.model,
        "version": run.version,
        "window_start": _iso(run.window_start),
        "window_end": _iso(run.window_end),
        "kind": run.kind,
        "fingerprint": run.fingerprint,
        "started_at": _iso(run.started_at),
        "finished_at": None if run.finished_at is None else _iso(run.finished_at),
        "duration_s": None if duration is None else round(duration.total_seconds(), 6),
        "state": run.state,
        "rows": run.n_rows,
        "error": run.error,
    }


def _replica_out(replica: SeenReplica) -> dict[str, Any]:
    return {
        "replica": replica.replica,
        "host": replica.host,
        "pid": replica.pid,
        "started_at": _iso(replica.started_at),
        "seen_at": _iso(replica.seen_at),
    }


def _iso(moment: Any) -> str:
    return str(as_utc(moment).isoformat()) + "Z"
