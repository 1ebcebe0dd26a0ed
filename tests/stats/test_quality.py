"""Data-quality rates: hand-checked arrays and a per-column numpy cross-check."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from sightline.errors import InvalidInputError
from sightline.stats import quality

NAN = np.nan
INF = np.inf

X = np.array(
    [
        [1.0, NAN, INF, 5.0],
        [2.0, NAN, -INF, 5.0],
        [NAN, NAN, 3.0, 5.0],
        [9.0, NAN, NAN, NAN],
    ]
)


def test_missing_share_by_hand() -> None:
    np.testing.assert_array_equal(quality.missing_share(X), [0.25, 1.0, 0.25, 0.25])


def test_inf_share_by_hand() -> None:
    np.testing.assert_array_equal(quality.inf_share(X), [0.0, 0.0, 0.5, 0.0])


def test_out_of_range_share_by_hand() -> None:
    low = np.array([1.5, 0.0, 0.0, 5.0])
    high = np.array([8.0, 1.0, 2.0, 5.0])
    # col 0: 1 and 9 outside of 3 non-missing; col 1: no non-missing values;
    # col 2: only 3.0 is finite and outside, infinities count in the denominator only;
    # col 3: 5.0 sits on both inclusive bounds
    got = quality.out_of_range_share(X, low, high)
    np.testing.assert_allclose(got, [2 / 3, NAN, 1 / 3, 0.0])


def test_out_of_range_share_scalar_and_unbounded_limits() -> None:
    x = np.array([[-5.0, 1.0], [0.0, 2.0], [5.0, 3.0]])
    np.testing.assert_allclose(quality.out_of_range_share(x, 0.0, INF), [1 / 3, 0.0])
    np.testing.assert_allclose(quality.out_of_range_share(x, -INF, INF), [0.0, 0.0])


def test_unseen_share_by_hand() -> None:
    codes = np.array([[0, -1, 3], [2, -1, 0], [1, -1, 4], [-1, -1, 5]])
    # col 0: code 2 unseen among 3; col 1: all missing; col 2: 3 of 4 unseen with n_known 3
    np.testing.assert_allclose(
        quality.unseen_share(codes, np.array([2, 1, 3])), [1 / 3, NAN, 3 / 4]
    )
    # a column with no reference categories: every present value is unseen
    np.testing.assert_array_equal(quality.unseen_share(np.array([0, 1, -1]), [0]), [1.0])


def test_is_constant_by_hand() -> None:
    x = np.array(
        [
            [1.0, 1.0, NAN, INF, INF, 0.0],
            [1.0, 2.0, NAN, INF, -INF, -0.0],
            [NAN, 1.0, NAN, NAN, INF, 0.0],
        ]
    )
    np.testing.assert_array_equal(quality.is_constant(x), [True, False, False, True, False, True])
    np.testing.assert_array_equal(quality.is_constant(np.array([[7.0]])), [True])


def test_empty_inputs() -> None:
    empty = np.empty((0, 3))
    assert np.isnan(quality.missing_share(empty)).all()
    assert np.isnan(quality.inf_share(empty)).all()
    assert np.isnan(quality.out_of_range_share(empty, np.zeros(3), np.ones(3))).all()
    assert np.isnan(quality.unseen_share(np.empty((0, 3), dtype=np.int64), [1, 1, 1])).all()
    np.testing.assert_array_equal(quality.is_constant(empty), [False, False, False])
    assert quality.missing_share(np.empty((5, 0))).shape == (0,)


def test_one_dimensional_input_is_one_column() -> None:
    assert quality.missing_share([1.0, NAN]).tolist() == [0.5]
    assert quality.is_constant([3.0, 3.0]).tolist() == [True]


def test_matches_per_column_numpy() -> None:
    rng = np.random.default_rng(42)
    n, k = 500, 6
    x = rng.normal(size=(n, k))
    x[rng.random((n, k)) < 0.1] = NAN
    x[rng.random((n, k)) < 0.03] = INF
    x[rng.random((n, k)) < 0.03] = -INF
    x[:, 5] = NAN
    x[:, 4] = np.where(np.isnan(x[:, 4]), NAN, 2.5)
    low = rng.uniform(-1.5, -0.5, k)
    high = rng.uniform(0.5, 1.5, k)
    codes = rng.integers(-1, 8, size=(n, k))
    n_known = rng.integers(0, 9, k)

    missing = quality.missing_share(x)
    infinite = quality.inf_share(x)
    out = quality.out_of_range_share(x, low, high)
    unseen = quality.unseen_share(codes, n_known)
    constant = quality.is_constant(x)
    for j in range(k):
        col = x[:, j]
        assert missing[j] == np.mean(np.isnan(col))
        assert infinite[j] == np.mean(np.isinf(col))
        present = col[~np.isnan(col)]
        finite = present[np.isfinite(present)]
        n_out = np.sum((finite < low[j]) | (finite > high[j]))
        if present.size:
            assert out[j] == pytest.approx(n_out / present.size, rel=1e-15)
        else:
            assert math.isnan(out[j])
        c = codes[:, j]
        assert unseen[j] == pytest.approx(np.mean(c[c != -1] >= n_known[j]), rel=1e-15)
        assert constant[j] == (np.unique(present).size == 1)
    assert constant.tolist() == [False, False, False, False, True, False]


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: quality.missing_share(np.zeros((2, 2, 2))), r"x must be 1-D or 2-D"),
        (lambda: quality.inf_share([["a", "b"]]), r"x must be numeric"),
        (
            lambda: quality.out_of_range_share(np.zeros((2, 3)), np.zeros(2), np.ones(3)),
            r"low must have one value per column \(3\), got shape \(2,\)",
        ),
        (
            lambda: quality.out_of_range_share(np.zeros((2, 2)), [0.0, NAN], [1.0, 1.0]),
            r"low and high must not contain NaN",
        ),
        (
            lambda: quality.out_of_range_share(np.zeros((2, 2)), [0.0, 2.0], [1.0, 1.0]),
            r"low must be <= high in every column, got low=2.0 > high=1.0 in column 1",
        ),
        (
            lambda: quality.unseen_share(np.zeros((2, 2)), [1, 1]),
            r"codes must be a 1-D or 2-D integer",
        ),
        (
            lambda: quality.unseen_share(np.array([[-2, 0]]), [1, 1]),
            r"codes must be >= -1 \(-1 is missing\), got -2",
        ),
        (
            lambda: quality.unseen_share(np.array([[0, 0]]), [1, -1]),
            r"n_known must be integers >= 0, got \[1, -1\]",
        ),
        (
            lambda: quality.unseen_share(np.array([[0, 0]]), [1, 1, 1]),
            r"n_known must have one value per column \(2\)",
        ),
    ],
)
def test_errors_name_the_argument(call: Callable[[], object], pattern: str) -> None:
    with pytest.raises(InvalidInputError, match=pattern):
        call()


def test_no_warnings_for_all_nan_columns() -> None:
    # filterwarnings = error: any RuntimeWarning (all-NaN slice, 0/0) would fail here
    x = np.full((3, 2), NAN)
    assert quality.is_constant(x).tolist() == [False, False]
    assert np.isnan(quality.out_of_range_share(x, [0.0, 0.0], [1.0, 1.0])).all()


def test_sorted_columns_give_the_same_shares_and_constants() -> None:
    from sightline.stats._binning import SortedColumns

    rng = np.random.default_rng(11)
    x = rng.normal(size=(300, 4))
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:5, 1] = np.inf
    x[5:8, 1] = -np.inf
    x[:, 2] = 3.0
    x[:, 3] = np.nan
    low, high = np.array([-1.0, -0.5, 0.0, 0.0]), np.array([1.0, 2.0, 5.0, 1.0])
    s = SortedColumns(np.sort(x, axis=0), np.count_nonzero(~np.isnan(x), axis=0))
    np.testing.assert_array_equal(
        quality.out_of_range_share(s, low, high), quality.out_of_range_share(x, low, high)
    )
    np.testing.assert_array_equal(quality.is_constant(s), quality.is_constant(x))
