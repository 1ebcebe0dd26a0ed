"""Notifications through the store's outbox to a real receiver on loopback, both stores."""

from __future__ import annotations

import hashlib
import hmac
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

from sightline.alerts import parse_rules
from sightline.alerts.engine import evaluate_project, record_of
from sightline.alerts.notify import deliver
from sightline.alerts.rules import RuleSet
from sightline.analysis.rows import MetricRow
from sightline.store import alerts as stored
from sightline.store import open_store
from support.metric_rows import put_rows
from support.receiver import receiver

T0 = datetime(2026, 3, 1, 12, 0)
SECRET = "change-me"


def _rules(url: str, kind: str = "webhook", extra: str = "") -> RuleSet:
    return parse_rules(
        textwrap.dedent(
            f"""
            allow: ["127.0.0.1"]
            external_url: "http://sightline.example"
            receivers:
              - {{name: ops, type: {kind}, url: "{url}", secret: "{SECRET}", timeout: 1}}
            route: {{group_by: [model], group_wait: 0s, group_interval: 0s}}
            rules:
              - name: feature_drift
                match: {{metric: jensen_shannon, column: "*"}}
                when: alert
                severity: page
                annotations:
                  summary: "{{{{ column }}}} drifted"
                  runbook_url: "http://runbooks.example/drift"
            {extra}
            """
        )
    )


def _drift(
    store: object, start: datetime, drifted: bool, columns: tuple[str, ...] = ("age",)
) -> None:
    rows = [
        MetricRow(
            metric="jensen_shannon",
            value=0.4 if drifted else 0.01,
            upper=0.1,
            alert=drifted,
            column=c,
            method="test",
        )
        for c in columns
    ]
    put_rows(store, start, rows)  # type: ignore[arg-type]


def test_webhook_body_is_alertmanager_v4_with_evidence_and_a_signature(
    store_location: str,
) -> None:
    store = open_store(store_location)
    store.create_key("default", "read")
    with receiver() as hook:
        rules = _rules(hook.url)
        _drift(store, T0 - timedelta(minutes=2), drifted=False)
        _drift(store, T0 - timedelta(minutes=1), drifted=True)
        evaluate_project(store, "default", rules, T0)
        before = datetime.now(UTC)
        assert deliver(store, rules, T0).delivered == 1
        (got,) = hook.wait_for(1)
    body = got.body
    assert body["version"] == "4" and body["status"] == "firing" and body["receiver"] == "ops"
    assert body["groupLabels"] == {"model": "churn"}
    assert body["commonLabels"]["alertname"] == "feature_drift"
    assert body["commonAnnotations"]["runbook_url"] == "http://runbooks.example/drift"
    (alert,) = body["alerts"]
    assert set(alert) >= {"status", "labels", "annotations", "startsAt", "endsAt", "fingerprint"}
    assert alert["generatorURL"] == f"http://sightline.example/alerts/{alert['fingerprint']}"
    assert alert["labels"]["column"] == "age"
    assert alert["evidence"]["column"] == "age"
    assert alert["evidence"]["onset"] == "2026-03-01T11:59:00Z"
    assert abs(alert["evidence"]["effect"] - 0.3) < 1e-9
    assert alert["evidence"]["rows"][0]["metric"] == "jensen_shannon"
    sent = datetime.fromisoformat(body["sentAt"])
    assert sent.tzinfo is not None and abs((sent - before).total_seconds()) < 86400 * 365
    expected = "sha256=" + hmac.new(SECRET.encode(), got.raw, hashlib.sha256).hexdigest()
    assert got.headers["X-Sightline-Signature"] == expected
    store.close()


def test_receivers_that_time_out_or_answer_500_are_retried_until_they_succeed(
    store_location: str,
) -> None:
    store = open_store(store_location)
    store.create_key("default", "read")
    with receiver() as hook:
        hook.answers = [500, ("sleep", 2.0), 503]
        rules = _rules(hook.url)
        _drift(store, T0 - timedelta(minutes=1), drifted=True)
        evaluate_project(store, "default", rules, T0)
        moments = [T0 + timedelta(seconds=s) for s in (0, 0.5, 1, 3, 7, 15, 31)]
        reports = [deliver(store, rules, t) for t in moments]
        got = hook.wait_for(4)
    assert sum(r.retried for r in reports) == 3
    assert sum(r.delivered for r in reports) == 1
    assert len(got) == 4  # three failures and one success, nothing after it
    assert len({g.raw for g in got}) == 4  # each attempt carries its own sentAt
    (entry,) = stored.outbox(store, "default")
    assert entry["attempts"] == 4 and entry["delivered_at"] is not None
    store.close()


def test_an_evaluation_saved_twice_queues_its_notification_once(store_location: str) -> None:
    store = open_store(store_location)
    store.create_key("default", "read")
    rules = _rules("http://127.0.0.1:9/hook")
    _drift(store, T0 - timedelta(minutes=1), drifted=True)
    result = evaluate_project(store, "default", rules, T0)
    # the same evaluation again (a retry after a lost answer) has the same notification ids
    stored.save_evaluation(store, "default", record_of("default", result, rules, T0), T0)
    assert len(stored.outbox(store, "default")) == 1
    # and evaluating again later with nothing new queues nothing
    evaluate_project(store, "default", rules, T0 + timedelta(minutes=1))
    assert len(stored.outbox(store, "default")) == 1
    store.close()


def test_resolution_then_restart_neither_resends_nor_loses_anything(store_location: str) -> None:
    with receiver() as hook:
        rules = _rules(hook.url)
        store = open_store(store_location)
        store.create_key("default", "read")
        _drift(store, T0 - timedelta(minutes=1), drifted=True)
        evaluate_project(store, "default", rules, T0)
        deliver(store, rules, T0)
        _drift(store, T0, drifted=False)
        evaluate_project(store, "default", rules, T0 + timedelta(minutes=1))
        store.close()  # stops before sending the resolution
        store = open_store(store_location)
        for i in range(3):
            deliver(store, rules, T0 + timedelta(minutes=2 + i))
        got = hook.wait_for(2)
        store.close()
    assert [g.body["status"] for g in got] == ["firing", "resolved"]
    assert got[1].body["alerts"][0]["endsAt"] != "0001-01-01T00:00:00Z"


_CHILD = """
import sys, time
from datetime import datetime
from sightline.alerts import Alerting, evaluate_project
from sightline.alerts.notify import deliver
from sightline.store import open_store
alerting = Alerting.from_file(sys.argv[2])
store = open_store(sys.argv[1])
now = datetime(2026, 3, 1, 12, 0)
if sys.argv[3] == "evaluate":
    evaluate_project(store, "default", alerting.rules, now)
    print("stored", flush=True)
    time.sleep(60)  # killed here, between store and send
else:
    deliver(store, alerting.rules, now)
    store.close()
"""


def test_a_collector_killed_between_store_and_send_delivers_once_after_restart(
    store_location: str, tmp_path: object
) -> None:
    from pathlib import Path

    store = open_store(store_location)
    store.create_key("default", "read")
    _drift(store, T0 - timedelta(minutes=1), drifted=True)
    store.close()
    with receiver() as hook:
        rules_file = Path(str(tmp_path)) / "rules.yaml"
        rules_file.write_text(
            textwrap.dedent(
                f"""
                allow: ["127.0.0.1"]
                receivers: [{{name: ops, type: webhook, url: "{hook.url}"}}]
                route: {{group_wait: 0s}}
                rules:
                  - {{name: drift, match: {{metric: jensen_shannon, column: "*"}}, when: alert}}
                """
            )
        )
        args = [sys.executable, "-c", _CHILD, store_location, str(rules_file)]
        with subprocess.Popen([*args, "evaluate"], stdout=subprocess.PIPE, text=True) as child:
            try:
                assert child.stdout is not None and child.stdout.readline().strip() == "stored"
            finally:
                os.kill(child.pid, signal.SIGKILL)
                child.wait(timeout=30)
        assert hook.got == []
        for _ in range(2):
            subprocess.run([*args, "deliver"], check=True, timeout=120)
        got = hook.wait_for(1)
    assert len(got) == 1 and got[0].body["status"] == "firing"


def test_recent_transitions_are_each_move_newest_first(store_location: str) -> None:
    """fire, resolve, fire again: three transitions of one alert, newest first, each with
    the evidence it had then; ``limit`` keeps the newest."""
    store = open_store(store_location)
    store.create_key("default", "read")
    rules = _rules("http://127.0.0.1:9/hook")
    for minute, drifted in enumerate((True, False, True)):
        _drift(store, T0 + timedelta(minutes=minute), drifted=drifted)
        evaluate_project(store, "default", rules, T0 + timedelta(minutes=minute + 1))
    moves = stored.recent_transitions(store, "default")
    assert [m.state for m in moves] == ["firing", "resolved", "firing"]
    assert [m.at for m in moves] == sorted((m.at for m in moves), reverse=True)
    (fingerprint,) = {m.subject for m in moves}
    assert moves == list(reversed(stored.alert_transitions(store, "default", fingerprint)))
    assert [m.state for m in stored.recent_transitions(store, "default", limit=1)] == ["firing"]
    assert stored.recent_transitions(store, "other") == []
    store.close()
