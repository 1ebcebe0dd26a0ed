"""Service health of a model: live instances, uptime, traffic, errors, latency.

Read from heartbeats (liveness, uptime) and from the summaries stored with each profile
(predictions, errors, the latency KLL sketch), so no profile payload is decoded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import reduce
from typing import Any

import numpy as np

from sightline.profile.sketch import KLL
from sightline.store import Heartbeat, Store


def uptime_percent(
    beats: list[Heartbeat], since: datetime, until: datetime, timeout: timedelta
) -> float:
    """Share of ``[since, until)`` covered by some instance's liveness (a heartbeat at ``t``
    covers ``[t, t + timeout)``), in percent.

    >>> t = datetime(2026, 1, 1)
    >>> b = Heartbeat("1", "i", "h", 1, t, t, 0)
    >>> uptime_percent([b], t, t + timedelta(minutes=4), timedelta(minutes=1))
    25.0
    """
    span = (until - since).total_seconds()
    if span <= 0:
        return 0.0
    covered, reach = 0.0, since
    for beat in sorted(beats, key=lambda b: b.ts):
        start, end = max(beat.ts, reach), min(beat.ts + timeout, until)
        if end > start:
            covered += (end - start).total_seconds()
            reach = end
    return 100.0 * covered / span


def _instances(beats: list[Heartbeat], now: datetime, timeout: timedelta) -> list[dict[str, Any]]:
    newest: dict[tuple[str, str], Heartbeat] = {}
    for beat in beats:
        newest[(beat.instance, beat.version)] = beat  # beats are oldest first
    return [
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
        for (_, _), b in sorted(newest.items())
    ]


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
    beats = store.heartbeats(project, model, min(since, now - timeout), max(until, now))
    instances = _instances(beats, now, timeout)
    in_range = [b for b in beats if since - timeout < b.ts < until]
    summaries = store.profile_summaries(project, model, since, until)
    predictions = sum(s[2] for s in summaries)
    errors = sum(s[3] for s in summaries)
    sketches = [KLL.from_bytes(s[4]) for s in summaries]
    latency = reduce(KLL.merge, sketches) if sketches else KLL()
    quantiles: list[float | None] = [None, None, None]
    if not latency.is_empty:
        quantiles = [float(q) for q in latency.quantiles(np.array([0.5, 0.95, 0.99]))]
    live = [i for i in instances if i["live"]]
    return {
        "model": model,
        "since": since,
        "until": until,
        "live_instances": len(live),
        "instances": instances,
        "uptime_percent": uptime_percent(in_range, since, until, timeout),
        "predictions": predictions,
        "errors": errors,
        "error_rate": errors / predictions if predictions else None,
        "latency_ms": dict(zip(("p50", "p95", "p99"), quantiles, strict=True)),
        "versions_loaded": sorted({i["version"] for i in live}),
        "dropped_events": sum(i["dropped"] for i in instances),
    }
