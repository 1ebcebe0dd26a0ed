"""Series queries with ``max_points`` on both stores: never more points than asked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from sightline.analysis.rows import MetricRow
from sightline.store import Store, open_store
from sightline.store import dashboard as q
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


def test_newest_model_rows_of_the_asked_versions(store: Store) -> None:
    for w in range(4):  # versions 1 and 2 of churn, version 1 of fraud, one row a minute
        start = T0 + timedelta(minutes=w)
        for model, version in (("churn", "1"), ("churn", "2"), ("fraud", "1")):
            rows = [MetricRow(metric="accuracy", value=float(w)), MetricRow(metric="f1", value=0.5)]
            rows += [MetricRow(column="age", metric="accuracy", value=9.0)]
            put_rows(store, start, rows[: 3 if w < 3 else 1], model=model, version=version)
    asked = [("fraud", "1"), ("churn", "2")]
    got = q.newest_model_rows(store, "default", asked, ["f1", "accuracy", "rmse"], T0)
    assert [(r.model, r.version, r.metric, r.window_start.minute) for r in got] == [
        ("churn", "2", "accuracy", 3),
        ("churn", "2", "f1", 2),
        ("fraud", "1", "accuracy", 3),
        ("fraud", "1", "f1", 2),
    ]
    assert got[0].value == 3.0 and got[0].column == ""
    bounded = q.newest_model_rows(
        store,
        "default",
        [("churn", "1")],
        ["accuracy"],
        T0 + timedelta(minutes=1),
        T0 + timedelta(minutes=3),
    )
    assert [(r.window_start.minute, r.value) for r in bounded] == [(2, 2.0)]
    assert q.newest_model_rows(store, "default", [], ["accuracy"], T0) == []
