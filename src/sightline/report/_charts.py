"""Plotly specs of the page's charts, and the page-unique ids of their data blocks.

A spec is the JSON that the page's inline script passes to ``Plotly.newPlot``:
``{"about", "data", "layout", "config"}``, where ``about`` names the chart and its subject
(a column or a metric) for readers of the data and for the tests. Every user string that
Plotly draws goes through :func:`~sightline.report._escape.plot_text`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from sightline.analysis.rows import Distribution, MetricRow
from sightline.report._escape import Json, json_for_script, plot_text
from sightline.report._windows import Window, axis

_REF_COLOR, _CUR_COLOR, _ALERT_COLOR, _LINE_COLOR = "#7b8794", "#2f6fdf", "#c62828", "#2f6fdf"
_P_COLOR = "#8e44ad"


@dataclass(frozen=True, slots=True)
class Chart:
    """One Plotly chart: a page-unique id and its escaped JSON spec."""

    id: str
    spec: Markup


class Charts:
    """Hands out page-unique chart ids (never derived from user strings)."""

    def __init__(self) -> None:
        self._n = 0

    def add(self, spec: Mapping[str, Json]) -> Chart:
        """Number ``spec`` and escape it for its ``<script>`` block."""
        self._n += 1
        return Chart(id=f"chart-{self._n}", spec=json_for_script(spec))


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


def _along(rows: Sequence[MetricRow | None], field: Callable[[MetricRow], float]) -> list[float]:
    """``field`` of every window's row, NaN for a window without one."""
    return [field(r) if r is not None else math.nan for r in rows]


def _value_trace(name: str, x: Sequence[str], rows: Sequence[MetricRow | None]) -> dict[str, Json]:
    """The metric over windows as a line, with the alerting windows' markers in red."""
    alerts = [r is not None and r.is_computed and r.alert for r in rows]
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": plot_text(name),
        "x": x,
        "y": _along(rows, lambda r: r.value),
        "line": {"color": _LINE_COLOR},
        "marker": {"size": 9, "color": [_ALERT_COLOR if a else _LINE_COLOR for a in alerts]},
    }


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


def distribution_spec(dist: Distribution) -> dict[str, Json]:
    """Reference and current shares of one column's bins or categories, side by side."""
    labels = [plot_text(label) for label in dist.labels]
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


def drift_series_spec(
    column: str,
    metric: str,
    alpha: float | None,
    per_window: Mapping[Window, MetricRow],
    windows: Sequence[Window],
) -> dict[str, Json]:
    """One column's drift statistic per window, with its threshold and adjusted p-values.

    ``alpha`` is the level the adjusted p-values are compared with, if the method has one.
    """
    x, xtype = axis(windows)
    rows = [per_window.get(w) for w in windows]
    data: list[Json] = [_value_trace(metric, x, rows)]
    uppers = _along(rows, lambda r: r.upper)
    if any(math.isfinite(u) for u in uppers):
        data.append(_dashed("threshold", x, uppers))
    layout = _layout(
        xaxis={"type": xtype, "automargin": True},
        yaxis={"title": {"text": plot_text(metric)}, "rangemode": "tozero"},
    )
    p_values = _along(rows, lambda r: r.p_value)
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
    return _spec("drift", column, data, layout)


def performance_spec(
    metric: str, per_window: Mapping[Window, MetricRow], windows: Sequence[Window]
) -> dict[str, Json]:
    """One performance metric per window, inside its lower/upper band where it has one."""
    x, xtype = axis(windows)
    rows = [per_window.get(w) for w in windows]
    lower = _along(rows, lambda r: r.lower)
    upper = _along(rows, lambda r: r.upper)
    data: list[Json] = []
    has_lower = any(math.isfinite(v) for v in lower)
    has_upper = any(math.isfinite(v) for v in upper)
    if has_lower:
        data.append(_dashed("lower", x, lower))
    if has_upper:
        band = {"fill": "tonexty", "fillcolor": "rgba(47,111,223,0.08)"} if has_lower else {}
        data.append({**_dashed("upper", x, upper), **band})
    data.append(_value_trace(metric, x, rows))
    layout = _layout(
        height=260,
        xaxis={"type": xtype, "automargin": True},
        yaxis={"title": {"text": plot_text(metric)}},
    )
    return _spec("performance", metric, data, layout)


__all__ = ["Chart", "Charts", "distribution_spec", "drift_series_spec", "performance_spec"]
