"""What alerting computes from a served model, with a real Monitor and collector on both
stores: the SLOs' error budgets stored as metric rows (read back through the API like
any row), and the default ``no_live_instance`` rule for a version whose instance died
(not for one whose instances closed their Monitor)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from sightline.alerts import Alerting, default_rules, parse_rules
from sightline.profile import Column, Schema
from sightline.sdk import Monitor
from sightline.store import utcnow
from support.live import Collector

SCHEMA = Schema((Column("x"), Column("y", role="prediction")))
RULES = parse_rules(
    """
slos:
  - {name: availability, kind: availability, objective: 0.999}
  - {name: latency, kind: latency, objective: 0.99, threshold_ms: 50}
"""
)


def _serve(collector: Collector, tmp_path: Path, version: str = "1") -> Monitor:
    """A Monitor of a registered version of ``churn`` (its first heartbeat stored)."""
    admin = collector.client()
    url = f"/api/v1/models/churn/versions/{version}"
    assert admin.put(url, json=SCHEMA.to_dict()).status_code == 200
    key = collector.store.create_key("default", "ingest")
    spool = tmp_path / f"spool-{version}"
    m = Monitor("churn", version, url=collector.url, api_key=key, spool_dir=spool, tick=0.05)
    m.log_batch(
        {"x": np.arange(200.0)},
        predictions=[1.0] * 200,
        latency_ms=[2.0] * 190 + [80.0] * 10,  # ten above the 50 ms objective
    )
    for _ in range(10):
        m.log_error(latency_ms=5.0)
    assert m.flush(timeout=30)
    deadline = time.monotonic() + 30
    while not collector.store.live_instances("default", utcnow() - timedelta(minutes=1)):
        assert time.monotonic() < deadline, "no heartbeat stored"
        time.sleep(0.05)
    return m


def test_error_budgets_are_metric_rows_read_through_the_api(
    collector: Collector, tmp_path: Path
) -> None:
    m = _serve(collector, tmp_path)
    m.close(timeout=30)
    alerting = Alerting(RULES)
    later = utcnow() + timedelta(hours=2)  # the hour of the predictions has closed
    for _ in range(2):  # a second pass in the same window writes the same rows again
        alerting.run(collector.store, later)
    end = later.replace(minute=0, second=0, microsecond=0)
    if later - end < timedelta(seconds=60):  # inside the lateness: the window before
        end -= timedelta(hours=1)
    answer = collector.client().get(
        "/api/v1/models/churn/metrics",
        params={
            "metric": "error_budget_remaining",
            "since": (end - timedelta(hours=2)).isoformat() + "Z",
            "until": (end + timedelta(hours=1)).isoformat() + "Z",
        },
    )
    assert answer.status_code == 200, answer.text
    rows = {r["column"]: r for r in answer.json()["rows"]}
    assert set(rows) == {"availability", "latency"}
    assert len(answer.json()["rows"]) == 2  # once per window, however many passes
    # 10 errors of 210 predictions against a 0.1 % budget; 10 slow ones against 1 %
    assert np.isclose(rows["availability"]["value"], 1 - (10 / 210) / 0.001)
    assert np.isclose(rows["latency"]["value"], 1 - (10 / 210) / 0.01)
    for r in rows.values():
        assert r["window_end"] == end.isoformat() + "Z" and r["n_cur"] == 210
        assert r["alert"] is True and r["lower"] == 0.0 and r["version"] == ""
    metrics = collector.client().get("/metrics").text  # and /metrics exports it
    assert 'column="availability",metric="error_budget_remaining"' in metrics
    # the stored row is what rules see: an alert on an overspent budget
    budget = parse_rules(
        "rules: [{name: budget, match: {metric: error_budget_remaining, column: '*'}, "
        "when: alert}]\n" + "slos: [{name: availability, kind: availability, objective: 0.999}]"
    )
    (result,) = Alerting(budget).run(collector.store, later)
    assert {a.labels["column"] for a in result.snapshot.alerts.values()} == {
        "availability",
        "latency",  # stored by the first rules; the newest row of its series
    }


CRASH = """
import os, signal, sys
from sightline.sdk import Monitor
m = Monitor("churn", sys.argv[3], url=sys.argv[1], api_key=sys.argv[2], tick=0.05)
m.log_batch({"x": [1.0, 2.0]}, predictions=[1.0, 1.0])
assert m.flush(timeout=30)
os.kill(os.getpid(), signal.SIGKILL)  # dies: no goodbye
"""


def _crashed(collector: Collector, version: str) -> None:
    """A serving process of a registered ``version`` that ships and is SIGKILLed."""
    key = collector.store.create_key("default", "ingest")
    run = subprocess.run(
        [sys.executable, "-c", CRASH, collector.url, key, version], timeout=60, check=False
    )
    assert run.returncode == -9
    deadline = time.monotonic() + 30
    while version not in {
        k[1] for k in collector.store.live_instances("default", utcnow() - timedelta(minutes=1))
    }:
        assert time.monotonic() < deadline, "no heartbeat stored"
        time.sleep(0.05)


def test_no_live_instance_fires_for_a_version_whose_instance_died(
    collector: Collector, tmp_path: Path
) -> None:
    retired = _serve(collector, tmp_path, version="3")
    admin = collector.client()
    other = "/api/v1/models/churn/versions/2"  # registered, never served: never alerts
    assert admin.put(other, json=SCHEMA.to_dict()).status_code == 200
    assert admin.put("/api/v1/models/churn/versions/1", json=SCHEMA.to_dict()).status_code == 200
    alerting = Alerting(default_rules())
    started = utcnow()

    def states(at: datetime) -> dict[str, str]:
        alerting.run(collector.store, at)
        alerts = admin.get("/api/v1/alerts", params={"model": "churn"}).json()["alerts"]
        return {a["version"]: a["state"] for a in alerts if a["rule"] == "no_live_instance"}

    _crashed(collector, "1")
    assert states(started) == {}  # serving
    retired.close(timeout=30)  # version 3 says goodbye: retired, not down
    gone = started + timedelta(seconds=alerting.heartbeat_timeout + 5)
    assert states(gone) == {"1": "pending"}
    assert states(gone + timedelta(minutes=4)) == {"1": "pending"}  # for: 5m
    assert states(gone + timedelta(minutes=5)) == {"1": "firing"}
    firing = admin.get("/api/v1/alerts", params={"state": "firing"}).json()["alerts"]
    (alert,) = [a for a in firing if a["rule"] == "no_live_instance"]
    assert alert["annotations"]["summary"] == "churn 1 has no live instance"
    assert alert["evidence"]["rows"][0]["metric"] == "live_instances"
    assert alert["evidence"]["value"] == 0.0
