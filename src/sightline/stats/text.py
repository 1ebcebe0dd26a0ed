"""Text descriptors: one number per text, computed over the whole column at once.

:func:`descriptors` turns a column of texts into numeric columns (:data:`DESCRIPTORS`, plus
``match.<name>`` for each user pattern); :func:`words` gives the lower-cased word tokens from
which a reference vocabulary or the frequent words are built. Both work on the UTF-8 bytes of
the Arrow column with numpy (a flag per byte, per-row sums by cumulative sums at the row
offsets) and Arrow compute kernels; no Python code runs per row. The column is processed in
pieces of about :data:`PIECE_BYTES` so that the working arrays stay in cache.

Definitions (each equals a plain-Python expression on ``str``, see ``tests/stats/test_text.py``):

* ``length``: characters (Unicode code points), ``len(s)``.
* ``words``: maximal runs of word characters (``str.isalnum()`` or ``_``), as
  ``re.findall(r"\\w+")``.
* ``sentences``: sentence ends -- a run of :data:`TERMINATORS` followed by whitespace or the
  end of the text -- plus one when non-whitespace follows the last end.
* ``non_letter_share``: characters that are neither letters nor whitespace, over ``length``
  (as Evidently's ``NonLetterCharacterPercentage``, as a share); NaN for an empty text.
* ``upper_share``: upper-case letters over letters; NaN without letters.
* ``urls``: matches of :data:`URL_PATTERN` (RE2, ASCII classes).
* ``digits``: decimal digits (``str.isdecimal()``).
* ``empty``: 1 when the text is empty or whitespace only (``str.isspace()``), else 0.
* ``oov_share``: word tokens not in ``vocabulary`` over word tokens; NaN without words or
  without a vocabulary.
* ``json_valid``: 1 when the text is a JSON object or array; only texts whose first
  non-whitespace character is ``{`` or ``[`` are parsed (by the C decoder of :mod:`json`).
* ``match.<name>``: 1 when the RE2 pattern matches anywhere in the text, else 0.

Null texts give NaN in every descriptor. Character classes are Python's (``str.isalpha``,
``isupper``, ``isdecimal``, ``isspace``, ``isalnum``), looked up per distinct code point and
memoised in a table shared by all calls (a cache of a pure function).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from sightline._types import BoolArray, FloatArray, IntArray
from sightline.errors import InvalidInputError

#: The descriptors of a text column, in output order.
DESCRIPTORS: tuple[str, ...] = (
    "length",
    "words",
    "sentences",
    "non_letter_share",
    "upper_share",
    "urls",
    "digits",
    "empty",
    "oov_share",
    "json_valid",
)

#: What counts as a URL (RE2 syntax, case-insensitive).
URL_PATTERN = r"(?i)\b(?:https?://|www\.)\S+"

#: Target size in bytes of the pieces a column is processed in.
PIECE_BYTES = 1 << 21

_LETTER, _UPPER, _DIGIT, _SPACE, _WORD, _TERM = 1, 2, 4, 8, 16, 32
#: Characters that end a sentence: ``. ! ?``, the ellipsis, the CJK full stop and the
#: full-width ``!`` and ``?``.
TERMINATORS = ".!?\u2026\u3002\uff01\uff1f"
_FIELD = 16  # bits per count in the packed per-byte counters
_MAX_PACKED_ROW = (1 << _FIELD) - 1


def _flags_of(ch: str) -> int:
    return (
        _LETTER * ch.isalpha()
        | _UPPER * (ch.isupper() and ch.isalpha())
        | _DIGIT * ch.isdecimal()
        | _SPACE * ch.isspace()
        | _WORD * (ch.isalnum() or ch == "_")
        | _TERM * (ch in TERMINATORS)
    )


class _CodePointFlags:
    """Flags of code points, filled on first sight of each (thread-safe)."""

    def __init__(self) -> None:
        self.flags = np.zeros(0x110000, dtype=np.uint8)
        self.known = np.zeros(0x110000, dtype=np.bool_)
        self.lock = threading.Lock()
        ascii_points = np.arange(128)
        self._learn(ascii_points)

    def _learn(self, points: npt.NDArray[Any]) -> None:
        values = [_flags_of(chr(c)) for c in points.tolist()]
        self.flags[points] = values
        self.known[points] = True

    def lookup(self, points: IntArray) -> npt.NDArray[np.uint8]:
        unknown = ~self.known[points]
        if unknown.any():
            with self.lock:
                self._learn(np.unique(points[unknown]))
        return self.flags[points]


_CODE_POINTS = _CodePointFlags()
_BYTE_FLAGS = np.zeros(256, dtype=np.uint8)
_BYTE_FLAGS[:128] = _CODE_POINTS.flags[:128]
# Packed counters per flag value: letters | upper << 16 | digits << 32 | non-space << 48.
_flag_values = np.arange(64, dtype=np.uint64)
_PACKED = (
    (_flag_values & _LETTER).astype(bool).astype(np.uint64)
    | ((_flag_values & _UPPER).astype(bool).astype(np.uint64) << np.uint64(16))
    | ((_flag_values & _DIGIT).astype(bool).astype(np.uint64) << np.uint64(32))
)
_NON_SPACE = np.uint64(1) << np.uint64(48)


def descriptors(
    texts: pa.Array | pa.ChunkedArray | Sequence[str | None],
    *,
    vocabulary: frozenset[str] | None = None,
    patterns: Mapping[str, str] | None = None,
) -> dict[str, FloatArray]:
    """One float64 array per descriptor of ``texts`` (and ``match.<name>`` per pattern).

    Parameters
    ----------
    texts
        Arrow string/large-string/binary/dictionary column, or a sequence of ``str``/``None``.
    vocabulary
        Lower-case words of the reference (from :func:`words`); ``oov_share`` is NaN without.
    patterns
        ``name -> RE2 pattern``; ``match.<name>`` is 1 where the pattern occurs.

    Raises
    ------
    InvalidInputError
        (a ``ValueError``) for invalid UTF-8, a value that is not text, or a bad pattern.

    Examples
    --------
    >>> d = descriptors(["Hello world. Bye!", "", None], patterns={"bye": "(?i)bye"})
    >>> d["length"].tolist(), d["words"].tolist(), d["sentences"].tolist()
    ([17.0, 0.0, nan], [3.0, 0.0, nan], [2.0, 0.0, nan])
    >>> d["empty"].tolist(), d["match.bye"].tolist()
    ([0.0, 1.0, nan], [1.0, 0.0, nan])
    """
    checked = _check_patterns(patterns or {})
    vocab = None if vocabulary is None else pc.utf8_lower(pa.array(sorted(vocabulary), pa.string()))
    parts: dict[str, list[FloatArray]] = {}
    for piece in _pieces(_as_utf8(texts)):
        for name, values in _piece_descriptors(piece, vocab, checked).items():
            parts.setdefault(name, []).append(values)
    names = (*DESCRIPTORS, *(f"match.{n}" for n in checked))
    return {n: np.concatenate(parts[n]) if n in parts else np.empty(0) for n in names}


def words(texts: pa.Array | pa.ChunkedArray | Sequence[str | None]) -> pa.ChunkedArray:
    """The lower-cased word tokens of ``texts``, in order (nulls give none).

    >>> words(["Hello, World", None, "héllo_2 x"]).to_pylist()
    ['hello', 'world', 'héllo_2', 'x']
    """
    chunks = [_tokens(_Piece(piece)) for piece in _pieces(_as_utf8(texts))]
    return pa.chunked_array(chunks, type=pa.string())


def _check_patterns(patterns: Mapping[str, str]) -> dict[str, str]:
    probe = pa.array([""], pa.string())
    for name, pattern in patterns.items():
        if not isinstance(name, str) or not name or not isinstance(pattern, str):
            raise InvalidInputError(
                f"patterns must map non-empty names to RE2 pattern strings, got {name!r}: "
                f"{pattern!r}",
                field="patterns",
            )
        try:
            pc.match_substring_regex(probe, pattern)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InvalidInputError(
                f"pattern {name!r} is not a valid RE2 regular expression: {exc}",
                field=f"patterns.{name}",
            ) from exc
    return dict(patterns)


def _as_utf8(texts: pa.Array | pa.ChunkedArray | Sequence[str | None]) -> list[pa.Array]:
    """Validated UTF-8 string chunks of the input."""
    if isinstance(texts, pa.ChunkedArray):
        chunks = list(texts.chunks)
    elif isinstance(texts, pa.Array):
        chunks = [texts]
    else:
        chunks = [_from_python(texts)]
    return [_utf8_chunk(c) for c in chunks]


def _from_python(texts: Sequence[str | None]) -> pa.Array:
    try:
        return pa.array(texts, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError, TypeError) as exc:
        for i, value in enumerate(texts):  # only on the error path: name the bad row
            if value is not None and not isinstance(value, str):
                raise InvalidInputError(
                    f"texts[{i}] is {type(value).__name__}, not str or None", field="texts"
                ) from exc
            if isinstance(value, str):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError as bad:
                    raise InvalidInputError(
                        f"texts[{i}] is not valid Unicode ({bad.reason} at character {bad.start})",
                        field="texts",
                    ) from exc
        raise InvalidInputError(f"texts cannot be read as strings: {exc}", field="texts") from exc


def _utf8_chunk(chunk: pa.Array) -> pa.Array:
    t = chunk.type
    if pa.types.is_dictionary(t):
        return _utf8_chunk(chunk.dictionary_decode())
    if pa.types.is_null(t):
        return pa.nulls(len(chunk), pa.string())
    if pa.types.is_string_view(t):
        return _utf8_chunk(pc.cast(chunk, pa.large_string()))
    if not (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
    ):
        raise InvalidInputError(f"texts must be strings, got Arrow type {t}", field="texts")
    kind = pa.string() if pa.types.is_string(t) or pa.types.is_binary(t) else pa.large_string()
    as_binary = chunk.view(pa.binary() if kind == pa.string() else pa.large_binary())
    try:
        result = as_binary.view(kind)
        result.validate(full=True)
    except pa.ArrowInvalid as exc:
        row = _first_invalid_row(as_binary)
        raise InvalidInputError(
            f"texts[{row[0]}] is not valid UTF-8: {row[1]}", field="texts"
        ) from exc
    return result


def _first_invalid_row(chunk: pa.Array) -> tuple[int, str]:
    for i, value in enumerate(chunk.to_pylist()):  # only on the error path: name the bad row
        if value is not None:
            try:
                value.decode("utf-8")
            except UnicodeDecodeError as bad:
                return i, f"{bad.reason} at byte {bad.start}"
    return -1, "invalid"


def _pieces(chunks: list[pa.Array]) -> Iterator[pa.Array]:
    for chunk in chunks:
        offsets = _offsets(chunk)
        bounds = np.searchsorted(offsets, np.arange(offsets[0], offsets[-1], PIECE_BYTES))
        bounds = np.unique(np.concatenate([bounds, [len(chunk)]]))
        start = 0
        for stop in bounds.tolist():
            if stop > start:
                yield chunk.slice(start, stop - start)
            start = stop
        if len(chunk) == 0:
            yield chunk


def _offsets(chunk: pa.Array) -> IntArray:
    width = 8 if pa.types.is_large_string(chunk.type) else 4
    raw = np.frombuffer(
        chunk.buffers()[1], dtype=f"<i{width}", count=len(chunk) + 1, offset=chunk.offset * width
    )
    return raw.astype(np.int64)


class _Piece:
    """The bytes of a piece of the column with per-byte flags and word boundaries."""

    def __init__(self, chunk: pa.Array) -> None:
        self.chunk = chunk
        offsets = _offsets(chunk)
        base = int(offsets[0])
        self.offsets = offsets - base
        data = chunk.buffers()[2]
        size = int(self.offsets[-1])
        self.data = (
            np.frombuffer(data, dtype=np.uint8, count=size, offset=base)
            if size and data is not None
            else np.zeros(0, np.uint8)
        )
        self.flags, self.word = self._flags()
        self.starts, self.ends = self._word_bounds()

    def _flags(self) -> tuple[npt.NDArray[np.uint8], BoolArray]:
        b = self.data
        flags = _BYTE_FLAGS[b]
        word = (flags & _WORD).astype(bool)
        leads = np.flatnonzero(b >= 0xC0)
        if leads.size:
            lead = b[leads].astype(np.int64)
            size = 2 + (lead >= 0xE0) + (lead >= 0xF0)
            points = lead & np.where(size == 2, 0x1F, np.where(size == 3, 0x0F, 0x07))
            for k in (1, 2, 3):
                more = size > k
                cont = b[np.minimum(leads + k, b.size - 1)].astype(np.int64) & 0x3F
                points = np.where(more, (points << 6) | cont, points)
            lead_flags = _CODE_POINTS.lookup(points)
            flags[leads] = lead_flags
            is_word = (lead_flags & _WORD).astype(bool)
            word[leads] = is_word
            for k in (1, 2, 3):  # continuation bytes belong to their character's word
                more = size > k
                word[leads[more] + k] = is_word[more]
            terms = leads[(lead_flags & _TERM).astype(bool)]
            if terms.size:  # a terminator's flag sits on its last byte
                last = terms + size[(lead_flags & _TERM).astype(bool)] - 1
                flags[terms] &= ~np.uint8(_TERM)
                flags[last] |= np.uint8(_TERM)
        return flags, word

    def _word_bounds(self) -> tuple[IntArray, IntArray]:
        word = self.word
        if not word.size:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        row_start = self.offsets[:-1][self.offsets[:-1] < self.offsets[1:]]
        row_last = self.offsets[1:][self.offsets[:-1] < self.offsets[1:]] - 1
        before = np.empty_like(word)
        before[0] = False
        before[1:] = word[:-1]
        before[row_start] = False
        after = np.empty_like(word)
        after[-1] = False
        after[:-1] = word[1:]
        after[row_last] = False
        starts = np.flatnonzero(word & ~before)
        ends = np.flatnonzero(word & ~after) + 1
        return starts, ends

    def per_row(self, positions: IntArray) -> IntArray:
        """How many of the sorted byte ``positions`` fall in each row."""
        return np.diff(np.searchsorted(positions, self.offsets))


def _piece_descriptors(
    chunk: pa.Array, vocabulary: pa.Array | None, patterns: Mapping[str, str]
) -> dict[str, FloatArray]:
    piece = _Piece(chunk)
    length = pc.utf8_length(chunk).to_numpy(zero_copy_only=False).astype(np.float64)
    letters, upper, digits, non_space, sentences = _counts(piece)
    n_words = piece.per_row(piece.starts).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "length": length,
            "words": n_words,
            "sentences": sentences,
            "non_letter_share": (non_space - letters) / length,
            "upper_share": upper / letters,
            "urls": _urls(chunk),
            "digits": digits,
            "empty": (non_space == 0).astype(np.float64),
            "oov_share": _oov_share(piece, n_words, vocabulary),
            "json_valid": _json_valid(chunk),
        }
    for name, pattern in patterns.items():
        matched = pc.match_substring_regex(chunk, pattern)
        out[f"match.{name}"] = pc.cast(matched, pa.float64()).to_numpy(zero_copy_only=False)
    null = pc.is_null(chunk).to_numpy(zero_copy_only=False)
    if null.any():
        for values in out.values():
            values[null] = np.nan
    return out


def _counts(piece: _Piece) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Letters, upper-case letters, digits, non-space characters and sentences per row."""
    flags = piece.flags
    packed = _PACKED[flags & 0x3F]
    char = (piece.data & 0xC0) != 0x80
    packed[char & ((flags & _SPACE) == 0)] |= _NON_SPACE
    starts, stops = piece.offsets[:-1], piece.offsets[1:]
    between = _running_counts(packed, long=bool(np.any(stops - starts > _MAX_PACKED_ROW)))
    fields = between(starts, stops)
    # Sentence ends: the last byte of a terminator followed by a space or the end of the row.
    term = (flags & _TERM) != 0
    follow = np.zeros_like(term)
    follow[:-1] = (flags[1:] & _SPACE) != 0
    follow[stops[stops > starts] - 1] = True
    ends = np.flatnonzero(term & follow)
    n_ends = piece.per_row(ends)
    # Non-space characters after the last end of each row (all of them without an end).
    last = np.searchsorted(ends, stops) - 1
    has_end = n_ends > 0
    after = fields[3].copy()
    if has_end.any():
        rows = np.flatnonzero(has_end)
        after[rows] = between(ends[last[rows]] + 1, stops[rows])[3]
    sentences = n_ends + (after > 0)
    letters, upper, digits, non_space = (f.astype(np.float64) for f in fields)
    return letters, upper, digits, non_space, sentences.astype(np.float64)


def _running_counts(
    packed: npt.NDArray[np.uint64], *, long: bool
) -> Callable[[IntArray, IntArray], list[IntArray]]:
    """``between(lo, hi)``: the four packed counts over bytes ``lo..hi-1``.

    One cumulative sum of the packed counters is exact while a span holds fewer than 65,536
    bytes (the sums are linear, so borrows cancel); with ``long`` rows each counter is
    summed on its own.
    """
    if not long:
        running = np.zeros(packed.size + 1, dtype=np.uint64)
        np.cumsum(packed, out=running[1:])
        mask = np.uint64(_MAX_PACKED_ROW)

        def packed_between(lo: IntArray, hi: IntArray) -> list[IntArray]:
            diff = running[hi] - running[lo]
            return [((diff >> np.uint64(_FIELD * k)) & mask).astype(np.int64) for k in range(4)]

        return packed_between
    sums = []
    for k in range(4):
        field = ((packed >> np.uint64(_FIELD * k)) & np.uint64(1)).astype(np.int64)
        running_k = np.zeros(field.size + 1, dtype=np.int64)
        np.cumsum(field, out=running_k[1:])
        sums.append(running_k)

    def separate_between(lo: IntArray, hi: IntArray) -> list[IntArray]:
        return [r[hi] - r[lo] for r in sums]

    return separate_between


def _tokens(piece: _Piece) -> pa.Array:
    """Lower-cased word tokens of a piece (every other value of start/end offsets)."""
    bounds = np.empty(2 * piece.starts.size, dtype=np.int64)
    bounds[0::2] = piece.starts
    bounds[1::2] = piece.ends
    if not bounds.size:
        return pa.array([], pa.string())
    bounds -= bounds[0]
    first = int(piece.starts[0])
    data = pa.py_buffer(piece.data[first : int(piece.ends[-1])])
    spans = pa.LargeStringArray.from_buffers(bounds.size - 1, pa.py_buffer(bounds), data)
    words_only = spans.take(pa.array(np.arange(0, bounds.size - 1, 2)))
    return pc.cast(pc.utf8_lower(words_only), pa.string())


def _oov_share(piece: _Piece, n_words: FloatArray, vocabulary: pa.Array | None) -> FloatArray:
    if vocabulary is None:
        return np.full(n_words.size, np.nan)
    unknown = ~pc.is_in(_tokens(piece), value_set=vocabulary).to_numpy(zero_copy_only=False)
    running = np.zeros(unknown.size + 1, dtype=np.int64)
    np.cumsum(unknown, out=running[1:])
    bounds = np.zeros(n_words.size + 1, dtype=np.int64)
    np.cumsum(n_words.astype(np.int64), out=bounds[1:])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.diff(running[bounds]) / n_words, dtype=np.float64)


def _urls(chunk: pa.Array) -> FloatArray:
    counts = pc.count_substring_regex(chunk, URL_PATTERN).to_numpy(zero_copy_only=False)
    return np.asarray(counts, dtype=np.float64)


def _json_valid(chunk: pa.Array) -> FloatArray:
    out = np.zeros(len(chunk), dtype=np.float64)
    candidate = pc.fill_null(pc.match_substring_regex(chunk, r"^\s*[\[{]"), False)
    rows = np.flatnonzero(candidate.to_numpy(zero_copy_only=False))
    if rows.size:
        texts = chunk.take(pa.array(rows)).to_pylist()
        out[rows] = [_is_json(t) for t in texts]  # only texts that open like JSON
    return out


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


__all__ = ["DESCRIPTORS", "PIECE_BYTES", "TERMINATORS", "URL_PATTERN", "descriptors", "words"]
