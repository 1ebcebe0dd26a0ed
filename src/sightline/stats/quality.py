"""Data-quality rates of every column at once: missing, infinite, out of range, unseen, constant.

Inputs are ``(n_rows, n_columns)`` arrays (a 1-D array is one column); outputs are vectors
of shape ``(n_columns,)``. A rate with an empty denominator (no rows, or no non-missing
values) is ``nan`` for that column.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sightline._types import BoolArray, FloatArray, IntArray
from sightline._validate import as_columns
from sightline.errors import InvalidInputError
from sightline.stats._binning import SortedColumns


def _per_column(values: npt.ArrayLike, k: int, name: str) -> npt.NDArray[np.generic]:
    """``values`` broadcast to shape ``(k,)``."""
    arr = np.asarray(values)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] not in (1, k)):
        raise InvalidInputError(
            f"{name} must have one value per column ({k}), got shape {arr.shape}", field=name
        )
    return np.broadcast_to(arr, (k,))


def _share(count: IntArray, total: IntArray) -> FloatArray:
    out = np.full(count.shape, np.nan)
    np.divide(count, total, out=out, where=total > 0)
    return out


def _row_share(flags: BoolArray) -> FloatArray:
    """Share of the rows flagged in every column of ``flags`` (n_rows, n_columns)."""
    n_rows = np.full(flags.shape[1], flags.shape[0], dtype=np.int64)
    return _share(np.count_nonzero(flags, axis=0), n_rows)


def missing_share(x: npt.ArrayLike) -> FloatArray:
    """Share of missing (NaN) values in every column.

    Parameters
    ----------
    x
        Values of shape ``(n_rows, n_columns)``; infinity is allowed (it is not missing).

    Returns
    -------
    NaN count / ``n_rows`` per column, shape ``(n_columns,)``; ``nan`` when there are no
    rows.

    Examples
    --------
    >>> missing_share(np.array([[1.0, np.nan], [np.nan, np.nan], [3.0, 4.0], [4.0, 5.0]]))
    array([0.25, 0.5 ])
    """
    return _row_share(np.isnan(as_columns(x, "x")))


def inf_share(x: npt.ArrayLike) -> FloatArray:
    """Share of infinite (+inf or -inf) values in every column.

    Parameters
    ----------
    x
        Values of shape ``(n_rows, n_columns)``, NaN and infinity allowed.

    Returns
    -------
    Infinite count / ``n_rows`` per column (the denominator counts every row, so missing,
    infinite and finite shares add up to 1); ``nan`` when there are no rows.

    Examples
    --------
    >>> inf_share(np.array([[np.inf, 1.0], [-np.inf, np.nan], [0.0, 2.0], [1.0, 3.0]]))
    array([0.5, 0. ])
    """
    return _row_share(np.isinf(as_columns(x, "x")))


def out_of_range_share(
    x: npt.ArrayLike | SortedColumns, low: npt.ArrayLike, high: npt.ArrayLike
) -> FloatArray:
    """Share of finite values outside ``[low, high]`` in every column.

    Parameters
    ----------
    x
        Values of shape ``(n_rows, n_columns)``, NaN and infinity allowed, or their
        :class:`~sightline.stats._binning.SortedColumns` (counted by binary search).
    low, high
        Inclusive bounds per column, shape ``(n_columns,)`` (a scalar applies to every
        column); ``-inf``/``inf`` leave a side unbounded. NaN bounds are rejected.

    Returns
    -------
    (finite values < ``low`` or > ``high``) / (non-NaN values) per column. Infinite
    values count in the denominator but never as out of range: :func:`inf_share` reports
    them. ``nan`` for a column without non-missing values.

    Raises
    ------
    InvalidInputError
        Bounds of the wrong shape, NaN bounds, or ``low > high``.

    Examples
    --------
    >>> x = np.array([[0.5, 10.0], [1.5, np.nan], [-1.0, 20.0], [1.0, 30.0]])
    >>> out_of_range_share(x, np.array([0.0, 15.0]), np.array([1.0, 25.0]))
    array([0.5 , 0.666...])
    """
    arr = x.values if isinstance(x, SortedColumns) else as_columns(x, "x")
    k = arr.shape[1]
    lo = as_columns(_per_column(low, k, "low"), "low")[:, 0]
    hi = as_columns(_per_column(high, k, "high"), "high")[:, 0]
    if np.isnan(lo).any() or np.isnan(hi).any():
        raise InvalidInputError("low and high must not contain NaN; use -inf/inf for no bound")
    if (lo > hi).any():
        j = int(np.flatnonzero(lo > hi)[0])
        raise InvalidInputError(
            f"low must be <= high in every column, got low={lo[j]} > high={hi[j]} in column {j}"
        )
    if isinstance(x, SortedColumns):
        return _sorted_outside(x, lo, hi)
    outside = np.isfinite(arr) & ((arr < lo) | (arr > hi))
    return _share(np.count_nonzero(outside, axis=0), np.count_nonzero(~np.isnan(arr), axis=0))


def _sorted_outside(x: SortedColumns, lo: FloatArray, hi: FloatArray) -> FloatArray:
    outside = np.zeros(x.values.shape[1], dtype=np.int64)
    for j, n in enumerate(x.n_valid):
        col = x.values[:n, j]
        first_finite = np.searchsorted(col, -np.inf, side="right")  # sorted: -inf, finite, inf
        end_finite = np.searchsorted(col, np.inf, side="left")
        below = np.searchsorted(col, lo[j], side="left") - first_finite
        above = end_finite - np.searchsorted(col, hi[j], side="right")
        outside[j] = max(below, 0) + max(above, 0)
    return _share(outside, np.asarray(x.n_valid, dtype=np.int64))


def unseen_share(codes: npt.ArrayLike, n_known: npt.ArrayLike) -> FloatArray:
    """Share of categories not seen in the reference, in every categorical column.

    Parameters
    ----------
    codes
        Integer category codes of shape ``(n_rows, n_columns)``: ``-1`` is missing,
        ``0 .. n_known[j] - 1`` are reference categories, larger codes are unseen ones.
    n_known
        Number of reference categories per column, shape ``(n_columns,)``, each >= 0.

    Returns
    -------
    (codes >= ``n_known``) / (codes != -1) per column; ``nan`` for a column without
    non-missing values.

    Raises
    ------
    InvalidInputError
        Non-integer codes, codes below -1, ``n_known`` of the wrong shape or negative.

    Examples
    --------
    >>> unseen_share(np.array([[0, 2], [1, -1], [3, 0], [-1, 1]]), np.array([2, 3]))
    array([0.333..., 0.   ])
    """
    arr = np.asarray(codes)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or not (arr.dtype.kind in "iu" or arr.size == 0):
        raise InvalidInputError(
            f"codes must be a 1-D or 2-D integer array, got dtype {arr.dtype} with "
            f"{arr.ndim} dimensions",
            field="codes",
        )
    if arr.size and int(arr.min()) < -1:
        raise InvalidInputError(
            f"codes must be >= -1 (-1 is missing), got {int(arr.min())}", field="codes"
        )
    known = _per_column(n_known, arr.shape[1], "n_known")
    if known.size and (known.dtype.kind not in "iu" or int(known.min()) < 0):
        raise InvalidInputError(
            f"n_known must be integers >= 0, got {known.tolist()!r}", field="n_known"
        )
    present = arr != -1
    unseen = present & (arr >= known)
    return _share(np.count_nonzero(unseen, axis=0), np.count_nonzero(present, axis=0))


def is_constant(x: npt.ArrayLike | SortedColumns) -> BoolArray:
    """Whether each column holds exactly one distinct non-missing value.

    Parameters
    ----------
    x
        Values of shape ``(n_rows, n_columns)``, NaN (ignored) and infinity allowed, or their
        :class:`~sightline.stats._binning.SortedColumns` (first and last value compared).

    Returns
    -------
    Boolean per column: True when the column has at least one non-NaN value and all of
    them are equal; False for an empty or all-NaN column.

    Examples
    --------
    >>> is_constant(np.array([[1.0, 1.0, np.nan], [1.0, 2.0, np.nan], [np.nan, 1.0, np.nan]]))
    array([ True, False, False])
    """
    if isinstance(x, SortedColumns):
        k = x.values.shape[1]
        has = np.flatnonzero(x.n_valid > 0)
        out = np.zeros(k, dtype=bool)
        out[has] = x.values[0, has] == x.values[x.n_valid[has] - 1, has]
        return out
    arr = as_columns(x, "x")
    if arr.shape[0] == 0:
        return np.zeros(arr.shape[1], dtype=bool)
    # fmin/fmax ignore NaN without the all-NaN warning of nanmin; an all-NaN column gives NaN
    lo = np.fmin.reduce(arr, axis=0)
    hi = np.fmax.reduce(arr, axis=0)
    return np.asarray(lo == hi, dtype=bool)


__all__ = ["inf_share", "is_constant", "missing_share", "out_of_range_share", "unseen_share"]
