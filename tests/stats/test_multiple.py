"""p-value corrections: Benjamini-Hochberg against scipy, Holm against the step-down procedure."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sightline.errors import InvalidInputError
from sightline.stats.multiple import benjamini_hochberg, bonferroni, holm

NAN = np.nan

_pvalues = st.lists(
    st.one_of(st.just(NAN), st.sampled_from([0.0, 0.01, 0.05, 1.0]), st.floats(0.0, 1.0)),
    max_size=30,
)


def _holm_rejects(p: np.ndarray, alpha: float) -> np.ndarray:
    """Holm's sequential procedure: reject the smallest p-values while p_(i) <= alpha/(m-i+1)."""
    order = np.argsort(p, kind="stable")
    rejected = np.zeros(p.size, dtype=bool)
    for rank, i in enumerate(order):
        if p[i] > alpha / (p.size - rank):
            break
        rejected[i] = True
    return rejected


@settings(max_examples=50, deadline=None)
@given(values=_pvalues)
def test_benjamini_hochberg_matches_scipy(values: list[float]) -> None:
    p = np.array(values, dtype=float)
    got = benjamini_hochberg(p)
    valid = ~np.isnan(p)
    np.testing.assert_array_equal(np.isnan(got), ~valid)
    if valid.any():
        want = stats.false_discovery_control(p[valid], method="bh")
        np.testing.assert_allclose(got[valid], want, rtol=1e-12, atol=0)


@settings(max_examples=50, deadline=None)
@given(values=_pvalues)
def test_holm_and_bonferroni_decisions(values: list[float]) -> None:
    p = np.array(values, dtype=float)
    valid = ~np.isnan(p)
    h, b = holm(p), bonferroni(p)
    np.testing.assert_array_equal(np.isnan(h), ~valid)
    np.testing.assert_array_equal(np.isnan(b), ~valid)
    m = int(valid.sum())
    for alpha in (0.001, 0.01, 0.05, 0.1, 0.5):
        np.testing.assert_array_equal(h[valid] <= alpha, _holm_rejects(p[valid], alpha))
        np.testing.assert_array_equal(b[valid] <= alpha, p[valid] <= alpha / max(m, 1))
    assert (h[valid] <= b[valid]).all()
    assert (h[valid] >= p[valid]).all()
    assert (h[valid] <= 1).all()


def test_by_hand() -> None:
    p = [0.01, 0.04, NAN, 0.03, 0.5]
    np.testing.assert_allclose(bonferroni(p), [0.04, 0.16, NAN, 0.12, 1.0])
    np.testing.assert_allclose(holm(p), [0.04, 0.09, NAN, 0.09, 0.5])
    np.testing.assert_allclose(benjamini_hochberg(p), [0.04, 0.16 / 3, NAN, 0.16 / 3, 0.5])
    for fn in (benjamini_hochberg, bonferroni, holm):
        assert fn([]).shape == (0,)
        np.testing.assert_array_equal(fn([NAN, NAN]), [NAN, NAN])
        np.testing.assert_array_equal(fn([0.2]), [0.2])


def test_input_is_not_modified() -> None:
    p = np.array([0.3, 0.01, NAN])
    for fn in (benjamini_hochberg, bonferroni, holm):
        fn(p)
    np.testing.assert_array_equal(p, [0.3, 0.01, NAN])


@pytest.mark.parametrize("fn", [benjamini_hochberg, bonferroni, holm])
def test_errors(fn: object) -> None:
    assert callable(fn)
    with pytest.raises(
        InvalidInputError, match=r"pvalues must be numbers in \[0, 1\] or NaN, got \[1.5\]"
    ):
        fn([0.1, 1.5])
    with pytest.raises(InvalidInputError, match=r"got \[-0.1, inf\]"):
        fn([-0.1, np.inf])
    with pytest.raises(InvalidInputError, match="pvalues must be 1-D"):
        fn([[0.1]])
    with pytest.raises(InvalidInputError, match="pvalues must be numbers"):
        fn(["a"])
