"""Column profiles: monoid properties over random splits, statistics against raw data, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sightline.errors import IncompatibleProfilesError, InvalidInputError
from sightline.profile.column import CategoricalColumnProfile, NumericColumnProfile

EDGES = np.array([-10.0, 0.0, 0.5, 100.0])
VOCAB = ("a", "b", "c")


def numeric_of(x: np.ndarray, **kw: object) -> NumericColumnProfile:
    return NumericColumnProfile.zero("x", edges=EDGES, **kw).update(x)  # type: ignore[arg-type]


def categorical_of(values: list[str | None]) -> CategoricalColumnProfile:
    return CategoricalColumnProfile.zero("c", vocabulary=VOCAB).update(values)


def assert_numeric_matches(p: NumericColumnProfile, x: np.ndarray) -> None:
    """``p`` is a profile of the values ``x``: exact parts exactly, sketches within bounds."""
    finite = x[np.isfinite(x)]
    assert p.count == x.size
    assert p.n_missing == np.count_nonzero(np.isnan(x))
    assert p.n_inf == np.count_nonzero(np.isinf(x))
    assert p.n_valid == finite.size == p.moments.n
    assert p.bins is not None
    want_bins = np.bincount(np.searchsorted(EDGES, finite, side="right"), minlength=EDGES.size + 1)
    assert p.bins.tolist() == want_bins.tolist()
    assert (p.min, p.max) == ((finite.min(), finite.max()) if finite.size else (np.inf, -np.inf))
    if finite.size:
        scale = float(np.abs(finite).max())
        assert p.mean == pytest.approx(finite.mean(), rel=1e-9, abs=1e-9 * scale)
        want_m2 = ((finite - finite.mean()) ** 2).sum()
        assert p.moments.m2 == pytest.approx(want_m2, rel=1e-9, abs=1e-9 * scale**2 * finite.size)
    expected_hll = NumericColumnProfile.zero("x").update(finite).hll
    assert p.hll == expected_hll  # register max is exact
    assert p.kll.n == finite.size
    if finite.size:
        xs = np.sort(finite.astype(np.float32).astype(np.float64))
        points = np.unique(np.concatenate([xs, [xs[0] - 1, xs[-1] + 1]]))
        exact = np.searchsorted(xs, points, side="right") / xs.size
        assert np.abs(p.kll.cdf(points) - exact).max() <= p.kll.rank_error


def assert_categorical_matches(p: CategoricalColumnProfile, values: list[str | None]) -> None:
    present = [v for v in values if v is not None]
    assert p.count == len(values)
    assert p.n_missing == len(values) - len(present)
    assert p.counts is not None
    assert p.counts.tolist() == [present.count(v) for v in VOCAB] + [
        sum(v not in VOCAB for v in present)
    ]
    assert p.hll == CategoricalColumnProfile.zero("c").update(sorted(set(present))).hll
    assert p.frequent.total_weight == len(present)
    for item, _, lower, upper in p.frequent.top():
        assert lower <= present.count(item) <= upper


floats = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, -10.0, 100.0]),
)
numeric_data = hnp.arrays(np.float64, st.integers(0, 120), elements=floats)
categorical_data = st.lists(st.sampled_from(["a", "b", "c", "d", "e", None]), max_size=120)
# Merging (associative, commutative, identity, parts = whole, inputs unchanged, pickling)
# is checked for every profile type by tests/contracts/test_mergeable.py.


@settings(max_examples=40, deadline=None)
@given(x=numeric_data)
def test_numeric_profile_matches_raw_data(x: np.ndarray) -> None:
    assert_numeric_matches(numeric_of(x), x)


@settings(max_examples=40, deadline=None)
@given(values=categorical_data)
def test_categorical_profile_matches_raw_data(values: list[str | None]) -> None:
    assert_categorical_matches(categorical_of(values), values)


@pytest.mark.parametrize("seed", range(3))
def test_numeric_statistics_match_raw_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 200_000
    x = rng.lognormal(1.0, 0.7, n)
    x[rng.random(n) < 0.07] = np.nan
    x[:3] = [np.inf, -np.inf, np.inf]
    p = NumericColumnProfile.zero("income")
    for part in np.array_split(x, 9):
        p.update(part)
    finite = x[np.isfinite(x)]
    assert p.mean == pytest.approx(finite.mean(), rel=1e-9)
    assert p.std == pytest.approx(finite.std(ddof=1), rel=1e-9)
    assert (p.min, p.max) == (finite.min(), finite.max())
    assert p.missing_share == np.count_nonzero(np.isnan(x)) / n
    assert p.n_inf == 3
    xs = np.sort(finite)
    qs = np.array([0.01, 0.1, 0.5, 0.9, 0.99])
    got = p.quantiles(qs)
    ranks_below = np.searchsorted(xs, got, side="left") / xs.size
    ranks_upto = np.searchsorted(xs, got, side="right") / xs.size
    assert (ranks_below <= qs + p.kll.rank_error).all()
    assert (ranks_upto >= qs - p.kll.rank_error).all()
    distinct = np.unique(finite).size
    assert abs(p.distinct - distinct) <= 3 * p.hll.relative_error * distinct


def test_categorical_statistics_match_raw_data() -> None:
    rng = np.random.default_rng(4)
    cats = np.array([f"c{i}" for i in range(300)], dtype=object)
    values = cats[rng.zipf(1.5, 50_000) % 300]
    values[rng.random(50_000) < 0.05] = None
    p = CategoricalColumnProfile.zero("city", vocabulary=tuple(cats[:10]))
    p.update(values)
    present = values[values != None]  # noqa: E711  # elementwise on an object array
    uniq, counts = np.unique(present.astype(str), return_counts=True)
    truth = dict(zip(uniq.tolist(), counts.tolist(), strict=True))
    assert p.missing_share == (values.size - present.size) / values.size
    assert abs(p.distinct - uniq.size) <= 3 * p.hll.relative_error * uniq.size
    assert p.counts is not None
    assert p.counts[:10].tolist() == [truth.get(c, 0) for c in cats[:10]]
    assert p.counts[10] == present.size - p.counts[:10].sum()
    for item, est, lower, upper in p.frequent.top():
        assert lower <= truth[item] <= upper
        assert abs(est - truth[item]) <= p.frequent.epsilon * present.size
    heaviest = max(truth, key=truth.__getitem__)
    assert p.frequent.top(1)[0][0] == heaviest


def test_categorical_inputs_agree() -> None:
    raw = ["x", "y", None, "x", float("nan"), "z", "x"]
    from_list = CategoricalColumnProfile.zero("c", vocabulary=("x",)).update(raw)  # type: ignore[arg-type]
    from_array = CategoricalColumnProfile.zero("c", vocabulary=("x",)).update(
        np.array(raw, dtype=object)
    )
    from_counts = CategoricalColumnProfile.zero("c", vocabulary=("x",)).update_counts(
        ["x", "y", "z", None], np.array([3, 1, 1, 2])
    )
    unicode_array = CategoricalColumnProfile.zero("c", vocabulary=("x",)).update(
        np.array(["x", "y", "x", "z", "x"])
    )
    assert from_list == from_array == from_counts
    assert from_list.counts.tolist() == [3, 2]  # type: ignore[union-attr]
    assert (from_list.count, from_list.n_missing) == (7, 2)
    assert unicode_array.counts.tolist() == [3, 2]  # type: ignore[union-attr]


def test_invalid_values_and_absent_rows() -> None:
    p = NumericColumnProfile.zero("age").update(np.array([1.0, np.nan, np.nan, 4.0]), n_invalid=1)
    assert (p.count, p.n_missing, p.n_invalid, p.n_valid) == (4, 1, 1, 2)
    p.add_missing(6)
    assert (p.count, p.n_missing, p.missing_share) == (10, 7, 0.7)
    c = CategoricalColumnProfile.zero("c").add_missing(3)
    assert (c.count, c.n_missing, c.n_valid) == (3, 3, 0)


def test_empty_profile_reads() -> None:
    p = NumericColumnProfile.zero("x")
    assert np.isnan(p.mean) and np.isnan(p.std) and np.isnan(p.missing_share)
    assert p.distinct == 0.0
    d = p.to_dict()
    assert d["mean"] is None and d["min"] is None and d["quantiles"]["p50"] is None
    json.dumps(d, allow_nan=False)
    json.dumps(CategoricalColumnProfile.zero("c").to_dict(), allow_nan=False)


def test_to_dict_is_json_ready() -> None:
    p = numeric_of(np.array([1.0, 2.0, 3.0, np.nan, np.inf]))
    d = json.loads(json.dumps(p.to_dict(), allow_nan=False))
    assert d["count"] == 5 and d["n_valid"] == 3 and d["bins"] == [0, 0, 0, 3, 0]
    assert d["edges"] == EDGES.tolist()
    assert set(d["quantiles"]) == {"p01", "p05", "p10", "p25", "p50", "p75", "p90", "p95", "p99"}
    c = categorical_of(["a", "a", "d", None])
    dc = json.loads(json.dumps(c.to_dict(), allow_nan=False))
    assert dc["counts"] == [2, 0, 0, 1] and dc["top"][0] == {
        "value": "a",
        "count": 2,
        "lower": 2,
        "upper": 2,
    }


def test_incompatible_merges_name_the_column_and_the_difference() -> None:
    a = numeric_of(np.arange(3.0))
    with pytest.raises(IncompatibleProfilesError, match=r"column 'x': bin edges differ \(4 values"):
        a.merge(NumericColumnProfile.zero("x", edges=[1.0]))
    with pytest.raises(
        IncompatibleProfilesError, match=r"column 'x': KLL k differs \(200 vs 100\)"
    ):
        a.merge(NumericColumnProfile.zero("x", edges=EDGES, k=100))
    with pytest.raises(IncompatibleProfilesError, match=r"column 'x': lg_k differs \(10 vs 12\)"):
        a.merge(NumericColumnProfile.zero("x", edges=EDGES, lg_k=12))
    with pytest.raises(IncompatibleProfilesError, match=r"names differ \('x' vs 'y'\)"):
        a.merge(NumericColumnProfile.zero("y", edges=EDGES))
    with pytest.raises(IncompatibleProfilesError, match="cannot merge a numeric profile with"):
        a.merge(categorical_of([]))  # type: ignore[arg-type]
    c = categorical_of(["a"])
    with pytest.raises(IncompatibleProfilesError, match=r"column 'c': vocabularies differ"):
        c.merge(CategoricalColumnProfile.zero("c", vocabulary=("a",)))
    with pytest.raises(IncompatibleProfilesError, match=r"lg_max_map_size differs \(7 vs 9\)"):
        c.merge(CategoricalColumnProfile.zero("c", vocabulary=VOCAB, lg_max_map_size=9))


def test_bad_input_names_the_column_and_changes_nothing() -> None:
    p = numeric_of(np.arange(3.0))
    before = p.to_dict()
    with pytest.raises(
        InvalidInputError, match=r"column 'x': n_invalid is 2 but values hold only 1"
    ):
        p.update(np.array([1.0, np.nan]), n_invalid=2)
    with pytest.raises(
        InvalidInputError, match=r"column 'x': expected numeric values, got dtype <U"
    ):
        p.update(np.array(["a", "b"]))
    with pytest.raises(
        InvalidInputError, match=r"column 'x': expected numeric values, got dtype obj"
    ):
        p.update(np.array([1.0, "a"], dtype=object))
    with pytest.raises(InvalidInputError, match=r"column 'x': values must be 1-D, got 2"):
        p.update(np.zeros((2, 2)))
    with pytest.raises(InvalidInputError, match=r"column 'x': n_invalid must be an integer >= 0"):
        p.update(np.zeros(2), n_invalid=-1)
    assert p.to_dict() == before
    c = categorical_of(["a"])
    before = c.to_dict()
    with pytest.raises(
        InvalidInputError, match=r"column 'c': categorical values must be str or None"
    ):
        c.update(["a", 3])  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match=r"got 1 counts for 2 values"):
        c.update_counts(["a", "b"], np.array([1]))
    with pytest.raises(
        InvalidInputError, match=r"column 'c': values must be a sequence of strings"
    ):
        c.update("abc")
    assert c.to_dict() == before
    with pytest.raises(InvalidInputError, match=r"column 'x': edges must be a 1-D array of finite"):
        NumericColumnProfile.zero("x", edges=[2.0, 1.0])
    with pytest.raises(InvalidInputError, match=r"column 'c': vocabulary values must be distinct"):
        CategoricalColumnProfile.zero("c", vocabulary=("a", "a"))
    with pytest.raises(InvalidInputError, match=r"column 'c': vocabulary must hold strings"):
        CategoricalColumnProfile.zero("c", vocabulary=("a", 1))  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(20))
def test_distinct_is_capped_at_the_values_seen_and_bounds_hold_the_truth(seed: int) -> None:
    rng = np.random.default_rng(seed)
    numeric = NumericColumnProfile.zero("x").update(rng.normal(size=7500))
    categorical = CategoricalColumnProfile.zero("c").update([f"v{i}" for i in range(7500)])
    for p in (numeric, categorical):
        low, high = p.distinct_bounds
        assert p.distinct == min(p.hll.estimate(), 7500) and high <= 7500
        assert low <= 7500 <= high


@pytest.mark.parametrize("seed", range(3))
def test_batches_sorted_for_kll_give_the_same_profile(seed: int) -> None:
    """A batch beyond KLL's exact mode reaches KLL sorted and HLL once per distinct value:
    every exact part (counts, moments, bins, HLL registers) equals the one of the values in
    their order, bit for bit; KLL sees every value and stays within its rank error; a sketch
    still exact keeps its bytes."""
    rng = np.random.default_rng(seed)
    batches = [
        np.round(rng.normal(size=n), 1 if i % 2 else 6)  # few distinct values, then many
        for i, n in enumerate(rng.integers(1, 5_000, size=6))
    ]
    batches[2][:3] = [np.nan, np.inf, -0.0]
    p = NumericColumnProfile.zero("x", edges=EDGES)
    for b in batches:
        p.update(b)
    x = np.concatenate(batches)
    assert_numeric_matches(p, x)
    finite = x[np.isfinite(x)]
    hll = NumericColumnProfile.zero("x").hll
    for b in batches:
        hll.update_numbers(b[np.isfinite(b)])
    assert np.array_equal(p.hll.registers, hll.registers)
    assert p.kll.n == finite.size
    qs = np.linspace(0.05, 0.95, 19)
    ordered, got = np.sort(finite.astype(np.float32)), p.kll.quantiles(qs).astype(np.float32)
    below = np.searchsorted(ordered, got, "left") / finite.size  # ties: a range of ranks
    upto = np.searchsorted(ordered, got, "right") / finite.size
    assert (below - p.kll.rank_error <= qs).all() and (qs <= upto + p.kll.rank_error).all()
    small = rng.normal(size=150)
    exact = NumericColumnProfile.zero("x").update(small[:100]).update(small[100:])
    assert exact.kll.to_bytes() == NumericColumnProfile.zero("x").kll.update(small).to_bytes()
