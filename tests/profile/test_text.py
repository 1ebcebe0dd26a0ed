"""Text column profiles: descriptor profiles, frequent words, vocabularies, codec, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from sightline.errors import IncompatibleProfilesError, InvalidInputError, UnsupportedFormatError
from sightline.profile import Column, Profile, Schema, TextColumnProfile, merge_profiles
from sightline.stats.text import DESCRIPTORS, descriptors

SCHEMA = Schema((Column("review", kind="text"), Column("stars")))
TEXTS = ["Great product, works well.", "Terrible! Broke in a day.", None, "", "ok ok ok"]


def test_each_descriptor_is_a_numeric_profile_of_the_kernels_values() -> None:
    p = TextColumnProfile.zero("review").update(TEXTS)
    expected = descriptors(TEXTS)
    assert sorted(p.descriptors) == sorted(DESCRIPTORS)
    for name, values in expected.items():
        column = p.descriptors[name]
        finite = values[np.isfinite(values)]
        assert column.name == f"review.{name}"
        assert column.count == len(TEXTS)
        assert column.n_valid == finite.size
        if finite.size:
            assert column.mean == pytest.approx(finite.mean())
    assert (p.count, p.n_missing) == (5, 1)
    assert p.words.top(1)[0][:2] == ("ok", 3)


def test_the_reference_vocabulary_gives_the_out_of_vocabulary_share() -> None:
    ref = TextColumnProfile.zero("review").update(["the cat sat", "the dog sat"])
    cur = TextColumnProfile.zero("review", vocabulary=ref.top_words())
    cur.update(["the cat ran", "a bird flew"])
    share = cur.descriptors["oov_share"]
    assert share.n_valid == 2
    assert share.mean == pytest.approx((1 / 3 + 3 / 3) / 2)
    assert TextColumnProfile.zero("review").update(["x"]).descriptors["oov_share"].n_valid == 0


def test_profiles_with_text_merge_round_trip_and_give_the_reference_spec() -> None:
    schema = SCHEMA
    parts = [
        Profile.zero(schema).update({"review": TEXTS[:3], "stars": [1.0, 2.0, 3.0]}),
        Profile.zero(schema).update({"review": TEXTS[3:], "stars": [4.0, 5.0]}),
    ]
    whole = Profile.zero(schema).update({"review": TEXTS, "stars": [1.0, 2.0, 3.0, 4.0, 5.0]})
    merged = merge_profiles(parts)
    assert merged.columns["review"].count == 5
    assert merged.columns["review"].descriptors["length"].bins is None  # type: ignore[union-attr]
    assert Profile.from_bytes(whole.to_bytes()) == whole
    # Edges and vocabulary fixed by a reference travel through reference_spec.
    edges = {"review.length": [5.0, 20.0]}
    binned = Profile.zero(schema, edges=edges, vocabularies={"review": ("ok",)})
    binned.update({"review": TEXTS, "stars": np.zeros(5)})
    spec_edges, spec_vocab = binned.reference_spec()
    assert spec_edges["review.length"].tolist() == [5.0, 20.0]
    assert spec_vocab == {"review": ("ok",)}
    again = Profile.zero(schema, edges=spec_edges, vocabularies=spec_vocab)
    again.update({"review": TEXTS, "stars": np.zeros(5)})
    assert again == binned
    assert Profile.from_bytes(binned.to_bytes()) == binned
    with pytest.raises(IncompatibleProfilesError, match="vocabularies differ"):
        binned.merge(Profile.zero(schema, edges=edges).update({"review": [], "stars": []}))


def test_an_absent_text_column_counts_missing_in_every_descriptor() -> None:
    p = Profile.zero(SCHEMA).update({"stars": [1.0, 2.0]})
    review = p.columns["review"]
    assert isinstance(review, TextColumnProfile)
    assert review.n_missing == 2
    assert all(d.n_missing == 2 for d in review.descriptors.values())


@pytest.mark.parametrize(
    ("values", "message"),
    [(["fine", 3], "texts must be str or None, got int"), ("one", "not one string")],
)
def test_bad_texts_are_refused_naming_the_column(values: object, message: str) -> None:
    p = Profile.zero(SCHEMA)
    with pytest.raises(InvalidInputError, match=message) as err:
        p.update({"review": values, "stars": [1.0, 2.0][: len(values)]})  # type: ignore[arg-type]
    assert err.value.field == "review"
    assert p == Profile.zero(SCHEMA)


def test_unknown_descriptor_edges_are_refused() -> None:
    with pytest.raises(Exception, match=r"review\.nope"):
        Profile.zero(SCHEMA, edges={"review.nope": [1.0]})


def test_a_text_profile_missing_a_descriptor_is_refused_by_the_codec() -> None:
    p = Profile.zero(SCHEMA).update({"review": ["a b"], "stars": [1.0]})
    review = p.columns["review"]
    assert isinstance(review, TextColumnProfile)
    del review.descriptors["length"]
    with pytest.raises(UnsupportedFormatError, match="must have the descriptors"):
        Profile.from_bytes(p.to_bytes())
