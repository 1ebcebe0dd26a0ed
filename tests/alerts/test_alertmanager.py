"""sightline's ``alertmanager`` receiver against a real Alertmanager (Debian's
``prometheus-alertmanager``) on loopback, routing to a local webhook: the firing alert
arrives through Alertmanager's v2 API with its labels and evidence, stays active (its
``endsAt`` lies ahead), and its resolution follows.

Alertmanager is not a Python package: this test skips without its binary, except in CI,
which installs it and sets SIGHTLINE_REQUIRE_ALERTMANAGER=1 so that a missing binary fails.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from sightline.alerts import parse_rules
from sightline.alerts.engine import evaluate_project
from sightline.alerts.notify import deliver
from sightline.analysis.rows import MetricRow
from sightline.store import open_store, utcnow
from support.daemon import daemon
from support.live import free_port
from support.metric_rows import put_rows
from support.receiver import Receiver, receiver

BINARY = "/usr/bin/prometheus-alertmanager"


def _binary() -> str:
    found = shutil.which("prometheus-alertmanager") or (BINARY if os.path.exists(BINARY) else None)
    if found is None:
        if os.environ.get("SIGHTLINE_REQUIRE_ALERTMANAGER") == "1":
            pytest.fail("Alertmanager is required here (SIGHTLINE_REQUIRE_ALERTMANAGER=1)")
        pytest.skip(
            "Alertmanager is not installed (apt-get install prometheus-alertmanager; "
            "CI installs it)"
        )
    return found


def _wait(what: str, check: object, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out after {seconds} s waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[tuple[str, Receiver]]:
    """A running Alertmanager whose one route posts every group to a local webhook; its
    URL and the webhook."""
    binary = _binary()
    with receiver() as hook:
        config = tmp_path / "alertmanager.yml"
        config.write_text(
            "route:\n  receiver: hook\n  group_by: [model]\n"
            "  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n"
            "receivers:\n  - name: hook\n    webhook_configs:\n"
            f"      - {{url: '{hook.url}', send_resolved: true}}\n"
        )
        port = free_port()
        args = [
            binary,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # no peers: no gossip port
        ]
        url = f"http://127.0.0.1:{port}"
        with daemon(args, tmp_path / "alertmanager.log") as process:

            def ready() -> bool:
                assert process.poll() is None, (tmp_path / "alertmanager.log").read_text()
                try:
                    return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False

            _wait("Alertmanager to start", ready)
            yield url, hook


def test_alerts_reach_a_real_alertmanager_and_its_webhook(
    alertmanager: tuple[str, Receiver], tmp_path: Path
) -> None:
    url, hook = alertmanager
    rules = parse_rules(
        f"""
allow: ["127.0.0.1"]
receivers: [{{name: am, type: alertmanager, url: "{url}"}}]
route: {{group_wait: 0s, group_interval: 0s}}
rules:
  - name: feature_drift
    match: {{metric: jensen_shannon, column: "*"}}
    when: alert
    annotations: {{summary: "{{{{ column }}}} drifted"}}
"""
    )
    store = open_store(str(tmp_path / "data"))
    store.create_key("default", "read")
    now = utcnow()
    drifted = MetricRow(metric="jensen_shannon", value=0.4, upper=0.1, alert=True, column="age")
    put_rows(store, now - timedelta(minutes=2), [drifted])
    evaluate_project(store, "default", rules, now)
    assert deliver(store, rules, now).delivered == 1

    (active,) = httpx.get(f"{url}/api/v2/alerts", timeout=10).json()
    assert active["labels"]["alertname"] == "feature_drift"
    assert active["labels"]["column"] == "age" and active["status"]["state"] == "active"
    ends = datetime.fromisoformat(active["endsAt"].replace("Z", "+00:00"))
    assert ends > datetime.now(UTC) + timedelta(hours=1)  # not left to resolve_timeout
    _wait("the firing webhook", lambda: len(hook.got) >= 1)
    firing = hook.got[0].body
    assert firing["status"] == "firing" and firing["groupLabels"] == {"model": "churn"}
    (alert,) = firing["alerts"]
    assert alert["annotations"]["summary"] == "age drifted"
    assert json.loads(alert["annotations"]["evidence"])["column"] == "age"

    calm = MetricRow(metric="jensen_shannon", value=0.01, upper=0.1, alert=False, column="age")
    put_rows(store, now - timedelta(minutes=1), [calm])
    later = utcnow()
    evaluate_project(store, "default", rules, later)
    assert deliver(store, rules, later).delivered == 1
    _wait("the resolved webhook", lambda: any(g.body["status"] == "resolved" for g in hook.got))
    resolved = next(g.body for g in hook.got if g.body["status"] == "resolved")
    assert resolved["alerts"][0]["labels"]["column"] == "age"
    assert [g.body["status"] for g in hook.got].count("firing") == 1
    store.close()
