"""What the Monitor's buffers hold, and how the background thread reads their values.

A row of ``log`` is six cells in the order of :data:`ROW_FIELDS`, added to one list of
cells (no object per row: a tuple per row would cost the garbage collector its full
collections while rows wait); the background thread reads the list column by column
(:func:`row_columns`), never by index. The rarer calls (``log_batch``, labels, requests)
are named records.

Values are read leniently and every numpy scalar is its Python value: a timestamp or a
latency that is not a number marks its row invalid (counted, never raised).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

#: The fields of a row tuple of ``log``, in order.
ROW_FIELDS = ("features", "prediction", "probability", "id", "latency_ms", "timestamp")
ROW_WIDTH = len(ROW_FIELDS)


def row_columns(cells: list[Any]) -> list[list[Any]]:
    """The cells of rows of ``log`` as one list per field of :data:`ROW_FIELDS`.

    >>> row_columns([{"x": 1}, 0.5, None, "id-0", None, 60.0])
    [[{'x': 1}], [0.5], [None], ['id-0'], [None], [60.0]]
    """
    return [cells[i::ROW_WIDTH] for i in range(ROW_WIDTH)]


class BatchEntry(NamedTuple):
    """One ``log_batch`` call: ``n`` rows given column-wise (or as a matrix)."""

    data: dict[str, Any] | npt.NDArray[Any]
    predictions: Sequence[Any] | None
    probabilities: Sequence[Any] | None
    ids: list[str]
    latency_ms: Sequence[Any] | None
    timestamp: Any
    n: int


class LabelsEntry(NamedTuple):
    """One ``log_labels`` call."""

    ids: list[Any]
    labels: list[Any]
    timestamp: float


class RequestEntry(NamedTuple):
    """One served request without features (``log_request``, ``log_error``)."""

    latency_ms: Any
    timestamp: float
    error: bool
    first_byte_ms: Any = None  # time to the first byte of a streamed response


def py(value: Any) -> Any:
    """A numpy scalar as its Python value; anything else unchanged.

    >>> py(np.int64(1)), py(np.float32(0.5)), py(np.bool_(True)), py("a")
    (1, 0.5, True, 'a')
    """
    return value.item() if isinstance(value, np.generic) else value


#: The times a window can hold (``datetime``'s years, with a year to spare for alignment):
#: a timestamp beyond them (milliseconds given as seconds, say) is not a time.
_FIRST = datetime(2, 1, 1, tzinfo=UTC).timestamp()
_LAST = datetime(9998, 1, 1, tzinfo=UTC).timestamp()


def epoch(value: Any) -> float:
    """A timestamp (epoch seconds or a datetime) as epoch seconds; NaN when it is neither,
    or beyond the years a window can hold.

    >>> epoch(datetime(1970, 1, 1, 0, 1, tzinfo=UTC)), epoch(np.float32(2)), epoch("soon")
    (60.0, 2.0, nan)
    >>> epoch(1.7e12)  # milliseconds
    nan
    """
    value = py(value)
    if isinstance(value, datetime):
        f = value.timestamp()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        f = float(value)
    else:
        return math.nan
    return f if _FIRST <= f < _LAST else math.nan


def seconds(stamps: Sequence[Any]) -> npt.NDArray[np.float64]:
    """Timestamps as epoch seconds, NaN where one is not a time or is beyond the years a
    window can hold (vectorized when all are numbers).

    >>> seconds([1.0, "x", datetime(1970, 1, 1, tzinfo=UTC), 1.7e15]).tolist()
    [1.0, nan, 0.0, nan]
    """
    try:
        out = np.array(stamps, dtype=np.float64)
    except (TypeError, ValueError):
        out = np.array([epoch(t) for t in stamps], dtype=np.float64)
    out[~((out >= _FIRST) & (out < _LAST))] = np.nan  # NaN and infinities too
    return out


def latencies(values: Sequence[Any]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Latencies in ms (NaN where not timed) and where one was given but is not a number.

    >>> lat, bad = latencies([2.0, None, "fast"])
    >>> lat.tolist(), bad.tolist()
    ([2.0, nan, nan], [False, False, True])
    """
    if values.count(None) == len(values):  # none timed (identity checks only: fast)
        return np.full(len(values), np.nan), np.zeros(len(values), dtype=bool)
    try:
        out = np.array(values, dtype=np.float64)
        if out.ndim == 1:
            return out, np.zeros(out.shape, dtype=bool)
    except (TypeError, ValueError):
        pass
    out = np.full(len(values), np.nan)
    bad = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        v = py(v)
        if v is None:
            continue
        if isinstance(v, int | float) and not isinstance(v, bool):
            out[i] = v
        else:
            bad[i] = True
    return out, bad


def label_records(entry: LabelsEntry) -> tuple[list[dict[str, Any]], int]:
    """The labels of one call as the collector takes them, and how many were invalid
    (not a number or a text, or an id that is not a text)."""
    stamp = datetime.fromtimestamp(entry.timestamp, UTC).isoformat()
    out = []
    for i, label in zip(entry.ids, entry.labels, strict=False):
        value = py(label)
        if isinstance(value, bool):
            value = float(value)
        finite = isinstance(value, int | float) and math.isfinite(value)
        if not (finite or isinstance(value, str)) or not isinstance(py(i), str | int):
            continue
        out.append({"id": str(py(i)), "label": value, "timestamp": stamp})
    return out, len(entry.ids) - len(out)


def newest_label_per_id(labels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One label per id: the newest by its timestamp, then the last to arrive.

    >>> newest_label_per_id([{"id": "a", "label": 0, "timestamp": "t"},
    ...                      {"id": "a", "label": 1, "timestamp": "t"}])
    [{'id': 'a', 'label': 1, 'timestamp': 't'}]
    """
    newest: dict[str, dict[str, Any]] = {}
    for label in labels:
        seen = newest.get(label["id"])
        if seen is None or label["timestamp"] >= seen["timestamp"]:
            newest[label["id"]] = label
    return list(newest.values())


def is_number(value: Any) -> bool:
    """Whether ``value`` is a number (a numpy one too), not a boolean.

    >>> is_number(np.int64(3)), is_number(True), is_number("3")
    (True, False, False)
    """
    value = py(value)
    return isinstance(value, int | float) and not isinstance(value, bool)


def probability(value: Any) -> Any:
    """A logged probability with numpy scalars (in a mapping too) as Python values."""
    if isinstance(value, Mapping):
        return {py(k): py(v) for k, v in value.items()}
    return py(value)
