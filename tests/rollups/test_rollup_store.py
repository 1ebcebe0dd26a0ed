"""Rollups in the store, on both stores: the averaged aggregate against numpy, the tier
that reads take, and each tier's retention."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from sightline.analysis.rows import MetricRow
from sightline.store import Store, open_store
from sightline.store import dashboard as q
from sightline.store.rollups import RollupKey
from support.live import Collector
from support.metric_rows import put_rows

T0 = datetime(2026, 1, 1)
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


@pytest.fixture
def store(store_location: str) -> Iterator[Store]:
    s = open_store(store_location)
    yield s
    s.close()


def _minutes(store: Store, start: datetime, n: int, seed: int = 0, kind: str = "matrix") -> dict:
    """``n`` minute windows from ``start`` of one model-level metric and two columns'."""
    rng = np.random.default_rng(seed)
    values = rng.normal(0.5, 0.2, size=(n, 3))
    alerts = rng.random((n, 3)) < 0.02
    for i in range(n):
        rows = [
            MetricRow(
                column=c,
                metric="health_anomaly_score",
                value=float(values[i, j]),
                lower=float(values[i, j] - 0.1),
                upper=float(values[i, j] + 0.3),
                alert=bool(alerts[i, j]),
                n_ref=10 + i,
                n_cur=i + 1,
            )
            for j, c in enumerate(("", "a", "b"))
        ]
        put_rows(store, start + i * MINUTE, rows, kind=kind)
    return {"values": values, "alerts": alerts}


def _roll(store: Store, start: datetime, tier: int = 3600, kind: str = "matrix") -> int:
    key = RollupKey("churn", "1", tier, start, kind)
    return store.write_rollup(
        "default", key, f"rollup:{tier}:{kind}", "fp", exact=None, computed_at=key.end
    )


def test_averaged_rollup_matches_numpy(store: Store) -> None:
    made = _minutes(store, T0, 60)
    assert _roll(store, T0) == 3
    got = {
        r.row.column: r
        for r in store.rollup_rows("default", "churn", tier=3600, since=T0, until=T0 + HOUR)
    }
    values, alerts = made["values"], made["alerts"]
    for j, column in enumerate(("", "a", "b")):
        rolled = got[column]
        assert rolled.row.value == pytest.approx(values[:, j].mean(), abs=1e-12)
        assert rolled.row.lower == pytest.approx((values[:, j] - 0.1).mean(), abs=1e-12)
        assert rolled.row.upper == pytest.approx((values[:, j] + 0.3).mean(), abs=1e-12)
        assert rolled.row.alert == bool(alerts[:, j].any())
        assert rolled.row.n_cur == sum(range(1, 61))
        assert rolled.row.n_ref == 69
        assert rolled.value_min == pytest.approx(values[:, j].min(), abs=1e-12)
        assert rolled.value_max == pytest.approx(values[:, j].max(), abs=1e-12)
        assert rolled.n_windows == 60
        assert rolled.row.window_start == T0.replace(tzinfo=UTC)
        assert rolled.row.window_end == (T0 + HOUR).replace(tzinfo=UTC)


def test_rollup_rerun_is_identical(store: Store) -> None:
    _minutes(store, T0, 60)
    _roll(store, T0)
    first = store.rollup_rows("default", "churn", tier=3600, since=T0, until=T0 + HOUR)
    _roll(store, T0)
    again = store.rollup_rows("default", "churn", tier=3600, since=T0, until=T0 + HOUR)
    assert again == first and len(first) == 3
    assert store.jobs_done("default", "churn", "1")[(T0, "rollup:3600:matrix")] == "fp"


def test_bucketed_reads_take_the_hour_tier_and_match_the_base_answer(store: Store) -> None:
    hours = 6
    _minutes(store, T0, 60 * hours)
    since, until = T0, T0 + hours * HOUR
    base = {
        (r.column, r.window_start): r
        for r in store.metric_rows("default", "churn", since=since, until=until, max_points=hours)
    }
    grid0 = q.column_grid(
        store,
        "default",
        "churn",
        "1",
        metrics=["health_anomaly_score"],
        columns=["a", "b"],
        since=since,
        until=until,
        step=3600,
        kind="matrix",
    )
    series0 = q.model_series(
        store,
        "default",
        "churn",
        "1",
        metrics=["health_anomaly_score"],
        since=since,
        until=until,
        step=3600,
    )
    for h in range(hours - 1):  # the newest hour is not rolled yet: read from base rows
        _roll(store, T0 + h * HOUR)
    tiered = store.metric_rows("default", "churn", since=since, until=until, max_points=hours)
    assert len(tiered) == len(base) == 3 * hours
    for r in tiered:
        want = base[(r.column, r.window_start)]
        assert r.value == pytest.approx(want.value, abs=1e-12)
        assert r.lower == pytest.approx(want.lower, abs=1e-12)
        assert r.upper == pytest.approx(want.upper, abs=1e-12)
        assert (r.alert, r.n_cur, r.window_end) == (want.alert, want.n_cur, want.window_end)
    grid = q.column_grid(
        store,
        "default",
        "churn",
        "1",
        metrics=["health_anomaly_score"],
        columns=["a", "b"],
        since=since,
        until=until,
        step=3600,
        kind="matrix",
    )
    assert [(c.column, c.bucket_start, c.alert) for c in grid] == [
        (c.column, c.bucket_start, c.alert) for c in grid0
    ]
    for c, c0 in zip(grid, grid0, strict=True):
        assert c.value == pytest.approx(c0.value, abs=1e-12)
    series = q.model_series(
        store,
        "default",
        "churn",
        "1",
        metrics=["health_anomaly_score"],
        since=since,
        until=until,
        step=3600,
    )
    assert len(series) == len(series0) == hours
    for p, p0 in zip(series, series0, strict=True):
        assert (p.bucket_start, p.alert) == (p0.bucket_start, p0.alert)
        assert p.value == pytest.approx(p0.value, abs=1e-12)
    # Without the base rows of the rolled hours, the tiered read still answers them.
    store.enforce_tier_retention(timedelta(0), {}, T0 + hours * HOUR)
    left = store.metric_rows("default", "churn", since=since, until=until, max_points=hours)
    assert [(r.column, r.window_start) for r in left] == [
        (r.column, r.window_start) for r in tiered
    ]


def test_a_read_naming_its_kinds_takes_the_finer_tiers_past_the_coarse_frontier(
    store: Store,
) -> None:
    _minutes(store, T0, 180)  # 3 hours; tiers of 1 h and 10 min, rolled to 2:00 and 2:50
    since, until = T0, T0 + 3 * HOUR
    args = {"since": since, "until": until, "step": 3600}
    grid0 = q.column_grid(
        store, "default", "churn", "1", metrics=["health_anomaly_score"], columns=["a", "b"],
        kind="matrix", **args,
    )  # fmt: skip
    series0 = q.model_series(
        store, "default", "churn", "1", metrics=["health_anomaly_score"], kinds=["matrix"], **args
    )
    for h in range(2):
        _roll(store, T0 + h * HOUR)
    for m in range(0, 170, 10):
        _roll(store, T0 + m * MINUTE, tier=600)
    store.enforce_tier_retention(timedelta(0), {}, T0 + 2 * HOUR + 51 * MINUTE)
    assert store.count("metric_rows", "default") == 3 * 10  # the newest 10 minutes
    grid = q.column_grid(
        store, "default", "churn", "1", metrics=["health_anomaly_score"], columns=["a", "b"],
        kind="matrix", **args,
    )  # fmt: skip
    assert [(c.column, c.bucket_start, c.alert) for c in grid] == [
        (c.column, c.bucket_start, c.alert) for c in grid0
    ]
    assert [c.value for c in grid] == pytest.approx([c.value for c in grid0], abs=1e-12)
    series = q.model_series(
        store, "default", "churn", "1", metrics=["health_anomaly_score"], kinds=["matrix"], **args
    )
    assert [p.bucket_start for p in series] == [p.bucket_start for p in series0]
    assert [p.value for p in series] == pytest.approx([p.value for p in series0], abs=1e-12)
    assert len(series) == 3


def test_tiered_reads_keep_the_base_rows_of_kinds_never_rolled(store: Store) -> None:
    hours = 6
    _minutes(store, T0, 60 * hours)
    for h in range(hours):  # an SLO's budget row every 10 minutes, never rolled up
        for m in range(0, 60, 10):
            at = T0 + h * HOUR + m * MINUTE
            put_rows(store, at, [MetricRow(metric="budget_left", value=float(h))], kind="slo")
    for h in range(hours - 1):
        _roll(store, T0 + h * HOUR)
    store.enforce_tier_retention(timedelta(0), {}, T0 + hours * HOUR)
    since, until = T0, T0 + hours * HOUR
    series = q.model_series(
        store, "default", "churn", "1", metrics=["budget_left"], since=since, until=until, step=3600
    )
    assert [(p.bucket_start, p.value) for p in series] == [
        (T0 + h * HOUR, float(h)) for h in range(hours)
    ]
    assert {p.metric for p in series} == {"budget_left"}
    rows = store.metric_rows(
        "default", "churn", since=since, until=until, metric="budget_left", max_points=hours
    )  # every version: the other form of the condition
    assert [r.value for r in rows] == [float(h) for h in range(hours)]


def test_raw_reads_past_base_retention_return_the_finest_tier(store: Store) -> None:
    _minutes(store, T0, 180)
    for h in range(3):
        _roll(store, T0 + h * HOUR)
    _roll(store, T0, tier=86400)
    deleted = store.enforce_tier_retention(timedelta(hours=1), {}, T0 + 3 * HOUR + MINUTE)
    assert deleted["metric_rows"] == 3 * 120
    rows = store.metric_rows("default", "churn", since=T0, until=T0 + 3 * HOUR, column="a")
    sizes = [(r.window_end - r.window_start) for r in rows]  # type: ignore[operator]
    assert sizes == [HOUR, HOUR] + [MINUTE] * 60


def test_retention_deletes_each_tier_at_its_age(store: Store) -> None:
    _minutes(store, T0, 120)
    _roll(store, T0)
    _roll(store, T0 + HOUR)
    _roll(store, T0, tier=86400)
    tiers = {3600: timedelta(days=90), 86400: timedelta(days=400)}
    # Not before: base rows of unrolled kinds stay, each tier until its age.
    put_rows(store, T0, [MetricRow(metric="accuracy", value=0.9)], kind="performance")
    early = store.enforce_tier_retention(timedelta(days=7), tiers, T0 + 7 * DAY)
    assert early == {"metric_rows": 0, "metric_rollups:3600": 0, "metric_rollups:86400": 0}
    later = store.enforce_tier_retention(timedelta(days=7), tiers, T0 + HOUR + 7 * DAY + MINUTE)
    assert later["metric_rows"] == 3 * 60  # the first hour's minutes, not the second's
    at_90 = store.enforce_tier_retention(timedelta(days=7), tiers, T0 + HOUR + 90 * DAY + MINUTE)
    assert at_90 == {"metric_rows": 3 * 60, "metric_rollups:3600": 3, "metric_rollups:86400": 0}
    at_400 = store.enforce_tier_retention(timedelta(days=7), tiers, T0 + 401 * DAY + MINUTE)
    assert at_400["metric_rollups:3600"] == 3 and at_400["metric_rollups:86400"] == 3
    assert store.count("metric_rows", "default") == 1  # the never-rolled performance row


def test_min_and_max_through_the_api(collector: Collector) -> None:
    collector.store.register_version("default", "churn", "1", {"columns": []})
    made = _minutes(collector.store, T0, 60)
    _roll(collector.store, T0)
    got = collector.client().get(
        "/api/v1/models/churn/rollups",
        params={"tier": 3600, "since": T0.isoformat(), "until": (T0 + HOUR).isoformat()},
    )
    assert got.status_code == 200, got.text
    body = got.json()
    columns = [r["column"] for r in body["rows"]]
    assert columns == sorted(columns) and len(columns) == 3
    for j, column in enumerate(("", "a", "b")):
        i = columns.index(column)
        assert body["value_min"][i] == pytest.approx(made["values"][:, j].min(), abs=1e-12)
        assert body["value_max"][i] == pytest.approx(made["values"][:, j].max(), abs=1e-12)
        assert body["n_windows"][i] == 60
