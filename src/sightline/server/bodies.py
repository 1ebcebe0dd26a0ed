"""Request bodies into checked Arrow tables: JSON (pydantic) or Arrow IPC, all or nothing.

Every refusal is an :class:`ApiError` with the HTTP status, a message and the field.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ValidationError

from sightline.server.schemas import MAX_BATCH, MAX_CLASSES
from sightline.store import as_utc

JSON = "application/json"
ARROW = "application/vnd.apache.arrow.stream"
PROFILE = "application/x-sightline-profile"
CSV = "text/csv"
PARQUET = "application/vnd.apache.parquet"

M = TypeVar("M", bound=BaseModel)
TS = pa.timestamp("us")


class ApiError(Exception):
    """A refused request: ``status``, a message naming the problem, and the field at fault."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header (lower case, no parameters).

    >>> media_type("Application/JSON; charset=utf-8")
    'application/json'
    """
    return (content_type or "").split(";", 1)[0].strip().lower()


def body_type(content_type: str | None, allowed: Sequence[str], *, required: bool = False) -> str:
    """The media type of a body a route reads as one of ``allowed``: the declared one, or
    the first of ``allowed`` when none is declared (unless ``required``); 415 when another
    type is declared (a JSON body sent as ``text/plain`` is not read as JSON).

    >>> body_type("application/json; charset=utf-8", [JSON, ARROW]), body_type(None, [PROFILE])
    ('application/json', 'application/x-sightline-profile')
    >>> body_type("text/plain", [JSON])
    Traceback (most recent call last):
    ...
    sightline.server.bodies.ApiError: Content-Type must be application/json, got 'text/plain'
    """
    kind = media_type(content_type)
    if not kind and not required:
        return allowed[0]
    if kind not in allowed:
        raise ApiError(
            415, f"Content-Type must be {' or '.join(allowed)}, got {kind!r}", "Content-Type"
        )
    return kind


#: What pydantic adds to an error's location for the member of a union it tried.
_UNION_MEMBER = re.compile(r"(constrained-)?(str|int|float|bool|none)|[a-z-]+\[.*\]")


def _field_path(loc: tuple[int | str, ...]) -> str:
    """An error location as the body's field path, without pydantic's union-member tags.

    >>> _field_path(("records", 0, "prediction", "constrained-str"))
    'records.0.prediction'
    >>> _field_path(("rows", 3, "float", "float"))  # a row's column named "float"
    'rows.3.float'
    """
    parts = [
        str(p)
        for i, p in enumerate(loc)
        if not (
            i and isinstance(p, str) and isinstance(loc[i - 1], str) and _UNION_MEMBER.fullmatch(p)
        )
    ]
    return ".".join(parts) or "body"


def parse_json(body: bytes, model: type[M]) -> M:
    """``body`` validated as ``model``; a 400 for malformed JSON, a 422 naming the field
    (the alternatives of a union are one problem: ``a valid number or a valid string``)."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if errors[0]["type"] == "json_invalid":
            raise ApiError(400, f"malformed JSON: {errors[0]['msg']}", "body") from None
        field = _field_path(errors[0]["loc"])
        here = list(dict.fromkeys(e["msg"] for e in errors if _field_path(e["loc"]) == field))
        others = len(errors) - sum(1 for e in errors if _field_path(e["loc"]) == field)
        lead = "Input should be "
        if len(here) > 1 and all(m.startswith(lead) for m in here):
            here = [lead + " or ".join(m.removeprefix(lead) for m in here)]
        more = f" (and {others} more)" if others else ""
        raise ApiError(422, f"{field}: {'; '.join(here)}{more}", field) from None


def read_arrow(body: bytes) -> pa.Table:
    """An Arrow IPC stream, fully validated; at most :data:`MAX_BATCH` rows."""
    try:
        table = pa.ipc.open_stream(pa.py_buffer(body)).read_all()
        table.validate(full=True)
        _unique_columns(table)  # decodes the names too (UnicodeDecodeError on pyarrow 15)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ApiError(400, f"malformed Arrow IPC stream: {exc}", "body") from None
    if table.num_rows > MAX_BATCH:
        raise ApiError(
            413, f"batch of {table.num_rows} rows exceeds the limit of {MAX_BATCH}", "body"
        )
    if table.num_rows == 0:
        raise ApiError(422, "the batch has no rows", "body")
    return table


def read_table_file(body: bytes, kind: str) -> pa.Table:
    """A CSV or Parquet file held in ``body``, fully validated (column names and strings
    are UTF-8: pyarrow decodes names lazily, so a bad one would fail later, as a 500)."""
    try:
        if kind == CSV:
            import pyarrow.csv as pacsv

            table = pacsv.read_csv(io.BytesIO(body))
        else:
            import pyarrow.parquet as pq

            table = pq.read_table(io.BytesIO(body))
        table.validate(full=True)
        _unique_columns(table)  # decodes the names too (UnicodeDecodeError on pyarrow 15)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ApiError(400, f"cannot read the {kind} body: {exc}", "body") from None
    if kind == CSV:  # pyarrow reads a column that is not UTF-8 as bytes
        for name, column_type in zip(table.column_names, table.schema.types, strict=True):
            if pa.types.is_binary(column_type) or pa.types.is_large_binary(column_type):
                raise ApiError(400, f"column {name!r} of the CSV body is not UTF-8 text", name)
    return table


def _unique_columns(table: pa.Table) -> None:
    """422 naming a column that appears twice (``table.column(name)`` would raise)."""
    seen: set[str] = set()
    for name in table.column_names:
        if name in seen:
            raise ApiError(422, f"column {name!r} appears more than once", name)
        seen.add(name)


def required(table: pa.Table, name: str) -> pa.ChunkedArray:
    """Column ``name`` of ``table``; 422 when it is missing or holds nulls."""
    if name not in table.column_names:
        raise ApiError(422, f"column {name!r} is missing", name)
    col = table.column(name)
    if col.null_count:
        raise ApiError(422, f"column {name!r} has {col.null_count} nulls", name)
    return col


def optional(table: pa.Table, name: str) -> pa.ChunkedArray | None:
    """Column ``name`` of ``table``, or None when absent."""
    return table.column(name) if name in table.column_names else None


def check_columns(table: pa.Table, allowed: Sequence[str]) -> None:
    """422 naming the first column of ``table`` not in ``allowed``."""
    for name in table.column_names:
        if name not in allowed:
            raise ApiError(422, f"unknown column {name!r}; expected {list(allowed)}", name)


def timestamps(col: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    """``col`` as naive UTC microsecond timestamps."""
    if not pa.types.is_timestamp(col.type):
        raise ApiError(422, f"column {name!r} must be an Arrow timestamp, got {col.type}", name)
    try:
        if col.type.tz is not None:
            col = pc.cast(col, pa.timestamp(col.type.unit, "UTC"))
            col = pa.chunked_array(
                [c.cast(pa.timestamp(col.type.unit)) for c in col.chunks],
                pa.timestamp(col.type.unit),
            )
        return col if col.type == TS else pc.cast(col, TS)
    except (pa.ArrowException, ValueError) as exc:  # out of range in microseconds, bad zone
        raise ApiError(422, f"column {name!r} holds invalid timestamps: {exc}", name) from None


def numbers(
    col: pa.ChunkedArray, name: str, *, low: float = -math.inf, high: float = math.inf
) -> pa.ChunkedArray:
    """``col`` as float64, refusing NaN, infinity and values outside ``[low, high]``."""
    if not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type)):
        raise ApiError(422, f"column {name!r} must be numbers, got {col.type}", name)
    values = col
    if col.type != pa.float64():
        values = pc.cast(col, pa.float64(), safe=False)  # integers past 2**53 round, as in JSON
    # numpy on the non-null values: a few microseconds, where each Arrow kernel call costs
    # about ten (a one-event request is checked on the event loop).
    given = (values.drop_null() if values.null_count else values).to_numpy()
    if not np.isfinite(given).all():
        raise ApiError(422, f"column {name!r} holds NaN or infinity", name)
    if given.size and (given.min() < low or given.max() > high):
        raise ApiError(422, f"column {name!r} holds values outside [{low}, {high}]", name)
    return values


def class_probabilities(col: pa.ChunkedArray, name: str) -> pa.Array:
    """A ``map<string, double>`` column of class probabilities as JSON objects (null rows
    stay null), refusing probabilities outside ``[0, 1]`` and bad class names."""
    if not (pa.types.is_map(col.type) and pa.types.is_string(col.type.key_type)):
        raise ApiError(422, f"column {name!r} must be map<string, double>, got {col.type}", name)
    maps = pa.concat_arrays(col.chunks) if col.num_chunks else pa.array([], col.type)
    texts(pa.chunked_array([maps.keys]), name)
    if maps.items.null_count:
        raise ApiError(422, f"column {name!r} holds a class without a probability", name)
    numbers(pa.chunked_array([maps.items]), name, low=0.0, high=1.0)
    if len(maps) and int(np.diff(maps.offsets.to_numpy()).max()) > MAX_CLASSES:
        raise ApiError(422, f"column {name!r} holds more than {MAX_CLASSES} classes in a row", name)
    return pa.array(
        [None if row is None else probabilities_text(dict(row)) for row in maps.to_pylist()],
        pa.string(),
    )


def probabilities_text(by_class: Mapping[str, float]) -> str:
    """A row's class probabilities as stored: a JSON object with sorted keys.

    >>> probabilities_text({"b": 0.25, "a": 0.75})
    '{"a": 0.75, "b": 0.25}'
    """
    return json.dumps(dict(by_class), sort_keys=True)


def texts(col: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    """``col`` as strings (integers are written in decimal), at most 200 characters each,
    without NUL (PostgreSQL cannot store it)."""
    if pa.types.is_integer(col.type):
        col = pc.cast(col, pa.string())
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        raise ApiError(422, f"column {name!r} must be strings, got {col.type}", name)
    if col.type != pa.string():
        col = pc.cast(col, pa.string())
    # numpy on the offsets and bytes of the non-null strings: each Arrow kernel call would
    # cost about ten microseconds (a one-event request is checked on the event loop).
    chunks = [
        (np.frombuffer(c.buffers()[1], np.int32, len(c) + 1, 4 * c.offset), c)
        for c in (col.drop_null() if col.null_count else col).chunks
        if len(c)
    ]
    # Characters are at most bytes: count them only when some string has over 200 bytes.
    if (
        any(int(np.diff(offsets).max()) > 200 for offsets, _ in chunks)
        and (pc.max(pc.utf8_length(col)).as_py() or 0) > 200
    ):
        raise ApiError(422, f"column {name!r} holds strings longer than 200 characters", name)
    for offsets, chunk in chunks:
        start, end = int(offsets[0]), int(offsets[-1])
        data = chunk.buffers()[2]
        if end > start and not np.frombuffer(data, np.uint8, end - start, start).all():
            raise ApiError(422, f"column {name!r} holds NUL characters", name)
    return col


def value_columns(col: pa.ChunkedArray | None, name: str, n: int) -> tuple[pa.Array, pa.Array]:
    """A prediction or label column split into (numbers, strings); the other side is null."""
    if col is None:
        return pa.nulls(n, pa.float64()), pa.nulls(n, pa.string())
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return pa.nulls(n, pa.float64()), texts(col, name).combine_chunks()
    return numbers(col, name).combine_chunks(), pa.nulls(n, pa.string())


def utc(value: datetime | None, default: datetime) -> datetime:
    """``value`` as naive UTC, or ``default``."""
    return default if value is None else as_utc(value)


def split_values(
    values: Sequence[float | str | None],
) -> tuple[list[float | None], list[str | None]]:
    """JSON prediction or label values into a numeric and a text list."""
    nums = [v if isinstance(v, float | int) and not isinstance(v, bool) else None for v in values]
    strs = [v if isinstance(v, str) else None for v in values]
    return nums, strs
