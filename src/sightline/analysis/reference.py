"""The reference side, prepared once: encoded, sorted, binned and summarised.

:func:`fit_reference` does every reference-only computation (sorting, quantile edges,
vocabularies, ranges) so that :func:`sightline.compare` and each window of
:func:`sightline.analyze` only do the current side's share of the work.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sightline._types import BoolArray, FloatArray, IntArray
from sightline.analysis.columns import (
    CategoricalBlock,
    NumericBlock,
    encode_categorical,
    encode_numeric,
    vocabulary,
)
from sightline.profile.schema import Schema
from sightline.stats import quality
from sightline.stats._binning import bin_counts, code_counts, quantile_edges
from sightline.stats.drift import SortedColumns

#: Roles whose columns are checked for drift and data quality.
MONITORED_ROLES = ("feature", "prediction", "probability", "target")

_WORKERS = 2


@dataclass(frozen=True, slots=True)
class Side:
    """One side (reference or a current window) encoded for the statistics.

    The numeric values are sorted column by column, in place (``sorted`` shares the buffer
    of ``numeric.values``): every statistic here works on sorted columns, and one sort per
    column is the largest cost of a comparison. Row-aligned work (multivariate drift,
    performance) reads the table itself.
    """

    n_rows: int
    numeric: NumericBlock
    categorical: CategoricalBlock
    sorted: SortedColumns

    @property
    def n_valid_numeric(self) -> IntArray:
        """Non-missing values per numeric column."""
        return self.sorted.n_valid

    @property
    def n_valid_categorical(self) -> IntArray:
        """Non-missing values per categorical column."""
        return np.asarray((self.categorical.codes >= 0).sum(axis=0), dtype=np.int64)


@dataclass(frozen=True, slots=True)
class FittedReference:
    """Everything about the reference that windows are compared with."""

    schema: Schema
    table: pa.Table
    side: Side
    edges: list[FloatArray]
    bins: IntArray  # (n_bins, k_numeric) reference counts on ``edges``
    categories: IntArray  # (max vocabulary + 1, k_categorical) reference counts
    low: FloatArray
    high: FloatArray
    constant: BoolArray

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

    def n_codes(self) -> list[int]:
        """Codes per categorical column: the vocabulary plus one "unseen" code."""
        return [len(v) + 1 for v in self.vocabularies]

    def encode(self, table: pa.Table, names: Sequence[str] | None = None) -> Side:
        """Encode a current table on this reference's columns and vocabularies.

        ``names`` restricts the columns to those present in ``table``.
        """
        present = set(table.column_names) if names is None else set(names)
        num = [n for n in self.numeric_names if n in present]
        cat_idx = [j for j, n in enumerate(self.categorical_names) if n in present]
        cat = [self.categorical_names[j] for j in cat_idx]
        vocabs = [self.vocabularies[j] for j in cat_idx]
        numeric = encode_numeric(table, num)
        return Side(
            table.num_rows,
            numeric,
            encode_categorical(table, cat, vocabs),
            sort_in_place(numeric.values),
        )


def fit_reference(table: pa.Table, schema: Schema, *, n_bins: int = 10) -> FittedReference:
    """Encode, sort, bin and summarise the monitored columns of the reference.

    Examples
    --------
    >>> from sightline.analysis.columns import infer_schema
    >>> t = pa.table({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "a"]})
    >>> ref = fit_reference(t, infer_schema(t), n_bins=2)
    >>> ref.edges[0].tolist(), ref.vocabularies
    ([2.5], (('a', 'b'),))
    """
    monitored = [c for c in schema.columns if c.role in MONITORED_ROLES]
    num_names = [c.name for c in monitored if c.kind == "numeric"]
    cat_names = [c.name for c in monitored if c.kind == "categorical"]
    numeric = encode_numeric(table, num_names)
    vocabs = [vocabulary(table.column(n)) for n in cat_names]
    categorical = encode_categorical(table, cat_names, vocabs)
    sorted_cols = sort_in_place(numeric.values)
    side = Side(table.num_rows, numeric, categorical, sorted_cols)
    edges = quantile_edges(sorted_cols, n_bins)
    n_codes = [len(v) + 1 for v in vocabs]
    low, high = _ranges(sorted_cols)
    return FittedReference(
        schema=schema,
        table=table,
        side=side,
        edges=edges,
        bins=bin_counts(sorted_cols, edges),
        categories=code_counts(categorical.codes, n_codes),
        low=low,
        high=high,
        constant=np.concatenate(
            [quality.is_constant(sorted_cols), codes_constant(categorical.codes)]
        ),
    )


def sort_in_place(values: FloatArray) -> SortedColumns:
    """Sort every column of a Fortran-ordered matrix in place (NaN last), on both cores.

    numpy's sort releases the GIL, so two threads sort two columns at once.
    """
    out = values
    n_valid = np.zeros(out.shape[1], dtype=np.int64)

    def sort_column(j: int) -> None:
        col = out[:, j]
        col.sort()
        n_valid[j] = int(np.searchsorted(col, np.nan))  # NaN sorts last

    if out.shape[1] > 1:
        with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            list(pool.map(sort_column, range(out.shape[1])))
    elif out.shape[1] == 1:
        sort_column(0)
    return SortedColumns(values=out, n_valid=n_valid)


def _ranges(sorted_cols: SortedColumns) -> tuple[FloatArray, FloatArray]:
    values, n_valid = sorted_cols.values, sorted_cols.n_valid
    k = values.shape[1]
    low = np.full(k, np.nan)
    high = np.full(k, np.nan)
    has = n_valid > 0
    cols = np.flatnonzero(has)
    low[cols] = values[0, cols]
    high[cols] = values[n_valid[cols] - 1, cols]
    return low, high


def codes_constant(codes: IntArray) -> BoolArray:
    """True for categorical columns with exactly one distinct non-missing code."""
    if codes.shape[0] == 0:
        return np.zeros(codes.shape[1], dtype=bool)
    top = codes.max(axis=0)
    low = np.where(codes >= 0, codes, np.iinfo(np.int64).max).min(axis=0)
    return np.asarray((top == low) & (top >= 0), dtype=bool)


__all__ = [
    "MONITORED_ROLES",
    "FittedReference",
    "Side",
    "codes_constant",
    "fit_reference",
    "sort_in_place",
]
