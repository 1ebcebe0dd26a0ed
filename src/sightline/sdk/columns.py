"""Logged rows into column arrays for a profile, counting what does not fit the schema.

A numeric cell that is not a number (a string, a list) becomes NaN and is counted as
invalid; a categorical cell becomes its text; a key the schema lacks is counted by name.
Nothing here raises on bad data: bad data is a data-quality fact, not an error.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from sightline.profile import Schema


@dataclass
class Columns:
    """One batch as the profile wants it: arrays per column, invalid counts per numeric
    column, and the keys the schema does not have (counted by name)."""

    values: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    n_invalid: dict[str, int] = field(default_factory=dict)
    unknown: Counter[str] = field(default_factory=Counter)


def _number(value: object) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if value is None:
        return math.nan
    try:
        return float(value)  # type: ignore[arg-type]  # numpy scalars, Decimal
    except (TypeError, ValueError):
        raise _Invalid from None


class _Invalid(Exception):
    pass


def numeric(cells: Sequence[object] | npt.NDArray[Any]) -> tuple[npt.NDArray[np.float64], int]:
    """Cells as floats (None -> NaN) and how many were not numbers (also NaN).

    >>> numeric([1, 2.5, None, "x"])
    (array([1. , 2.5, nan, nan]), 1)
    """
    try:
        return np.array(cells, dtype=np.float64), 0
    except (TypeError, ValueError):
        pass
    out = np.empty(len(cells), dtype=np.float64)
    invalid = 0
    for i, cell in enumerate(cells):
        try:
            out[i] = _number(cell)
        except _Invalid:
            out[i] = math.nan
            invalid += 1
    return out, invalid


def categorical(cells: Sequence[object]) -> npt.NDArray[np.object_]:
    """Cells as text (None and NaN stay missing).

    >>> categorical(["a", 1, None, float("nan")]).tolist()
    ['a', '1', None, None]
    """
    out = np.empty(len(cells), dtype=object)
    for i, cell in enumerate(cells):
        if cell is None or (isinstance(cell, float) and math.isnan(cell)):
            out[i] = None
        else:
            out[i] = cell if isinstance(cell, str) else str(cell)
    return out


def from_rows(
    schema: Schema, rows: Sequence[Mapping[str, Any]], extra: Mapping[str, Sequence[Any]]
) -> Columns:
    """The columns of ``rows`` (feature dicts) plus ``extra`` columns (prediction,
    probability) given whole.

    >>> from sightline.profile import Column
    >>> s = Schema((Column("x"), Column("c", kind="categorical")))
    >>> cols = from_rows(s, [{"x": 1, "c": "a"}, {"x": "bad", "zzz": 3}], {})
    >>> cols.values["x"].tolist(), cols.n_invalid, dict(cols.unknown)
    ([1.0, nan], {'x': 1}, {'zzz': 1})
    """
    out = Columns()
    names = set(schema.names())
    for row in rows:
        for key in row:
            if key not in names:
                out.unknown[key] += 1
    for column in schema.columns:
        if column.name in extra:
            cells: Sequence[Any] = extra[column.name]
        else:
            cells = [row.get(column.name) for row in rows]
        if column.kind == "numeric":
            values, invalid = numeric(cells)
            out.values[column.name] = values
            if invalid:
                out.n_invalid[column.name] = invalid
        else:
            out.values[column.name] = categorical(cells)
    return out


def from_arrays(schema: Schema, arrays: Mapping[str, Any], n: int) -> Columns:
    """The columns of a batch given column-wise (a dict of sequences or arrays)."""
    out = Columns()
    for key in arrays:
        if key not in schema:
            out.unknown[key] += n
    for column in schema.columns:
        cells = arrays.get(column.name)
        if cells is None:
            continue
        seq = cells.tolist() if isinstance(cells, np.ndarray) and cells.dtype == object else cells
        if column.kind == "numeric":
            values, invalid = numeric(seq if isinstance(seq, np.ndarray) else list(seq))
            out.values[column.name] = values
            if invalid:
                out.n_invalid[column.name] = invalid
        else:
            out.values[column.name] = categorical(list(seq))
    return out
