"""The one duration grammar and the one epoch alignment of windows.

Every part of sightline that reads a duration (the SDK's ``window=``, ``analyze``'s
``chunk_period=``, the scheduler's settings, every CLI flag) calls :func:`parse_duration`,
and every part that puts a moment into a window calls :func:`align` (or its datetime form
:func:`window_of`), so a window's edges are the same wherever they are computed.

A duration is a positive whole number followed by a unit: ``s`` (also ``sec``), ``m`` (also
``min``), ``h``, ``d``, ``w``, case-insensitive; the number may be left out (``"h"`` is one
hour), and a bare positive integer is a number of seconds.

Examples
--------
>>> parse_duration("30s"), parse_duration("5m"), parse_duration("15min"), parse_duration("1D")
(30, 300, 900, 86400)
>>> parse_duration(90), parse_duration("W")
(90, 604800)
>>> align(125.5, 60)
120.0
>>> window_of(datetime(2026, 1, 1, 10, 7), 300)
(datetime.datetime(2026, 1, 1, 10, 5), datetime.datetime(2026, 1, 1, 10, 10))
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import overload

import numpy as np
import numpy.typing as npt

from sightline.errors import InvalidInputError

#: Naive UTC epoch: window edges are whole multiples of the window's size after it.
EPOCH = datetime(1970, 1, 1)

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"\s*(\d*)\s*(s|sec|m|min|h|d|w)\s*", re.IGNORECASE)


def parse_duration(value: str | int, *, field: str = "window") -> int:
    """Seconds in ``"30s"``, ``"5m"``/``"5min"``, ``"1h"``, ``"1d"``, ``"1w"`` or an int.

    Raises :class:`~sightline.errors.InvalidInputError` naming ``field`` otherwise.

    >>> parse_duration("2h", field="lateness")
    7200
    """
    if isinstance(value, bool):
        raise _bad_duration(value, field)
    if isinstance(value, int | np.integer):
        if value > 0:
            return int(value)
        raise _bad_duration(value, field)
    text = str(value)
    if text.strip().isdigit() and int(text) > 0:
        return int(text)
    match = _DURATION.fullmatch(text)
    if match is None:
        raise _bad_duration(value, field)
    count = int(match.group(1) or 1)
    if count <= 0:
        raise _bad_duration(value, field)
    return count * _UNITS[match.group(2).lower()]


def _bad_duration(value: object, field: str) -> InvalidInputError:
    return InvalidInputError(
        f"{field}: a duration looks like 30s, 5m, 15min, 1h, 1d or 1w, got {value!r}",
        field=field,
    )


@overload
def align(seconds: float, size: float) -> float: ...
@overload
def align(seconds: npt.NDArray[np.float64], size: float) -> npt.NDArray[np.float64]: ...
def align(seconds: float | npt.NDArray[np.float64], size: float) -> float | npt.NDArray[np.float64]:
    """The start of the epoch-aligned window of ``size`` seconds holding ``seconds``.

    Works on one Unix time or an array of them (vectorized).

    >>> align(np.array([59.9, 60.0, 61.0]), 60).tolist()
    [0.0, 60.0, 60.0]
    """
    if isinstance(seconds, np.ndarray):
        return np.floor(seconds / size) * size
    return float(math.floor(seconds / size) * size)


def window_numbers(micros: npt.NDArray[np.int64], size: int) -> npt.NDArray[np.int64]:
    """The number of the epoch-aligned window of ``size`` seconds holding each Unix time
    given in microseconds (vectorized; window ``w`` starts at ``w * size`` seconds).

    >>> window_numbers(np.array([59_999_999, 60_000_000, -1]), 60).tolist()
    [0, 1, -1]
    """
    return np.floor_divide(micros, size * 1_000_000)


def window_edges(number: int, size: int) -> tuple[datetime, datetime]:
    """The aware UTC edges ``[start, end)`` of window ``number`` of ``size`` seconds.

    >>> window_edges(1, 60)[0].isoformat()
    '1970-01-01T00:01:00+00:00'
    """
    start = datetime.fromtimestamp(int(number) * size, tz=UTC)
    return start, start + timedelta(seconds=size)


def window_of(moment: datetime, size: int) -> tuple[datetime, datetime]:
    """The epoch-aligned window of ``size`` seconds holding ``moment`` (naive UTC)."""
    seconds = (moment - EPOCH) // timedelta(seconds=size) * size
    start = EPOCH + timedelta(seconds=seconds)
    return start, start + timedelta(seconds=size)


def sql_bucket(epoch_seconds: str, size: int) -> str:
    """SQL for the index of the window of ``size`` seconds holding ``epoch_seconds`` (a SQL
    expression in Unix seconds); the same alignment as :func:`align`, for the store.

    >>> sql_bucket("date_part('epoch', ts)", 60)
    "floor(date_part('epoch', ts) / 60)"
    """
    return f"floor({epoch_seconds} / {int(size)})"
