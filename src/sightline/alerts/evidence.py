"""What an alert says about itself: the rows that caused it, the effect size, the onset,
the bins or categories that moved most and the estimated performance of its window.

>>> from datetime import datetime
>>> rows = [MetricRow(metric="psi", value=v, upper=0.2, alert=v > 0.2, column="age",
...                   window_start=datetime(2026, 1, 1, h)) for h, v in enumerate([.1, .3, .4])]
>>> e = evidence_of(rows[-1], rows)
>>> e["column"], round(e["effect"], 3), e["onset"]
('age', 0.2, '2026-01-01T01:00:00Z')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from sightline.analysis.rows import Distribution, MetricRow, encode_row
from sightline.profile.column import CategoricalColumnProfile

#: How many bins or categories the evidence lists.
TOP_MOVED = 3


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


def onset(
    series: Sequence[MetricRow], holds: Callable[[MetricRow], bool] | None = None
) -> MetricRow | None:
    """The first row of the newest unbroken run of rows of one series (ordered by window)
    that meet ``holds`` (the rule's condition; default: the row's own ``alert``), i.e. the
    first window where the series left its band; None if the newest row does not."""
    bad = holds or (lambda r: r.alert)
    first = None
    for row in reversed(series):
        if not bad(row):
            break
        first = row
    return first


def moved_bins(dist: Distribution, k: int = TOP_MOVED) -> list[dict[str, Any]]:
    """The ``k`` bins or categories whose share changed most between the reference and the
    window (largest absolute change first; unchanged ones left out).

    >>> bins = ("< 30", "[30, 50)", ">= 50")
    >>> d = Distribution("age", "numeric", bins, (.5, .3, .2), (.1, .3, .6))
    >>> [(m["bin"], m["change"]) for m in moved_bins(d)]
    [('< 30', -0.4), ('>= 50', 0.4)]
    """
    ref, cur = np.asarray(dist.reference, float), np.asarray(dist.current, float)
    change = np.round(cur - ref, 12)
    order = np.argsort(-np.abs(change), kind="stable")[:k]
    return [
        {
            "bin": dist.labels[i],
            "reference": float(ref[i]),
            "current": float(cur[i]),
            "change": float(change[i]),
        }
        for i in order
        if change[i] != 0
    ]


def moved_items(
    reference: CategoricalColumnProfile, current: CategoricalColumnProfile, k: int = TOP_MOVED
) -> list[dict[str, Any]]:
    """:func:`moved_bins` of a categorical column without a vocabulary: the shares of the
    items its frequent-items sketches track (estimates: the sketches' error bounds apply)."""

    def shares(p: CategoricalColumnProfile) -> dict[str, float]:
        n = p.n_valid
        return {item: est / n for item, est, _, _ in p.frequent.top()} if n else {}

    ref, cur = shares(reference), shares(current)
    labels = tuple(sorted(set(ref) | set(cur)))
    dist = Distribution(
        reference.name,
        "categorical",
        labels,
        tuple(ref.get(x, 0.0) for x in labels),
        tuple(cur.get(x, 0.0) for x in labels),
    )
    return moved_bins(dist, k)


def evidence_of(
    row: MetricRow,
    series: Sequence[MetricRow] = (),
    related: Sequence[MetricRow] = (),
    *,
    moved: Sequence[Mapping[str, Any]] = (),
    holds: Callable[[MetricRow], bool] | None = None,
) -> dict[str, Any]:
    """The evidence of an alert caused by ``row``: the row, its effect size, the onset from
    its ``series`` (by the rule's condition ``holds``), the bins that ``moved`` most, and
    the estimated performance (``estimated_*`` rows among ``related``) of its window with
    each estimate's distance beyond its reference band."""
    start = onset(series, holds)
    impact = [
        {**encode_row(r), "effect": effect(r)}
        for r in related
        if r.metric.startswith("estimated_") and r.window_start == row.window_start
    ]
    return {
        "column": row.column,
        "metric": row.metric,
        "value": encode_row(row)["value"],
        "effect": effect(row),
        "rows": [encode_row(row)],
        "onset": encode_row(start)["window_start"] if start is not None else None,
        "moved": [dict(m) for m in moved],
        "estimated_performance": impact,
    }


__all__ = ["TOP_MOVED", "effect", "evidence_of", "moved_bins", "moved_items", "onset"]
