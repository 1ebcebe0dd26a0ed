"""Drift statistics against their oracles (scipy), column by column, and METHODS.md vectors."""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats
from scipy.spatial import distance

from sightline.errors import InvalidInputError
from sightline.stats import _ks, drift
from sightline.stats._binning import SortedColumns, sort_columns

NAN = np.nan
STAT = {"rel": 1e-9, "abs": 1e-12}
PVAL = {"rel": 1e-6, "abs": 1e-300}

# METHODS.md section 13
A = [0.1, 0.5, 1.2, 1.9, 2.3, 2.8, 3.1, 3.3, 4.0, 4.7]
B = [0.9, 1.7, 2.2, 2.9, 3.6, 3.8, 4.4, 5.1, 5.5, 6.0, 6.2, 7.3]
AT = [1.0, 1, 2, 2, 2, 3, 3, 4, 5, 5]
BT = [2.0, 3, 3, 3, 4, 4, 5, 5, 6, 6, 6, 7]
R = [float(i) for i in range(30)]
C = [float(i) for i in range(5, 40)]
CAT_REF = [10, 20, 30, 40]  # a, b, c, d
CAT_CUR = [15, 25, 25, 35]
NEW_REF = [50, 30, 20, 0]  # 'd' unseen in the reference
NEW_CUR = [40, 30, 20, 10]
NONEW_CUR = [40, 35, 25, 0]


def _valid(col: np.ndarray) -> np.ndarray:
    return col[~np.isnan(col)]


def _pad(columns: list[list[float]]) -> np.ndarray:
    """Columns of different lengths as one (n, k) array, NaN-padded (NaN means missing)."""
    n = max(len(c) for c in columns)
    return np.array([list(c) + [NAN] * (n - len(c)) for c in columns]).T


# --------------------------------------------------------------------------------------------
# Oracles: one column at a time, NaN dropped, nan where the oracle refuses the input.


def _scipy_ks(method: str) -> Callable[[np.ndarray, np.ndarray], tuple[float, float]]:
    def oracle(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        if x.size == 0 or y.size == 0:
            return NAN, NAN
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            r = stats.ks_2samp(x, y, method=method)
        return float(r.statistic), float(r.pvalue)

    return oracle


# scipy >= 1.17 names the variant (and deprecates ``midrank``); 1.13 takes ``midrank=True``.
MIDRANK = (
    {"variant": "midrank"}
    if "variant" in inspect.signature(stats.anderson_ksamp).parameters
    else {"midrank": True}
)


def _scipy_ad(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if x.size == 0 or y.size == 0:
        return NAN, NAN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # p-value capped / floored
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            r = stats.anderson_ksamp([x, y], **MIDRANK)
        except (ValueError, IndexError, ZeroDivisionError):
            return NAN, NAN
    if x.size + y.size < 4:
        return NAN, NAN
    return float(r.statistic), float(r.pvalue)


def _scipy_cvm(method: str) -> Callable[[np.ndarray, np.ndarray], tuple[float, float]]:
    def oracle(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        if x.size < 2 or y.size < 2:
            return NAN, NAN
        r = stats.cramervonmises_2samp(x, y, method=method)
        return float(r.statistic), float(r.pvalue)

    return oracle


def _scipy_w(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if x.size == 0 or y.size == 0:
        return NAN, NAN
    return float(stats.wasserstein_distance(x, y)), NAN


def _evidently_w(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if x.size == 0 or y.size == 0:
        return NAN, NAN
    return float(stats.wasserstein_distance(x, y)) / max(float(np.std(x)), 0.001), NAN


TESTS = {
    "ks_auto": (lambda r, c: drift.ks(r, c), _scipy_ks("auto")),
    "ks_asymp": (lambda r, c: drift.ks(r, c, method="asymp"), _scipy_ks("asymp")),
    "ks_exact": (lambda r, c: drift.ks(r, c, method="exact"), _scipy_ks("exact")),
    "anderson_darling": (drift.anderson_darling, _scipy_ad),
    "cvm_auto": (drift.cramer_von_mises, _scipy_cvm("auto")),
    "cvm_asymptotic": (
        lambda r, c: drift.cramer_von_mises(r, c, method="asymptotic"),
        _scipy_cvm("asymptotic"),
    ),
    "wasserstein": (drift.wasserstein, _scipy_w),
    "wasserstein_normed": (drift.wasserstein_normed, _evidently_w),
}


def _check(name: str, reference: np.ndarray, current: np.ndarray) -> None:
    ours, oracle = TESTS[name]
    got = ours(reference, current)
    if isinstance(got, drift.TestResult):
        statistic, pvalue = got.statistic, got.pvalue
    else:
        statistic, pvalue = got, np.full(got.shape, NAN)
    k = reference.shape[1]
    assert statistic.shape == pvalue.shape == (k,)
    for j in range(k):
        want_stat, want_p = oracle(_valid(reference[:, j]), _valid(current[:, j]))
        if math.isnan(want_stat):
            assert math.isnan(statistic[j]), (name, j)
            continue
        assert statistic[j] == pytest.approx(want_stat, **STAT), (name, j)
        if not math.isnan(want_p):
            assert pvalue[j] == pytest.approx(want_p, **PVAL), (name, j)


def _samples(seed: int, n: int, k: int, shift: float = 0.0) -> np.ndarray:
    """Mixed columns: continuous, rounded (ties), integer (heavy ties), sparse NaNs."""
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, size=(n, k))
    x[:, 1 % k] = np.round(x[:, 1 % k], 1)
    x[:, 2 % k] = rng.integers(0, 6, n) + (shift > 0)
    x[rng.random((n, k)) < 0.05] = NAN
    return x


SIZES = [(3, 4), (10, 12), (12, 21), (21, 22), (37, 53), (200, 150), (1000, 1500)]


@pytest.mark.parametrize("name", list(TESTS))
@pytest.mark.parametrize(("n", "m"), SIZES)
def test_matches_scipy_on_random_columns(name: str, n: int, m: int) -> None:
    reference = _samples(n, n, 4)
    current = _samples(m + 1, m, 4, shift=0.3)
    _check(name, reference, current)


@pytest.mark.parametrize("name", ["ks_auto", "anderson_darling", "cvm_auto", "wasserstein_normed"])
def test_matches_scipy_on_large_columns(name: str) -> None:
    # KS: asymptotic p (max(n, m) > 10000) and the block-bounded statistic (n + m > 4096)
    reference = _samples(1, 12_000, 3)
    current = _samples(2, 10_500, 3, shift=0.02)
    _check(name, reference, current)


@pytest.mark.parametrize(("n", "m"), [(40_000, 33_000), (16_384, 49_152), (35_000, 35_000)])
def test_wasserstein_matches_scipy_across_blocks(n: int, m: int) -> None:
    # the pieces of the quantile grid (or the gaps, for equal sizes) are summed in blocks
    reference, current = _samples(n, n, 3), _samples(m, m, 3, shift=0.1)
    if n == m:
        current[:, 0] = reference[:, 0] * 1.1 + 0.2  # as many values on both sides
    _check("wasserstein", reference, current)


@pytest.mark.parametrize("name", list(TESTS))
def test_methods_vectors_as_one_call(name: str) -> None:
    reference = _pad([A, AT, R, A])
    current = _pad([B, BT, C, A])  # last column: identical samples
    _check(name, reference, current)


def test_t1_values() -> None:
    a, b = np.array(A), np.array(B)
    r = drift.ks(a, b)
    assert r.statistic[0] == pytest.approx(0.4666666667, rel=1e-9)
    assert r.pvalue[0] == pytest.approx(0.1342434655, rel=1e-9)
    assert drift.ks(a, b, method="asymp").pvalue[0] == pytest.approx(0.1630880658, rel=1e-9)
    rt = drift.ks(AT, BT)
    assert (rt.statistic[0], rt.pvalue[0]) == pytest.approx((0.4166666667, 0.2337383978), rel=1e-9)
    assert drift.ks(AT, BT, method="asymp").pvalue[0] == pytest.approx(0.2668640689, rel=1e-9)
    assert drift.wasserstein(a, b)[0] == pytest.approx(1.743333333, rel=1e-9)
    assert drift.wasserstein_normed(a, b)[0] == pytest.approx(1.235536873, rel=1e-9)
    ad = drift.anderson_darling(a, b)
    assert (ad.statistic[0], ad.pvalue[0]) == pytest.approx((1.859864757, 0.05557697059), rel=1e-9)
    adt = drift.anderson_darling(AT, BT)
    assert (adt.statistic[0], adt.pvalue[0]) == pytest.approx(
        (3.707682809, 0.01040169007), rel=1e-9
    )
    cvm = drift.cramer_von_mises(a, b)
    assert (cvm.statistic[0], cvm.pvalue[0]) == pytest.approx(
        (0.4196969697, 0.06758875799), rel=1e-9
    )
    cvm_asym = drift.cramer_von_mises(a, b, method="asymptotic")
    assert cvm_asym.pvalue[0] == pytest.approx(0.0645524693, rel=1e-9)


def test_t3_nannyml_r_vs_c() -> None:
    assert drift.ks(R, C).statistic[0] == pytest.approx(0.2857142857, rel=1e-9)
    assert drift.wasserstein(R, C)[0] == pytest.approx(7.5, rel=1e-12)
    assert drift.wasserstein_normed(R, C)[0] == pytest.approx(0.8665069303, rel=1e-9)


# --------------------------------------------------------------------------------------------
# Hypothesis: small columns with ties and NaNs.

_values = st.one_of(
    st.sampled_from([0.0, 1.0, 1.5, 2.0, -3.0, NAN]),
    st.floats(-100, 100, allow_nan=False, allow_infinity=False, width=32),
)


def _column(max_size: int) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, st.tuples(st.integers(0, max_size), st.just(2)), elements=_values)


@settings(max_examples=50, deadline=None)
@given(reference=_column(25), current=_column(25))
def test_matches_scipy_on_generated_columns(reference: np.ndarray, current: np.ndarray) -> None:
    for name in TESTS:
        _check(name, reference, current)


@settings(max_examples=50, deadline=None)
@given(
    x=hnp.arrays(np.float64, st.integers(1, 60), elements=st.sampled_from([0.0, 1.0, 2.0, 2.5])),
    y=hnp.arrays(np.float64, st.integers(1, 60), elements=st.floats(-1, 4, width=16)),
    block=st.integers(1, 9),
)
def test_block_bounded_ks_statistic(x: np.ndarray, y: np.ndarray, block: int) -> None:
    xs, ys = np.sort(x), np.sort(y)
    want = _scipy_ks("auto")(x, y)[0]  # scipy warns about its p-value on some tied samples
    assert _ks.ks_statistic(xs, ys, block) == pytest.approx(want, **STAT)
    assert _ks.ks_statistic(ys, xs, block) == pytest.approx(want, **STAT)


def test_block_bounded_ks_statistic_on_large_samples() -> None:
    rng = np.random.default_rng(5)
    for x, y in [
        (rng.normal(size=20_000), rng.normal(size=15_000)),  # no drift: many candidate blocks
        (rng.integers(0, 50, 9_000) * 1.0, rng.integers(1, 51, 7_000) * 1.0),  # heavy ties
        (rng.normal(size=8_000), rng.normal(2.0, 1.0, size=9_000)),
    ]:
        want = stats.ks_2samp(x, y).statistic
        assert _ks.ks_statistic(np.sort(x), np.sort(y)) == pytest.approx(want, **STAT)


def test_asymptotic_ks_pvalue_matches_kstwo_where_scipy_is_slow() -> None:
    # 2.2 <= n d^2 < 370 with large n is scipy's O(n) exact one-sided Smirnov sum
    n = np.array([141.0, 500.0, 5_000.0, 60_000.0, 60_000.0, 60_000.0])
    d = np.sqrt(np.array([2.2, 3.0, 10.0, 2.3, 30.0, 300.0]) / n)
    want = stats.kstwo.sf(d, n)
    assert _ks.kstwo_sf(d, n) == pytest.approx(want, rel=1e-8)


# --------------------------------------------------------------------------------------------
# Sorted input, edge cases


@pytest.mark.parametrize("name", list(TESTS))
def test_sorted_columns_give_identical_results(name: str) -> None:
    ours, _ = TESTS[name]
    reference = _samples(3, 40, 3)
    current = _samples(4, 33, 3, shift=0.5)
    raw = ours(reference, current)
    pre = ours(sort_columns(reference), sort_columns(current))
    mixed = ours(sort_columns(reference), current)
    for got in (pre, mixed):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(raw))


def test_edge_cases() -> None:
    reference = np.array([[1.0, NAN, 5.0, 2.0], [2.0, NAN, 5.0, NAN], [3.0, NAN, 5.0, NAN]])
    current = np.array([[NAN, 1.0, 5.0, 3.0], [NAN, 2.0, 5.0, NAN]])
    # col 0: current empty; col 1: reference empty; col 2: constant, equal; col 3: one value each
    r = drift.ks(reference, current)
    np.testing.assert_array_equal(r.statistic, [NAN, NAN, 0.0, 1.0])
    np.testing.assert_array_equal(r.pvalue, [NAN, NAN, 1.0, 1.0])
    np.testing.assert_array_equal(drift.wasserstein(reference, current), [NAN, NAN, 0.0, 1.0])
    normed = drift.wasserstein_normed(reference, current, min_std=0.5)
    np.testing.assert_array_equal(normed, [NAN, NAN, 0.0, 2.0])
    ad = drift.anderson_darling(reference, current)
    np.testing.assert_array_equal(ad.statistic, [NAN, NAN, NAN, NAN])
    cvm = drift.cramer_von_mises(reference, current)
    assert np.isnan(cvm.statistic[[0, 1, 3]]).all()
    want = stats.cramervonmises_2samp([5.0, 5.0, 5.0], [5.0, 5.0])
    assert (cvm.statistic[2], cvm.pvalue[2]) == pytest.approx((want.statistic, want.pvalue))


def test_zero_rows_and_zero_columns() -> None:
    r = drift.ks(np.empty((0, 2)), np.ones((3, 2)))
    np.testing.assert_array_equal(r.statistic, [NAN, NAN])
    assert drift.wasserstein(np.empty((4, 0)), np.empty((2, 0))).shape == (0,)


def test_identical_large_samples_short_cut() -> None:
    x = np.random.default_rng(0).normal(size=(5000, 2))
    r = drift.ks(x, x.copy())
    np.testing.assert_array_equal(r.statistic, [0.0, 0.0])
    np.testing.assert_array_equal(r.pvalue, [1.0, 1.0])


def test_anderson_darling_pvalue_is_capped_without_warning() -> None:
    rng = np.random.default_rng(2)
    same = drift.anderson_darling(rng.normal(size=200), rng.normal(size=150))
    far = drift.anderson_darling(rng.normal(size=200), rng.normal(3.0, size=150))
    assert same.pvalue[0] <= 0.25
    assert far.pvalue[0] == 0.001
    assert drift.AD_PVALUE_RANGE == (0.001, 0.25)


# --------------------------------------------------------------------------------------------
# Count statistics


def _shares(counts: np.ndarray) -> np.ndarray:
    return counts / counts.sum()


COUNT_ORACLES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    # PSI is the symmetrised KL when no bin is empty
    "psi": lambda r, c: stats.entropy(r, c) + stats.entropy(c, r),
    "kl_divergence": lambda r, c: stats.entropy(r, c),
    "jensen_shannon": lambda r, c: distance.jensenshannon(r, c, base=2.0),
    "hellinger": lambda r, c: (
        distance.euclidean(np.sqrt(_shares(r)), np.sqrt(_shares(c))) / math.sqrt(2)
    ),
    "l_infinity": lambda r, c: distance.chebyshev(_shares(r), _shares(c)),
}


def _counts(seed: int, n_bins: int, k: int, zeros: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ref = rng.integers(1 - zeros, 60, size=(n_bins, k))
    cur = rng.integers(1 - zeros, 60, size=(n_bins, k))
    return ref, cur


@pytest.mark.parametrize("name", list(COUNT_ORACLES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_count_statistics_match_oracles(name: str, seed: int) -> None:
    ours = getattr(drift, name)
    zeros = name not in ("psi", "kl_divergence")  # their eps floor changes empty bins
    ref, cur = _counts(seed, 3 + 4 * seed, 5, zeros=zeros)
    got = ours(ref, cur)
    want = [COUNT_ORACLES[name](ref[:, j].astype(float), cur[:, j].astype(float)) for j in range(5)]
    assert got == pytest.approx(want, **STAT)


def _scipy_chi2(r: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    keep = (r + c) > 0
    if r.sum() == 0 or c.sum() == 0 or keep.sum() < 2:
        return NAN, NAN
    res = stats.chi2_contingency(np.vstack([r[keep], c[keep]]))
    return float(res.statistic), float(res.pvalue)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_chi2_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ref = rng.integers(0, 8, size=(2 + seed, 6)) * rng.integers(0, 2, size=(2 + seed, 6))
    cur = rng.integers(0, 8, size=(2 + seed, 6))
    ref[:, 0] = 0  # empty reference
    cur[:, 1] = [0] * (1 + seed) + [5]  # one non-empty bin only if ref is too
    r = drift.chi2(ref, cur)
    for j in range(6):
        stat, p = _scipy_chi2(ref[:, j], cur[:, j])
        if math.isnan(stat):
            assert math.isnan(r.statistic[j]) and math.isnan(r.pvalue[j])
        else:
            assert r.statistic[j] == pytest.approx(stat, **STAT)
            assert r.pvalue[j] == pytest.approx(p, **PVAL)


def test_chi2_yates_correction_on_two_bins() -> None:
    ref, cur = np.array([[30, 3], [70, 0]]), np.array([[45, 0], [55, 4]])
    r = drift.chi2(ref, cur)
    for j in range(2):
        want = stats.chi2_contingency(np.vstack([ref[:, j], cur[:, j]]))
        assert (r.statistic[j], r.pvalue[j]) == pytest.approx((want.statistic, want.pvalue))


@settings(max_examples=50, deadline=None)
@given(
    counts=hnp.arrays(
        np.int64, st.tuples(st.just(2), st.integers(1, 8), st.just(3)), elements=st.integers(0, 30)
    ),
)
def test_count_statistics_on_generated_tables(counts: np.ndarray) -> None:
    ref, cur = counts[0], counts[1]
    js = drift.jensen_shannon(ref, cur, base=math.e)
    chi = drift.chi2(ref, cur)
    for j in range(3):
        r, c = ref[:, j].astype(float), cur[:, j].astype(float)
        if r.sum() == 0 or c.sum() == 0:
            assert math.isnan(js[j])
        else:
            assert js[j] == pytest.approx(distance.jensenshannon(r, c), **STAT)
        stat, p = _scipy_chi2(r, c)
        assert chi.statistic[j] == pytest.approx(stat, nan_ok=True, **STAT)
        assert chi.pvalue[j] == pytest.approx(p, nan_ok=True, **PVAL)


def test_t4_t5_t6_values() -> None:
    cat = drift.psi(CAT_REF, CAT_CUR)
    assert cat[0] == pytest.approx(0.04722308044, rel=1e-9)  # T4
    ref = np.array([CAT_REF, NEW_REF, NEW_REF]).T
    cur = np.array([CAT_CUR, NEW_CUR, NONEW_CUR]).T
    chi = drift.chi2(ref, cur)
    assert chi.statistic == pytest.approx([2.343434343, 11.11111111, 2.051282051], rel=1e-9)
    assert chi.pvalue == pytest.approx([0.5042511432, 0.01113998064, 0.3585665414], rel=1e-9)
    js2 = drift.jensen_shannon(ref, cur)
    assert js2 == pytest.approx([0.09210804569, 0.2324129365, 0.08609435337], rel=1e-9)
    assert drift.jensen_shannon(CAT_REF, CAT_CUR, base=math.e)[0] == pytest.approx(
        0.07668497816, rel=1e-9
    )
    assert drift.hellinger(ref, cur) == pytest.approx(
        [0.07675739496, 0.2297529205, 0.07171172728], rel=1e-9
    )
    assert drift.l_infinity(ref, cur) == pytest.approx([0.05, 0.1, 0.1], rel=1e-12)
    assert drift.kl_divergence(CAT_REF, CAT_CUR)[0] == pytest.approx(0.02293380301, rel=1e-9)
    # Evidently's PSI floors empty proportions at 1e-4 without renormalising, as ours does
    assert drift.psi(NEW_REF, NEW_CUR)[0] == pytest.approx(0.7123991075, rel=1e-9)


def test_t3_evidently_binned_values() -> None:
    # A vs B on one bin per distinct value of the union (A and B are disjoint)
    values = np.unique(A + B)
    ref = np.isin(values, A).astype(int)
    cur = np.isin(values, B).astype(int)
    assert drift.psi(ref, cur)[0] == pytest.approx(13.61821073, rel=1e-9)
    assert drift.jensen_shannon(ref, cur, base=math.e)[0] == pytest.approx(0.8325546112, rel=1e-9)
    # R vs C on Sturges edges of the pooled sample
    edges = [0, 4.875, 9.75, 14.625, 19.5, 24.375, 29.25, 34.125, 39]
    ref, cur = np.histogram(R, edges)[0], np.histogram(C, edges)[0]
    assert drift.psi(ref, cur)[0] == pytest.approx(3.32813817, rel=1e-9)
    assert drift.jensen_shannon(ref, cur, base=math.e)[0] == pytest.approx(0.3988419878, rel=1e-9)


def test_kl_divergence_floors_empty_bins() -> None:
    # p = [1, 1e-4], q = [1e-4, 1]: 1 * ln(1e4) + 1e-4 * ln(1e-4)
    want = math.log(1e4) + 1e-4 * math.log(1e-4)
    assert drift.kl_divergence([5, 0], [0, 7])[0] == pytest.approx(want, rel=1e-12)
    assert drift.kl_divergence([5, 0], [0, 7], eps=1e-2)[0] == pytest.approx(
        math.log(1e2) + 1e-2 * math.log(1e-2), rel=1e-12
    )


COUNT_FUNCTIONS = ["psi", "kl_divergence", "jensen_shannon", "hellinger", "l_infinity", "chi2"]


def _as_array(result: np.ndarray | drift.TestResult) -> np.ndarray:
    return np.asarray(result)


@pytest.mark.parametrize("name", COUNT_FUNCTIONS)
def test_zero_padding_rows_do_not_change_results(name: str) -> None:
    ours = getattr(drift, name)
    ref, cur = _counts(7, 6, 4, zeros=True)
    pad = np.zeros((3, 4), dtype=int)
    got = _as_array(ours(np.vstack([ref, pad]), np.vstack([cur, pad])))
    np.testing.assert_allclose(got, _as_array(ours(ref, cur)), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        _as_array(ours(np.vstack([pad, ref, pad]), np.vstack([pad, cur, pad]))),
        _as_array(ours(ref, cur)),
        rtol=1e-12,
        atol=1e-15,
    )


@pytest.mark.parametrize("name", COUNT_FUNCTIONS)
def test_empty_side_gives_nan_and_one_dim_is_one_column(name: str) -> None:
    ours = getattr(drift, name)
    ref = np.array([[0, 5, 3], [0, 5, 1], [0, 0, 2]])
    cur = np.array([[4, 0, 3], [4, 0, 1], [1, 0, 2]])
    got = _as_array(ours(ref, cur))
    assert np.isnan(got[..., :2]).all()
    assert np.isfinite(got[..., 2]).all()
    one = _as_array(ours(ref[:, 2], cur[:, 2]))
    np.testing.assert_array_equal(one, got[..., 2:])
    no_bins = _as_array(ours(np.zeros((0, 2)), np.zeros((0, 2))))
    assert np.isnan(no_bins).all()


def test_identical_counts_are_zero() -> None:
    counts = np.array([[5, 1], [0, 2], [7, 3]])
    for name in ["psi", "kl_divergence", "jensen_shannon", "hellinger", "l_infinity"]:
        np.testing.assert_array_equal(getattr(drift, name)(counts, counts), [0.0, 0.0])
    np.testing.assert_array_equal(drift.chi2(counts, counts).pvalue, [1.0, 1.0])


# --------------------------------------------------------------------------------------------
# Errors


SAMPLE_FUNCTIONS = [
    drift.ks,
    drift.wasserstein,
    drift.wasserstein_normed,
    drift.anderson_darling,
    drift.cramer_von_mises,
]


@pytest.mark.parametrize("fn", SAMPLE_FUNCTIONS)
def test_sample_input_errors(fn: Callable[..., object]) -> None:
    with pytest.raises(
        InvalidInputError,
        match=r"reference and current must have the same "
        r"number of columns, got 2 and 3",
    ):
        fn(np.zeros((4, 2)), np.zeros((5, 3)))
    with pytest.raises(InvalidInputError, match="reference must be 1-D or 2-D"):
        fn(np.zeros((2, 2, 2)), np.zeros((2, 2)))
    with pytest.raises(InvalidInputError, match="current must not contain infinity"):
        fn(np.zeros((3, 1)), np.array([[1.0], [np.inf]]))
    with pytest.raises(InvalidInputError, match="reference must be numeric"):
        fn([["a"]], [[1.0]])
    bad = SortedColumns(np.zeros((3, 2)), np.array([3]))
    with pytest.raises(InvalidInputError, match="current: SortedColumns must hold"):
        fn(np.zeros((3, 2)), bad)


def test_option_errors() -> None:
    with pytest.raises(
        InvalidInputError, match="method must be 'auto', 'exact' or 'asymp', got 'x'"
    ):
        drift.ks([1.0], [2.0], method="x")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="method must be 'auto', 'exact' or 'asymptotic'"):
        drift.cramer_von_mises([1.0], [2.0], method="asymp")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"min_std must be a finite number in \(0.0, inf\]"):
        drift.wasserstein_normed([1.0], [2.0], min_std=0.0)
    with pytest.raises(InvalidInputError, match=r"eps must be a finite number in \(0.0, inf\]"):
        drift.psi([1], [2], eps=-1.0)
    with pytest.raises(InvalidInputError, match="eps must be"):
        drift.kl_divergence([1], [2], eps=math.nan)
    with pytest.raises(InvalidInputError, match="base must be a finite number > 0 other than 1"):
        drift.jensen_shannon([1], [2], base=1.0)
    with pytest.raises(InvalidInputError, match="base must be a finite number in"):
        drift.jensen_shannon([1], [2], base=0.0)


@pytest.mark.parametrize("name", COUNT_FUNCTIONS)
def test_count_input_errors(name: str) -> None:
    ours = getattr(drift, name)
    with pytest.raises(InvalidInputError, match="reference counts must be finite and >= 0"):
        ours([[1], [-1]], [[1], [1]])
    with pytest.raises(InvalidInputError, match="current counts must be finite and >= 0"):
        ours([[1], [1]], [[1], [NAN]])
    with pytest.raises(InvalidInputError, match="current must not contain infinity"):
        ours([[1], [1]], [[1], [np.inf]])
    with pytest.raises(
        InvalidInputError,
        match=r"reference and current counts must have the same shape, got \(2, 1\) and \(3, 1\)",
    ):
        ours([[1], [1]], [[1], [1], [1]])


def test_drift_exports_its_statistics() -> None:
    names = {
        "SortedColumns", "sort_columns", "TestResult", "ks", "wasserstein", "wasserstein_normed",
        "anderson_darling", "cramer_von_mises", "psi", "kl_divergence", "jensen_shannon",
        "hellinger", "l_infinity", "chi2",
    }  # fmt: skip
    assert names <= set(drift.__all__)
    assert all(hasattr(drift, n) for n in drift.__all__)
