"""Prediction records encoded column by column equal the records the collector documents."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    got = json.loads(f"[{encode_records(ids, seconds, preds, probs)}]")
    assert got == oracle(ids, seconds, preds, probs)


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0, 1),
    st.text(max_size=5),
    st.sampled_from([np.float32(0.25), np.int64(3), np.bool_(True), -0.0]),
    st.dictionaries(st.sampled_from(["a", "b"]), st.floats(0, 1), min_size=1, max_size=2),
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.text(max_size=8), st.integers(0, 99)),
            st.integers(0, 4_000_000_000_000_000),
            st.one_of(st.lists(_VALUES, min_size=1, max_size=1), st.just([0.5])),
            _VALUES,
        ),
        min_size=1,
        max_size=30,
    )
)
def test_any_records_match_the_json_module(rows: list[tuple[Any, int, list[Any], Any]]) -> None:
    """Random ids (escaped or not), times and values of every kind, alone or mixed."""
    ids = [r[0] for r in rows]
    seconds = np.array([r[1] / 1e6 for r in rows])
    preds = [r[2][0] for r in rows]
    probs = [r[3] for r in rows]
    got = json.loads(f"[{encode_records(ids, seconds, preds, probs)}]")
    assert got == oracle(ids, seconds, preds, probs)


def test_a_column_of_one_kind_is_encoded_once_per_distinct_value() -> None:
    """The common shapes (numbers, texts, nothing) give the same text as the oracle, record
    for record, over more than one second."""
    n = 2_500
    ids = [f"host-1-{i}" for i in range(n)]
    seconds = 1_700_000_000 + np.arange(n) * 0.001
    for preds, probs in (
        ([i % 2 for i in range(n)], list(np.linspace(0, 1, n))),
        (["yes", "no"] * (n // 2), [None] * n),
        ([None] * n, [0.5] * n),
    ):
        got = json.loads(f"[{encode_records(ids, seconds, preds, probs)}]")
        assert got == oracle(ids, seconds, preds, probs)
    assert encode_records([], np.array([]), [], []) == ""
