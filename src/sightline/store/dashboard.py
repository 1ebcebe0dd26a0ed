"""The dashboard's queries: each answers one page element in one query that an index serves.

Functions over a :class:`~sightline.store.base.Store` (same SQL on DuckDB and PostgreSQL
but for :func:`newest_model_rows`, whose index probes cost DuckDB a scan each),
written for the series order both stores keep metric rows in: PostgreSQL's
``metric_rows_series`` index and DuckDB's sort by (project, model, metric, column,
window). Every query names its models, metrics and columns, so each is a set of index
range scans, never a scan of the whole table.

>>> from datetime import datetime, timedelta
>>> from sightline.store import open_store
>>> store = open_store(":memory:")
>>> newest_model_rows(store, "p", [("churn", "1")], ["accuracy"], datetime(2026, 1, 1))
[]
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from sightline.store import tiers
from sightline.store.base import _metric_rows, _nice_step, as_utc

if TYPE_CHECKING:
    from sightline.analysis.rows import MetricRow
    from sightline.store.base import Store

_ROW = (
    "model, version, window_start, window_end, column_name, metric, value, lower_bound, "
    "upper_bound, alert, n_ref, n_cur, method, p_value"
)


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def newest_model_rows(
    store: Store,
    project: str,
    versions: Sequence[tuple[str, str]],
    metrics: Sequence[str],
    since: datetime,
    until: datetime | None = None,
) -> list[MetricRow]:
    """The newest model-level row (empty column) of each of ``metrics`` of each (model,
    version) of ``versions`` whose window starts at or after ``since`` (and before
    ``until``), by model, version and metric. On PostgreSQL, one backward index probe per
    series that stops at its newest row (a ``LATERAL`` join); on DuckDB, where a probe
    costs a scan, one scan of the models' rows ranked by window."""
    if not versions or not metrics:
        return []
    before, bound = ("", ()) if until is None else (" AND window_start < ?", (as_utc(until),))
    if store.dialect == "postgresql":
        pairs = ", ".join("(?, ?)" for _ in versions)
        sql = (
            f"SELECT r.* FROM (VALUES {pairs}) AS s(model, version) CROSS JOIN (VALUES "
            f"{', '.join('(?)' for _ in metrics)}) AS m(metric) CROSS JOIN LATERAL "
            f"(SELECT {_ROW} FROM metric_rows WHERE project = ? AND model = s.model "
            "AND metric = m.metric AND column_name = '' AND version = s.version "
            f"AND window_start >= ?{before} ORDER BY window_start DESC LIMIT 1) AS r "
            "ORDER BY r.model, r.version, r.metric"
        )
        keys = [p for pair in versions for p in pair]
        return _metric_rows(store._read(sql, (*keys, *metrics, project, as_utc(since), *bound)))
    models = sorted({m for m, _ in versions})
    sql = (
        f"SELECT {_ROW} FROM (SELECT *, row_number() OVER (PARTITION BY model, version, "
        "metric ORDER BY window_start DESC) AS newest FROM metric_rows WHERE project = ? "
        f"AND model IN ({_marks(models)}) AND metric IN ({_marks(metrics)}) "
        f"AND column_name = '' AND window_start >= ?{before}) AS ranked WHERE newest = 1 "
        "ORDER BY model, version, metric"
    )
    rows = _metric_rows(store._read(sql, (project, *models, *metrics, as_utc(since), *bound)))
    wanted = set(versions)
    return [r for r in rows if (r.model, str(r.version)) in wanted]


def metrics_with_rows(
    store: Store,
    project: str,
    model: str,
    version: str,
    metrics: Sequence[str],
    since: datetime,
    until: datetime,
) -> set[str]:
    """Which of ``metrics`` have a model-level row of ``version`` in ``[since, until)``:
    one probe per metric that stops at its first row (an index range scan, not a read of
    every row of the range)."""
    probe = (
        "(SELECT metric FROM metric_rows WHERE project = ? AND model = ? AND metric = ? "
        "AND column_name = '' AND window_start >= ? AND window_start < ? AND version = ? "
        "LIMIT 1)"
    )
    if not metrics:
        return set()
    span = (as_utc(since), as_utc(until))
    params = [p for m in metrics for p in (project, model, m, *span, version)]
    return {m for (m,) in store._read(" UNION ALL ".join(probe for _ in metrics), params)}


def alerted_columns(
    store: Store,
    project: str,
    windows: Sequence[tuple[str, str, datetime]],
    metrics: Sequence[str],
) -> dict[tuple[str, str], list[str]]:
    """The columns with an alerting row of ``metrics`` in each (model, version, window
    start) of ``windows``, by (model, version), sorted."""
    if not windows or not metrics:
        return {}
    match = " OR ".join("(model = ? AND version = ? AND window_start = ?)" for _ in windows)
    params = [project, *metrics, *(p for m, v, w in windows for p in (m, v, as_utc(w)))]
    rows = store._read(
        "SELECT DISTINCT model, version, column_name FROM metric_rows WHERE project = ? "
        f"AND metric IN ({_marks(metrics)}) AND alert AND column_name <> '' AND ({match}) "
        "ORDER BY model, version, column_name",
        params,
    )
    found: dict[tuple[str, str], list[str]] = {}
    for model, version, column in rows:
        found.setdefault((model, version), []).append(column)
    return found


def bucket_step(span_seconds: float, points: int, window: int) -> int:
    """Seconds per bucket so that ``span_seconds`` holds at most about ``points`` buckets:
    the window's size while it does, else a round step (5 min, 30 min, 1 h, ...).

    >>> bucket_step(3600.002, 60, 60), bucket_step(86400, 60, 60), bucket_step(600, 60, 60)
    (60, 1800, 60)
    """
    per = round(span_seconds) / max(points, 1)  # 3600.002 s is 1 h
    return window if per <= window else max(window, _nice_step(per))


def grid_step(
    span_seconds: float, buckets: int, fewest: int, window: int, tiers: Sequence[int]
) -> int:
    """Seconds per bucket of a columns x time grid over ``span_seconds``: the coarsest of
    the rollup ``tiers`` that still makes at least ``fewest`` buckets when
    :func:`bucket_step`'s step (at most ``buckets``) is finer than it, else that step.

    >>> [grid_step(d * 86400, 60, 24, 60, (3600, 86400)) for d in (30, 7, 1)]
    [86400, 10800, 3600]
    >>> grid_step(3600, 60, 24, 60, (3600, 86400)), grid_step(86400, 60, 24, 60, ())
    (60, 1800)
    """
    step = bucket_step(span_seconds, buckets, window)
    for tier in sorted(tiers, reverse=True):
        if tier <= step:
            break
        if round(span_seconds) / tier >= fewest:
            return tier
    return step


def rolled_tiers(found: Sequence[tiers.Frontier]) -> list[int]:
    """The sizes (seconds) of the rollup tiers of ``found`` (:func:`tiers.frontiers`).

    >>> rolled_tiers([(86400, "1", "drift", None), (3600, "1", "drift", None)])
    [3600, 86400]
    """
    return sorted({t for t, _, _, _ in found})


class Cell(NamedTuple):
    """One cell of a columns x windows grid: the bucket's largest value, its threshold, and
    whether any window of the bucket alerted."""

    column: str
    metric: str
    bucket_start: datetime
    value: float | None
    upper: float | None
    alert: bool


def column_grid(
    store: Store,
    project: str,
    model: str,
    version: str,
    *,
    metrics: Sequence[str],
    columns: Sequence[str],
    since: datetime,
    until: datetime,
    step: int,
    kind: str = "drift",
    known: Sequence[tiers.Frontier] | None = None,
) -> list[Cell]:
    """The rows of job kind ``kind`` of ``metrics`` for ``columns`` in ``[since, until)``,
    in time buckets of ``step`` seconds, by column and bucket; from the coarsest rollup
    tier whose size divides ``step`` where rolled (a rollup's largest value is its base
    rows' largest), read for all columns in one range scan of the version's tier rows of
    ``kind`` (PostgreSQL's ``metric_rollups_grid``). ``known``: the version's
    :func:`~sightline.store.tiers.frontiers` if just read."""
    if not metrics or not columns:
        return []
    bucket = f"floor(date_part('epoch', window_start) / {int(step)})"
    where = (
        f"project = ? AND model = ? AND version = ? AND kind = ? "
        f"AND metric IN ({_marks(metrics)}) AND column_name IN ({_marks(columns)}) "
        "AND window_start >= ? AND window_start < ?"
    )
    params = (project, model, version, kind, *metrics, *columns, as_utc(since), as_utc(until))
    split = tiers.tier_for_step(store, project, model, version, step, (kind,), known)
    source, args = tiers.tiered_source(split, where, params)
    rows = store._read(
        "SELECT column_name, metric, min(window_start), max(value_max), max(upper_bound), "
        f"bool_or(alert) FROM {source} GROUP BY column_name, metric, {bucket} "
        "ORDER BY column_name, 3",
        args,
    )
    return [Cell(c, m, t, _num(v), _num(u), bool(a)) for c, m, t, v, u, a in rows]


class Point(NamedTuple):
    """One bucket of a model-level series: means of value and bounds, any alert."""

    metric: str
    bucket_start: datetime
    value: float | None
    lower: float | None
    upper: float | None
    alert: bool


def model_series(
    store: Store,
    project: str,
    model: str,
    version: str,
    *,
    metrics: Sequence[str],
    since: datetime,
    until: datetime,
    step: int,
    column: str = "",
    kinds: Sequence[str] | None = None,
) -> list[Point]:
    """The rows of ``metrics`` of ``column`` (default: model-level) in ``[since, until)``,
    averaged over buckets of ``step`` seconds (a window's own size: one row per window),
    oldest first; from the coarsest rollup tier whose size divides ``step`` where rolled
    (weighted by the windows each rolled, so the means are the base rows'). ``kinds``:
    the job kinds that write ``metrics`` (None: any, and the base rows of every kind
    without a rollup are read over the whole range)."""
    if not metrics:
        return []
    bucket = f"floor(date_part('epoch', window_start) / {int(step)})"
    where = (
        f"project = ? AND model = ? AND metric IN ({_marks(metrics)}) AND column_name = ? "
        "AND window_start >= ? AND window_start < ? AND version = ?"
    )
    params = (project, model, *metrics, column, as_utc(since), as_utc(until), version)
    split = tiers.tier_for_step(store, project, model, version, step, kinds)
    source, args = tiers.tiered_source(split, where, params)
    means = ", ".join(tiers.weighted_mean(c) for c in ("value", "lower_bound", "upper_bound"))
    rows = store._read(
        f"SELECT metric, min(window_start), {means}, bool_or(alert) FROM {source} "
        f"GROUP BY metric, {bucket} ORDER BY metric, 2",
        args,
    )
    return [Point(m, t, _num(v), _num(lo), _num(up), bool(a)) for m, t, v, lo, up, a in rows]


def newest_window(
    store: Store, project: str, model: str, version: str, series: tuple[str, str], before: datetime
) -> datetime | None:
    """The start of the newest window before ``before`` with a row of ``series``
    (metric, column)."""
    rows = store._read(
        "SELECT max(window_start) FROM metric_rows WHERE project = ? AND model = ? "
        "AND metric = ? AND column_name = ? AND window_start < ? AND version = ?",
        (project, model, *series, as_utc(before), version),
    )
    return rows[0][0] if rows and rows[0][0] is not None else None


def window_rows(
    store: Store,
    project: str,
    model: str,
    version: str,
    *,
    start: datetime,
    metrics: Sequence[str] | None = None,
    columns: Sequence[str],
) -> list[MetricRow]:
    """The rows of ``columns`` (and of ``metrics``, default all) of the window starting at
    ``start``."""
    if not columns or metrics == []:
        return []
    only = "" if metrics is None else f"AND metric IN ({_marks(metrics)}) "
    sql = (
        f"SELECT {_ROW} FROM metric_rows WHERE project = ? AND model = ? {only}"
        f"AND column_name IN ({_marks(columns)}) AND window_start = ? AND version = ? "
        "ORDER BY column_name, metric"
    )
    params = (project, model, *(metrics or ()), *columns, as_utc(start), version)
    return _metric_rows(store._read(sql, params))


def newest_profile_window(
    store: Store, project: str, model: str, version: str, before: datetime, span: timedelta
) -> datetime | None:
    """The window start of the newest profile of ``version`` in ``[before - span, before)``."""
    rows = store._read(
        "SELECT max(window_start) FROM profiles WHERE project = ? AND model = ? "
        "AND version = ? AND window_start >= ? AND window_start < ?",
        (project, model, version, as_utc(before - span), as_utc(before)),
    )
    return rows[0][0] if rows and rows[0][0] is not None else None


def profile_mark(
    store: Store, project: str, model: str, version: str, since: datetime, until: datetime
) -> tuple[int, datetime | None]:
    """How many profiles of ``version`` start in ``[since, until)`` and when the newest of
    them arrived: it changes with every profile stored there (a cache of their merge is
    keyed by it)."""
    rows = store._read(
        "SELECT count(*), max(received_at) FROM profiles WHERE project = ? AND model = ? "
        "AND version = ? AND window_start >= ? AND window_start < ?",
        (project, model, version, as_utc(since), as_utc(until)),
    )
    return int(rows[0][0]), rows[0][1]


class CoveredHour(NamedTuple):
    """A model's liveness in one hour: the seconds its instances covered, counted from
    ``counted_from`` (epoch seconds: the hour's start, or its first heartbeat when later;
    None without heartbeats)."""

    hour_start: datetime
    covered_seconds: float
    counted_from: float | None


def covered_hours(
    store: Store, project: str, model: str, timeout: float, first: datetime, last: datetime
) -> list[CoveredHour]:
    """The kept hours of ``model`` (at ``timeout`` seconds) starting in ``[first, last)``."""
    rows = store._read(
        "SELECT hour_start, covered_seconds, counted_from FROM uptime_hours WHERE project = ? "
        "AND model = ? AND timeout_seconds = ? AND hour_start >= ? AND hour_start < ? "
        "ORDER BY hour_start",
        (project, model, float(timeout), as_utc(first), as_utc(last)),
    )
    return [CoveredHour(h, float(c), None if f is None else float(f)) for h, c, f in rows]


def keep_covered_hours(
    store: Store, project: str, model: str, timeout: float, hours: Sequence[CoveredHour]
) -> None:
    """Keep ``hours`` of ``model`` (an hour already kept stays as it is)."""
    key = (project, model, float(timeout))
    for at in range(0, len(hours), 500):
        part = hours[at : at + 500]
        values = ", ".join("(?, ?, ?, ?, ?, ?)" for _ in part)
        params = [p for h in part for p in (*key, as_utc(h.hour_start), *h[1:])]
        with store._write() as tx:
            tx.execute(f"INSERT INTO uptime_hours VALUES {values} ON CONFLICT DO NOTHING", params)


def _num(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
