"""Text and embedding columns in :func:`sightline.compare` and :func:`sightline.analyze`.

A text column ``review`` becomes the descriptor columns ``review.length``, ``review.words``,
... (:data:`~sightline.stats.text.DESCRIPTORS` and ``match.<name>``), numeric columns as in
profiles (the 0/1 ones too: a descriptor constant on the reference gets a bin above the
constant on both paths, :func:`~sightline.stats._binning.distinct_edges`, so a moving
rate shows in the counts), which then go through the ordinary drift and quality paths
with every other column, plus one ``text_content_drift`` row
(:mod:`~sightline.analysis.content_drift`). An embedding column
gives the rows ``embedding_drift`` (MMD test), ``embedding_mean_distance`` and
``embedding_drifted_share`` (:mod:`~sightline.stats.embedding`).

``review.oov_share`` is the share of a text's words outside the reference's
:data:`~sightline.profile.text.VOCABULARY_WORDS` most frequent words
(:func:`reference_vocabulary`), on both sides: the one definition that a profile can carry
(the vocabulary is fixed with the reference, as a categorical column's categories), so that
:func:`sightline.compare` on data and on profiles, and the collector's jobs, give the same
``oov_share`` rows from the same texts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sightline._types import FloatArray
from sightline.analysis.content_drift import content_drift
from sightline.analysis.methods import DriftOptions
from sightline.analysis.rows import MetricRow, RowContext
from sightline.errors import SchemaError
from sightline.profile.schema import Column, Schema
from sightline.profile.text import VOCABULARY_WORDS
from sightline.stats.embedding import drifted_components_share, mean_distance, mmd_test
from sightline.stats.text import DESCRIPTORS, descriptors, words

#: Times a word must occur in the reference to be in the vocabulary of ``oov_share``. A
#: word the reference saw a few times is in-vocabulary for the reference by construction
#: but often unseen in new texts of the same source, so the reference alone would look
#: in-vocabulary: on 400 vs 400 ``pydoc_data`` paragraphs of one source, ``oov_share``
#: alerted (chi-square p 2e-7) with words seen 3 times, p 0.03 from 8, p 0.33 from 20.
MIN_WORD_COUNT: Final = 20
#: Seed of the tests' subsamples.
SEED = 0


def descriptor_columns(name: str, patterns: Sequence[str] = ()) -> list[str]:
    """The numeric columns a text column ``name`` becomes (with the named patterns).

    >>> descriptor_columns("review", ["refusal"])[-3:]
    ['review.oov_share', 'review.json_valid', 'review.match.refusal']
    """
    return [f"{name}.{d}" for d in (*DESCRIPTORS, *(f"match.{p}" for p in patterns))]


def pattern_names(column: Column) -> list[str]:
    """The names of a text column's patterns (:attr:`Column.patterns`)."""
    return list(dict(column.patterns))


def expanded_names(schema: Schema) -> list[str]:
    """Every column name the drift options may use: the schema's and the descriptors'."""
    extra = [
        d
        for c in schema.columns
        if c.kind == "text"
        for d in descriptor_columns(c.name, pattern_names(c))
    ]
    return [*schema.names(), *extra]


@dataclass(frozen=True, slots=True)
class TextColumns:
    """The text and embedding columns of a schema, fitted on the reference.

    ``schema`` and ``reference`` are the expanded schema and reference that the numeric
    engine sees: descriptor columns in place of text columns, embedding columns left out;
    ``raw_schema`` is the schema as resolved.
    """

    raw_schema: Schema
    schema: Schema
    reference: pa.Table
    vocabularies: Mapping[str, frozenset[str]]
    texts: Mapping[str, list[str]]
    vectors: Mapping[str, FloatArray]

    @classmethod
    def fit(cls, reference: pa.Table, schema: Schema) -> TextColumns | None:
        """Fit on the reference; None when the schema has no text or embedding column.

        Each pattern of a text column (:attr:`Column.patterns`: ``name -> RE2 pattern``)
        adds a ``<column>.match.<name>`` descriptor."""
        text = schema.names(kind="text")
        embedding = schema.names(kind="embedding")
        if not text and not embedding:
            return None
        taken = set(schema.names())
        clash = [d for d in expanded_names(schema)[len(taken) :] if d in taken]  # descriptors
        if clash:
            raise SchemaError(
                f"descriptor columns of text columns clash with columns of the data: {clash}",
                field=clash[0],
            )
        vocabularies = {
            name: frozenset(reference_vocabulary(reference.column(name))) for name in text
        }
        reference_vectors = {name: vectors(reference.column(name), name) for name in embedding}
        expanded = _expanded_schema(schema)
        partial = cls(schema, expanded, reference, vocabularies, {}, reference_vectors)
        return cls(
            schema,
            partial.schema,
            partial.expand(reference),
            vocabularies,
            {name: _texts(reference.column(name)) for name in text},
            reference_vectors,
        )

    def expand(self, table: pa.Table) -> pa.Table:
        """``table`` with descriptor columns in place of text columns, without embeddings."""
        columns: dict[str, pa.Array | pa.ChunkedArray] = {}
        for name in table.column_names:
            if name in self.vocabularies:
                found = descriptors(
                    table.column(name),
                    vocabulary=self.vocabularies[name],
                    patterns=dict(self.raw_schema[name].patterns),
                )
                for d, values in found.items():
                    columns[f"{name}.{d}"] = pa.array(values, from_pandas=True)
            elif name not in self.vectors:
                columns[name] = table.column(name)
        return pa.table(columns)

    def rows(self, current: pa.Table, options: DriftOptions, ctx: RowContext) -> list[MetricRow]:
        """The text-content and embedding drift rows of one window of current data."""
        out: list[MetricRow] = []
        for name, reference in self.texts.items():
            out.append(_content_row(name, reference, _texts(current.column(name)), options, ctx))
        for name, matrix in self.vectors.items():
            found = vectors(current.column(name), name)
            if found.shape[1] != matrix.shape[1]:
                raise SchemaError(
                    f"embedding column {name!r} has {found.shape[1]} dimensions in current "
                    f"and {matrix.shape[1]} in the reference",
                    field=name,
                )
            sizes = (_n_vectors(matrix), _n_vectors(found))
            distance = mean_distance(matrix, found)
            out += embedding_rows(name, matrix, found, options, ctx, sizes=sizes, distance=distance)
        return out


def reference_vocabulary(column: pa.ChunkedArray | pa.Array) -> tuple[str, ...]:
    """The vocabulary of ``oov_share`` that the texts of a reference give
    (:func:`vocabulary_of` their word counts).

    >>> reference_vocabulary(pa.array(["b a b c", "c a b d"] * 10))
    ('b', 'a', 'c')
    """
    tally = pc.value_counts(words(column).combine_chunks())
    if not len(tally):
        return ()
    kept = pc.greater_equal(tally.field("counts"), MIN_WORD_COUNT)
    found = tally.filter(kept)
    pairs = zip(found.field("values").to_pylist(), found.field("counts").to_pylist(), strict=True)
    return vocabulary_of(pairs)


def vocabulary_of(counts: Iterable[tuple[str, int]]) -> tuple[str, ...]:
    """The :data:`VOCABULARY_WORDS` most frequent words (ties by word) among those seen at
    least :data:`MIN_WORD_COUNT` times: the vocabulary of ``oov_share`` on every path (a
    reference's texts, or a collector's frequent-words sketch for a rolling reference).

    >>> vocabulary_of([("b", 40), ("a", 40), ("c", 25), ("d", 19)])
    ('a', 'b', 'c')
    """
    kept = sorted(((-n, w) for w, n in counts if n >= MIN_WORD_COUNT))
    return tuple(w for _, w in kept[:VOCABULARY_WORDS])


def _expanded_schema(schema: Schema) -> Schema:
    columns: list[Column] = []
    for c in schema.columns:
        if c.kind == "text":
            columns += [
                Column(d, role=c.role, kind="numeric")
                for d in descriptor_columns(c.name, pattern_names(c))
            ]
        elif c.kind != "embedding":
            columns.append(c)
    return Schema(tuple(columns))


def _texts(column: pa.ChunkedArray) -> list[str]:
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return list(pc.cast(column.drop_null(), pa.string()).to_pylist())


def _n_vectors(matrix: FloatArray) -> int:
    return int((~np.isnan(matrix).any(axis=1)).sum())


def vectors(column: pa.ChunkedArray, name: str) -> FloatArray:
    """An embedding column as a float matrix ``(n_rows, n_dims)``, NaN rows for nulls.

    >>> vectors(pa.chunked_array([[[1.0, 2.0], None]]), "e").tolist()
    [[1.0, 2.0], [nan, nan]]
    """
    t = column.type
    if not (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)):
        raise SchemaError(
            f"embedding column {name!r} must hold lists or arrays of numbers, got {t}",
            field=name,
        )
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    lengths = pc.list_value_length(array)
    valid = np.asarray(pc.is_valid(lengths).to_numpy(zero_copy_only=False), dtype=bool)
    found = set(pc.unique(lengths.drop_null()).to_pylist())
    if len(found) > 1:
        raise SchemaError(
            f"embedding column {name!r} holds vectors of different lengths: {sorted(found)[:5]}",
            field=name,
        )
    dims = found.pop() if found else 1
    flat = pc.list_flatten(array)
    try:
        values = pc.cast(flat, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise SchemaError(
            f"embedding column {name!r} must hold numbers: {exc}", field=name
        ) from exc
    out = np.full((len(array), dims), np.nan)
    out[valid] = values.reshape(-1, dims)
    return out


def _content_row(
    name: str,
    reference: Sequence[str],
    current: Sequence[str],
    options: DriftOptions,
    ctx: RowContext,
) -> MetricRow:
    try:
        result = content_drift(reference, current, seed=SEED)
    except ImportError as exc:  # without the [text] extra the other rows still come
        fields = {"column": name, "n_ref": len(reference), "n_cur": len(current)}
        return ctx.not_computed("text_content_drift", str(exc), **fields)
    fields = {"column": name, "n_ref": result.n_reference, "n_cur": result.n_current}
    if math.isnan(result.auc):
        return ctx.not_computed("text_content_drift", "fewer than 6 texts on a side", **fields)
    threshold = options.thresholds.get(name, result.threshold)
    method = (
        f"domain classifier (TF-IDF + logistic regression, cross-validated ROC AUC), drift "
        f"when > {threshold:.3g} (calibrated on label permutations); words toward current: "
        f"{', '.join(result.toward_current)}; toward reference: "
        f"{', '.join(result.toward_reference)}"
    )
    return ctx.row(
        "text_content_drift",
        result.auc,
        upper=threshold,
        alert=bool(result.auc > threshold),
        method=method,
        p_value=result.p_value,
        **fields,
    )


#: The rows of an embedding column, in order (from data here, from profiles in
#: :mod:`sightline.analysis.profile_text`).
EMBEDDING_METRICS: Final = ("embedding_drift", "embedding_mean_distance", "embedding_drifted_share")


def embedding_rows(
    name: str,
    reference: FloatArray,
    current: FloatArray,
    options: DriftOptions,
    ctx: RowContext,
    *,
    sizes: tuple[int, int],
    distance: float,
    vectors_note: str = "",
) -> list[MetricRow]:
    """The rows of :data:`EMBEDDING_METRICS` of one embedding column, on every path.

    ``reference`` and ``current`` are the vectors tested (every row from data, the bottom-k
    samples from profiles, ``vectors_note`` says which), ``sizes`` the rows with a vector on
    each side and ``distance`` the distance between the exact mean vectors.

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(200, 4)), rng.normal(0.5, 1, size=(200, 4))
    >>> rows = embedding_rows("e", a, b, DriftOptions(), RowContext(), sizes=(200, 200),
    ...                       distance=mean_distance(a, b))
    >>> [r.alert for r in rows]
    [True, False, False]
    """
    result = mmd_test(reference, current, seed=SEED)
    fields = {"column": name, "n_ref": sizes[0], "n_cur": sizes[1]}
    if math.isnan(result.p_value):
        reason = "fewer than 2 vectors on a side"
        return [ctx.not_computed(metric, reason, **fields) for metric in EMBEDDING_METRICS]
    alpha = options.thresholds.get(name, options.alpha)
    return [
        ctx.row(
            "embedding_drift",
            result.statistic,
            alert=bool(result.p_value < alpha),
            method=(
                f"MMD² (RBF kernel, median-heuristic sigma {result.bandwidth:.3g}, "
                f"{result.n_reference} vs {result.n_current} vectors{vectors_note}), "
                f"permutation p < {alpha:g}"
            ),
            p_value=result.p_value,
            **fields,
        ),
        ctx.row(
            "embedding_mean_distance",
            distance if math.isfinite(distance) else math.nan,
            method="Euclidean distance between the mean vectors",
            **fields,
        ),
        ctx.row(
            "embedding_drifted_share",
            drifted_components_share(reference, current, alpha=options.alpha),
            method=f"share of dimensions with KS BH-adjusted p <= {options.alpha:g}{vectors_note}",
            **fields,
        ),
    ]


__all__ = [
    "EMBEDDING_METRICS",
    "SEED",
    "TextColumns",
    "descriptor_columns",
    "embedding_rows",
    "expanded_names",
    "pattern_names",
    "reference_vocabulary",
    "vectors",
]
