"""The outbound-address guard: private targets are refused unless listed, also after DNS
resolution and redirects."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta

import pytest

from sightline.alerts import parse_rules
from sightline.alerts.engine import evaluate_project
from sightline.alerts.notify import RefusedTarget, check_target, deliver
from sightline.analysis.rows import MetricRow
from sightline.store import alerts as stored
from sightline.store import open_store
from support.metric_rows import put_rows
from support.receiver import receiver

T0 = datetime(2026, 3, 1, 12, 0)


@pytest.mark.parametrize(
    ("url", "allow"),
    [
        ("http://127.0.0.1:9000/hook", ["*"]),
        ("http://10.1.2.3/hook", ["*", "*.example.com"]),
        ("http://169.254.169.254/latest/meta-data", ["*"]),
        ("http://[::1]:9000/hook", ["*"]),
        ("http://localhost:9000/hook", ["localhost"]),  # resolves to loopback
        ("http://hooks.example.com/x", ["127.0.0.1"]),  # not listed at all
        ("http://192.168.1.10/x", ["10.0.0.0/8"]),  # another private network
    ],
)
def test_private_and_unlisted_targets_are_refused(url: str, allow: list[str]) -> None:
    with pytest.raises(RefusedTarget):
        check_target(url, allow)


@pytest.mark.parametrize(
    ("url", "allow"),
    [
        ("http://127.0.0.1:9000/hook", ["127.0.0.1"]),
        ("http://10.1.2.3/hook", ["10.0.0.0/8"]),
        ("http://169.254.169.254/x", ["169.254.169.254"]),
        ("http://localhost:9000/hook", ["localhost", "127.0.0.1", "::1"]),
    ],
)
def test_private_targets_listed_explicitly_are_allowed(url: str, allow: list[str]) -> None:
    check_target(url, allow)


def test_a_name_is_checked_by_every_address_it_resolves_to() -> None:
    def resolver(host: str) -> list[str]:
        return ["93.184.215.14", "10.0.0.5"]  # one public, one private

    with pytest.raises(RefusedTarget, match=r"10\.0\.0\.5 is a private address"):
        check_target("https://hooks.example.com/x", ["*.example.com"], resolver)
    check_target("https://hooks.example.com/x", ["*.example.com", "10.0.0.5"], resolver)


def test_a_redirect_to_loopback_is_refused_unless_allowed(store_location: str) -> None:
    store = open_store(store_location)
    store.create_key("default", "read")
    row = MetricRow(metric="psi", value=0.5, alert=True, column="age")
    put_rows(store, T0 - timedelta(minutes=1), [row])
    with receiver() as hook, receiver() as other:
        port = other.url.split(":")[2].split("/")[0]
        hook.answers = [("redirect", f"http://127.0.0.2:{port}/hook")]
        rules = parse_rules(
            textwrap.dedent(
                f"""
                allow: ["127.0.0.1"]
                receivers: [{{name: ops, type: webhook, url: "{hook.url}"}}]
                route: {{group_wait: 0s, group_interval: 0s}}
                rules: [{{name: drift, match: {{metric: psi, column: "*"}}, when: alert}}]
                """
            )
        )
        evaluate_project(store, "default", rules, T0)
        report = deliver(store, rules, T0)
        assert report.given_up == 1 and len(hook.got) == 1 and other.got == []
        (entry,) = stored.outbox(store, "default")
        assert "127.0.0.2" in entry["last_error"] and entry["delivered_at"] is None
        # a redirect to an allowed address is followed
        hook.answers = [("redirect", other.url)]
        row = MetricRow(metric="psi", value=0.5, alert=True, column="income")
        put_rows(store, T0, [row])
        evaluate_project(store, "default", rules, T0 + timedelta(minutes=1))
        assert deliver(store, rules, T0 + timedelta(minutes=1)).delivered == 1
        assert len(other.wait_for(1)) == 1
    store.close()
