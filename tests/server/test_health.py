"""The health overview against a real collector: goodbyes, uptime, latency percentiles."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from sightline.analysis.columns import SchemaOptions
from sightline.analysis.profiling import profile_data
from sightline.profile import Column, Schema
from sightline.sdk import Monitor
from sightline.server.health import uptime
from sightline.store import Beat, utcnow
from support.live import Collector

SCHEMA = Schema((Column("age"), Column("score", role="prediction")))
BASE = "/api/v1/models/churn/versions/1"


def register(collector: Collector) -> str:
    """Register churn/1 (no reference); return an ingest key."""
    assert collector.client().put(BASE, json=SCHEMA.to_dict()).status_code == 200
    return collector.store.create_key("default", "ingest")


def health(collector: Collector, **params: object) -> dict[str, object]:
    r = collector.client().get("/api/v1/models/churn/health", params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def beats(instance: str, times: list[datetime], closed: bool = False) -> pa.Table:
    n = len(times)
    return pa.table(
        {
            "project": ["default"] * n,
            "model": ["churn"] * n,
            "version": ["1"] * n,
            "instance": [instance] * n,
            "host": ["h"] * n,
            "pid": [1] * n,
            "started_at": [times[0]] * n,
            "ts": times,
            "dropped": [0] * n,
            "closed": [closed] * n,
        }
    )


def test_a_closed_monitor_is_not_live(collector: Collector, tmp_path: Path) -> None:
    key = register(collector)
    m = Monitor("churn", "1", url=collector.url, api_key=key, spool_dir=tmp_path, tick=0.05)
    m.log({"age": 30.0}, prediction=0.5)
    m.flush()
    deadline = time.monotonic() + 20
    while health(collector)["live_instances"] != 1:
        assert time.monotonic() < deadline, "the Monitor's heartbeat never arrived"
        time.sleep(0.05)
    m.close(timeout=20)
    after = health(collector)
    assert after["live_instances"] == 0 and after["versions_loaded"] == []
    (instance,) = after["instances"]
    assert instance["closed"] is True and instance["live"] is False
    closed = collector.store._read("SELECT count(*) FROM heartbeats WHERE closed")
    assert closed[0][0] == 1
    # /metrics reads live instances through the same rule.
    text = collector.client().get("/metrics").text
    assert 'sightline_health_live_instances{model="churn",version="1"} 0.0' in text


def test_uptime_counts_from_the_first_heartbeat(collector: Collector) -> None:
    register(collector)
    now = utcnow()
    first = now - timedelta(minutes=5)
    collector.store.insert_rows(
        "heartbeats", beats("i1", [first + timedelta(seconds=30 * i) for i in range(11)])
    )
    got = health(collector)  # the default range: the last 24 hours
    assert got["uptime_percent"] == pytest.approx(100.0, abs=1.0)
    assert got["uptime_since"] == first.isoformat() + "Z"
    # A range that began while the instance was already live counts from its start.
    since = (now - timedelta(minutes=2)).replace(tzinfo=UTC)
    inside = health(collector, since=since.isoformat())
    assert inside["uptime_since"] == since.isoformat().replace("+00:00", "Z")
    assert inside["uptime_percent"] == pytest.approx(100.0, abs=1.0)


def test_uptime_ends_at_a_goodbye() -> None:
    # Instance a beats at 0 and 30 and closes at 40; b beats at 100: of [0, 200), a covers
    # [0, 40) and b [100, 160) with a 60-second timeout: 100 seconds, 50 %.
    a = [Beat(0.0, "a", False), Beat(30.0, "a", False), Beat(40.0, "a", True)]
    got = uptime([*a, Beat(100.0, "b", False)], 0.0, 200.0, 60.0)
    assert (got.percent, got.since) == (50.0, 0.0)
    # Overlapping instances count once; none at all is 0 with no start.
    both = [Beat(10.0, "a", False), Beat(20.0, "b", False)]
    assert uptime(both, 0.0, 110.0, 60.0).percent == pytest.approx(100 * 70 / 100)
    assert uptime([], 0.0, 10.0, 60.0).since is None


def test_latency_percentiles_stay_inside_the_observed_range(collector: Collector) -> None:
    register(collector)
    now = datetime.now(UTC)
    rng = np.random.default_rng(3)
    client = collector.client()
    for i in range(4):
        table = pa.table({"age": rng.normal(40, 10, 5), "score": rng.uniform(0, 1, 5)})
        p = profile_data(
            table,
            columns=SchemaOptions(schema=SCHEMA),
            model="churn",
            version="1",
            window_start=now - timedelta(minutes=5),
            window_end=now,
        )
        p.record_latency(rng.uniform(1.0, 20.0, 5_000))
        r = client.post(
            f"{BASE}/profiles",
            content=p.to_bytes(),
            headers={
                "Idempotency-Key": f"lat{i}",
                "content-type": "application/x-sightline-profile",
            },
        )
        assert r.status_code == 200, r.text
    latency = health(collector)["latency_ms"]
    assert isinstance(latency, dict)
    assert 1.0 <= latency["p50"] <= 20.0 and latency["p99"] <= 20.0
    # Uniform on [1, 20]: the quantiles are 10.5, 19.05 and 19.81, within the sketch's error.
    assert latency["p50"] == pytest.approx(10.5, abs=0.4)
    assert latency["p95"] == pytest.approx(19.05, abs=0.4)
    assert latency["p99"] == pytest.approx(19.81, abs=0.3)
