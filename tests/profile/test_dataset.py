"""Dataset profiles: merge = concatenation over random splits, batch semantics, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import sightline.profile
from sightline.errors import IncompatibleProfilesError, InvalidInputError, SchemaError
from sightline.profile import (
    LATENCY_BUCKETS_MS,
    CategoricalColumnProfile,
    Column,
    NumericColumnProfile,
    Profile,
    Schema,
    merge_profiles,
)

SCHEMA = Schema(
    (
        Column("id", role="id", kind="categorical"),
        Column("age"),
        Column("color", kind="categorical"),
        Column("score", role="prediction"),
        Column("label", role="target", kind="categorical"),
    )
)
EDGES = {"age": np.array([18.0, 40.0, 65.0]), "score": np.array([0.5])}
VOCABS = {"color": ("red", "green"), "label": ("0", "1")}
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def zero(**kw: object) -> Profile:
    args: dict[str, object] = {
        "edges": EDGES,
        "vocabularies": VOCABS,
        "model": "churn",
        "version": "3",
    }
    args.update(kw)
    return Profile.zero(SCHEMA, **args)  # type: ignore[arg-type]


def frame(seed: int, n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 12, n)
    age[rng.random(n) < 0.1] = np.nan
    color = np.array(["red", "green", "blue", None], dtype=object)[rng.integers(0, 4, n)]
    return {
        "id": np.arange(n).astype(str),
        "age": age,
        "color": color,
        "score": rng.random(n),
        "label": np.array(["0", "1"], dtype=object)[rng.integers(0, 2, n)],
    }


def assert_profiles_close(a: Profile, b: Profile) -> None:
    """Equal up to the merge's tolerances: exact parts exactly, moments to 1e-9, KLL by bound."""
    assert (a.schema, a.model, a.version, a.instance_ids) == (
        b.schema,
        b.model,
        b.version,
        b.instance_ids,
    )
    assert (a.window_start, a.window_end) == (b.window_start, b.window_end)
    assert (a.n_rows, a.n_predictions, a.n_errors) == (b.n_rows, b.n_predictions, b.n_errors)
    assert a.latency_buckets.tolist() == b.latency_buckets.tolist()
    assert a.latency.n == b.latency.n
    for name, ca in a.columns.items():
        cb = b.columns[name]
        assert (ca.count, ca.n_missing) == (cb.count, cb.n_missing)
        assert ca.hll == cb.hll
        if isinstance(ca, NumericColumnProfile):
            assert isinstance(cb, NumericColumnProfile)
            assert (ca.n_inf, ca.n_invalid, ca.min, ca.max) == (
                cb.n_inf,
                cb.n_invalid,
                cb.min,
                cb.max,
            )
            assert np.array_equal(ca.bins, cb.bins)  # type: ignore[arg-type]
            assert ca.moments.n == cb.moments.n
            assert ca.moments.mean == pytest.approx(cb.moments.mean, rel=1e-9, abs=1e-12)
            assert ca.moments.m2 == pytest.approx(cb.moments.m2, rel=1e-9, abs=1e-12)
            assert ca.kll.n == cb.kll.n
            if ca.kll.n:
                pts = np.linspace(ca.min, ca.max, 17)
                bound = ca.kll.rank_error + cb.kll.rank_error
                assert np.abs(ca.kll.cdf(pts) - cb.kll.cdf(pts)).max() <= bound
        else:
            assert isinstance(cb, CategoricalColumnProfile)
            assert np.array_equal(ca.counts, cb.counts)  # type: ignore[arg-type]
            assert ca.frequent.total_weight == cb.frequent.total_weight
            assert dict((v, e) for v, e, _, _ in ca.frequent.top()) == dict(
                (v, e) for v, e, _, _ in cb.frequent.top()
            )


def test_update_semantics() -> None:
    p = zero(instance_id="n1", window_start=T0, window_end=T0 + timedelta(hours=1))
    p.update({"age": np.array([30.0, np.nan, np.inf]), "id": ["a", "b", "c"]})
    assert p.n_rows == 3
    age, color = p.columns["age"], p.columns["color"]
    assert (age.count, age.n_missing, age.n_inf, age.n_valid) == (3, 1, 1, 1)
    assert (color.count, color.n_missing) == (3, 3)  # absent: missing in every row
    assert list(p.columns) == ["age", "color", "score", "label"]  # schema order, no id
    p.update({}, counted={"color": (["red", "blue", None], np.array([2, 1, 1]))})
    assert p.n_rows == 7
    assert p.columns["age"].n_missing == 5
    assert p.columns["color"].counts.tolist() == [2, 0, 1]  # type: ignore[union-attr]
    p.update_counts("label", ["1"], np.array([5]))
    assert (p.n_rows, p.columns["label"].count) == (7, 12)
    p.update({"age": np.array([1.0, np.nan])}, n_invalid={"age": 1})
    assert (age.n_invalid, age.n_missing) == (1, 5)  # the NaN stands for the invalid value


def test_update_checks_everything_before_changing_anything() -> None:
    p = zero().update(frame(0, 10))
    before = p.to_dict()
    with pytest.raises(SchemaError, match=r"unknown columns: \['nope'\]; the schema has"):
        p.update({"age": np.ones(2), "nope": np.ones(2)})
    with pytest.raises(InvalidInputError, match=r"same length, got \{'age': 2, 'score': 3\}"):
        p.update({"age": np.ones(2), "score": np.ones(3)})
    with pytest.raises(InvalidInputError, match=r"column 'score': expected numeric values"):
        p.update({"age": np.ones(2), "score": np.array(["a", "b"])})
    with pytest.raises(InvalidInputError, match=r"column 'color': categorical values must be str"):
        p.update({"age": np.ones(2), "color": [1, 2]})
    with pytest.raises(SchemaError, match=r"only profiled categorical columns can be given as"):
        p.update({}, counted={"age": (["1"], np.array([1]))})
    with pytest.raises(InvalidInputError, match=r"a \(values, counts\) tuple, got \['color'\]"):
        p.update({}, counted={"color": ["red"]})  # type: ignore[dict-item]
    with pytest.raises(SchemaError, match=r"both as values and as counts: \['color'\]"):
        p.update({"color": ["red"]}, counted={"color": (["red"], np.array([1]))})
    with pytest.raises(SchemaError, match=r"n_invalid names columns .*: \['color'\]"):
        p.update({"color": ["red"]}, n_invalid={"color": 1})
    with pytest.raises(SchemaError, match=r"update_counts needs a profiled categorical column"):
        p.update_counts("age", ["1"], np.array([1]))
    with pytest.raises(InvalidInputError, match="columns must be a mapping"):
        p.update([np.ones(2)])  # type: ignore[arg-type]
    assert p.to_dict() == before


def test_latency_buckets_follow_prometheus_le() -> None:
    p = zero()
    lat = np.array([0.0, 5.0, 5.0001, 10.0, 99.0, 10000.0, 10000.5, 1e7])
    p.record_latency(lat, n_errors=2)
    assert (p.n_predictions, p.n_errors) == (8, 2)
    cumulative = np.cumsum(p.latency_buckets)
    for le, count in zip(LATENCY_BUCKETS_MS, cumulative, strict=False):
        assert count == np.count_nonzero(lat <= le)
    assert cumulative[-1] == lat.size
    assert p.latency.n == 8
    d = p.to_dict()
    assert d["latency_ms"]["buckets"][0] == {"le": 5.0, "count": 2}
    assert d["latency_ms"]["buckets"][-1] == {"le": "+Inf", "count": 8}
    assert d["error_rate"] == 0.25
    with pytest.raises(InvalidInputError, match="latency_ms must be a 1-D array of finite"):
        p.record_latency([-1.0])
    with pytest.raises(InvalidInputError, match="n_errors must be an integer >= 0, got -1"):
        p.record_latency([1.0], n_errors=-1)
    assert p.n_predictions == 8


def test_statistics_from_a_profile_match_raw_data() -> None:
    data = frame(7, 60_000)
    p = zero()
    for lo in range(0, 60_000, 7_000):
        p.update({k: v[lo : lo + 7_000] for k, v in data.items()})
    age = data["age"][~np.isnan(data["age"])]
    col = p.columns["age"]
    assert isinstance(col, NumericColumnProfile)
    assert col.mean == pytest.approx(age.mean(), rel=1e-9)
    assert col.std == pytest.approx(age.std(ddof=1), rel=1e-9)
    assert col.missing_share == pytest.approx(1 - age.size / 60_000, rel=1e-12)
    xs = np.sort(age.astype(np.float32).astype(np.float64))
    median = col.quantiles([0.5])[0]
    assert abs(np.searchsorted(xs, median) / xs.size - 0.5) <= col.kll.rank_error
    assert abs(col.distinct - xs.size) <= 3 * col.hll.relative_error * xs.size
    assert (
        col.bins.tolist()
        == np.bincount(  # type: ignore[union-attr]
            np.searchsorted(EDGES["age"], age, side="right"), minlength=4
        ).tolist()
    )
    d = json.loads(json.dumps(p.to_dict(), allow_nan=False))
    assert d["columns"]["color"]["counts"][2] == int(np.sum(data["color"] == "blue"))
    assert d["n_rows"] == 60_000


def test_a_large_batch_updated_on_threads_equals_its_parts_and_one_thread() -> None:
    data = frame(8, 120_000)  # above the rows that switch the update to two threads
    whole = zero().update(data)
    parts = [
        zero().update({k: v[lo : lo + 30_000] for k, v in data.items()})
        for lo in (0, 30_000, 60_000, 90_000)
    ]
    assert_profiles_close(merge_profiles(parts), whole)
    assert_profiles_close(zero().update(data, threads=False), whole)  # the SDK's way


@settings(max_examples=60, deadline=None)
@given(
    x=hnp.arrays(
        np.float64,
        st.integers(1, 400),
        elements=st.one_of(
            st.floats(-1e300, 1e300),  # wider, neighbouring deciles' difference overflows
            st.sampled_from([0.0, -0.0, 1.0, 2.5, np.inf, -np.inf, np.nan]),
        ),
    ),
    n_bins=st.integers(1, 12),
)
def test_own_edges_are_the_quantile_edges_of_compare(x: np.ndarray, n_bins: int) -> None:
    from sightline.analysis.profiling import profile_data
    from sightline.stats._binning import quantile_edges, sort_columns

    x[0] = 1.0  # at least one finite value, so the column is numeric
    got = profile_data({"x": x}, n_bins=n_bins).columns["x"]
    assert isinstance(got, NumericColumnProfile) and got.edges is not None
    want = quantile_edges(sort_columns(np.where(np.isinf(x), np.nan, x)), n_bins)[0]
    assert np.array_equal(got.edges, want)


def test_categorical_counts_of_dictionary_and_text_columns_agree() -> None:
    import pyarrow as pa

    text = ["b", None, "a", "b", "c", "b", None, "a"]
    chunks = [pa.array(text[:5]).dictionary_encode(), pa.array(text[5:]).dictionary_encode()]
    floats = [1.0, -0.0, np.nan, 0.0, 2.0, None, 1.0, 2.0]
    dictionary = pa.table(
        {
            "c": pa.chunked_array(chunks),
            "f": pa.chunked_array([pa.array(floats).dictionary_encode()]),
        }
    )
    plain = pa.table({"c": text, "f": ["1", "0", None, "0", "2", None, "1", "2"]})
    a, b = Profile.from_data(dictionary), Profile.from_data(plain)
    for name in ("c", "f"):
        ca, cb = a.columns[name], b.columns[name]
        assert isinstance(ca, CategoricalColumnProfile) and isinstance(cb, CategoricalColumnProfile)
        assert ca.vocabulary == cb.vocabulary
        assert np.array_equal(ca.counts, cb.counts)  # type: ignore[arg-type]
        assert (ca.count, ca.n_missing, ca.frequent.top(), ca.hll) == (
            cb.count,
            cb.n_missing,
            cb.frequent.top(),
            cb.hll,
        )


def test_merge_errors_are_clear() -> None:
    p = zero()
    with pytest.raises(IncompatibleProfilesError, match="different models: 'churn' and 'fraud'"):
        p.merge(zero(model="fraud"))
    with pytest.raises(IncompatibleProfilesError, match="different versions: '3' and '4'"):
        p.merge(zero(version="4"))
    other = Schema((*SCHEMA.columns, Column("extra")))
    with pytest.raises(
        IncompatibleProfilesError, match=r"different schemas: only in the second: \['extra'\]"
    ):
        p.merge(Profile.zero(other, model="churn", version="3"))
    with pytest.raises(IncompatibleProfilesError, match=r"column 'age': bin edges differ"):
        p.merge(zero(edges={"age": np.array([1.0]), "score": EDGES["score"]}))
    with pytest.raises(IncompatibleProfilesError, match=r"column 'label': vocabularies differ"):
        p.merge(zero(vocabularies={"color": VOCABS["color"]}))
    with pytest.raises(
        IncompatibleProfilesError, match=r"column 'age': KLL k differs \(200 vs 50\)"
    ):
        p.merge(zero(k=50))
    q = zero()
    q.schema_version = 2
    with pytest.raises(IncompatibleProfilesError, match="schema versions 1 and 2"):
        p.merge(q)
    with pytest.raises(InvalidInputError, match="needs at least one profile"):
        merge_profiles([])


def test_merge_profiles_folds_windows_and_instances() -> None:
    parts = [
        zero(
            instance_id=f"n{i % 3}",
            window_start=T0 + timedelta(minutes=i),
            window_end=T0 + timedelta(minutes=i + 1),
        ).update(frame(i, 20))
        for i in range(10)
    ]
    before = [p.to_bytes() for p in parts]
    m = merge_profiles(parts)
    assert [p.to_bytes() for p in parts] == before  # inputs untouched
    assert m.instance_ids == ("n0", "n1", "n2")
    assert (m.window_start, m.window_end) == (T0, T0 + timedelta(minutes=10))
    assert m.n_rows == 200
    assert_profiles_close(
        m,
        parts[0]
        + parts[1]
        + parts[2]
        + parts[3]
        + parts[4]
        + parts[5]
        + parts[6]
        + parts[7]
        + parts[8]
        + parts[9],
    )


def test_reference_spec_builds_compatible_profiles() -> None:
    ref = zero()
    edges, vocabularies = ref.reference_spec()
    assert edges.keys() == EDGES.keys() and vocabularies == VOCABS
    cur = Profile.zero(SCHEMA, edges=edges, vocabularies=vocabularies, model="churn", version="3")
    ref.merge(cur)
    assert Profile.zero(SCHEMA).reference_spec() == ({}, {})


def test_zero_checks_its_arguments() -> None:
    with pytest.raises(
        SchemaError, match=r"edges names columns that are not profiled numeric .*\['color'\]"
    ):
        Profile.zero(SCHEMA, edges={"color": [1.0]})
    with pytest.raises(SchemaError, match=r"vocabularies names .*: \['id'\]"):
        Profile.zero(SCHEMA, vocabularies={"id": ("a",)})
    with pytest.raises(InvalidInputError, match="window_start must be a timezone-aware datetime"):
        Profile.zero(SCHEMA, window_start=datetime(2026, 1, 1))
    with pytest.raises(InvalidInputError, match="must not be after window_end"):
        Profile.zero(SCHEMA, window_start=T0, window_end=T0 - timedelta(seconds=1))
    with pytest.raises(InvalidInputError, match="schema must be a Schema, got dict"):
        Profile.zero({})  # type: ignore[arg-type]
    p = Profile.zero(
        SCHEMA, window_start=datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))
    )
    assert p.window_start == T0 and p.window_start.tzinfo == UTC


def test_save_and_load(tmp_path: Path) -> None:
    p = zero(instance_id="a", window_start=T0).update(frame(1, 100)).record_latency([3.0])
    path = tmp_path / "window.slp"
    p.save(path)
    assert Profile.load(path) == p
    assert [f.name for f in tmp_path.iterdir()] == ["window.slp"]  # no temporary left behind


def test_profile_layer_imports_no_heavy_dependency() -> None:
    # The package root may import the analysis layer; load sightline.profile on its own,
    # as an edge SDK that imports only the profile layer would.
    src = Path(sightline.profile.__file__).parents[1]
    code = (
        "import sys, types; "
        f"pkg = types.ModuleType('sightline'); pkg.__path__ = [{str(src)!r}]; "
        "sys.modules['sightline'] = pkg; "
        "import sightline.profile; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'pandas', 'pyarrow', 'scipy', 'polars', 'sightline.analysis'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
