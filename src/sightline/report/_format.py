"""Numbers as the page's tables show them; the template uses these as Jinja2 filters."""

from __future__ import annotations

import math


def format_number(value: float) -> str:
    """A number for a table cell: ``—`` for NaN, integers without decimals, else 4 digits.

    Examples
    --------
    >>> [format_number(v) for v in (0.123456, 3.0, 12345.6, float("nan"), 2.5e-7)]
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


def format_p_value(value: float) -> str:
    """A p-value: ``—`` for NaN, 3 significant digits.

    Examples
    --------
    >>> [format_p_value(v) for v in (0.04321, 1.5e-12, float("nan"))]
    ['0.0432', '1.5e-12', '—']
    """
    return "—" if math.isnan(value) else f"{value:.3g}"


def format_share(value: float) -> str:
    """A share as a percentage, with ``<0.1%`` for tiny non-zero shares.

    Examples
    --------
    >>> [format_share(v) for v in (0.0, 0.0004, 0.125, float("nan"))]
    ['0.0%', '<0.1%', '12.5%', '—']
    """
    if math.isnan(value):
        return "—"
    if 0 < value < 0.0005:
        return "<0.1%"
    return f"{value:.1%}"


def sort_key(value: float) -> str:
    """A ``data-sort`` attribute: the number, or empty for NaN (sorted last)."""
    return repr(float(value)) if math.isfinite(value) else ""


__all__ = ["format_number", "format_p_value", "format_share", "sort_key"]
