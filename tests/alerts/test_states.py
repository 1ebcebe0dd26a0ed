"""The state table with a simulated clock: pending, for, keep_firing_for, flapping, groups."""

from __future__ import annotations

from datetime import datetime, timedelta

from sightline.alerts import Snapshot, evaluate, parse_rules
from sightline.alerts.evaluate import Evaluation
from sightline.analysis.rows import MetricRow

T0 = datetime(2026, 3, 1, 12, 0)
MIN = timedelta(minutes=1)


def _rules(extra: str = "", route: str = "group_wait: 0s, group_interval: 0s") -> object:
    return parse_rules(
        f"""
allow: ["127.0.0.1"]
receivers: [{{name: ops, type: webhook, url: "http://127.0.0.1:9/hook"}}]
route: {{{route}}}
rules:
  - name: high_psi
    match: {{metric: psi, column: "*"}}
    when: "value > 0.2"
    {extra}
"""
    )


def _row(value: float, column: str = "age", model: str = "churn") -> MetricRow:
    return MetricRow(metric="psi", value=value, column=column, model=model, version="1")


def _run(values: list[float], rules: object, step: timedelta = MIN) -> list[Evaluation]:
    """Evaluate one series, one value per ``step``; every evaluation's result."""
    snap, out = Snapshot(), []
    for i, v in enumerate(values):
        result = evaluate([_row(v)], rules, snap, T0 + i * step)  # type: ignore[arg-type]
        snap = result.snapshot
        out.append(result)
    return out


def _states(results: list[Evaluation]) -> list[str]:
    return [
        next(iter(r.snapshot.alerts.values())).state if r.snapshot.alerts else "inactive"
        for r in results
    ]


def test_for_fires_on_the_evaluation_at_five_minutes_not_before() -> None:
    results = _run([0.5] * 7, _rules("for: 5m"))
    assert _states(results) == ["pending"] * 5 + ["firing"] * 2
    fired = next(iter(results[5].snapshot.alerts.values()))
    assert fired.fired_at == T0 + 5 * MIN
    assert fired.active_at == T0
    assert [len(r.notifications) for r in results] == [0] * 5 + [1, 0]


def test_one_false_evaluation_during_pending_resets_it() -> None:
    results = _run([0.5, 0.5, 0.5, 0.1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], _rules("for: 5m"))
    assert _states(results) == ["pending"] * 3 + ["inactive"] + ["pending"] * 5 + ["firing"]
    alert = next(iter(results[-1].snapshot.alerts.values()))
    assert alert.active_at == T0 + 4 * MIN
    moves = [t.state for r in results for t in r.transitions]
    assert moves == ["pending", "inactive", "pending", "firing"]


def test_keep_firing_for_holds_a_firing_alert_through_a_short_gap() -> None:
    values = [0.5, 0.1, 0.1, 0.5, 0.1, 0.1, 0.1, 0.1]
    results = _run(values, _rules("keep_firing_for: 3m"))
    assert _states(results)[:6] == ["firing"] * 6
    assert _moves(results) == [(0, "firing"), (6, "resolved")]  # 3 min after it last held
    # without keep_firing_for the same gap resolves at once
    plain = _run(values, _rules())
    assert _moves(plain) == [(0, "firing"), (1, "resolved"), (3, "firing"), (4, "resolved")]


def _moves(results: list[Evaluation]) -> list[tuple[int, str]]:
    return [(i, t.state) for i, r in enumerate(results) for t in r.transitions]


def test_flapping_input_gives_no_notification() -> None:
    results = _run([0.5, 0.1] * 20, _rules("for: 5m"))
    assert all(not r.notifications for r in results)
    assert "firing" not in _states(results)


def test_a_resolved_notification_follows_a_sent_firing_one_exactly_once() -> None:
    results = _run([0.5, 0.5, 0.1, 0.1, 0.1], _rules())
    notes = [(n.status, len(n.alerts)) for r in results for n in r.notifications]
    assert notes == [("firing", 1), ("resolved", 1)]
    assert results[-1].snapshot == Snapshot()


def test_an_alert_resolved_before_group_wait_is_never_notified() -> None:
    rules = _rules(route="group_wait: 5m")
    results = _run([0.5, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], rules)
    assert all(not r.notifications for r in results)


def test_repeat_interval_resends_an_unchanged_firing_group() -> None:
    rules = _rules(route="group_wait: 0s, group_interval: 0s, repeat_interval: 10m")
    results = _run([0.5] * 25, rules)
    sent_at = [i for i, r in enumerate(results) if r.notifications]
    assert sent_at == [0, 10, 20]
    assert all(not n.fresh for n in results[10].notifications)


def test_a_hundred_drifting_columns_of_one_model_make_one_grouped_notification() -> None:
    rules = _rules(route="group_by: [model], group_wait: 30s")
    rows = [_row(0.5, column=f"c{i:03d}") for i in range(100)] + [_row(0.01, column="ok")]
    rows += [_row(0.5, column="x", model="other")]
    first = evaluate(rows, rules, Snapshot(), T0)  # type: ignore[arg-type]
    assert first.notifications == ()  # group_wait has not passed
    second = evaluate(rows, rules, first.snapshot, T0 + timedelta(seconds=30))  # type: ignore[arg-type]
    by_model = {n.group_labels["model"]: n for n in second.notifications}
    assert sorted(by_model) == ["churn", "other"]
    churn = by_model["churn"]
    assert len(churn.alerts) == 100
    assert sorted(a.labels["column"] for a in churn.alerts) == [f"c{i:03d}" for i in range(100)]
    assert {a.evidence["column"] for a in churn.alerts} == {f"c{i:03d}" for i in range(100)}
    third = evaluate(rows, rules, second.snapshot, T0 + timedelta(seconds=60))  # type: ignore[arg-type]
    assert third.notifications == ()


def test_silences_mute_matching_alerts() -> None:
    from sightline.alerts.evaluate import Silence

    mute = Silence("s1", {"column": "a*"}, T0, T0 + timedelta(hours=1))
    rows = [_row(0.5, column="age"), _row(0.5, column="income")]
    out = evaluate(rows, _rules(), Snapshot(), T0, silences=[mute])  # type: ignore[arg-type]
    (note,) = out.notifications
    assert [a.labels["column"] for a in note.alerts] == ["income"]
    later = evaluate(rows, _rules(), Snapshot(), T0 + timedelta(hours=2), silences=[mute])  # type: ignore[arg-type]
    assert len(later.notifications[0].alerts) == 2


def test_annotations_are_templated_from_the_row() -> None:
    rules = _rules('annotations: {summary: "{{ model }}/{{ column }} psi {{ value }}"}')
    out = evaluate([_row(0.31234)], rules, Snapshot(), T0)  # type: ignore[arg-type]
    (alert,) = out.snapshot.alerts.values()
    assert alert.annotations["summary"] == "churn/age psi 0.3123"
