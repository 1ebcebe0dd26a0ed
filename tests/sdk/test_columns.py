"""Logged rows into the profile's columns: the fast paths give the profile of the slow ones."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sightline.profile import Column, Profile, Schema
from sightline.sdk.columns import (
    BLOCK_ROWS,
    _fast_numeric,
    categorical,
    categories,
    from_rows,
    numeric,
)

SCHEMA = Schema((Column("x"), Column("y"), Column("c", kind="categorical")))
CELLS = st.one_of(
    st.sampled_from(["red", "green", "blue"]),
    st.none(),
    st.just(float("nan")),
    st.integers(0, 3),
    st.booleans(),
    st.text(max_size=3),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(CELLS, min_size=1, max_size=200))
def test_categories_profile_as_the_cells_as_text(cells: list[Any]) -> None:
    """Counted distinct texts give the profile, byte for byte, of every cell as text."""
    texts = categorical(cells)
    by_counts = Profile.zero(SCHEMA).update({}, counted={"c": categories(cells)})
    by_values = Profile.zero(SCHEMA).update({"c": texts})
    assert by_counts.to_bytes() == by_values.to_bytes()
    keys, counts = categories(cells)
    assert sum(counts) == len(cells) and len(set(keys)) == len(keys)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "x": st.floats(allow_nan=True, allow_infinity=True),
                "y": st.one_of(st.integers(-5, 5), st.none(), st.just("bad")),
                "c": CELLS,
            }
        ),
        min_size=1,
        max_size=60,
    )
)
def test_rows_profile_as_their_columns(rows: list[dict[str, Any]]) -> None:
    """Rows through :func:`from_rows` (fast or per cell) profile as their columns given whole."""
    cols = from_rows(SCHEMA, rows, {})
    got = Profile.zero(SCHEMA).update(cols.values, n_invalid=cols.n_invalid, counted=cols.counted)
    y = [r["y"] if not isinstance(r["y"], str) else math.nan for r in rows]
    want = Profile.zero(SCHEMA).update(
        {
            "x": np.array([r["x"] for r in rows]),
            "y": np.array(y, dtype=np.float64),
            "c": categorical([r["c"] for r in rows]),
        },
        n_invalid={"y": sum(isinstance(r["y"], str) for r in rows)},
    )
    assert got.to_bytes() == want.to_bytes()


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 3 * BLOCK_ROWS + 7), st.integers(0, 2**32 - 1))
def test_rows_across_blocks_give_each_column_in_row_order(n: int, seed: int) -> None:
    """The fast path turns rows into floats block by block: every column, across the
    blocks' edges, holds its cells in row order (numpy scalars, None, NaN and infinity
    included), as :func:`numeric` gives it from the column's cells."""
    rng = np.random.default_rng(seed)
    pool: list[Any] = [None, math.nan, math.inf, -math.inf, np.float32(1.5), np.int64(-3), True]
    rows = [
        {
            "x": float(rng.normal()) if rng.random() < 0.9 else pool[rng.integers(len(pool))],
            "y": int(rng.integers(-5, 5)),
            "c": "abc"[rng.integers(3)],
        }
        for _ in range(n)
    ]
    cols = from_rows(SCHEMA, rows, {})
    for name in ("x", "y"):
        want, invalid = numeric([r[name] for r in rows])
        np.testing.assert_array_equal(cols.values[name], want)
        assert invalid == 0 and name not in cols.n_invalid


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(-(2**80), 2**80),
            st.booleans(),
            st.sampled_from([np.float32(0.1), np.int64(2**40), np.bool_(True), np.uint8(7)]),
            st.decimals(allow_nan=False, allow_infinity=False, places=3, max_value=10**6),
            st.sampled_from([None, "2.5", "bad", "nan"]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_struct_fast_path_reads_cells_as_the_per_cell_path(cells: list[Any]) -> None:
    """A row's numeric cells become doubles in one ``struct`` call: for every kind of
    number it gives what :func:`numeric` gives cell by cell; a cell it cannot read (None,
    text) sends the batch to the per-cell path, with the same result."""
    schema = Schema((Column("x"), Column("y")))
    rows = [{"x": cell, "y": 1.0} for cell in cells]
    cols = from_rows(schema, rows, {})
    want, invalid = numeric(cells)
    np.testing.assert_array_equal(cols.values["x"], want)
    assert cols.n_invalid.get("x", 0) == invalid
    readable = all(cell is None or not isinstance(cell, str) for cell in cells)
    fast = _fast_numeric(rows, ["x", "y"], 2)
    assert (fast is not None) == (readable and None not in cells)
