"""Logged rows into column arrays for a profile, counting what does not fit the schema.

A numeric cell that is not a number (a string, a list) becomes NaN and is counted as
invalid; a categorical cell becomes its text; a key the schema lacks is counted by name.
Nothing here raises on bad data: bad data is a data-quality fact, not an error.
"""

from __future__ import annotations

import math
import struct
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import starmap
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from sightline._types import ColumnKind
from sightline.profile import Schema
from sightline.profile.schema import probability_column

BLOCK_ROWS = 4096  # rows turned into floats at a time (20 columns: 640 KiB, in cache)


@dataclass
class Columns:
    """One batch as the profile wants it: float arrays per numeric column with their
    invalid counts, distinct texts with their counts per categorical column, and the keys
    the schema does not have (counted by name)."""

    values: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    n_invalid: dict[str, int] = field(default_factory=dict)
    counted: dict[str, tuple[list[str | None], npt.NDArray[np.int64]]] = field(default_factory=dict)
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


def categories(cells: Sequence[object]) -> tuple[list[str | None], npt.NDArray[np.int64]]:
    """The distinct cells as text (None and NaN missing), in order of first appearance,
    with how often each appears: one hash count when every cell is a text or None, a
    second one of the cells as text otherwise.

    >>> categories(["a", 1, "a", None, float("nan"), "1"])
    (['a', '1', None], array([2, 2, 2]))
    """
    tally: Counter[Any]
    try:
        tally = Counter(cells)
        texts = all(type(k) is str or k is None for k in tally)
    except TypeError:  # an unhashable cell (a list)
        texts = False
    if not texts:
        tally = Counter(categorical(cells))
    return list(tally), np.fromiter(tally.values(), np.int64, len(tally))


def categorical(cells: Sequence[object]) -> list[str | None]:
    """Cells as text (None and NaN stay missing).

    >>> categorical(["a", 1, None, float("nan")])
    ['a', '1', None, None]
    """
    return [
        None
        if cell is None or (isinstance(cell, float) and math.isnan(cell))
        else cell
        if isinstance(cell, str)
        else str(cell)
        for cell in cells
    ]


def texts(cells: Sequence[object]) -> npt.NDArray[Any]:
    """Text cells as the profile takes them: an object array of texts (None and NaN
    missing).

    >>> texts(["a b", 1, None]).tolist()
    ['a b', '1', None]
    """
    return np.array(categorical(cells), dtype=object)


def vectors(cells: Sequence[Any] | npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Embedding cells as the profile takes them: a numeric 2-D array as it is, anything
    else (lists, arrays, None) as a 1-D object array of the cells.

    >>> vectors([[1.0, 2.0], None]).shape, vectors(np.zeros((3, 2))).shape
    ((2,), (3, 2))
    """
    if isinstance(cells, np.ndarray) and cells.dtype.kind in "fiub" and cells.ndim == 2:
        return cells
    out = np.empty(len(cells), dtype=object)
    for i, cell in enumerate(cells):
        out[i] = cell
    return out


def kind_of(value: Any) -> ColumnKind:
    """The kind of a column inferred from one logged value: a number is numeric, a vector
    of numbers (a list, tuple or 1-D array of at least two) an embedding, anything else
    categorical.

    >>> kind_of(3), kind_of([0.1, 0.2]), kind_of(np.zeros(4)), kind_of("a")
    ('numeric', 'embedding', 'embedding', 'categorical')
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "numeric"
    if isinstance(value, np.ndarray):
        vector = value.ndim == 1 and value.size > 1 and value.dtype.kind in "fiu"
        return "embedding" if vector else "categorical"
    numbers = isinstance(value, list | tuple) and len(value) > 1
    if numbers and all(_is_number(v) for v in value):
        return "embedding"
    return "categorical"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool)


def from_rows(
    schema: Schema, rows: Sequence[Mapping[str, Any]], extra: Mapping[str, Sequence[Any]]
) -> Columns:
    """The columns of ``rows`` (feature dicts) plus ``extra`` columns (prediction,
    probability) given whole.

    The common case (every row a dict with exactly the schema's keys, numbers where the
    schema says numeric) runs in C: one ``itemgetter`` and one ``struct.pack`` call per
    row for the numbers, one ``itemgetter`` pass and one hash count per other column;
    anything else takes a slower path per cell.

    >>> from sightline.profile import Column
    >>> s = Schema((Column("x"), Column("c", kind="categorical")))
    >>> cols = from_rows(s, [{"x": 1, "c": "a"}, {"x": "bad", "zzz": 3}], {})
    >>> cols.values["x"].tolist(), cols.n_invalid, dict(cols.unknown)
    ([1.0, nan], {'x': 1}, {'zzz': 1})
    >>> dict(from_rows(s, [{"x": 1, "k": "a"}], {}).unknown)  # numbers fine, a key misspelt
    {'k': 1}
    """
    out = Columns()
    numeric_names = [c.name for c in schema.columns if c.kind == "numeric" and c.name not in extra]
    other_names = [c.name for c in schema.columns if c.kind != "numeric" and c.name not in extra]
    fast = _fast_numeric(rows, numeric_names, len(numeric_names) + len(other_names))
    if fast is not None:
        out.values.update(fast)
    cells = dict(extra)
    rest = other_names if fast is not None else numeric_names + other_names
    transposed, regular = _transpose(rows, rest)
    cells.update(zip(rest, transposed, strict=True))
    if fast is None or not regular:  # irregular rows: count the keys the schema lacks
        out.unknown.update(_unknown_keys(rows, set(numeric_names) | set(other_names)))
    for column in schema.columns:
        if column.name not in cells:
            continue
        if column.kind == "numeric":
            values, invalid = numeric(cells[column.name])
            out.values[column.name] = values
            if invalid:
                out.n_invalid[column.name] = invalid
        elif column.kind == "embedding":
            out.values[column.name] = vectors(cells[column.name])
        elif column.kind == "text":
            out.values[column.name] = texts(cells[column.name])
        else:
            out.counted[column.name] = categories(cells[column.name])
    return out


def _fast_numeric(
    rows: Sequence[Mapping[str, Any]], names: list[str], width: int
) -> dict[str, npt.NDArray[np.float64]] | None:
    """The numeric columns as one float matrix when every row is a dict of exactly the
    schema's keys holding numbers; else None (the caller then reads cell by cell: None,
    numeric text).

    A row's cells become C doubles with one ``struct`` call (``float()`` of each, as the
    per-cell path does), which skips an iterator step and a numpy store per cell."""
    if not names or not rows:
        return None
    n, m = len(rows), len(names)
    get = itemgetter(*names) if m > 1 else lambda row: (row[names[0]],)
    pack = struct.Struct(f"{m}d").pack  # the m cells of a row as C doubles, in one call
    out = np.empty((m, n), dtype=np.float64)
    try:
        if set(map(len, rows)) != {width}:
            return None
        for start in range(0, n, BLOCK_ROWS):  # a block's transposition stays in cache
            block = rows[start : start + BLOCK_ROWS]
            flat = np.frombuffer(b"".join(starmap(pack, map(get, block))), dtype=np.float64)
            out[:, start : start + len(block)] = flat.reshape(len(block), m).T
    except (KeyError, TypeError, ValueError, struct.error):
        return None
    return dict(zip(names, out, strict=True))


def _unknown_keys(rows: Sequence[Mapping[str, Any]], names: set[str]) -> Counter[str]:
    return Counter(k for row in rows if isinstance(row, Mapping) for k in row if k not in names)


def _transpose(rows: Sequence[Mapping[str, Any]], names: list[str]) -> tuple[list[list[Any]], bool]:
    """The values of ``names`` in each row, column by column (None where a row lacks one
    or is not a mapping), and whether every row had them all: one pass over the rows per
    name, which beats a pass of ``itemgetter(*names)`` and a transposition."""
    try:
        return [list(map(itemgetter(name), rows)) for name in names], True
    except (KeyError, TypeError):
        table = [
            get_each(row, names) if isinstance(row, Mapping) else (None,) * len(names)
            for row in rows
        ]
        return [list(column) for column in zip(*table, strict=True)], False


def get_each(row: Mapping[str, Any], names: list[str]) -> tuple[Any, ...]:
    """The values of ``names`` in ``row`` (None where absent)."""
    return tuple(row.get(n) for n in names)


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
        if column.kind == "embedding":
            out.values[column.name] = vectors(cells)
            continue
        seq = cells.tolist() if isinstance(cells, np.ndarray) and cells.dtype == object else cells
        if column.kind == "numeric":
            values, invalid = numeric(seq if isinstance(seq, np.ndarray) else list(seq))
            out.values[column.name] = values
            if invalid:
                out.n_invalid[column.name] = invalid
        elif column.kind == "text":
            out.values[column.name] = texts(list(seq))
        else:
            out.counted[column.name] = categories(list(seq))
    return out


def probability_columns(names: Sequence[str], values: Sequence[Any]) -> dict[str, Sequence[Any]]:
    """The schema's probability columns (``names``) filled from logged probabilities: a
    number goes to the first column; a mapping of class to probability (a multiclass
    model) to the column named after each class (the class, or a name ending in
    ``_<class>``).

    >>> probability_columns(["proba_a", "proba_b"], [0.3, {"a": 0.9, "b": 0.1}])
    {'proba_a': [0.3, 0.9], 'proba_b': [None, 0.1]}
    """
    if not names:
        return {}
    if not any(isinstance(q, Mapping) for q in values):
        return {names[0]: values}
    out: dict[str, list[Any]] = {name: [None] * len(values) for name in names}
    for i, q in enumerate(values):
        if not isinstance(q, Mapping):
            out[names[0]][i] = q
            continue
        for label, p in q.items():
            name = probability_column(names, str(label))
            if name is not None:
                out[name][i] = p
    return dict(out)
