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
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple, cast

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
from sightline.store.base import ModelVersion, Transaction
from sightline.store.records import metric_record
from sightline.store.rollups import RollupKey
from sightline.store.scheduling import DoneJob, Labelled, ModelSettings

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
    embed_texts: bool = False  # embed text columns' sampled texts (scheduler.embedding)


class PassReads:
    """The store's reads that several jobs of a pass share, each made once: the drift,
    quality and health jobs of a window read its profiles once (the same ``bytes``
    objects, so that :func:`decoded` and :func:`comparison` find them again), a
    version's record and its settings once. One lives for one batch of jobs, whose
    inputs are all loaded before any of its rows is written (so the history rows are
    those written before the batch, as each job would read them alone).

    >>> from sightline.store import open_store
    >>> store = open_store(":memory:")
    >>> reads = PassReads(store)
    >>> reads.reference_windows("p", "m", "1") == reads.reference_windows("p", "m", "1") == 0
    True
    >>> len(reads.memo)
    1
    >>> store.close()
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.memo: dict[tuple[Any, ...], Any] = {}

    def prefetch(self, jobs: Sequence[Job]) -> None:
        """Read what ``jobs`` will load in a few queries whatever their number: the
        profiles of their windows, their versions' records and rolling references'
        lengths, and the health and matrix jobs' history (models without rollups)."""
        windowed = [job for job in jobs if job.kind in ("drift", "quality", "health")]
        ranges = {
            (job.project, job.model, job.version, job.window_start, job.window_end)
            for job in windowed
        }
        for key, payloads in self.store.profiles_of_ranges(ranges).items():
            self.memo.setdefault(("window_profiles", *key), payloads)
        rolled = self.store.rolled_models()
        spans = {
            (job.project, job.model, job.version, *_history_span(job))
            for job in jobs
            if job.kind in ("health", "matrix") and (job.project, job.model) not in rolled
        }
        for key, points in self.store.base_kpis(spans, HISTORY_METRICS).items():
            self.memo.setdefault(("kpis", *key), points)
        versions = {(job.project, job.model, job.version) for job in windowed}
        for version, found in self.store.get_versions(versions).items():
            self.memo.setdefault(("get_version", *version), found)
        for version, windows in self.store.references_windows(versions).items():
            self.memo.setdefault(("reference_windows", *version), windows)

    def kpis(
        self, project: str, model: str, version: str, since: datetime, until: datetime
    ) -> list[tuple[datetime, str, float]]:
        """(window start, metric, value) of the version's model-level rows (column
        ``''``) of the :func:`_history` metrics in ``[since, until)``, oldest first
        (prefetched, or through :meth:`Store.metric_rows`)."""
        key = ("kpis", project, model, version, since, until)
        if key not in self.memo:
            rows = self.store.metric_rows(
                project, model, since=since, until=until, version=version, column=""
            )
            self.memo[key] = [
                (r.window_start, r.metric, r.value)
                for r in rows
                if r.metric in HISTORY_METRICS and isinstance(r.window_start, datetime)
            ]
        return cast(list[tuple[datetime, str, float]], self.memo[key])

    def _once(self, name: str, *args: Any) -> Any:
        key = (name, *args)
        if key not in self.memo:
            self.memo[key] = getattr(self.store, name)(*args)
        return self.memo[key]

    def window_profiles(
        self, project: str, model: str, version: str, since: datetime, until: datetime
    ) -> list[bytes]:
        """:meth:`Store.window_profiles`, once."""
        return cast(
            list[bytes], self._once("window_profiles", project, model, version, since, until)
        )

    def get_version(self, project: str, model: str, version: str) -> ModelVersion:
        """:meth:`Store.get_version`, once."""
        return cast(ModelVersion, self._once("get_version", project, model, version))

    def reference_windows(self, project: str, model: str, version: str) -> int:
        """:meth:`Store.reference_windows`, once."""
        return cast(int, self._once("reference_windows", project, model, version))

    def model_settings(self, project: str, model: str) -> ModelSettings:
        """:meth:`Store.model_settings`, once."""
        return cast(ModelSettings, self._once("model_settings", project, model))

    def profile_windows(
        self, project: str, model: str, version: str, size: int
    ) -> dict[datetime, str]:
        """:meth:`Store.profile_windows`, once."""
        return cast(
            dict[datetime, str], self._once("profile_windows", project, model, version, size)
        )

    def alerted_windows(self, project: str, model: str, version: str) -> set[datetime]:
        """:meth:`Store.alerted_windows`, once."""
        return cast(set[datetime], self._once("alerted_windows", project, model, version))


def load(
    store: Store, job: Job, reads: PassReads | None = None, *, embed_texts: bool = False
) -> JobInputs:
    """The inputs of ``job`` (the reads it shares with the pass's other jobs through
    ``reads``); a rollup of an exact kind loads its base kind's inputs for the tier window
    (health without the change detectors' history: their rows are averaged).
    ``embed_texts``: a comparison embeds its text columns' sampled texts."""
    rolled = parse_rollup(job.kind)
    if rolled is not None:
        if rolled[1] not in EXACT_KINDS:
            return JobInputs(job)
        inner = load(store, replace(job, kind=rolled[1]), reads, embed_texts=embed_texts)
        return replace(inner, job=job, history=())
    shared = PassReads(store) if reads is None else reads
    if job.kind == "performance":
        rows = store.labelled(job.project, job.model, job.version, job.window_start, job.window_end)
        estimator = store.estimator(job.project, job.model, job.version)
        schema = shared.get_version(job.project, job.model, job.version).schema
        return JobInputs(job, labelled=tuple(rows), estimator=estimator, schema=schema)
    if job.kind == "matrix":
        return JobInputs(job, history=_history(store, job, shared))
    profiles = shared.window_profiles(
        job.project, job.model, job.version, job.window_start, job.window_end
    )
    if job.kind == "health":
        return JobInputs(job, tuple(profiles), history=_history(store, job, shared))
    windows = shared.reference_windows(job.project, job.model, job.version)
    size = job.window_end - job.window_start
    if windows and shared.model_settings(job.project, job.model).reference_exclude_alerted:
        seconds = int(size.total_seconds())
        starts = reference_starts(
            job.window_start,
            size,
            windows,
            guard=True,
            windows=shared.profile_windows(job.project, job.model, job.version, seconds),
            alerted=shared.alerted_windows(job.project, job.model, job.version),
        )
        reference = tuple(
            payload
            for start in sorted(starts)
            for payload in shared.window_profiles(
                job.project, job.model, job.version, start, start + size
            )
        )
    elif windows:
        since = job.window_start - windows * size
        reference = tuple(
            shared.window_profiles(job.project, job.model, job.version, since, job.window_start)
        )
    else:
        found = shared.get_version(job.project, job.model, job.version).reference
        reference = (found,) if found is not None else ()
    return JobInputs(job, tuple(profiles), reference, rolling=windows, embed_texts=embed_texts)


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
    if job.kind == "health":
        profiles = [decoded(p) for p in inputs.profiles]
        seconds = (job.window_end - job.window_start).total_seconds()
        kpis = _health(profiles, seconds, ctx) + generation_rows(profiles, seconds, ctx)
        kpis += first_byte_rows(profiles, ctx)
        return kpis + change_rows(inputs.history, kpis, ctx)
    return _compared(inputs, ctx)


def _compared(inputs: JobInputs, ctx: RowContext) -> list[MetricRow]:
    """Drift or quality rows: the window's profiles against the (rolling) reference."""
    job = inputs.job
    if not inputs.reference and not inputs.rolling:
        return [
            ctx.not_computed("drift_share", "no reference: upload one or set a rolling reference")
        ]
    size = job.window_end - job.window_start
    found = comparison(
        inputs.profiles, inputs.reference, inputs.rolling, size, ctx, inputs.embed_texts
    )
    if isinstance(found, str):
        return [ctx.not_computed("drift_share", found)] if job.kind == "drift" else []
    compared, skipped = found
    if job.kind == "quality":
        return [r for r in compared if r.metric in QUALITY_METRICS and "KLL" not in r.method]
    rows = [r for r in compared if r.metric not in QUALITY_METRICS]
    if skipped:
        method = "profiles left out: their bins differ from the reference's (sent before it)"
        rows.append(ctx.row("profiles_skipped", float(skipped), n_cur=skipped, method=method))
    return rows


@lru_cache(maxsize=4)
def comparison(
    payloads: tuple[bytes, ...],
    reference: tuple[bytes, ...],
    rolling: int,
    size: timedelta,
    ctx: RowContext,
    embed_texts: bool = False,
) -> tuple[tuple[MetricRow, ...], int] | str:
    """The rows of ``compare`` of a window's profiles (``payloads``, of a window of
    ``size``) with its (rolling) reference, and how many of its profiles were left out
    (their bins differ); or why there are none. The drift and quality jobs of a window
    share it: computed once for both (the last few are kept, keyed by the bytes)."""
    profiles = [decoded(p) for p in payloads]
    # A rolling reference keeps the windows binned as this one (the newest bins when the
    # window holds profiles sent before and after the reference's edges were fixed).
    anchor = next((p for p in profiles if any(p.reference_spec())), profiles[0])
    if rolling and not any(anchor.reference_spec()):
        return (
            "profiles without bins (sent before the version had a reference): the collector "
            f"fixes bins from the first {rolling} windows, and compares the windows "
            "binned on them"
        )
    candidates = [decoded_reference(p) for p in reference]
    parts, _ = compatible(candidates, anchor if rolling else None)
    ready = len(by_window(parts, size))
    if rolling and ready < rolling:
        return (
            f"reference not ready: {ready} of its {rolling} windows hold profiles "
            "binned as this window's"
        )
    merged = merge_profiles(parts)
    merged.model, merged.version = profiles[0].model, profiles[0].version
    kept, skipped = compatible(profiles, merged)
    if not kept:
        return f"none of the window's {skipped} profiles has the reference's bins"
    options = replace(DRIFT_OPTIONS, thresholds=window_thresholds(merged, parts, size))
    current = merge_profiles(kept)
    rows = list(compare_profiles(merged, current, options, ctx, roles=STREAM_ROLES).rows)
    if embed_texts:  # and the [text] extra installed
        rows += text_embedding_rows(merged, current, options, ctx)
    return tuple(rows), skipped


@lru_cache(maxsize=256)
def decoded(payload: bytes) -> Profile:
    """The profile of a window's payload, decoded once for the window's drift, quality and
    health jobs (keyed by the bytes themselves). Callers must not change it
    (``merge_profiles`` copies).

    >>> from sightline.profile import Column, Schema
    >>> body = Profile.zero(Schema((Column("x"),))).to_bytes()
    >>> decoded(body) is decoded(bytes(body))
    True
    """
    return Profile.from_bytes(payload)


@lru_cache(maxsize=1024)
def decoded_reference(payload: bytes) -> Profile:
    """The profile of a reference's bytes, decoded once per process for every window job
    that compares with it (keyed by the bytes themselves: a new upload, or a rolling
    window's new profiles, are new keys): a fleet of up to 1,024 versions decodes each
    reference once (about 0.1 MB each at 50 columns). Callers must not change it.

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


def write_jobs(
    store: Store,
    done: Sequence[tuple[Job, Sequence[MetricRow]]],
    computed_at: datetime,
    settle: Callable[[Transaction], Collection[int]] | None = None,
) -> set[int]:
    """Replace the rows of every job of ``done`` (none a rollup) and record their
    fingerprints, in one transaction (:meth:`Store.finish_jobs`) that ``settle`` opens:
    the leases' release, which names the jobs to leave out (returned)."""
    return store.finish_jobs(
        [
            DoneJob(
                job.project,
                (job.model, job.version, job.window_start, job.window_end, job.kind),
                job.fingerprint,
                rows_table(job, rows, computed_at),
            )
            for job, rows in done
        ],
        settle,
    )


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


#: The rows the health and matrix jobs read of earlier windows.
HISTORY_METRICS = frozenset({*WATCHED, "drift_share", "accuracy", "estimated_accuracy"})


def _history_span(job: Job) -> tuple[datetime, datetime]:
    """The range of the windows whose KPIs ``job`` reads: the ``HISTORY`` windows before
    its own (a matrix job: and its own)."""
    size = job.window_end - job.window_start
    return job.window_start - HISTORY * size, (
        job.window_end if job.kind == "matrix" else job.window_start
    )


def _history(store: Store, job: Job, reads: PassReads | None = None) -> tuple[KpiPoint, ...]:
    """The KPIs, drift share and accuracy of the ``HISTORY`` windows before ``job``'s
    (and of its own for a ``matrix`` job)."""
    since, until = _history_span(job)
    points = (reads or PassReads(store)).kpis(job.project, job.model, job.version, since, until)
    found = {
        (as_utc(start), metric): value  # naive UTC, as the job's edges
        for start, metric, value in points
        if math.isfinite(value)
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
