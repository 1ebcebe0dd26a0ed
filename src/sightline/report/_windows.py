"""The windows of a result: their order, how they read, and the x axis of charts over them.

A window is the ``(window_start, window_end)`` pair of its rows: datetimes (time windows),
integers (row ranges of size-based windows) or ``None`` (one unbounded window).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TypeAlias

from sightline.analysis.rows import MetricRow, WindowEdge
from sightline.report._escape import plot_text

Window: TypeAlias = tuple[WindowEdge, WindowEdge]

_EN_DASH = "\N{EN DASH}"


def window_of(row: MetricRow) -> Window:
    """The window of ``row``."""
    return (row.window_start, row.window_end)


def _edge_order(edge: WindowEdge) -> tuple[int, float]:
    if edge is None:
        return (0, 0.0)
    if isinstance(edge, datetime):
        return (2, edge.timestamp())
    return (1, float(edge))


def ordered_windows(rows: Iterable[MetricRow]) -> list[Window]:
    """The distinct windows of ``rows``, earliest first."""
    seen = dict.fromkeys(window_of(r) for r in rows)
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


def window_text(window: Window, index: int) -> str:
    """How the page names a window (``index`` numbers unbounded ones)."""
    start, end = window
    if start is None and end is None:
        return f"window {index + 1}"
    if isinstance(start, int) and isinstance(end, int):
        return f"rows {start}{_EN_DASH}{end}"
    return f"{_edge_text(start)} {_EN_DASH} {_edge_text(end)}"


def axis(windows: Sequence[Window]) -> tuple[list[str], str]:
    """X values for charts over windows and the Plotly axis type."""
    starts = [w[0] for w in windows]
    dates = [_utc_naive(s) for s in starts if isinstance(s, datetime)]
    if dates and len(dates) == len(starts):
        return [d.isoformat(sep=" ") for d in dates], "date"
    return [plot_text(window_text(w, i)) for i, w in enumerate(windows)], "category"


__all__ = ["Window", "axis", "ordered_windows", "window_of", "window_text"]
