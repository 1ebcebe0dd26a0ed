"""Embedding drift from profiles: merged profiles give the pooled sample's test, exactly."""

from __future__ import annotations

import numpy as np

from sightline.analysis.methods import DriftOptions
from sightline.analysis.profile_compare import compare_profiles
from sightline.analysis.profile_text import embedding_rows
from sightline.analysis.rows import RowContext
from sightline.profile import Column, EmbeddingColumnProfile, Profile, Schema, merge_profiles
from sightline.stats.embedding import drifted_components_share, mmd_test

SCHEMA = Schema((Column("emb", kind="embedding"),))


def _profile(vectors: np.ndarray, ids: list[str]) -> Profile:
    return Profile.zero(SCHEMA, model="m", version="1").update({"emb": vectors}, row_ids=ids)


def test_drift_from_merged_profiles_equals_drift_from_the_pooled_sample() -> None:
    rng = np.random.default_rng(5)
    ref_vectors, cur_vectors = rng.normal(size=(2000, 32)), rng.normal(0.2, 1, size=(3000, 32))
    ref_ids = [f"r{i}" for i in range(2000)]
    cur_ids = [f"c{i}" for i in range(3000)]
    reference = _profile(ref_vectors, ref_ids)
    # Six serving processes, each with its share of the window's rows.
    owner = rng.integers(0, 6, 3000)
    parts = [
        _profile(cur_vectors[owner == k], [cur_ids[i] for i in np.flatnonzero(owner == k)])
        for k in range(6)
    ]
    merged = merge_profiles(parts[::-1])
    pooled = _profile(cur_vectors, cur_ids)
    ctx = RowContext("m", "1")
    got = compare_profiles(reference, merged, DriftOptions(), ctx).select(column="emb")
    want = compare_profiles(reference, pooled, DriftOptions(), ctx).select(column="emb")
    # The samples are identical, so the test is; the mean distance is exact up to the
    # order of the float sums.
    exact = [
        (r.metric, r.value, r.p_value, r.alert)
        for r in got
        if r.metric != "embedding_mean_distance"
    ]
    assert exact == [
        (r.metric, r.value, r.p_value, r.alert)
        for r in want
        if r.metric != "embedding_mean_distance"
    ]
    # ... and that test is the kernel's on the two samples.
    ref_col, cur_col = reference.columns["emb"], pooled.columns["emb"]
    assert isinstance(ref_col, EmbeddingColumnProfile) and isinstance(
        cur_col, EmbeddingColumnProfile
    )
    a, b = ref_col.vectors.astype(np.float64), cur_col.vectors.astype(np.float64)
    expected = mmd_test(a, b, seed=0)
    by_metric = {r.metric: r for r in got}
    assert by_metric["embedding_drift"].value == expected.statistic
    assert by_metric["embedding_drift"].p_value == expected.p_value
    assert by_metric["embedding_drifted_share"].value == drifted_components_share(a, b)
    truth = np.linalg.norm(ref_vectors.mean(axis=0) - cur_vectors.mean(axis=0))
    assert np.isclose(by_metric["embedding_mean_distance"].value, truth, rtol=1e-12)


def test_a_shift_alerts_and_the_same_distribution_does_not() -> None:
    rng = np.random.default_rng(11)
    ref = EmbeddingColumnProfile.zero("emb").update(rng.normal(size=(1000, 384)))
    same = EmbeddingColumnProfile.zero("emb").update(rng.normal(size=(1000, 384)))
    moved = EmbeddingColumnProfile.zero("emb").update(rng.normal(0.15, 1, size=(1000, 384)))
    ctx = RowContext()
    assert not embedding_rows(ref, same, DriftOptions(), ctx)[0].alert
    alarm = embedding_rows(ref, moved, DriftOptions(), ctx)[0]
    assert alarm.metric == "embedding_drift" and alarm.alert and alarm.p_value < 0.05
    assert alarm.n_ref == 1000 and "256 vs 256 vectors in bottom-k samples" in alarm.method


def test_too_small_samples_give_a_row_that_says_why() -> None:
    small = EmbeddingColumnProfile.zero("emb").update(np.zeros((3, 2)))
    rows = embedding_rows(small, small, DriftOptions(), RowContext())
    assert [r.metric for r in rows] == [
        "embedding_drift",
        "embedding_mean_distance",
        "embedding_drifted_share",
    ]
    assert all(np.isnan(r.value) and "at least 10" in r.method for r in rows)
