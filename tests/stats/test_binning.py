"""Sorting, quantile edges and bin counts against numpy, column by column."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sightline.errors import InvalidInputError
from sightline.stats._binning import (
    SortedColumns,
    bin_counts,
    code_counts,
    quantile_edges,
    sort_columns,
)

NAN = np.nan


def _samples(seed: int, n: int, k: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, k))
    x[:, 1 % k] = rng.integers(0, 3, n)  # heavy ties: fewer distinct edges
    x[rng.random((n, k)) < 0.1] = NAN
    if k > 3:
        x[:, 3] = NAN  # no valid value
    return x


def _oracle_edges(col: np.ndarray, n_bins: int) -> np.ndarray:
    """numpy's deciles, deduplicated; several quantiles collapsed into one edge c (a
    constant reference) get c's float successor as a second edge."""
    valid = col[~np.isnan(col)]
    if valid.size == 0:
        return np.empty(0)
    found = np.unique(np.quantile(valid, np.arange(1, n_bins) / n_bins)) + 0.0
    if found.size == 1 and n_bins > 2:
        return np.array([found[0], np.nextafter(found[0], np.inf)])
    return found


def test_a_constant_column_gets_a_bin_above_the_constant() -> None:
    x = np.full((21, 2), 4.0)
    x[20, 1] = 5.0  # every decile of column 1 is still 4
    edges = quantile_edges(x, 10)
    assert edges[0].tolist() == edges[1].tolist() == [4.0, np.nextafter(4.0, np.inf)]
    assert bin_counts(x, edges)[:, 1].tolist() == [0, 20, 1]
    cur = np.array([[4.0, 4.0], [4.5, 4.0], [6.0, 4.0]])
    assert bin_counts(cur, edges)[:, 0].tolist() == [0, 1, 2]  # [4, 4+), the values above


def _oracle_counts(x: np.ndarray, edges: list[np.ndarray]) -> np.ndarray:
    width = max(e.size + 1 for e in edges)
    out = np.zeros((width, x.shape[1]), dtype=np.int64)
    for j, e in enumerate(edges):
        col = x[:, j][~np.isnan(x[:, j])]
        out[: e.size + 1, j] = np.bincount(
            np.searchsorted(e, col, side="right"), minlength=e.size + 1
        )
    return out


# --------------------------------------------------------------------------------------------
# sort_columns


def test_sort_columns_matches_numpy_sort() -> None:
    x = _samples(0, 101, 5)
    s = sort_columns(x)
    np.testing.assert_array_equal(s.values, np.sort(x, axis=0))  # NaN last, as numpy
    np.testing.assert_array_equal(s.n_valid, (~np.isnan(x)).sum(axis=0))
    assert s.values.flags.f_contiguous
    assert s.n_valid.dtype == np.int64
    np.testing.assert_array_equal(sort_columns(np.asfortranarray(x)).values, s.values)
    assert np.isnan(x).any()  # the input is not modified
    large = _samples(1, 5000, 3)  # more rows than one block of the transposing copy
    np.testing.assert_array_equal(sort_columns(large).values, np.sort(large, axis=0))


def test_sort_columns_shapes_and_errors() -> None:
    one = sort_columns([3.0, 1.0, NAN])
    assert one.values.shape == (3, 1)
    assert one.n_valid.tolist() == [2]
    empty = sort_columns(np.empty((0, 2)))
    assert empty.values.shape == (0, 2)
    assert empty.n_valid.tolist() == [0, 0]
    with pytest.raises(InvalidInputError, match="x must not contain infinity"):
        sort_columns([[1.0], [-np.inf]])
    with pytest.raises(InvalidInputError, match="x must be 1-D or 2-D"):
        sort_columns(np.zeros((1, 1, 1)))


# --------------------------------------------------------------------------------------------
# quantile_edges


@pytest.mark.parametrize("n_bins", [1, 2, 4, 10, 50])
@pytest.mark.parametrize(("seed", "n"), [(0, 7), (1, 100), (2, 1001)])
def test_quantile_edges_match_numpy(n_bins: int, seed: int, n: int) -> None:
    x = _samples(seed, n, 4)
    got = quantile_edges(x, n_bins)
    pre = quantile_edges(sort_columns(x), n_bins)
    assert len(got) == 4
    for j in range(4):
        np.testing.assert_array_equal(got[j], _oracle_edges(x[:, j], n_bins))
        np.testing.assert_array_equal(pre[j], got[j])
    assert got[3].size == 0  # all-NaN column: one bin


@settings(max_examples=50, deadline=None)
@given(
    x=hnp.arrays(
        np.float64,
        st.tuples(st.integers(0, 40), st.integers(1, 3)),
        elements=st.one_of(st.just(NAN), st.floats(-1e6, 1e6, width=32)),
    ),
    n_bins=st.integers(1, 12),
)
def test_quantile_edges_and_counts_on_generated_data(x: np.ndarray, n_bins: int) -> None:
    edges = quantile_edges(x, n_bins)
    for j in range(x.shape[1]):
        np.testing.assert_array_equal(edges[j], _oracle_edges(x[:, j], n_bins))
    want = _oracle_counts(x, edges)
    np.testing.assert_array_equal(bin_counts(x, edges), want)
    np.testing.assert_array_equal(bin_counts(sort_columns(x), edges), want)


def test_quantile_edges_errors() -> None:
    for bad in (0, -3, 2.5, True):
        with pytest.raises(InvalidInputError, match="n_bins must be an integer >= 1"):
            quantile_edges(np.zeros((3, 1)), bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# bin_counts


@pytest.mark.parametrize("n_bins", [1, 3, 10, 40])  # 40 bins: the binary-search path
def test_bin_counts_match_searchsorted(n_bins: int) -> None:
    reference = _samples(3, 500, 5)
    current = _samples(4, 321, 5) + 0.3
    edges = quantile_edges(reference, n_bins)
    want = _oracle_counts(current, edges)
    got = bin_counts(current, edges)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(bin_counts(sort_columns(current), edges), want)
    assert got.shape[0] == max(e.size for e in edges) + 1
    np.testing.assert_array_equal(got.sum(axis=0), (~np.isnan(current)).sum(axis=0))


def test_bin_counts_by_hand() -> None:
    x = np.array([[0.0, 5.0], [1.0, NAN], [2.5, 5.0], [9.0, 6.0]])
    edges = [np.array([1.0, 2.5]), np.array([5.0])]
    want = [[1, 0], [1, 3], [2, 0]]  # v = edge goes right: bin i holds e[i-1] <= v < e[i]
    np.testing.assert_array_equal(bin_counts(x, edges), want)
    np.testing.assert_array_equal(bin_counts(sort_columns(x), edges), want)
    wide = [np.arange(40.0), np.array([5.0])]
    many = bin_counts(x, wide)
    assert many.shape == (41, 2)
    np.testing.assert_array_equal(many[:, 1], [0, 3] + [0] * 39)
    np.testing.assert_array_equal(bin_counts([1.0, NAN, 3.0], [np.empty(0)]), [[2]])


def test_bin_counts_errors() -> None:
    x = np.zeros((3, 2))
    with pytest.raises(InvalidInputError, match="edges must hold one array per column: got 1"):
        bin_counts(x, [np.array([1.0])])
    with pytest.raises(InvalidInputError, match=r"edges\[1\] must be a 1-D array of finite"):
        bin_counts(x, [np.array([1.0]), np.array([2.0, 1.0])])
    with pytest.raises(InvalidInputError, match=r"edges\[0\] must be"):
        bin_counts(x, [np.array([NAN]), np.array([1.0])])
    with pytest.raises(InvalidInputError, match="x must not contain infinity"):
        bin_counts(np.array([[np.inf]]), [np.array([1.0])])
    with pytest.raises(InvalidInputError, match="x: SortedColumns must hold"):
        bin_counts(SortedColumns(np.zeros(3), np.zeros(1, dtype=np.int64)), [np.empty(0)])


# --------------------------------------------------------------------------------------------
# code_counts


def test_code_counts_match_bincount() -> None:
    rng = np.random.default_rng(9)
    n_codes = [3, 7, 1, 0]
    codes = np.column_stack([rng.integers(-1, c, 200) if c else np.full(200, -1) for c in n_codes])
    got = code_counts(codes, n_codes)
    assert got.shape == (7, 4)
    assert got.dtype == np.int64
    for j, c in enumerate(n_codes):
        col = codes[:, j]
        want = np.bincount(col[col >= 0], minlength=7)
        np.testing.assert_array_equal(got[:, j], want)
        assert not got[c:, j].any()
    np.testing.assert_array_equal(
        code_counts(np.array([0, 0, 2, -1]), np.array([3])), [[2], [0], [1]]
    )
    assert code_counts(np.empty((0, 2), dtype=int), [2, 2]).tolist() == [[0, 0], [0, 0]]


def test_code_counts_errors() -> None:
    with pytest.raises(InvalidInputError, match="codes must be integers, got dtype float64"):
        code_counts(np.array([[0.0]]), [1])
    with pytest.raises(InvalidInputError, match=r"codes must be -1 \(missing\) or in \[0, n_codes"):
        code_counts(np.array([[0], [3]]), [3])
    with pytest.raises(InvalidInputError, match=r"codes must be -1 \(missing\)"):
        code_counts(np.array([[-2]]), [3])
    with pytest.raises(
        InvalidInputError, match=r"n_codes must hold one count >= 0 per column \(2\)"
    ):
        code_counts(np.zeros((2, 2), dtype=int), [3])
    with pytest.raises(InvalidInputError, match="codes must be 1-D or 2-D"):
        code_counts(np.zeros((1, 1, 1), dtype=int), [1])
