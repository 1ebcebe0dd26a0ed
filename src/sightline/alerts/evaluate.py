"""Evaluation: rows, rules, the previous states and the clock in; new states and the
notifications to send out. A pure function, so a simulated clock tests every transition.

States follow Prometheus: a rule's condition that starts to hold makes its alert
``pending``; once it has held for ``for`` (at the first evaluation at or after
``active_at + for``) the alert is ``firing``; a pending alert whose condition fails once is
dropped (inactive); a firing alert whose condition fails stays firing for
``keep_firing_for`` after it last held, then is ``resolved``.

Notifications follow Alertmanager: firing and resolved alerts are grouped by receiver and
the route's ``group_by`` labels; a new group is sent ``group_wait`` after it formed, a
changed group at most every ``group_interval``, an unchanged firing group every
``repeat_interval``; a resolution is sent only for an alert whose firing was sent. A
notification is due at the first evaluation at or after its time.

>>> from sightline.alerts.rules import parse_rules
>>> rules = parse_rules('''
... receivers: [{name: ops, type: webhook, url: "http://127.0.0.1:9/h"}]
... route: {group_wait: 0s}
... rules: [{name: drift, match: {metric: psi, column: "*"}, when: alert}]''')
>>> t = datetime(2026, 1, 1)
>>> row = MetricRow(metric="psi", value=0.4, alert=True, model="m", column="age")
>>> out = evaluate([row], rules, Snapshot(), t)
>>> [a.state for a in out.snapshot.alerts.values()], [n.status for n in out.notifications]
(['firing'], ['firing'])
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sightline.alerts.evidence import evidence_of
from sightline.alerts.rules import Rule, RuleSet
from sightline.analysis.rows import MetricRow

State = Literal["pending", "firing", "resolved"]
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@dataclass(frozen=True)
class Alert:
    """One alert instance: a rule over one series (model, version, column, metric)."""

    rule: str
    fingerprint: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    state: State
    active_at: datetime
    last_held: datetime
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Group:
    """A group of alerts sent together, and what its last notification said."""

    key: str
    receiver: str
    labels: Mapping[str, str]
    formed_at: datetime
    sent_at: datetime | None = None
    sent: frozenset[tuple[str, str]] = frozenset()  # (fingerprint, status)


@dataclass(frozen=True)
class Silence:
    """Mutes the alerts whose labels match every glob of ``matchers`` from ``starts_at``
    until ``ends_at``."""

    id: str
    matchers: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime

    def mutes(self, alert: Alert, now: datetime) -> bool:
        """Whether this silence mutes ``alert`` at ``now``."""
        from fnmatch import fnmatchcase

        return self.starts_at <= now < self.ends_at and all(
            fnmatchcase(alert.labels.get(k, ""), v) for k, v in self.matchers.items()
        )


@dataclass(frozen=True)
class Snapshot:
    """Everything evaluation remembers between runs: alerts and groups by key."""

    alerts: Mapping[str, Alert] = field(default_factory=dict)
    groups: Mapping[str, Group] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    """An alert moved to ``state`` (``inactive`` when a pending alert was dropped)."""

    alert: Alert
    state: str
    at: datetime


@dataclass(frozen=True)
class Notification:
    """One message to one receiver about one group: its id deduplicates it."""

    id: str
    receiver: str
    group_key: str
    group_labels: Mapping[str, str]
    status: Literal["firing", "resolved"]
    alerts: tuple[Alert, ...]
    fresh: tuple[str, ...]  # fingerprints of alerts whose firing is sent for the first time
    created_at: datetime


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate` returns."""

    snapshot: Snapshot
    transitions: tuple[Transition, ...]
    notifications: tuple[Notification, ...]


def evaluate(
    rows: Sequence[MetricRow],
    rules: RuleSet,
    previous: Snapshot,
    now: datetime,
    *,
    silences: Sequence[Silence] = (),
    history: Mapping[tuple[str, str, str, str], Sequence[MetricRow]] | None = None,
    moved: Mapping[tuple[str, str, str], Sequence[Mapping[str, Any]]] | None = None,
) -> Evaluation:
    """The new states of every alert at ``now`` and the notifications then due.

    ``rows``: the newest row of each series; ``history``: older rows of a series by
    (model, version, column, metric), oldest first, for the evidence's onset; ``moved``:
    the bins that moved most in the newest window of a (model, version, column).
    """
    context = Context(history or {}, moved or {})
    alerts, transitions = _step(rows, rules, previous.alerts, now, context)
    live = [a for a in alerts.values() if not any(s.mutes(a, now) for s in silences)]
    groups, notes = _notify(live, rules, previous.groups, now)
    notified = {fp for g in groups.values() for fp, _ in g.sent}
    keep = {k: a for k, a in alerts.items() if a.state != "resolved" or a.fingerprint in notified}
    return Evaluation(Snapshot(keep, groups), tuple(transitions), tuple(notes))


@dataclass(frozen=True)
class Context:
    """What evidence needs beyond the newest rows (see :func:`evaluate`)."""

    history: Mapping[tuple[str, str, str, str], Sequence[MetricRow]]
    moved: Mapping[tuple[str, str, str], Sequence[Mapping[str, Any]]]


def labels_of(rule: Rule, row: MetricRow) -> dict[str, str]:
    """An alert's labels: the rule's name, the row's series and the rule's own labels."""
    labels = {"alertname": rule.name, "model": row.model, "version": row.version}
    if row.column:
        labels["column"] = row.column
    labels |= {"metric": row.metric, "severity": rule.severity, **rule.labels}
    return labels


def fingerprint(labels: Mapping[str, str]) -> str:
    """A stable 16-hex-digit id of a label set (as Alertmanager's fingerprints).

    >>> fingerprint({"a": "1"}) == fingerprint({"a": "1"}) != fingerprint({"a": "2"})
    True
    """
    text = json.dumps(sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def render(template: str, row: MetricRow, labels: Mapping[str, str]) -> str:
    """An annotation with ``{{ name }}`` replaced by the row's field or a label.

    >>> render("{{ model }}: {{ value }}", MetricRow(metric="psi", value=0.31234, model="m"), {})
    'm: 0.3123'
    """

    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        got = getattr(row, name, labels.get(name, m.group(0)))
        return f"{got:.4g}" if isinstance(got, float) else str(got)

    return _PLACEHOLDER.sub(value, template)


def _step(
    rows: Sequence[MetricRow],
    rules: RuleSet,
    before: Mapping[str, Alert],
    now: datetime,
    context: Context,
) -> tuple[dict[str, Alert], list[Transition]]:
    held: dict[str, tuple[Rule, MetricRow]] = {}
    for rule in rules.rules:
        for row in rows:
            if rule.match.matches(row) and rule.when.holds(row):
                held[fingerprint(labels_of(rule, row))] = (rule, row)
    by_name = {r.name: r for r in rules.rules}
    alerts: dict[str, Alert] = {}
    moves: list[Transition] = []
    for fp in sorted(set(held) | set(before)):
        old = before.get(fp)
        new: Alert | None = None  # the rule is gone: its alerts go with it
        if fp in held:
            rule, row = held[fp]
            new = _holding(old, rule, row, fp, now, rows, context)
        elif old is not None and old.rule in by_name:
            new = _failing(old, by_name[old.rule], now)
        if new is not None:
            alerts[fp] = new
        state = new.state if new is not None else "inactive"
        if old is None or old.state != state:
            moves.append(Transition(new or old, state, now))  # type: ignore[arg-type]
    return alerts, moves


def _holding(
    old: Alert | None,
    rule: Rule,
    row: MetricRow,
    fp: str,
    now: datetime,
    rows: Sequence[MetricRow],
    context: Context,
) -> Alert:
    labels = labels_of(rule, row)
    notes = {k: render(v, row, labels) for k, v in rule.annotations.items()}
    firing = fires_now(old, rule, now)
    if old is None or old.state == "resolved":
        old = Alert(rule.name, fp, labels, notes, "pending", now, now)
    alert = replace(old, annotations=notes, last_held=now)
    if firing:
        series = context.history.get((row.model, row.version, row.column, row.metric), ())
        related = [r for r in rows if (r.model, r.version) == (row.model, row.version)]
        moved = context.moved.get((row.model, row.version, row.column), ())
        proof = evidence_of(row, [*series, row], related, moved=moved, holds=rule.when.holds)
        alert = replace(alert, state="firing", fired_at=now, evidence=proof)
    elif alert.state == "firing":
        proof = {**alert.evidence, **_latest(row)}
        alert = replace(alert, evidence=proof)
    return alert


def fires_now(old: Alert | None, rule: Rule, now: datetime) -> bool:
    """Whether the alert of ``rule`` (``old``: as it was before, if any) whose condition
    holds at ``now`` fires at this evaluation: it was not firing, and the condition has held
    for ``for`` (since it became pending; since now for a new one).

    >>> from sightline.alerts.rules import Condition, Selector
    >>> rule = Rule("r", Selector(metric="psi"), Condition("alert"), for_=300.0)
    >>> fires_now(None, rule, datetime(2026, 1, 1))
    False
    """
    if old is not None and old.state == "firing":
        return False
    since = old.active_at if old is not None and old.state == "pending" else now
    return now - since >= timedelta(seconds=rule.for_)


def _latest(row: MetricRow) -> dict[str, Any]:
    return {k: v for k, v in evidence_of(row).items() if k in ("value", "effect", "rows")}


def _failing(old: Alert, rule: Rule, now: datetime) -> Alert | None:
    if old.state == "pending":
        return None
    if old.state == "firing":
        if now - old.last_held < timedelta(seconds=rule.keep_firing_for):
            return old
        return replace(old, state="resolved", resolved_at=now)
    return old


def _notify(
    alerts: Iterable[Alert], rules: RuleSet, before: Mapping[str, Group], now: datetime
) -> tuple[dict[str, Group], list[Notification]]:
    members: dict[str, list[Alert]] = {}
    heads: dict[str, tuple[str, dict[str, str]]] = {}
    for alert in alerts:
        receiver = rules.receiver_for(alert.labels)
        if receiver is None or alert.state == "pending":
            continue
        glabels = {k: alert.labels.get(k, "") for k in rules.route.group_by}
        key = f"{receiver.name}:{json.dumps(sorted(glabels.items()))}"
        members.setdefault(key, []).append(alert)
        heads[key] = (receiver.name, glabels)
    groups: dict[str, Group] = {}
    notes: list[Notification] = []
    route = rules.route
    for key in sorted(set(members) | set(before)):
        group = before.get(key)
        told = {fp for fp, status in group.sent if status == "firing"} if group else set()
        inside = [a for a in members.get(key, []) if a.state == "firing" or a.fingerprint in told]
        firing = [a for a in inside if a.state == "firing"]
        if group is None:
            if not firing:
                continue
            group = Group(key, heads[key][0], heads[key][1], now)
        want = frozenset((a.fingerprint, a.state) for a in inside)
        if group.sent_at is None:
            due = now - group.formed_at >= timedelta(seconds=route.group_wait) and bool(firing)
        elif want != group.sent:
            due = now - group.sent_at >= timedelta(seconds=route.group_interval)
        else:
            due = bool(firing) and now - group.sent_at >= timedelta(seconds=route.repeat_interval)
        if due:
            status: Literal["firing", "resolved"] = "firing" if firing else "resolved"
            fresh = tuple(a.fingerprint for a in firing if a.fingerprint not in told)
            ordered = tuple(sorted(inside, key=lambda a: a.fingerprint))
            note_id = _note_id(key, want, now)
            notes.append(
                Notification(
                    note_id, group.receiver, key, group.labels, status, ordered, fresh, now
                )
            )
            group = replace(group, sent_at=now, sent=want)
        if firing or (group.sent_at is not None and want != group.sent):
            groups[key] = group
    return groups, notes


def _note_id(key: str, want: frozenset[tuple[str, str]], now: datetime) -> str:
    text = json.dumps([key, sorted(want), now.isoformat()])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


__all__ = [
    "Alert",
    "Evaluation",
    "Group",
    "Notification",
    "Silence",
    "Snapshot",
    "Transition",
    "evaluate",
    "fingerprint",
    "fires_now",
    "labels_of",
    "render",
]
