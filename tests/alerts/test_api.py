"""The alerting routes, /metrics and the CLI against a real collector on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from sightline.alerts import Alerting
from sightline.analysis.rows import MetricRow
from sightline.server.app import create_app
from sightline.server.state import Settings
from sightline.store import open_store, utcnow
from support.live import Collector, start_server, stop_server
from support.metric_rows import put_rows

RULES = """
rules:
  - name: feature_drift
    match: {metric: jensen_shannon, column: "*"}
    when: alert
    severity: page
"""


@pytest.fixture
def alerting_collector(tmp_path: Path) -> Iterator[tuple[Collector, Path]]:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    settings = Settings(schedule_every=timedelta(0), alerting=Alerting.from_file(rules))
    store = open_store(str(tmp_path / "data"))
    server, thread, url = start_server(create_app(store, settings))
    live = Collector(url, store, store.create_key("default", "admin"))
    try:
        yield live, rules
    finally:
        for c in live.clients:
            c.close()
        stop_server(server, thread)
        store.close()


def test_alerts_rules_silences_and_metrics(alerting_collector: tuple[Collector, Path]) -> None:
    live, rules_file = alerting_collector
    now = utcnow()
    row = MetricRow(metric="jensen_shannon", value=0.4, upper=0.1, alert=True, column="age")
    put_rows(live.store, now - timedelta(minutes=2), [row])
    Alerting.from_file(rules_file).run(live.store, now)  # what the scheduler does after a pass
    http = live.client()
    (alert,) = http.get("/api/v1/alerts", params={"state": "firing"}).json()["alerts"]
    assert (alert["rule"], alert["model"], alert["state"]) == ("feature_drift", "churn", "firing")
    assert alert["evidence"]["column"] == "age" and alert["fired_at"].endswith("Z")
    assert http.get("/api/v1/alerts", params={"model": "other"}).json()["alerts"] == []
    bad = http.get("/api/v1/alerts", params={"state": "burning"})
    assert bad.status_code == 422 and bad.json()["field"] == "state"
    metrics = http.get("/metrics").text
    assert (
        'sightline_alert_active{rule="feature_drift",model="churn",version="1",'
        'severity="page",state="firing"} 1.0'
    ) in metrics
    assert [r["name"] for r in http.get("/api/v1/rules").json()["rules"]] == ["feature_drift"]
    rules_file.write_text(RULES + "    for: oops\n")
    refused = http.post("/api/v1/rules/reload")
    assert refused.status_code == 422 and refused.json()["field"] == "for"
    made = http.post("/api/v1/silences", json={"matchers": {"model": "churn"}, "duration": "2h"})
    assert made.status_code == 201
    bad = http.post("/api/v1/silences", json={"matchers": {"model": "x"}, "duration": "2 weeks"})
    assert bad.status_code == 422 and bad.json()["field"] == "duration"
    listed = http.get("/api/v1/silences").json()["silences"]
    assert [s["id"] for s in listed] == [made.json()["id"]]
    assert http.delete(f"/api/v1/silences/{made.json()['id']}").status_code == 200
    assert http.delete(f"/api/v1/silences/{made.json()['id']}").status_code == 404
    reader = live.store.create_key("default", "read")
    assert live.client(reader).post("/api/v1/silences", json={}).status_code == 403

    env = {**os.environ, "SIGHTLINE_URL": live.url, "SIGHTLINE_API_KEY": live.admin_key}
    cli = [sys.executable, "-m", "sightline", "alerts"]
    shown = subprocess.run([*cli, "list"], env=env, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "feature_drift" in shown.stdout and "firing" in shown.stdout
    muted = subprocess.run(
        [*cli, "silence", "model=churn", "--for", "30m"], env=env, capture_output=True, text=True
    )
    assert muted.returncode == 0 and muted.stdout.startswith("silence ")
    wrong = subprocess.run(
        [*cli, "list", "--key", "sl_x_y"], env=env, capture_output=True, text=True, timeout=60
    )
    assert wrong.returncode != 0 and "HTTP 401" in wrong.stderr
