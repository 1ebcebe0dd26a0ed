"""Alerting over a store: read the newest rows, evaluate, save, then deliver the outbox.

The scheduler calls :meth:`Alerting.run` after each pass; the rules can be swapped at any
time (:meth:`Alerting.reload`, on ``SIGHUP`` or through the API).

>>> from datetime import datetime
>>> from sightline.store import open_store
>>> alerting = Alerting(default_rules())
>>> alerting.run(open_store(":memory:"), datetime(2026, 1, 1))
[]
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from fnmatch import fnmatchcase
from pathlib import Path

from sightline.alerts import inputs
from sightline.alerts.evaluate import Evaluation, Silence, evaluate
from sightline.alerts.inputs import HEARTBEAT_TIMEOUT
from sightline.alerts.notify import bodies, deliver
from sightline.alerts.records import alert_record, group_json, snapshot_of, transition_record
from sightline.alerts.rules import RuleSet, default_rules, load_rules
from sightline.alerts.slo import burn_rows
from sightline.store import Store
from sightline.store import alerts as stored

log = logging.getLogger("sightline.alerts")


@dataclass
class Alerting:
    """The rules in force (from ``path`` when given) and their evaluation over a store;
    ``external_url`` (the dashboard's address) overrides the file's."""

    rules: RuleSet
    path: str | None = None
    external_url: str = ""
    heartbeat_timeout: float = HEARTBEAT_TIMEOUT

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.rules = self._linked(self.rules)

    @classmethod
    def from_file(cls, path: str | Path | None, external_url: str = "") -> Alerting:
        """The rules of ``path``, or the default rules when None."""
        if path is None:
            return cls(default_rules(), None, external_url)
        return cls(load_rules(path), str(path), external_url)

    def reload(self) -> RuleSet:
        """Read the rules file again; a bad file raises and leaves the rules in force."""
        if self.path is not None:
            fresh = self._linked(load_rules(self.path))
            with self._lock:
                self.rules = fresh
        return self.rules

    def _linked(self, rules: RuleSet) -> RuleSet:
        return replace(rules, external_url=self.external_url) if self.external_url else rules

    def run(self, store: Store, now: datetime) -> list[Evaluation]:
        """Evaluate every project at ``now``, save the results, then send what is due."""
        rules = self.rules
        results = []
        for project in stored.alert_projects(store):
            try:
                results.append(
                    evaluate_project(
                        store, project, rules, now, heartbeat_timeout=self.heartbeat_timeout
                    )
                )
            except Exception:  # one project's failure must not stop the others
                log.exception("alert evaluation of project %s failed", project)
        deliver(store, rules, now)
        return results


def evaluate_project(
    store: Store,
    project: str,
    rules: RuleSet,
    now: datetime,
    *,
    heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
) -> Evaluation:
    """One evaluation of ``project`` at ``now``, saved with its notifications: the stored
    rows (after the SLO budgets of the newest closed windows are stored), the SLO burn
    rates and the live instances of every version that sent heartbeats in the last day."""
    models = sorted({v.model for v in store.list_versions(project)})
    budgets = inputs.budgets(store, project, models, rules, now)
    stored.save_metric_rows(store, project, "slo", budgets, now)
    rows = list(store.newest_metric_rows(project))
    rows += inputs.liveness(store, project, models, now, heartbeat_timeout)
    for model in models:
        for slo in rules.slos:
            if fnmatchcase(model, slo.model):
                rows += burn_rows(slo, model, inputs.counts(store, project, model, slo, now), now)
    before = snapshot_of(stored.alert_states(store, project), stored.alert_groups(store, project))
    candidates = inputs.candidates(rules, rows, before.alerts, now)
    mutes = [
        Silence(s.silence_id, s.matchers, s.starts_at, s.ends_at)
        for s in stored.silences(store, project)
    ]
    result = evaluate(
        rows,
        rules,
        before,
        now,
        silences=mutes,
        history=inputs.history(store, project, candidates, rows, now),
        moved=inputs.moved(store, project, candidates),
    )
    stored.save_evaluation(store, project, record_of(project, result, rules, now), now)
    return result


def record_of(
    project: str, result: Evaluation, rules: RuleSet, now: datetime
) -> stored.EvaluationRecord:
    """What the store keeps of an evaluation; its notifications' ids are the same
    whenever the same evaluation is made again, so the outbox queues them once."""
    by_name = {r.name: r for r in rules.receivers}
    outbox = [
        stored.OutboxEntry(project, note_id, note.receiver, json.dumps(body), now, 0, "")
        for note in result.notifications
        for note_id, body in bodies(note, by_name[note.receiver], rules)
    ]
    return stored.EvaluationRecord(
        [alert_record(a) for a in result.snapshot.alerts.values()],
        {k: group_json(g) for k, g in result.snapshot.groups.items()},
        [transition_record(t) for t in result.transitions],
        outbox,
    )


__all__ = ["Alerting", "evaluate_project", "record_of"]
