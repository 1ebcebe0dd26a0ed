"""The dashboard's JSON endpoints, sessions and headers over both stores, on loopback.

No browser here: these run wherever the collector's tests run.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pytest

from conftest import running_collector
from sightline.analysis.columns import SchemaOptions
from sightline.analysis.profiling import profile_data
from sightline.analysis.rows import MetricRow
from sightline.profile import Profile, Schema
from sightline.server.bodies import PROFILE
from sightline.server.pages.middleware import CONTENT_SECURITY_POLICY, PAGE_HEADER
from sightline.server.pages.session import COOKIE
from sightline.server.state import Settings
from sightline.store import utcnow
from support.churn import BASE, SCHEMA
from support.live import Collector
from support.metric_rows import put_rows

MINUTE = timedelta(minutes=1)


def _table(n: int, seed: int, shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "age": rng.normal(40 + shift, 10, n),
            "city": rng.choice(["a", "b", "c"], n),
            "score": rng.uniform(0, 1, n),
        }
    )


def _profile(table: pa.Table, reference: Profile | None = None, **fields: object) -> Profile:
    options = SchemaOptions(schema=Schema.from_dict(SCHEMA))
    return profile_data(  # type: ignore[arg-type]
        table, reference=reference, columns=options, model="churn", version="1", **fields
    )


def _register(c: httpx.Client, reference: Profile) -> None:
    assert c.put(BASE, json=SCHEMA).status_code == 200
    put = c.put(
        f"{BASE}/reference",
        content=reference.to_bytes(),
        headers={"content-type": PROFILE},
    )
    assert put.status_code == 200, put.text
    settings = c.put("/api/v1/models/churn/settings", json={"window": "1m", "lateness": "1s"})
    assert settings.status_code == 200, settings.text


def _login(collector: Collector, key: str) -> httpx.Client:
    """A client that logged in through the form and carries only the session cookie."""
    c = httpx.Client(base_url=collector.url, timeout=30)
    collector.clients.append(c)
    r = c.post("/login", data={"key": key, "next": "/alerts"})
    assert r.status_code == 303 and r.headers["location"] == "/alerts", r.text
    return c


def test_the_session_cookie_stands_for_its_key_until_revoked(collector: Collector) -> None:
    read = collector.store.create_key("default", "read")
    refused = httpx.post(f"{collector.url}/login", data={"key": "sl_nope_nope"})
    assert refused.status_code == 401 and "Unknown or revoked key." in refused.text
    c = _login(collector, read)
    cookie = c.cookies.jar
    (session,) = list(cookie)
    assert session.name == COOKIE and read not in (session.value or "")
    header = httpx.post(f"{collector.url}/login", data={"key": read}).headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=strict" in header and "Path=/" in header
    assert c.get("/").status_code == 200
    assert c.get("/api/v1/overview").status_code == 200
    # A change through the cookie needs the page header (a cross-site form cannot send it).
    assert c.post("/api/v1/silences", json={"matchers": {"model": "x"}}).status_code == 401
    sent = c.post("/api/v1/silences", json={"matchers": {"model": "x"}}, headers={PAGE_HEADER: "1"})
    assert sent.status_code == 403  # through, as the read key it is
    key_id = read.split("_")[1]
    assert collector.client().delete(f"/api/v1/keys/{key_id}").status_code == 204
    assert c.get("/api/v1/overview").status_code == 401
    gone = c.get("/models/churn/versions/1", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login?next=")


def test_logout_ends_the_session_and_next_stays_on_the_collector(collector: Collector) -> None:
    read = collector.store.create_key("default", "read")
    c = httpx.Client(base_url=collector.url, timeout=30)
    collector.clients.append(c)
    r = c.post("/login", data={"key": read, "next": "//evil.example/"})
    assert r.headers["location"] == "/"
    sid = c.cookies[COOKIE]
    assert c.get("/logout").headers["location"] == "/login"
    stale = httpx.get(f"{collector.url}/api/v1/overview", cookies={COOKIE: sid})
    assert stale.status_code == 401


def test_every_answer_carries_the_security_headers(collector: Collector) -> None:
    for path in ("/login", "/api/v1/models", "/static/app.css", "/static/plotly.min.js", "/x"):
        r = collector.client().get(path)
        assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert r.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    bundle = collector.client().get("/static/plotly.min.js")
    assert bundle.status_code == 200 and b"plotly" in bundle.content[:2000].lower()


@pytest.fixture
def seeded(collector: Collector) -> Collector:
    """churn 1 with a reference, two windows of profiles and drift, quality, health and
    performance rows written as the scheduler writes them."""
    c = collector.client()
    reference = _profile(_table(2000, 1))
    _register(c, reference)
    start = utcnow().replace(second=0, microsecond=0) - 3 * MINUTE
    for i, shift in enumerate((0.0, 30.0)):
        at = start + i * MINUTE
        profile = _profile(
            _table(500, 2 + i, shift),
            reference,
            window_start=at.replace(tzinfo=UTC),
            window_end=(at + MINUTE).replace(tzinfo=UTC),
        )
        profile.record_latency(np.full(500, 10.0 + 70 * i))
        r = c.post(
            f"{BASE}/profiles",
            content=profile.to_bytes(),
            headers={
                "Idempotency-Key": f"p{i}",
                "content-type": PROFILE,
            },
        )
        assert r.status_code == 200, r.text
        drifted = shift > 0
        put_rows(
            collector.store,
            at,
            [
                MetricRow(
                    column="age",
                    metric="jensen_shannon",
                    value=0.4 if drifted else 0.01,
                    upper=0.05,
                    alert=drifted,
                ),
                MetricRow(
                    column="city", metric="jensen_shannon", value=0.02, upper=0.1, alert=False
                ),
                MetricRow(
                    column="score", metric="jensen_shannon", value=0.01, upper=0.05, alert=False
                ),
                MetricRow(metric="drift_share", value=1 / 3 if drifted else 0.0, upper=0.5),
            ],
        )
        put_rows(
            collector.store,
            at,
            [
                MetricRow(column="age", metric="missing_share", value=0.0, upper=0.05),
                MetricRow(
                    column="city",
                    metric="unseen_share",
                    value=0.2 if drifted else 0.0,
                    upper=0.01,
                    alert=drifted,
                ),
            ],
            kind="quality",
        )
        put_rows(
            collector.store,
            at,
            [
                MetricRow(metric="throughput", value=8.0 + i, n_cur=500),
                MetricRow(metric="latency_p95_ms", value=20.0 + 60 * i),
            ],
            kind="health",
        )
        put_rows(
            collector.store,
            at,
            [
                MetricRow(
                    metric="accuracy", value=0.9 - 0.3 * i, lower=0.85, upper=0.95, alert=drifted
                ),
                MetricRow(
                    metric="estimated_accuracy",
                    value=0.88 - 0.2 * i,
                    lower=0.84,
                    upper=0.92,
                    alert=drifted,
                ),
            ],
            kind="performance",
        )
    return collector


def test_the_overview_answers_one_row_per_version(seeded: Collector) -> None:
    reader = seeded.client(seeded.store.create_key("default", "read"))
    (row,) = reader.get("/api/v1/overview").json()["versions"]
    assert (row["model"], row["version"]) == ("churn", "1")
    assert row["drifted_columns"] == ["age"]
    assert row["performance_metric"] == "accuracy"
    assert row["realized"]["value"] == pytest.approx(0.6) and row["realized"]["alert"] is True
    assert row["estimated"]["value"] == pytest.approx(0.68)
    assert row["predictions"] == 1000 and row["firing_alerts"] == 0
    # Half the latencies are 10 ms, half 80 ms: p50 in the bucket up to 10, p99 in (50, 100].
    assert row["error_rate"] == 0.0 and row["latency_ms"]["p50"] <= 10
    assert 50 < row["latency_ms"]["p99"] <= 100
    assert row["live_instances"] == 0 and row["versions_loaded"] == []
    assert httpx.get(f"{seeded.url}/api/v1/overview").status_code == 401


def test_series_heatmap_and_quality_of_the_model_page(seeded: Collector) -> None:
    c = seeded.client()
    assert c.get(f"{BASE}/series").json()["step_seconds"] == 300  # 24 h: 5-minute buckets
    hour = {"since": (utcnow() - timedelta(hours=1)).isoformat()}
    answer = c.get(f"{BASE}/series", params=hour).json()
    assert answer["performance_metric"] == "accuracy" and answer["step_seconds"] == 60
    series = answer["series"]
    assert series["throughput"]["value"] == [8.0, 9.0]
    assert series["latency_p95_ms"]["value"] == [20.0, 80.0]
    assert series["accuracy"]["lower"] == [0.85, 0.85]
    assert series["estimated_accuracy"]["value"] == pytest.approx([0.88, 0.68])
    heat = c.get(f"{BASE}/heatmap", params=hour).json()
    assert heat["columns"] == ["age", "city", "score"] and heat["metrics"] == ["jensen_shannon"]
    assert heat["step_seconds"] == 60
    cells = heat["cells"]
    alerted = {
        (heat["columns"][i], a) for i, a in zip(cells["column"], cells["alert"], strict=True)
    }
    assert alerted == {("age", False), ("age", True), ("city", False), ("score", False)}
    assert len(heat["times"]) == 2 and set(cells["time"]) == {0, 1}
    month = c.get(
        f"{BASE}/series", params={"since": (utcnow() - timedelta(days=30)).isoformat()}
    ).json()
    assert month["step_seconds"] == 10800  # 30 days in at most 400 round buckets: 3 h
    assert month["series"]["throughput"]["value"] == [8.5]  # both windows in one bucket
    quality = c.get(f"{BASE}/quality").json()
    assert {(r["column"], r["metric"], r["alert"]) for r in quality["rows"]} == {
        ("age", "missing_share", False),
        ("city", "unseen_share", True),
    }
    unknown = c.get("/api/v1/models/churn/versions/9/series")
    assert unknown.status_code == 404 and unknown.json()["field"] == "version"


def test_the_statistic_is_the_columns_drift_rows_without_its_quality(seeded: Collector) -> None:
    c = seeded.client()
    hour = {"column": "age", "since": (utcnow() - timedelta(hours=1)).isoformat()}
    got = c.get(f"{BASE}/statistic", params=hour).json()
    assert got["step_seconds"] == 60 and list(got["series"]) == ["jensen_shannon"]
    js = got["series"]["jensen_shannon"]
    assert js["value"] == [0.01, 0.4] and js["upper"] == [0.05, 0.05]
    assert js["alert"] == [False, True]
    day = c.get(f"{BASE}/statistic", params={"column": "age"}).json()
    assert day["step_seconds"] == 300 and day["series"]["jensen_shannon"]["alert"][-1] is True
    none = c.get(f"{BASE}/statistic", params={"column": "nobody"}).json()
    assert none["series"] == {}


def test_the_generation_rows_are_those_of_the_newest_generation_window(seeded: Collector) -> None:
    c = seeded.client()
    month = {"since": (utcnow() - timedelta(days=30)).isoformat()}
    assert c.get(f"{BASE}/generation", params=month).json() == {"window_start": None, "rows": {}}
    at = utcnow().replace(second=0, microsecond=0) - 10 * MINUTE
    for i in range(3):  # three windows of a generative service, the newest with an error
        rows = [MetricRow(metric="generations", value=100.0 + i)]
        rows += [MetricRow(metric="error_rate", value=0.05 * (i == 2), upper=0.01, alert=i == 2)]
        put_rows(seeded.store, at + i * MINUTE, rows, kind="health")
    for params in ({}, month):
        got = c.get(f"{BASE}/generation", params=params).json()
        assert got["window_start"] == (at + 2 * MINUTE).isoformat() + "Z"
        assert got["rows"]["generations"]["value"] == 102.0
        assert got["rows"]["error_rate"]["alert"] is True
    hour = {"until": (at + 2 * MINUTE).isoformat()}  # before the newest window: the one before
    assert c.get(f"{BASE}/generation", params=hour).json()["rows"]["generations"]["value"] == 101.0


def test_the_distribution_is_the_profiles_bins(seeded: Collector) -> None:
    c = seeded.client()
    found = c.get(f"{BASE}/distribution", params={"column": "age"}).json()
    reference = _profile(_table(2000, 1))
    window = _profile(_table(500, 3, 30.0), reference)
    assert found["reference"]["edges"] == pytest.approx(reference.columns["age"].edges.tolist())
    assert found["reference"]["counts"] == reference.columns["age"].bins.tolist()
    assert found["window"]["counts"] == window.columns["age"].bins.tolist()
    assert found["window"]["quality"] == {"count": 500, "missing": 0, "infinite": 0, "invalid": 0}
    city = c.get(f"{BASE}/distribution", params={"column": "city"}).json()
    assert city["reference"]["categories"] == ["a", "b", "c", "(other)"]
    assert sum(city["window"]["counts"]) == 500
    # ``until``: the newest window before it (the first one here).
    first = c.get(
        f"{BASE}/distribution",
        params={"column": "age", "until": found["window_start"]},
    ).json()
    assert (
        first["window"]["counts"]
        == _profile(_table(500, 2), reference).columns["age"].bins.tolist()
    )
    missing = c.get(f"{BASE}/distribution", params={"column": "<b>nope</b>"})
    assert missing.status_code == 404 and missing.json()["field"] == "column"


def test_without_auth_the_pages_need_no_login(tmp_path: Path) -> None:
    settings = Settings(auth=False, schedule_every=timedelta(0))
    with running_collector(str(tmp_path / "data"), settings=settings) as live:
        page = httpx.get(f"{live.url}/", follow_redirects=False)
        assert page.status_code == 200 and "Log out" not in page.text
        assert 'data-scope="admin"' in page.text
        assert httpx.get(f"{live.url}/api/v1/overview").json()["versions"] == []


def test_the_heatmap_grid_indexes_columns_times_and_metrics() -> None:
    from datetime import datetime

    from sightline.server.pages.api import _grid
    from sightline.store.dashboard import Cell

    t0, t1 = datetime(2026, 1, 1), datetime(2026, 1, 1, 1)
    cells = [
        Cell("b", "psi", t1, 0.2, 0.1, True),
        Cell("c", "ks", t0, float("nan"), None, False),
        Cell("c", "psi", t1, 0.05, 0.1, False),
    ]
    assert _grid(cells, ["a", "c", "b"]) == {
        "metrics": ["ks", "psi"],
        "columns": ["c", "b"],  # the schema's order, without the column that has no cell
        "times": ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"],
        "cells": {
            "column": [1, 0, 0],
            "time": [1, 0, 1],
            "metric": [1, 0, 1],
            "value": [0.2, None, 0.05],
            "upper": [0.1, None, 0.1],
            "alert": [True, False, False],
        },
    }
    assert _grid([], ["a"])["cells"]["value"] == []


def test_the_series_charts_are_each_metrics_points_as_arrays() -> None:
    from datetime import datetime

    from sightline.server.pages.api import _charts
    from sightline.store.dashboard import Point

    t0, t1 = datetime(2026, 1, 1), datetime(2026, 1, 1, 1)
    points = [
        Point("b", t0, 1.0, 0.0, 2.0, False),
        Point("a", t0, 0.5, None, None, True),
        Point("b", t1, 3.0, 0.0, 2.0, True),
    ]
    assert _charts(points) == {
        "b": {
            "t": ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"],
            "value": [1.0, 3.0],
            "lower": [0.0, 0.0],
            "upper": [2.0, 2.0],
            "alert": [False, True],
        },
        "a": {
            "t": ["2026-01-01T00:00:00Z"],
            "value": [0.5],
            "lower": [None],
            "upper": [None],
            "alert": [True],
        },
    }
    assert list(_charts(points)) == ["b", "a"] and _charts([]) == {}
