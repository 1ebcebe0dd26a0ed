"""Service health of a model: live instances, uptime, traffic, errors, latency.

Everything is summed in SQL or computed on arrays: the profiles' predictions, errors and
Prometheus latency buckets (percentiles interpolated in the buckets, as Prometheus'
``histogram_quantile`` does), the newest heartbeat of each instance, and the heartbeat
times for uptime. No profile or sketch is decoded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from sightline.scheduler.jobs import bucket_quantile
from sightline.store import Store


def uptime_percent(times: list[float], since: float, until: float, timeout: float) -> float:
    """Share of ``[since, until)`` (epoch seconds) covered by liveness: a heartbeat at
    ``t`` covers ``[t, t + timeout)``; in percent.

    >>> uptime_percent([0.0, 30.0], 0.0, 240.0, 60.0)
    37.5
    """
    span = until - since
    if span <= 0 or not times:
        return 0.0
    t = np.clip(np.asarray(times, dtype=np.float64), since - timeout, until)
    ends = np.minimum(t + timeout, until)
    starts = np.maximum(t, since)
    # Each beat covers up to the next beat (or its own end): the union, without overlaps.
    nxt = np.append(np.maximum(t[1:], since), np.inf)
    covered = np.clip(np.minimum(ends, nxt) - starts, 0.0, None)
    return float(100.0 * covered.sum() / span)


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
            "live": now - b.ts < timeout,
            "dropped": b.dropped,
        }
        for b in newest
    ]
    times = store.heartbeat_times(project, model, since - timeout, until)
    predictions, errors, buckets = store.health_sums(project, model, since, until)
    counts = np.asarray(buckets, dtype=np.int64)
    quantiles = [bucket_quantile(counts, q) for q in (0.5, 0.95, 0.99)]
    live = [i for i in instances if i["live"]]
    return {
        "model": model,
        "since": since,
        "until": until,
        "live_instances": len(live),
        "instances": instances,
        "uptime_percent": uptime_percent(
            times, _epoch(since), _epoch(until), timeout.total_seconds()
        ),
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


def _epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=UTC).timestamp()
