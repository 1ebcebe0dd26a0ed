"""Prediction records (id, timestamp, prediction, probability) as JSON, column by column.

Records are the bulk of what the SDK sends (one per row, for label joins), so they are
encoded without a dict per record: ids through the C string escaper, times formatted once
per distinct second, numeric predictions and probabilities through one ``json.dumps`` of
the whole column; only columns of mixed types take a path per value.

>>> encode_records(["a", "b"], np.array([0.5, 1.25]), [1, "yes"], [0.9, None])
['{"id":"a","timestamp":"1970-01-01T00:00:00.500000Z","prediction":1.0,"probability":0.9}', \
'{"id":"b","timestamp":"1970-01-01T00:00:01.250000Z","prediction":"yes"}']
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from typing import Any

import numpy as np
import numpy.typing as npt

from sightline.sdk.entries import py

_RECORD = '{{"id":{},"timestamp":"{}.{:06d}Z"{}{}}}'.format
_MAX_TEXT = 200
_MAX_CLASSES = 1000


def encode_records(
    ids: Sequence[Any],
    seconds: npt.NDArray[np.float64],
    predictions: Sequence[Any],
    probabilities: Sequence[Any],
) -> list[str]:
    """One JSON object per record (what the collector's ``records`` list takes)."""
    micros = np.round(seconds * 1e6).astype(np.int64)
    whole, fraction = np.divmod(micros, 1_000_000)
    unique, inverse = np.unique(whole, return_inverse=True)
    prefixes = [datetime.fromtimestamp(int(s), UTC).strftime("%Y-%m-%dT%H:%M:%S") for s in unique]
    return list(
        map(
            _RECORD,
            map(encode_basestring_ascii, map(str, ids)),
            map(prefixes.__getitem__, inverse.tolist()),
            fraction.tolist(),
            _fields("prediction", predictions, _prediction),
            _fields("probability", probabilities, _probability),
        )
    )


def _fields(name: str, values: Sequence[Any], one: Any) -> list[str]:
    """``,"name":value`` for each value (empty where there is none)."""
    if all(v is None for v in values):
        return [""] * len(values)
    column = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if column.dtype.kind == "U" and name == "prediction" and set(map(type, values)) == {str}:
        return [',"prediction":' + encode_basestring_ascii(v[:_MAX_TEXT]) for v in values]
    if column.dtype.kind in "fiub" and column.ndim == 1:
        floats = column.astype(np.float64)
        ok = np.isfinite(floats)
        if name == "probability":
            ok &= (floats >= 0.0) & (floats <= 1.0)
        texts = json.dumps(floats.tolist())[1:-1].split(", ")
        head = f',"{name}":'
        return [head + t if good else "" for t, good in zip(texts, ok.tolist(), strict=True)]
    return [one(v) for v in values]


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
