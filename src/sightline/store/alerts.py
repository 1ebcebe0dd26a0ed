"""What alerting keeps: alert states, notification groups, transitions, the outbox,
silences, and the metric rows it computes itself (the SLOs' budgets).

Functions over a :class:`~sightline.store.base.Store` (same SQL on DuckDB and PostgreSQL).
The alerting layer owns the meaning of the JSON it stores here; the store keeps it whole.
One evaluation is saved in one transaction (:func:`save_evaluation`): the states, the
groups, the transitions and the new notifications of the outbox, so a crash leaves either
the evaluation before or the one after, and a notification is stored before it is sent.

>>> from datetime import datetime
>>> from sightline.store import open_store
>>> store = open_store(":memory:")
>>> t = datetime(2026, 1, 1)
>>> save_evaluation(store, "p", EvaluationRecord(
...     [StoredAlert("drift", "ab12", "firing", t, "{}")], {}, [],
...     [OutboxEntry("p", "n1", "ops", "{}", t, 0, "")]), t)
>>> [e.notification_id for e in due_notifications(store, t)]
['n1']
>>> mark_delivered(store, "p", "n1", t); due_notifications(store, t)
[]
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sightline.errors import NotFoundError

if TYPE_CHECKING:
    from sightline.analysis.rows import MetricRow
    from sightline.store.base import Store


class StoredAlert(NamedTuple):
    """An alert's state row: ``since`` is its last transition, ``detail_json`` the rest."""

    rule_id: str
    subject: str
    state: str
    since: datetime
    detail_json: str


class StoredTransition(NamedTuple):
    """One move of an alert, with the rows that caused it (in ``detail_json``)."""

    rule_id: str
    subject: str
    state: str
    at: datetime
    detail_json: str


class OutboxEntry(NamedTuple):
    """A notification waiting to be sent (or sent: then ``delivered`` is set)."""

    project: str
    notification_id: str
    receiver: str
    body_json: str
    created_at: datetime
    attempts: int
    last_error: str


class EvaluationRecord(NamedTuple):
    """What one evaluation of a project leaves: every state, every group (key to JSON),
    the transitions and the notifications to send."""

    alerts: Sequence[StoredAlert]
    groups: Mapping[str, str]
    transitions: Sequence[StoredTransition]
    outbox: Sequence[OutboxEntry]


class StoredSilence(NamedTuple):
    """A silence: label matchers (globs) muting alerts between two times."""

    silence_id: str
    matchers: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    comment: str
    created_at: datetime


def alert_projects(store: Store) -> list[str]:
    """Every project (each is evaluated on its own)."""
    return [str(r[0]) for r in store._read("SELECT project FROM projects ORDER BY project")]


def alert_states(store: Store, project: str) -> list[StoredAlert]:
    """The project's alert states, by rule and subject."""
    rows = store._read(
        "SELECT rule_id, subject, state, since, detail_json FROM alert_states "
        "WHERE project = ? ORDER BY rule_id, subject",
        (project,),
    )
    return [StoredAlert(*r) for r in rows]


def alert_groups(store: Store, project: str) -> dict[str, str]:
    """The project's notification groups: key to JSON state."""
    rows = store._read(
        "SELECT group_key, state_json FROM alert_groups WHERE project = ?", (project,)
    )
    return {str(k): str(v) for k, v in rows}


def alert_transitions(store: Store, project: str, subject: str) -> list[StoredTransition]:
    """Every transition of one alert, oldest first."""
    rows = store._read(
        "SELECT rule_id, subject, state, moved_at, detail_json FROM alert_transitions "
        "WHERE project = ? AND subject = ? ORDER BY moved_at",
        (project, subject),
    )
    return [StoredTransition(*r) for r in rows]


def recent_transitions(store: Store, project: str, limit: int = 500) -> list[StoredTransition]:
    """The project's ``limit`` newest transitions, of every alert, newest first."""
    rows = store._read(
        "SELECT rule_id, subject, state, moved_at, detail_json FROM alert_transitions "
        "WHERE project = ? ORDER BY moved_at DESC, state DESC LIMIT ?",
        (project, limit),
    )
    return [StoredTransition(*r) for r in rows]


def save_evaluation(store: Store, project: str, record: EvaluationRecord, now: datetime) -> None:
    """Replace the project's states and groups, append its transitions and queue its
    notifications, in one transaction (a notification id seen before is not queued again).
    """
    with store._write() as tx:
        tx.execute("DELETE FROM alert_states WHERE project = ?", (project,))
        tx.execute("DELETE FROM alert_groups WHERE project = ?", (project,))
        for a in record.alerts:
            tx.execute(
                "INSERT INTO alert_states VALUES (?, ?, ?, ?, ?, ?, ?)",
                (project, a.rule_id, a.subject, a.state, a.since, now, a.detail_json),
            )
        for key, state in record.groups.items():
            tx.execute("INSERT INTO alert_groups VALUES (?, ?, ?, ?)", (project, key, state, now))
        for t in record.transitions:
            tx.execute(
                "INSERT INTO alert_transitions VALUES (?, ?, ?, ?, ?, ?)",
                (project, t.rule_id, t.subject, t.state, t.at, t.detail_json),
            )
        for n in record.outbox:
            tx.execute(
                "INSERT INTO alert_outbox VALUES (?, ?, ?, ?, ?, 0, ?, NULL, '') "
                "ON CONFLICT DO NOTHING",
                (project, n.notification_id, n.receiver, n.body_json, n.created_at, n.created_at),
            )


def save_metric_rows(
    store: Store, project: str, kind: str, rows: Sequence[MetricRow], computed_at: datetime
) -> None:
    """Store metric rows that alerting computes (``kind`` ``slo``: the SLOs' budgets) in
    ``metric_rows``, replacing the rows of the same kind, series and window, in one
    transaction (writing the same rows again changes nothing)."""
    # Imported here: the row codec pulls in the analysis package (see ``base._metric_rows``).
    from sightline.store.records import metric_record

    if not rows:
        return
    with store._write() as tx:
        for r in rows:
            tx.execute(
                "DELETE FROM metric_rows WHERE project = ? AND model = ? AND version = ? "
                "AND window_start = ? AND column_name = ? AND metric = ? AND kind = ?",
                (project, r.model, r.version, r.window_start, r.column, r.metric, kind),
            )
        tx.insert("metric_rows", metric_record(project, kind, rows, computed_at))


def due_notifications(store: Store, now: datetime, limit: int = 100) -> list[OutboxEntry]:
    """Notifications not yet delivered whose next attempt is due, oldest first."""
    rows = store._read(
        "SELECT project, notification_id, receiver, body_json, created_at, attempts, "
        "last_error FROM alert_outbox WHERE delivered_at IS NULL "
        "AND next_attempt_at IS NOT NULL AND next_attempt_at <= ? "
        f"ORDER BY created_at, notification_id LIMIT {int(limit)}",
        (now,),
    )
    return [OutboxEntry(*r) for r in rows]


def mark_delivered(store: Store, project: str, notification_id: str, now: datetime) -> None:
    """Record that the receiver acknowledged the notification."""
    with store._write() as tx:
        tx.execute(
            "UPDATE alert_outbox SET delivered_at = ?, attempts = attempts + 1 "
            "WHERE project = ? AND notification_id = ?",
            (now, project, notification_id),
        )


def mark_failed(
    store: Store, project: str, notification_id: str, error: str, retry_at: datetime | None
) -> None:
    """Record a failed attempt; ``retry_at`` None gives up on the notification."""
    with store._write() as tx:
        tx.execute(
            "UPDATE alert_outbox SET attempts = attempts + 1, next_attempt_at = ?, "
            "last_error = ? WHERE project = ? AND notification_id = ?",
            (retry_at, error[:1000], project, notification_id),
        )


def outbox(store: Store, project: str) -> list[dict[str, Any]]:
    """Every notification of the project with its delivery state, oldest first."""
    rows = store._read(
        "SELECT notification_id, receiver, created_at, attempts, delivered_at, "
        "next_attempt_at, last_error FROM alert_outbox WHERE project = ? "
        "ORDER BY created_at, notification_id",
        (project,),
    )
    keys = ("id", "receiver", "created_at", "attempts", "delivered_at", "next_attempt_at")
    return [dict(zip((*keys, "last_error"), r, strict=True)) for r in rows]


def add_silence(store: Store, project: str, silence: StoredSilence) -> None:
    """Store a silence."""
    with store._write() as tx:
        tx.execute(
            "INSERT INTO alert_silences VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                project,
                silence.silence_id,
                json.dumps(silence.matchers, sort_keys=True),
                silence.starts_at,
                silence.ends_at,
                silence.comment,
                silence.created_at,
            ),
        )


def silences(store: Store, project: str) -> list[StoredSilence]:
    """The project's silences, newest first."""
    rows = store._read(
        "SELECT silence_id, matchers_json, starts_at, ends_at, comment, created_at "
        "FROM alert_silences WHERE project = ? ORDER BY created_at DESC, silence_id",
        (project,),
    )
    return [StoredSilence(i, json.loads(m), s, e, c, t) for i, m, s, e, c, t in rows]


def delete_silence(store: Store, project: str, silence_id: str) -> None:
    """Remove a silence, or :class:`NotFoundError`."""
    with store._write() as tx:
        gone = tx.execute(
            "DELETE FROM alert_silences WHERE project = ? AND silence_id = ? RETURNING 1",
            (project, silence_id),
        )
    if not gone:
        raise NotFoundError(f"no silence {silence_id!r}")


__all__ = [
    "EvaluationRecord",
    "OutboxEntry",
    "StoredAlert",
    "StoredSilence",
    "StoredTransition",
    "add_silence",
    "alert_groups",
    "alert_projects",
    "alert_states",
    "alert_transitions",
    "delete_silence",
    "due_notifications",
    "mark_delivered",
    "mark_failed",
    "outbox",
    "recent_transitions",
    "save_evaluation",
    "save_metric_rows",
    "silences",
]
