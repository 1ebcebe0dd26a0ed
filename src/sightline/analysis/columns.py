"""Schema inference and the encoding of Arrow columns into numpy arrays.

A numeric column becomes float64 values (NaN = missing, infinity or a value of the wrong
type, each counted), written into a given buffer and optionally sorted there, or one matrix
of several columns; categorical columns become counts on the reference vocabulary plus one
"unseen" bucket, and a count of missing values. Large tables are processed column by column
on :data:`WORKERS` threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import NamedTuple, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sightline._types import BoolArray, ColumnKind, FloatArray, IntArray, Role
from sightline.analysis.frames import as_text, is_numeric_type, is_time_type
from sightline.errors import SchemaError
from sightline.profile.schema import Column, Schema
from sightline.stats.text import descriptors

#: Integer columns with at most this many distinct reference values are categorical.
MAX_INT_CATEGORIES = 5

#: A string feature is text when, among its first ``TEXT_SAMPLE`` non-null values, at least
#: ``TEXT_MIN_DISTINCT`` of them are distinct and their median length is
#: ``TEXT_MIN_WORDS`` words or more (pass ``categorical=``/``text=`` to override).
TEXT_SAMPLE = 1_000
TEXT_MIN_DISTINCT = 0.5
TEXT_MIN_WORDS = 3

#: Threads that encode and sort numeric columns, and the size from which they are used.
WORKERS = 2
PARALLEL_ROWS = 50_000

#: Codes counted per call of ``np.bincount``, which widens them to ``intp`` (128 KiB).
_COUNT_BLOCK = 1 << 14

#: Column names taken as a role when no role is given explicitly.
ROLE_NAMES: Mapping[Role, tuple[str, ...]] = {
    "target": ("target", "y_true", "label", "actual"),
    "prediction": ("prediction", "y_pred", "pred", "predicted"),
    "id": ("id", "prediction_id", "request_id"),
    "timestamp": ("timestamp", "ts", "event_time"),
}

T = TypeVar("T")
U = TypeVar("U")

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
    ``kinds`` win; otherwise a feature of equal-length float vectors is an embedding
    (:func:`is_vector_column`), a string feature that reads as free text is text
    (:func:`is_text_column`), other strings, booleans and dictionaries are categorical, integer
    columns with at most :data:`MAX_INT_CATEGORIES` distinct values are categorical, other
    numbers are numeric.

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


@dataclass(frozen=True, slots=True)
class SchemaOptions:
    """How to read the columns: an explicit schema, or roles and kinds to override inference."""

    schema: Schema | None = None
    target: str | None = None
    prediction: str | None = None
    probability: Sequence[str] = ()
    id: str | None = None
    timestamp: str | None = None
    categorical: Sequence[str] = ()
    numeric: Sequence[str] = ()
    text: Sequence[str] = ()
    embedding: Sequence[str] = ()
    patterns: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, reference: pa.Table) -> Schema:
        """The explicit schema, or one inferred from the reference with the overrides;
        ``patterns`` join those of every text column (:attr:`Column.patterns`)."""
        schema = self.schema if self.schema is not None else self._inferred(reference)
        if not self.patterns:
            return schema
        return Schema(
            tuple(
                replace(c, patterns={**dict(c.patterns), **self.patterns})
                if c.kind == "text"
                else c
                for c in schema.columns
            )
        )

    def _inferred(self, reference: pa.Table) -> Schema:
        roles: dict[str, Role] = {}
        for role, name in (
            ("target", self.target),
            ("prediction", self.prediction),
            ("id", self.id),
            ("timestamp", self.timestamp),
        ):
            if name is not None:
                roles[name] = role  # type: ignore[assignment]
        for name in self.probability:
            roles[name] = "probability"
        kinds: dict[str, ColumnKind] = {n: "categorical" for n in self.categorical}
        kinds.update({n: "numeric" for n in self.numeric})
        kinds.update({n: "text" for n in self.text})
        kinds.update({n: "embedding" for n in self.embedding})
        return infer_schema(reference, roles=roles, kinds=kinds)


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
        return integer_kind(pc.count_distinct(column).as_py())
    if role == "feature" and is_vector_column(column):
        return "embedding"
    if role == "feature" and is_text_column(column):
        return "text"
    return "categorical"


def is_vector_column(column: pa.ChunkedArray) -> bool:
    """True for lists of floats that all have one length (an embedding), nulls aside.

    >>> is_vector_column(pa.chunked_array([[[0.1, 0.2], None, [0.3, 0.4]]]))
    True
    >>> is_vector_column(pa.chunked_array([[[0.1], [0.2, 0.3]]]))
    False
    """
    t = column.type
    lists = pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
    if not lists or not pa.types.is_floating(t.value_type):
        return False
    if pa.types.is_fixed_size_list(t):
        return True
    bounds = pc.min_max(pc.list_value_length(column))
    return bool(bounds["min"].is_valid and bounds["min"].as_py() == bounds["max"].as_py())


def is_text_column(column: pa.ChunkedArray) -> bool:
    """True for strings that read as free text: among up to :data:`TEXT_SAMPLE` non-null
    values, at least :data:`TEXT_MIN_DISTINCT` of them distinct and a median of at least
    :data:`TEXT_MIN_WORDS` words.

    >>> is_text_column(pa.chunked_array([[f"review number {i} was fine" for i in range(9)]]))
    True
    >>> is_text_column(pa.chunked_array([["red", "blue", "red", "green"]]))
    False
    """
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return False
    values = column.drop_null()
    if len(values) == 0:
        return False
    sample = values.slice(0, TEXT_SAMPLE)
    distinct = pc.count_distinct(sample).as_py() / len(sample)
    n_words = descriptors(sample)["words"]
    return bool(distinct >= TEXT_MIN_DISTINCT and np.median(n_words) >= TEXT_MIN_WORDS)


def integer_kind(n_distinct: int) -> ColumnKind:
    """The kind of integer values with ``n_distinct`` distinct values: categorical up to
    :data:`MAX_INT_CATEGORIES`, else numeric (the one rule, for columns and labels).

    >>> integer_kind(2), integer_kind(50)
    ('categorical', 'numeric')
    """
    return "categorical" if n_distinct <= MAX_INT_CATEGORIES else "numeric"


@dataclass(frozen=True, slots=True)
class NumericBlock:
    """Numeric columns of one side as a float matrix, with counts of what was set to NaN.

    ``values`` is column-major (each column contiguous).
    """

    names: tuple[str, ...]
    values: FloatArray  # (n, k); NaN = missing, infinite or not a number
    n_missing: IntArray  # (k,) nulls and NaN in the input
    n_inf: IntArray  # (k,)
    n_invalid: IntArray  # (k,) values that are not numbers (type violations)

    @property
    def n_valid(self) -> IntArray:
        """Values per column that are numbers (not missing, infinite or invalid)."""
        n_nan = self.n_missing + self.n_inf + self.n_invalid
        return np.asarray(self.values.shape[0] - n_nan, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class CategoricalBlock:
    """Categorical columns of one side as counts on the reference vocabularies.

    Row ``c < len(vocabularies[j])`` of ``counts[:, j]`` counts category ``c`` of column
    ``j``, row ``len(vocabularies[j])`` the values unseen in the reference; further rows
    are zero (padding to the longest vocabulary).
    """

    names: tuple[str, ...]
    vocabularies: tuple[tuple[str, ...], ...]
    counts: IntArray  # (max vocabulary + 1, k)
    n_missing: IntArray  # (k,)

    @property
    def n_valid(self) -> IntArray:
        """Non-missing values per column."""
        return np.asarray(self.counts.sum(axis=0), dtype=np.int64)

    @property
    def n_unseen(self) -> IntArray:
        """Values per column in categories the reference never had."""
        rows = np.array([len(v) for v in self.vocabularies], dtype=np.intp)
        return np.asarray(self.counts[rows, np.arange(rows.size)], dtype=np.int64)

    @property
    def constant(self) -> BoolArray:
        """True for columns whose values all fall in one category."""
        return np.asarray(np.count_nonzero(self.counts, axis=0) == 1, dtype=bool)


def encode_numeric(table: pa.Table, names: Sequence[str]) -> NumericBlock:
    """Encode the numeric columns ``names`` of ``table`` as one float matrix, rows aligned.

    The columns are processed on :data:`WORKERS` threads (numpy's copies release the GIL).

    Examples
    --------
    >>> t = pa.table({"x": [1.0, None, float("inf")], "y": ["2", "oops", "3.5"]})
    >>> b = encode_numeric(t, ["x", "y"])
    >>> b.values.tolist(), b.n_inf.tolist(), b.n_invalid.tolist(), b.n_valid.tolist()
    ([[1.0, 2.0], [nan, nan], [nan, 3.5]], [1, 0], [0, 1], [1, 2])
    """
    values = np.empty((table.num_rows, len(names)), dtype=np.float64, order="F")

    def encode(j: int) -> ColumnCounts:
        return encode_column(table.column(names[j]), values[:, j], sort=False)

    counts = np.array(map_columns(encode, len(names), table.num_rows), dtype=np.int64)
    counts = counts.reshape(len(names), 3).T
    return NumericBlock(tuple(names), values, counts[0], counts[1], counts[2])


class ColumnCounts(NamedTuple):
    """What :func:`encode_column` set to NaN: missing values, infinities, non-numbers."""

    n_missing: int
    n_inf: int
    n_invalid: int


def encode_column(column: pa.ChunkedArray, out: FloatArray, *, sort: bool) -> ColumnCounts:
    """Write the float values of ``column`` into ``out``, infinities and non-numbers as NaN.

    With ``sort=True`` ``out`` is sorted in place (NaN last).

    Examples
    --------
    >>> out = np.empty(5)
    >>> column = pa.chunked_array([[3.0, None, float("inf"), 1.0, -float("inf")]])
    >>> encode_column(column, out, sort=True)
    ColumnCounts(n_missing=1, n_inf=2, n_invalid=0)
    >>> out.tolist()
    [1.0, 3.0, nan, nan, nan]
    """
    raw, n_invalid = numeric_values(column)
    out[:] = raw
    if not sort:
        inf = np.isinf(out)
        out[inf] = np.nan
        n_inf = int(np.count_nonzero(inf))
        n_nan = int(np.count_nonzero(np.isnan(out)))
        return ColumnCounts(n_nan - n_inf - n_invalid, n_inf, n_invalid)
    out.sort()  # -inf, finite values, inf, NaN
    end = int(np.searchsorted(out, np.nan))
    start = int(np.searchsorted(out[:end], -np.inf, side="right"))
    stop = int(np.searchsorted(out[:end], np.inf, side="left"))
    n_inf = start + end - stop
    if n_inf:  # the finite values first, then the infinities as NaN
        out[: stop - start] = out[start:stop]
        out[stop - start : end] = np.nan
    return ColumnCounts(out.size - end - n_invalid, n_inf, n_invalid)


def in_parallel(first: Callable[[], T], second: Callable[[], U], n_rows: int) -> tuple[T, U]:
    """``(first(), second())``; for tables of :data:`PARALLEL_ROWS` rows or more, ``second``
    runs on a thread of its own meanwhile (beside the column threads of ``first``).
    """
    if n_rows < PARALLEL_ROWS:
        return first(), second()
    with ThreadPoolExecutor(max_workers=1) as pool:
        later = pool.submit(second)
        return first(), later.result()


def map_columns(call: Callable[[int], T], k: int, n_rows: int) -> list[T]:
    """``[call(j) for j in range(k)]``, on :data:`WORKERS` threads for large tables.

    The threads are used for more than one column of at least :data:`PARALLEL_ROWS` rows
    (numpy's copies and sorts release the GIL).
    """
    if k > 1 and n_rows >= PARALLEL_ROWS:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            return list(pool.map(call, range(k)))
    return [call(j) for j in range(k)]


def scratch_buffer(scratch: threading.local, n_rows: int) -> FloatArray:
    """This thread's float buffer of ``n_rows`` in ``scratch``, allocated on first use.

    Sorting column after column in one reused buffer per thread avoids the first-touch cost
    of fresh memory and keeps no sorted copy of the whole table.
    """
    buffer: FloatArray | None = getattr(scratch, "buffer", None)
    if buffer is None:
        buffer = scratch.buffer = np.empty(n_rows, dtype=np.float64)
    return buffer


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
    """Count categorical columns on the given vocabularies (no per-row codes are built).

    Examples
    --------
    >>> t = pa.table({"c": ["b", None, "z", "a", "b"]})
    >>> block = encode_categorical(t, ["c"], [("a", "b")])
    >>> block.counts.ravel().tolist(), block.n_missing.tolist(), block.n_unseen.tolist()
    ([1, 2, 1], [1], [1])
    """
    rows = max((len(v) + 1 for v in vocabularies), default=1)
    counts = np.zeros((rows, len(names)), dtype=np.int64)
    missing = np.zeros(len(names), dtype=np.int64)
    for j, (name, vocab) in enumerate(zip(names, vocabularies, strict=True)):
        column = table.column(name)
        chunks = column.chunks if pa.types.is_dictionary(column.type) else [column]
        for chunk in chunks:
            values, value_counts = _distinct_counts(chunk)
            codes = _text_codes(category_text(values), vocab)
            ok = codes >= 0
            counts[: len(vocab) + 1, j] += np.bincount(
                codes[ok], weights=value_counts[ok], minlength=len(vocab) + 1
            ).astype(np.int64)
            missing[j] += int(value_counts[~ok].sum())
    return CategoricalBlock(tuple(names), tuple(vocabularies), counts, missing)


def _distinct_counts(column: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, IntArray]:
    """Distinct values (nulls included) and how often each occurs.

    A dictionary array is counted on its integer indices, never decoded row by row.
    """
    if isinstance(column, pa.Array) and pa.types.is_dictionary(column.type):
        indices = column.indices
        n_null = indices.null_count
        filled = pc.fill_null(indices, 0) if n_null else indices
        codes = np.asarray(filled.to_numpy(zero_copy_only=False))
        dict_counts = np.zeros(len(column.dictionary), dtype=np.int64)
        for start in range(0, codes.size, _COUNT_BLOCK):  # bincount widens to intp: in blocks
            block = codes[start : start + _COUNT_BLOCK]
            dict_counts += np.bincount(block, minlength=dict_counts.size)
        dict_counts[0] -= n_null
        values = pa.concat_arrays([column.dictionary, pa.nulls(1, column.dictionary.type)])
        return values, np.append(dict_counts, n_null)
    vc = pc.value_counts(column)
    return vc.field("values"), np.asarray(vc.field("counts").to_numpy(), dtype=np.int64)


def _text_codes(text: pa.ChunkedArray | pa.Array, vocab: tuple[str, ...]) -> IntArray:
    """Codes of text values: index in ``vocab``, ``-1`` for null, ``len(vocab)`` if unseen."""
    idx = pc.index_in(text, value_set=pa.array(vocab, type=pa.string()))
    unseen = pc.and_(pc.is_null(idx), pc.is_valid(text))
    filled = pc.if_else(unseen, len(vocab), pc.fill_null(idx, -1))
    return np.asarray(pc.cast(filled, pa.int64()).to_numpy(zero_copy_only=False))


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
    "TEXT_MIN_DISTINCT",
    "TEXT_MIN_WORDS",
    "TEXT_SAMPLE",
    "CategoricalBlock",
    "ColumnCounts",
    "NumericBlock",
    "SchemaOptions",
    "category_text",
    "check_columns",
    "encode_categorical",
    "encode_column",
    "encode_numeric",
    "in_parallel",
    "infer_schema",
    "integer_kind",
    "is_text_column",
    "is_time_column",
    "is_vector_column",
    "map_columns",
    "numeric_values",
    "scratch_buffer",
    "vocabulary",
]
