"""Tests of sightline.stats.matrix against numpy's linear algebra and scikit-learn's PCA."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler

from sightline.errors import InvalidInputError, SightlineWarning
from sightline.stats.matrix import MatrixResult, analyze_matrix, metric_matrix

# METHODS.md T12
T12 = np.array([[1.0, 2, 3], [2, 4, 6], [1, 0, 1], [0, 1, 1]])
T12_PERTURBED = np.array([[1.0, 2, 3], [2, 4, 6.001], [1, 0, 1], [0, 1, 1]])


def correlated(seed: int, n: int = 60, p: int = 5) -> np.ndarray:
    """Seeded rows with correlated columns on different scales."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 2))
    mixing = rng.normal(size=(2, p))
    x = latent @ mixing + 0.3 * rng.normal(size=(n, p))
    return x * rng.uniform(0.1, 100.0, size=p) + rng.uniform(-50, 50, size=p)


def sklearn_scores(z: np.ndarray, k: int) -> np.ndarray:
    """Reconstruction error of every row with k components, by scikit-learn."""
    centred = z - z.mean(axis=0)
    if k == 0:
        return np.asarray(np.linalg.norm(centred, axis=1))
    pca = PCA(n_components=k, svd_solver="full").fit(z)
    return np.asarray(np.linalg.norm(z - pca.inverse_transform(pca.transform(z)), axis=1))


def smallest_k(ratio: np.ndarray, share: float) -> int:
    """Smallest k whose cumulative ratio reaches share, by a plain scan."""
    total = 0.0
    for k, r in enumerate(ratio, start=1):
        total += r
        if total >= share:
            return k
    return len(ratio)


# --- metric_matrix -------------------------------------------------------------------


def test_metric_matrix_union_sorted_with_nan_for_absent() -> None:
    snapshots = [{"rps": 100.0, "latency": 0.2}, {"errors": 3, "rps": 120.0}, {}]
    names, m = metric_matrix(snapshots)
    assert names == ["errors", "latency", "rps"]
    want = np.array([[np.nan, 0.2, 100.0], [3.0, np.nan, 120.0], [np.nan, np.nan, np.nan]])
    np.testing.assert_array_equal(m, want)
    assert m.dtype == np.float64


def test_metric_matrix_accepts_numpy_scalars_and_nan() -> None:
    snapshots: list[dict[str, Any]] = [{"a": np.float32(0.5), "b": np.int64(2)}, {"a": np.nan}]
    names, m = metric_matrix(snapshots)
    assert names == ["a", "b"]
    np.testing.assert_array_equal(m, [[0.5, 2.0], [np.nan, np.nan]])


def test_metric_matrix_empty() -> None:
    names, m = metric_matrix([])
    assert names == []
    assert m.shape == (0, 0)


@pytest.mark.parametrize(
    ("snapshots", "message"),
    [
        ([{"a": 1.0}, {"a": "fast"}], r"snapshot 1, metric 'a': expected a real number, got str"),
        ([{"a": 1.0}, {"b": None}], r"snapshot 1, metric 'b': expected a real number, got None"),
        ([{"ok": True}], r"snapshot 0, metric 'ok': expected a real number, got bool"),
        ([{"a": 1.0}, {"a": float("inf")}], r"snapshot 1, metric 'a': expected a finite number"),
        ([{"a": -np.inf}], r"snapshot 0, metric 'a': expected a finite number or NaN"),
        ([{"a": 1.0}, [("a", 1.0)]], r"snapshot 1: expected a mapping .* got list"),
        ([{1: 1.0}], r"snapshot 0: metric names must be strings, got 1"),
    ],
)
def test_metric_matrix_rejects_bad_values(snapshots: list[object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        metric_matrix(snapshots)  # type: ignore[arg-type]


# --- numpy oracle --------------------------------------------------------------------


def test_t12_raw_matches_methods_and_numpy() -> None:
    r = analyze_matrix(T12, standardize=False)
    np.testing.assert_allclose(r.singular_values[:2], [8.539934921, 1.034171917], rtol=1e-9)
    assert r.singular_values[2] < 1e-14
    np.testing.assert_array_equal(r.singular_values, np.linalg.svd(T12, compute_uv=False))
    assert r.rank == 2 == np.linalg.matrix_rank(T12)
    assert r.condition_number == np.linalg.cond(T12)
    assert r.condition_number > 1e15  # METHODS: 2.804360002e16; the tiny s3 is rounding noise


def test_t12_perturbed_matches_methods() -> None:
    r = analyze_matrix(T12_PERTURBED, standardize=False)
    np.testing.assert_allclose(
        r.singular_values, [8.540638206, 1.034166308, 0.0002773287636], rtol=1e-8
    )
    assert r.rank == 3
    assert r.condition_number == pytest.approx(30796.07789, rel=1e-8)
    assert r.condition_number == pytest.approx(np.linalg.cond(T12_PERTURBED), rel=1e-12)


def test_exact_zero_singular_value_gives_infinite_condition() -> None:
    x = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])  # second column = 2 x first, exactly
    r = analyze_matrix(x, standardize=False)
    assert r.rank == 1
    assert r.condition_number == np.linalg.cond(x)


@pytest.mark.parametrize("seed", range(5))
def test_standardized_matches_numpy_on_zscored_matrix(seed: int) -> None:
    x = correlated(seed)
    z = StandardScaler().fit_transform(x)
    r = analyze_matrix(x)
    np.testing.assert_allclose(r.singular_values, np.linalg.svd(z, compute_uv=False), rtol=1e-9)
    assert r.rank == np.linalg.matrix_rank(z)
    assert r.condition_number == pytest.approx(np.linalg.cond(z), rel=1e-9)


def test_wide_matrix_centered_is_rank_deficient() -> None:
    x = np.random.default_rng(3).normal(size=(4, 6))
    r = analyze_matrix(x)
    assert r.singular_values.shape == (4,)
    assert r.rank == 3  # centring removes one dimension
    assert r.condition_number == np.inf or r.condition_number > 1e14
    raw = analyze_matrix(x, standardize=False)
    assert raw.rank == 4 == np.linalg.matrix_rank(x)


def test_confusion_counts_are_collinear() -> None:
    rng = np.random.default_rng(11)
    tp, fp, fn = rng.integers(10, 100, size=(3, 30))
    tn = 500 - tp - fp - fn  # TP + FP + TN + FN = n in every window
    accuracy = (tp + tn) / 500
    r = analyze_matrix(np.column_stack([tp, fp, fn, tn, accuracy]).astype(float))
    assert r.rank == 3
    assert r.condition_number > 1e10


# --- scikit-learn PCA oracle ---------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("share", [0.3, 0.6, 0.9, 0.99])
@pytest.mark.parametrize("standardize", [True, False])
def test_pca_matches_sklearn(seed: int, share: float, standardize: bool) -> None:
    x = correlated(seed)
    z = StandardScaler().fit_transform(x) if standardize else x
    r = analyze_matrix(x, standardize=standardize, variance_share=share)
    full = PCA(svd_solver="full").fit(z)
    np.testing.assert_allclose(r.explained_variance_ratio, full.explained_variance_ratio_, 1e-9)
    assert r.n_components == smallest_k(full.explained_variance_ratio_, share)
    np.testing.assert_allclose(
        r.anomaly_score, sklearn_scores(z, r.n_components), rtol=1e-9, atol=1e-12
    )


def test_variance_share_one_keeps_every_component() -> None:
    x = correlated(0)
    r = analyze_matrix(x, variance_share=1.0)
    assert r.n_components == x.shape[1]
    np.testing.assert_allclose(r.anomaly_score, 0.0, atol=1e-12)


def test_nan_cells_are_imputed_with_column_mean() -> None:
    x = correlated(5)
    x[[0, 3, 7], [1, 1, 4]] = np.nan
    imputed = SimpleImputer(strategy="mean").fit_transform(x)
    r = analyze_matrix(x)
    want = analyze_matrix(imputed)
    np.testing.assert_allclose(r.anomaly_score, want.anomaly_score, rtol=1e-12)
    np.testing.assert_allclose(r.singular_values, want.singular_values, rtol=1e-12)


def test_all_nan_column_is_dropped_with_warning() -> None:
    x = correlated(6, p=3)
    with_empty = np.column_stack([x[:, 0], np.full(len(x), np.nan), x[:, 1:]])
    with pytest.warns(SightlineWarning, match=r"without any value .*\['b'\]"):
        r = analyze_matrix(with_empty, columns=["a", "b", "c", "d"])
    assert r.columns == ("a", "c", "d")
    np.testing.assert_allclose(r.anomaly_score, analyze_matrix(x).anomaly_score, rtol=1e-12)


def test_constant_column_contributes_zeros() -> None:
    x = correlated(7, p=3)
    with_constant = np.column_stack([x, np.full(len(x), 0.1)])
    r = analyze_matrix(with_constant)
    base = analyze_matrix(x)
    assert r.rank == 3
    assert r.condition_number == np.inf
    assert r.singular_values[-1] == 0.0
    np.testing.assert_allclose(r.anomaly_score, base.anomaly_score, rtol=1e-12)
    np.testing.assert_allclose(r.explained_variance_ratio[:3], base.explained_variance_ratio)


def test_all_constant_matrix_is_defined() -> None:
    r = analyze_matrix(np.ones((5, 2)))
    assert r.rank == 0
    assert r.condition_number == np.inf
    assert r.n_components == 0
    assert np.isnan(r.explained_variance_ratio).all()
    np.testing.assert_array_equal(r.anomaly_score, np.zeros(5))


# --- the use case --------------------------------------------------------------------


def test_row_breaking_a_correlation_has_the_largest_score() -> None:
    rng = np.random.default_rng(21)
    n = 48
    throughput = rng.normal(1000.0, 150.0, size=n)
    latency = 20.0 + 0.05 * throughput + rng.normal(0.0, 2.0, size=n)
    error_rate = rng.normal(0.01, 0.002, size=n)
    # the newest window: ordinary throughput and latency each, but latency collapses while
    # throughput is high: each value alone is within its usual range
    throughput[-1] = 1250.0
    latency[-1] = 20.0 + 0.05 * 800.0
    assert throughput.min() < throughput[-1] < throughput.max()
    assert latency.min() < latency[-1] < latency.max()
    snapshots = [
        {"throughput": t, "latency_ms": lat, "error_rate": e}
        for t, lat, e in zip(throughput, latency, error_rate, strict=True)
    ]
    r = analyze_matrix(snapshots)
    assert r.columns == ("error_rate", "latency_ms", "throughput")
    assert int(np.argmax(r.anomaly_score)) == n - 1
    others = np.delete(r.anomaly_score, n - 1)
    assert r.anomaly_score[-1] > 2 * others.max()


def test_snapshot_columns_select_and_order() -> None:
    snapshots = [{"a": float(i), "b": float(i % 3), "c": float(i * i)} for i in range(10)]
    r = analyze_matrix(snapshots, columns=["c", "a"])
    assert r.columns == ("c", "a")
    m = np.array([[float(i * i), float(i)] for i in range(10)])
    np.testing.assert_allclose(r.anomaly_score, analyze_matrix(m).anomaly_score, rtol=1e-12)


@given(
    seed=st.integers(0, 2**32 - 1),
    scale=st.lists(st.floats(1e-3, 1e3), min_size=4, max_size=4),
    shift=st.lists(st.floats(-1e3, 1e3), min_size=4, max_size=4),
)
@settings(max_examples=40, deadline=None)
def test_standardized_analysis_ignores_units(
    seed: int, scale: list[float], shift: list[float]
) -> None:
    x = correlated(seed % 1000, n=30, p=4)
    a = analyze_matrix(x)
    b = analyze_matrix(x * np.array(scale) + np.array(shift))
    np.testing.assert_allclose(a.singular_values, b.singular_values, rtol=1e-6)
    np.testing.assert_allclose(a.anomaly_score, b.anomaly_score, rtol=1e-6, atol=1e-9)
    assert a.n_components == b.n_components
    assert a.rank == b.rank


# --- result and errors ---------------------------------------------------------------


def test_result_is_frozen_and_read_only() -> None:
    r = analyze_matrix(correlated(1))
    assert isinstance(r, MatrixResult)
    assert r.columns == ("x0", "x1", "x2", "x3", "x4")
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.rank = 0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        r.anomaly_score[0] = 0.0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"x": np.ones((1, 3))}, InvalidInputError, r"x must have at least 2 rows, got 1"),
        ({"x": []}, InvalidInputError, r"x must have at least 2 rows, got 0"),
        ({"x": np.full((3, 2), np.nan)}, InvalidInputError, r"x has no column with a value"),
        ({"x": [[1.0, np.inf], [2.0, 3.0]]}, InvalidInputError, r"x must not contain infinity"),
        (
            {"x": np.ones((3, 2)), "columns": ["a"]},
            InvalidInputError,
            r"columns must name every column of x: got 1 names for 2 columns",
        ),
        (
            {"x": np.ones((3, 2)), "columns": ["a", "a"]},
            InvalidInputError,
            r"duplicate names in columns: \['a'\]",
        ),
        (
            {"x": np.ones((3, 2)), "columns": "ab"},
            InvalidInputError,
            r"columns must be a sequence of strings",
        ),
        (
            {"x": [{"a": 1.0}, {"a": 2.0}], "columns": ["a", "zz"]},
            InvalidInputError,
            r"columns not found in any snapshot: \['zz'\]; available: \['a'\]",
        ),
        (
            {"x": np.ones((3, 2)), "variance_share": 0.0},
            InvalidInputError,
            r"variance_share must be a finite number in \(0.0, 1.0\], got 0.0",
        ),
        (
            {"x": np.ones((3, 2)), "variance_share": 1.5},
            InvalidInputError,
            r"variance_share must be a finite number in \(0.0, 1.0\], got 1.5",
        ),
    ],
)
def test_invalid_input_messages(kwargs: dict[str, object], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        analyze_matrix(**kwargs)  # type: ignore[arg-type]


def _t2_by_formula(x: np.ndarray) -> tuple[float, float]:
    """Hotelling's T² of the last row against the others, and its F p-value (textbook)."""
    from scipy import stats

    past, row = x[:-1], x[-1]
    n, p = past.shape
    d = row - past.mean(axis=0)
    t2 = float(d @ np.linalg.inv(np.cov(past, rowvar=False, ddof=1)) @ d)
    f = t2 * n * (n - p) / (p * (n + 1) * (n - 1))
    return t2, float(stats.f.sf(f, p, n - p))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_newest_row_t2_is_hotellings_statistic_with_its_f_pvalue(seed: int) -> None:
    from sightline.stats.matrix import newest_row_t2, t2_limit

    x = correlated(seed)
    x[-1] += np.random.default_rng(seed).normal(size=x.shape[1]) * x.std(axis=0)
    got = newest_row_t2(x)
    t2, p = _t2_by_formula(x)
    assert got.n_components == x.shape[1]
    assert got.statistic == pytest.approx(t2, rel=1e-8)
    assert got.pvalue == pytest.approx(p, rel=1e-6)
    n, k = x.shape[0] - 1, x.shape[1]
    limit = t2_limit(0.01, n, k)
    assert _t2_by_formula(np.vstack([x[:-1], x[:-1].mean(axis=0)]))[0] < limit
    from scipy import stats

    assert stats.f.sf(limit * n * (n - k) / (k * (n + 1) * (n - 1)), k, n - k) == pytest.approx(
        0.01, rel=1e-9
    )


def test_newest_row_t2_sees_a_row_far_out_along_a_principal_direction() -> None:
    """The case a reconstruction error misses: every component kept, one KPI jumps."""
    from sightline.stats.matrix import newest_row_t2

    rng = np.random.default_rng(5)
    past = np.column_stack([50 + rng.normal(0, 1, 40), 0.01 + rng.normal(0, 0.001, 40)])
    calm = newest_row_t2(np.vstack([past, [50.2, 0.01]]))
    jump = newest_row_t2(np.vstack([past, [80.0, 0.01]]))
    assert calm.pvalue > 0.1 and jump.pvalue < 1e-12
    assert jump.statistic > 100 * calm.statistic


def test_newest_row_t2_leaves_out_constant_and_collinear_columns() -> None:
    from sightline.stats.matrix import newest_row_t2

    x = correlated(4, p=3)
    same = newest_row_t2(x)
    constant = np.column_stack([x, np.full(x.shape[0], 7.0)])
    doubled = np.column_stack([x, 2 * x[:, 0] + x[:, 1]])
    for wider in (constant, doubled):
        got = newest_row_t2(wider)
        assert got.n_components == 3
        assert got.statistic == pytest.approx(same.statistic, rel=1e-6)
    assert newest_row_t2(x * 1e6 + 3).statistic == pytest.approx(same.statistic, rel=1e-8)
