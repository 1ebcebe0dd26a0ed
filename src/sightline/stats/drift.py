"""Univariate drift statistics, every column in one call.

Sample statistics (KS, Wasserstein, Anderson-Darling, Cramer-von Mises) take samples of
shape ``(n_rows, n_columns)`` -- or their :class:`SortedColumns`, so that a column is sorted
once and reused -- with NaN meaning missing. Count statistics (PSI, KL, Jensen-Shannon,
Hellinger, L-infinity, chi-square) take bin or category counts of shape
``(n_bins, n_columns)`` on the same bins for both sides. Every function returns ``(n_columns,)``
vectors (or a :class:`TestResult` of them), with ``nan`` for a column that cannot be computed
(no valid value on one side, and the cases listed per function).

The numbers equal scipy's (METHODS.md sections 1-2, test vectors in section 13); each function
names its oracle.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from sightline._types import BoolArray, FloatArray, IntArray
from sightline._validate import check_counts, check_in_range, check_same_columns, check_same_shape
from sightline.errors import InvalidInputError
from sightline.stats._binning import SortedColumns, as_sorted, sort_columns, valid_column

Sample: TypeAlias = "FloatArray | SortedColumns"

#: ``ks(method="auto")`` is exact up to this many values per side (as scipy's ``ks_2samp``).
KS_EXACT_MAX = 10_000
#: ``cramer_von_mises(method="auto")`` is exact up to this many values per side (as scipy).
CVM_EXACT_MAX = 20
#: Anderson-Darling p-values are interpolated between these bounds and capped to them.
AD_PVALUE_RANGE = (0.001, 0.25)

_KS_FULL_MAX = 4096  # n + m up to which KS evaluates the ECDF gap at every pooled value
_GAP_TOL = 1e-12  # rounding slack on the KS block bounds (it only adds blocks to refine)


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


# --------------------------------------------------------------------------------------------
# Kolmogorov-Smirnov


def _ranges(starts: IntArray, ends: IntArray) -> IntArray:
    """Concatenation of ``arange(s, e)`` for every pair, without a Python loop."""
    lengths = ends - starts
    before = np.cumsum(lengths) - lengths
    return np.repeat(starts - before, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)


def _count_le_self(values: FloatArray, idx: IntArray) -> IntArray:
    """``searchsorted(values, values[idx], "right")`` for sorted ``values``; fast without ties."""
    out = idx + 1
    nxt = np.minimum(idx + 1, values.size - 1)
    tied = (idx + 1 < values.size) & (values[nxt] == values[idx])
    if tied.any():
        out[tied] = np.searchsorted(values, values[idx[tied]], side="right")
    return out


class _Blocks(NamedTuple):
    """Blocks of consecutive sorted values of one side, with bounds of the ECDF gap on each."""

    starts: IntArray
    ends: IntArray
    upper: FloatArray  # bound of F_self - F_other over the block's values
    lower: float  # an attained value of F_self - F_other (at a block start)


def _blocks(own: FloatArray, other: FloatArray, block: int) -> _Blocks:
    n, m = own.size, other.size
    starts = np.arange(0, n, block, dtype=np.int64)
    ends = np.minimum(starts + block, n)
    other_start = np.searchsorted(other, own[starts], side="right")
    at_start = _count_le_self(own, starts) / n - other_start / m
    upper = _count_le_self(own, ends - 1) / n - other_start / m
    return _Blocks(starts, ends, upper, float(at_start.max()))


def _refine(own: FloatArray, other: FloatArray, blocks: _Blocks, lower: float) -> float:
    cand = np.flatnonzero(blocks.upper >= lower - _GAP_TOL)
    if cand.size == 0:
        return -math.inf
    idx = _ranges(blocks.starts[cand], blocks.ends[cand])
    gaps = (
        _count_le_self(own, idx) / own.size
        - np.searchsorted(other, own[idx], side="right") / other.size
    )
    return float(gaps.max())


def _ks_statistic(xs: FloatArray, ys: FloatArray, block: int | None = None) -> float:
    """Two-sided KS statistic of two sorted, non-empty samples (scipy's, ties included).

    ``max(F - G)`` is attained at a value of ``xs`` and ``max(G - F)`` at one of ``ys``. Each
    side is cut into blocks of ``block`` consecutive values; the gap is evaluated exactly at
    the block starts and bounded above over each block, and only blocks whose bound reaches
    the best attained gap are evaluated value by value. With ``block=None`` small samples are
    evaluated in full and large ones use blocks of about ``(n + m) ** (1/3)`` values.
    """
    n, m = xs.size, ys.size
    if n == m and np.array_equal(xs, ys):
        return 0.0  # every block would need refining; a cheap shortcut for self-comparisons
    if block is None:
        if n + m <= _KS_FULL_MAX:
            pooled = np.concatenate([xs, ys])
            gaps = (
                np.searchsorted(xs, pooled, side="right") / n
                - np.searchsorted(ys, pooled, side="right") / m
            )
            return max(float(gaps.max()), float(-gaps.min()), 0.0)
        block = max(16, round((n + m) ** (1 / 3)))
    bx = _blocks(xs, ys, block)
    by = _blocks(ys, xs, block)
    lower = max(bx.lower, by.lower, 0.0)  # the gap is 0 at the largest pooled value
    return max(lower, _refine(xs, ys, bx, lower), _refine(ys, xs, by, lower))


def _ks_exact_pvalue(xs: FloatArray, ys: FloatArray) -> float:
    with warnings.catch_warnings():
        # scipy switches to the asymptotic p-value, with a RuntimeWarning, when the exact
        # computation is impossible or fails; that p-value is the one we want then too.
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ks_2samp(xs, ys, method="exact").pvalue)


def _smirnov_sum(n: int, x: float, log_binom: FloatArray) -> float:
    """One-sided Smirnov tail ``P(D+_n >= x)`` by the exact Birnbaum-Tingey sum.

    ``x * sum_j C(n, j) (1 - x - j/n)**(n - j) (x + j/n)**(j - 1)`` over ``j < n (1 - x)``,
    the sum scipy's ``special.smirnov`` evaluates term by term (O(n) double-double powers,
    about 0.5 s at n = 500 000); here it is one vectorized pass in log space, accurate to
    about 1e-9 relative. ``log_binom`` holds ``log C(n, j)`` for ``j = 0..n``.
    """
    last = math.ceil(n * (1.0 - x)) - 1
    j = np.arange(last + 1, dtype=np.float64)
    with np.errstate(divide="ignore"):  # a last base rounded to 0 gives a zero term
        log_terms = (
            log_binom[: last + 1]
            + (n - j) * np.log(np.maximum((n - j) / n - x, 0.0))
            + (j - 1) * np.log(j / n + x)
        )
    top = float(log_terms.max())
    return math.exp(top + math.log(float(np.exp(log_terms - top).sum())) + math.log(x))


def _kstwo_sf(d: FloatArray, n: FloatArray) -> FloatArray:
    """``scipy.stats.kstwo.sf(d, n)``, fast where scipy is slow.

    For ``n > 140``, ``d < 0.5`` and ``2.2 <= n d**2 < 370`` scipy returns
    ``2 * special.smirnov(n, d)``, whose cost grows linearly with ``n``; that branch is
    evaluated with :func:`_smirnov_sum` (up to scipy's own limit of n = 10**6, above which
    scipy switches to a closed-form approximation). Everything else is scipy's.
    """
    out = np.full_like(d, np.nan)  # n < 1 (one value per side) has no asymptotic p-value
    nd2 = n * d * d
    fast = (n > 140) & (n <= 1_000_000) & (d < 0.5) & (n * d > 1) & (nd2 >= 2.2) & (nd2 < 370)
    slow = ~fast & (n >= 1)
    if slow.any():
        out[slow] = stats.kstwo.sf(d[slow], n[slow])
    if not fast.any():
        return out
    log_factorial = special.gammaln(np.arange(int(n[fast].max()) + 1) + 1.0)
    for i in np.flatnonzero(fast):
        ni = int(n[i])
        log_binom = log_factorial[ni] - log_factorial[: ni + 1] - log_factorial[ni::-1]
        out[i] = min(max(2.0 * _smirnov_sum(ni, float(d[i]), log_binom), 0.0), 1.0)
    return out


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
    if method not in ("auto", "exact", "asymp"):
        raise InvalidInputError(
            f"method must be 'auto', 'exact' or 'asymp', got {method!r}", field="method"
        )
    ref, cur = _pair(reference, current)
    k = ref.values.shape[1]
    statistic, pvalue = _nan(k), _nan(k)
    asymp = np.zeros(k, dtype=bool)
    for j in range(k):
        n, m = int(ref.n_valid[j]), int(cur.n_valid[j])
        if n == 0 or m == 0:
            continue
        xs, ys = valid_column(ref, j), valid_column(cur, j)
        statistic[j] = _ks_statistic(xs, ys)
        if method == "exact" or (method == "auto" and max(n, m) <= KS_EXACT_MAX):
            pvalue[j] = _ks_exact_pvalue(xs, ys)
        else:
            asymp[j] = True
    if asymp.any():
        n_ref = ref.n_valid[asymp].astype(np.float64)
        n_cur = cur.n_valid[asymp].astype(np.float64)
        en = np.round(n_ref * n_cur / (n_ref + n_cur))
        pvalue[asymp] = np.clip(_kstwo_sf(statistic[asymp], en), 0.0, 1.0)
    return TestResult(statistic, pvalue)


# --------------------------------------------------------------------------------------------
# Wasserstein


_W1_BLOCK = 1 << 14


def _w1_unequal(xs: FloatArray, ys: FloatArray) -> float:
    """W1 of two sorted samples of sizes n != m as the integral of |F^-1 - G^-1| over [0, 1).

    Both quantile functions are constant between consecutive cuts of the merged grid
    ``{i/n} U {j/m}``; in integer units of ``1/(n*m)`` the cuts are ``i*m`` and ``j*n``. The
    grid is built block by block of reference indices, so memory stays small.
    """
    n, m = xs.size, ys.size
    total = 0.0
    for i0 in range(0, n, _W1_BLOCK):
        i1 = min(i0 + _W1_BLOCK, n)
        j0, j1 = -(-i0 * m // n), -(-i1 * m // n)  # current cuts inside [i0*m, i1*m)
        cuts = np.concatenate(
            [np.arange(i0, i1, dtype=np.int64) * m, np.arange(j0, j1, dtype=np.int64) * n]
        )
        cuts.sort(kind="stable")  # two sorted runs: a linear merge
        widths = np.diff(cuts, append=i1 * m)
        keep = widths > 0  # a cut shared by both grids appears twice
        cuts, widths = cuts[keep], widths[keep]
        total += float(np.dot(np.abs(xs[cuts // m] - ys[cuts // n]), widths))
    return total / (n * m)


def _wasserstein(ref: SortedColumns, cur: SortedColumns) -> FloatArray:
    """W1 of every column from the sorted samples (no re-sorting of values)."""
    k = ref.values.shape[1]
    out = _nan(k)
    for j in range(k):
        n, m = int(ref.n_valid[j]), int(cur.n_valid[j])
        if n == 0 or m == 0:
            continue
        xs, ys = valid_column(ref, j), valid_column(cur, j)
        if n == m:
            out[j] = float(np.abs(xs - ys).sum()) / n
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
        std[j] = float(np.std(valid_column(ref, int(j))))
    return distance / np.maximum(std, floor)


# --------------------------------------------------------------------------------------------
# Rank statistics on the merged sample (Anderson-Darling, Cramer-von Mises)


class _Runs(NamedTuple):
    """Distinct values of the pooled sample: size of each tie run and its share per side."""

    size: FloatArray
    n_x: FloatArray
    n_y: FloatArray


def _runs(xs: FloatArray, ys: FloatArray) -> _Runs:
    pooled = np.concatenate([xs, ys])
    order = np.argsort(pooled, kind="stable")  # two sorted runs: a linear merge
    merged = pooled[order]
    ends = np.flatnonzero(np.concatenate([merged[1:] != merged[:-1], [True]]))
    x_before_end = np.cumsum(order < xs.size)[ends]
    n_x = np.diff(x_before_end, prepend=0).astype(np.float64)
    size = np.diff(ends, prepend=-1).astype(np.float64)
    return _Runs(size, n_x, size - n_x)


def _ad_midrank(runs: _Runs, n: int, m: int) -> float:
    """Scholz & Stephens' midrank A2akN (their eq. 7) for two samples."""
    big_n = n + m
    lj = runs.size
    bj = np.cumsum(lj) - lj + lj / 2.0
    denom = bj * (big_n - bj) - big_n * lj / 4.0
    total = 0.0
    for counts, size in ((runs.n_x, n), (runs.n_y, m)):
        mij = np.cumsum(counts) - counts / 2.0
        inner = lj / float(big_n) * (big_n * mij - bj * size) ** 2 / denom
        total += float(inner.sum()) / size
    return total * (big_n - 1.0) / big_n


def _ad_harmonics(big_n: int) -> tuple[float, float]:
    """The sums ``h`` and ``g`` of Scholz & Stephens eq. 4, which depend on N only."""
    hs_cs = (1.0 / np.arange(big_n - 1, 1, -1)).cumsum()
    return float(hs_cs[-1]) + 1, float((hs_cs / np.arange(2, big_n)).sum())


def _ad_sigma(n: int, m: int, h: float, g: float) -> float:
    """Standard deviation of A2akN under the null hypothesis (Scholz & Stephens eq. 4)."""
    big_n, k = n + m, 2
    h_sum = 1.0 / n + 1.0 / m
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * h_sum
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * h_sum - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * h_sum + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    var = (a * big_n**3 + b * big_n**2 + c * big_n + d) / (
        (big_n - 1.0) * (big_n - 2.0) * (big_n - 3.0)
    )
    return math.sqrt(var)


def _ad_pvalue(a2: FloatArray) -> FloatArray:
    """scipy's interpolation of Scholz & Stephens' Table 2 (k = 2), capped to its range."""
    b0 = np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
    b1 = np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
    b2 = np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])
    critical = b0 + b1 / math.sqrt(1) + b2 / 1
    sig = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])
    fit = np.polyfit(critical, np.log(sig), 2)
    out = np.full(a2.shape, np.nan)
    out[a2 < critical.min()] = AD_PVALUE_RANGE[1]
    out[a2 > critical.max()] = AD_PVALUE_RANGE[0]
    inside = (a2 >= critical.min()) & (a2 <= critical.max())
    out[inside] = np.exp(np.polyval(fit, a2[inside]))
    return out


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
        runs = _runs(valid_column(ref, j), valid_column(cur, j))
        if runs.size.size < 2:
            continue
        if n + m not in harmonics:
            harmonics[n + m] = _ad_harmonics(n + m)
        sigma = _ad_sigma(n, m, *harmonics[n + m])
        statistic[j] = (_ad_midrank(runs, n, m) - 1) / sigma
    return TestResult(statistic, _ad_pvalue(statistic))


def _cvm_statistic(runs: _Runs, n: int, m: int) -> float:
    """Anderson's T from midranks of the pooled sample (scipy's ``cramervonmises_2samp``)."""
    mid = np.cumsum(runs.size) - runs.size + (runs.size + 1) / 2
    rx = np.repeat(mid, runs.n_x.astype(np.intp))
    ry = np.repeat(mid, runs.n_y.astype(np.intp))
    u = n * float(np.sum((rx - np.arange(1, n + 1)) ** 2)) + m * float(
        np.sum((ry - np.arange(1, m + 1)) ** 2)
    )
    k, big_n = n * m, n + m
    return u / (k * big_n) - (4 * k - 1) / (6 * big_n)


def _cdf_cvm_inf(x: FloatArray) -> FloatArray:
    """Limiting CDF of the Cramer-von Mises statistic (Csorgo & Faraway 1996, eq. 1.2).

    The series of scipy's ``_cdf_cvm_inf``, term by term, vectorized over ``x``.
    """
    total = np.zeros_like(x)
    active = np.ones(x.shape, dtype=bool)
    k = 0
    while active.any():
        xa = x[active]
        u = math.exp(special.gammaln(k + 0.5) - special.gammaln(k + 1)) / (np.pi**1.5 * np.sqrt(xa))
        y = 4 * k + 1
        q = y**2 / (16 * xa)
        term = u * math.sqrt(y) * np.exp(-q) * special.kv(0.25, q)
        total[active] += term
        active[active] = np.abs(term) >= 1e-7
        k += 1
    return total


def _cvm_asymptotic_pvalue(t: FloatArray, n: IntArray, m: IntArray) -> FloatArray:
    """Anderson's (1962) standardization of T, then the limiting distribution (as scipy)."""
    tn = np.empty_like(t)
    for i, (ti, nx, ny) in enumerate(zip(t.tolist(), n.tolist(), m.tolist(), strict=True)):
        k, big_n = nx * ny, nx + ny
        et = (1 + 1 / big_n) / 6
        vt = (big_n + 1) * (4 * k * big_n - 3 * (nx**2 + ny**2) - 2 * k)
        vt = vt / (45 * big_n**2 * 4 * k)
        tn[i] = 1 / 6 + (ti - et) / math.sqrt(45 * vt)
    out = np.ones_like(t)
    far = tn >= 0.003  # below, 1 - cdf rounds to 1
    out[far] = np.clip(1.0 - _cdf_cvm_inf(tn[far]), 0.0, None)
    return out


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
    if method not in ("auto", "exact", "asymptotic"):
        raise InvalidInputError(
            f"method must be 'auto', 'exact' or 'asymptotic', got {method!r}", field="method"
        )
    ref, cur = _pair(reference, current)
    k = ref.values.shape[1]
    statistic, pvalue = _nan(k), _nan(k)
    asymp = np.zeros(k, dtype=bool)
    for j in range(k):
        n, m = int(ref.n_valid[j]), int(cur.n_valid[j])
        if n < 2 or m < 2:
            continue
        xs, ys = valid_column(ref, j), valid_column(cur, j)
        statistic[j] = _cvm_statistic(_runs(xs, ys), n, m)
        if method == "exact" or (method == "auto" and max(n, m) <= CVM_EXACT_MAX):
            pvalue[j] = float(stats.cramervonmises_2samp(xs, ys, method="exact").pvalue)
        else:
            asymp[j] = True
    if asymp.any():
        pvalue[asymp] = _cvm_asymptotic_pvalue(
            statistic[asymp], ref.n_valid[asymp], cur.n_valid[asymp]
        )
    return TestResult(statistic, pvalue)


# --------------------------------------------------------------------------------------------
# Count statistics


def _counts(reference: npt.ArrayLike, current: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    ref = check_counts(reference, "reference")
    cur = check_counts(current, "current")
    check_same_shape(ref, cur, "reference and current counts")
    return ref, cur


def _shares(
    reference: npt.ArrayLike, current: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Per-column proportions of both sides and the mask of columns with an empty side."""
    ref, cur = _counts(reference, current)
    n_ref, n_cur = ref.sum(axis=0), cur.sum(axis=0)
    empty = (n_ref == 0) | (n_cur == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ref / n_ref, cur / n_cur, np.asarray(empty, dtype=bool)


def _finish(values: FloatArray, empty: BoolArray) -> FloatArray:
    out = np.asarray(values, dtype=np.float64).copy()
    out[empty] = np.nan
    return out


def psi(reference: IntArray, current: IntArray, *, eps: float = 1e-4) -> FloatArray:
    """Population stability index of every column at once.

    Parameters
    ----------
    reference, current
        Bin counts of shape ``(n_bins, n_columns)`` (1-D is one column); column ``j`` of both
        is one feature binned on the same edges (the reference's quantile edges). Bins empty
        on both sides (padding) do not change the result.
    eps
        Floor for empty-bin proportions, so the logarithm stays finite; the proportions are
        not renormalised after flooring (Evidently's convention for its default 1e-4).

    Returns
    -------
    PSI per column, ``sum((q - p) * ln(q / p))``; ``nan`` where a side has no count.
    Usual reading: < 0.1 no material change, >= 0.25 a major shift.

    References
    ----------
    Yurdakul, B. (2018). Statistical properties of population stability index. METHODS.md
    1.3 and T4.

    Examples
    --------
    >>> psi(np.array([[50, 10], [50, 90]]), np.array([[50, 90], [50, 10]])).round(3)
    array([0.   , 3.516])
    """
    floor = check_in_range("eps", eps, low=0.0, low_inclusive=False)
    p, q, empty = _shares(reference, current)
    p, q = np.maximum(p, floor), np.maximum(q, floor)
    return _finish(np.sum((q - p) * np.log(q / p), axis=0), empty)


def kl_divergence(reference: IntArray, current: IntArray, *, eps: float = 1e-4) -> FloatArray:
    """Kullback-Leibler divergence KL(reference || current) of every column.

    Parameters
    ----------
    reference, current
        Bin counts ``(n_bins, n_columns)`` on the same bins.
    eps
        Floor for empty-bin proportions (no renormalisation), as in :func:`psi`.

    Returns
    -------
    ``sum(p * ln(p / q))`` per column, in nats; ``nan`` where a side has no count.

    References
    ----------
    Kullback, S. and Leibler, R. A. (1951). On Information and Sufficiency. METHODS.md 1.6.

    Examples
    --------
    >>> kl_divergence([50, 50], [90, 10]).round(4)
    array([0.5108])
    """
    floor = check_in_range("eps", eps, low=0.0, low_inclusive=False)
    p, q, empty = _shares(reference, current)
    p, q = np.maximum(p, floor), np.maximum(q, floor)
    return _finish(np.sum(p * np.log(p / q), axis=0), empty)


def jensen_shannon(reference: IntArray, current: IntArray, *, base: float = 2.0) -> FloatArray:
    """Jensen-Shannon distance of every column.

    Parameters
    ----------
    reference, current
        Bin counts ``(n_bins, n_columns)`` on the same bins; normalised to proportions.
    base
        Logarithm base: 2 (NannyML's default) bounds the distance by 1; ``math.e`` gives
        Evidently's convention (bounded by sqrt(ln 2)).

    Returns
    -------
    ``sqrt((KL(p || m) + KL(q || m)) / 2)`` with ``m = (p + q) / 2``, per column; ``nan``
    where a side has no count.

    References
    ----------
    Lin, J. (1991). Divergence measures based on the Shannon entropy. Oracle:
    ``scipy.spatial.distance.jensenshannon`` (METHODS.md 1.4, T5, T6).

    Examples
    --------
    >>> jensen_shannon([1, 0], [0, 1])
    array([1.])
    """
    base = check_in_range("base", base, low=0.0, low_inclusive=False)
    if base == 1.0:
        raise InvalidInputError(
            "base must be a finite number > 0 other than 1, got 1.0", field="base"
        )
    p, q, empty = _shares(reference, current)
    mid = (p + q) / 2.0
    js = special.rel_entr(p, mid).sum(axis=0) + special.rel_entr(q, mid).sum(axis=0)
    js /= np.log(base)
    return _finish(np.sqrt(np.maximum(js / 2.0, 0.0)), empty)


def hellinger(reference: IntArray, current: IntArray) -> FloatArray:
    """Hellinger distance of every column.

    Parameters
    ----------
    reference, current
        Bin counts ``(n_bins, n_columns)`` on the same bins; normalised to proportions.

    Returns
    -------
    ``sqrt(sum((sqrt(p) - sqrt(q))**2)) / sqrt(2)`` in [0, 1] per column (the numerically
    stable form of ``sqrt(1 - sum(sqrt(p * q)))``); ``nan`` where a side has no count.

    References
    ----------
    Hellinger, E. (1909). NannyML ``hellinger`` and Evidently categorical ``hellinger``
    (METHODS.md 1.5, T5, T6).

    Examples
    --------
    >>> hellinger([1, 0], [0, 1])
    array([1.])
    """
    p, q, empty = _shares(reference, current)
    dist = np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2, axis=0)) / math.sqrt(2.0)
    return _finish(dist, empty)


def l_infinity(reference: IntArray, current: IntArray) -> FloatArray:
    """L-infinity distance between the bin proportions of every column.

    Parameters
    ----------
    reference, current
        Bin counts ``(n_bins, n_columns)`` on the same bins; normalised to proportions.

    Returns
    -------
    ``max |p - q|`` over bins per column; ``nan`` where a side has no count.

    References
    ----------
    NannyML ``l_infinity`` (METHODS.md 2.3, T5, T6).

    Examples
    --------
    >>> l_infinity([10, 20, 30, 40], [15, 25, 25, 35])
    array([0.05])
    """
    p, q, empty = _shares(reference, current)
    if p.shape[0] == 0:
        return _nan(p.shape[1])
    return _finish(np.max(np.abs(p - q), axis=0), empty)


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
    ref, cur = _counts(reference, current)
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
