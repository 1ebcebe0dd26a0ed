"""Service health of a model: live instances, uptime, traffic, errors, latency.

Everything is summed in SQL or computed on arrays: the profiles' predictions, errors and
Prometheus latency buckets (percentiles interpolated in the buckets, as Prometheus'
``histogram_quantile`` does, inside the smallest and largest latency observed), the newest
heartbeat of each instance, and the heartbeat times for uptime. No profile or sketch is
decoded: each profile's row carries its bucket counts and latency range.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from sightline.scheduler.jobs import bucket_quantile
from sightline.store import Beat, Store


@dataclass(frozen=True, slots=True)
class Uptime:
    """Uptime over a range: ``percent`` (0-100) of ``[since, until)`` covered by liveness,
    counted from ``since`` (epoch seconds: the range's start, or the first heartbeat in
    the range when that is later; None without heartbeats)."""

    percent: float
    since: float | None


def uptime(beats: Sequence[Beat], since: float, until: float, timeout: float) -> Uptime:
    """Share of ``[max(since, first beat), until)`` covered by liveness: a heartbeat at
    ``t`` covers ``[t, t + timeout)``, cut short by a later goodbye of the same instance;
    a goodbye covers nothing. Coverage of all instances is merged (their union).

    >>> up = uptime([Beat(100.0, "a", False), Beat(130.0, "a", False)], 0.0, 340.0, 60.0)
    >>> up.percent, up.since
    (37.5, 100.0)
    >>> uptime([Beat(10.0, "a", False), Beat(20.0, "a", True)], 0.0, 30.0, 60.0).percent
    50.0
    """
    if not beats:
        return Uptime(0.0, None)
    begin = max(since, beats[0].ts)
    span = until - begin
    if span <= 0:
        return Uptime(0.0, begin)
    t = np.array([b.ts for b in beats], dtype=np.float64)
    ends = np.where([b.closed for b in beats], t, t + timeout)
    goodbye: dict[str, float] = {}
    for i in range(len(beats) - 1, -1, -1):  # newest first: each beat's next goodbye
        if beats[i].closed:
            goodbye[beats[i].instance] = beats[i].ts
        elif beats[i].instance in goodbye:
            ends[i] = min(ends[i], goodbye[beats[i].instance])
    starts, ends = np.clip(t, begin, until), np.clip(ends, begin, until)
    # The union of the intervals, sorted by start: each adds what lies past all earlier ends.
    reach = np.maximum.accumulate(np.append(begin, ends[:-1]))
    covered = np.clip(ends - np.maximum(starts, reach), 0.0, None).sum()
    return Uptime(float(100.0 * covered / span), begin)


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
    instances = instances_of(store, project, model, since=since, now=now, timeout=timeout)
    beats = store.heartbeat_times(project, model, since - timeout, until)
    up = uptime(beats, _epoch(since), _epoch(until), timeout.total_seconds())
    predictions, errors, buckets, low, high = store.health_sums(project, model, since, until)
    counts = np.asarray(buckets, dtype=np.int64)
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


def instances_of(
    store: Store, project: str, model: str, *, since: datetime, now: datetime, timeout: timedelta
) -> list[dict[str, Any]]:
    """The instances of ``model`` seen since ``since`` (or within ``timeout``), each from
    its newest heartbeat: live while it sent one within ``timeout`` and no goodbye."""
    return [
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
        for b in store.newest_heartbeats(project, model, min(since, now - timeout))
    ]


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


def _epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=UTC).timestamp()
