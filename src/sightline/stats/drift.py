"""Univariate drift statistics, every column in one call.

Sample statistics (KS, Wasserstein, Anderson-Darling, Cramer-von Mises) take samples of
shape ``(n_rows, n_columns)`` -- or their :class:`SortedColumns`, so that a column is sorted
once and reused -- with NaN meaning missing. Count statistics (PSI, KL, Jensen-Shannon,
Hellinger, L-infinity, chi-square) take bin or category counts of shape
``(n_bins, n_columns)`` on the same bins for both sides. Every function returns ``(n_columns,)``
vectors (or a :class:`TestResult` of them), with ``nan`` for a column that cannot be computed
(no valid value on one side, and the cases listed per function).

The numbers equal scipy's (METHODS.md sections 1-2, test vectors in section 13); each function
names its oracle. The per-column computations of the rank tests live in
:mod:`~sightline.stats._ks` (Kolmogorov-Smirnov) and :mod:`~sightline.stats._ranks`
(Anderson-Darling, Cramer-von Mises), the distances between bin proportions in
:mod:`~sightline.stats._count_distances`; import everything from here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal, NamedTuple, TypeAlias

import numpy as np
from scipy import stats

from sightline._types import FloatArray, IntArray
from sightline._validate import check_in_range, check_same_columns
from sightline.errors import InvalidInputError
from sightline.stats._binning import SortedColumns, as_sorted, sort_columns, valid_column
from sightline.stats._count_distances import (
    counts_pair,
    hellinger,
    jensen_shannon,
    kl_divergence,
    l_infinity,
    psi,
)
from sightline.stats._ks import ks_asymptotic_pvalue, ks_exact_pvalue, ks_statistic
from sightline.stats._ranks import (
    AD_PVALUE_RANGE,
    ad_harmonics,
    ad_midrank,
    ad_pvalue,
    ad_sigma,
    cvm_asymptotic_pvalue,
    cvm_exact_pvalue,
    cvm_statistic,
    pooled_runs,
)

Sample: TypeAlias = "FloatArray | SortedColumns"

#: ``ks(method="auto")`` is exact up to this many values per side (as scipy's ``ks_2samp``).
KS_EXACT_MAX = 10_000
#: ``cramer_von_mises(method="auto")`` is exact up to this many values per side (as scipy).
CVM_EXACT_MAX = 20


class TestResult(NamedTuple):
    """Statistic and p-value of a test, one entry per column.

    Examples
    --------
    >>> r = ks([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    >>> r.statistic, r.pvalue
    (array([1.]), array([0.1]))
    """

    statistic: FloatArray
    pvalue: FloatArray


# Not a pytest test class despite its name (test modules may import it).
setattr(TestResult, "__test__", False)  # noqa: B010


def _pair(reference: Sample, current: Sample) -> tuple[SortedColumns, SortedColumns]:
    ref = as_sorted(reference, "reference")
    cur = as_sorted(current, "current")
    check_same_columns(ref.values, cur.values, "reference and current")
    return ref, cur


def _nan(k: int) -> FloatArray:
    return np.full(k, np.nan, dtype=np.float64)


class _PValueTest(NamedTuple):
    """A two-sample test with an exact and an asymptotic p-value, run column by column."""

    asymptotic: str  # the name of the asymptotic ``method=``
    min_n: int  # fewest valid values per side for a statistic
    exact_max: int  # ``method="auto"`` is exact up to this many values per side
    statistic: Callable[[FloatArray, FloatArray], float]  # of two sorted samples
    exact_pvalue: Callable[[FloatArray, FloatArray], float]
    asymptotic_pvalue: Callable[[FloatArray, IntArray, IntArray], FloatArray]  # (stat, n, m)


def _two_sample_test(
    reference: Sample, current: Sample, method: str, test: _PValueTest
) -> TestResult:
    """``test`` on every column: exact p-values one by one, asymptotic ones in one call."""
    if method not in ("auto", "exact", test.asymptotic):
        raise InvalidInputError(
            f"method must be 'auto', 'exact' or '{test.asymptotic}', got {method!r}",
            field="method",
        )
    ref, cur = _pair(reference, current)
    k = ref.values.shape[1]
    statistic, pvalue = _nan(k), _nan(k)
    asymp = np.zeros(k, dtype=bool)
    for j in range(k):
        n, m = int(ref.n_valid[j]), int(cur.n_valid[j])
        if n < test.min_n or m < test.min_n:
            continue
        xs, ys = valid_column(ref, j), valid_column(cur, j)
        statistic[j] = test.statistic(xs, ys)
        if method == "exact" or (method == "auto" and max(n, m) <= test.exact_max):
            pvalue[j] = test.exact_pvalue(xs, ys)
        else:
            asymp[j] = True
    if asymp.any():
        pvalue[asymp] = test.asymptotic_pvalue(
            statistic[asymp], ref.n_valid[asymp], cur.n_valid[asymp]
        )
    return TestResult(statistic, pvalue)


#: Kolmogorov-Smirnov and Cramer-von Mises, in the field order of :class:`_PValueTest`.
_KS = _PValueTest("asymp", 1, KS_EXACT_MAX, ks_statistic, ks_exact_pvalue, ks_asymptotic_pvalue)
_CVM = _PValueTest(
    "asymptotic", 2, CVM_EXACT_MAX, cvm_statistic, cvm_exact_pvalue, cvm_asymptotic_pvalue
)


# --------------------------------------------------------------------------------------------
# Kolmogorov-Smirnov


def ks(
    reference: Sample,
    current: Sample,
    *,
    method: Literal["auto", "exact", "asymp"] = "auto",
) -> TestResult:
    """Two-sample, two-sided Kolmogorov-Smirnov test of every column.

    Parameters
    ----------
    reference, current
        Samples ``(n_rows, n_columns)`` (1-D is one column), NaN meaning missing, or their
        :class:`SortedColumns`. Row counts may differ; column counts must match.
    method
        p-value method, as in ``scipy.stats.ks_2samp``: ``"exact"`` (Hodges' lattice-path
        count, computed per column by scipy), ``"asymp"`` (``kstwo.sf(D, round(n*m/(n+m)))``,
        vectorized) or ``"auto"``: exact when ``max(n, m) <= 10000`` for that column.

    Returns
    -------
    TestResult
        ``statistic`` D = sup |F - G| (ties handled by evaluating both ECDFs at every pooled
        value) and ``pvalue``; ``nan`` where a side has no valid value. With ties the
        p-value is conservative.

    References
    ----------
    Hodges, J. L. (1958). The significance probability of the Smirnov two-sample test.
    Arkiv for Matematik 3(5). Oracle: ``scipy.stats.ks_2samp`` (METHODS.md 1.1, T1).

    Examples
    --------
    >>> a = [0.1, 0.5, 1.2, 1.9, 2.3, 2.8, 3.1, 3.3, 4.0, 4.7]
    >>> b = [0.9, 1.7, 2.2, 2.9, 3.6, 3.8, 4.4, 5.1, 5.5, 6.0, 6.2, 7.3]
    >>> r = ks(a, b)
    >>> round(float(r.statistic[0]), 6), round(float(r.pvalue[0]), 6)
    (0.466667, 0.134243)
    >>> round(float(ks(a, b, method="asymp").pvalue[0]), 6)
    0.163088
    """
    return _two_sample_test(reference, current, method, _KS)


# --------------------------------------------------------------------------------------------
# Wasserstein


_W1_BLOCK = 1 << 14  # values per block: temporaries of 128 KiB, in cache and reused by malloc


def _w1_unequal(xs: FloatArray, ys: FloatArray) -> float:
    """W1 of two sorted samples of sizes n != m as the integral of |F^-1 - G^-1| over [0, 1).

    In integer units of ``1/(n*m)`` the quantile function of ``xs`` steps at the cuts
    ``i*m`` and that of ``ys`` at ``j*n``; between consecutive cuts of the merged grid both
    are constant. Each piece of that grid starts at a cut of one side (at a shared cut, of
    ``xs``), so the pieces are summed side by side, without merging the grids.
    """
    n, m = xs.size, ys.size
    return (_w1_pieces(xs, ys, m, n, shared=True) + _w1_pieces(ys, xs, n, m, shared=False)) / (
        n * m
    )


def _w1_pieces(
    own: FloatArray, other: FloatArray, step: int, other_step: int, *, shared: bool
) -> float:
    """Sum of ``|own - other| * width`` over the pieces that start at a cut of ``own``.

    The piece at cut ``c = i*step`` pairs ``own[i]`` with ``other[c // other_step]`` and ends
    at the next cut of either side; pieces at cuts shared with ``other`` count only when
    ``shared``. Blocks of ``own`` keep the temporaries in cache.
    """
    total = 0.0
    for i0 in range(0, own.size, _W1_BLOCK):
        i1 = min(i0 + _W1_BLOCK, own.size)
        cut = np.arange(i0 * step, i1 * step, step, dtype=np.int64)
        k = cut // other_step
        next_other = (k + 1) * other_step
        width = np.minimum(cut + step, next_other) - cut
        if not shared:
            width[next_other - other_step == cut] = 0
        total += float((np.abs(own[i0:i1] - other[k]) * width).sum())
    return total


def _wasserstein(ref: SortedColumns, cur: SortedColumns) -> FloatArray:
    """W1 of every column from the sorted samples (no re-sorting of values)."""
    k = ref.values.shape[1]
    out = _nan(k)
    for j in range(k):
        n, m = int(ref.n_valid[j]), int(cur.n_valid[j])
        if n == 0 or m == 0:
            continue
        xs, ys = valid_column(ref, j), valid_column(cur, j)
        if n == m:  # the mean gap, block by block (temporaries stay in cache)
            gaps = (
                np.abs(xs[i : i + _W1_BLOCK] - ys[i : i + _W1_BLOCK])
                for i in range(0, n, _W1_BLOCK)
            )
            out[j] = sum(float(g.sum()) for g in gaps) / n
        else:
            out[j] = _w1_unequal(xs, ys)
    return out


def wasserstein(reference: Sample, current: Sample) -> FloatArray:
    """Wasserstein-1 (earth mover's) distance of every column.

    Parameters
    ----------
    reference, current
        Samples ``(n_rows, n_columns)``, NaN meaning missing, or their
        :class:`SortedColumns`.

    Returns
    -------
    ``W1 = integral |F(t) - G(t)| dt = integral_0^1 |F^-1(u) - G^-1(u)| du`` per column, in
    the data's units; ``nan`` where a side has no valid value.

    References
    ----------
    Villani, C. (2009). Optimal Transport, old and new. Oracle:
    ``scipy.stats.wasserstein_distance`` (METHODS.md 1.2, T1).

    Examples
    --------
    >>> wasserstein(np.array([[0.0, 1.0], [1.0, 1.0]]), np.array([[2.0, 1.0], [3.0, 1.0]]))
    array([2., 0.])
    """
    ref, cur = _pair(reference, current)
    return _wasserstein(ref, cur)


def wasserstein_normed(reference: Sample, current: Sample, *, min_std: float = 0.001) -> FloatArray:
    """Wasserstein-1 distance in units of the reference standard deviation (Evidently).

    Parameters
    ----------
    reference, current
        Samples ``(n_rows, n_columns)``, NaN meaning missing, or their
        :class:`SortedColumns`.
    min_std
        Floor of the reference standard deviation (``ddof=0``), so that a constant
        reference column does not divide by zero; must be > 0.

    Returns
    -------
    ``W1 / max(std(reference), min_std)`` per column; ``nan`` where a side has no valid
    value. Evidently flags drift at >= 0.1.

    References
    ----------
    Evidently ``wasserstein_distance_norm.py`` (METHODS.md 1.2, T1).

    Examples
    --------
    >>> wasserstein_normed([0.0, 2.0], [1.0, 3.0])
    array([1.])
    """
    floor = check_in_range("min_std", min_std, low=0.0, low_inclusive=False)
    ref, cur = _pair(reference, current)
    distance = _wasserstein(ref, cur)
    std = _nan(ref.values.shape[1])
    for j in np.flatnonzero(ref.n_valid > 0):
        std[j] = _std(valid_column(ref, int(j)))
    return distance / np.maximum(std, floor)


def _std(x: FloatArray) -> float:
    """``np.std(x)`` (ddof=0), squaring the deviations block by block (in cache)."""
    mean = float(np.mean(x))
    total = 0.0
    for i in range(0, x.size, _W1_BLOCK):
        dev = x[i : i + _W1_BLOCK] - mean
        total += float(np.square(dev, out=dev).sum())
    return math.sqrt(total / x.size)


# --------------------------------------------------------------------------------------------
# Rank statistics on the merged sample (Anderson-Darling, Cramer-von Mises)


def anderson_darling(reference: Sample, current: Sample) -> TestResult:
    """Anderson-Darling k-sample test (k = 2, midrank variant) of every column.

    Parameters
    ----------
    reference, current
        Samples ``(n_rows, n_columns)``, NaN meaning missing, or their
        :class:`SortedColumns`.

    Returns
    -------
    TestResult
        ``statistic``: the standardized ``(A2akN - 1) / sigma_N``. ``pvalue``: interpolated
        from Scholz & Stephens' table of critical values, so it is **capped to
        [0.001, 0.25]** (``AD_PVALUE_RANGE``); read 0.25 as ">= 0.25" and 0.001 as
        "<= 0.001". ``nan`` where a side has no valid value, where the pooled column has
        fewer than 4 values or a single distinct value (scipy raises there).

    References
    ----------
    Scholz, F. W. and Stephens, M. A. (1987). K-Sample Anderson-Darling Tests. JASA 82,
    918-924. Oracle: ``scipy.stats.anderson_ksamp([ref, cur], variant="midrank")``
    (METHODS.md 1.7, T1); scipy warns where it caps, this function does not.

    Examples
    --------
    >>> a = [0.1, 0.5, 1.2, 1.9, 2.3, 2.8, 3.1, 3.3, 4.0, 4.7]
    >>> b = [0.9, 1.7, 2.2, 2.9, 3.6, 3.8, 4.4, 5.1, 5.5, 6.0, 6.2, 7.3]
    >>> r = anderson_darling(a, b)
    >>> round(float(r.statistic[0]), 6), round(float(r.pvalue[0]), 6)
    (1.859865, 0.055577)
    """
    ref, cur = _pair(reference, current)
    k = ref.values.shape[1]
    statistic = _nan(k)
    harmonics: dict[int, tuple[float, float]] = {}
    for j in range(k):
        n, m = int(ref.n_valid[j]), int(cur.n_valid[j])
        if n == 0 or m == 0 or n + m < 4:
            continue
        runs = pooled_runs(valid_column(ref, j), valid_column(cur, j))
        if runs.size.size < 2:
            continue
        if n + m not in harmonics:
            harmonics[n + m] = ad_harmonics(n + m)
        sigma = ad_sigma(n, m, *harmonics[n + m])
        statistic[j] = (ad_midrank(runs, n, m) - 1) / sigma
    return TestResult(statistic, ad_pvalue(statistic))


def cramer_von_mises(
    reference: Sample,
    current: Sample,
    *,
    method: Literal["auto", "exact", "asymptotic"] = "auto",
) -> TestResult:
    """Two-sample Cramer-von Mises test of every column.

    Parameters
    ----------
    reference, current
        Samples ``(n_rows, n_columns)``, NaN meaning missing, or their
        :class:`SortedColumns`.
    method
        p-value method, as in ``scipy.stats.cramervonmises_2samp``: ``"exact"`` (the
        permutation distribution, computed per column by scipy; slow beyond ~20 values per
        side), ``"asymptotic"`` (vectorized) or ``"auto"``: exact when ``max(n, m) <= 20``.

    Returns
    -------
    TestResult
        ``statistic`` T of Anderson (1962) from midranks (ties averaged) and ``pvalue``;
        ``nan`` where a side has fewer than 2 valid values.

    References
    ----------
    Anderson, T. W. (1962). On the Distribution of the Two-Sample Cramer-von Mises
    Criterion. Ann. Math. Statist. 33(3). Oracle: ``scipy.stats.cramervonmises_2samp``
    (METHODS.md 1.8, T1).

    Examples
    --------
    >>> a = [0.1, 0.5, 1.2, 1.9, 2.3, 2.8, 3.1, 3.3, 4.0, 4.7]
    >>> b = [0.9, 1.7, 2.2, 2.9, 3.6, 3.8, 4.4, 5.1, 5.5, 6.0, 6.2, 7.3]
    >>> r = cramer_von_mises(a, b)
    >>> round(float(r.statistic[0]), 6), round(float(r.pvalue[0]), 6)
    (0.419697, 0.067589)
    >>> round(float(cramer_von_mises(a, b, method="asymptotic").pvalue[0]), 6)
    0.064552
    """
    return _two_sample_test(reference, current, method, _CVM)


# --------------------------------------------------------------------------------------------
# Chi-square test on bin or category counts (the distances are in _count_distances)


def chi2(reference: IntArray, current: IntArray) -> TestResult:
    """Chi-square test of homogeneity of every column's 2 x n_bins table.

    Parameters
    ----------
    reference, current
        Bin or category counts ``(n_bins, n_columns)`` on the same bins. Bins empty on both
        sides are dropped; a bin empty on one side only is a zero cell.

    Returns
    -------
    TestResult
        Pearson's statistic and its p-value on ``df = non-empty bins - 1`` degrees of
        freedom, with Yates' continuity correction when ``df = 1``; ``nan`` where a side has
        no count or fewer than 2 bins are non-empty.

    References
    ----------
    Pearson, K. (1900); Yates, F. (1934). Oracle:
    ``scipy.stats.chi2_contingency(np.vstack([ref, cur]))`` (METHODS.md 2.1, T5, T6).

    Examples
    --------
    >>> r = chi2([50, 30, 20, 0], [40, 30, 20, 10])
    >>> round(float(r.statistic[0]), 6), round(float(r.pvalue[0]), 6)
    (11.111111, 0.01114)
    """
    ref, cur = counts_pair(reference, current)
    n_ref, n_cur = ref.sum(axis=0), cur.sum(axis=0)
    both = ref + cur
    filled = both > 0
    dof = filled.sum(axis=0) - 1
    valid = (n_ref > 0) & (n_cur > 0) & (dof >= 1)
    statistic = np.zeros(ref.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        for observed, total in ((ref, n_ref), (cur, n_cur)):
            expected = total * both / (n_ref + n_cur)
            diff = expected - observed
            yates = filled & (dof == 1)
            adjusted = observed + np.where(yates, np.minimum(0.5, np.abs(diff)) * np.sign(diff), 0)
            terms = (adjusted - expected) ** 2 / expected
            statistic += np.where(filled, terms, 0.0).sum(axis=0)
    statistic[~valid] = np.nan
    pvalue = _nan(ref.shape[1])
    pvalue[valid] = stats.chi2.sf(statistic[valid], dof[valid])
    return TestResult(statistic, pvalue)


__all__ = [
    "AD_PVALUE_RANGE",
    "CVM_EXACT_MAX",
    "KS_EXACT_MAX",
    "SortedColumns",
    "TestResult",
    "anderson_darling",
    "chi2",
    "cramer_von_mises",
    "hellinger",
    "jensen_shannon",
    "kl_divergence",
    "ks",
    "l_infinity",
    "psi",
    "sort_columns",
    "wasserstein",
    "wasserstein_normed",
]
