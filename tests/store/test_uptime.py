"""``Store.uptime``: liveness coverage summed in SQL, against a second-by-second count."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sightline.store import Store, open_store

T0 = datetime(2026, 1, 1)
EPOCH0 = (T0 - datetime(1970, 1, 1)).total_seconds()


@pytest.fixture
def store(store_location: str) -> Iterator[Store]:
    s = open_store(store_location)
    yield s
    s.close()


def put(store: Store, beats: list[tuple[int, str, bool]]) -> None:
    """Replace the heartbeats by ``beats`` (seconds after T0, instance, goodbye)."""
    with store._write() as tx:
        tx.execute("DELETE FROM heartbeats")
    if not beats:
        return
    n = len(beats)
    table = pa.table(
        {
            "project": ["p"] * n,
            "model": ["m"] * n,
            "version": ["1"] * n,
            "instance": [i for _, i, _ in beats],
            "host": ["h"] * n,
            "pid": [1] * n,
            "started_at": [T0] * n,
            "ts": [T0 + timedelta(seconds=t) for t, _, _ in beats],
            "dropped": [0] * n,
            "closed": [c for _, _, c in beats],
        }
    )
    store.insert_rows("heartbeats", table)


def counted(beats: list[tuple[int, str, bool]], since: int, until: int, timeout: int) -> float:
    """The percent of seconds of ``[max(since, first beat), until)`` in which some instance
    is live: it beat within ``timeout`` and has not said goodbye since."""
    seen = sorted(b for b in beats if since - timeout <= b[0] < until)
    if not seen:
        return 0.0
    begin = max(since, seen[0][0])
    if until <= begin:
        return 0.0

    def live(x: int, instance: str) -> bool:
        mine = [(t, c) for t, i, c in seen if i == instance and t <= x]
        if not mine:
            return False
        t, closed = max(mine)  # the newest beat at or before x; a goodbye wins a tie
        return not closed and x < t + timeout

    instances = {i for _, i, _ in seen}
    up = sum(any(live(x, i) for i in instances) for x in range(begin, until))
    return 100.0 * up / (until - begin)


beat = st.tuples(st.integers(0, 200), st.sampled_from("ab"), st.booleans())


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    beats=st.lists(beat, max_size=12),
    since=st.integers(0, 150),
    length=st.integers(1, 150),
    timeout=st.integers(1, 60),
)
def test_uptime_is_the_share_of_seconds_with_a_live_instance(
    store: Store, beats: list[tuple[int, str, bool]], since: int, length: int, timeout: int
) -> None:
    put(store, beats)
    got = store.uptime(
        "p",
        "m",
        T0 + timedelta(seconds=since),
        T0 + timedelta(seconds=since + length),
        timedelta(seconds=timeout),
    )
    assert got.percent == pytest.approx(counted(beats, since, since + length, timeout))
    first = min((t for t, _, _ in beats if since - timeout <= t < since + length), default=None)
    expected = None if first is None else EPOCH0 + max(since, first)
    assert got.since == expected


def test_uptime_ends_at_a_goodbye(store: Store) -> None:
    # Instance a beats at 0 and 30 and closes at 40; b beats at 100: of [0, 200), a covers
    # [0, 40) and b [100, 160) with a 60-second timeout: 100 seconds, 50 %.
    put(store, [(0, "a", False), (30, "a", False), (40, "a", True), (100, "b", False)])
    got = store.uptime("p", "m", T0, T0 + timedelta(seconds=200), timedelta(seconds=60))
    assert (got.percent, got.since) == (50.0, EPOCH0)
    # Overlapping instances count once; none at all is 0 with no start.
    put(store, [(10, "a", False), (20, "b", False)])
    both = store.uptime("p", "m", T0, T0 + timedelta(seconds=110), timedelta(seconds=60))
    assert both.percent == pytest.approx(100 * 70 / 100)
    put(store, [])
    assert store.uptime("p", "m", T0, T0 + timedelta(seconds=10), timedelta(60)).since is None
