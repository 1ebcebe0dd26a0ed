"""Series queries with ``max_points`` on both stores: never more points than asked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from sightline.analysis.rows import MetricRow
from sightline.store import Store, open_store
from support.metric_rows import put_rows

T0 = datetime(2026, 1, 1)


@pytest.fixture
def store(store_location: str) -> Iterator[Store]:
    s = open_store(store_location)
    yield s
    s.close()


@pytest.mark.parametrize("offset", [0, 5, 10, 25])
def test_max_points_buckets_start_at_since(store: Store, offset: int) -> None:
    size = timedelta(seconds=10)
    since = T0 + timedelta(seconds=offset)
    for w in range(9):
        row = MetricRow(column="age", metric="jensen_shannon", value=float(w))
        put_rows(store, since + w * size, [row], size=size)
    until = since + 9 * size
    for asked in (1, 2, 3, 4, 9):
        got = store.metric_rows("default", "churn", since=since, until=until, max_points=asked)
        assert 1 <= len(got) <= asked, (asked, [r.window_start for r in got])
    # 90 s in 3 points: 30-second buckets counted from ``since``, 3 windows each.
    three = store.metric_rows("default", "churn", since=since, until=until, max_points=3)
    assert [r.value for r in three] == [1.0, 4.0, 7.0]
    assert three[0].window_start == since.replace(tzinfo=UTC)
