"""Service health of a model: live instances, uptime, traffic, errors, latency.

Everything is summed in SQL or computed on arrays: the profiles' predictions, errors and
Prometheus latency buckets (percentiles interpolated in the buckets, as Prometheus'
``histogram_quantile`` does, inside the smallest and largest latency observed), the newest
heartbeat of each instance, and the uptime (:meth:`Store.uptime`). No profile or sketch is
decoded: each profile's row carries its bucket counts and latency range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from sightline.scheduler.jobs import bucket_quantile
from sightline.store import Store


def overview(
    store: Store,
    project: str,
    model: str,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    timeout: timedelta,
) -> dict[str, Any]:
    """The health overview of ``model`` over ``[since, until)`` as the API returns it."""
    newest = store.newest_heartbeats(project, model, min(since, now - timeout))
    instances = [
        {
            "instance": b.instance,
            "version": b.version,
            "host": b.host,
            "pid": b.pid,
            "started_at": b.started_at,
            "last_seen": b.ts,
            "live": not b.closed and now - b.ts < timeout,
            "closed": b.closed,
            "dropped": b.dropped,
        }
        for b in newest
    ]
    up = store.uptime(project, model, since, until, timeout)
    predictions, errors, buckets = store.health_sums(project, model, since, until)
    counts = np.asarray(buckets, dtype=np.int64)
    low, high = store.latency_range(project, model, since, until)
    quantiles = [bucket_quantile(counts, q, low, high) for q in (0.5, 0.95, 0.99)]
    live = [i for i in instances if i["live"]]
    return {
        "model": model,
        "since": since,
        "until": until,
        "live_instances": len(live),
        "instances": instances,
        "uptime_percent": up.percent,
        "uptime_since": None if up.since is None else datetime.fromtimestamp(up.since, UTC),
        "predictions": predictions,
        "errors": errors,
        "error_rate": errors / predictions if predictions else None,
        "latency_ms": {
            name: None if np.isnan(q) else q
            for name, q in zip(("p50", "p95", "p99"), quantiles, strict=True)
        },
        "versions_loaded": sorted({i["version"] for i in live}),
        "dropped_events": sum(i["dropped"] for i in instances),
    }


@dataclass(frozen=True, slots=True)
class VersionHealth:
    """The serving health of one model version over a recent span (NaN: nothing served)."""

    model: str
    version: str
    live_instances: int
    predictions_per_second: float
    latency_p95_ms: float
    error_rate: float


def by_version(
    store: Store, project: str, *, now: datetime, span: timedelta, timeout: timedelta
) -> list[VersionHealth]:
    """The health of every version of a project over ``[now - span, now)``: instances with a
    heartbeat within ``timeout``, and the predictions, errors and latency of the profiles
    whose window starts in the span (two queries, no profile decoded)."""
    sums = store.health_by_version(project, now - span, now)
    live = store.live_instances(project, now - timeout)
    seconds = span.total_seconds()
    found = []
    for model, version in sorted(set(sums) | set(live)):
        predictions, errors, buckets, low, high = sums.get(
            (model, version), (0, 0, [], 0.0, math.inf)
        )
        counts = np.asarray(buckets, dtype=np.int64)
        found.append(
            VersionHealth(
                model,
                version,
                live.get((model, version), 0),
                predictions / seconds,
                bucket_quantile(counts, 0.95, low, high) if counts.size else math.nan,
                errors / predictions if predictions else math.nan,
            )
        )
    return found
