"""The reference side, prepared once: sorted, binned and summarised, column by column.

:func:`fit_reference` does every reference-only computation (sorting, quantile edges,
vocabularies, ranges) so that each window of :func:`sightline.analyze` only does the
current side's share of the work (:meth:`FittedReference.encode`). :func:`fit_and_encode`
does both for a single window (:func:`sightline.compare`) in one pass.

Numeric columns are sorted one at a time, each in a scratch buffer that its thread reuses,
and summarised there; only a reference fitted for many windows keeps its sorted columns
(one matrix). Fresh memory is slow to touch the first time, so reusing the buffers is
faster than keeping every sorted column, as well as smaller.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import numpy as np
import pyarrow as pa

from sightline._types import BoolArray, FloatArray, IntArray
from sightline.analysis.columns import (
    CategoricalBlock,
    ColumnCounts,
    encode_categorical,
    encode_column,
    in_parallel,
    map_columns,
    scratch_buffer,
    vocabulary,
)
from sightline.profile.dataset import MONITORED_ROLES
from sightline.profile.schema import Schema
from sightline.stats import quality
from sightline.stats._binning import SortedColumns, bin_counts, quantile_edges

T = TypeVar("T")

#: A statistic of one numeric column from both sides' sorted values:
#: ``(column name, reference, current) -> result``.
PairStat = Callable[[str, SortedColumns, SortedColumns], T]


@dataclass(frozen=True, slots=True)
class NumericSummary:
    """The numeric columns of one side, counted on the reference's bin edges and range."""

    names: tuple[str, ...]
    n_missing: IntArray  # (k,) nulls and NaN in the input
    n_inf: IntArray  # (k,)
    n_invalid: IntArray  # (k,) values that are not numbers
    n_valid: IntArray  # (k,)
    bins: IntArray  # (max bins, k) counts on the reference edges
    out_of_range: FloatArray  # (k,) share of the values outside the reference range
    constant: BoolArray  # (k,)


@dataclass(frozen=True, slots=True)
class Side:
    """One side (the reference or a current window) summarised for the statistics.

    Every statistic here works on these counts or, while a column is sorted, on its sorted
    values (:data:`PairStat`). Row-aligned work (multivariate drift, performance) reads
    the table itself.
    """

    n_rows: int
    numeric: NumericSummary
    categorical: CategoricalBlock


class _Column(NamedTuple):
    """One numeric column summarised from its sorted values."""

    counts: ColumnCounts
    n_valid: int
    bins: IntArray
    out_of_range: float
    constant: bool


class _ReferenceColumn(NamedTuple):
    """One reference column: its bin edges, its range and its summary."""

    edges: FloatArray
    low: float  # NaN without values
    high: float
    summary: _Column


def _sort(column: pa.ChunkedArray, out: FloatArray) -> tuple[SortedColumns, ColumnCounts]:
    counts = encode_column(column, out, sort=True)
    return SortedColumns(out[:, None], np.array([out.size - sum(counts)], dtype=np.int64)), counts


def _summarise(
    s: SortedColumns, counts: ColumnCounts, edges: FloatArray, low: float, high: float
) -> _Column:
    if math.isnan(low):  # no reference values: no range
        low, high = -math.inf, math.inf
    return _Column(
        counts,
        int(s.n_valid[0]),
        bin_counts(s, [edges])[:, 0],
        float(quality.out_of_range_share(s, low, high)[0]),
        bool(quality.is_constant(s)[0]),
    )


def _fit_column(
    column: pa.ChunkedArray, out: FloatArray, n_bins: int
) -> tuple[SortedColumns, _ReferenceColumn]:
    """Sort a reference column into ``out`` and summarise it."""
    s, counts = _sort(column, out)
    edges = quantile_edges(s, n_bins)[0]
    n = int(s.n_valid[0])
    low, high = (float(out[0]), float(out[n - 1])) if n else (np.nan, np.nan)
    return s, _ReferenceColumn(edges, low, high, _summarise(s, counts, edges, low, high))


def _window_column(
    name: str,
    column: pa.ChunkedArray,
    out: FloatArray,
    ref_sorted: SortedColumns,
    ref: tuple[FloatArray, float, float],
    pair_stat: PairStat[T],
) -> tuple[_Column, T]:
    """Sort a current column into ``out``, summarise it on the reference's ``(edges, low,
    high)`` and run ``pair_stat``."""
    s, counts = _sort(column, out)
    return _summarise(s, counts, *ref), pair_stat(name, ref_sorted, s)


def _numeric_summary(names: Sequence[str], columns: Sequence[_Column]) -> NumericSummary:
    counts = np.array([(*c.counts, c.n_valid) for c in columns], dtype=np.int64).reshape(-1, 4)
    bins = np.zeros((max((c.bins.size for c in columns), default=1), len(columns)), np.int64)
    for j, c in enumerate(columns):
        bins[: c.bins.size, j] = c.bins
    return NumericSummary(
        names=tuple(names),
        n_missing=counts[:, 0],
        n_inf=counts[:, 1],
        n_invalid=counts[:, 2],
        n_valid=counts[:, 3],
        bins=bins,
        out_of_range=np.array([c.out_of_range for c in columns], dtype=np.float64),
        constant=np.array([c.constant for c in columns], dtype=bool),
    )


@dataclass(frozen=True, slots=True)
class FittedReference:
    """Everything about the reference that windows are compared with.

    ``sorted`` holds the sorted numeric columns when the reference serves any number of
    windows (:func:`fit_reference`), and is ``None`` when it was fitted together with its
    only window (:func:`fit_and_encode`).
    """

    schema: Schema
    table: pa.Table
    side: Side
    edges: list[FloatArray]
    low: FloatArray
    high: FloatArray
    sorted: SortedColumns | None

    @property
    def numeric_names(self) -> tuple[str, ...]:
        """Monitored numeric columns, in schema order."""
        return self.side.numeric.names

    @property
    def categorical_names(self) -> tuple[str, ...]:
        """Monitored categorical columns, in schema order."""
        return self.side.categorical.names

    @property
    def vocabularies(self) -> tuple[tuple[str, ...], ...]:
        """Reference categories of each categorical column."""
        return self.side.categorical.vocabularies

    @property
    def bins(self) -> IntArray:
        """Reference counts on ``edges``, shape ``(max bins, k_numeric)``."""
        return self.side.numeric.bins

    @property
    def constant(self) -> BoolArray:
        """Constant columns: numeric columns, then categorical columns."""
        return np.concatenate([self.side.numeric.constant, self.side.categorical.constant])

    def encode(self, table: pa.Table, pair_stat: PairStat[T]) -> tuple[Side, list[T]]:
        """Summarise a current table on this reference's columns, edges and vocabularies.

        Each numeric column is sorted in a scratch buffer of its thread and summarised
        there; ``pair_stat`` runs on it and the sorted reference column, and its results
        come back in column order. Monitored columns missing from ``table`` are left out.
        """
        if self.sorted is None:
            raise ValueError("this reference was fitted with its only window (fit_and_encode)")
        ref = self.sorted
        present = set(table.column_names)
        num_idx = [i for i, n in enumerate(self.numeric_names) if n in present]
        cat_idx = [j for j, n in enumerate(self.categorical_names) if n in present]
        scratch = threading.local()

        def column(j: int) -> tuple[_Column, T]:
            i = num_idx[j]
            return _window_column(
                self.numeric_names[i],
                table.column(self.numeric_names[i]),
                scratch_buffer(scratch, table.num_rows),
                SortedColumns(ref.values[:, i : i + 1], ref.n_valid[i : i + 1]),
                (self.edges[i], float(self.low[i]), float(self.high[i])),
                pair_stat,
            )

        done, categorical = in_parallel(
            lambda: map_columns(column, len(num_idx), table.num_rows),
            lambda: encode_categorical(
                table,
                [self.categorical_names[j] for j in cat_idx],
                [self.vocabularies[j] for j in cat_idx],
            ),
            table.num_rows,
        )
        numeric = _numeric_summary([self.numeric_names[i] for i in num_idx], [c for c, _ in done])
        return Side(table.num_rows, numeric, categorical), [stat for _, stat in done]


def _monitored(schema: Schema) -> tuple[list[str], list[str]]:
    """Names of the monitored numeric and categorical columns, in schema order."""
    monitored = [c for c in schema.columns if c.role in MONITORED_ROLES]
    return (
        [c.name for c in monitored if c.kind == "numeric"],
        [c.name for c in monitored if c.kind == "categorical"],
    )


def _categorical(table: pa.Table, names: Sequence[str]) -> CategoricalBlock:
    """The reference's categorical columns counted on their own vocabularies."""
    return encode_categorical(table, names, [vocabulary(table.column(n)) for n in names])


def _fitted(
    schema: Schema,
    table: pa.Table,
    names: Sequence[str],
    columns: Sequence[_ReferenceColumn],
    categorical: CategoricalBlock,
    sorted_cols: SortedColumns | None,
) -> FittedReference:
    numeric = _numeric_summary(names, [c.summary for c in columns])
    return FittedReference(
        schema=schema,
        table=table,
        side=Side(table.num_rows, numeric, categorical),
        edges=[c.edges for c in columns],
        low=np.array([c.low for c in columns], dtype=np.float64),
        high=np.array([c.high for c in columns], dtype=np.float64),
        sorted=sorted_cols,
    )


def fit_reference(
    table: pa.Table,
    schema: Schema,
    *,
    n_bins: int = 10,
) -> FittedReference:
    """Sort, bin and summarise the monitored columns of the reference, for many windows.

    Examples
    --------
    >>> from sightline.analysis.columns import infer_schema
    >>> t = pa.table({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "a"]})
    >>> ref = fit_reference(t, infer_schema(t), n_bins=2)
    >>> ref.edges[0].tolist(), ref.vocabularies
    ([2.5], (('a', 'b'),))
    """
    num_names, cat_names = _monitored(schema)
    values = np.empty((table.num_rows, len(num_names)), dtype=np.float64, order="F")

    def column(j: int) -> _ReferenceColumn:
        name = num_names[j]
        return _fit_column(table.column(name), values[:, j], n_bins)[1]

    columns, categorical = in_parallel(
        lambda: map_columns(column, len(num_names), table.num_rows),
        lambda: _categorical(table, cat_names),
        table.num_rows,
    )
    n_valid = np.array([c.summary.n_valid for c in columns], dtype=np.int64)
    return _fitted(schema, table, num_names, columns, categorical, SortedColumns(values, n_valid))


def fit_and_encode(
    reference: pa.Table,
    current: pa.Table,
    schema: Schema,
    pair_stat: PairStat[T],
    *,
    n_bins: int = 10,
) -> tuple[FittedReference, Side, list[T]]:
    """:func:`fit_reference` and its :meth:`~FittedReference.encode` of one window, in one pass.

    Each reference column is sorted in a scratch buffer beside the current column, and
    nothing sorted is kept.

    Examples
    --------
    >>> from sightline.analysis.columns import infer_schema
    >>> ref, cur = pa.table({"x": [1.0, 2.0, 3.0, 4.0]}), pa.table({"x": [3.0, 4.0, 5.0]})
    >>> fitted, side, stats = fit_and_encode(
    ...     ref, cur, infer_schema(ref), lambda name, r, c: float(c.values[0, 0]), n_bins=2
    ... )
    >>> fitted.edges[0].tolist(), side.numeric.bins[:, 0].tolist(), stats
    ([2.5], [0, 3], [3.0])
    """
    num_names, cat_names = _monitored(schema)
    present = set(current.column_names)
    ref_scratch, cur_scratch = threading.local(), threading.local()

    def column(j: int) -> tuple[_ReferenceColumn, tuple[_Column, T] | None]:
        name = num_names[j]
        ref_sorted, fitted = _fit_column(
            reference.column(name),
            scratch_buffer(ref_scratch, reference.num_rows),
            n_bins,
        )
        if name not in present:
            return fitted, None
        out = scratch_buffer(cur_scratch, current.num_rows)
        ref = (fitted.edges, fitted.low, fitted.high)
        return fitted, _window_column(name, current.column(name), out, ref_sorted, ref, pair_stat)

    def categorical() -> tuple[CategoricalBlock, CategoricalBlock]:
        ref_cats = _categorical(reference, cat_names)
        idx = [j for j, n in enumerate(cat_names) if n in present]
        vocabularies = [ref_cats.vocabularies[j] for j in idx]
        return ref_cats, encode_categorical(current, [cat_names[j] for j in idx], vocabularies)

    n_rows = max(reference.num_rows, current.num_rows)
    done, (ref_cats, cur_cats) = in_parallel(
        lambda: map_columns(column, len(num_names), n_rows), categorical, n_rows
    )
    fitted = _fitted(schema, reference, num_names, [f for f, _ in done], ref_cats, None)
    windows = [(name, w) for name, (_, w) in zip(num_names, done, strict=True) if w is not None]
    numeric = _numeric_summary([name for name, _ in windows], [c for _, (c, _) in windows])
    side = Side(current.num_rows, numeric, cur_cats)
    return fitted, side, [stat for _, (_, stat) in windows]


__all__ = [
    "MONITORED_ROLES",
    "FittedReference",
    "NumericSummary",
    "PairStat",
    "Side",
    "fit_and_encode",
    "fit_reference",
]
