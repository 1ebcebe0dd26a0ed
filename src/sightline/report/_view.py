"""The page's content: a :class:`~sightline.analysis.rows.Result` sorted into what the page shows.

:func:`build` groups the metric rows by kind (drift, data quality, performance, confusion
matrix, data set, other), keeps the latest window of each metric for the tables and the
verdicts, and asks :mod:`~sightline.report._charts` for a chart per column (the shares for
one window, the statistic per window for several) and per performance metric.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from sightline.analysis.rows import Distribution, MetricRow, Result
from sightline.analysis.verdict import Verdict, row_kind, verdict
from sightline.report._charts import (
    Chart,
    Charts,
    distribution_spec,
    drift_series_spec,
    performance_spec,
)
from sightline.report._format import format_number, format_share
from sightline.report._windows import Window, ordered_windows, window_of, window_text

K = TypeVar("K")

#: Data quality checks per column, in the order of the quality table, and their headers.
_QUALITY_HEADERS: Final = {
    "missing_share": "missing",
    "inf_share": "infinite",
    "out_of_range_share": "out of range",
    "unseen_share": "unseen categories",
    "type_violation_share": "type violations",
    "constant": "constant",
}
#: Data-set rows: share and count of drifted columns, multivariate drift.
_DRIFT_SHARE: Final = "drift_share"
_DRIFTED_COLUMNS: Final = "drifted_columns"
_MULTIVARIATE: Final = "reconstruction_error"
_CONFUSION: Final = re.compile(r"^confusion\[(?P<cells>.*)\]$", re.DOTALL)
_ALPHA: Final = re.compile(r"\bp\s*<\s*(?P<alpha>\d*\.?\d+(?:[eE][-+]?\d+)?)")


@dataclass(frozen=True, slots=True)
class DriftLine:
    """One line of the drift table (the latest window that has the column)."""

    anchor: str
    column: str
    kind: str
    metric: str
    method: str
    threshold: str
    threshold_sort: float
    row: MetricRow
    windows_drifted: int
    windows_total: int

    @property
    def verdict(self) -> str:
        """``drift``, ``no drift`` or ``not computed``."""
        return _verdict(self.row, "drift", "no drift")


@dataclass(frozen=True, slots=True)
class ColumnSection:
    """The per-column block: its drift line, a chart, or a note why there is none."""

    line: DriftLine
    chart: Chart | None
    note: str


@dataclass(frozen=True, slots=True)
class PerformanceLine:
    """One performance metric (latest window) and its chart over windows, if any."""

    metric: str
    method: str
    row: MetricRow
    chart: Chart | None

    @property
    def verdict(self) -> str:
        """``alert``, ``ok`` or ``not computed``."""
        return _verdict(self.row, "alert", "ok")


@dataclass(frozen=True, slots=True)
class Confusion:
    """Confusion matrix counts: ``cells[i][j]`` for true ``labels[i]``, predicted ``labels[j]``."""

    labels: tuple[str, ...]
    cells: tuple[tuple[float, ...], ...]


@dataclass(frozen=True, slots=True)
class QualityCell:
    """One cell of the quality table."""

    text: str
    sort: float
    alert: bool
    title: str


@dataclass(frozen=True, slots=True)
class QualityRow:
    """One column of the data set in the quality table."""

    column: str
    cells: tuple[QualityCell | None, ...]

    @property
    def alerts(self) -> int:
        """Number of alerting checks of this column."""
        return sum(1 for c in self.cells if c is not None and c.alert)


@dataclass(frozen=True, slots=True)
class Summary:
    """The figures at the top of the page."""

    drift_share: MetricRow | None
    drifted_columns: int
    compared_columns: int
    not_computed_columns: int
    dataset_windows_drifted: int
    multivariate: MetricRow | None
    quality_alerts: int
    quality_alert_columns: int
    performance_alerts: int
    alerts: Verdict

    @property
    def verdict(self) -> str:
        """The headline: every kind of alert of the latest window (drift, performance,
        quality), or that there is none."""
        return self.alerts.headline

    @property
    def tone(self) -> str:
        """``bad`` when anything alerted, ``ok`` when the drift verdict is clean, else ``na``."""
        share = self.drift_share
        if not self.alerts.passed:
            return "bad"
        return "na" if share is None or not share.is_computed else "ok"


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the template shows."""

    title: str
    subtitle: tuple[str, ...]
    multi_window: bool
    summary: Summary
    drift: tuple[DriftLine, ...]
    columns: tuple[ColumnSection, ...]
    performance: tuple[PerformanceLine, ...]
    confusion: Confusion | None
    quality_metrics: tuple[str, ...]
    quality: tuple[QualityRow, ...]
    other: tuple[MetricRow, ...]


def _verdict(row: MetricRow, bad: str, good: str) -> str:
    if not row.is_computed:
        return "not computed"
    return bad if row.alert else good


# --------------------------------------------------------------------------- building


def build(result: Result) -> Report:
    windows = ordered_windows(result.rows)
    order = {w: i for i, w in enumerate(windows)}
    rows = sorted(result.rows, key=lambda r: order[window_of(r)])
    groups: dict[str, list[MetricRow]] = {}
    for r in rows:
        groups.setdefault(row_kind(r), []).append(r)
    charts = Charts()
    multi = len(windows) > 1
    drift = _drift_lines(groups.get("drift", []), result.distributions)
    quality_metrics, quality = _quality(groups.get("quality", []))
    performance = _performance(groups.get("performance", []), windows, charts)
    return Report(
        title=result.title,
        subtitle=_subtitle(result.rows, windows),
        multi_window=multi,
        summary=_summary(groups, drift, quality, performance, _latest_window(rows, windows)),
        drift=drift,
        columns=_column_sections(
            drift, groups.get("drift", []), result.distributions, windows, charts
        ),
        performance=performance,
        confusion=_confusion(groups.get("confusion", [])),
        quality_metrics=quality_metrics,
        quality=quality,
        other=tuple(_latest(groups.get("other", []), lambda r: (r.column, r.metric)).values()),
    )


def _latest(rows: Iterable[MetricRow], key: Callable[[MetricRow], K]) -> dict[K, MetricRow]:
    """The last row per key; ``rows`` come in window order, so the latest window wins."""
    return {key(r): r for r in rows}


def _series(
    rows: Iterable[MetricRow], key: Callable[[MetricRow], K]
) -> dict[K, dict[Window, MetricRow]]:
    out: dict[K, dict[Window, MetricRow]] = {}
    for r in rows:
        out.setdefault(key(r), {})[window_of(r)] = r
    return out


def _drift_key(row: MetricRow) -> tuple[str, str]:
    return (row.column, row.metric)


def _drift_lines(
    rows: Sequence[MetricRow], distributions: Mapping[str, Distribution]
) -> tuple[DriftLine, ...]:
    series = _series(rows, _drift_key)
    lines = []
    for i, (key, row) in enumerate(_latest(rows, _drift_key).items(), start=1):
        dist = _distribution(distributions, row.column)
        threshold, threshold_sort = _threshold(row)
        per_window = series[key].values()
        lines.append(
            DriftLine(
                anchor=f"column-{i}",
                column=row.column,
                kind=dist.kind if dist is not None else "",
                metric=row.metric,
                method=method_text(row),
                threshold=threshold,
                threshold_sort=threshold_sort,
                row=row,
                windows_drifted=sum(1 for r in per_window if r.is_computed and r.alert),
                windows_total=len(per_window),
            )
        )
    return tuple(lines)


def _distribution(distributions: Mapping[str, Distribution], column: str) -> Distribution | None:
    found = distributions.get(column)
    if found is not None:
        return found
    return next((d for d in distributions.values() if d.column == column), None)


def method_text(row: MetricRow) -> str:
    """The method, or for a row that could not be computed, the reason."""
    return row.method if row.is_computed else row.method.partition(":")[2].strip()


def _threshold(row: MetricRow) -> tuple[str, float]:
    """The threshold as shown (``0.2`` or ``p < 0.05``) and a number to sort by."""
    if not row.is_computed:
        return "", math.nan
    if math.isfinite(row.upper):
        return format_number(row.upper), row.upper
    alpha = _alpha(row.method)
    if alpha is not None:
        return f"p < {format_number(alpha)}", alpha
    return "", math.nan


def _alpha(method: str) -> float | None:
    match = _ALPHA.search(method)
    return float(match["alpha"]) if match else None


def _summary(
    groups: Mapping[str, Sequence[MetricRow]],
    drift: Sequence[DriftLine],
    quality: Sequence[QualityRow],
    performance: Sequence[PerformanceLine],
    latest_rows: Sequence[MetricRow],
) -> Summary:
    dataset = groups.get("dataset", [])
    latest = _latest(dataset, lambda r: r.metric)
    computed = [d.row for d in drift if d.row.is_computed]
    drifted, compared = sum(1 for r in computed if r.alert), len(computed)
    count = latest.get(_DRIFTED_COLUMNS)  # value: drifted; upper: compared columns
    if count is not None and count.is_computed and math.isfinite(count.value):
        drifted = round(count.value)
        compared = round(count.upper) if math.isfinite(count.upper) else compared
    return Summary(
        drift_share=latest.get(_DRIFT_SHARE),
        drifted_columns=drifted,
        compared_columns=compared,
        not_computed_columns=len(drift) - len(computed),
        dataset_windows_drifted=sum(
            1 for r in dataset if r.metric == _DRIFT_SHARE and r.is_computed and r.alert
        ),
        multivariate=latest.get(_MULTIVARIATE),
        quality_alerts=sum(q.alerts for q in quality),
        quality_alert_columns=sum(1 for q in quality if q.alerts),
        performance_alerts=sum(1 for p in performance if p.row.is_computed and p.row.alert),
        alerts=verdict(latest_rows),
    )


def _latest_window(rows: Sequence[MetricRow], windows: Sequence[Window]) -> list[MetricRow]:
    """The rows of the last window (all rows when there is none)."""
    if not windows:
        return list(rows)
    return [r for r in rows if window_of(r) == windows[-1]]


def _subtitle(rows: Sequence[MetricRow], windows: Sequence[Window]) -> tuple[str, ...]:
    out = [
        f"model {model}" + (f", version {version}" if version else "")
        for model, version in dict.fromkeys((r.model, r.version) for r in rows)
        if model or version
    ]
    if len(windows) == 1 and windows[0] != (None, None):
        out.append(f"window {window_text(windows[0], 0)}")
    elif len(windows) > 1:
        out.append(
            f"{len(windows)} windows, from {window_text(windows[0], 0)} "
            f"to {window_text(windows[-1], len(windows) - 1)}; "
            "tables and verdicts show the latest window"
        )
    return tuple(out)


def _column_sections(
    lines: Sequence[DriftLine],
    rows: Sequence[MetricRow],
    distributions: Mapping[str, Distribution],
    windows: Sequence[Window],
    charts: Charts,
) -> tuple[ColumnSection, ...]:
    series = _series(rows, _drift_key)
    out = []
    for line in lines:
        chart, note = None, ""
        dist = _distribution(distributions, line.column)
        if len(windows) > 1:
            chart = charts.add(
                drift_series_spec(
                    line.column,
                    line.metric,
                    _alpha(line.row.method),
                    series[(line.column, line.metric)],
                    windows,
                )
            )
        elif dist is not None and dist.labels:
            chart = charts.add(distribution_spec(dist))
        else:
            note = "No distribution was recorded for this column."
        out.append(ColumnSection(line=line, chart=chart, note=note))
    return tuple(out)


def _performance(
    rows: Sequence[MetricRow], windows: Sequence[Window], charts: Charts
) -> tuple[PerformanceLine, ...]:
    series = _series(rows, lambda r: r.metric)
    out = []
    for metric, row in _latest(rows, lambda r: r.metric).items():
        chart = None
        if len(windows) > 1:
            chart = charts.add(performance_spec(metric, series[metric], windows))
        out.append(PerformanceLine(metric=metric, method=method_text(row), row=row, chart=chart))
    return tuple(out)


def _confusion(rows: Sequence[MetricRow]) -> Confusion | None:
    cells: dict[tuple[str, str], float] = {}
    for row in _latest(rows, lambda r: r.metric).values():
        match = _CONFUSION.match(row.metric)
        if match is None:  # pragma: no cover - rows were selected by this pattern
            continue
        true, _, predicted = match["cells"].partition(",")
        cells[(true.strip(), predicted.strip())] = row.value
    if not cells:
        return None
    labels = tuple(dict.fromkeys(label for pair in cells for label in pair))
    return Confusion(
        labels=labels,
        cells=tuple(tuple(cells.get((t, p), math.nan) for p in labels) for t in labels),
    )


def _quality(rows: Sequence[MetricRow]) -> tuple[tuple[str, ...], tuple[QualityRow, ...]]:
    latest = _latest(rows, lambda r: (r.column, r.metric))
    metrics = tuple(m for m in _QUALITY_HEADERS if any(k[1] == m for k in latest))
    columns = dict.fromkeys(k[0] for k in latest)
    table = tuple(
        QualityRow(
            column=column,
            cells=tuple(_quality_cell(latest.get((column, m))) for m in metrics),
        )
        for column in columns
    )
    return tuple(_QUALITY_HEADERS[m] for m in metrics), table


def _quality_cell(row: MetricRow | None) -> QualityCell | None:
    if row is None:
        return None
    if not row.is_computed:
        return QualityCell("not computed", math.nan, False, method_text(row))
    if row.metric == "constant":  # value 1/0; upper says whether the reference was constant
        return QualityCell("yes" if row.value >= 0.5 else "no", row.value, row.alert, row.method)
    bounds = [
        f"{name} {format_share(bound)}"
        for name, bound in (("lower bound", row.lower), ("upper bound", row.upper))
        if math.isfinite(bound)
    ]
    title = "; ".join([row.method, *bounds] if row.method else bounds)
    return QualityCell(format_share(row.value), row.value, row.alert, title)


__all__ = [
    "ColumnSection",
    "Confusion",
    "DriftLine",
    "PerformanceLine",
    "QualityCell",
    "QualityRow",
    "Report",
    "Summary",
    "build",
    "method_text",
]
