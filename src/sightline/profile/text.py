"""Text column profiles: the numeric profile of each descriptor, plus the frequent words.

A text column ``review`` is profiled as the descriptors of :mod:`sightline.stats.text`,
each an ordinary :class:`~sightline.profile.column.NumericColumnProfile` named
``review.length``, ``review.words``, ... (binned on the reference's edges, so its drift
and quality rows are those of any numeric column), and a frequent-items sketch of the
lower-cased words. ``oov_share`` needs a vocabulary: the reference's
:data:`VOCABULARY_WORDS` most frequent words, fixed at :meth:`TextColumnProfile.zero`
like a categorical column's categories. A column's ``patterns`` (from its
:class:`~sightline.profile.schema.Column`) add one 0/1 descriptor ``review.match.<name>``
each, computed by the library's kernel (:func:`sightline.stats.text.descriptors`).

The profile also keeps a **bottom-k sample of the texts**: the :data:`SAMPLE_CAPACITY` rows
of smallest 64-bit key, a row's key being the BLAKE2b hash of its row id
(:func:`~sightline.profile.embedding.row_keys`, the key of the embedding sample, so that a
text and an embedding of one row are sampled together) or, without ids, of the text. Each
text is cut to its first :data:`MAX_SAMPLE_CHARS` characters. As for embeddings, the
bottom-k of a union is the bottom-k of the parts' samples, so merges are exact,
associative, commutative and deterministic (of two rows with one key the smaller text
stays); the collector embeds these samples (:mod:`sightline.scheduler.embedding`).

The descriptor kernel needs pyarrow: it is imported when a text column is first profiled,
so that the SDK stays light for models without text.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, NamedTuple, Self

import numpy as np
import numpy.typing as npt

from sightline._types import IntArray
from sightline._validate import check_int
from sightline.errors import InvalidInputError
from sightline.profile.column import (
    NumericColumnProfile,
    _ColumnMerge,
    _digest,
    _NumericBatch,
    _sketch_size_differences,
    check_vocabulary,
)
from sightline.profile.embedding import MAX_CAPACITY, U64Array, row_keys
from sightline.profile.schema import PatternPairs, _pattern_pairs
from sightline.profile.sketch import DEFAULT_K, DEFAULT_LG_K, FrequentItems

#: Size of the frequent-words sketch (log2 of its map: 768 words are counted exactly).
WORDS_LG_MAX_MAP_SIZE: Final = 10
#: Words of the reference that make the vocabulary of ``oov_share``.
VOCABULARY_WORDS: Final = 500
#: Texts the sample keeps by default, and the characters kept of each.
SAMPLE_CAPACITY: Final = 256
MAX_SAMPLE_CHARS: Final = 512


def descriptor_names(patterns: Sequence[str] = ()) -> tuple[str, ...]:
    """The descriptors of a text column with the named patterns (imports the text kernel).

    >>> descriptor_names(["refusal"])[-2:]
    ('json_valid', 'match.refusal')
    """
    from sightline.stats.text import DESCRIPTORS

    return (*DESCRIPTORS, *(f"match.{p}" for p in patterns))


def text_keys(texts: Sequence[str]) -> U64Array:
    """The sampling key of rows logged without an id: the BLAKE2b hash of the text.

    >>> text_keys(["a"]).tolist() == text_keys(["a"]).tolist() != text_keys(["b"]).tolist()
    True
    """
    digests = b"".join(hashlib.blake2b(t.encode(), digest_size=8).digest() for t in texts)
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


def bottom_k_texts(
    keys: U64Array, texts: Sequence[str], capacity: int
) -> tuple[U64Array, tuple[str, ...]]:
    """The ``capacity`` rows of smallest key, by ascending key, one row per key (the
    smallest text of a key that several rows share).

    >>> bottom_k_texts(np.array([5, 1, 5], np.uint64), ["b", "z", "a"], 2)
    (array([1, 5], dtype=uint64), ('z', 'a'))
    """
    found, first, counts = np.unique(keys, return_index=True, return_counts=True)
    found, first = found[:capacity], first[:capacity]
    chosen = [texts[i] for i in first.tolist()]
    for j in np.flatnonzero(counts[:capacity] > 1).tolist():  # rare: equal keys
        chosen[j] = min(texts[i] for i in np.flatnonzero(keys == found[j]).tolist())
    return found.astype(np.uint64), tuple(chosen)


class _TextBatch(NamedTuple):
    descriptors: dict[str, _NumericBatch]
    words: list[str]
    counts: IntArray
    n_rows: int
    n_missing: int
    keys: U64Array  # the sample's candidates: the present texts, cut
    texts: list[str]


@dataclass(slots=True, eq=False, repr=False)
class TextColumnProfile(_ColumnMerge):
    """Mergeable summary of one text column.

    Attributes
    ----------
    name
        Column name.
    count, n_missing
        Rows seen; rows without a text (None, or absent).
    vocabulary
        The reference's words for ``oov_share``, or None (then ``oov_share`` is missing).
    descriptors
        Per descriptor name (``length``, ..., ``match.<pattern>``), the numeric profile
        named ``<name>.<descriptor>``.
    words
        Frequent-items sketch of the lower-cased words.
    patterns
        ``(name, RE2 pattern)`` pairs, sorted by name: the ``match.<name>`` descriptors.
    capacity, keys, texts
        The sample: most texts kept, and the ascending row keys with their texts.

    Examples
    --------
    >>> p = TextColumnProfile.zero("review").update(["Great product!", None, "Bad."])
    >>> p.count, p.n_missing, p.descriptors["words"].mean, p.words.top(1)[0][0]
    (3, 1, 1.5, 'bad')
    >>> p.descriptors["length"].name, p.texts
    ('review.length', ('Bad.', 'Great product!'))
    """

    kind: ClassVar[str] = "text"
    name: str
    count: int
    n_missing: int
    vocabulary: tuple[str, ...] | None
    descriptors: dict[str, NumericColumnProfile]
    words: FrequentItems
    patterns: PatternPairs
    capacity: int
    keys: U64Array
    texts: tuple[str, ...]
    _known: frozenset[str] | None = field(default=None, compare=False)

    @classmethod
    def zero(
        cls,
        name: str,
        *,
        vocabulary: Sequence[str] | None = None,
        edges: Mapping[str, npt.ArrayLike] | None = None,
        patterns: Mapping[str, str] | PatternPairs = (),
        capacity: int = SAMPLE_CAPACITY,
        k: int = DEFAULT_K,
        lg_k: int = DEFAULT_LG_K,
    ) -> Self:
        """The empty profile (the identity of :meth:`merge`).

        ``edges`` are the bin edges of the descriptors, keyed ``<name>.<descriptor>``
        (as :meth:`~sightline.profile.dataset.Profile.reference_spec` gives them).

        Raises
        ------
        InvalidInputError
            If a pattern is not valid RE2, or ``edges`` name no descriptor of the column.
        """
        from sightline.stats.text import descriptors

        pairs = _pattern_pairs(name, "text", patterns)
        descriptors([], patterns=dict(pairs))  # checks the RE2 syntax
        edges = dict(edges or {})
        names = descriptor_names([p for p, _ in pairs])
        unknown = sorted(set(edges) - {f"{name}.{d}" for d in names})
        if unknown:
            raise InvalidInputError(
                f"column {name!r}: edges name no descriptor of it: {unknown}", field=name
            )
        return cls(
            name=name,
            count=0,
            n_missing=0,
            vocabulary=check_vocabulary(name, vocabulary),
            descriptors={
                d: NumericColumnProfile.zero(
                    f"{name}.{d}", edges=edges.get(f"{name}.{d}"), k=k, lg_k=lg_k
                )
                for d in names
            },
            words=FrequentItems(WORDS_LG_MAX_MAP_SIZE),
            patterns=pairs,
            capacity=check_int("capacity", capacity, 1, MAX_CAPACITY),
            keys=np.zeros(0, dtype=np.uint64),
            texts=(),
        )

    # -- updating -------------------------------------------------------------------------

    def update(
        self, values: Sequence[str | None] | npt.NDArray[Any], *, ids: Sequence[str] | None = None
    ) -> Self:
        """Add a batch of texts (str, or None for missing).

        ``ids`` (one per row) choose the sampled texts; without them a row's key is the
        hash of its text.

        Raises
        ------
        InvalidInputError
            If a value is not text (or not valid UTF-8), or ``ids`` does not have one id
            per row; nothing is changed then.
        """
        self._apply(self._prepare(values, ids=ids))
        return self

    def _prepare(
        self, values: Sequence[str | None] | npt.NDArray[Any], *, ids: Sequence[str] | None = None
    ) -> _TextBatch:
        import pyarrow as pa
        import pyarrow.compute as pc

        from sightline.stats.text import descriptors_and_words

        try:
            column = _as_arrow(self.name, values)
            found, tokens = descriptors_and_words(
                column, vocabulary=self._vocabulary_set(), patterns=dict(self.patterns)
            )
            tally = pc.value_counts(tokens.combine_chunks())
            if ids is not None and len(ids) != len(column):
                raise InvalidInputError(f"{len(ids)} ids for {len(column)} rows")
            present = np.flatnonzero(pc.is_valid(column).to_numpy(zero_copy_only=False))
            if ids is None:
                texts = _cut(column, present)
                keys = text_keys(texts)
            else:  # only the rows that can enter the sample are read out
                keys = row_keys([ids[i] for i in present.tolist()])
                entering = keys <= _kth_distinct(keys, self.capacity)
                keys, texts = keys[entering], _cut(column, present[entering])
        except (ValueError, pa.ArrowException) as exc:
            raise InvalidInputError(f"column {self.name!r}: {exc}", field=self.name) from exc
        return _TextBatch(
            descriptors={d: p._prepare(found[d]) for d, p in self.descriptors.items()},
            words=tally.field("values").to_pylist(),
            counts=np.asarray(tally.field("counts"), dtype=np.int64),
            n_rows=len(column),
            n_missing=column.null_count,
            keys=keys,
            texts=texts,
        )

    def _vocabulary_set(self) -> frozenset[str] | None:
        if self.vocabulary is not None and self._known is None:
            self._known = frozenset(self.vocabulary)
        return self._known

    def _apply(self, batch: _TextBatch) -> None:
        self.count += batch.n_rows
        self.n_missing += batch.n_missing
        for d, p in self.descriptors.items():
            p._apply(batch.descriptors[d])
        self.words._update_checked(batch.words, batch.counts)
        self._fold(batch.keys, batch.texts)

    def _fold(self, keys: U64Array, texts: Sequence[str]) -> None:
        if len(self.keys) >= self.capacity:  # only rows below the current threshold can enter
            below = np.flatnonzero(keys <= self.keys[-1])
            keys, texts = keys[below], [texts[i] for i in below.tolist()]
        if len(keys):
            self.keys, self.texts = bottom_k_texts(
                np.concatenate([self.keys, keys]), [*self.texts, *texts], self.capacity
            )

    def add_missing(self, n_rows: int) -> Self:
        """Count ``n_rows`` rows without the column (in every descriptor too)."""
        _ColumnMerge.add_missing(self, n_rows)
        for p in self.descriptors.values():
            p.add_missing(n_rows)
        return self

    # -- merging --------------------------------------------------------------------------

    def _differences(self, other: TextColumnProfile) -> list[str]:
        differs = _sketch_size_differences(
            self.words.lg_max_map_size, other.words.lg_max_map_size, "words lg_max_map_size"
        )
        differs += _sketch_size_differences(self.capacity, other.capacity, "sample capacity")
        if self.patterns != other.patterns:
            differs.append(f"patterns differ ({dict(self.patterns)} vs {dict(other.patterns)})")
        if self.vocabulary != other.vocabulary:
            differs.append(
                f"vocabularies differ ({_digest(self.vocabulary)} vs {_digest(other.vocabulary)})"
            )
        if sorted(self.descriptors) != sorted(other.descriptors):
            differs.append(
                f"descriptors differ ({sorted(self.descriptors)} vs {sorted(other.descriptors)})"
            )
            return differs
        for d, p in self.descriptors.items():
            differs += [f"{d}: {x}" for x in p._differences(other.descriptors[d])]
        return differs

    def _copy(self) -> TextColumnProfile:
        return TextColumnProfile(
            name=self.name,
            count=self.count,
            n_missing=self.n_missing,
            vocabulary=self.vocabulary,
            descriptors={d: p._copy() for d, p in self.descriptors.items()},
            words=copy.copy(self.words),
            patterns=self.patterns,
            capacity=self.capacity,
            keys=self.keys.copy(),
            texts=self.texts,
            _known=self._known,
        )

    def _merge_unchecked(self, other: TextColumnProfile) -> None:
        self.count += other.count
        self.n_missing += other.n_missing
        for d, p in self.descriptors.items():
            p._merge_unchecked(other.descriptors[d])
        self.words._merge_into(other.words)
        self._fold(other.keys, other.texts)

    # -- reading --------------------------------------------------------------------------

    @property
    def n_valid(self) -> int:
        """Rows with a text: ``count - n_missing``."""
        return self.count - self.n_missing

    def top_words(self, n: int = VOCABULARY_WORDS) -> tuple[str, ...]:
        """The ``n`` most frequent words (the vocabulary a reference gives)."""
        return tuple(w for w, *_ in self.words.top(n))

    def to_dict(self) -> dict[str, Any]:
        """Counts, each descriptor's statistics and the top words, JSON-ready.

        >>> d = TextColumnProfile.zero("t").update(["a b", "b"]).to_dict()
        >>> d["count"], d["descriptors"]["words"]["mean"], d["top_words"][0]
        (2, 1.5, {'word': 'b', 'count': 2})
        """
        return {
            "name": self.name,
            "kind": "text",
            "count": self.count,
            "n_missing": self.n_missing,
            "n_valid": self.n_valid,
            "vocabulary": None if self.vocabulary is None else len(self.vocabulary),
            "descriptors": {d: p.to_dict() for d, p in self.descriptors.items()},
            "top_words": [{"word": w, "count": c} for w, c, *_ in self.words.top(10)],
            "patterns": dict(self.patterns),
            "sample": len(self.keys),
            "capacity": self.capacity,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TextColumnProfile):
            return NotImplemented
        return (
            (self.name, self.count, self.n_missing) == (other.name, other.count, other.n_missing)
            and self.vocabulary == other.vocabulary
            and self.descriptors == other.descriptors
            and self.words == other.words
            and (self.patterns, self.capacity, self.texts)
            == (other.patterns, other.capacity, other.texts)
            and bool(np.array_equal(self.keys, other.keys))
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"TextColumnProfile(name={self.name!r}, count={self.count}, n_valid={self.n_valid})"


def _cut(column: Any, rows: IntArray) -> list[str]:
    """The texts of ``rows``, each cut to :data:`MAX_SAMPLE_CHARS` characters."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cut = pc.utf8_slice_codeunits(column.take(pa.array(rows)), 0, MAX_SAMPLE_CHARS)
    return list(cut.to_pylist())


def _kth_distinct(keys: U64Array, k: int) -> np.uint64:
    """The ``k``-th smallest distinct key (the largest one when there are fewer)."""
    if not keys.size:
        return np.uint64(0)
    found = np.unique(keys)
    return np.uint64(found[min(k, found.size) - 1])


def _as_arrow(name: str, values: Any) -> Any:
    """Texts as an Arrow string column: Arrow columns as they are (the kernel checks
    their type and UTF-8), sequences of str/None converted."""
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
        raise InvalidInputError(
            f"column {name!r}: texts must be a sequence of strings, not "
            f"{'one string' if isinstance(values, str) else type(values).__name__}",
            field=name,
        )
    cells = values.tolist() if isinstance(values, np.ndarray) else list(values)
    bad = [v for v in cells if v is not None and not isinstance(v, str)]
    if bad:
        raise InvalidInputError(
            f"column {name!r}: texts must be str or None, got "
            f"{type(bad[0]).__name__} {bad[0]!r:.40}",
            field=name,
        )
    return pa.array(cells, type=pa.string())


__all__ = [
    "MAX_SAMPLE_CHARS",
    "SAMPLE_CAPACITY",
    "VOCABULARY_WORDS",
    "WORDS_LG_MAX_MAP_SIZE",
    "TextColumnProfile",
    "bottom_k_texts",
    "descriptor_names",
    "text_keys",
]
