"""Text descriptors: one number per text, computed over the whole column at once.

:func:`descriptors` turns a column of texts into numeric columns (:data:`DESCRIPTORS`, plus
``match.<name>`` for each user pattern); :func:`words` gives the lower-cased word tokens from
which a reference vocabulary or the frequent words are built, and
:func:`descriptors_and_words` both at once, tokenizing once. They work on the UTF-8 bytes of
the Arrow column with numpy (a boolean mask per character class, per-row counts from
cumulative sums of the bit-packed masks at the row offsets) and Arrow compute kernels; no
Python code runs per row. The column is processed in pieces of about :data:`PIECE_BYTES`
so that the working arrays stay in cache, on :data:`WORKERS` threads when there are several.

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
* ``json_valid``: 1 when the text is a JSON object or array; only texts whose first and
  last non-whitespace characters are ``{``/``[`` and ``}``/``]`` are parsed (by the C
  decoder of :mod:`json`).
* ``match.<name>``: 1 when the RE2 pattern matches anywhere in the text, else 0.

Null texts give NaN in every descriptor. Character classes are Python's (``str.isalpha``,
``isupper``, ``isdecimal``, ``isspace``, ``isalnum``), looked up per distinct code point and
memoised in a table shared by all calls (a cache of a pure function).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import Any, TypeVar

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

#: Target size in bytes of the pieces a column is processed in, and the threads that
#: process the pieces of a column of more than one piece.
PIECE_BYTES = 1 << 21
WORKERS = 2

_LETTER, _UPPER, _DIGIT, _SPACE, _WORD, _TERM = 1, 2, 4, 8, 16, 32
#: Characters that end a sentence: ``. ! ?``, the ellipsis, the CJK full stop and the
#: full-width ``!`` and ``?``.
TERMINATORS = ".!?\u2026\u3002\uff01\uff1f"


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
    """Flags of non-ASCII code points, filled on first sight of each (thread-safe)."""

    def __init__(self) -> None:
        self.flags = np.zeros(0x110000, dtype=np.uint8)
        self.known = np.zeros(0x110000, dtype=np.bool_)
        self.lock = threading.Lock()

    def lookup(self, points: IntArray) -> npt.NDArray[np.uint8]:
        unknown = ~self.known[points]
        if unknown.any():
            with self.lock:
                new = np.unique(points[unknown])
                self.flags[new] = [_flags_of(chr(c)) for c in new.tolist()]
                self.known[new] = True
        return self.flags[points]


_CODE_POINTS = _CodePointFlags()
T = TypeVar("T")


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
    return _describe(texts, vocabulary, patterns, with_words=False)[0]


def descriptors_and_words(
    texts: pa.Array | pa.ChunkedArray | Sequence[str | None],
    *,
    vocabulary: frozenset[str] | None = None,
    patterns: Mapping[str, str] | None = None,
) -> tuple[dict[str, FloatArray], pa.ChunkedArray]:
    """:func:`descriptors` and :func:`words` of ``texts`` in one pass over the column, the
    words tokenized once for both (a text column's profile needs both).

    >>> found, tokens = descriptors_and_words(["Tea, tea!", None], vocabulary=frozenset({"tea"}))
    >>> found["oov_share"].tolist(), tokens.to_pylist()
    ([0.0, nan], ['tea', 'tea'])
    """
    return _describe(texts, vocabulary, patterns, with_words=True)


def _describe(
    texts: pa.Array | pa.ChunkedArray | Sequence[str | None],
    vocabulary: frozenset[str] | None,
    patterns: Mapping[str, str] | None,
    *,
    with_words: bool,
) -> tuple[dict[str, FloatArray], pa.ChunkedArray]:
    checked = _check_patterns(patterns or {})
    vocab = None if vocabulary is None else pc.utf8_lower(pa.array(sorted(vocabulary), pa.string()))
    pieces = list(_pieces(_as_utf8(texts)))
    scratch = _Scratch()

    def one(chunk: pa.Array) -> tuple[dict[str, FloatArray], pa.Array | None]:
        piece = _Piece(chunk, scratch)
        return _piece_descriptors(piece, vocab, checked), _tokens(piece) if with_words else None

    done = _map(one, pieces)
    parts: dict[str, list[FloatArray]] = {}
    for found, _ in done:
        for name, values in found.items():
            parts.setdefault(name, []).append(values)
    names = (*DESCRIPTORS, *(f"match.{n}" for n in checked))
    tokens = [t for _, t in done if t is not None]
    return (
        {n: np.concatenate(parts[n]) if n in parts else np.empty(0) for n in names},
        pa.chunked_array(tokens, type=pa.string()),
    )


def words(texts: pa.Array | pa.ChunkedArray | Sequence[str | None]) -> pa.ChunkedArray:
    """The lower-cased word tokens of ``texts``, in order (nulls give none).

    >>> words(["Hello, World", None, "héllo_2 x"]).to_pylist()
    ['hello', 'world', 'héllo_2', 'x']
    """
    scratch = _Scratch()
    chunks = [_tokens(_Piece(piece, scratch)) for piece in _pieces(_as_utf8(texts))]
    return pa.chunked_array(chunks, type=pa.string())


def _map(call: Callable[[pa.Array], T], pieces: list[pa.Array]) -> list[T]:
    """``[call(p) for p in pieces]``, on :data:`WORKERS` threads when there are several
    pieces (numpy and Arrow release the GIL in the kernels)."""
    if len(pieces) < 2:
        return [call(p) for p in pieces]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(call, pieces))


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


def _is_string_view(t: pa.DataType) -> bool:
    """Whether ``t`` is Arrow's ``string_view`` (pyarrow 16 and later; an older pyarrow
    has no such type, so nothing is one)."""
    check = getattr(pa.types, "is_string_view", None)
    return bool(check(t)) if check is not None else False


def _utf8_chunk(chunk: pa.Array) -> pa.Array:
    t = chunk.type
    if pa.types.is_dictionary(t):
        return _utf8_chunk(chunk.dictionary_decode())
    if pa.types.is_null(t):
        return pa.nulls(len(chunk), pa.string())
    if _is_string_view(t):
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


class _Scratch(threading.local):
    """Working arrays of one call, reused by the pieces each thread processes: fresh memory
    costs a page fault per 4 KiB on first touch (a third of the time of the descriptors
    of 1M texts when every piece allocated its own masks)."""

    def __init__(self) -> None:
        self.buffers: dict[str, npt.NDArray[np.generic]] = {}

    def array(self, name: str, size: int, dtype: type[np.generic] = np.bool_) -> npt.NDArray[Any]:
        """The reused array ``name`` of ``size`` values (contents undefined)."""
        buffer = self.buffers.get(name)
        if buffer is None or buffer.size < size:
            buffer = self.buffers[name] = np.empty(size + size // 4, dtype=dtype)
        return buffer[:size]


class _Piece:
    """The bytes of a piece of the column, with one boolean mask per character class.

    ASCII bytes are classified arithmetically; each multi-byte character is classified at its
    first byte (from :class:`_CodePointFlags`), except that it belongs to a word on every byte
    and ends a sentence on its last byte. Continuation bytes are in no other class. The
    masks live in ``scratch``: a piece is used up before its thread takes the next.
    """

    def __init__(self, chunk: pa.Array, scratch: _Scratch) -> None:
        self.chunk = chunk
        self.scratch = scratch
        offsets = _offsets(chunk)
        base = int(offsets[0])
        self.offsets = offsets - base
        data = chunk.buffers()[2]
        size = int(self.offsets[-1])
        b = (
            np.frombuffer(data, dtype=np.uint8, count=size, offset=base)
            if size and data is not None
            else np.zeros(0, np.uint8)
        )
        self.data = b
        nonempty = self.offsets[:-1] < self.offsets[1:]
        self.row_first = self.offsets[:-1][nonempty]
        self.row_last = self.offsets[1:][nonempty] - 1
        n = b.size
        t, other = scratch.array("bytes", n, np.uint8), scratch.array("other", n)
        self.upper = np.less(np.subtract(b, 65, out=t), 26, out=scratch.array("upper", n))
        np.subtract(np.bitwise_or(b, 0x20, out=t), 97, out=t)
        self.letter = np.less(t, 26, out=scratch.array("letter", n))
        self.digit = np.less(np.subtract(b, 48, out=t), 10, out=scratch.array("digit", n))
        self.space = np.less(np.subtract(b, 9, out=t), 5, out=scratch.array("space", n))
        self.space |= np.less(np.subtract(b, 28, out=t), 5, out=other)
        self.term = np.equal(b, 46, out=scratch.array("term", n))
        self.term |= np.equal(b, 33, out=other)
        self.term |= np.equal(b, 63, out=other)
        self.word = np.equal(b, 95, out=scratch.array("word", n))
        self.word |= self.letter
        self.word |= self.digit
        self.leads = np.flatnonzero(np.greater_equal(b, 0xC0, out=other))
        if self.leads.size:
            self._classify_multibyte()

    def _classify_multibyte(self) -> None:
        b, leads = self.data, self.leads
        lead = b[leads].astype(np.int64)
        size = 2 + (lead >= 0xE0) + (lead >= 0xF0)
        points = lead & np.where(size == 2, 0x1F, np.where(size == 3, 0x0F, 0x07))
        for k in (1, 2, 3):
            cont = b[np.minimum(leads + k, b.size - 1)].astype(np.int64) & 0x3F
            points = np.where(size > k, (points << 6) | cont, points)
        flags = _CODE_POINTS.lookup(points)
        for mask, flag in (
            (self.letter, _LETTER),
            (self.upper, _UPPER),
            (self.digit, _DIGIT),
            (self.space, _SPACE),
        ):
            mask[leads] = (flags & flag) != 0
        is_word = (flags & _WORD) != 0
        for k in (0, 1, 2, 3):  # every byte of a word character is in the word
            more = size > k
            self.word[leads[more] + k] = is_word[more]
        ends = (flags & _TERM) != 0
        self.term[leads[ends] + size[ends] - 1] = True

    @cached_property
    def word_starts(self) -> BoolArray:
        """Bytes that start a word (a word byte after a non-word byte or a row start)."""
        starts = self.scratch.array("word_starts", self.word.size)
        if starts.size:
            starts[0] = self.word[0]
            np.greater(self.word[1:], self.word[:-1], out=starts[1:])
            starts[self.row_first] = self.word[self.row_first]
        return starts

    @cached_property
    def counts(self) -> dict[str, IntArray]:
        """Per row, in one pass: the bytes that are letters, upper-case letters, digits,
        whitespace, word starts (``words``) and sentence ends."""
        masks = {
            "letter": self.letter,
            "upper": self.upper,
            "digit": self.digit,
            "space": self.space,
            "words": self.word_starts,
            "sentence_ends": self.sentence_ends(),
        }
        found = np.diff(_prefix_counts(list(masks.values()), self.offsets, self.scratch), axis=1)
        return dict(zip(masks, found, strict=True))

    @cached_property
    def trimmed_ends(self) -> IntArray:
        """Offset just past each row's last non-whitespace byte (the row start when the
        row is empty or whitespace only)."""
        return self.offsets[:-1] + np.diff(_offsets(pc.utf8_rtrim_whitespace(self.chunk)))

    @cached_property
    def raw_tokens(self) -> tuple[pa.Array, IntArray]:
        """The word tokens, shared by ``oov_share`` and :func:`words` (:func:`_raw_tokens`)."""
        return _raw_tokens(self)

    def sentence_ends(self) -> BoolArray:
        """Last bytes of terminators followed by whitespace or the end of the row."""
        ends = self.scratch.array("sentence_ends", self.term.size)
        if ends.size:
            ends[-1] = self.term[-1]
            np.logical_and(self.term[:-1], self.space[1:], out=ends[:-1])
            ends[self.row_last] = self.term[self.row_last]
        return ends

    def rows_of(self, positions: IntArray) -> IntArray:
        """Distinct rows holding the byte ``positions``."""
        return np.unique(np.searchsorted(self.offsets, positions, side="right") - 1)


#: Set bits of each byte value, where numpy 1.x has no ``np.bitwise_count`` (numpy 2, 25
#: times faster than this table).
_BITS_OF_BYTE = np.array([bin(b).count("1") for b in range(256)], dtype=np.uint8)
_BITWISE_COUNT = getattr(np, "bitwise_count", None)


def _bit_counts(packed: npt.NDArray[np.uint8], out: npt.NDArray[np.uint8]) -> npt.NDArray[Any]:
    """The set bits of each byte of ``packed``, into ``out``."""
    if _BITWISE_COUNT is not None:
        return _BITWISE_COUNT(packed, out=out)  # type: ignore[no-any-return]
    return np.take(_BITS_OF_BYTE, packed, out=out)


def _prefix_counts(masks: Sequence[BoolArray], positions: IntArray, scratch: _Scratch) -> IntArray:
    """``mask[:p].sum()`` for each of the equal-sized ``masks`` and each ``p`` in
    ``positions`` (shape ``(len(masks), len(positions))``), on the masks packed 8 to a byte."""
    k, size = len(masks), (masks[0].size + 7) // 8
    packed = scratch.array("packed", k * size, np.uint8).reshape(k, size)
    for row, mask in zip(packed, masks, strict=True):
        row[:] = np.packbits(mask)
    bits = _bit_counts(packed, scratch.array("bits", k * size, np.uint8).reshape(k, size))
    running = scratch.array("running", k * (size + 1), np.int32).reshape(k, size + 1)
    running[:, 0] = 0  # pieces hold far fewer than 2**31 bytes
    np.cumsum(bits, axis=1, out=running[:, 1:], dtype=np.int32)
    whole, rest = np.divmod(positions, 8)
    counts = running[:, whole]
    part = rest > 0
    if part.any():  # the first ``rest`` bits (most significant first) of the next byte
        shift = (8 - rest[part]).astype(np.uint8)
        high = packed[:, whole[part]] >> shift
        counts[:, part] += _bit_counts(high, high)
    return counts.astype(np.int64)


def _piece_descriptors(
    piece: _Piece, vocabulary: pa.Array | None, patterns: Mapping[str, str]
) -> dict[str, FloatArray]:
    chunk = piece.chunk
    length = pc.utf8_length(chunk).to_numpy(zero_copy_only=False).astype(np.float64)
    counts = piece.counts
    letters = counts["letter"].astype(np.float64)
    non_space = length - counts["space"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "length": length,
            "words": counts["words"].astype(np.float64),
            "sentences": _sentences(piece),
            "non_letter_share": (non_space - letters) / length,
            "upper_share": counts["upper"] / letters,
            "urls": _urls(piece, chunk),
            "digits": counts["digit"].astype(np.float64),
            "empty": (non_space == 0).astype(np.float64),
            "oov_share": _oov_share(piece, vocabulary),
            "json_valid": _json_valid(piece, chunk),
        }
    for name, pattern in patterns.items():
        matched = pc.match_substring_regex(chunk, pattern)
        out[f"match.{name}"] = pc.cast(matched, pa.float64()).to_numpy(zero_copy_only=False)
    null = pc.is_null(chunk).to_numpy(zero_copy_only=False)
    if null.any():
        for values in out.values():
            values[null] = np.nan
    return out


def _sentences(piece: _Piece) -> FloatArray:
    """Sentence ends, plus one where the last non-space character is not a terminator."""
    ends = piece.counts["sentence_ends"]
    last = piece.trimmed_ends - 1
    trailing = last >= piece.offsets[:-1]
    trailing[trailing] = ~piece.term[last[trailing]]
    return np.asarray(ends + trailing, dtype=np.float64)


def _raw_tokens(piece: _Piece) -> tuple[pa.Array, IntArray]:
    """The word tokens of a piece with their ASCII letters lower-cased, and the indices of
    the tokens holding other characters. Every word byte belongs to one token, so the
    tokens are the word bytes packed together, cut after each word's length."""
    starts = np.flatnonzero(piece.word_starts)
    if not starts.size:
        return pa.array([], pa.string()), np.zeros(0, np.int64)
    word = piece.word
    ends = piece.scratch.array("word_ends", word.size)
    ends[-1] = word[-1]
    np.greater(word[:-1], word[1:], out=ends[:-1])
    ends[piece.row_last] = word[piece.row_last]
    cuts = np.zeros(starts.size + 1, dtype=np.int32)  # pieces hold far fewer than 2**31
    np.cumsum(np.flatnonzero(ends) + 1 - starts, out=cuts[1:])
    data = np.compress(word, piece.data)  # np.compress is 3x faster than data[word]
    t = piece.scratch.array("bytes", data.size, np.uint8)
    upper = np.less(np.subtract(data, 65, out=t), 26, out=piece.scratch.array("other", data.size))
    data |= np.left_shift(upper.view(np.uint8), 5, out=t)
    tokens = pa.StringArray.from_buffers(starts.size, pa.py_buffer(cuts), pa.py_buffer(data))
    in_words = piece.leads[word[piece.leads]]
    return tokens, np.unique(np.searchsorted(starts, in_words, side="right") - 1)


def _tokens(piece: _Piece) -> pa.Array:
    """Lower-cased word tokens of a piece, in order."""
    tokens, other = piece.raw_tokens
    return pc.utf8_lower(tokens) if other.size else tokens


def _oov_share(piece: _Piece, vocabulary: pa.Array | None) -> FloatArray:
    """Share of each row's words not in ``vocabulary`` (tokens with non-ASCII characters
    are lower-cased by Arrow, the others by their bytes)."""
    n_words = piece.counts["words"]
    if vocabulary is None:
        return np.full(n_words.size, np.nan)
    tokens, other = piece.raw_tokens
    known = pc.is_in(tokens, value_set=vocabulary).to_numpy(zero_copy_only=False)
    if other.size:
        lowered = pc.utf8_lower(tokens.take(pa.array(other)))
        known[other] = pc.is_in(lowered, value_set=vocabulary).to_numpy(zero_copy_only=False)
    bounds = np.zeros(n_words.size + 1, dtype=np.int64)
    np.cumsum(n_words, out=bounds[1:])
    with np.errstate(invalid="ignore", divide="ignore"):
        unknown = np.diff(_prefix_counts([~known], bounds, piece.scratch)[0])
        return np.asarray(unknown / n_words, dtype=np.float64)


def _urls(piece: _Piece, chunk: pa.Array) -> FloatArray:
    """Matches of :data:`URL_PATTERN`, searched only in rows holding ``://`` or ``www.``."""
    out = np.zeros(len(chunk), dtype=np.float64)
    b = piece.data
    found = piece.scratch.array("other", b.size)
    colons = np.flatnonzero(np.equal(b[:-2], 58, out=found[: max(b.size - 2, 0)]))
    colons = colons[(b[colons + 1] == 47) & (b[colons + 2] == 47)]
    dots = np.flatnonzero(np.equal(b, 46, out=found))
    dots = dots[dots >= 3]
    lowered = [b[dots - k] | 0x20 for k in (1, 2, 3)]
    dots = dots[(lowered[0] == 119) & (lowered[1] == 119) & (lowered[2] == 119)]
    rows = piece.rows_of(np.concatenate([colons, dots]))
    if rows.size:
        matches = pc.count_substring_regex(chunk.take(pa.array(rows)), URL_PATTERN)
        out[rows] = matches.to_numpy(zero_copy_only=False)
    return out


def _json_valid(piece: _Piece, chunk: pa.Array) -> FloatArray:
    """1 for JSON objects and arrays: only rows whose last non-space byte is ``}``/``]``
    and whose first non-space byte is ``{``/``[`` are parsed."""
    out = np.zeros(len(chunk), dtype=np.float64)
    last = piece.trimmed_ends - 1
    rows = np.flatnonzero(last >= piece.offsets[:-1])
    closing = piece.data[last[rows]]
    rows = rows[(closing == 125) | (closing == 93)]
    first = piece.data[piece.offsets[rows]]
    padded = rows[piece.space[piece.offsets[rows]]]
    rows = rows[(first == 123) | (first == 91)]
    if padded.size:
        opens = pc.match_substring_regex(chunk.take(pa.array(padded)), r"^\s*[\[{]")
        rows = np.union1d(rows, padded[pc.fill_null(opens, False).to_numpy(zero_copy_only=False)])
    if rows.size:
        texts = chunk.take(pa.array(rows)).to_pylist()
        out[rows] = [_is_json(t) for t in texts]  # only texts that open and close like JSON
    return out


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


__all__ = [
    "DESCRIPTORS",
    "PIECE_BYTES",
    "TERMINATORS",
    "URL_PATTERN",
    "WORKERS",
    "descriptors",
    "descriptors_and_words",
    "words",
]
