"""Text descriptors equal a plain-Python reference, row by row, on fixed and generated strings."""

from __future__ import annotations

import json
import re

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sightline.errors import InvalidInputError
from sightline.stats import text
from sightline.stats.text import (
    DESCRIPTORS,
    URL_PATTERN,
    descriptors,
    descriptors_and_words,
    words,
)

TERMINATORS = ".!?\u2026\u3002\uff01\uff1f"
FIXED = [
    "Hello world. How are you?",
    "",
    "   \t\n ",
    "\u00a0\u3000",
    "naïve café, São Paulo — Ünïcödé!",
    "ǅemal İstanbul ΣΊΣΥΦΟΣ straße",
    "emoji 😀👍🏽 family 👨‍👩‍👧 flags 🇫🇷 done",
    "数字 ١٢٣ and 123 and ½ Ⅻ",
    "Visit https://example.com/a?b=1 or www.test.org, not http:/broken.",
    'as an AI language model, I cannot {"json": true}',
    '  {"a": [1, 2, {"b": null}]}  ',
    "[1, 2, 3]",
    "{not json}",
    "Wait... what?! Really. . . yes",
    "snake_case words_2 and  double  spaces",
    "你好。再见。",
    "line one\nline two\r\nline three",
    "x" * 70_000 + ". And more words here",
    "A" * 66_000,
]


def reference(value: str | None, vocabulary: frozenset[str] | None) -> dict[str, float]:
    """The descriptors of one text, in plain Python on ``str``."""
    if value is None:
        return dict.fromkeys(DESCRIPTORS, np.nan)
    letters = sum(c.isalpha() for c in value)
    upper = sum(c.isupper() and c.isalpha() for c in value)
    spaces = sum(c.isspace() for c in value)
    tokens = [t.lower() for t in re.findall(r"\w+", value)]
    ends = re.findall(rf"[{TERMINATORS}](?=\s|$)", value)
    last_end = max((m.end() for m in re.finditer(rf"[{TERMINATORS}](?=\s|$)", value)), default=0)
    trailing = any(not c.isspace() for c in value[last_end:])
    stripped = value.lstrip(" \t\n\r\f\v")
    try:
        is_json = stripped[:1] in ("{", "[") and (json.loads(value) is not None)
    except ValueError:
        is_json = False
    n = len(value)
    return {
        "length": n,
        "words": len(tokens),
        "sentences": len(ends) + trailing,
        "non_letter_share": (n - letters - spaces) / n if n else np.nan,
        "upper_share": upper / letters if letters else np.nan,
        "urls": len(re.findall(URL_PATTERN, value, flags=re.ASCII)),
        "digits": sum(c.isdecimal() for c in value),
        "empty": float(spaces == n),
        "oov_share": (
            sum(t not in vocabulary for t in tokens) / len(tokens)
            if vocabulary is not None and tokens
            else np.nan
        ),
        "json_valid": float(is_json),
    }


def assert_matches(values: list[str | None], vocabulary: frozenset[str] | None = None) -> None:
    got = descriptors(values, vocabulary=vocabulary)
    assert list(got) == list(DESCRIPTORS)
    for i, value in enumerate(values):
        expected = reference(value, vocabulary)
        for name in DESCRIPTORS:
            assert got[name].dtype == np.float64
            np.testing.assert_allclose(
                got[name][i], expected[name], rtol=1e-12, err_msg=f"{name} of {value!r:.60}"
            )


def test_fixed_strings_equal_the_python_reference() -> None:
    vocabulary = frozenset({"hello", "world", "and", "words", "naïve"})
    assert_matches([*FIXED, None], vocabulary)
    assert_matches(FIXED)


def test_pieces_of_the_column_give_the_same_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = descriptors(FIXED[:17] * 5, vocabulary=frozenset({"hello"}))
    monkeypatch.setattr(text, "PIECE_BYTES", 64)
    pieces = descriptors(FIXED[:17] * 5, vocabulary=frozenset({"hello"}))
    for name in DESCRIPTORS:
        np.testing.assert_array_equal(pieces[name], whole[name])


def test_arrow_inputs_chunked_sliced_large_dictionary_binary() -> None:
    values = [*FIXED[:10], None]
    expected = descriptors(values)
    arrays = [
        pa.chunked_array([values[:3], values[3:]], pa.string()),
        pa.array(["pad", *values, "pad"], pa.string()).slice(1, len(values)),
        pa.array(values, pa.large_string()),
        pa.array(values, pa.string()).dictionary_encode(),
        pa.array([None if v is None else v.encode() for v in values], pa.binary()),
    ]
    for array in arrays:
        got = descriptors(array)
        for name in DESCRIPTORS:
            np.testing.assert_array_equal(got[name], expected[name], err_msg=str(array.type))


def test_invalid_utf8_is_refused_naming_the_row() -> None:
    bad = pa.array([b"fine", b"caf\xc3", b"ok"], pa.binary())
    with pytest.raises(InvalidInputError, match=r"texts\[1\] is not valid UTF-8"):
        descriptors(bad)
    with pytest.raises(ValueError, match=r"texts\[0\] is not valid Unicode"):
        descriptors(["\udcff"])
    with pytest.raises(InvalidInputError, match=r"texts\[1\] is int"):
        descriptors(["a", 3])  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match="texts must be strings"):
        descriptors(pa.array([1.0]))


def test_patterns_are_match_rates_and_bad_patterns_are_named() -> None:
    got = descriptors(
        ["As an AI, I cannot.", "Sure!", None], patterns={"refusal": r"(?i)\bI cannot\b"}
    )
    assert got["match.refusal"].tolist()[:2] == [1.0, 0.0]
    assert np.isnan(got["match.refusal"][2])
    with pytest.raises(InvalidInputError, match="pattern 'x' is not a valid RE2") as info:
        descriptors(["a"], patterns={"x": "(unclosed"})
    assert info.value.field == "patterns.x"


def test_words_are_lower_cased_tokens_in_order() -> None:
    got = words(pa.chunked_array([["Hello, World!", None], ["ÉCOLE d'été 2024"]]))
    assert got.to_pylist() == ["hello", "world", "école", "d", "été", "2024"]
    assert words([]).to_pylist() == []


@pytest.mark.parametrize("piece_bytes", [64, text.PIECE_BYTES])
def test_descriptors_and_words_in_one_pass_equal_each_alone(
    monkeypatch: pytest.MonkeyPatch, piece_bytes: int
) -> None:
    monkeypatch.setattr(text, "PIECE_BYTES", piece_bytes)
    values = [*FIXED, None, ""] * 3
    for vocabulary in (None, frozenset({"hello", "naïve", "istanbul", "words_2"})):
        found, tokens = descriptors_and_words(values, vocabulary=vocabulary, patterns={"x": "x"})
        alone = descriptors(values, vocabulary=vocabulary, patterns={"x": "x"})
        assert list(found) == list(alone)
        for name, got in found.items():
            np.testing.assert_array_equal(got, alone[name])
        assert tokens.to_pylist() == words(values).to_pylist()


def test_empty_input_gives_empty_arrays() -> None:
    got = descriptors([])
    assert all(v.size == 0 for v in got.values())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=40)), max_size=8))
def test_generated_text_equals_the_python_reference(values: list[str | None]) -> None:
    values = [v if v is None else v.encode("utf-8", "ignore").decode() for v in values]
    assert_matches(values, frozenset({"a", "0"}))
