"""A model's uptime over a range from the hours whose liveness is kept (``uptime_hours``)
and the heartbeats of the range's edges only: 30 days read at most 720 kept hours, not
every heartbeat (172,800 of two instances beating every 30 s).

Liveness adds up over disjoint spans: the seconds of ``[since, until)`` covered by
liveness are the sum of each span's, each computed by
:func:`sightline.server.health.uptime` from the span's heartbeats and those of
``timeout`` before it. An hour with heartbeats is kept once it ended :data:`SETTLED` ago
(its heartbeats have all arrived); the range's first partial hour, its recent hours and
the hours without any heartbeat (an outage, or before the first) are read from the
heartbeats each time (an empty read).

>>> from datetime import datetime
>>> whole_hours(datetime(2026, 1, 1, 0, 30), datetime(2026, 1, 2), datetime(2026, 1, 1, 5, 20))
(datetime.datetime(2026, 1, 1, 1, 0), datetime.datetime(2026, 1, 1, 4, 0))
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from sightline.server.health import Uptime, uptime
from sightline.store import Beat, Store
from sightline.store import dashboard as q

HOUR = timedelta(hours=1)
#: How long after its end an hour's liveness is kept (a heartbeat is sent live).
SETTLED = timedelta(hours=1)


def whole_hours(since: datetime, until: datetime, now: datetime) -> tuple[datetime, datetime]:
    """``[first, last)``: the whole hours inside ``[since, until)`` that ended
    :data:`SETTLED` before ``now`` (none when ``first == last``)."""
    first = _floor(since) + (HOUR if _floor(since) < since else timedelta(0))
    return first, max(first, min(_floor(until), _floor(now - SETTLED)))


def model_uptimes(
    store: Store,
    project: str,
    model: str,
    *,
    sinces: Sequence[datetime],
    until: datetime,
    now: datetime,
    timeout: timedelta,
) -> list[Uptime]:
    """The uptime of ``model`` over ``[since, until)`` for each of ``sinces`` (naive UTC):
    what :func:`~sightline.server.health.uptime` answers from all its heartbeats, with
    the settled hours' liveness computed once and kept: two reads, the kept hours and
    the heartbeats of the hours not yet kept and of the ranges' edges (once each)."""
    seconds = timeout.total_seconds()
    ranges = [whole_hours(since, until, now) for since in sinces]
    hours = sorted({h for first, last in ranges for h in _hours(first, last)})
    kept: dict[datetime, q.CoveredHour] = {}
    if hours:
        found = q.covered_hours(store, project, model, seconds, hours[0], hours[-1] + HOUR)
        kept = {h.hour_start: h for h in found}
    edges = {
        edge
        for since, (first, last) in zip(sinces, ranges, strict=True)
        for edge in ([(since, until)] if first == last else _edges(since, first, last, until))
    }
    missing = {(h, h + HOUR) for h in hours if h not in kept}
    spans = _spans(store, project, model, sorted(edges | missing), seconds)
    made = [spans[h] for h in sorted(missing)]
    lit = [h for h in made if h.counted_from is not None]
    q.keep_covered_hours(store, project, model, seconds, lit)
    kept.update((h.hour_start, h) for h in made)
    answers = []
    for since, (first, last) in zip(sinces, ranges, strict=True):
        if first == last:
            answers.append(_total([spans[(since, until)]], until))
            continue
        parts = [kept[h] for h in _hours(first, last)]
        if since < first:
            parts.insert(0, spans[(since, first)])
        if last < until:
            parts.append(spans[(last, until)])
        answers.append(_total(parts, until))
    return answers


def _edges(
    since: datetime, first: datetime, last: datetime, until: datetime
) -> list[tuple[datetime, datetime]]:
    """The spans of ``[since, until)`` outside its kept hours ``[first, last)``."""
    return [edge for edge in ((since, first), (last, until)) if edge[0] < edge[1]]


def _total(parts: Sequence[q.CoveredHour], until: datetime) -> Uptime:
    """The uptime of consecutive spans: their covered seconds over the time from the
    first one's count start."""
    begin = next((p.counted_from for p in parts if p.counted_from is not None), None)
    if begin is None:
        return Uptime(0.0, None)
    span = _epoch(until) - begin
    covered = sum(p.covered_seconds for p in parts)
    return Uptime(100.0 * covered / span if span > 0 else 0.0, begin)


def _cover(beats: Sequence[Beat], start: datetime, end: datetime, seconds: float) -> q.CoveredHour:
    up = uptime(beats, _epoch(start), _epoch(end), seconds)
    if up.since is None:
        return q.CoveredHour(start, 0.0, None)
    return q.CoveredHour(start, up.percent / 100.0 * (_epoch(end) - up.since), up.since)


def _spans(
    store: Store,
    project: str,
    model: str,
    spans: Sequence[tuple[datetime, datetime]],
    seconds: float,
) -> dict[tuple[datetime, datetime], q.CoveredHour]:
    """The liveness of each of ``spans``, from one read of their heartbeats (and those of
    ``seconds`` before each)."""
    lead = timedelta(seconds=seconds)
    beats = store.heartbeats_in(project, model, [(start - lead, end) for start, end in spans])
    times = np.array([b.ts for b in beats], dtype=np.float64)
    found = {}
    for start, end in spans:
        lo, hi = np.searchsorted(times, [_epoch(start - lead), _epoch(end)])
        found[(start, end)] = _cover(beats[lo:hi], start, end, seconds)
    return found


def _hours(first: datetime, last: datetime) -> list[datetime]:
    return [first + i * HOUR for i in range((last - first) // HOUR)]


def _floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=UTC).timestamp()
