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
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import numpy as np

from sightline.alerts.evaluate import Evaluation, Silence, evaluate, fingerprint, labels_of
from sightline.alerts.notify import bodies, deliver
from sightline.alerts.records import alert_record, group_json, snapshot_of, transition_record
from sightline.alerts.rules import RuleSet, Slo, default_rules, load_rules
from sightline.alerts.slo import slo_rows, slow_count
from sightline.analysis.rows import MetricRow
from sightline.store import Store
from sightline.store import alerts as stored

log = logging.getLogger("sightline.alerts")

#: How many windows of a series back the evidence looks for the onset.
ONSET_WINDOWS = 200


@dataclass
class Alerting:
    """The rules in force (from ``path`` when given) and their evaluation over a store;
    ``external_url`` (the dashboard's address) overrides the file's."""

    rules: RuleSet
    path: str | None = None
    external_url: str = ""

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
                results.append(evaluate_project(store, project, rules, now))
            except Exception:  # one project's failure must not stop the others
                log.exception("alert evaluation of project %s failed", project)
        deliver(store, rules, now)
        return results


def evaluate_project(store: Store, project: str, rules: RuleSet, now: datetime) -> Evaluation:
    """One evaluation of ``project`` at ``now``, saved with its notifications."""
    rows = list(store.newest_metric_rows(project))
    for model in sorted({r.model for r in rows}):
        for slo in rules.slos:
            if fnmatchcase(model, slo.model):
                rows += slo_rows(slo, model, _counts(store, project, model, slo, now), now)
    before = snapshot_of(stored.alert_states(store, project), stored.alert_groups(store, project))
    firing = {a.fingerprint for a in before.alerts.values() if a.state == "firing"}
    history = _history(store, project, rules, rows, firing, now)
    mutes = [
        Silence(s.silence_id, s.matchers, s.starts_at, s.ends_at)
        for s in stored.silences(store, project)
    ]
    result = evaluate(rows, rules, before, now, silences=mutes, history=history)
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


def _counts(store: Store, project: str, model: str, slo: Slo, now: datetime) -> Any:
    def counts(seconds: int) -> tuple[float, float]:
        n, errors, buckets = store.health_sums(
            project, model, now - timedelta(seconds=seconds), now
        )
        if slo.kind == "availability":
            return float(errors), float(n)
        counted = np.asarray(buckets, dtype=float)
        return slow_count(counted, slo.threshold_ms), float(counted.sum())

    return counts


def _history(
    store: Store,
    project: str,
    rules: RuleSet,
    rows: Sequence[MetricRow],
    firing: set[str],
    now: datetime,
) -> dict[tuple[str, str, str, str], list[MetricRow]]:
    """Older rows of the series about to fire (for the onset), one query per model and
    metric."""
    wanted = {
        (r.model, r.metric)
        for rule in rules.rules
        for r in rows
        if r.window_start is not None
        and rule.match.matches(r)
        and rule.when.holds(r)
        and fingerprint(labels_of(rule, r)) not in firing
    }
    series: dict[tuple[str, str, str, str], list[MetricRow]] = {}
    for model, metric in sorted(wanted):
        window = store.model_settings(project, model).window
        since = now - timedelta(seconds=window * ONSET_WINDOWS)
        newest = max(
            r.window_start
            for r in rows
            if (r.model, r.metric) == (model, metric) and isinstance(r.window_start, datetime)
        )
        for row in store.metric_rows(project, model, since=since, until=newest, metric=metric):
            series.setdefault((model, row.version, row.column, metric), []).append(row)
    return series


__all__ = ["Alerting", "evaluate_project", "record_of"]
