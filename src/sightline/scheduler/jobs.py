"""What a job computes, in three steps: load inputs from the store, compute rows (a pure
function, which Dask can run anywhere), and write them back.

- ``drift`` and ``quality``: the window's profiles (all instances, merged in a canonical
  order) against the version's reference profile, or against the merge of the preceding
  ``reference_windows`` windows (a rolling reference), for the stream's columns (the
  target's labels come separately). Drift is the library's default statistic on the
  reference's histograms, which is exact, so a rerun gives identical rows and the rows
  are ``compare``'s; rows estimated from KLL sketches (whose compaction is randomized)
  are left out of scheduled jobs for the same reason.
- ``health``: predictions, throughput per second, error rate and latency p50/p95/p99
  (interpolated in the Prometheus buckets, as ``histogram_quantile`` does, inside the
  observed minimum and maximum, which the KLL sketches keep exactly), instances,
  and a change detector on each watched KPI.
- ``matrix``: once the window's drift and health jobs are done, the anomaly score of its
  KPIs (drift share and accuracy included) against the last windows (Hotelling's T²).
- ``performance``: the realized rows ``compare`` gives for the window's predictions
  joined with their labels (:func:`~sightline.analysis.realized.realized_window_rows`:
  bounds from the labelled reference, when one was uploaded); when that reference is a
  classifier's with probabilities, also ``estimated_<metric>`` rows (CBPE) from all the
  window's predictions that carry them, labelled or not.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from sightline._time import window_of
from sightline.analysis.estimated import estimated_window_rows
from sightline.analysis.methods import DriftOptions
from sightline.analysis.profile_compare import STREAM_ROLES, compare_profiles
from sightline.analysis.quality import QUALITY_METRICS
from sightline.analysis.realized import label_text, realized_window_rows
from sightline.analysis.rows import MetricRow, RowContext
from sightline.errors import IncompatibleProfilesError
from sightline.profile import LATENCY_BUCKETS_MS, Profile, Schema, merge_profiles
from sightline.scheduler.embedding import text_embedding_rows
from sightline.scheduler.generation import first_byte_rows, generation_rows
from sightline.scheduler.plan import Job, reference_starts
from sightline.scheduler.rollup import EXACT_KINDS, parse_rollup
from sightline.stats.detectors import CUSUM
from sightline.stats.matrix import newest_row_t2, t2_limit
from sightline.store import Store, as_utc
from sightline.store.base import Transaction
from sightline.store.records import metric_record
from sightline.store.rollups import RollupKey
from sightline.store.scheduling import Labelled

DRIFT_OPTIONS = DriftOptions()
_TS = pa.timestamp("us")


class KpiPoint(NamedTuple):
    """One model-level KPI of one earlier window, as the health and matrix jobs read it."""

    window_start: datetime
    metric: str
    value: float


@dataclass(frozen=True)
class JobInputs:
    """Everything :func:`compute` needs, loaded from the store (picklable)."""

    job: Job
    profiles: tuple[bytes, ...] = ()
    reference: tuple[bytes, ...] = ()
    labelled: tuple[Labelled, ...] = ()
    estimator: Mapping[str, Any] | None = None
    history: tuple[KpiPoint, ...] = ()
    schema: Mapping[str, Any] = field(default_factory=dict)
    rolling: int = 0  # windows of the rolling reference (0: the uploaded one)


def load(store: Store, job: Job) -> JobInputs:
    """The inputs of ``job``; a rollup of an exact kind loads its base kind's inputs for
    the tier window (health without the change detectors' history: their rows are
    averaged)."""
    rolled = parse_rollup(job.kind)
    if rolled is not None:
        if rolled[1] not in EXACT_KINDS:
            return JobInputs(job)
        inner = load(store, replace(job, kind=rolled[1]))
        return replace(inner, job=job, history=())
    if job.kind == "performance":
        rows = store.labelled(job.project, job.model, job.version, job.window_start, job.window_end)
        estimator = store.estimator(job.project, job.model, job.version)
        schema = store.get_version(job.project, job.model, job.version).schema
        return JobInputs(job, labelled=tuple(rows), estimator=estimator, schema=schema)
    if job.kind == "matrix":
        return JobInputs(job, history=_history(store, job, until=job.window_end))
    profiles = store.window_profiles(
        job.project, job.model, job.version, job.window_start, job.window_end
    )
    if job.kind == "health":
        return JobInputs(job, tuple(profiles), history=_history(store, job))
    windows = store.reference_windows(job.project, job.model, job.version)
    size = job.window_end - job.window_start
    if windows and store.model_settings(job.project, job.model).reference_exclude_alerted:
        seconds = int(size.total_seconds())
        starts = reference_starts(
            job.window_start,
            size,
            windows,
            guard=True,
            windows=store.profile_windows(job.project, job.model, job.version, seconds),
            alerted=store.alerted_windows(job.project, job.model, job.version),
        )
        reference = tuple(
            payload
            for start in sorted(starts)
            for payload in store.window_profiles(
                job.project, job.model, job.version, start, start + size
            )
        )
    elif windows:
        since = job.window_start - windows * size
        reference = tuple(
            store.window_profiles(job.project, job.model, job.version, since, job.window_start)
        )
    else:
        found = store.get_version(job.project, job.model, job.version).reference
        reference = (found,) if found is not None else ()
    return JobInputs(job, tuple(profiles), reference, rolling=windows)


def compute(inputs: JobInputs) -> list[MetricRow]:
    """The metric rows of one job (pure: the same inputs give the same rows)."""
    job = inputs.job
    rolled = parse_rollup(job.kind)
    if rolled is not None:  # exact rollups: the base kind's rows of the tier window
        base = replace(job, kind=rolled[1])
        return compute(replace(inputs, job=base)) if rolled[1] in EXACT_KINDS else []
    ctx = RowContext(job.model, job.version, job.window_start, job.window_end)
    if job.kind == "performance":
        schema = Schema.from_dict(inputs.schema)
        realized = realized_window_rows(schema, inputs.estimator, inputs.labelled, ctx)
        return realized + _estimated(inputs.labelled, inputs.estimator, ctx)
    if job.kind == "matrix":
        return matrix_rows(inputs.history, job.window_start, ctx)
    profiles = [Profile.from_bytes(p) for p in inputs.profiles]
    if job.kind == "health":
        seconds = (job.window_end - job.window_start).total_seconds()
        kpis = _health(profiles, seconds, ctx) + generation_rows(profiles, seconds, ctx)
        kpis += first_byte_rows(profiles, ctx)
        return kpis + change_rows(inputs.history, kpis, ctx)
    return _compared(inputs, profiles, ctx)


def _compared(inputs: JobInputs, profiles: list[Profile], ctx: RowContext) -> list[MetricRow]:
    """Drift or quality rows: the window's profiles against the (rolling) reference."""
    job = inputs.job
    size = job.window_end - job.window_start
    if not inputs.reference and not inputs.rolling:
        return [
            ctx.not_computed("drift_share", "no reference: upload one or set a rolling reference")
        ]
    # A rolling reference keeps the windows binned as this one (the newest bins when the
    # window holds profiles sent before and after the reference's edges were fixed).
    anchor = next((p for p in profiles if any(p.reference_spec())), profiles[0])
    if inputs.rolling and not any(anchor.reference_spec()):
        reason = (
            "profiles without bins (sent before the version had a reference): the collector "
            f"fixes bins from the first {inputs.rolling} windows, and compares the windows "
            "binned on them"
        )
        return [ctx.not_computed("drift_share", reason)] if job.kind == "drift" else []
    candidates = [decoded_reference(p) for p in inputs.reference]
    parts, _ = compatible(candidates, anchor if inputs.rolling else None)
    ready = len(by_window(parts, size))
    if inputs.rolling and ready < inputs.rolling:
        reason = (
            f"reference not ready: {ready} of its {inputs.rolling} windows hold profiles "
            "binned as this window's"
        )
        return [ctx.not_computed("drift_share", reason)] if job.kind == "drift" else []
    reference = merge_profiles(parts)
    reference.model, reference.version = profiles[0].model, profiles[0].version
    kept, skipped = compatible(profiles, reference)
    if not kept:
        reason = f"none of the window's {skipped} profiles has the reference's bins"
        return [ctx.not_computed("drift_share", reason)] if job.kind == "drift" else []
    options = replace(DRIFT_OPTIONS, thresholds=window_thresholds(reference, parts, size))
    current = merge_profiles(kept)
    compared = compare_profiles(reference, current, options, ctx, roles=STREAM_ROLES).rows
    if job.kind == "quality":
        return [r for r in compared if r.metric in QUALITY_METRICS and "KLL" not in r.method]
    rows = [r for r in compared if r.metric not in QUALITY_METRICS]
    rows += text_embedding_rows(reference, current, options, ctx)  # with the [text] extra
    if skipped:
        method = "profiles left out: their bins differ from the reference's (sent before it)"
        rows.append(ctx.row("profiles_skipped", float(skipped), n_cur=skipped, method=method))
    return rows


@lru_cache(maxsize=128)
def decoded_reference(payload: bytes) -> Profile:
    """The profile of a reference's bytes, decoded once per process for every window job
    that compares with it (keyed by the bytes themselves: a new upload, or a rolling
    window's new profiles, are new keys). Callers must not change it (``merge_profiles``
    copies).

    >>> from sightline.profile import Column, Schema
    >>> body = Profile.zero(Schema((Column("x"),))).to_bytes()
    >>> decoded_reference(body) is decoded_reference(bytes(body))
    True
    """
    return Profile.from_bytes(payload)


def compatible(
    profiles: Sequence[Profile], anchor: Profile | None = None
) -> tuple[list[Profile], int]:
    """The profiles that merge with ``anchor`` (default: the first one), in their order,
    and how many do not (profiles binned before a reference existed, for one).

    >>> import numpy as np
    >>> from sightline.profile import Column, Schema
    >>> a, b = (Profile.zero(Schema((Column("x"),)), edges=e) for e in ({"x": [0.0]}, None))
    >>> [len(x) if isinstance(x, list) else x for x in compatible([a, a, b])]
    [2, 1]
    """
    if not profiles:
        return [], 0
    first = profiles[0] if anchor is None else anchor
    kept = []
    for p in profiles:
        try:
            first.check_compatible(p)
        except IncompatibleProfilesError:
            continue
        kept.append(p)
    return kept, len(profiles) - len(kept)


#: Reference windows needed before drift thresholds come from their spread.
MIN_REFERENCE_WINDOWS = 3


def by_window(parts: Sequence[Profile], size: timedelta) -> dict[datetime, list[Profile]]:
    """The profiles of each window of ``size`` (by window start; those without a window
    are left out)."""
    windows: dict[datetime, list[Profile]] = {}
    for p in parts:
        if p.window_start is not None:
            key = window_of(p.window_start.replace(tzinfo=None), int(size.total_seconds()))[0]
            windows.setdefault(key, []).append(p)
    return windows


def window_thresholds(
    reference: Profile, parts: Sequence[Profile], size: timedelta
) -> dict[str, float]:
    """Per column, the drift threshold from the spread over the reference's own windows:
    each window of the (rolling) reference is compared with the whole reference, and the
    threshold is the mean + 3 sd of its Jensen-Shannon distances. Empty (the method's
    fixed threshold) for an uploaded reference or fewer than 3 windows."""
    windows = by_window(parts, size)
    if len(windows) < MIN_REFERENCE_WINDOWS:
        return {}
    values: dict[str, list[float]] = {}
    for _, group in sorted(windows.items()):
        merged = merge_profiles(group)
        merged.model, merged.version = reference.model, reference.version
        found = compare_profiles(reference, merged, DRIFT_OPTIONS, RowContext(), roles=STREAM_ROLES)
        for row in found.rows:
            if row.metric == "jensen_shannon" and math.isfinite(row.value):
                values.setdefault(row.column, []).append(row.value)
    return {
        column: float(np.mean(v) + 3 * np.std(v))
        for column, v in values.items()
        if len(v) >= MIN_REFERENCE_WINDOWS
    }


def write(
    store: Store,
    job: Job,
    rows: Sequence[MetricRow],
    computed_at: datetime,
    then: Callable[[Transaction], None] | None = None,
) -> None:
    """Replace the job's rows and record its fingerprint (one transaction, which ``then``
    ends: the lease's release); a rollup job's rows are its exact rows, merged with the
    averages of the tier window's base rows (:meth:`Store.write_rollup`)."""
    rolled = parse_rollup(job.kind)
    if rolled is not None:
        store.write_rollup(
            job.project,
            RollupKey(job.model, job.version, rolled[0], job.window_start, rolled[1]),
            job.kind,
            job.fingerprint,
            exact=list(rows) or None,
            computed_at=computed_at,
            then=then,
        )
        return
    key = (job.model, job.version, job.window_start, job.window_end, job.kind)
    table = rows_table(job, rows, computed_at)
    store.finish_job(job.project, key, job.fingerprint, table, then)


def rows_table(job: Job, rows: Sequence[MetricRow], computed_at: datetime) -> pa.Table:
    """Metric rows as the store's ``metric_rows`` columns."""
    return metric_record(job.project, job.kind, rows, computed_at)


def bucket_quantile(
    buckets: np.ndarray, q: float, low: float = 0.0, high: float = math.inf
) -> float:
    """The ``q`` quantile of latencies counted in :data:`LATENCY_BUCKETS_MS` buckets (plus
    ``+Inf``), interpolated linearly inside a bucket as Prometheus' ``histogram_quantile``,
    within the observed range: the bucket edges are first clamped to ``[low, high]`` (the
    smallest and largest latency, exact in the KLL sketches), so the answer never leaves it.

    >>> bucket_quantile(np.array([0, 10] + [0] * 13), 0.5)
    7.5
    >>> bucket_quantile(np.array([0, 10] + [0] * 13), 0.99, low=6.0, high=8.0)
    7.98
    """
    total = int(buckets.sum())
    if total == 0:
        return math.nan
    top = high if math.isfinite(high) else float(LATENCY_BUCKETS_MS[-1])
    uppers = np.clip([*LATENCY_BUCKETS_MS, top], low, top)
    lowers = np.clip([0.0, *LATENCY_BUCKETS_MS], low, top)
    cumulative = np.cumsum(buckets)
    i = min(int(np.searchsorted(cumulative, q * total, side="left")), len(uppers) - 1)
    below = 0 if i == 0 else int(cumulative[i - 1])
    inside = int(buckets[i])
    lower, upper = float(lowers[i]), float(uppers[i])
    return lower + (upper - lower) * (q * total - below) / inside if inside else lower


LATENCY_METHOD = "histogram_quantile of le buckets, within the observed min and max"


def latency_range(profiles: Sequence[Profile]) -> tuple[float, float]:
    """The smallest and largest latency of the profiles (exact: a KLL sketch keeps both);
    ``(0, inf)`` when none was recorded."""
    ends = [p.latency.quantiles([0.0, 1.0]) for p in profiles if not p.latency.is_empty]
    if not ends:
        return 0.0, math.inf
    return float(min(e[0] for e in ends)), float(max(e[1] for e in ends))


def _health(profiles: Sequence[Profile], seconds: float, ctx: RowContext) -> list[MetricRow]:
    """The window's serving KPIs, summed over every profile (their columns need not merge)."""
    n = sum(p.n_predictions for p in profiles)
    errors = sum(p.n_errors for p in profiles)
    instances = {i for p in profiles for i in p.instance_ids}
    buckets = np.sum([p.latency_buckets for p in profiles], axis=0)
    low, high = latency_range(profiles)
    rows = [
        ctx.row("predictions", float(n), n_cur=n, method="count"),
        ctx.row("throughput", n / seconds, n_cur=n, method="predictions per second"),
        ctx.row("instances", float(len(instances)), method="distinct instance ids"),
    ]
    if n:
        rows.append(ctx.row("error_rate", errors / n, n_cur=n, method="errors / predictions"))
    for q in (0.5, 0.95, 0.99):
        value = bucket_quantile(buckets, q, low, high)
        if not math.isnan(value):
            name = f"latency_p{round(q * 100)}_ms"
            rows.append(ctx.row(name, value, n_cur=n, method=LATENCY_METHOD))
    return rows


def _estimated(
    predictions: Sequence[Labelled], estimator: Mapping[str, Any] | None, ctx: RowContext
) -> list[MetricRow]:
    """CBPE rows of the window's predictions that have a probability (binary) or
    probabilities (multiclass)."""
    if estimator is None or "cbpe" not in estimator:
        return []
    multiclass = bool(estimator["cbpe"]["multiclass"])
    scored = [
        r
        for r in predictions
        if (r.probabilities if multiclass else r.probability) is not None
        and (r.prediction is not None or r.prediction_label is not None)
    ]
    if not scored:
        return []
    predicted = [
        label_text(r.prediction_label if r.prediction_label is not None else r.prediction)
        for r in scored
    ]
    scores: list[Any] = (
        [json.loads(r.probabilities) for r in scored if r.probabilities is not None]
        if multiclass
        else [r.probability for r in scored]
    )
    return estimated_window_rows(estimator, predicted, scores, ctx)


#: Health KPIs watched for changes, and the windows of history a health job reads.
WATCHED = ("error_rate", "latency_p95_ms", "throughput")
#: The KPIs of the health matrix (the ``matrix`` job, once a window's other jobs are
#: done): the watched ones, the drift share and the accuracy (realized, or estimated
#: before labels) of each window.
MATRIX_KPIS = (*WATCHED, "drift_share", "accuracy")
HISTORY = 60
MIN_HISTORY = 20


def _history(store: Store, job: Job, until: datetime | None = None) -> tuple[KpiPoint, ...]:
    """The KPIs, drift share and accuracy of the ``HISTORY`` windows before ``job``'s
    (and of ``job``'s own with ``until=job.window_end``)."""
    size = job.window_end - job.window_start
    rows = store.metric_rows(
        job.project,
        job.model,
        since=job.window_start - HISTORY * size,
        until=job.window_start if until is None else until,
        version=job.version,
        column="",
    )
    keep = {*WATCHED, "drift_share", "accuracy", "estimated_accuracy"}
    found = {
        (as_utc(r.window_start), r.metric): r.value  # naive UTC, as the job's edges
        for r in rows
        if r.metric in keep and math.isfinite(r.value) and isinstance(r.window_start, datetime)
    }
    # A window's accuracy: realized when its labels came, else estimated (CBPE).
    for (start, metric), value in list(found.items()):
        if metric == "estimated_accuracy":
            del found[(start, metric)]
            found.setdefault((start, "accuracy"), value)
    return tuple(KpiPoint(start, metric, value) for (start, metric), value in sorted(found.items()))


def change_rows(
    history: Sequence[KpiPoint], current: Sequence[MetricRow], ctx: RowContext
) -> list[MetricRow]:
    """Change detection on each watched KPI: a CUSUM calibrated on the previous windows by
    Siegmund's formula for one false alarm per 10,000 windows."""
    now = {r.metric: r.value for r in current if math.isfinite(r.value)}
    windows = sorted({p.window_start for p in history})
    table = {(p.window_start, p.metric): p.value for p in history}
    out = []
    for metric in WATCHED:
        past = [table[(w, metric)] for w in windows if (w, metric) in table]
        if metric in now and len(past) >= MIN_HISTORY:
            out.append(_change_row(metric, np.array(past), now[metric], ctx))
    return out


def matrix_rows(history: Sequence[KpiPoint], start: datetime, ctx: RowContext) -> list[MetricRow]:
    """The anomaly score of the window at ``start``: Hotelling's T² of its KPIs against
    those of the previous windows (alert when its p-value is below
    :data:`ANOMALY_ALPHA`); nothing before ``MIN_HISTORY`` previous windows."""
    table = {(p.window_start, p.metric): p.value for p in history}
    windows = sorted({p.window_start for p in history if p.window_start < start})
    names = [m for m in MATRIX_KPIS if any(p.metric == m for p in history)]
    if len(windows) < MIN_HISTORY or not names or all(p.window_start != start for p in history):
        return []
    matrix = np.array([[table.get((w, m), math.nan) for m in names] for w in [*windows, start]])
    return [_anomaly_row(matrix, ctx)]


def _change_row(metric: str, past: np.ndarray, value: float, ctx: RowContext) -> MetricRow:
    detector = CUSUM.calibrate(past, method="siegmund")
    for x in past:
        detector.update(float(x))
    fired = detector.update(value)
    return ctx.row(
        f"change_{metric}",
        float(detector.statistic),
        upper=float(detector.h),
        alert=bool(fired),
        n_ref=len(past),
        n_cur=1,
        method="two-sided CUSUM on the previous windows (Siegmund, 1 false alarm per 10,000)",
    )


#: p-value below which a window's KPIs are an anomaly: one false alarm per 10,000 windows.
ANOMALY_ALPHA = 1e-4


def _anomaly_row(matrix: np.ndarray, ctx: RowContext) -> MetricRow:
    result = newest_row_t2(matrix)
    n = matrix.shape[0] - 1
    upper = t2_limit(ANOMALY_ALPHA, n, result.n_components)
    return ctx.row(
        "health_anomaly_score",
        result.statistic,
        upper=upper,
        alert=bool(result.pvalue < ANOMALY_ALPHA),
        n_ref=n,
        n_cur=1,
        method="Hotelling T² of the window's KPIs against the previous windows; "
        f"alert when p < {ANOMALY_ALPHA:g}",
        p_value=result.pvalue,
    )
