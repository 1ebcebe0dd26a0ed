"""The JSON endpoints the dashboard reads (they accept ``Authorization: Bearer`` too).

- ``/api/v1/overview``: one row per model version, the service-health table.
- ``.../versions/{version}/series``: the model-level series of the model page.
- ``.../versions/{version}/heatmap``: drift, columns x time buckets.
- ``.../versions/{version}/quality``: the newest window's data-quality rows.
- ``.../versions/{version}/generation``: the newest generation health rows (a generative
  service's: generations, tokens/s, first-token p50/p95, ...) with the error rate.
- ``.../versions/{version}/distribution``: one column's reference and window bins, from
  the reference profile and the window's merged profiles.
- ``.../versions/{version}/statistic``: one column's drift statistics over time.

The rest of the pages' data comes from the API's own routes: ``/alerts`` and
``/silences``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from sightline.alerts.records import alert_of
from sightline.analysis.methods import ALL_METHODS
from sightline.analysis.quality import QUALITY_METRICS
from sightline.analysis.rows import MetricRow
from sightline.analysis.text import expanded_names
from sightline.profile import Profile, Schema, merge_profiles
from sightline.profile.column import CategoricalColumnProfile, NumericColumnProfile
from sightline.profile.text import TextColumnProfile
from sightline.scheduler.generation import GENERATION_METRICS
from sightline.scheduler.jobs import bucket_quantile, compatible
from sightline.server.alerts import _iso
from sightline.server.auth import Reader
from sightline.server.bodies import ApiError
from sightline.server.ingest import ModelName
from sightline.server.pages.cache import TtlCache
from sightline.server.pages.uptime import model_uptimes
from sightline.server.query import Since, Until, _range
from sightline.server.schemas import NO_NUL
from sightline.server.state import ERRORS, State, state_of
from sightline.store import ApiKey, ModelVersion, Store, tiers, utcnow
from sightline.store import alerts as stored
from sightline.store import dashboard as q

router = APIRouter(prefix="/api/v1")

#: The latency objective the overview compares p50/p95/p99 with, in milliseconds.
LATENCY_OBJECTIVE_MS = 50.0
#: Error rate above which the overview marks a version.
ERROR_RATE_LIMIT = 0.01
#: Uptime below which the overview marks a version, in percent.
UPTIME_LIMIT = 99.0
#: Realized performance metrics, the first one a version has is the one shown.
PERFORMANCE = ("accuracy", "roc_auc", "f1", "mae", "rmse")
#: Realized and estimated performance metrics.
PAIRS = (*PERFORMANCE, *(f"estimated_{m}" for m in PERFORMANCE))
#: The model page's charts, besides the performance pair.
CHARTED = (
    "throughput",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "error_rate",
    "drift_share",
)
#: The job kinds that write the model page's series: health (throughput, latency, errors),
#: drift (the drift share) and performance (realized, estimated, label coverage).
SERIES_KINDS = ("health", "drift", "performance")
#: The statistics of drift rows (one per column and window): the numeric and categorical
#: tests (text columns' descriptors among them) and the embedding test.
DRIFT_METRICS = sorted({*ALL_METHODS, "embedding_drift"})
#: The columns that have quality rows (the scheduler profiles them).
QUALITY_ROLES = ("feature", "prediction", "probability")
#: How far back the column page looks for the newest window with profiles.
HISTORY = timedelta(days=400)
#: How far back the overview looks for each version's newest rows.
OVERVIEW_SPAN = timedelta(days=1)
#: Points of a series at most: windows one by one, or averaged over round buckets.
SERIES_POINTS = 400
#: Buckets of the heatmap at most, and the fewest it takes whole windows of a rollup tier
#: for (24 hourly buckets of 24 h, 30 daily ones of 30 days: thousands of rollup rows
#: instead of the 144,000 base rows or 72,000 hourly rollups of 100 columns).
HEATMAP_BUCKETS = 60
HEATMAP_FEWEST = 24
#: Decoded references and merged windows of the column page, keyed by the bytes' digest
#: and by the window's profile count and newest arrival (a new profile is a new key): the
#: time to live only bounds how long an unused one is kept.
PROFILE_SECONDS = 60.0
PROFILE_ENTRIES = 64

Column = Annotated[str, Query(min_length=1, max_length=200, pattern=NO_NUL)]


@dataclass(frozen=True)
class Asked:
    """What a model page's call names: the version (registered), the caller's key and
    the time range."""

    state: State
    key: ApiKey
    model: str
    version: str
    found: ModelVersion
    start: datetime
    end: datetime


async def _asked(
    model: ModelName,
    version: ModelName,
    request: Request,
    key: Reader,
    since: Since = None,
    until: Until = None,
) -> Asked:
    state = state_of(request)
    start, end = _range(since, until)
    found = await state.version(key.project, model, version)
    return Asked(state, key, model, version, found, start, end)


VersionRange = Annotated[Asked, Depends(_asked)]


def _num(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _row(r: MetricRow | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "value": _num(r.value),
        "lower": _num(r.lower),
        "upper": _num(r.upper),
        "alert": bool(r.alert),
        "window_start": _iso(r.window_start),
    }


@router.get("/overview", responses=ERRORS, summary="The service-health table of every version")
async def overview(request: Request, key: Reader) -> dict[str, Any]:
    return await run_in_threadpool(_overview, state_of(request), key.project, utcnow())


def _overview(state: State, project: str, now: datetime) -> dict[str, Any]:
    store = state.store
    versions = store.list_versions(project)
    models = sorted({v.model for v in versions})
    wanted = ("drift_share", *PAIRS)
    keys = [(v.model, v.version) for v in versions]
    newest = q.newest_model_rows(store, project, keys, wanted, now - OVERVIEW_SPAN)
    by_version: dict[tuple[str, str], dict[str, MetricRow]] = {}
    for r in newest:
        by_version.setdefault((r.model, str(r.version)), {})[r.metric] = r
    windows = [
        (m, v, rows["drift_share"].window_start)
        for (m, v), rows in by_version.items()
        if "drift_share" in rows
    ]
    drifted = q.alerted_columns(store, project, windows, DRIFT_METRICS)  # type: ignore[arg-type]
    sums = store.health_by_version(project, now - OVERVIEW_SPAN, now)
    firing = _firing(store, project)
    live: dict[str, dict[str, int]] = {m: {} for m in models}
    timeout = state.settings.heartbeat_timeout
    for (m, version), n in store.live_instances(project, now - timeout, models).items():
        live[m][version] = n
    model_health = {m: _model_health(state, project, m, now, live[m]) for m in models}
    out = []
    for v in versions:
        rows = by_version.get((v.model, v.version), {})
        predictions, errors, buckets, low, high = sums.get(
            (v.model, v.version), (0, 0, [], 0.0, math.inf)
        )
        latency = _latency(buckets, low, high)
        mh = model_health[v.model]
        perf = next((m for m in PERFORMANCE if m in rows or f"estimated_{m}" in rows), None)
        out.append(
            {
                "model": v.model,
                "version": v.version,
                "live_instances": mh["live"].get(v.version, 0),
                "versions_loaded": mh["versions_loaded"],
                "uptime_percent_24h": mh["uptime_24h"],
                "uptime_percent_30d": mh["uptime_30d"],
                "uptime_since": mh["uptime_since"],
                "predictions": predictions,
                "error_rate": errors / predictions if predictions else None,
                "latency_ms": latency,
                "drifted_columns": drifted.get((v.model, v.version), []),
                "drift_window": _iso(rows["drift_share"].window_start)
                if "drift_share" in rows
                else None,
                "performance_metric": perf,
                "realized": _row(rows.get(perf or "")),
                "estimated": _row(rows.get(f"estimated_{perf}")),
                "firing_alerts": firing.get((v.model, v.version), 0),
            }
        )
    return {
        "generated_at": _iso(now),
        "objective_ms": LATENCY_OBJECTIVE_MS,
        "limits": {"error_rate": ERROR_RATE_LIMIT, "uptime_percent": UPTIME_LIMIT},
        "versions": out,
    }


def _latency(buckets: Sequence[int], low: float, high: float) -> dict[str, float | None]:
    counts = np.asarray(buckets, dtype=np.int64)
    return {
        f"p{round(p * 100)}": _num(bucket_quantile(counts, p, low, high)) if counts.size else None
        for p in (0.5, 0.95, 0.99)
    }


def _model_health(
    state: State, project: str, model: str, now: datetime, live: dict[str, int]
) -> dict[str, Any]:
    """A model's live instances by version (``live``, of :meth:`Store.live_instances`) and
    its uptime over 24 h and 30 days (:func:`~sightline.server.pages.uptime.model_uptimes`,
    as ``/models/{model}/health`` counts it)."""
    day_up, month_up = model_uptimes(
        state.store,
        project,
        model,
        sinces=[now - timedelta(days=1), now - timedelta(days=30)],
        until=now,
        now=now,
        timeout=state.settings.heartbeat_timeout,
    )
    since = day_up.since
    return {
        "live": live,
        "versions_loaded": sorted(live),
        "uptime_24h": day_up.percent,
        "uptime_30d": month_up.percent,
        "uptime_since": None if since is None else _iso(datetime.fromtimestamp(since, UTC)),
    }


def _firing(store: Store, project: str) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for row in stored.alert_states(store, project):
        if row.state == "firing":
            labels = alert_of(row).labels
            key = (labels.get("model", ""), labels.get("version", ""))
            counts[key] = counts.get(key, 0) + 1
    return counts


@router.get(
    "/models/{model}/versions/{version}/series",
    responses=ERRORS,
    summary="The model-level series of the model page (health, performance, coverage)",
)
async def series(asked: VersionRange) -> dict[str, Any]:
    state, key, model, version = asked.state, asked.key, asked.model, asked.version
    start, end, found = asked.start, asked.end, asked.found
    target = [c["name"] for c in found.schema["columns"] if c.get("role") == "target"]
    step = await _step(state, key.project, model, end - start, SERIES_POINTS)

    def read() -> tuple[str | None, list[q.Point]]:
        found = q.metrics_with_rows(state.store, key.project, model, version, PAIRS, start, end)
        perf = next((m for m in PERFORMANCE if m in found or f"estimated_{m}" in found), None)
        wanted = [*CHARTED, *((perf, f"estimated_{perf}") if perf else ())]
        points = q.model_series(
            state.store,
            key.project,
            model,
            version,
            metrics=wanted,
            since=start,
            until=end,
            step=step,
            kinds=SERIES_KINDS,
        )
        if target:  # the label coverage is a row of the target column
            points += q.model_series(
                state.store,
                key.project,
                model,
                version,
                metrics=["label_coverage"],
                since=start,
                until=end,
                step=step,
                column=target[0],
                kinds=SERIES_KINDS,
            )
        return perf, points

    perf, points = await run_in_threadpool(read)
    return {
        "since": _iso(start),
        "until": _iso(end),
        "step_seconds": step,
        "performance_metric": perf,
        "series": _charts(points),
    }


def _charts(points: Sequence[q.Point]) -> dict[str, dict[str, list[Any]]]:
    """The points of each metric as arrays ``t``, ``value``, ``lower``, ``upper``, ``alert``
    (each bucket's time formatted once for all metrics).

    >>> from datetime import datetime
    >>> _charts([q.Point("m", datetime(2026, 1, 1), 0.5, None, 1.0, False)])["m"]["t"]
    ['2026-01-01T00:00:00Z']
    """
    by_metric: dict[str, list[q.Point]] = {}
    for p in points:
        by_metric.setdefault(p.metric, []).append(p)
    iso: dict[datetime, str | None] = {}
    charts: dict[str, dict[str, list[Any]]] = {}
    for metric, group in by_metric.items():
        _, starts, values, lowers, uppers, alerts = zip(*group, strict=True)
        for t in starts:
            if t not in iso:
                iso[t] = _iso(t)
        charts[metric] = {
            "t": [iso[t] for t in starts],
            "value": list(values),
            "lower": list(lowers),
            "upper": list(uppers),
            "alert": list(alerts),
        }
    return charts


@router.get(
    "/models/{model}/versions/{version}/statistic",
    responses=ERRORS,
    summary="A column's drift statistics over time with their thresholds (the column page)",
)
async def statistic(asked: VersionRange, column: Column) -> dict[str, Any]:
    state, key, model, version = asked.state, asked.key, asked.model, asked.version
    step = await _step(state, key.project, model, asked.end - asked.start, SERIES_POINTS)

    def read() -> list[q.Point]:
        return q.model_series(
            state.store,
            key.project,
            model,
            version,
            metrics=DRIFT_METRICS,
            since=asked.start,
            until=asked.end,
            step=step,
            column=column,
            kinds=("drift",),
        )

    points = await run_in_threadpool(read)
    return {
        "since": _iso(asked.start),
        "until": _iso(asked.end),
        "step_seconds": step,
        "series": _charts(points),
    }


async def _step(state: State, project: str, model: str, span: timedelta, points: int) -> int:
    """Seconds per bucket of a series of at most ``points`` over ``span``: the model's
    window, or a round step."""
    found = await run_in_threadpool(state.store.model_settings, project, model)
    return q.bucket_step(span.total_seconds(), points, found.window)


@router.get(
    "/models/{model}/versions/{version}/heatmap",
    responses=ERRORS,
    summary="Drift of every column over time: columns x time buckets",
)
async def heatmap(asked: VersionRange) -> dict[str, Any]:
    state, key, model, version = asked.state, asked.key, asked.model, asked.version
    start, end, found = asked.start, asked.end, asked.found
    columns = expanded_names(Schema.from_dict(found.schema))  # with text descriptors
    window = (await run_in_threadpool(state.store.model_settings, key.project, model)).window

    def read() -> tuple[int, list[q.Cell]]:
        known = tiers.frontiers(state.store, key.project, model, version)
        span = (end - start).total_seconds()
        step = q.grid_step(span, HEATMAP_BUCKETS, HEATMAP_FEWEST, window, q.rolled_tiers(known))
        return step, q.column_grid(
            state.store,
            key.project,
            model,
            version,
            metrics=DRIFT_METRICS,
            columns=columns,
            since=start,
            until=end,
            step=step,
            known=known,
        )

    step, cells = await run_in_threadpool(read)
    return {
        "since": _iso(start),
        "until": _iso(end),
        "step_seconds": step,
        **_grid(cells, columns),
    }


def _grid(cells: Sequence[q.Cell], columns: Sequence[str]) -> dict[str, Any]:
    """The heatmap's ``metrics``, ``columns`` (those with cells, in ``columns``' order),
    ``times`` and ``cells`` as arrays of indices into them, value, upper and alert.

    >>> from datetime import datetime
    >>> t = datetime(2026, 1, 1)
    >>> _grid([q.Cell("b", "ks", t, 0.5, None, True)], ["a", "b"])["cells"]["column"]
    [0]
    """
    by_field = zip(*cells, strict=True) if cells else [()] * 6
    names, metric_of, starts, values, uppers, alerts = by_field
    metrics = sorted(set(metric_of))
    present = set(names)
    shown = [c for c in columns if c in present]
    times = sorted(set(starts))
    row, col = {c: i for i, c in enumerate(shown)}, {t: j for j, t in enumerate(times)}
    index = {m: k for k, m in enumerate(metrics)}
    return {
        "metrics": metrics,
        "columns": shown,
        "times": [_iso(t) for t in times],
        "cells": {
            "column": [row[c] for c in names],
            "time": [col[t] for t in starts],
            "metric": [index[m] for m in metric_of],
            "value": [_num(v) for v in values],
            "upper": [_num(u) for u in uppers],
            "alert": list(alerts),
        },
    }


@router.get(
    "/models/{model}/versions/{version}/generation",
    responses=ERRORS,
    summary="The newest generation health rows of a generative service, with its error rate",
)
async def generation(asked: VersionRange) -> dict[str, Any]:
    state, key, model, version = asked.state, asked.key, asked.model, asked.version
    wanted = (*GENERATION_METRICS, "error_rate")

    def read() -> list[MetricRow]:
        store, series = state.store, ("generations", "")
        newest = q.newest_window(store, key.project, model, version, series, asked.end)
        if newest is None or newest < asked.start:
            return []
        return q.newest_model_rows(
            store, key.project, [(model, version)], wanted, newest, asked.end
        )

    rows = {r.metric: r for r in await run_in_threadpool(read)}
    if "generations" not in rows:  # not a generative service, or none in the range
        return {"window_start": None, "rows": {}}
    newest = rows["generations"].window_start
    return {
        "window_start": _iso(newest),
        "rows": {m: _row(rows[m]) for m in wanted if m in rows},
    }


@router.get(
    "/models/{model}/versions/{version}/quality",
    responses=ERRORS,
    summary="The data-quality rows of the newest window",
)
async def quality(
    model: ModelName, version: ModelName, request: Request, key: Reader, until: Until = None
) -> dict[str, Any]:
    state = state_of(request)
    end = _range(None, until)[1]
    found = await state.version(key.project, model, version)
    columns = [
        c["name"]
        for c in found.schema["columns"]
        if c.get("role") in QUALITY_ROLES and c.get("kind") not in ("text", "embedding")
    ]

    def read() -> tuple[datetime | None, list[MetricRow]]:
        if not columns:
            return None, []
        store = state.store
        series = ("missing_share", columns[0])  # every profiled column has one
        newest = q.newest_window(store, key.project, model, version, series, end)
        if newest is None:
            return None, []
        rows = q.window_rows(
            store,
            key.project,
            model,
            version,
            start=newest,
            metrics=QUALITY_METRICS,
            columns=columns,
        )
        return newest, rows

    newest, rows = await run_in_threadpool(read)
    return {
        "window_start": _iso(newest),
        "rows": [{"column": r.column, "metric": r.metric, **(_row(r) or {})} for r in rows],
    }


@router.get(
    "/models/{model}/versions/{version}/distribution",
    responses=ERRORS,
    summary="A column's reference distribution and that of its newest window before `until`",
)
async def distribution(
    model: ModelName,
    version: ModelName,
    column: Column,
    request: Request,
    key: Reader,
    until: Until = None,
) -> dict[str, Any]:
    state = state_of(request)
    found = await state.version(key.project, model, version)
    if column not in expanded_names(Schema.from_dict(found.schema)):
        raise ApiError(
            404, f"model {model!r} version {version!r} has no column {column!r}", "column"
        )
    if found.reference is None:
        raise ApiError(404, f"model {model!r} version {version!r} has no reference yet", "version")
    reference = found.reference
    digest = hashlib.blake2b(reference, digest_size=16).digest()
    size = timedelta(
        seconds=(await run_in_threadpool(state.store.model_settings, key.project, model)).window
    )
    end = _range(None, until)[1]
    decoded: TtlCache = request.app.state.profiles

    def read() -> dict[str, Any]:
        store = state.store
        start = q.newest_profile_window(store, key.project, model, version, end, HISTORY)
        ref = decoded.get(("reference", digest), lambda: Profile.from_bytes(reference))
        out: dict[str, Any] = {
            "column": column,
            "window_seconds": int(size.total_seconds()),
            "window_start": _iso(start),
            "window_end": _iso(start + size) if start is not None else None,
            "reference": _bins(ref, column),
            "window": None,
        }
        if start is not None:
            where = (key.project, model, version, start, start + size)
            mark = q.profile_mark(store, *where)
            merged = decoded.get(
                ("window", *where, digest, mark), lambda: _merged(store, where, ref)
            )
            if merged is not None:
                out["window"] = _bins(merged, column)
        return out

    return await run_in_threadpool(read)


def column_profile(profile: Profile, column: str) -> Any:
    """The profile of ``column``: a column's, or a text column's descriptor
    (``output.length``); None when the profile has neither."""
    found = profile.columns.get(column)
    if found is None and "." in column:
        text = profile.columns.get(column.split(".", 1)[0])
        if isinstance(text, TextColumnProfile):
            return text.descriptors.get(column.split(".", 1)[1])
    return found


def _merged(
    store: Store, where: tuple[str, str, str, datetime, datetime], reference: Profile
) -> Profile | None:
    """The merge of a window's profiles binned like ``reference`` (None: none is)."""
    kept, _ = compatible([Profile.from_bytes(p) for p in store.window_profiles(*where)], reference)
    return merge_profiles(kept) if kept else None


def _bins(profile: Profile, column: str) -> dict[str, Any] | None:
    """A column's bins (numeric: inner edges and counts; categorical: categories and
    counts) with its quality counts; None for a column without bins (text, embedding)."""
    col = column_profile(profile, column)
    if col is None:
        return None
    counts: dict[str, Any] = {"count": col.count, "missing": col.n_missing}
    if isinstance(col, NumericColumnProfile):
        counts |= {"infinite": col.n_inf, "invalid": col.n_invalid}
        return {
            "kind": "numeric",
            "edges": None if col.edges is None else [float(e) for e in col.edges],
            "counts": None if col.bins is None else [int(c) for c in col.bins],
            "min": _num(col.min),
            "max": _num(col.max),
            "quality": counts,
        }
    if not isinstance(col, CategoricalColumnProfile):  # text, embedding: no bins to draw
        return None
    vocabulary = list(col.vocabulary or ())
    return {
        "kind": "categorical",
        "categories": [*vocabulary, "(other)"] if col.counts is not None else [],
        "counts": [] if col.counts is None else [int(c) for c in col.counts],
        "quality": counts,
    }
