"""Text profiles: user patterns on the streaming path, the bottom-k sample of texts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sightline
from sightline.analysis.columns import SchemaOptions
from sightline.analysis.profiling import profile_data
from sightline.errors import (
    IncompatibleProfilesError,
    InvalidInputError,
    SchemaError,
    UnsupportedFormatError,
)
from sightline.profile import Column, Profile, Schema, merge_profiles
from sightline.profile.embedding import row_keys
from sightline.profile.text import MAX_SAMPLE_CHARS, TextColumnProfile, text_keys
from support.text_corpus import paragraphs

PATTERNS = {"refusal": r"(?i)\bI (cannot|can't)\b", "code": r"```"}
REFUSAL = "I cannot help with that."


def _texts(seed: int, n: int, refusals: float) -> list[str]:
    rng = np.random.default_rng(seed)
    texts = paragraphs()
    chosen = [texts[i] for i in rng.choice(len(texts), n, replace=False)]
    return [REFUSAL + " " + t if rng.random() < refusals else t for t in chosen]


def _drift(result: sightline.Result) -> dict[str, sightline.MetricRow]:
    return {r.column: r for r in result.rows if r.metric == "jensen_shannon"}


@pytest.mark.parametrize("refusals", [0.1, 0.4])
def test_pattern_rows_are_the_same_from_texts_from_profiles_and_from_a_schema(
    refusals: float,
) -> None:
    """``<column>.match.<name>``: the library's rows from texts equal the rows from
    profiles whose schema carries the patterns (by keyword or by the Column)."""
    ref, cur = {"out": _texts(0, 400, 0.1)}, {"out": _texts(1, 400, refusals)}
    raw = _drift(sightline.compare(ref, cur, text=["out"], patterns=PATTERNS))
    by_keyword = profile_data(ref, columns=SchemaOptions(text=("out",), patterns=PATTERNS))
    schema = Schema((Column("out", kind="text", patterns=PATTERNS),))
    by_column = profile_data(ref, columns=SchemaOptions(schema=schema))
    assert by_keyword.schema == by_column.schema == schema
    names = [f"out.match.{p}" for p in PATTERNS]
    for reference in (by_keyword, by_column):
        got = _drift(sightline.compare(reference, profile_data(cur, reference=reference)))
        for name in [*names, "out.length", "out.oov_share"]:
            assert got[name].value == pytest.approx(raw[name].value, rel=1e-9, abs=1e-12), name
            assert (got[name].alert, got[name].n_ref, got[name].n_cur) == (
                raw[name].alert,
                raw[name].n_ref,
                raw[name].n_cur,
            ), name
    assert raw["out.match.refusal"].alert == (refusals > 0.1)
    rate = by_column.columns["out"].descriptors["match.refusal"].mean  # type: ignore[union-attr]
    assert rate == pytest.approx(np.mean([t.startswith(REFUSAL) for t in ref["out"]]))


def test_patterns_travel_in_the_schema_and_the_codec() -> None:
    schema = Schema((Column("out", kind="text", patterns=PATTERNS), Column("x")))
    assert Schema.from_dict(schema.to_dict()) == schema
    assert schema.to_dict()["columns"][0]["patterns"] == dict(sorted(PATTERNS.items()))
    assert "patterns" not in schema.to_dict()["columns"][1]
    p = Profile.zero(schema).update({"out": [REFUSAL, "fine", None], "x": np.arange(3.0)})
    back = Profile.from_bytes(p.to_bytes())
    assert back == p and back.schema == schema
    column = back.columns["out"]
    assert isinstance(column, TextColumnProfile)
    assert column.descriptors["match.refusal"].mean == 0.5
    assert sorted(column.descriptors)[4:6] == ["match.code", "match.refusal"]
    plain = Profile.zero(Schema((Column("out", kind="text"), Column("x"))))
    with pytest.raises(IncompatibleProfilesError):
        p.check_compatible(plain)


def test_bad_patterns_are_refused() -> None:
    with pytest.raises(SchemaError, match="only text columns"):
        Column("x", patterns={"a": "b"})
    with pytest.raises(SchemaError, match="non-empty names"):
        Column("t", kind="text", patterns={"": "b"})
    with pytest.raises(InvalidInputError, match="not a valid RE2"):
        Profile.zero(Schema((Column("t", kind="text", patterns={"bad": "(unclosed"}),)))
    with pytest.raises(SchemaError):
        Schema.from_dict({"columns": [{"name": "t", "role": "feature", "kind": "text",
                                        "patterns": ["x"]}]})  # fmt: skip


def test_the_sample_holds_the_texts_of_smallest_id_hash_cut_to_the_limit() -> None:
    texts = [f"text {i} " + "x" * (i % 700) for i in range(1000)]
    ids = [f"id-{i}" for i in range(1000)]
    p = TextColumnProfile.zero("t", capacity=40).update([*texts, None], ids=[*ids, "none"])
    order = np.argsort(row_keys(ids))[:40]
    assert p.keys.tolist() == np.sort(row_keys(ids))[:40].tolist()
    assert p.texts == tuple(texts[i][:MAX_SAMPLE_CHARS] for i in order)
    assert max(len(t) for t in p.texts) <= MAX_SAMPLE_CHARS
    without_ids = TextColumnProfile.zero("t", capacity=40).update(texts + texts)  # duplicates
    assert without_ids.keys.tolist() == np.unique(text_keys([t[:512] for t in texts]))[:40].tolist()
    with pytest.raises(InvalidInputError, match="2 ids for 3 rows"):
        TextColumnProfile.zero("t").update(["a", "b", "c"], ids=["1", "2"])


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(0, 200),
    processes=st.integers(1, 5),
    seed=st.integers(0, 2**16),
    capacity=st.integers(1, 50),
    with_ids=st.booleans(),
)
def test_merging_the_samples_of_processes_equals_one_profile_of_all_rows(
    n: int, processes: int, seed: int, capacity: int, with_ids: bool
) -> None:
    """Exact, associative, commutative, deterministic: any split of the rows over
    processes and flushes, merged in any order, gives the one-process sample."""
    rng = np.random.default_rng(seed)
    corpus = paragraphs()
    texts = [corpus[i] for i in rng.integers(0, len(corpus), n)]  # with repeats
    ids = [f"r{seed}-{i}" for i in range(n)] if with_ids else None
    owner = rng.integers(0, processes, n)
    parts = []
    for k in range(processes):
        rows = rng.permutation(np.flatnonzero(owner == k))
        part = TextColumnProfile.zero("t", capacity=capacity)
        for chunk in np.array_split(rows, 3):
            part.update(
                [texts[i] for i in chunk], ids=None if ids is None else [ids[i] for i in chunk]
            )
        parts.append(part)
    whole = TextColumnProfile.zero("t", capacity=capacity).update(texts, ids=ids)
    forward, backward = parts[0], parts[-1]
    for p in parts[1:]:
        forward = forward + p
    for p in parts[-2::-1]:
        backward = backward + p
    shuffled = [parts[i] for i in rng.permutation(processes)]
    grouped = shuffled[0]
    for p in shuffled[1:]:
        grouped = p + grouped
    for merged in (forward, backward, grouped):
        assert merged.keys.tolist() == whole.keys.tolist()
        assert merged.texts == whole.texts
        assert merged.count == whole.count


def test_the_sample_is_in_the_codec_and_corrupted_samples_are_refused() -> None:
    schema = Schema((Column("t", kind="text"),))
    p = Profile.zero(schema).update({"t": paragraphs()[:300]}, row_ids=[str(i) for i in range(300)])
    empty = Profile.zero(schema).update({"t": [None, None]})
    assert Profile.from_bytes(empty.to_bytes()) == empty  # no text: an empty sample
    body = p.to_bytes()
    back = Profile.from_bytes(body)
    assert back == p and len(back.columns["t"].texts) == 256  # type: ignore[union-attr]
    merged = merge_profiles([back, Profile.zero(schema)])
    assert merged.columns["t"].texts == p.columns["t"].texts  # type: ignore[union-attr]
    column = p.columns["t"]
    assert isinstance(column, TextColumnProfile)
    column.texts = (*column.texts[:-1], "y" * (MAX_SAMPLE_CHARS + 1))
    with pytest.raises(UnsupportedFormatError, match="text sample"):
        Profile.from_bytes(p.to_bytes())
    column.keys = column.keys[::-1].copy()
    with pytest.raises(UnsupportedFormatError, match="text sample"):
        Profile.from_bytes(p.to_bytes())


def test_what_the_sample_costs_on_the_wire() -> None:
    """256 texts of up to 512 characters: measured, for docs/text.md."""
    schema = Schema((Column("t", kind="text"),))
    texts = paragraphs()[:2000]
    ids = [str(i) for i in range(len(texts))]
    with_sample = Profile.zero(schema).update({"t": texts}, row_ids=ids)
    without = Profile.zero(schema).update({"t": texts}, row_ids=ids)
    column = without.columns["t"]
    assert isinstance(column, TextColumnProfile)
    column.keys, column.texts = column.keys[:0], ()
    extra = len(with_sample.to_bytes()) - len(without.to_bytes())
    raw = sum(len(t.encode()) + 12 for t in with_sample.columns["t"].texts)  # type: ignore[union-attr]
    assert 0 < extra < raw < 256 * (4 * MAX_SAMPLE_CHARS + 12)
