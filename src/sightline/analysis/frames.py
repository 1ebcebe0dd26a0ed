"""Turn user data (pandas, polars, pyarrow, CSV/Parquet paths) into an Arrow table.

This is the one module below the server that touches data-frame libraries; everything after
it works on Arrow columns and numpy arrays.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sightline.errors import InvalidInputError, UnsupportedFormatError

#: What :func:`to_table` accepts.
DataLike = Any


def to_table(data: DataLike, name: str) -> pa.Table:
    """Return ``data`` as a :class:`pyarrow.Table`.

    Accepts a pyarrow Table or RecordBatch, a pandas or polars DataFrame, a mapping of
    column name to values, or a path to a ``.csv``/``.csv.gz``/``.parquet``/``.pq`` file.
    ``name`` ("reference", "current") is used in error messages.

    Examples
    --------
    >>> to_table({"age": [31, 45]}, "reference").num_rows
    2
    """
    if isinstance(data, pa.Table):
        table = data
    elif isinstance(data, pa.RecordBatch):
        table = pa.Table.from_batches([data])
    elif isinstance(data, str | Path):
        table = _read_path(Path(data), name)
    elif isinstance(data, dict):
        table = _from_columns(data, name)
    elif _is_pandas(data):
        table = _from_pandas(data, name)
    elif hasattr(data, "to_arrow") and type(data).__module__.startswith("polars"):
        table = data.to_arrow()
    else:
        raise InvalidInputError(
            f"{name} must be a pandas/polars DataFrame, a pyarrow Table, a dict of columns "
            f"or a path to a CSV or Parquet file, got {type(data).__name__}",
            field=name,
        )
    if table.num_columns == 0:
        raise InvalidInputError(f"{name} has no columns", field=name)
    names = table.column_names
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InvalidInputError(f"{name} has duplicate column names: {dupes}", field=name)
    return table


def _read_path(path: Path, name: str) -> pa.Table:
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    if not path.exists():
        raise InvalidInputError(f"{name}: file not found: {path}", field=name)
    suffixes = [s.lower() for s in path.suffixes]
    try:
        if suffixes and suffixes[-1] in (".parquet", ".pq"):
            return pq.read_table(path)
        if ".csv" in suffixes or ".tsv" in suffixes:
            delimiter = "\t" if ".tsv" in suffixes else ","
            return pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter=delimiter))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInputError(f"{name}: cannot read {path}: {exc}", field=name) from exc
    raise UnsupportedFormatError(
        f"{name}: unsupported file type {path.name!r}; use .csv, .tsv or .parquet", field=name
    )


def _is_pandas(data: object) -> bool:
    return type(data).__module__.startswith("pandas") and hasattr(data, "columns")


def _from_pandas(frame: Any, name: str) -> pa.Table:
    arrays = {}
    for col in frame.columns:
        series = frame[col]
        if isinstance(series.dtype, np.dtype) and series.dtype.kind in "fiu":
            # plain numpy numbers: shared, not copied (NaN stays NaN)
            arrays[str(col)] = pa.array(series.to_numpy(), from_pandas=False)
        else:
            arrays[str(col)] = _array_from_values(series, from_pandas=True)
    if not arrays:
        raise InvalidInputError(f"{name} has no columns", field=name)
    return pa.table(arrays)


def _from_columns(columns: dict[Any, Any], name: str) -> pa.Table:
    lengths = {str(k): len(v) for k, v in columns.items()}
    if len(set(lengths.values())) > 1:
        raise InvalidInputError(f"{name}: columns have different lengths: {lengths}", field=name)
    return pa.table({str(k): _array_from_values(v, from_pandas=False) for k, v in columns.items()})


def _array_from_values(values: Any, *, from_pandas: bool) -> pa.Array:
    """An Arrow array; a 2-D numpy array becomes fixed-size lists (one vector per row),
    values of mixed types become strings (nulls kept)."""
    if isinstance(values, np.ndarray) and values.ndim == 2:
        flat = pa.array(np.ascontiguousarray(values).ravel())
        return pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
    try:
        return pa.array(values, from_pandas=from_pandas)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        as_text = [None if _is_missing(v) else str(v) for v in values]
        return pa.array(as_text, type=pa.string())


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def is_numeric_type(t: pa.DataType) -> bool:
    """True for integer, floating-point and decimal Arrow types (not bool)."""
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))


def is_time_type(t: pa.DataType) -> bool:
    """True for timestamp and date Arrow types."""
    return bool(pa.types.is_timestamp(t) or pa.types.is_date(t))


def as_text(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Cast any column to strings (categories are compared by their text)."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column
    return pc.cast(column, pa.string())


__all__ = ["DataLike", "as_text", "is_numeric_type", "is_time_type", "to_table"]
