"""Data-quality rows: missing values, infinities, type violations, range, new categories.

Rules (a row alerts when its value is above ``upper``):

* ``missing_share``: more than the reference's share plus 0.05;
* ``inf_share`` and ``type_violation_share``: any at all (upper 0);
* ``out_of_range_share``: more than 5 % of values outside the reference [min, max];
* ``unseen_share``: more than 1 % of values in categories the reference never had;
* ``constant``: 1 when the column has a single distinct value; alerts when the reference
  column was not constant.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from sightline.analysis.reference import FittedReference, Side
from sightline.analysis.rows import MetricRow, RowContext
from sightline.stats import quality

MISSING_TOLERANCE: Final = 0.05
OUT_OF_RANGE_LIMIT: Final = 0.05
UNSEEN_LIMIT: Final = 0.01


def quality_rows(ref: FittedReference, cur: Side, ctx: RowContext) -> list[MetricRow]:
    """Rows of data-quality metrics for every monitored column of ``cur``."""
    rows: list[MetricRow] = []
    num = cur.numeric
    idx = [ref.numeric_names.index(n) for n in num.names]
    n = max(cur.n_rows, 1)
    ref_n = max(ref.side.n_rows, 1)
    missing = num.n_missing / n
    ref_missing = ref.side.numeric.n_missing[idx] / ref_n
    low = np.nan_to_num(ref.low[idx], nan=-np.inf)
    high = np.nan_to_num(ref.high[idx], nan=np.inf)
    out_of_range = quality.out_of_range_share(cur.sorted, low, high)
    constant = quality.is_constant(cur.sorted)
    for j, name in enumerate(num.names):
        common = {"column": name, "n_ref": ref.side.n_rows, "n_cur": cur.n_rows}
        rows += [
            _missing_row(ctx, missing[j], ref_missing[j], common),
            _above(ctx, "inf_share", num.n_inf[j] / n, 0.0, "share of infinite values", common),
            _above(
                ctx,
                "type_violation_share",
                num.n_invalid[j] / n,
                0.0,
                "share of values that are not numbers",
                common,
            ),
            _range_row(ctx, out_of_range[j], ref.low[idx[j]], ref.high[idx[j]], common),
            _constant_row(ctx, bool(constant[j]), bool(ref.constant[idx[j]]), common),
        ]
    rows += _categorical_rows(ref, cur, ctx)
    return rows


def _categorical_rows(ref: FittedReference, cur: Side, ctx: RowContext) -> list[MetricRow]:
    cat = cur.categorical
    idx = [ref.categorical_names.index(n) for n in cat.names]
    n = max(cur.n_rows, 1)
    ref_n = max(ref.side.n_rows, 1)
    k_num = len(ref.numeric_names)
    missing = cat.n_missing / n
    ref_missing = ref.side.categorical.n_missing[idx] / ref_n
    n_valid = cat.n_valid
    unseen = np.divide(cat.n_unseen, n_valid, out=np.full(len(idx), np.nan), where=n_valid > 0)
    constant = cat.constant
    rows: list[MetricRow] = []
    for j, name in enumerate(cat.names):
        common = {"column": name, "n_ref": ref.side.n_rows, "n_cur": cur.n_rows}
        rows += [
            _missing_row(ctx, missing[j], ref_missing[j], common),
            _above(
                ctx,
                "unseen_share",
                unseen[j],
                UNSEEN_LIMIT,
                "share of values in categories unseen in the reference",
                common,
            ),
            _constant_row(ctx, bool(constant[j]), bool(ref.constant[k_num + idx[j]]), common),
        ]
    return rows


def _missing_row(
    ctx: RowContext, share: float, ref_share: float, common: dict[str, object]
) -> MetricRow:
    upper = min(1.0, float(ref_share) + MISSING_TOLERANCE)
    method = f"share of missing values; alert above the reference share + {MISSING_TOLERANCE:g}"
    return ctx.row(
        "missing_share", share, upper=upper, alert=bool(share > upper), method=method, **common
    )


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


def _range_row(
    ctx: RowContext, share: float, low: float, high: float, common: dict[str, object]
) -> MetricRow:
    if np.isnan(low):
        return ctx.not_computed("out_of_range_share", "no values in reference", **common)
    what = f"share of values outside the reference range [{low:.6g}, {high:.6g}]"
    return _above(ctx, "out_of_range_share", share, OUT_OF_RANGE_LIMIT, what, common)


def _constant_row(
    ctx: RowContext, constant: bool, ref_constant: bool, common: dict[str, object]
) -> MetricRow:
    method = "1 when the column holds a single value; alert when the reference did not"
    return ctx.row(
        "constant",
        float(constant),
        upper=float(ref_constant),
        alert=constant and not ref_constant,
        method=method,
        **common,
    )


__all__ = ["MISSING_TOLERANCE", "OUT_OF_RANGE_LIMIT", "UNSEEN_LIMIT", "quality_rows"]
