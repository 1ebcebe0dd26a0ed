"""Embedding column profiles: the bottom-k sample by row id, merging, the codec, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sightline.errors import IncompatibleProfilesError, InvalidInputError, UnsupportedFormatError
from sightline.profile import Column, EmbeddingColumnProfile, Profile, Schema, merge_profiles
from sightline.profile.embedding import row_keys, wire_bytes

SCHEMA = Schema((Column("x"), Column("emb", kind="embedding")))


def _data(n: int, dim: int = 4, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, dim)), [f"row-{seed}-{i}" for i in range(n)]


def test_the_sample_is_the_rows_of_smallest_id_hash() -> None:
    vectors, ids = _data(1000)
    p = EmbeddingColumnProfile.zero("emb", capacity=50).update(vectors, ids=ids)
    keys = row_keys(ids)
    chosen = np.argsort(keys)[:50]
    assert p.keys.tolist() == np.sort(keys)[:50].tolist()
    np.testing.assert_array_equal(p.vectors, vectors[chosen].astype(np.float32))
    np.testing.assert_allclose(p.mean, vectors.mean(axis=0), rtol=1e-12)
    assert (p.count, p.n_valid, p.dim) == (1000, 1000, 4)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(0, 300),
    processes=st.integers(1, 5),
    seed=st.integers(0, 2**16),
    capacity=st.integers(1, 64),
)
def test_merging_the_processes_profiles_equals_one_profile_of_all_rows(
    n: int, processes: int, seed: int, capacity: int
) -> None:
    vectors, ids = _data(n, seed=seed)
    rng = np.random.default_rng(seed)
    owner = rng.integers(0, processes, n)  # which process logged each row, in any order
    parts = []
    for k in range(processes):
        rows = rng.permutation(np.flatnonzero(owner == k))
        part = EmbeddingColumnProfile.zero("emb", capacity=capacity)
        for chunk in np.array_split(rows, 3):  # several flushes per process
            part.update(vectors[chunk], ids=[ids[i] for i in chunk])
        parts.append(part)
    whole = EmbeddingColumnProfile.zero("emb", capacity=capacity).update(vectors, ids=ids)
    forward, backward = parts[0], parts[-1]
    for p in parts[1:]:
        forward = forward + p
    for p in parts[-2::-1]:
        backward = backward + p
    for merged in (forward, backward):
        assert merged.keys.tolist() == whole.keys.tolist()
        np.testing.assert_array_equal(merged.vectors, whole.vectors)
        np.testing.assert_allclose(merged.total, whole.total, rtol=1e-9, atol=1e-9)
        assert merged.count == whole.count == n


def test_missing_and_non_finite_vectors_are_counted_apart() -> None:
    p = EmbeddingColumnProfile.zero("emb").update(
        [[1.0, 2.0], None, np.array([np.nan, 1.0]), float("nan"), (3.0, 4.0)],
        ids=["a", "b", "c", "d", "e"],
    )
    assert (p.count, p.n_missing, p.n_invalid, p.n_valid) == (5, 2, 1, 2)
    assert p.mean.tolist() == [2.0, 3.0]
    assert sorted(p.keys.tolist()) == sorted(row_keys(["a", "e"]).tolist())


def test_a_row_logged_twice_is_sampled_once() -> None:
    p = EmbeddingColumnProfile.zero("emb").update([[1.0], [1.0]], ids=["a", "a"])
    q = EmbeddingColumnProfile.zero("emb").update([[1.0]], ids=["a"])
    assert len(p.keys) == 1
    assert (p + q).keys.tolist() == (q + p).keys.tolist() == p.keys.tolist()


@pytest.mark.parametrize(
    ("values", "ids", "message"),
    [
        ([[1.0, 2.0], [1.0]], None, "numbers of one length"),
        ([["a", "b"]], None, "numbers of one length"),
        (np.zeros(3), None, "must be 2-D"),
        ("text", None, "2-D array or a sequence"),
        ([[1.0]], ["a", "b"], "2 ids for 1 rows"),
        (np.zeros((1, 5000)), None, "1 to 4096 dimensions"),
    ],
)
def test_bad_batches_are_refused_naming_the_column(
    values: object, ids: list[str] | None, message: str
) -> None:
    p = EmbeddingColumnProfile.zero("emb")
    with pytest.raises(InvalidInputError, match=message) as err:
        p.update(values, ids=ids)
    assert err.value.field == "emb"
    assert p == EmbeddingColumnProfile.zero("emb")


def test_dimensions_must_agree_within_a_column_and_across_merges() -> None:
    p = EmbeddingColumnProfile.zero("emb").update([[1.0, 2.0]])
    with pytest.raises(InvalidInputError, match="vectors of 3 dimensions, the column has 2"):
        p.update([[1.0, 2.0, 3.0]])
    q = EmbeddingColumnProfile.zero("emb").update([[1.0, 2.0, 3.0]])
    with pytest.raises(IncompatibleProfilesError, match="dimensions differ"):
        p.merge(q)
    with pytest.raises(IncompatibleProfilesError, match="capacity differs"):
        p.merge(EmbeddingColumnProfile.zero("emb", capacity=3))


def test_a_profile_with_an_embedding_column_round_trips_and_merges() -> None:
    vectors, ids = _data(600, dim=384)
    p = Profile.zero(SCHEMA, model="m", version="1")
    p.update({"x": np.arange(600.0), "emb": vectors}, row_ids=ids)
    parts = [
        Profile.zero(SCHEMA, model="m", version="1").update(
            {"x": np.arange(600.0)[s], "emb": vectors[s]}, row_ids=ids[s]
        )
        for s in (slice(0, 200), slice(200, 600))
    ]
    merged = merge_profiles(parts)
    emb = merged.columns["emb"]
    assert isinstance(emb, EmbeddingColumnProfile)
    assert emb.keys.tolist() == p.columns["emb"].keys.tolist()  # type: ignore[union-attr]
    data = p.to_bytes()
    assert Profile.from_bytes(data) == p
    # What a 384-dimension column costs: the bound of the module docstring, nearly all of it.
    empty = len(Profile.zero(SCHEMA, model="m", version="1").to_bytes())
    assert wire_bytes(384) == 398_336
    assert 0.8 * wire_bytes(384) < len(data) - empty < wire_bytes(384)


def test_a_corrupted_sample_is_refused_by_the_codec() -> None:
    p = Profile.zero(SCHEMA).update({"x": [1.0, 2.0], "emb": [[1.0], [2.0]]})
    emb = p.columns["emb"]
    assert isinstance(emb, EmbeddingColumnProfile)
    emb.keys = emb.keys[::-1].copy()  # no longer ascending
    emb.vectors = emb.vectors[::-1].copy()
    with pytest.raises(UnsupportedFormatError, match="keys ascending"):
        Profile.from_bytes(p.to_bytes())
