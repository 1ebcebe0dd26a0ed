"""The rules file: the issue's minimal file works as written; errors name rule and field."""

from __future__ import annotations

import pytest

from sightline.alerts import default_rules, parse_rules
from sightline.alerts.rules import Condition
from sightline.analysis.rows import MetricRow
from sightline.errors import InvalidInputError

MINIMAL = """
allow: ["127.0.0.1"]
receivers:
  - {name: ops, type: webhook, url: "http://127.0.0.1:9000/hook", secret: "change-me"}
route: {group_by: [model], group_wait: 5s, group_interval: 30s, repeat_interval: 4h}
rules:
  - name: feature_drift
    match: {metric: jensen_shannon, column: "*"}
    when: alert            # the row's own verdict; also "value > 0.2", "outside bounds"
    for: 0s
    severity: page
"""


def test_the_minimal_file_of_the_issue_parses_as_written() -> None:
    rules = parse_rules(MINIMAL)
    (rule,) = rules.rules
    assert (rule.name, rule.match.metric, rule.match.column, rule.for_) == (
        "feature_drift",
        "jensen_shannon",
        "*",
        0.0,
    )
    assert rules.route.group_wait == 5 and rules.route.repeat_interval == 4 * 3600
    assert rules.receiver_for({"model": "churn"}).name == "ops"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("rules: [{name: r1, match: {metric: psi}, when: 'value ~ 2'}]", "when", "rule 'r1'"),
        ("rules: [{name: r1, match: {metric: psi}, for: 5 minutes}]", "for", "rule 'r1'"),
        ("rules: [{name: r1, match: {column: age}}]", "metric", "rule 'r1': match"),
        ("rules: [{name: r1, match: {metric: psi}, severity: urgent}]", "severity", "r1"),
        ("rules: [{name: r1, match: {metric: psi}, fro: 5m}]", "fro", "rule 'r1'"),
        ("rules: [{match: {metric: psi}}]", "name", "rule #1"),
        ("receivers: [{name: ops, type: pager, url: 'http://x'}]", "type", "receiver 'ops'"),
        ("receivers: [{name: ops, type: webhook, url: 'ftp://x'}]", "url", "receiver 'ops'"),
        ("route: {receiver: nobody}", "receiver", "route"),
        ("slos: [{name: s, kind: availability, objective: 99.9}]", "objective", "slo 's'"),
        ("rules: [{name: a, match: {metric: x}}, {name: a, match: {metric: y}}]", "name", "'a'"),
        ("rules: [oops", "rules", "not valid YAML"),
    ],
)
def test_errors_name_the_rule_and_the_field(text: str, field: str, words: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_rules(text)
    assert info.value.field == field
    assert words in str(info.value)


@pytest.mark.parametrize(
    ("when", "value", "holds"),
    [("value > 0.2", 0.3, True), ("value > 0.2", 0.2, False), ("value <= 1", 1.0, True)],
)
def test_threshold_conditions(when: str, value: float, holds: bool) -> None:
    rules = parse_rules(f"rules: [{{name: r, match: {{metric: m}}, when: '{when}'}}]")
    assert rules.rules[0].when.holds(MetricRow(metric="m", value=value)) is holds


def test_outside_bounds_and_not_computed_rows() -> None:
    outside = Condition("outside bounds")
    assert outside.holds(MetricRow(metric="accuracy", value=0.7, lower=0.8, upper=0.9))
    assert not outside.holds(MetricRow(metric="accuracy", value=0.85, lower=0.8, upper=0.9))
    nan_row = MetricRow(metric="psi", value=float("nan"), alert=True, method="not computed: x")
    assert not Condition("alert").holds(nan_row)


def test_default_rules_ship_with_the_server() -> None:
    rules = default_rules()
    names = {r.name for r in rules.rules}
    assert {
        "dataset_drift",
        "realized_performance_below_band",
        "estimated_performance_drop",
        "data_quality_breach",
        "no_live_instance",
        "health_anomaly",
        "slo_burn_page",
        "slo_burn_ticket",
    } <= names
    assert {(s.kind, s.objective) for s in rules.slos} == {
        ("availability", 0.999),
        ("latency", 0.99),
    }
    with_defaults = parse_rules("include_defaults: true\n" + MINIMAL)
    assert len(with_defaults.rules) == len(rules.rules) + 1
