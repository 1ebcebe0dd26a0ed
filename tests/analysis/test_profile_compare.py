"""compare() with profiles on either side: same rows as raw data where the math allows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sightline
from sightline import Profile
from sightline.analysis.drift import COUNT_STATS
from sightline.analysis.methods import ALL_METHODS, COUNT_METHODS
from sightline.analysis.profile_compare import sketch_wasserstein
from sightline.errors import IncompatibleProfilesError
from sightline.profile.column import NumericColumnProfile
from sightline.stats.drift import TestResult
from sightline.stats.multiple import benjamini_hochberg


def _frames(
    n: int = 20_000, shift: float = 0.3, seed: int = 4
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def frame(delta: float, p: list[float]) -> pd.DataFrame:
        x = rng.normal(delta, 1.0, n)
        x[rng.random(n) < 0.03] = np.nan
        return pd.DataFrame(
            {
                "x": x,
                "y": rng.lognormal(0.0, 0.7, n),
                "c": rng.choice(["a", "b", "c", "d"], n, p=p),
            }
        )

    return frame(0.0, [0.4, 0.3, 0.2, 0.1]), frame(shift, [0.3, 0.3, 0.2, 0.2])


def _drift(result: sightline.Result) -> dict[str, sightline.MetricRow]:
    return {r.column: r for r in result.rows if r.metric in ALL_METHODS}


@pytest.mark.parametrize("method", sorted(COUNT_METHODS))
def test_count_statistics_of_all_columns_at_once_equal_each_column_alone(method: str) -> None:
    """compare_profiles computes a method's statistic for all its columns in one call;
    each column's value and p-value equal those of its own histograms, to the last bit
    (columns of 2 to 11 bins and 2 to 7 categories, one empty on the current side)."""
    rng = np.random.default_rng(11)
    n = 3_000
    data = {f"x{b}": np.round(rng.normal(0, 1, n), b % 3) * b for b in range(1, 6)}
    data |= {f"c{k}": rng.choice([f"v{i}" for i in range(k)], n) for k in range(2, 8)}
    reference = Profile.from_data(pd.DataFrame(data))
    moved = {k: (v + 0.2 if k.startswith("x") else v) for k, v in data.items()}
    moved["c2"] = np.array([None] * n, dtype=object)
    current = Profile.from_data(pd.DataFrame(moved), reference)
    result = sightline.compare(reference, current, methods=dict.fromkeys(data, method))
    rows = [r for r in result.rows if r.metric == method]
    alone = [COUNT_STATS[method](*_histograms(reference, current, r.column)) for r in rows]
    values = [float(a.statistic[0] if isinstance(a, TestResult) else a[0]) for a in alone]
    pvalues = [float(a.pvalue[0]) for a in alone if isinstance(a, TestResult)]
    assert [r.value for r in rows] == pytest.approx(values, rel=0, abs=0, nan_ok=True)
    if pvalues:
        adjusted = benjamini_hochberg(pvalues).tolist()
        assert [r.p_value for r in rows] == pytest.approx(adjusted, rel=0, abs=0, nan_ok=True)
    sizes = {_histograms(reference, current, r.column)[0].size for r in rows}
    assert len(rows) == len(data) and len(sizes) >= 5


def _histograms(reference: Profile, current: Profile, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A column's two histograms (bins or category counts), as one-column arrays."""
    found = []
    for p in (reference.columns[name], current.columns[name]):
        counts = p.bins if isinstance(p, NumericColumnProfile) else p.counts
        assert counts is not None
        found.append(counts[:, None])
    return found[0], found[1]


@pytest.mark.parametrize("method", ["psi", "jensen_shannon", "hellinger", "chi2", "kl_divergence"])
def test_count_statistics_from_profiles_equal_raw_data(method: str) -> None:
    ref, cur = _frames()
    methods = {"x": method, "y": method, "c": method}
    raw = _drift(sightline.compare(ref, cur, methods=methods))
    ref_profile = Profile.from_data(ref)
    for reference, current in [
        (ref_profile, cur),
        (ref, Profile.from_data(cur, ref_profile)),
        (ref_profile, Profile.from_data(cur, ref_profile)),
    ]:
        got = _drift(sightline.compare(reference, current, methods=methods))
        for column in ("x", "y", "c"):
            assert got[column].value == pytest.approx(raw[column].value, rel=1e-12)
            assert got[column].n_ref == raw[column].n_ref
            assert got[column].n_cur == raw[column].n_cur
            if method == "chi2":
                assert got[column].p_value == pytest.approx(raw[column].p_value, rel=1e-9)
            assert got[column].alert == raw[column].alert


@pytest.mark.parametrize(("shift", "scale"), [(0.0, 1.0), (0.1, 1.0), (0.0, 1.5), (1.0, 2.0)])
def test_ks_from_sketches_within_the_stated_bound(shift: float, scale: float) -> None:
    rng = np.random.default_rng(int(10 * shift + scale))
    a = rng.normal(0.0, 1.0, 60_000)
    b = rng.normal(shift, scale, 40_000)
    exact = stats.ks_2samp(a, b).statistic
    pa, pb = Profile.from_data({"v": a}), Profile.from_data({"v": b})
    ka, kb = pa.columns["v"].kll, pb.columns["v"].kll
    row = _drift(sightline.compare(pa, pb, methods={"v": "ks"}))["v"]
    assert abs(row.value - exact) <= ka.rank_error + kb.rank_error
    assert "from KLL sketches" in row.method


# KLL compaction is random (DataSketches seeds it itself), so these bounds are generous:
# over 120 repetitions the largest error seen was 0.062 reference SD (log-normal data).
SKETCH_W_TOLERANCE_SD = 0.1


def test_wasserstein_from_sketches_is_close_to_exact() -> None:
    ref, cur = _frames(n=100_000, shift=0.5)
    normed = {"x": "wasserstein_normed", "y": "wasserstein_normed"}
    raw = _drift(sightline.compare(ref, cur, methods=normed))
    got = _drift(sightline.compare(Profile.from_data(ref), cur, methods=normed))
    for column in ("x", "y"):
        assert raw[column].metric == got[column].metric == "wasserstein_normed"
        assert abs(got[column].value - raw[column].value) < SKETCH_W_TOLERANCE_SD
    assert got["x"].alert
    rng = np.random.default_rng(1)
    for a, b in [
        (rng.exponential(1.0, 50_000), rng.exponential(1.3, 50_000)),
        (rng.lognormal(0.0, 0.7, 50_000), rng.lognormal(0.0, 0.7, 50_000)),
    ]:
        ka = Profile.from_data({"v": a}).columns["v"].kll
        kb = Profile.from_data({"v": b}).columns["v"].kll
        error = abs(sketch_wasserstein(ka, kb) - stats.wasserstein_distance(a, b))
        assert error < SKETCH_W_TOLERANCE_SD * a.std()


def test_quality_rows_from_profiles_match_raw_data() -> None:
    ref, cur = _frames(n=5_000)
    cur = cur.astype({"y": object})
    cur.loc[:49, "y"] = "oops"
    cur.loc[50:59, "y"] = np.inf
    cur.loc[60:99, "c"] = "new"
    raw = sightline.compare(ref, cur)
    got = sightline.compare(Profile.from_data(ref), cur)
    for metric in ("missing_share", "inf_share", "type_violation_share", "unseen_share"):
        want = {r.column: r for r in raw.select(metric=metric)}
        for row in got.select(metric=metric):
            assert row.value == pytest.approx(want[row.column].value, abs=1e-12), metric
            assert row.alert == want[row.column].alert
    oor = {r.column: r for r in raw.select(metric="out_of_range_share")}
    for row in got.select(metric="out_of_range_share"):
        assert abs(row.value - oor[row.column].value) <= 0.03


def test_raw_only_methods_and_mismatched_bins_are_rows_not_errors() -> None:
    ref, cur = _frames(n=3_000)
    got = _drift(
        sightline.compare(
            Profile.from_data(ref),
            Profile.from_data(cur),
            methods={"x": "psi", "y": "anderson_darling"},
        )
    )
    assert not got["x"].is_computed and "same edges" in got["x"].method
    assert not got["y"].is_computed and "raw values" in got["y"].method
    assert math.isnan(got["y"].value)


def test_saved_profile_files_are_accepted_everywhere(tmp_path) -> None:
    ref, cur = _frames(n=3_000)
    path = tmp_path / "ref.slp"
    reference = Profile.from_data(ref)
    reference.save(path)
    current = Profile.from_data(cur, reference)  # KLL compaction is random: profile once
    by_file = sightline.compare(path, current).to_dict()["rows"]
    by_object = sightline.compare(reference, current).to_dict()["rows"]
    assert by_file == by_object
    assert Profile.load(path) == reference


def test_incompatible_profiles_are_refused() -> None:
    ref, _ = _frames(n=1_000)
    other = Profile.from_data(pd.DataFrame({"z": np.arange(10.0)}))
    with pytest.raises(IncompatibleProfilesError, match=r"lacks columns of the reference"):
        sightline.compare(Profile.from_data(ref), other)


@pytest.mark.parametrize("shifted", [False, True])
def test_text_descriptor_rows_from_profiles_equal_raw_data(shifted: bool) -> None:
    """Every row of every descriptor column, drift and data quality, the 0/1 descriptors
    and those constant on the reference (``urls``) included, has the same kind, value,
    bound and verdict from texts and from their profiles (the collector's path), and the
    same histogram."""
    from sightline.analysis.columns import SchemaOptions
    from sightline.analysis.profiling import profile_data
    from sightline.stats.text import DESCRIPTORS
    from support.text_corpus import paragraphs

    texts = paragraphs()
    order = np.random.default_rng(1).permutation(len(texts))
    ref_texts = [texts[i] for i in order[:500]]
    cur_texts = [texts[i] for i in order[500:1000]]
    if shifted:  # shorter texts, some empty, some JSON, some links: every descriptor moves
        cur_texts = (
            [t[: len(t) // 3] for t in cur_texts[:380]]
            + [""] * 50
            + ['{"a": 1}'] * 50
            + ["see https://example.org/x"] * 20
        )
    ref, cur = {"t": ref_texts}, {"t": cur_texts}
    names = {f"t.{d}" for d in DESCRIPTORS}
    raw_result = sightline.compare(ref, cur, text=["t"])
    ref_profile = profile_data(ref, columns=SchemaOptions(text=("t",)))
    got_result = sightline.compare(ref_profile, profile_data(cur, reference=ref_profile))

    def rows(result: sightline.Result) -> dict[tuple[str, str], sightline.MetricRow]:
        return {(r.column, r.metric): r for r in result.rows if r.column in names}

    raw, got = rows(raw_result), rows(got_result)
    assert set(raw) == set(got)
    assert {m for _, m in raw} >= {"jensen_shannon", "missing_share", "out_of_range_share"}
    for key, r in raw.items():
        g = got[key]
        assert (g.alert, g.n_ref, g.n_cur) == (r.alert, r.n_ref, r.n_cur), key
        # an out-of-range share beyond the reference's range comes from the KLL sketch
        # (within its rank error, 0.027 at most), as for any numeric column
        tolerance = 0.027 if "estimated from the KLL sketch" in g.method else 1e-12
        assert g.value == pytest.approx(r.value, rel=1e-9, abs=tolerance, nan_ok=True), key
        for a, b in ((r.lower, g.lower), (r.upper, g.upper)):
            assert b == pytest.approx(a, rel=1e-9, abs=1e-12, nan_ok=True), key
    for name in names:
        assert raw_result.distributions[name] == got_result.distributions[name], name
    alerts = {c for (c, m), r in raw.items() if r.alert and m == "jensen_shannon"}
    assert ("t.oov_share" in alerts) == shifted
    assert not shifted or {"t.empty", "t.json_valid", "t.urls"} <= alerts


@pytest.mark.parametrize("level", [0.0, 1.0, -2.5])
def test_a_column_constant_on_the_reference_drifts_when_it_moves_on_every_path(
    level: float,
) -> None:
    """A lone reference edge c gets a second edge just above it: values above the constant
    count in a bin of their own, so the distance sees them (it was 0 with one bin for c
    and above), on data and on profiles alike."""
    rng = np.random.default_rng(7)
    ref = pd.DataFrame({"k": np.full(2_000, level), "x": rng.normal(size=2_000)})
    moved = pd.DataFrame({"k": rng.normal(level + 5.0, 1.0, 2_000), "x": rng.normal(size=2_000)})
    same = pd.DataFrame({"k": np.full(2_000, level), "x": rng.normal(size=2_000)})
    ref_profile = Profile.from_data(ref)
    for current, drifts in ((moved, True), (same, False)):
        raw = _drift(sightline.compare(ref, current))["k"]
        profiled = _drift(sightline.compare(ref_profile, Profile.from_data(current, ref_profile)))
        assert raw.alert is drifts and profiled["k"].alert is drifts
        assert profiled["k"].value == pytest.approx(raw.value, rel=1e-12)
        if drifts:  # the half of the moved values above the constant are in the new bin
            expected = float(np.mean(current["k"] > level))
            assert raw.value > 0.5 * expected
