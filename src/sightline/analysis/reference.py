"""The reference side, prepared once: encoded, sorted, binned and summarised.

:func:`fit_reference` does every reference-only computation (sorting, quantile edges,
vocabularies, ranges) so that :func:`sightline.compare` and each window of
:func:`sightline.analyze` only do the current side's share of the work.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from sightline.stats._binning import SortedColumns, bin_counts, quantile_edges

#: Roles whose columns are checked for drift and data quality.
MONITORED_ROLES = ("feature", "prediction", "probability", "target")


@dataclass(frozen=True, slots=True)
class Side:
    """One side (reference or a current window) encoded for the statistics.

    Numeric columns are sorted (each column on its own; rows are not aligned) and
    categorical columns are counted: every statistic here works on sorted values or on
    counts. Row-aligned work (multivariate drift, performance) reads the table itself.
    """

    n_rows: int
    numeric: NumericBlock
    categorical: CategoricalBlock

    @property
    def sorted(self) -> SortedColumns:
        """The numeric columns, sorted."""
        return self.numeric.sorted_columns()


def encode_side(
    table: pa.Table,
    numeric: Sequence[str],
    categorical: Sequence[str],
    vocabularies: Sequence[tuple[str, ...]],
) -> Side:
    """Sort the numeric and count the categorical columns of ``table``."""
    return Side(
        table.num_rows,
        encode_numeric(table, numeric, sort=True),
        encode_categorical(table, categorical, vocabularies),
    )


@dataclass(frozen=True, slots=True)
class FittedReference:
    """Everything about the reference that windows are compared with."""

    schema: Schema
    table: pa.Table
    side: Side
    edges: list[FloatArray]
    bins: IntArray  # (n_bins, k_numeric) reference counts on ``edges``
    low: FloatArray
    high: FloatArray
    constant: BoolArray  # numeric columns, then categorical columns

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

    def encode(self, table: pa.Table) -> Side:
        """Encode a current table on this reference's columns and vocabularies.

        Monitored columns missing from ``table`` are left out.
        """
        present = set(table.column_names)
        num = [n for n in self.numeric_names if n in present]
        cat_idx = [j for j, n in enumerate(self.categorical_names) if n in present]
        cat = [self.categorical_names[j] for j in cat_idx]
        return encode_side(table, num, cat, [self.vocabularies[j] for j in cat_idx])


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
    vocabs = [vocabulary(table.column(n)) for n in cat_names]
    side = encode_side(table, num_names, cat_names, vocabs)
    sorted_cols = side.sorted
    edges = quantile_edges(sorted_cols, n_bins)
    low, high = _ranges(sorted_cols)
    return FittedReference(
        schema=schema,
        table=table,
        side=side,
        edges=edges,
        bins=bin_counts(sorted_cols, edges),
        low=low,
        high=high,
        constant=np.concatenate([quality.is_constant(sorted_cols), side.categorical.constant]),
    )


def _ranges(sorted_cols: SortedColumns) -> tuple[FloatArray, FloatArray]:
    """Smallest and largest value of each column (NaN for a column without values)."""
    values, n_valid = sorted_cols.values, sorted_cols.n_valid
    low = np.full(values.shape[1], np.nan)
    high = np.full(values.shape[1], np.nan)
    cols = np.flatnonzero(n_valid > 0)
    low[cols] = values[0, cols]
    high[cols] = values[n_valid[cols] - 1, cols]
    return low, high


__all__ = ["MONITORED_ROLES", "FittedReference", "Side", "encode_side", "fit_reference"]
