"""Moments and Chan's merge against numpy on concatenations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sightline.errors import InvalidInputError
from sightline.stats.moments import Moments, merge_moments, moments_of, variance

REL = 1e-9


def _assert_matches_numpy(m: Moments, x: np.ndarray) -> None:
    valid = x[~np.isnan(x)]
    assert m.n == valid.size
    if valid.size:  # relative to the data's scale, since cancellation can make a result ~0
        scale = float(np.abs(valid).max())
        assert m.mean == pytest.approx(valid.mean(), rel=REL, abs=REL * scale)
        want = ((valid - valid.mean()) ** 2).sum()
        assert m.m2 == pytest.approx(want, rel=REL, abs=REL * scale**2 * valid.size)


@pytest.mark.parametrize("seed", range(5))
def test_1d_matches_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(1e6, 3.0, 1000)  # a large mean: two passes keep m2 accurate
    x[rng.random(1000) < 0.1] = np.nan
    m = moments_of(x)
    _assert_matches_numpy(m, x)
    assert variance(m) == pytest.approx(np.nanvar(x, ddof=1), rel=REL)
    assert variance(m, ddof=0) == pytest.approx(np.nanvar(x), rel=REL)


def test_2d_per_column() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 4))
    x[rng.random((200, 4)) < 0.2] = np.nan
    x[:, 3] = np.nan  # a column without values
    m = moments_of(x)
    assert m.n.tolist() == np.count_nonzero(~np.isnan(x), axis=0).tolist()  # type: ignore[union-attr]
    for j in range(3):
        _assert_matches_numpy(Moments(m.n[j], m.mean[j], m.m2[j]), x[:, j])  # type: ignore[index]
    assert (m.n[3], m.mean[3], m.m2[3]) == (0, 0.0, 0.0)  # type: ignore[index]
    v = variance(m)
    assert np.isnan(v[3])  # type: ignore[index]
    np.testing.assert_allclose(v[:3], np.nanvar(x[:, :3], axis=0, ddof=1), rtol=REL)  # type: ignore[index]


def test_empty_is_identity_exactly() -> None:
    m = moments_of(np.array([1.5, 2.5, 9.0]))
    zero = moments_of(np.array([]))
    assert zero == Moments(0, 0.0, 0.0)
    assert merge_moments(zero, m) == m
    assert merge_moments(m, zero) == m
    assert merge_moments(zero, zero) == zero


def test_merge_arrays_and_empty_columns() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 3))
    x[:30, 1] = np.nan  # column 1 empty in the first part
    a, b = moments_of(x[:30]), moments_of(x[30:])
    whole = moments_of(x)
    got = merge_moments(a, b)
    np.testing.assert_array_equal(got.n, whole.n)
    np.testing.assert_allclose(got.mean, whole.mean, rtol=REL)
    np.testing.assert_allclose(got.m2, whole.m2, rtol=REL)


splits = st.lists(st.integers(0, 60), min_size=2, max_size=2)
values = hnp.arrays(
    np.float64,
    st.integers(0, 60),
    elements=st.one_of(st.floats(-1e6, 1e6), st.just(np.nan)),
)


@settings(max_examples=50, deadline=None)
@given(x=values, cuts=splits)
def test_merge_is_concatenation_associative_commutative(x: np.ndarray, cuts: list[int]) -> None:
    i, j = sorted(min(c, x.size) for c in cuts)
    a, b, c = (moments_of(part) for part in (x[:i], x[i:j], x[j:]))
    for got in (
        merge_moments(merge_moments(a, b), c),
        merge_moments(a, merge_moments(b, c)),
        merge_moments(c, merge_moments(b, a)),
    ):
        _assert_matches_numpy(got, x)
    assert merge_moments(a, b) == merge_moments(b, a)  # the symmetric form is exact


def test_errors() -> None:
    with pytest.raises(InvalidInputError, match="must not contain infinity"):
        moments_of(np.array([1.0, np.inf]))
    with pytest.raises(InvalidInputError, match="1-D or 2-D"):
        moments_of(np.zeros((2, 2, 2)))
    with pytest.raises(InvalidInputError, match=r"same shape, got \(\) and \(2,\)"):
        merge_moments(moments_of(np.ones(2)), moments_of(np.ones((2, 2))))
    with pytest.raises(InvalidInputError, match="ddof must be an integer >= 0, got -1"):
        variance(Moments(3, 1.0, 2.0), ddof=-1)


def test_scalar_and_array_paths_agree_exactly() -> None:
    x = np.random.default_rng(3).normal(5.0, 2.0, 97)
    a, b = moments_of(x[:40]), moments_of(x[40:])
    scalar = merge_moments(a, b)
    as_arrays = [Moments(*(np.array([v]) for v in m)) for m in (a, b)]
    array = merge_moments(*as_arrays)
    assert (scalar.n, scalar.mean, scalar.m2) == (array.n[0], array.mean[0], array.m2[0])  # type: ignore[index]
