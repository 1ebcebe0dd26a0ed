"""Prediction records (id, timestamp, prediction, probability) as JSON, column by column.

Records are the bulk of what the SDK sends (one per row, for label joins), so they are
encoded without formatting anything per record: each record is a row of text pieces
(its id, its second, its microseconds in two halves, its prediction, its probability)
taken from small tables of the distinct values (the seconds of a tick, the thousand
three-digit numbers, the distinct predictions) with one numpy indexing per piece, put
in place with one slice assignment per piece, and all the pieces are joined once. Ids
that need no escaping go in as they are; only columns of mixed types, or ids to escape,
take a path per value.

>>> encode_records(["a", "b"], np.array([0.5, 1.25]), [1, "yes"], [0.9, None])
'{"id":"a","timestamp":"1970-01-01T00:00:00.500000Z","prediction":1.0,"probability":0.9},\
{"id":"b","timestamp":"1970-01-01T00:00:01.250000Z","prediction":"yes"}'
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from sightline.sdk.entries import py

_MAX_TEXT = 200
_MAX_CLASSES = 1000
_NEXT = '},{"id":"'  # ends a record and opens the next one
_BODY = ('{"records":[', "]}")
_THOUSANDS = [f"{i:03d}" for i in range(1000)]
_THOUSANDS_Z = [f'{i:03d}Z"' for i in range(1000)]
#: The ASCII characters that JSON takes as they are in a string.
_PLAIN = bytes(c for c in range(0x20, 0x7F) if c not in b'"\\')


class _Pieces(NamedTuple):
    """One text piece per record: ``table[at]``, or ``table`` itself (one per record)
    when ``at`` is None."""

    table: list[str]
    at: npt.NDArray[np.intp] | None = None

    def then(self, suffix: str) -> _Pieces:
        """The same pieces, each followed by ``suffix``."""
        return _Pieces([t + suffix for t in self.table], self.at)

    def texts(self) -> list[str]:
        if self.at is None:
            return self.table
        table = np.empty(len(self.table), dtype=object)
        table[:] = self.table
        return table[self.at].tolist()  # type: ignore[no-any-return]


def records_body(
    ids: Sequence[Any],
    seconds: npt.NDArray[np.float64],
    predictions: Sequence[Any],
    probabilities: Sequence[Any],
) -> bytes:
    """The collector's body of the records: ``{"records":[...]}`` (joined once).

    >>> records_body(["a"], np.array([0.0]), [None], [None])
    b'{"records":[{"id":"a","timestamp":"1970-01-01T00:00:00.000000Z"}]}'
    """
    return encode_records(ids, seconds, predictions, probabilities, around=_BODY).encode()


def encode_records(
    ids: Sequence[Any],
    seconds: npt.NDArray[np.float64],
    predictions: Sequence[Any],
    probabilities: Sequence[Any],
    *,
    around: tuple[str, str] = ("", ""),
) -> str:
    """The records as JSON objects separated by commas (the inside of the collector's
    ``records`` list), between the texts ``around``; only those for none."""
    n = len(ids)
    if n == 0:
        return "".join(around)
    micros = np.round(np.asarray(seconds, dtype=np.float64) * 1e6).astype(np.int64)
    whole, fraction = np.divmod(micros, 1_000_000)
    unique, second = _distinct(whole)
    pieces = [
        _Pieces(_id_texts(ids)),
        _Pieces([f'","timestamp":"{_second(s)}.' for s in unique.tolist()], second),
        _Pieces(_THOUSANDS, fraction // 1000),
        _Pieces(_THOUSANDS_Z, fraction % 1000),
    ]
    for name, values, one in (
        ("prediction", predictions, _prediction),
        ("probability", probabilities, _probability),
    ):
        field = _fields(name, values, one)
        if field is not None:
            pieces.append(field)
    pieces[-1] = pieces[-1].then(_NEXT)
    width = len(pieces)
    flat: list[str] = [""] * (n * width)  # record by record, piece by piece
    for j, piece in enumerate(pieces):
        flat[j::width] = piece.texts()
    flat[0] = around[0] + '{"id":"' + flat[0]
    flat[-1] = flat[-1][: -len(_NEXT)] + "}" + around[1]
    return "".join(flat)


def _distinct(whole: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
    """The distinct seconds and the index of each in them (by counting when they span
    fewer seconds than there are records, as within a tick; else by sorting)."""
    low = int(whole.min())
    span = int(whole.max()) - low + 1
    if span > whole.size:
        unique, index = np.unique(whole, return_inverse=True)
        return unique, index.ravel()
    offsets = whole - low
    present = np.flatnonzero(np.bincount(offsets, minlength=span))
    lookup = np.zeros(span, dtype=np.intp)
    lookup[present] = np.arange(present.size)
    return present + low, lookup[offsets]


def _second(whole: int) -> str:
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _id_texts(ids: Sequence[Any]) -> list[str]:
    """The ids as the text between their quotes (escaped when needed)."""
    try:
        joined = "".join(ids)
    except TypeError:  # not all text
        joined = None
    if joined is not None and joined.isascii() and not joined.encode().translate(None, _PLAIN):
        return list(ids)  # nothing to escape
    return [encode_basestring_ascii(str(i))[1:-1] for i in ids]


def _fields(name: str, values: Sequence[Any], one: Any) -> _Pieces | None:
    """``,"name":value`` for each value ("" where there is none); None when no value has
    one."""
    values = values.tolist() if isinstance(values, np.ndarray) else values
    types = set(map(type, values))
    if types == {type(None)}:
        return None
    if all(issubclass(t, int | float | np.number | np.bool_) for t in types):
        try:
            return _numbers(name, np.array(values, dtype=np.float64))
        except (OverflowError, TypeError, ValueError):  # an int beyond floats, a complex
            pass
    if types == {str} and name == "prediction":
        distinct = {v: ',"prediction":' + encode_basestring_ascii(v[:_MAX_TEXT]) for v in values}
        return _Pieces(list(map(distinct.__getitem__, values)))
    return _Pieces([one(v) for v in values])


def _numbers(name: str, floats: npt.NDArray[np.float64]) -> _Pieces:
    """Pieces of a numeric column: one text per distinct value."""
    unique, index = np.unique(floats + 0.0, return_inverse=True)  # -0.0 is 0.0
    ok = np.isfinite(unique)
    if name == "probability":
        ok &= (unique >= 0.0) & (unique <= 1.0)
    head = f',"{name}":'
    texts = [
        head + repr(v) if good else "" for v, good in zip(unique.tolist(), ok.tolist(), strict=True)
    ]
    return _Pieces(texts, index.ravel())


def _prediction(value: Any) -> str:
    value = py(value)
    if isinstance(value, str):
        return ',"prediction":' + encode_basestring_ascii(value[:_MAX_TEXT])
    if isinstance(value, int | float):
        f = float(value)
        return f',"prediction":{json.dumps(f)}' if math.isfinite(f) else ""
    return ""


def _probability(value: Any) -> str:
    value = py(value)
    if isinstance(value, Mapping):
        by_class = _class_probabilities(value)
        return f',"probabilities":{json.dumps(by_class)}' if by_class else ""
    if isinstance(value, int | float) and 0.0 <= value <= 1.0:
        return f',"probability":{json.dumps(float(value))}'
    return ""


def _class_probabilities(q: Mapping[Any, Any]) -> dict[str, float] | None:
    """A multiclass row's probabilities as the collector takes them, or None when one is
    not a probability (the row's prediction is still sent)."""
    out = {}
    for label, raw in list(q.items())[:_MAX_CLASSES]:
        p = py(raw)
        if not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
            return None
        out[str(py(label))[:_MAX_TEXT] or "?"] = float(p)
    return out
