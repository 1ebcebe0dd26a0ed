"""Multiple-testing corrections over the vector of per-column p-values.

Each function returns adjusted p-values in the input's order: reject hypothesis ``i`` at
level ``alpha`` iff ``adjusted[i] <= alpha``. NaN entries (columns that were not tested)
stay NaN and do not count in the number of tests ``m``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sightline._types import FloatArray, IntArray
from sightline.errors import InvalidInputError


def _check_pvalues(pvalues: npt.ArrayLike) -> FloatArray:
    try:
        arr = np.array(pvalues, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"pvalues must be numbers in [0, 1] or NaN, got {exc}", field="pvalues"
        ) from exc
    if arr.ndim != 1:
        raise InvalidInputError(
            f"pvalues must be 1-D (one per column), got {arr.ndim} dimensions", field="pvalues"
        )
    bad = ~np.isnan(arr) & ~((arr >= 0.0) & (arr <= 1.0))
    if bad.any():
        raise InvalidInputError(
            f"pvalues must be numbers in [0, 1] or NaN, got {arr[bad][:5].tolist()}",
            field="pvalues",
        )
    return arr


def _ascending(arr: FloatArray) -> IntArray:
    """Positions of the non-NaN entries of ``arr`` in ascending order of their values."""
    valid = np.flatnonzero(~np.isnan(arr))
    return valid[np.argsort(arr[valid], kind="stable")]


def benjamini_hochberg(pvalues: npt.ArrayLike) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values (q-values), controlling the false discovery rate.

    Parameters
    ----------
    pvalues
        1-D p-values, one per column; NaN entries are ignored.

    Returns
    -------
    ``q[(i)] = min_{j >= i} min(1, p[(j)] * m / j)`` for the ascending order ``(i)`` of the
    ``m`` non-NaN p-values, in input order; NaN where the input is NaN.

    References
    ----------
    Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B 57.
    Oracle: ``scipy.stats.false_discovery_control(p, method="bh")``; alibi-detect's ``fdr``
    (METHODS.md 3.3).

    Examples
    --------
    >>> benjamini_hochberg([0.5, 0.6, np.nan, 0.1, 0.001])
    array([0.6  , 0.6  ,   nan, 0.2  , 0.004])
    """
    arr = _check_pvalues(pvalues)
    order = _ascending(arr)
    m = order.size
    adjusted = arr[order] * (m / np.arange(1, m + 1))
    adjusted = np.minimum.accumulate(adjusted[::-1])[::-1]
    arr[order] = np.clip(adjusted, 0.0, 1.0)
    return arr


def bonferroni(pvalues: npt.ArrayLike) -> FloatArray:
    """Bonferroni adjusted p-values, controlling the family-wise error rate.

    Parameters
    ----------
    pvalues
        1-D p-values, one per column; NaN entries are ignored.

    Returns
    -------
    ``min(1, p * m)`` with ``m`` the number of non-NaN p-values; NaN where the input is NaN.
    alibi-detect's default batch rule ("any p < alpha / m") is ``min(adjusted) < alpha``.

    References
    ----------
    Dunn, O. J. (1961). Multiple comparisons among means. JASA 56. METHODS.md 3.3.

    Examples
    --------
    >>> bonferroni([0.01, 0.2, np.nan, 0.5])
    array([0.03, 0.6 ,  nan, 1.  ])
    """
    arr = _check_pvalues(pvalues)
    m = int(np.count_nonzero(~np.isnan(arr)))
    return np.minimum(arr * m, 1.0)


def holm(pvalues: npt.ArrayLike) -> FloatArray:
    """Holm's step-down adjusted p-values, controlling the family-wise error rate.

    Parameters
    ----------
    pvalues
        1-D p-values, one per column; NaN entries are ignored.

    Returns
    -------
    ``a[(i)] = max_{j <= i} min(1, (m - j + 1) * p[(j)])`` for the ascending order ``(i)``
    of the ``m`` non-NaN p-values, in input order; NaN where the input is NaN. Uniformly
    more powerful than :func:`bonferroni`.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scand. J.
    Statist. 6.

    Examples
    --------
    >>> holm([0.01, 0.04, np.nan, 0.03])
    array([0.03, 0.06,  nan, 0.06])
    """
    arr = _check_pvalues(pvalues)
    order = _ascending(arr)
    adjusted = np.maximum.accumulate(arr[order] * np.arange(order.size, 0, -1))
    arr[order] = np.minimum(adjusted, 1.0)
    return arr


__all__ = ["benjamini_hochberg", "bonferroni", "holm"]
