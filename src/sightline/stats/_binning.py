"""Sorted columns, reference-quantile edges and bin counts, for all columns at once.

A column is sorted once (:func:`sort_columns`) and the sort is reused for the exact
sample statistics of :mod:`sightline.stats.drift` and for the quantile edges here. Bin
counts on fixed edges are the exactly mergeable state of METHODS.md section 8.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from sightline._types import FloatArray, IntArray
from sightline._validate import check_int, check_samples
from sightline.errors import InvalidInputError

_COMPARE_MAX_EDGES = 32  # up to this many edges, counting by comparison is faster
_COPY_BLOCK_ROWS = 1024  # rows per block of the transposing copy in sort_columns


class SortedColumns(NamedTuple):
    """Every column of a sample sorted ascending, NaNs (missing values) last.

    Build it with :func:`sort_columns`; the statistics trust its invariants.

    Attributes
    ----------
    values
        Shape ``(n_rows, n_columns)``; column ``j`` is sorted and its first ``n_valid[j]``
        rows are its non-missing values.
    n_valid
        Shape ``(n_columns,)``: the number of non-NaN values of each column.

    Examples
    --------
    >>> s = sort_columns(np.array([[3.0, np.nan], [1.0, 2.0]]))
    >>> s.values[:, 0].tolist(), s.n_valid.tolist()
    ([1.0, 3.0], [2, 1])
    """

    values: FloatArray
    n_valid: IntArray


def sort_columns(x: npt.ArrayLike) -> SortedColumns:
    """Sort every column of a sample once, for reuse by several statistics.

    Parameters
    ----------
    x
        Samples of shape ``(n_rows, n_columns)`` (1-D is one column); NaN means missing,
        infinity is rejected.

    Returns
    -------
    SortedColumns
        Fortran-ordered sorted values (each column contiguous, NaNs last) and the number of
        valid values per column.

    Examples
    --------
    >>> s = sort_columns([[2.0, 1.0], [np.nan, 0.5], [1.0, 3.0]])
    >>> s.values.tolist()
    [[1.0, 0.5], [2.0, 1.0], [nan, 3.0]]
    >>> s.n_valid.tolist()
    [2, 3]
    """
    return _sort(x, "x")


def as_sorted(x: FloatArray | SortedColumns | npt.ArrayLike, name: str) -> SortedColumns:
    """Return ``x`` if it is :class:`SortedColumns` (checked for shape only), else sort it.

    ``name`` is the argument named in error messages.

    Examples
    --------
    >>> s = sort_columns([2.0, 1.0])
    >>> as_sorted(s, "reference") is s, as_sorted([2.0, 1.0], "reference").values.ravel().tolist()
    (True, [1.0, 2.0])
    """
    if not isinstance(x, SortedColumns):
        return _sort(x, name)
    values = np.asarray(x.values, dtype=np.float64)
    n_valid = np.asarray(x.n_valid, dtype=np.int64)
    if values.ndim != 2 or n_valid.shape != (values.shape[1],):
        raise InvalidInputError(
            f"{name}: SortedColumns must hold values of shape (n_rows, n_columns) and n_valid "
            f"of shape (n_columns,), got {values.shape} and {n_valid.shape}",
            field=name,
        )
    if values is x.values and n_valid is x.n_valid:
        return x
    return SortedColumns(values, n_valid)


def _sort(x: npt.ArrayLike, name: str) -> SortedColumns:
    values = _fortran_copy(check_samples(x, name))
    values.sort(axis=0)
    n_rows, k = values.shape
    n_valid = np.full(k, n_rows, dtype=np.int64)
    if n_rows:
        for j in np.flatnonzero(np.isnan(values[-1])):
            n_valid[j] = np.searchsorted(values[:, j], np.nan, side="left")  # NaN sorts last
    return SortedColumns(values, n_valid)


def _fortran_copy(arr: FloatArray) -> FloatArray:
    """Copy into column-major order, so that every column is contiguous for sorting.

    A row-major input is transposed in blocks of rows that fit in cache, which is about
    twice as fast as numpy's element-by-element strided copy on large arrays.
    """
    out = np.empty(arr.shape, dtype=np.float64, order="F")
    if arr.flags.f_contiguous:
        out[...] = arr
        return out
    for start in range(0, arr.shape[0], _COPY_BLOCK_ROWS):
        out[start : start + _COPY_BLOCK_ROWS] = arr[start : start + _COPY_BLOCK_ROWS]
    return out


def valid_column(s: SortedColumns, j: int) -> FloatArray:
    """The sorted non-missing values of column ``j`` as a contiguous 1-D array.

    Examples
    --------
    >>> valid_column(sort_columns([[np.nan], [3.0], [1.0]]), 0)
    array([1., 3.])
    """
    return np.ascontiguousarray(s.values[: s.n_valid[j], j])


def _linear_quantiles(col: FloatArray, qs: FloatArray) -> FloatArray:
    """``np.quantile(col, qs)`` (method 'linear') of a sorted, non-empty ``col``, same rounding."""
    n = col.size
    virtual = (n - 1) * qs
    prev = np.floor(virtual)
    nxt = prev + 1
    top = virtual >= n - 1
    prev[top] = -1
    nxt[top] = -1
    gamma = virtual - prev
    a = col[prev.astype(np.intp)]
    b = col[nxt.astype(np.intp)]
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out


def quantile_edges(x: FloatArray | SortedColumns, n_bins: int = 10) -> list[FloatArray]:
    """Inner bin edges of every column at the reference's quantiles.

    Parameters
    ----------
    x
        Samples ``(n_rows, n_columns)`` or their :class:`SortedColumns` (then nothing is
        sorted again).
    n_bins
        Number of quantile bins wanted; the edges are the quantiles
        ``np.arange(1, n_bins) / n_bins`` of the non-NaN values (numpy's default 'linear'
        method). The outer edges are implicitly -inf and +inf.

    Returns
    -------
    list of arrays
        Per column, the sorted distinct inner edges (:func:`distinct_edges`). Heavy ties
        give fewer (deduplicated) edges, so fewer bins; a column without valid values gets
        no edge (one bin).

    References
    ----------
    METHODS.md section 8.5 (binned histograms on reference-quantile edges).

    Examples
    --------
    >>> x = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [4.0, 6.0]])
    >>> [e.tolist() for e in quantile_edges(x, n_bins=2)]
    [[2.5], [5.0]]
    >>> [e.tolist() for e in quantile_edges(np.full((5, 1), 3.0))]
    [[3.0, 3.0000000000000004]]
    """
    n_bins = check_int("n_bins", n_bins, 1)
    s = as_sorted(x, "x")
    qs = np.arange(1, n_bins, dtype=np.float64) / n_bins
    edges: list[FloatArray] = []
    for j in range(s.values.shape[1]):
        if s.n_valid[j] == 0 or qs.size == 0:
            edges.append(np.empty(0, dtype=np.float64))
        else:
            edges.append(distinct_edges(_linear_quantiles(valid_column(s, j), qs)))
    return edges


def distinct_edges(quantiles: FloatArray) -> FloatArray:
    """The inner bin edges of a column from its reference quantiles, on every path (data,
    profiles, a collector's sketches): sorted and deduplicated (``-0.0`` is ``0.0``). When
    several quantiles collapse into one edge ``c`` (a reference constant or nearly so), a
    second edge just above it is added: bin ``i`` holds ``edges[i-1] <= v < edges[i]``, so
    the lone edge would put ``c`` and every larger value in one bin, and a column constant
    on the reference could never drift upwards.

    >>> distinct_edges(np.array([2.0, 1.0, 2.0])).tolist()
    [1.0, 2.0]
    >>> distinct_edges(np.array([0.0, -0.0])).tolist()
    [0.0, 5e-324]
    >>> distinct_edges(np.array([0.5])).tolist()  # one quantile asked (two bins): kept
    [0.5]
    """
    edges = np.unique(quantiles) + 0.0
    if edges.size != 1 or quantiles.size == 1:
        return edges
    return np.array([edges[0], np.nextafter(edges[0], np.inf)])


def _check_edges(edges: Sequence[npt.ArrayLike], k: int) -> list[FloatArray]:
    if len(edges) != k:
        raise InvalidInputError(
            f"edges must hold one array per column: got {len(edges)} arrays for {k} columns",
            field="edges",
        )
    out: list[FloatArray] = []
    for j, e in enumerate(edges):
        arr = np.asarray(e, dtype=np.float64)
        if arr.ndim != 1 or not np.isfinite(arr).all() or (np.diff(arr) < 0).any():
            raise InvalidInputError(
                f"edges[{j}] must be a 1-D array of finite numbers in ascending order",
                field="edges",
            )
        out.append(arr)
    return out


def bin_counts(x: FloatArray | SortedColumns, edges: Sequence[npt.ArrayLike]) -> IntArray:
    """Count the values of every column in its bins.

    Parameters
    ----------
    x
        Samples ``(n_rows, n_columns)`` (1-D is one column) or their :class:`SortedColumns`;
        sorted input is counted by binary search of the edges only, which is much faster.
    edges
        One ascending array of inner edges per column (see :func:`quantile_edges`). Bin ``i``
        of column ``j`` holds ``edges[j][i-1] <= v < edges[j][i]``, i.e.
        ``np.searchsorted(edges[j], v, side="right")``; the outer bins are open.

    Returns
    -------
    Counts of shape ``(max_bins, n_columns)`` with ``max_bins = max(len(e)) + 1``. NaNs are
    not counted; columns with fewer bins are padded with zero rows.

    Examples
    --------
    >>> x = np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 3.0], [3.0, 3.0]])
    >>> bin_counts(x, [np.array([1.0, 2.5]), np.array([2.0])])
    array([[1, 1],
           [2, 2],
           [1, 0]])
    """
    if isinstance(x, SortedColumns):
        s = as_sorted(x, "x")
        return _sorted_counts(s, _check_edges(edges, s.values.shape[1]))
    arr = check_samples(x, "x")
    checked = _check_edges(edges, arr.shape[1])
    if max((e.size for e in checked), default=0) <= _COMPARE_MAX_EDGES:
        return _compared_counts(arr, checked)
    return _searched_counts(arr, checked)


def _searched_counts(arr: FloatArray, edges: list[FloatArray]) -> IntArray:
    """Bin index of every value by binary search, then one ``bincount`` for all columns."""
    n_rows, k = arr.shape
    max_bins = max((e.size + 1 for e in edges), default=1)
    stride = max_bins + 1  # one more slot per column receives the NaNs
    flat = np.empty((k, n_rows), dtype=np.intp)
    for j, e in enumerate(edges):
        # A NaN edge appended last sorts NaN values after every real bin (numpy sorts NaN last).
        flat[j] = np.searchsorted(np.append(e, np.nan), arr[:, j], side="right")
        flat[j] += j * stride
    counts = np.bincount(flat.ravel(), minlength=k * stride).reshape(k, stride)
    n_bins = np.array([e.size + 1 for e in edges], dtype=np.intp)
    counts[np.arange(stride) >= n_bins[:, None]] = 0  # the NaN slot and the padding
    return np.ascontiguousarray(counts[:, :max_bins].T, dtype=np.int64)


def _compared_counts(arr: FloatArray, edges: list[FloatArray]) -> IntArray:
    """Counts below each edge by comparison; for a few edges this beats the binary search."""
    k = arr.shape[1]
    max_bins = max((e.size + 1 for e in edges), default=1)
    counts = np.zeros((max_bins, k), dtype=np.int64)
    for j, e in enumerate(edges):
        col = np.ascontiguousarray(arr[:, j])
        if e.size == 0:
            counts[0, j] = np.count_nonzero(~np.isnan(col))
            continue
        below = [np.count_nonzero(col < edge) for edge in e]  # NaN compares False
        counts[: e.size, j] = np.diff(below, prepend=0)
        counts[e.size, j] = np.count_nonzero(col >= e[-1])
    return counts


def _sorted_counts(s: SortedColumns, edges: list[FloatArray]) -> IntArray:
    k = s.values.shape[1]
    max_bins = max((e.size + 1 for e in edges), default=1)
    counts = np.zeros((max_bins, k), dtype=np.int64)
    for j, e in enumerate(edges):
        below = np.searchsorted(valid_column(s, j), e, side="left")  # values < each edge
        counts[: e.size + 1, j] = np.diff(below, prepend=0, append=s.n_valid[j])
    return counts


def code_counts(codes: npt.ArrayLike, n_codes: IntArray | Sequence[int]) -> IntArray:
    """Count category codes of every column at once.

    Parameters
    ----------
    codes
        Integer codes of shape ``(n_rows, n_columns)`` (1-D is one column); ``-1`` means
        missing and is not counted.
    n_codes
        Per column, the number of categories: column ``j`` has codes in
        ``[0, n_codes[j])``.

    Returns
    -------
    Counts of shape ``(max(n_codes), n_columns)``; row ``c`` counts code ``c`` and columns
    with fewer categories are padded with zero rows.

    Examples
    --------
    >>> code_counts(np.array([[0, 1], [2, -1], [0, 0]]), [3, 2])
    array([[2, 1],
           [0, 1],
           [1, 0]])
    """
    arr = np.asarray(codes)
    if not np.issubdtype(arr.dtype, np.integer):
        raise InvalidInputError(f"codes must be integers, got dtype {arr.dtype}", field="codes")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InvalidInputError(
            f"codes must be 1-D or 2-D (rows, columns), got {arr.ndim} dimensions", field="codes"
        )
    k = arr.shape[1]
    sizes = np.asarray(n_codes, dtype=np.int64).reshape(-1)
    if sizes.shape != (k,) or (sizes < 0).any():
        raise InvalidInputError(
            f"n_codes must hold one count >= 0 per column ({k}), got {sizes.tolist()}",
            field="n_codes",
        )
    if arr.size and ((arr < -1) | (arr >= sizes)).any():
        raise InvalidInputError(
            "codes must be -1 (missing) or in [0, n_codes[j]) for column j", field="codes"
        )
    width = int(sizes.max(initial=0))
    stride = width + 1  # slot 0 receives the missing values
    flat = (arr.astype(np.intp) + 1) + np.arange(k, dtype=np.intp) * stride
    counts = np.bincount(flat.ravel(), minlength=k * stride).reshape(k, stride)
    return np.ascontiguousarray(counts[:, 1:].T, dtype=np.int64)


__all__ = [
    "SortedColumns",
    "as_sorted",
    "bin_counts",
    "code_counts",
    "distinct_edges",
    "quantile_edges",
    "sort_columns",
    "valid_column",
]
