"""Text columns in profiles: the reference fixes descriptor bins and vocabulary; drift of the
descriptors is the ordinary numeric drift of columns ``review.length``, ..."""

from __future__ import annotations

import numpy as np
import pytest

from sightline.analysis.columns import SchemaOptions
from sightline.analysis.methods import ALL_METHODS, DriftOptions
from sightline.analysis.profile_compare import compare_profiles
from sightline.analysis.profile_text import reference_vocabulary
from sightline.analysis.profiling import profile_data
from sightline.analysis.rows import RowContext
from sightline.profile import Column, Profile, Schema, TextColumnProfile

SCHEMA = Schema((Column("review", kind="text"),))
TEA = ["tea", "cup", "leaf", "green", "pot", "brew"]
OPS = ["Server", "docker", "python", "deploy", "https://x.io/a", "42"]


def _texts(rng: np.random.Generator, n: int, vocabulary: list[str]) -> list[str]:
    return [" ".join(rng.choice(vocabulary, rng.integers(3, 12))) + "." for _ in range(n)]


def _reference(rng: np.random.Generator) -> Profile:
    data = {"review": _texts(rng, 2000, TEA)}
    return profile_data(data, columns=SchemaOptions(schema=SCHEMA))


def test_the_reference_fixes_descriptor_edges_and_its_vocabulary() -> None:
    ref = _reference(np.random.default_rng(0))
    review = ref.columns["review"]
    assert isinstance(review, TextColumnProfile)
    assert set(review.vocabulary or ()) == set(TEA)
    edges, vocabularies = ref.reference_spec()
    assert edges["review.length"].size == 9  # deciles
    assert edges["review.oov_share"].tolist() == [0.0, 5e-324]  # constant: a bin above it
    assert vocabularies["review"] == review.vocabulary
    assert review.descriptors["oov_share"].n_valid == 2000


def test_a_topic_shift_drifts_the_descriptors_and_the_same_topic_does_not() -> None:
    rng = np.random.default_rng(1)
    ref = _reference(rng)
    same = profile_data({"review": _texts(rng, 1000, TEA)}, reference=ref)
    moved = profile_data({"review": _texts(rng, 1000, OPS)}, reference=ref)
    options, ctx = DriftOptions(), RowContext()
    quiet = compare_profiles(ref, same, options, ctx).rows
    moved_rows = compare_profiles(ref, moved, options, ctx).rows
    loud = {r.column: r for r in moved_rows if r.column and r.metric in ALL_METHODS}  # drift
    assert not [r.column for r in quiet if r.alert]
    for column in ("review.oov_share", "review.urls", "review.digits", "review.upper_share"):
        assert loud[column].alert, column
        assert loud[column].metric == "jensen_shannon"


def test_the_vocabulary_is_the_most_frequent_words_ties_by_word() -> None:
    import pyarrow as pa

    from sightline.analysis.text import MIN_WORD_COUNT

    n = MIN_WORD_COUNT
    assert reference_vocabulary(pa.array(["z y x", "x", None] * n)) == ("x", "y", "z")
    rare = ["w"] * (n - 1) + ["v"] * n
    assert reference_vocabulary(pa.array(rare)) == ("v",)
    assert reference_vocabulary(pa.array([None, ""], pa.string())) == ()


def test_profiles_of_arrow_texts_equal_those_of_python_texts() -> None:
    import pyarrow as pa

    texts = ["A b.", None, "ünïcode 😀 ok", "   "]
    a = TextColumnProfile.zero("t").update(texts)
    b = TextColumnProfile.zero("t")
    b._apply(b._prepare(pa.chunked_array([pa.array(texts[:2]), pa.array(texts[2:])])))
    assert a == b
    with pytest.raises(ValueError, match="UTF-8"):
        TextColumnProfile.zero("t").update(pa.array([b"\xff"], pa.binary()))  # type: ignore[arg-type]
