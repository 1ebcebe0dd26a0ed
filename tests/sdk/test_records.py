"""Prediction records encoded column by column equal the records the collector documents."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from sightline.sdk.records import encode_records


def oracle(ids: list[Any], seconds: np.ndarray, preds: list[Any], probs: list[Any]) -> list[Any]:
    """The records built one by one with the json module."""
    out = []
    for i, s, p, q in zip(ids, seconds, preds, probs, strict=True):
        stamp = datetime.fromtimestamp(round(s * 1e6) / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
        record: dict[str, Any] = {"id": str(i), "timestamp": stamp + "Z"}
        p = p.item() if isinstance(p, np.generic) else p
        if isinstance(p, str):
            record["prediction"] = p[:200]
        elif isinstance(p, int | float) and math.isfinite(p):
            record["prediction"] = float(p)
        q = q.item() if isinstance(q, np.generic) else q
        if isinstance(q, dict):
            record["probabilities"] = {str(k): float(v) for k, v in q.items()}
        elif isinstance(q, int | float) and 0 <= q <= 1:
            record["probability"] = float(q)
        out.append(record)
    return out


CASES = {
    "floats": ([0.1, 2.5, float("nan"), 1e300], [0.2, 1.5, -0.1, float("inf")]),
    "texts": (["yes", "no", "é" * 300, 'a"b'], [None, None, None, None]),
    "mixed": ([1, "one", None, np.float32(0.5)], [{"a": np.float32(0.25)}, 0.5, None, 1]),
    "numpy": (list(np.arange(4, dtype=np.int64)), list(np.linspace(0, 1, 4, dtype=np.float32))),
}


@pytest.mark.parametrize("case", CASES)
def test_records_match_the_json_module(case: str) -> None:
    preds, probs = CASES[case]
    ids = ["a", "ü-2", 'q"3', "4"]
    seconds = np.array([0.5, 1_700_000_000.1234567, 1_700_000_000.9999996, 86_400.0])
    got = [json.loads(r) for r in encode_records(ids, seconds, preds, probs)]
    assert got == oracle(ids, seconds, preds, probs)
