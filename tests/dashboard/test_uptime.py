"""The overview's uptime from kept hours equals the uptime of every heartbeat, on both
stores: gaps, goodbyes, two instances, partial hours at both ends, hours kept once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from sightline.server.health import uptime
from sightline.server.pages.uptime import model_uptimes, whole_hours
from sightline.store import Store, open_store

NOW = datetime(2026, 3, 10, 12, 17, 30)
TIMEOUT = timedelta(seconds=90)
HOUR = timedelta(hours=1)


@pytest.fixture
def store(store_location: str) -> Iterator[Store]:
    s = open_store(store_location)
    yield s
    s.close()


def _beats(store: Store, days: int, seed: int) -> None:
    """Two instances beating every 30 s (jittered) for ``days`` up to NOW, each with a few
    outages and goodbyes (a goodbye, then silence until it starts again), both down from
    20 h to 17 h before NOW."""
    rng = np.random.default_rng(seed)
    ts, instance, closed = [], [], []
    for name in ("a", "b"):
        t = (NOW - timedelta(days=days)).replace(tzinfo=UTC).timestamp()
        end = NOW.replace(tzinfo=UTC).timestamp()
        down = [(NOW - timedelta(hours=h)).replace(tzinfo=UTC).timestamp() for h in (20, 17)]
        while t < end:
            if down[0] <= t < down[1]:
                t += 30.0
                continue
            ts.append(t)
            instance.append(name)
            bye = rng.random() < 0.002
            closed.append(bye)
            gap = rng.uniform(600, 7200) if bye or rng.random() < 0.002 else rng.uniform(25, 35)
            t += gap
    n = len(ts)
    stamps = pa.array(np.round(np.array(ts) * 1e6).astype(np.int64)).cast(pa.timestamp("us"))
    store.insert_rows(
        "heartbeats",
        pa.table(
            {
                "project": ["default"] * n,
                "model": ["m"] * n,
                "version": ["1"] * n,
                "instance": instance,
                "host": instance,
                "pid": pa.array([1] * n, pa.int64()),
                "started_at": stamps,
                "ts": stamps,
                "dropped": pa.array([0] * n, pa.int64()),
                "closed": closed,
            }
        ),
    )


def _everything(store: Store, since: datetime, until: datetime) -> tuple[float, float | None]:
    beats = store.heartbeat_times("default", "m", since - TIMEOUT, until)
    at = [t.replace(tzinfo=UTC).timestamp() for t in (since, until)]
    up = uptime(beats, at[0], at[1], TIMEOUT.total_seconds())
    return up.percent, up.since


def test_whole_hours_leave_out_the_partial_and_the_recent_ones() -> None:
    first, last = whole_hours(NOW - timedelta(days=1), NOW, NOW)
    assert first == datetime(2026, 3, 9, 13) and last == datetime(2026, 3, 10, 11)
    assert whole_hours(NOW - timedelta(minutes=50), NOW, NOW)[0] == datetime(2026, 3, 10, 12)
    assert whole_hours(datetime(2026, 3, 10, 9), NOW, NOW)[0] == datetime(2026, 3, 10, 9)


@pytest.mark.parametrize("days", [1, 30])
def test_uptime_from_kept_hours_is_that_of_every_heartbeat(store: Store, days: int) -> None:
    _beats(store, 31, seed=days)
    since = NOW - timedelta(days=days)
    want = _everything(store, since, NOW)
    assert 50.0 < want[0] < 99.9  # outages to find
    args = {"until": NOW, "now": NOW, "timeout": TIMEOUT}
    (got,) = model_uptimes(store, "default", "m", sinces=[since], **args)
    assert got.percent == pytest.approx(want[0], abs=1e-9)
    assert got.since == want[1]
    kept = store._read("SELECT count(*) FROM uptime_hours")[0][0]
    first, last = whole_hours(since, NOW, NOW)  # the first partial hour and the newest: not
    hours = [first + i * HOUR for i in range((last - first) // HOUR)]
    lit = [h for h in hours if store.heartbeat_times("default", "m", h - TIMEOUT, h + HOUR)]
    assert kept == len(lit) <= len(hours) - 2  # nor the hours without heartbeats
    shifted = since + timedelta(minutes=5)  # another range beside: the kept hours reused
    again, moved = model_uptimes(store, "default", "m", sinces=[since, shifted], **args)
    assert again.percent == pytest.approx(want[0], abs=1e-9)
    assert moved.percent == pytest.approx(_everything(store, shifted, NOW)[0], abs=1e-9)
    assert store._read("SELECT count(*) FROM uptime_hours")[0][0] == kept


def test_a_range_shorter_than_the_settled_hours_reads_its_heartbeats(store: Store) -> None:
    _beats(store, 1, seed=3)
    since = NOW - timedelta(minutes=70)
    (got,) = model_uptimes(
        store, "default", "m", sinces=[since], until=NOW, now=NOW, timeout=TIMEOUT
    )
    assert got.percent == pytest.approx(_everything(store, since, NOW)[0], abs=1e-9)
    assert store._read("SELECT count(*) FROM uptime_hours")[0][0] == 0


def test_uptime_counts_from_the_first_heartbeat_and_is_zero_without_any(store: Store) -> None:
    args = {"sinces": [NOW - timedelta(days=30)], "until": NOW, "now": NOW, "timeout": TIMEOUT}
    assert model_uptimes(store, "default", "m", **args)[0].since is None
    _beats(store, 3, seed=5)
    (got,) = model_uptimes(store, "default", "m", **args)
    want = _everything(store, NOW - timedelta(days=30), NOW)
    assert got.since == want[1] and got.since is not None
    assert got.since > (NOW - timedelta(days=3, seconds=1)).replace(tzinfo=UTC).timestamp()
    assert got.percent == pytest.approx(want[0], abs=1e-9)
