"""Embedding drift: MMD equals its published formula, keeps its level, and finds shifts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import cdist, pdist

from sightline.errors import InvalidInputError
from sightline.stats.embedding import (
    drifted_components_share,
    mean_distance,
    mmd_test,
)


def naive_mmd2(x: np.ndarray, y: np.ndarray, sigma: float) -> float:
    """Unbiased MMD² with k(a, b) = exp(-|a - b|² / (2sigma²)) (METHODS.md 4.3), pair by pair."""

    def k(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.exp(-cdist(a, b, "sqeuclidean") / (2 * sigma**2))

    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    n, m = len(x), len(y)
    return float(
        (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
        + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        - 2 * kxy.mean()
    )


def test_statistic_and_bandwidth_equal_the_formula() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(40, 5)), rng.normal(0.3, size=(55, 5))
    result = mmd_test(x, y, permutations=50)
    sigma = np.sqrt(np.median(pdist(np.vstack([x, y]), "sqeuclidean")) / 2)
    assert result.bandwidth == pytest.approx(sigma, rel=1e-12)
    assert result.statistic == pytest.approx(naive_mmd2(x, y, sigma), rel=1e-9)
    assert (result.n_reference, result.n_current) == (40, 55)


def test_permutation_pvalues_equal_a_loop_over_relabelled_samples() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(12, 3)), rng.normal(size=(9, 3))
    result = mmd_test(x, y, permutations=30, seed=7)
    # Replay the same permutations (the generator draws them after the bandwidth).
    replay = np.random.default_rng(7)
    pooled = np.vstack([x, y])
    sigma = result.bandwidth
    observed = naive_mmd2(x, y, sigma)
    exceed = 0
    for _ in range(30):
        chosen = np.zeros(21, dtype=bool)
        chosen[replay.permutation(21)[:12]] = True
        exceed += naive_mmd2(pooled[chosen], pooled[~chosen], sigma) >= observed - 1e-12
    assert result.p_value == pytest.approx((1 + exceed) / 31)


def test_level_under_no_drift_and_power_under_a_shift() -> None:
    rng = np.random.default_rng(5)
    p_same = [
        mmd_test(rng.normal(size=(60, 16)), rng.normal(size=(60, 16)), seed=s).p_value
        for s in range(200)
    ]
    assert np.mean(np.array(p_same) < 0.05) <= 0.08
    assert stats.kstest(p_same, "uniform").pvalue > 0.001
    p_shift = [
        mmd_test(rng.normal(size=(60, 16)), rng.normal(0.4, size=(60, 16)), seed=s).p_value
        for s in range(20)
    ]
    assert np.mean(np.array(p_shift) < 0.05) >= 0.9


def test_large_samples_are_subsampled_and_reproducible() -> None:
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(3000, 8)), rng.normal(size=(2500, 8))
    first = mmd_test(x, y, max_samples=500, permutations=20, seed=1)
    assert (first.n_reference, first.n_current) == (500, 500)
    assert first == mmd_test(x, y, max_samples=500, permutations=20, seed=1)


@pytest.mark.parametrize("dims", [1, 4096])
def test_one_to_4096_dimensions(dims: int) -> None:
    rng = np.random.default_rng(dims)
    x = rng.normal(size=(80, dims)).squeeze()
    y = rng.normal(1.0, size=(80, dims)).squeeze()
    assert mmd_test(x, y, permutations=50).p_value < 0.05
    assert mean_distance(x, y) == pytest.approx(
        np.linalg.norm(np.atleast_2d(x.T).T.mean(0) - np.atleast_2d(y.T).T.mean(0))
    )
    assert drifted_components_share(x, y) > 0.5


def test_mean_distance_and_drifted_share_equal_scipy() -> None:
    rng = np.random.default_rng(8)
    x = rng.normal(size=(300, 6))
    y = rng.normal(size=(250, 6)) + np.array([0, 0, 0, 0.5, 1.0, 0.02])
    pvalues = [stats.ks_2samp(x[:, j], y[:, j]).pvalue for j in range(6)]
    adjusted = stats.false_discovery_control(pvalues, method="bh")
    assert drifted_components_share(x, y, alpha=0.05) == pytest.approx(np.mean(adjusted <= 0.05))
    assert mean_distance(x, y) == pytest.approx(np.linalg.norm(x.mean(0) - y.mean(0)))


def test_missing_rows_dropped_bad_input_named() -> None:
    x = np.array([[0.0, 1.0], [np.nan, 1.0], [1.0, 0.0]])
    assert mmd_test(x, x, permutations=5).n_reference == 2
    assert np.isnan(mmd_test(x[:1], x).p_value)
    assert np.isnan(mean_distance(np.full((2, 2), np.nan), x))
    with pytest.raises(InvalidInputError, match="same dimension"):
        mmd_test(x, np.zeros((3, 3)))
    with pytest.raises(InvalidInputError, match="infinity"):
        mean_distance(x, np.full((2, 2), np.inf))
    with pytest.raises(InvalidInputError, match="permutations"):
        mmd_test(x, x, permutations=0)
