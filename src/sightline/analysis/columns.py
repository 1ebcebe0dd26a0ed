"""Schema inference and the encoding of Arrow columns into numpy arrays.

Numeric columns become one float64 matrix (NaN = missing, infinity or a value of the wrong
type, each counted); categorical columns become integer codes on the reference vocabulary
(``-1`` = missing, ``len(vocabulary)`` = a category unseen in the reference).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sightline._types import ColumnKind, FloatArray, IntArray, Role
from sightline.analysis.frames import as_text, is_numeric_type, is_time_type
from sightline.errors import SchemaError
from sightline.profile.schema import Column, Schema

#: Integer columns with at most this many distinct reference values are categorical.
MAX_INT_CATEGORIES = 5

#: Column names taken as a role when no role is given explicitly.
ROLE_NAMES: Mapping[Role, tuple[str, ...]] = {
    "target": ("target", "y_true", "label", "actual"),
    "prediction": ("prediction", "y_pred", "pred", "predicted"),
    "id": ("id", "prediction_id", "request_id"),
    "timestamp": ("timestamp", "ts", "event_time"),
}

_NUMBER = r"^\s*[-+]?((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|inf|infinity|nan)\s*$"


def infer_schema(
    table: pa.Table,
    *,
    roles: Mapping[str, Role] | None = None,
    kinds: Mapping[str, ColumnKind] | None = None,
) -> Schema:
    """Infer roles and kinds of the columns of a reference table.

    Roles given in ``roles`` win; otherwise a column is a target, prediction, id or timestamp
    when its name is one of :data:`ROLE_NAMES` (case-insensitive), a probability when its name
    starts with ``proba``/``prob_``/``y_pred_proba``, and a feature otherwise. Kinds given in
    ``kinds`` win; otherwise strings, booleans and dictionaries are categorical, integer columns
    with at most :data:`MAX_INT_CATEGORIES` distinct values are categorical, other numbers are
    numeric.

    Examples
    --------
    >>> t = pa.table({"age": [30.5, 41.0], "city": ["a", "b"], "target": [0, 1]})
    >>> [(c.name, c.role, c.kind) for c in infer_schema(t).columns]
    [('age', 'feature', 'numeric'), ('city', 'feature', 'categorical'),
     ('target', 'target', 'categorical')]
    """
    roles = dict(roles or {})
    kinds = dict(kinds or {})
    unknown = sorted((set(roles) | set(kinds)) - set(table.column_names))
    if unknown:
        raise SchemaError(
            f"columns named in the schema options are not in the reference: {unknown}"
        )
    taken = set(roles.values())
    columns = []
    for name in table.column_names:
        role = roles.get(name) or _role_from_name(name, taken)
        if name not in roles and role == "feature" and is_time_type(table.column(name).type):
            role = "timestamp" if "timestamp" not in taken else "id"
        if role in ("target", "prediction", "id", "timestamp"):
            taken.add(role)
        col = table.column(name)
        kind = kinds.get(name) or _kind_of(col, role)
        columns.append(Column(name, role=role, kind=kind))
    return Schema(tuple(columns))


def _role_from_name(name: str, taken: set[Role]) -> Role:
    lowered = name.lower()
    for role, names in ROLE_NAMES.items():
        if lowered in names and role not in taken:
            return role
    if lowered.startswith(("proba", "prob_", "y_pred_proba")):
        return "probability"
    return "feature"


def _kind_of(column: pa.ChunkedArray, role: Role) -> ColumnKind:
    t = column.type
    if role == "probability" or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "numeric"
    if pa.types.is_integer(t):
        distinct = pc.count_distinct(column).as_py()
        return "categorical" if distinct <= MAX_INT_CATEGORIES else "numeric"
    return "categorical"


@dataclass(frozen=True, slots=True)
class NumericBlock:
    """Numeric columns of one side as a float matrix, with counts of what was set to NaN."""

    names: tuple[str, ...]
    values: FloatArray  # (n, k); NaN = missing, infinite or not a number
    n_missing: IntArray  # (k,) nulls and NaN in the input
    n_inf: IntArray  # (k,)
    n_invalid: IntArray  # (k,) values that are not numbers (type violations)


@dataclass(frozen=True, slots=True)
class CategoricalBlock:
    """Categorical columns of one side as codes on the reference vocabularies."""

    names: tuple[str, ...]
    codes: IntArray  # (n, k); -1 = missing, len(vocabulary) = unseen
    vocabularies: tuple[tuple[str, ...], ...]


def encode_numeric(table: pa.Table, names: Sequence[str]) -> NumericBlock:
    """Encode the numeric columns ``names`` of ``table`` as one float matrix.

    Examples
    --------
    >>> t = pa.table({"x": [1.0, None, float("inf")], "y": ["2", "oops", "3.5"]})
    >>> b = encode_numeric(t, ["x", "y"])
    >>> b.values.tolist(), b.n_inf.tolist(), b.n_invalid.tolist()
    ([[1.0, 2.0], [nan, nan], [nan, 3.5]], [1, 0], [0, 1])
    """
    n = table.num_rows
    values = np.empty((n, len(names)), dtype=np.float64, order="F")  # columns contiguous
    counts = np.zeros((3, len(names)), dtype=np.int64)
    for j, name in enumerate(names):
        raw, n_invalid = numeric_values(table.column(name))
        col = values[:, j]
        col[:] = raw
        inf = np.isinf(col)
        n_inf = int(np.count_nonzero(inf))
        if n_inf:
            col[inf] = np.nan
        n_nan = int(np.count_nonzero(np.isnan(col)))
        counts[:, j] = (n_nan - n_inf - n_invalid, n_inf, n_invalid)
    return NumericBlock(tuple(names), values, counts[0], counts[1], counts[2])


def numeric_values(column: pa.ChunkedArray) -> tuple[FloatArray, int]:
    """Float values of a column and the number of non-null values that are not numbers."""
    t = column.type
    if is_numeric_type(t) or pa.types.is_boolean(t):
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), 0
    text = as_text(column)
    ok = pc.match_substring_regex(text, _NUMBER, ignore_case=True)
    invalid = pc.and_(pc.invert(ok), pc.is_valid(text))
    n_invalid = int(pc.sum(invalid).as_py() or 0)
    cleaned = pc.if_else(ok, text, pa.scalar(None, pa.string()))
    cleaned = pc.utf8_trim_whitespace(cleaned)
    return pc.cast(cleaned, pa.float64()).to_numpy(zero_copy_only=False), n_invalid


def vocabulary(column: pa.ChunkedArray) -> tuple[str, ...]:
    """Sorted distinct non-null values of a column, as text."""
    if pa.types.is_dictionary(column.type):
        used = [
            pc.take(chunk.dictionary, pc.unique(chunk.indices).drop_null())
            for chunk in column.chunks
        ]
        column = pa.chunked_array(used, type=column.type.value_type)
    values = pc.unique(category_text(column)).drop_null()
    return tuple(sorted(values.to_pylist()))


def encode_categorical(
    table: pa.Table, names: Sequence[str], vocabularies: Sequence[tuple[str, ...]]
) -> CategoricalBlock:
    """Encode categorical columns as codes on the given vocabularies.

    Examples
    --------
    >>> t = pa.table({"c": ["b", None, "z", "a"]})
    >>> encode_categorical(t, ["c"], [("a", "b")]).codes.ravel().tolist()
    [1, -1, 2, 0]
    """
    codes = np.empty((table.num_rows, len(names)), dtype=np.int64, order="F")
    for j, (name, vocab) in enumerate(zip(names, vocabularies, strict=True)):
        column = table.column(name)
        if pa.types.is_dictionary(column.type):
            codes[:, j] = _dictionary_codes(column, vocab)
        else:
            codes[:, j] = _text_codes(category_text(column), vocab)
    return CategoricalBlock(tuple(names), codes, tuple(vocabularies))


def _text_codes(text: pa.ChunkedArray | pa.Array, vocab: tuple[str, ...]) -> IntArray:
    """Codes of text values: index in ``vocab``, ``-1`` for null, ``len(vocab)`` if unseen."""
    idx = pc.index_in(text, value_set=pa.array(vocab, type=pa.string()))
    unseen = pc.and_(pc.is_null(idx), pc.is_valid(text))
    filled = pc.if_else(unseen, len(vocab), pc.fill_null(idx, -1))
    return np.asarray(pc.cast(filled, pa.int64()).to_numpy(zero_copy_only=False))


def _dictionary_codes(column: pa.ChunkedArray, vocab: tuple[str, ...]) -> IntArray:
    """Codes of a dictionary column: map its (small) dictionary, then take by index."""
    parts = []
    for chunk in column.chunks:
        mapping = np.append(_text_codes(category_text(chunk.dictionary), vocab), -1)
        indices = pc.fill_null(chunk.indices, len(mapping) - 1)
        parts.append(mapping[np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.intp)])
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def category_text(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Categories as text; whole-number floats print as integers so 1 and 1.0 match."""
    if pa.types.is_floating(column.type):
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
        values = column.drop_null()
        whole = len(values) and pc.all(pc.is_finite(values)).as_py()
        if whole and pc.all(pc.equal(pc.floor(values), values)).as_py():
            column = pc.cast(column, pa.int64())
    return as_text(column)


def check_columns(schema: Schema, table: pa.Table, name: str, roles: Sequence[Role]) -> None:
    """Raise :class:`SchemaError` naming the columns of ``roles`` missing from ``table``."""
    present = set(table.column_names)
    missing = [c.name for c in schema.columns if c.role in roles and c.name not in present]
    if missing:
        raise SchemaError(f"missing columns in {name}: {missing}", field=missing[0])
    if table.num_rows == 0:
        raise SchemaError(f"{name} is empty (0 rows)", field=name)


def is_time_column(table: pa.Table, name: str) -> bool:
    """True when the column holds timestamps or dates."""
    return is_time_type(table.column(name).type)


__all__ = [
    "MAX_INT_CATEGORIES",
    "ROLE_NAMES",
    "CategoricalBlock",
    "NumericBlock",
    "category_text",
    "check_columns",
    "encode_categorical",
    "encode_numeric",
    "infer_schema",
    "is_time_column",
    "numeric_values",
    "vocabulary",
]
