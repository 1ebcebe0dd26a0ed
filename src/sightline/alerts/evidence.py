"""What an alert says about itself: the rows that caused it, the effect size, the onset.

>>> from datetime import datetime
>>> rows = [MetricRow(metric="psi", value=v, upper=0.2, alert=v > 0.2, column="age",
...                   window_start=datetime(2026, 1, 1, h)) for h, v in enumerate([.1, .3, .4])]
>>> e = evidence_of(rows[-1], rows)
>>> e["column"], round(e["effect"], 3), e["onset"]
('age', 0.2, '2026-01-01T01:00:00Z')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sightline.analysis.rows import MetricRow, encode_row


def effect(row: MetricRow) -> float | None:
    """How far the row's value lies beyond its band (its value when it has no band).

    >>> effect(MetricRow(metric="psi", value=0.5, lower=0.0, upper=0.2))
    0.3
    """
    if not math.isfinite(row.value):
        return None
    if math.isfinite(row.upper) and row.value > row.upper:
        return round(row.value - row.upper, 12)
    if math.isfinite(row.lower) and row.value < row.lower:
        return round(row.value - row.lower, 12)
    return row.value if math.isnan(row.upper) and math.isnan(row.lower) else 0.0


def onset(series: Sequence[MetricRow]) -> MetricRow | None:
    """The first row of the newest unbroken run of alerting rows of one series (ordered by
    window), i.e. the first window where the series left its band; None if the newest row
    does not alert."""
    first = None
    for row in reversed(series):
        if not row.alert:
            break
        first = row
    return first


def evidence_of(
    row: MetricRow, series: Sequence[MetricRow] = (), related: Sequence[MetricRow] = ()
) -> dict[str, Any]:
    """The evidence of an alert caused by ``row``: the row, its effect size, the onset from
    its ``series``, and ``related`` rows of the same model and window (the estimated
    performance, when an estimate exists)."""
    start = onset(series)
    impact = [encode_row(r) for r in related if r.metric.startswith("estimated_")]
    return {
        "column": row.column,
        "metric": row.metric,
        "value": encode_row(row)["value"],
        "effect": effect(row),
        "rows": [encode_row(row)],
        "onset": encode_row(start)["window_start"] if start is not None else None,
        "estimated_performance": impact,
    }


__all__ = ["effect", "evidence_of", "onset"]
