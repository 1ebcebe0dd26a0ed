"""Self-contained HTML report of a :class:`~sightline.analysis.rows.Result`.

The page is one file that works offline: Plotly's JavaScript bundle, read from the installed
``plotly`` package, is inlined, and nothing is loaded from elsewhere (no CDN, fonts or style
sheets). Chart data travel as JSON in ``<script type="application/json">`` blocks, with ``<``,
``>`` and ``&`` written as ``\\u003c`` and so on, read by one small inline script that calls
``Plotly.newPlot``. Every user-supplied string (title, column, model, metric, method, category
label) is escaped: by Jinja2's autoescape in the HTML, by the JSON encoder in the data blocks,
and, for strings Plotly draws, also HTML-escaped first, since Plotly reads a subset of HTML in
its labels.

The page has a summary (data set verdict, multivariate drift, alert counts), a sortable drift
table with one line per column, one section per column (reference vs current shares for one
window, the statistic per window for several), performance (with the confusion matrix) and
data quality. Verdicts of a result with several windows are those of the latest window.
"""

from __future__ import annotations

import functools
import html
import importlib.util
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeAlias, TypeVar

try:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined
    from markupsafe import Markup
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "the HTML report needs jinja2; install it with `pip install 'sightline[report]'`"
    ) from exc

from sightline.analysis.rows import Distribution, MetricRow, Result, WindowEdge

Json: TypeAlias = bool | int | float | str | Sequence["Json"] | Mapping[str, "Json"] | None
Window: TypeAlias = tuple[WindowEdge, WindowEdge]
K = TypeVar("K")

#: Per-column drift statistics (one per column per window).
_DRIFT_METRICS = frozenset(
    {
        "ks",
        "wasserstein",
        "wasserstein_normed",
        "psi",
        "jensen_shannon",
        "hellinger",
        "kl_divergence",
        "anderson_darling",
        "cramer_von_mises",
        "chi2",
        "l_infinity",
    }
)
#: Data quality checks per column, in the order of the quality table.
_QUALITY_METRICS: tuple[str, ...] = (
    "missing_share",
    "inf_share",
    "out_of_range_share",
    "unseen_share",
    "type_violation_share",
    "constant",
)
_QUALITY_HEADERS = {
    "missing_share": "missing",
    "inf_share": "infinite",
    "out_of_range_share": "out of range",
    "unseen_share": "unseen categories",
    "type_violation_share": "type violations",
    "constant": "constant",
}
_PER_COLUMN_KIND = {
    **dict.fromkeys(_DRIFT_METRICS, "drift"),
    **dict.fromkeys(_QUALITY_METRICS, "quality"),
}
_DATASET_METRICS = frozenset({"drift_share", "drifted_columns", "reconstruction_error"})
#: Performance rows that name the target column (all other performance rows have column "").
_PERFORMANCE_WITH_COLUMN = frozenset({"label_coverage"})
_CONFUSION = re.compile(r"^confusion\[(?P<cells>.*)\]$", re.DOTALL)
_ALPHA = re.compile(r"\bp\s*<\s*(?P<alpha>\d*\.?\d+(?:[eE][-+]?\d+)?)")
_REF_COLOR, _CUR_COLOR, _ALERT_COLOR, _LINE_COLOR = "#7b8794", "#2f6fdf", "#c62828", "#2f6fdf"
_P_COLOR = "#8e44ad"
_EN_DASH = "\N{EN DASH}"
_TEMPLATES = Path(__file__).parent / "templates"


# --------------------------------------------------------------------------- public API


def render_html(result: Result) -> str:
    """Render ``result`` as one self-contained HTML page (Plotly inlined, works offline).

    Parameters
    ----------
    result
        What :func:`sightline.compare` (one window) or :func:`sightline.analyze` (several
        windows) returned.

    Returns
    -------
    str
        The page. It loads nothing from the network.

    Examples
    --------
    >>> from sightline.analysis.rows import MetricRow, Result
    >>> rows = (
    ...     MetricRow(metric="psi", value=0.31, column="age", upper=0.2, alert=True),
    ...     MetricRow(metric="drift_share", value=1.0, upper=0.5, alert=True),
    ... )
    >>> page = render_html(Result(rows=rows, title="weekly check"))
    >>> page.startswith("<!DOCTYPE html>"), "Data set drifted" in page, "age" in page
    (True, True, True)
    """
    report = _build(result)
    return _environment().get_template("report.html").render(report=report, plotly_js=_plotly_js())


def write_html(result: Result, path: Path | str) -> Path:
    """Write :func:`render_html` of ``result`` to ``path`` as UTF-8 and return the path.

    Parent directories are created. The page is rendered before the file is opened, so a
    rendering error leaves no partial file.

    Examples
    --------
    >>> import tempfile
    >>> from sightline.analysis.rows import MetricRow, Result
    >>> out = Path(tempfile.mkdtemp()) / "reports" / "drift.html"
    >>> write_html(Result(rows=(MetricRow(metric="ks", value=0.1, column="x"),)), out).is_file()
    True
    """
    target = Path(path)
    text = render_html(result)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


# --------------------------------------------------------------------------- view model


@dataclass(frozen=True, slots=True)
class _Chart:
    """One Plotly chart: a page-unique id and its escaped JSON spec."""

    id: str
    spec: Markup


@dataclass(frozen=True, slots=True)
class _DriftLine:
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
class _ColumnSection:
    """The per-column block: its drift line, a chart, or a note why there is none."""

    line: _DriftLine
    chart: _Chart | None
    note: str


@dataclass(frozen=True, slots=True)
class _PerformanceLine:
    """One performance metric (latest window) and its chart over windows, if any."""

    metric: str
    method: str
    row: MetricRow
    chart: _Chart | None

    @property
    def verdict(self) -> str:
        """``alert``, ``ok`` or ``not computed``."""
        return _verdict(self.row, "alert", "ok")


@dataclass(frozen=True, slots=True)
class _Confusion:
    """Confusion matrix counts: ``cells[i][j]`` for true ``labels[i]``, predicted ``labels[j]``."""

    labels: tuple[str, ...]
    cells: tuple[tuple[float, ...], ...]


@dataclass(frozen=True, slots=True)
class _QualityCell:
    """One cell of the quality table."""

    text: str
    sort: float
    alert: bool
    title: str


@dataclass(frozen=True, slots=True)
class _QualityRow:
    """One column of the data set in the quality table."""

    column: str
    cells: tuple[_QualityCell | None, ...]

    @property
    def alerts(self) -> int:
        """Number of alerting checks of this column."""
        return sum(1 for c in self.cells if c is not None and c.alert)


@dataclass(frozen=True, slots=True)
class _Summary:
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

    @property
    def verdict(self) -> str:
        """The headline: data set drifted or not (or why there is no verdict)."""
        share = self.drift_share
        if share is None:
            return "No data set drift verdict in this result"
        if not share.is_computed:
            return "Data set drift not computed"
        return "Data set drifted" if share.alert else "Data set not drifted"


@dataclass(frozen=True, slots=True)
class _Report:
    """Everything the template shows."""

    title: str
    subtitle: tuple[str, ...]
    multi_window: bool
    summary: _Summary
    drift: tuple[_DriftLine, ...]
    columns: tuple[_ColumnSection, ...]
    performance: tuple[_PerformanceLine, ...]
    confusion: _Confusion | None
    quality_metrics: tuple[str, ...]
    quality: tuple[_QualityRow, ...]
    other: tuple[MetricRow, ...]


def _verdict(row: MetricRow, bad: str, good: str) -> str:
    if not row.is_computed:
        return "not computed"
    return bad if row.alert else good


# --------------------------------------------------------------------------- building


class _Charts:
    """Hands out page-unique chart ids (never derived from user strings)."""

    def __init__(self) -> None:
        self._n = 0

    def add(self, spec: Mapping[str, Json]) -> _Chart:
        self._n += 1
        return _Chart(id=f"chart-{self._n}", spec=json_for_script(spec))


def _build(result: Result) -> _Report:
    windows = _ordered_windows(result.rows)
    order = {w: i for i, w in enumerate(windows)}
    rows = sorted(result.rows, key=lambda r: order[_window(r)])
    groups: dict[str, list[MetricRow]] = {}
    for r in rows:
        groups.setdefault(_category(r), []).append(r)
    charts = _Charts()
    multi = len(windows) > 1
    drift = _drift_lines(groups.get("drift", []), result.distributions)
    quality_metrics, quality = _quality(groups.get("quality", []))
    performance = _performance(groups.get("performance", []), windows, charts)
    return _Report(
        title=result.title,
        subtitle=_subtitle(result.rows, windows),
        multi_window=multi,
        summary=_summary(groups, drift, quality, performance),
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


def _category(row: MetricRow) -> str:
    metric = row.metric
    if _CONFUSION.match(metric):
        kind = "confusion"
    elif metric in _PERFORMANCE_WITH_COLUMN:
        kind = "performance"
    elif row.column:
        kind = _PER_COLUMN_KIND.get(metric, "other")
    elif metric in _DATASET_METRICS:
        kind = "dataset"
    elif metric in _DRIFT_METRICS or metric in _QUALITY_METRICS:
        kind = "other"  # a per-column statistic without a column: show it, do not guess
    else:
        kind = "performance"
    return kind


def _latest(rows: Iterable[MetricRow], key: Callable[[MetricRow], K]) -> dict[K, MetricRow]:
    """The last row per key; ``rows`` come in window order, so the latest window wins."""
    return {key(r): r for r in rows}


def _series(
    rows: Iterable[MetricRow], key: Callable[[MetricRow], K]
) -> dict[K, dict[Window, MetricRow]]:
    out: dict[K, dict[Window, MetricRow]] = {}
    for r in rows:
        out.setdefault(key(r), {})[_window(r)] = r
    return out


def _drift_key(row: MetricRow) -> tuple[str, str]:
    return (row.column, row.metric)


def _drift_lines(
    rows: Sequence[MetricRow], distributions: Mapping[str, Distribution]
) -> tuple[_DriftLine, ...]:
    series = _series(rows, _drift_key)
    lines = []
    for i, (key, row) in enumerate(_latest(rows, _drift_key).items(), start=1):
        dist = _distribution(distributions, row.column)
        threshold, threshold_sort = _threshold(row)
        per_window = series[key].values()
        lines.append(
            _DriftLine(
                anchor=f"column-{i}",
                column=row.column,
                kind=dist.kind if dist is not None else "",
                metric=row.metric,
                method=_method_text(row),
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


def _method_text(row: MetricRow) -> str:
    """The method, or for a row that could not be computed, the reason."""
    return row.method if row.is_computed else row.method.partition(":")[2].strip()


def _threshold(row: MetricRow) -> tuple[str, float]:
    """The threshold as shown (``0.2`` or ``p < 0.05``) and a number to sort by."""
    if not row.is_computed:
        return "", math.nan
    if math.isfinite(row.upper):
        return _format_number(row.upper), row.upper
    alpha = _alpha(row.method)
    if alpha is not None:
        return f"p < {_format_number(alpha)}", alpha
    return "", math.nan


def _alpha(method: str) -> float | None:
    match = _ALPHA.search(method)
    return float(match["alpha"]) if match else None


def _summary(
    groups: Mapping[str, Sequence[MetricRow]],
    drift: Sequence[_DriftLine],
    quality: Sequence[_QualityRow],
    performance: Sequence[_PerformanceLine],
) -> _Summary:
    dataset = groups.get("dataset", [])
    latest = _latest(dataset, lambda r: r.metric)
    computed = [d.row for d in drift if d.row.is_computed]
    drifted, compared = sum(1 for r in computed if r.alert), len(computed)
    count = latest.get("drifted_columns")  # value: drifted; upper: compared columns
    if count is not None and count.is_computed and math.isfinite(count.value):
        drifted = round(count.value)
        compared = round(count.upper) if math.isfinite(count.upper) else compared
    return _Summary(
        drift_share=latest.get("drift_share"),
        drifted_columns=drifted,
        compared_columns=compared,
        not_computed_columns=len(drift) - len(computed),
        dataset_windows_drifted=sum(
            1 for r in dataset if r.metric == "drift_share" and r.is_computed and r.alert
        ),
        multivariate=latest.get("reconstruction_error"),
        quality_alerts=sum(q.alerts for q in quality),
        quality_alert_columns=sum(1 for q in quality if q.alerts),
        performance_alerts=sum(1 for p in performance if p.row.is_computed and p.row.alert),
    )


def _subtitle(rows: Sequence[MetricRow], windows: Sequence[Window]) -> tuple[str, ...]:
    out = [
        f"model {model}" + (f", version {version}" if version else "")
        for model, version in dict.fromkeys((r.model, r.version) for r in rows)
        if model or version
    ]
    if len(windows) == 1 and windows[0] != (None, None):
        out.append(f"window {_window_text(windows[0], 0)}")
    elif len(windows) > 1:
        out.append(
            f"{len(windows)} windows, from {_window_text(windows[0], 0)} "
            f"to {_window_text(windows[-1], len(windows) - 1)}; "
            "tables and verdicts show the latest window"
        )
    return tuple(out)


def _column_sections(
    lines: Sequence[_DriftLine],
    rows: Sequence[MetricRow],
    distributions: Mapping[str, Distribution],
    windows: Sequence[Window],
    charts: _Charts,
) -> tuple[_ColumnSection, ...]:
    series = _series(rows, _drift_key)
    out = []
    for line in lines:
        chart, note = None, ""
        dist = _distribution(distributions, line.column)
        if len(windows) > 1:
            chart = charts.add(
                _drift_series_spec(line, series[(line.column, line.metric)], windows)
            )
        elif dist is not None and dist.labels:
            chart = charts.add(_distribution_spec(dist))
        else:
            note = "No distribution was recorded for this column."
        out.append(_ColumnSection(line=line, chart=chart, note=note))
    return tuple(out)


def _performance(
    rows: Sequence[MetricRow], windows: Sequence[Window], charts: _Charts
) -> tuple[_PerformanceLine, ...]:
    series = _series(rows, lambda r: r.metric)
    out = []
    for metric, row in _latest(rows, lambda r: r.metric).items():
        chart = None
        if len(windows) > 1:
            chart = charts.add(_performance_spec(metric, series[metric], windows))
        out.append(_PerformanceLine(metric=metric, method=_method_text(row), row=row, chart=chart))
    return tuple(out)


def _confusion(rows: Sequence[MetricRow]) -> _Confusion | None:
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
    return _Confusion(
        labels=labels,
        cells=tuple(tuple(cells.get((t, p), math.nan) for p in labels) for t in labels),
    )


def _quality(rows: Sequence[MetricRow]) -> tuple[tuple[str, ...], tuple[_QualityRow, ...]]:
    latest = _latest(rows, lambda r: (r.column, r.metric))
    metrics = tuple(m for m in _QUALITY_METRICS if any(k[1] == m for k in latest))
    columns = dict.fromkeys(k[0] for k in latest)
    table = tuple(
        _QualityRow(
            column=column,
            cells=tuple(_quality_cell(latest.get((column, m))) for m in metrics),
        )
        for column in columns
    )
    return tuple(_QUALITY_HEADERS[m] for m in metrics), table


def _quality_cell(row: MetricRow | None) -> _QualityCell | None:
    if row is None:
        return None
    if not row.is_computed:
        return _QualityCell("not computed", math.nan, False, _method_text(row))
    if row.metric == "constant":  # value 1/0; upper says whether the reference was constant
        return _QualityCell("yes" if row.value >= 0.5 else "no", row.value, row.alert, row.method)
    bounds = [
        f"{name} {_format_share(bound)}"
        for name, bound in (("lower bound", row.lower), ("upper bound", row.upper))
        if math.isfinite(bound)
    ]
    title = "; ".join([row.method, *bounds] if row.method else bounds)
    return _QualityCell(_format_share(row.value), row.value, row.alert, title)


# --------------------------------------------------------------------------- windows


def _window(row: MetricRow) -> Window:
    return (row.window_start, row.window_end)


def _edge_order(edge: WindowEdge) -> tuple[int, float]:
    if edge is None:
        return (0, 0.0)
    if isinstance(edge, datetime):
        return (2, edge.timestamp())
    return (1, float(edge))


def _ordered_windows(rows: Iterable[MetricRow]) -> list[Window]:
    seen = dict.fromkeys(_window(r) for r in rows)
    return sorted(seen, key=lambda w: (_edge_order(w[0]), _edge_order(w[1])))


def _utc_naive(edge: datetime) -> datetime:
    return edge.astimezone(UTC).replace(tzinfo=None) if edge.tzinfo is not None else edge


def _edge_text(edge: WindowEdge) -> str:
    if edge is None:
        return "…"
    if isinstance(edge, datetime):
        edge = _utc_naive(edge)
        if edge.time() == datetime.min.time():
            return edge.date().isoformat()
        return edge.isoformat(sep=" ", timespec="minutes")
    return str(edge)


def _window_text(window: Window, index: int) -> str:
    start, end = window
    if start is None and end is None:
        return f"window {index + 1}"
    if isinstance(start, int) and isinstance(end, int):
        return f"rows {start}{_EN_DASH}{end}"
    return f"{_edge_text(start)} {_EN_DASH} {_edge_text(end)}"


def _axis(windows: Sequence[Window]) -> tuple[list[str], str]:
    """X values for charts over windows and the Plotly axis type."""
    starts = [w[0] for w in windows]
    dates = [_utc_naive(s) for s in starts if isinstance(s, datetime)]
    if dates and len(dates) == len(starts):
        return [d.isoformat(sep=" ") for d in dates], "date"
    return [_plot_text(_window_text(w, i)) for i, w in enumerate(windows)], "category"


# --------------------------------------------------------------------------- chart specs


def _plot_text(text: str) -> str:
    """A user string for Plotly to draw: Plotly reads tags such as ``<b>`` in labels."""
    return html.escape(text, quote=False)


def _layout(**extra: Json) -> dict[str, Json]:
    layout: dict[str, Json] = {
        "height": 300,
        "margin": {"l": 60, "r": 30, "t": 40, "b": 40},
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "#fafbfc",
    }
    layout.update(extra)
    return layout


def _spec(
    about: str, subject: str, data: Sequence[Json], layout: Mapping[str, Json]
) -> dict[str, Json]:
    return {
        "about": {"chart": about, "subject": subject},
        "data": data,
        "layout": layout,
        "config": {"displaylogo": False, "responsive": True},
    }


def _distribution_spec(dist: Distribution) -> dict[str, Json]:
    labels = [_plot_text(label) for label in dist.labels]
    data: list[Json] = [
        {
            "type": "bar",
            "name": name,
            "x": labels,
            "y": list(shares),
            "marker": {"color": color},
            "hovertemplate": "%{x}: %{y:.1%}<extra>" + name + "</extra>",
        }
        for name, shares, color in (
            ("reference", dist.reference, _REF_COLOR),
            ("current", dist.current, _CUR_COLOR),
        )
    ]
    layout = _layout(
        barmode="group",
        xaxis={"type": "category", "automargin": True},
        yaxis={"title": {"text": "share"}, "tickformat": ".0%", "rangemode": "tozero"},
    )
    return _spec("distribution", dist.column, data, layout)


def _drift_series_spec(
    line: _DriftLine, per_window: Mapping[Window, MetricRow], windows: Sequence[Window]
) -> dict[str, Json]:
    x, xtype = _axis(windows)
    rows = [per_window.get(w) for w in windows]
    values = [r.value if r is not None else math.nan for r in rows]
    alerts = [r is not None and r.is_computed and r.alert for r in rows]
    data: list[Json] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": _plot_text(line.metric),
            "x": x,
            "y": values,
            "line": {"color": _LINE_COLOR},
            "marker": {"size": 9, "color": [_ALERT_COLOR if a else _LINE_COLOR for a in alerts]},
        }
    ]
    uppers = [r.upper if r is not None else math.nan for r in rows]
    if any(math.isfinite(u) for u in uppers):
        data.append(_dashed("threshold", x, uppers))
    layout = _layout(
        xaxis={"type": xtype, "automargin": True},
        yaxis={"title": {"text": _plot_text(line.metric)}, "rangemode": "tozero"},
    )
    p_values = [r.p_value if r is not None else math.nan for r in rows]
    if any(math.isfinite(p) and p > 0 for p in p_values):
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "adjusted p-value",
                "x": x,
                "y": p_values,
                "yaxis": "y2",
                "line": {"color": _P_COLOR, "dash": "dot"},
                "marker": {"color": _P_COLOR},
            }
        )
        alpha = _alpha(line.row.method)
        if alpha is not None:
            data.append({**_dashed("alpha", x, [alpha] * len(x), _P_COLOR), "yaxis": "y2"})
        layout["yaxis2"] = {
            "title": {"text": "adjusted p-value", "font": {"color": _P_COLOR}},
            "overlaying": "y",
            "side": "right",
            "type": "log",
            "exponentformat": "e",
            "automargin": True,
            "showgrid": False,
        }
    return _spec("drift", line.column, data, layout)


def _dashed(
    name: str, x: Sequence[str], y: Sequence[float], color: str = "#555"
) -> dict[str, Json]:
    return {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": x,
        "y": y,
        "line": {"color": color, "dash": "dash", "width": 1.5},
    }


def _performance_spec(
    metric: str, per_window: Mapping[Window, MetricRow], windows: Sequence[Window]
) -> dict[str, Json]:
    x, xtype = _axis(windows)
    rows = [per_window.get(w) for w in windows]
    lower = [r.lower if r is not None else math.nan for r in rows]
    upper = [r.upper if r is not None else math.nan for r in rows]
    data: list[Json] = []
    has_lower = any(math.isfinite(v) for v in lower)
    has_upper = any(math.isfinite(v) for v in upper)
    if has_lower:
        data.append(_dashed("lower", x, lower))
    if has_upper:
        band = {"fill": "tonexty", "fillcolor": "rgba(47,111,223,0.08)"} if has_lower else {}
        data.append({**_dashed("upper", x, upper), **band})
    alerts = [r is not None and r.is_computed and r.alert for r in rows]
    data.append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": _plot_text(metric),
            "x": x,
            "y": [r.value if r is not None else math.nan for r in rows],
            "line": {"color": _LINE_COLOR},
            "marker": {"size": 9, "color": [_ALERT_COLOR if a else _LINE_COLOR for a in alerts]},
        }
    )
    layout = _layout(
        height=260,
        xaxis={"type": xtype, "automargin": True},
        yaxis={"title": {"text": _plot_text(metric)}},
    )
    return _spec("performance", metric, data, layout)


# --------------------------------------------------------------------------- escaping


def json_for_script(data: Json) -> Markup:
    """``data`` as JSON safe to place inside a ``<script>`` element.

    Non-finite floats become ``null``; ``<``, ``>``, ``&`` and the two JavaScript line
    separators are written as ``\\uXXXX`` escapes, so no string can close the element or
    open a comment, and ``JSON.parse`` gives back the original strings.

    Examples
    --------
    >>> str(json_for_script({"label": "</script>", "x": float("nan")}))
    '{"label":"\\\\u003c/script\\\\u003e","x":null}'
    """
    text = json.dumps(_finite(data), allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _JSON_ESCAPES:
        text = text.replace(raw, escaped)
    return Markup(text)


_JSON_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def _finite(data: Json) -> Json:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, str):
        return data
    if isinstance(data, Mapping):
        return {str(k): _finite(v) for k, v in data.items()}
    if isinstance(data, Sequence):
        return [_finite(v) for v in data]
    return data


# --------------------------------------------------------------------------- formatting


def _format_number(value: float) -> str:
    """A number for a table cell: ``—`` for NaN, integers without decimals, else 4 digits.

    Examples
    --------
    >>> [_format_number(v) for v in (0.123456, 3.0, 12345.6, float("nan"), 2.5e-7)]
    ['0.1235', '3', '12,346', '—', '2.5e-07']
    """
    if math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if abs(value) >= 1e4 and abs(value) < 1e15:
        return f"{value:,.0f}"
    if value == int(value):
        return str(int(value))
    return f"{value:.4g}"


def _format_p_value(value: float) -> str:
    """A p-value: ``—`` for NaN, 3 significant digits.

    Examples
    --------
    >>> [_format_p_value(v) for v in (0.04321, 1.5e-12, float("nan"))]
    ['0.0432', '1.5e-12', '—']
    """
    return "—" if math.isnan(value) else f"{value:.3g}"


def _format_share(value: float) -> str:
    """A share as a percentage, with ``<0.1%`` for tiny non-zero shares.

    Examples
    --------
    >>> [_format_share(v) for v in (0.0, 0.0004, 0.125, float("nan"))]
    ['0.0%', '<0.1%', '12.5%', '—']
    """
    if math.isnan(value):
        return "—"
    if 0 < value < 0.0005:
        return "<0.1%"
    return f"{value:.1%}"


def _sort_key(value: float) -> str:
    """A ``data-sort`` attribute: the number, or empty for NaN (sorted last)."""
    return repr(float(value)) if math.isfinite(value) else ""


# --------------------------------------------------------------------------- environment


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = _format_number
    env.filters["pval"] = _format_p_value
    env.filters["share"] = _format_share
    env.filters["sortkey"] = _sort_key
    env.filters["reason"] = _method_text
    return env


def _plotly_bundle() -> Path | None:
    """Where the installed ``plotly`` package keeps ``plotly.min.js`` (without importing it)."""
    spec = importlib.util.find_spec("plotly")
    locations = spec.submodule_search_locations if spec is not None else None
    for location in locations or ():
        bundle = Path(location) / "package_data" / "plotly.min.js"
        if bundle.is_file():
            return bundle
    return None


@functools.cache
def _plotly_js() -> Markup:
    """Plotly's minified bundle from the installed ``plotly`` package, safe to inline."""
    bundle = _plotly_bundle()
    if bundle is None:
        raise ImportError(
            "the HTML report inlines plotly's JavaScript bundle (plotly/package_data/"
            "plotly.min.js), which was not found; install it with "
            "`pip install 'sightline[report]'`"
        )
    text = bundle.read_text(encoding="utf-8")
    # Neither occurs in the bundle today; either would end or confuse the <script> element.
    text = re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)
    return Markup(text.replace("<!--", "<\\!--"))


__all__ = ["json_for_script", "render_html", "write_html"]
