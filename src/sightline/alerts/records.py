"""Alerts and groups as the JSON the store keeps, and back.

>>> from datetime import datetime
>>> t = datetime(2026, 1, 1)
>>> a = Alert("drift", "ab", {"model": "m"}, {}, "firing", t, t, fired_at=t)
>>> alert_of(alert_record(a)) == a
True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sightline.alerts.evaluate import Alert, Group, Snapshot, Transition
from sightline.store.alerts import StoredAlert, StoredTransition


def _t(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _d(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _alert_json(a: Alert) -> str:
    return json.dumps(
        {
            "labels": dict(a.labels),
            "annotations": dict(a.annotations),
            "active_at": _t(a.active_at),
            "last_held": _t(a.last_held),
            "fired_at": _t(a.fired_at),
            "resolved_at": _t(a.resolved_at),
            "evidence": dict(a.evidence),
        },
        allow_nan=False,
        sort_keys=True,
    )


def alert_record(a: Alert) -> StoredAlert:
    """The store's row of an alert."""
    since = a.resolved_at or a.fired_at or a.active_at
    return StoredAlert(a.rule, a.fingerprint, a.state, since, _alert_json(a))


def alert_of(row: StoredAlert) -> Alert:
    """The alert of a store row."""
    d: dict[str, Any] = json.loads(row.detail_json)
    return Alert(
        row.rule_id,
        row.subject,
        d["labels"],
        d["annotations"],
        row.state,  # type: ignore[arg-type]
        _d(d["active_at"]),  # type: ignore[arg-type]
        _d(d["last_held"]),  # type: ignore[arg-type]
        _d(d["fired_at"]),
        _d(d["resolved_at"]),
        d["evidence"],
    )


def transition_record(t: Transition) -> StoredTransition:
    """The store's row of a transition: the alert as it was then, with its evidence."""
    return StoredTransition(t.alert.rule, t.alert.fingerprint, t.state, t.at, _alert_json(t.alert))


def group_json(g: Group) -> str:
    """A group as JSON."""
    return json.dumps(
        {
            "receiver": g.receiver,
            "labels": dict(g.labels),
            "formed_at": _t(g.formed_at),
            "sent_at": _t(g.sent_at),
            "sent": sorted(g.sent),
        }
    )


def group_of(key: str, text: str) -> Group:
    """The group of its JSON."""
    d = json.loads(text)
    sent = frozenset((str(fp), str(status)) for fp, status in d["sent"])
    return Group(key, d["receiver"], d["labels"], _d(d["formed_at"]), _d(d["sent_at"]), sent)  # type: ignore[arg-type]


def snapshot_of(alerts: list[StoredAlert], groups: Mapping[str, str]) -> Snapshot:
    """The evaluation state kept in the store."""
    return Snapshot(
        {r.subject: alert_of(r) for r in alerts},
        {k: group_of(k, v) for k, v in groups.items()},
    )


__all__ = ["alert_of", "alert_record", "group_json", "group_of", "snapshot_of", "transition_record"]
