"""What an evaluation reads from the store beyond the newest metric rows: the SLOs' event
counts and budgets, the live instances of each version, and the evidence of the alerts
about to fire (older rows of their series, the bins that moved in their window).

>>> from datetime import datetime
>>> from sightline.store import open_store
>>> liveness(open_store(":memory:"), "default", ["churn"], datetime(2026, 1, 1), 120.0)
[]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

import numpy as np

from sightline._time import window_of
from sightline.alerts.evaluate import Alert, fingerprint, fires_now, labels_of
from sightline.alerts.evidence import moved_bins, moved_items
from sightline.alerts.rules import RuleSet, Slo
from sightline.alerts.slo import Counts, budget_row, slow_count
from sightline.analysis.methods import DriftOptions
from sightline.analysis.profile_compare import STREAM_ROLES, compare_profiles
from sightline.analysis.rows import MetricRow, RowContext
from sightline.errors import NotFoundError
from sightline.profile import Profile, merge_profiles
from sightline.profile.column import CategoricalColumnProfile
from sightline.store import Store

#: How many windows of a series back the evidence looks for the onset.
ONSET_WINDOWS = 200
#: Seconds without a heartbeat after which an instance is not live (the collector's
#: default ``Settings.heartbeat_timeout``).
HEARTBEAT_TIMEOUT = 120.0
#: Seconds after its last heartbeat during which a version's live instances are watched.
WATCHED_FOR = 86400


def counts(store: Store, project: str, model: str, slo: Slo, end: datetime) -> Counts:
    """The (bad, total) events of ``model`` for ``slo`` in the seconds before ``end``."""

    def before_end(seconds: int) -> tuple[float, float]:
        sums = store.health_sums(project, model, end - timedelta(seconds=seconds), end)
        if slo.kind == "availability":
            return float(sums.errors), float(sums.predictions)
        counted = np.asarray(sums.buckets, dtype=float)
        return slow_count(counted, slo.threshold_ms), float(counted.sum())

    return before_end


def budgets(
    store: Store, project: str, models: Sequence[str], rules: RuleSet, now: datetime
) -> list[MetricRow]:
    """The ``error_budget_remaining`` row of each SLO of each model in the model's newest
    closed window (its end ``lateness`` before ``now``, as the scheduler closes them)."""
    rows = []
    for model in models:
        settings = store.model_settings(project, model)
        end = window_of(now - timedelta(seconds=settings.lateness), settings.window)[0]
        window = (end - timedelta(seconds=settings.window), end)
        for slo in rules.slos:
            if fnmatchcase(model, slo.model):
                rows.append(budget_row(slo, model, counts(store, project, model, slo, end), window))
    return rows


def liveness(
    store: Store, project: str, models: Sequence[str], now: datetime, timeout: float
) -> list[MetricRow]:
    """A ``live_instances`` row of every version with a heartbeat in the last
    :data:`WATCHED_FOR` seconds: its instances with one in the last ``timeout`` seconds.
    A version whose instances all said goodbye (closed their Monitor: a deploy retired
    it) is not watched; one whose instance stopped without a goodbye (a crash) is."""
    live = store.live_instances(project, now - timedelta(seconds=timeout))
    since = now - timedelta(seconds=WATCHED_FOR)
    seen = {
        (m, b.version)
        for m in models
        for b in store.newest_heartbeats(project, m, since)
        if not b.closed
    }
    return [
        MetricRow(
            metric="live_instances",
            value=float(live.get(key, 0)),
            model=key[0],
            version=key[1],
            window_start=now - timedelta(seconds=timeout),
            window_end=now,
            n_cur=live.get(key, 0),
            method=f"live instances: a heartbeat in the last {timeout:g} s",
        )
        for key in sorted(seen)
    ]


def candidates(
    rules: RuleSet, rows: Sequence[MetricRow], before: Mapping[str, Alert], now: datetime
) -> list[MetricRow]:
    """The windowed rows that make an alert fire at ``now`` (``before``: the alerts by
    fingerprint): the ones whose evidence is needed."""
    return [
        r
        for rule in rules.rules
        for r in rows
        if r.window_start is not None
        and rule.match.matches(r)
        and rule.when.holds(r)
        and fires_now(before.get(fingerprint(labels_of(rule, r))), rule, now)
    ]


def history(
    store: Store,
    project: str,
    candidates: Sequence[MetricRow],
    rows: Sequence[MetricRow],
    now: datetime,
) -> dict[tuple[str, str, str, str], list[MetricRow]]:
    """Older rows of the series about to fire (for the onset), one query per model and
    metric."""
    wanted = {(r.model, r.metric) for r in candidates}
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


def moved(
    store: Store, project: str, candidates: Sequence[MetricRow]
) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """The bins or categories that moved most, per (model, version, column) of the rows
    about to fire, from the profiles of their window and of their reference (as the
    scheduler's drift job compares them)."""
    wanted: dict[tuple[str, str, datetime, datetime], set[str]] = {}
    for r in candidates:
        start, end = r.window_start, r.window_end
        if r.column and r.version and isinstance(start, datetime) and isinstance(end, datetime):
            wanted.setdefault((r.model, r.version, start, end), set()).add(r.column)
    found: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for (model, version, start, end), columns in sorted(wanted.items()):
        pair = window_profiles(store, project, model, version, start, end)
        if pair is None:
            continue
        reference, current = pair
        charts = compare_profiles(
            reference, current, DriftOptions(), RowContext(), roles=STREAM_ROLES
        ).distributions
        for column in sorted(columns):
            ref, cur = reference.columns.get(column), current.columns.get(column)
            if column in charts:
                found[(model, version, column)] = moved_bins(charts[column])
            elif isinstance(ref, CategoricalColumnProfile) and isinstance(
                cur, CategoricalColumnProfile
            ):
                found[(model, version, column)] = moved_items(ref, cur)
    return found


def window_profiles(
    store: Store, project: str, model: str, version: str, start: datetime, end: datetime
) -> tuple[Profile, Profile] | None:
    """The (reference, window) profiles of a version's window, merged as the scheduler's
    drift job merges them; None without a reference or without profiles that bin on it."""
    # Imported here: the scheduler imports this package.
    from sightline.scheduler import Job, jobs

    try:
        inputs = jobs.load(store, Job(start, project, model, version, "drift", end, ""))
    except NotFoundError:
        return None
    if not inputs.reference or not inputs.profiles:
        return None
    window = [Profile.from_bytes(p) for p in inputs.profiles]
    parts, _ = jobs.compatible([Profile.from_bytes(p) for p in inputs.reference])
    reference = merge_profiles(parts)
    reference.model, reference.version = window[0].model, window[0].version
    kept, _ = jobs.compatible(window, reference)
    return (reference, merge_profiles(kept)) if kept else None


__all__ = [
    "HEARTBEAT_TIMEOUT",
    "ONSET_WINDOWS",
    "WATCHED_FOR",
    "budgets",
    "candidates",
    "counts",
    "history",
    "liveness",
    "moved",
    "window_profiles",
]
