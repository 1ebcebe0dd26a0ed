"""Tests of sightline.stats.multivariate against scikit-learn's impute-scale-PCA pipeline."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler

from sightline.errors import InvalidInputError, NotFittedError
from sightline.stats.multivariate import (
    PCAReconstruction,
    ReconstructionResult,
    _std_thresholds,
)

COV = np.array(
    [
        [1.0, 0.8, 0.6, 0.0, 0.1],
        [0.8, 1.0, 0.5, 0.1, 0.0],
        [0.6, 0.5, 1.0, 0.2, 0.3],
        [0.0, 0.1, 0.2, 1.0, 0.7],
        [0.1, 0.0, 0.3, 0.7, 1.0],
    ]
)
MEAN = np.array([5.0, -3.0, 100.0, 0.0, 1e-3])
STD = np.array([2.0, 0.5, 30.0, 1.0, 1e-3])


def sample(seed: int, n: int, *, nan_share: float = 0.0) -> np.ndarray:
    """Seeded correlated rows on different scales, with optional missing cells."""
    rng = np.random.default_rng(seed)
    x = rng.multivariate_normal(np.zeros(5), COV, size=n) * STD + MEAN
    if nan_share:
        x[rng.random(x.shape) < nan_share] = np.nan
    return np.asarray(x)


class Oracle:
    """NannyML's numeric pipeline, built from scikit-learn."""

    def __init__(self, reference: np.ndarray, share: float) -> None:
        self.imputer = SimpleImputer(strategy="mean").fit(reference)
        self.scaler = StandardScaler().fit(self.imputer.transform(reference))
        z = self.scaler.transform(self.imputer.transform(reference))
        self.pca = PCA(n_components=share, svd_solver="full").fit(z)

    def row_errors(self, x: np.ndarray) -> np.ndarray:
        z = self.scaler.transform(self.imputer.transform(x))
        reconstructed = self.pca.inverse_transform(self.pca.transform(z))
        return np.asarray(np.linalg.norm(z - reconstructed, axis=1))


def chunk_means(errors: np.ndarray, size: int) -> np.ndarray:
    """Mean of consecutive chunks, keeping the incomplete last one."""
    return np.array([errors[i : i + size].mean() for i in range(0, len(errors), size)])


# --- scikit-learn oracle -------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("share", [0.3, 0.5, 0.65, 0.8, 0.95])
@pytest.mark.parametrize("nan_share", [0.0, 0.05])
def test_matches_sklearn_pipeline(seed: int, share: float, nan_share: float) -> None:
    reference = sample(seed, 500, nan_share=nan_share)
    current = sample(seed + 100, 120, nan_share=nan_share) * 1.1
    oracle = Oracle(reference, share)
    det = PCAReconstruction(variance_share=share).fit(reference)

    assert det.n_components_ == oracle.pca.n_components_
    np.testing.assert_allclose(det.mean_, oracle.imputer.statistics_, rtol=1e-12)
    np.testing.assert_allclose(det.scale_, oracle.scaler.scale_, rtol=1e-12)
    np.testing.assert_allclose(
        det.explained_variance_ratio_, oracle.pca.explained_variance_ratio_, rtol=1e-9
    )
    np.testing.assert_allclose(det.components_, oracle.pca.components_, rtol=1e-9, atol=1e-12)
    for x in (reference, current):
        np.testing.assert_allclose(det.row_errors(x), oracle.row_errors(x), rtol=1e-9)

    errors = oracle.row_errors(reference)
    want = chunk_means(errors, 50)
    np.testing.assert_allclose(det.reference_errors_, want, rtol=1e-9)
    assert det.upper_ == pytest.approx(want.mean() + 3 * want.std(), rel=1e-9)

    e = oracle.row_errors(current)
    r = det.score(current)
    assert r.error == pytest.approx(e.mean(), rel=1e-9)
    assert r.sampling_error == pytest.approx(e.std(ddof=1) / math.sqrt(len(e)), rel=1e-9)
    assert r.n == 120


def test_component_count_needs_strictly_more_than_the_share() -> None:
    # two uncorrelated, equally spread columns: explained variance ratios are exactly 1/2,
    # so one component reaches the share 0.5 but does not exceed it
    x = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]] * 2)
    det = PCAReconstruction(variance_share=0.5).fit(x)
    pca = PCA(n_components=0.5, svd_solver="full").fit(StandardScaler().fit_transform(x))
    assert det.explained_variance_ratio_.tolist() == [0.5, 0.5]
    assert det.n_components_ == pca.n_components_ == 2
    assert PCAReconstruction(variance_share=0.49).fit(x).n_components_ == 1


def test_constant_reference_column_has_unit_scale() -> None:
    reference = sample(4, 200)
    reference[:, 2] = 7.0
    det = PCAReconstruction().fit(reference)
    oracle = Oracle(reference, 0.65)
    assert det.scale_[2] == 1.0 == oracle.scaler.scale_[2]
    current = sample(5, 50)
    np.testing.assert_allclose(det.row_errors(current), oracle.row_errors(current), rtol=1e-9)


# --- thresholds and chunks -----------------------------------------------------------


def test_t9_threshold_values() -> None:
    lower, upper = _std_thresholds(np.array([0.10, 0.12, 0.08, 0.11, 0.09]), 3.0)
    assert lower == pytest.approx(0.05757359313, rel=1e-9)
    assert upper == pytest.approx(0.1424264069, rel=1e-9)


def test_lower_threshold_at_or_below_zero_is_nan() -> None:
    lower, upper = _std_thresholds(np.array([0.1, 0.5, 0.9]), 3.0)
    assert math.isnan(lower)
    assert upper == pytest.approx(0.5 + 3 * np.std([0.1, 0.5, 0.9]))
    lower, _ = _std_thresholds(np.array([1.0, 3.0]), 2.0)  # exactly 0: no lower bound either
    assert math.isnan(lower)


def test_default_chunks_keep_the_incomplete_last_one() -> None:
    reference = sample(1, 105)
    det = PCAReconstruction().fit(reference)
    errors = det.row_errors(reference)
    assert det.reference_errors_.shape == (11,)  # 10 chunks of 10 rows, then 5 rows
    np.testing.assert_allclose(det.reference_errors_, chunk_means(errors, 10), rtol=1e-12)
    assert det.reference_errors_[-1] == pytest.approx(errors[100:].mean())


def test_small_reference_uses_one_row_chunks() -> None:
    det = PCAReconstruction().fit(sample(2, 7))
    assert det.reference_errors_.shape == (7,)


def test_n_sigma_widens_the_band() -> None:
    reference = sample(3, 400)
    narrow = PCAReconstruction(n_sigma=1.0).fit(reference)
    wide = PCAReconstruction(n_sigma=3.0).fit(reference)
    centre = narrow.reference_errors_.mean()
    assert wide.upper_ - centre == pytest.approx(3 * (narrow.upper_ - centre))
    assert narrow.lower_ < centre


# --- drift detection -----------------------------------------------------------------


def test_broken_correlation_alerts_and_reference_chunk_does_not() -> None:
    reference = sample(10, 5000)
    det = PCAReconstruction().fit(reference, chunk_size=500)

    same = det.score(sample(11, 500))
    assert not same.alert
    assert det.lower_ < same.error < det.upper_ or math.isnan(det.lower_)

    # same marginals, broken dependence: shuffle column 0 independently of the others
    rng = np.random.default_rng(12)
    broken = sample(13, 500)
    broken[:, 0] = rng.permutation(broken[:, 0])
    for j in range(5):  # the marginals really are unchanged
        assert abs(broken[:, j].mean() - reference[:, j].mean()) < 0.2 * STD[j]
        assert broken[:, j].std() == pytest.approx(reference[:, j].std(), rel=0.1)
    drifted = det.score(broken)
    assert drifted.alert
    assert drifted.error > det.upper_
    assert drifted.error - 3 * drifted.sampling_error > same.error + 3 * same.sampling_error


def test_reference_chunks_do_not_alert() -> None:
    reference = sample(20, 2000)
    det = PCAReconstruction().fit(reference, chunk_size=200)
    alerts = [det.score(reference[i : i + 200]).alert for i in range(0, 2000, 200)]
    assert not any(alerts)


def test_alert_below_lower_threshold() -> None:
    reference = sample(30, 4000)
    det = PCAReconstruction(n_sigma=1.0).fit(reference, chunk_size=400)
    assert not math.isnan(det.lower_)
    # rows on the principal subspace reconstruct perfectly: error 0 < lower
    on_plane = det.mean_ + (np.arange(1.0, 11.0)[:, None] * det.components_[0]) * det.scale_
    r = det.score(on_plane)
    assert r.error == pytest.approx(0.0, abs=1e-9)
    assert r.alert


def test_nan_cells_in_current_are_imputed_with_reference_means() -> None:
    reference = sample(40, 300)
    det = PCAReconstruction().fit(reference)
    x = sample(41, 20)
    x[[0, 5, 5], [1, 2, 3]] = np.nan
    filled = np.where(np.isnan(x), det.mean_, x)
    np.testing.assert_array_equal(det.row_errors(x), det.row_errors(filled))
    assert det.row_errors(np.full((1, 5), np.nan))[0] == 0.0


# --- estimator conventions -----------------------------------------------------------


def test_constructor_stores_arguments_and_fit_creates_attributes() -> None:
    det = PCAReconstruction(variance_share=0.8, n_sigma=2)
    assert det.variance_share == 0.8
    assert det.n_sigma == 2
    assert repr(det) == "PCAReconstruction(variance_share=0.8, n_sigma=2)"
    assert not any(name.endswith("_") and not name.startswith("_") for name in vars(det))
    assert det.fit(sample(0, 100)) is det
    for name in (
        "n_features_in_",
        "mean_",
        "scale_",
        "components_",
        "n_components_",
        "explained_variance_ratio_",
        "reference_errors_",
        "lower_",
        "upper_",
    ):
        assert hasattr(det, name)
    assert det.components_.shape == (det.n_components_, 5)


def test_refit_replaces_the_fit() -> None:
    det = PCAReconstruction().fit(sample(0, 100))
    det.fit(sample(1, 100)[:, :3])
    assert det.n_features_in_ == 3
    assert det.row_errors(np.zeros((2, 3))).shape == (2,)


@pytest.mark.parametrize("method", ["row_errors", "score"])
def test_use_before_fit_raises(method: str) -> None:
    det = PCAReconstruction()
    with pytest.raises(NotFittedError, match=r"not fitted yet: call fit\(reference\) first"):
        getattr(det, method)(np.zeros((3, 2)))
    with pytest.raises(AttributeError):
        getattr(det, method)(np.zeros((3, 2)))


def test_score_returns_named_result() -> None:
    reference = sample(0, 300)
    r = PCAReconstruction().fit(reference).score(reference[:30])
    assert isinstance(r, ReconstructionResult)
    assert r._fields == ("error", "sampling_error", "lower", "upper", "alert", "n")
    assert isinstance(r.alert, bool)
    assert isinstance(r.error, float)


# --- invalid input -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"variance_share": 1.0}, r"variance_share must be a finite number in \(0.0, 1.0\)"),
        ({"variance_share": 0.0}, r"variance_share must be a finite number in \(0.0, 1.0\)"),
        ({"variance_share": math.nan}, r"variance_share must be a finite number"),
        ({"n_sigma": 0.0}, r"n_sigma must be a finite number in \(0.0, inf\], got 0.0"),
        ({"n_sigma": -1}, r"n_sigma must be a finite number in \(0.0, inf\], got -1"),
    ],
)
def test_invalid_constructor_arguments(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        PCAReconstruction(**kwargs)


@pytest.mark.parametrize(
    ("reference", "chunk_size", "message"),
    [
        (np.ones((1, 3)), None, r"reference must have at least 2 rows, got 1"),
        (np.ones((0, 3)), None, r"reference must have at least 2 rows, got 0"),
        (np.ones((5, 3)), None, r"reference has no variance: every column is constant"),
        (
            np.column_stack([np.arange(5.0), np.full(5, np.nan)]),
            None,
            r"reference columns \[1\] have no value",
        ),
        (np.array([[1.0, np.inf], [2.0, 3.0]]), None, r"reference must not contain infinity"),
        (np.arange(20.0).reshape(10, 2), 0, r"chunk_size must be an integer >= 1, got 0"),
        (np.arange(20.0).reshape(10, 2), 2.5, r"chunk_size must be an integer >= 1, got 2.5"),
        (np.arange(20.0).reshape(10, 2), True, r"chunk_size must be an integer >= 1, got True"),
        (
            np.arange(20.0).reshape(10, 2),
            10,
            r"chunk_size=10 leaves the 10 reference rows in a single chunk",
        ),
    ],
)
def test_invalid_fit_input(reference: np.ndarray, chunk_size: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        PCAReconstruction().fit(reference, chunk_size=chunk_size)  # type: ignore[arg-type]


def test_invalid_current_input() -> None:
    det = PCAReconstruction().fit(sample(0, 100))
    with pytest.raises(
        InvalidInputError, match=r"x has 4 columns but the detector was fitted on 5"
    ):
        det.score(np.zeros((10, 4)))
    with pytest.raises(InvalidInputError, match=r"x must have at least 2 rows, got 1"):
        det.score(np.zeros((1, 5)))
    with pytest.raises(InvalidInputError, match=r"x must have at least 1 rows, got 0"):
        det.row_errors(np.zeros((0, 5)))
    with pytest.raises(InvalidInputError, match=r"x must not contain infinity"):
        det.row_errors(np.full((2, 5), np.inf))
