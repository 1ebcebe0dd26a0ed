"""The numpy checks of Arrow columns refuse exactly what Arrow's kernels would."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sightline.server import bodies as b


def _kernel_texts(col: pa.ChunkedArray) -> str | None:
    """The rule as Arrow kernels state it: the first refusal, or None."""
    col = pc.cast(col, pa.string())
    if (pc.max(pc.utf8_length(col)).as_py() or 0) > 200:
        return "longer than 200"
    if pc.any(pc.match_substring(col, "\x00")).as_py():
        return "NUL"
    return None


def _kernel_numbers(col: pa.ChunkedArray, low: float, high: float) -> str | None:
    values = pc.cast(col, pa.float64(), safe=False)
    if pc.any(pc.invert(pc.is_finite(values))).as_py():
        return "NaN or infinity"
    if pc.any(pc.or_(pc.less(values, low), pc.greater(values, high))).as_py():
        return "outside"
    return None


def _refusal(check: object, *args: object, **kwargs: object) -> str | None:
    try:
        check(*args, **kwargs)  # type: ignore[operator]
    except b.ApiError as exc:
        return exc.message
    return None


TEXTS = [
    ["a", "b"],
    ["a", "b\x00"],
    ["a" * 200, "é" * 200],  # 400 bytes, 200 characters
    ["a" * 201],
    ["é" * 101],
    [None, "x\x00"],
    [None, "y" * 300],
    [None],
    [""],
    [],
]


@pytest.mark.parametrize("values", TEXTS)
@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_texts_refuse_what_the_kernels_refuse(values: list[str | None], kind: pa.DataType) -> None:
    whole = pa.array(values, kind)
    for col in (
        pa.chunked_array([whole], kind),
        pa.chunked_array([whole.slice(0, 1), whole.slice(1)], kind),  # sliced chunks
        pa.chunked_array([pa.array(["zz\x00", *values], kind)[1:]], kind),  # an offset
    ):
        expected = _kernel_texts(col)
        got = _refusal(b.texts, col, "id")
        assert (got is None) == (expected is None), (values, got)
        if expected is not None:
            assert got is not None and expected in got


def test_texts_check_length_before_nul_across_chunks() -> None:
    col = pa.chunked_array([pa.array(["a\x00"]), pa.array(["q" * 300])])
    assert _refusal(b.texts, col, "id") == "column 'id' holds strings longer than 200 characters"


NUMBERS = [
    [0.0, 0.5, 1.0],
    [1.5],
    [-0.1],
    [math.nan],
    [None, math.inf],
    [None, 2.0],
    [None],
    [],
    [-math.inf, 0.2],
]


@pytest.mark.parametrize("values", NUMBERS)
@pytest.mark.parametrize("bounds", [(0.0, 1.0), (-math.inf, math.inf)])
def test_numbers_refuse_what_the_kernels_refuse(
    values: list[float | None], bounds: tuple[float, float]
) -> None:
    col = pa.chunked_array([pa.array(values, pa.float64())], pa.float64())
    expected = _kernel_numbers(col, *bounds)
    got = _refusal(b.numbers, col, "p", low=bounds[0], high=bounds[1])
    assert (got is None) == (expected is None), (values, got)
    if expected is not None:
        assert got is not None and expected in got


def test_numbers_of_integers_and_random_floats_match_the_kernels() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        values = rng.normal(0.5, 0.4, 20)
        col = pa.chunked_array([pa.array(values[:7]), pa.array(values[7:])])
        expected = _kernel_numbers(col, 0.0, 1.0)
        assert (_refusal(b.numbers, col, "p", low=0.0, high=1.0) is None) == (expected is None)
    ints = pa.chunked_array([pa.array([1, 2**60], pa.int64())])
    assert b.numbers(ints, "p").to_pylist() == [1.0, float(2**60)]
