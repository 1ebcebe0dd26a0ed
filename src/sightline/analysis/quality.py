"""Data-quality rows: missing values, infinities, type violations, range, new categories.

Rules (a row alerts when its value is above ``upper``):

* ``missing_share``: more than the reference's share plus 0.05;
* ``inf_share`` and ``type_violation_share``: any at all (upper 0);
* ``out_of_range_share``: more than 5 % of values outside the reference [min, max];
* ``unseen_share``: more than 1 % of values in categories the reference never had;
* ``constant``: 1 when the column has a single distinct value; alerts when the reference
  column was not constant.

The rows are built from one :class:`ColumnQuality` per column, which raw data
(:func:`quality_rows`) and profiles (``analysis.profile_compare``) both fill in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from sightline._types import ColumnKind
from sightline.analysis.reference import FittedReference, Side
from sightline.analysis.rows import MetricRow, RowContext

#: The metrics of data-quality rows, in the order of the report's quality table.
QUALITY_METRICS: Final = (
    "missing_share",
    "inf_share",
    "out_of_range_share",
    "unseen_share",
    "type_violation_share",
    "constant",
)
MISSING_TOLERANCE: Final = 0.05
OUT_OF_RANGE_LIMIT: Final = 0.05
UNSEEN_LIMIT: Final = 0.01

NAN = float("nan")


@dataclass(frozen=True, slots=True)
class ColumnQuality:
    """The quality figures of one column of the current side, with the reference's.

    Shares are of all rows (missing, infinite, type violations) or of the non-missing
    values (out of range, unseen); the figures of the other kind stay NaN.
    """

    column: str
    kind: ColumnKind
    n_ref: int
    n_cur: int
    missing: float
    ref_missing: float
    constant: bool
    ref_constant: bool
    inf: float = NAN
    invalid: float = NAN
    out_of_range: float = NAN
    low: float = NAN
    high: float = NAN
    unseen: float = NAN
    range_note: str = ""


def column_quality_rows(q: ColumnQuality, ctx: RowContext) -> list[MetricRow]:
    """The quality rows of one column: all of its kind's metrics."""
    common: dict[str, object] = {"column": q.column, "n_ref": q.n_ref, "n_cur": q.n_cur}
    upper = min(1.0, q.ref_missing + MISSING_TOLERANCE)
    rows = [
        ctx.row(
            "missing_share",
            q.missing,
            upper=upper,
            alert=bool(q.missing > upper),
            method=f"share of missing values; alert above the reference share + "
            f"{MISSING_TOLERANCE:g}",
            **common,
        )
    ]
    if q.kind == "numeric":
        rows.append(_above(ctx, "inf_share", q.inf, 0.0, "share of infinite values", common))
        rows.append(
            _above(
                ctx,
                "type_violation_share",
                q.invalid,
                0.0,
                "share of values that are not numbers",
                common,
            )
        )
        if np.isnan(q.low):
            rows.append(ctx.not_computed("out_of_range_share", "no values in reference", **common))
        else:
            what = f"share of values outside the reference range [{q.low:.6g}, {q.high:.6g}]"
            rows.append(
                _above(
                    ctx,
                    "out_of_range_share",
                    q.out_of_range,
                    OUT_OF_RANGE_LIMIT,
                    what + q.range_note,
                    common,
                )
            )
    else:
        what = "share of values in categories unseen in the reference"
        rows.append(_above(ctx, "unseen_share", q.unseen, UNSEEN_LIMIT, what, common))
    rows.append(
        ctx.row(
            "constant",
            float(q.constant),
            upper=float(q.ref_constant),
            alert=q.constant and not q.ref_constant,
            method="1 when the column holds a single value; alert when the reference did not",
            **common,
        )
    )
    return rows


def _above(
    ctx: RowContext, metric: str, value: float, upper: float, what: str, common: dict[str, object]
) -> MetricRow:
    value = float(value)
    if np.isnan(value):
        return ctx.not_computed(metric, "no values in current", **common)
    return ctx.row(
        metric,
        value,
        upper=upper,
        alert=value > upper,
        method=f"{what}; alert above {upper:g}",
        **common,
    )


def quality_rows(ref: FittedReference, cur: Side, ctx: RowContext) -> list[MetricRow]:
    """Rows of data-quality metrics for every monitored column of ``cur``."""
    return [
        row
        for q in _numeric(ref, cur) + _categorical(ref, cur)
        for row in column_quality_rows(q, ctx)
    ]


def _numeric(ref: FittedReference, cur: Side) -> list[ColumnQuality]:
    num = cur.numeric
    idx = [ref.numeric_names.index(n) for n in num.names]
    n = max(cur.n_rows, 1)
    ref_n = max(ref.side.n_rows, 1)
    return [
        ColumnQuality(
            column=name,
            kind="numeric",
            n_ref=ref.side.n_rows,
            n_cur=cur.n_rows,
            missing=num.n_missing[j] / n,
            ref_missing=ref.side.numeric.n_missing[idx[j]] / ref_n,
            constant=bool(num.constant[j]),
            ref_constant=bool(ref.constant[idx[j]]),
            inf=num.n_inf[j] / n,
            invalid=num.n_invalid[j] / n,
            out_of_range=float(num.out_of_range[j]),
            low=float(ref.low[idx[j]]),
            high=float(ref.high[idx[j]]),
        )
        for j, name in enumerate(num.names)
    ]


def _categorical(ref: FittedReference, cur: Side) -> list[ColumnQuality]:
    cat = cur.categorical
    idx = [ref.categorical_names.index(n) for n in cat.names]
    n = max(cur.n_rows, 1)
    ref_n = max(ref.side.n_rows, 1)
    k_num = len(ref.numeric_names)
    n_valid = cat.n_valid
    unseen = np.divide(cat.n_unseen, n_valid, out=np.full(len(idx), np.nan), where=n_valid > 0)
    return [
        ColumnQuality(
            column=name,
            kind="categorical",
            n_ref=ref.side.n_rows,
            n_cur=cur.n_rows,
            missing=cat.n_missing[j] / n,
            ref_missing=ref.side.categorical.n_missing[idx[j]] / ref_n,
            constant=bool(cat.constant[j]),
            ref_constant=bool(ref.constant[k_num + idx[j]]),
            unseen=float(unseen[j]),
        )
        for j, name in enumerate(cat.names)
    ]


__all__ = [
    "MISSING_TOLERANCE",
    "OUT_OF_RANGE_LIMIT",
    "QUALITY_METRICS",
    "UNSEEN_LIMIT",
    "ColumnQuality",
    "column_quality_rows",
    "quality_rows",
]
