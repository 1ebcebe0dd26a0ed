"""Embedding drift of text columns in the collector's drift jobs (the ``[text]`` extra).

When sentence-transformers and the packaged all-MiniLM-L6-v2 are importable
(:func:`available`), a drift job embeds the sampled texts of each text column ``review``
(the bottom-k samples of the reference's and of the window's merged profiles,
:attr:`~sightline.profile.text.TextColumnProfile.texts`) with
:class:`sightline.text.Embedder` and adds the rows of an embedding column named
``review.embedding``: ``embedding_drift`` (MMD², permutation p-value),
``embedding_mean_distance`` and ``embedding_drifted_share``, made by the library's own
:func:`sightline.analysis.text.embedding_rows`. ``n_ref`` and ``n_cur`` are the sampled
texts embedded, and the mean distance is that of their vectors. Without the extra, no rows.

The Embedder is built once per process; the vectors of a sample are kept for the next
jobs that compare with it (a reference is the same sample for every window).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from typing import TYPE_CHECKING, Final

import numpy as np

from sightline._types import FloatArray
from sightline.analysis.methods import DriftOptions
from sightline.analysis.profile_compare import STREAM_ROLES
from sightline.analysis.profile_text import MIN_SAMPLE
from sightline.analysis.rows import MetricRow, RowContext
from sightline.analysis.text import EMBEDDING_METRICS, embedding_rows
from sightline.profile import Profile
from sightline.profile.text import TextColumnProfile
from sightline.stats.embedding import mean_distance

if TYPE_CHECKING:
    from sightline.text import Embedder

#: The suffix of the embedding column of a text column's sampled texts.
SUFFIX: Final = ".embedding"


def available() -> bool:
    """Whether the ``[text]`` extra is installed: sentence-transformers and the package
    that ships the default model."""
    from sightline.text.embedder import MODEL_PACKAGE

    return all(
        importlib.util.find_spec(m) is not None for m in ("sentence_transformers", MODEL_PACKAGE)
    )


@lru_cache(maxsize=1)
def embedder() -> Embedder:
    """The process's :class:`~sightline.text.Embedder` (the packaged model, built once)."""
    from sightline.text import Embedder

    return Embedder()


@lru_cache(maxsize=64)
def embedded(texts: tuple[str, ...]) -> FloatArray:
    """The vectors of ``texts`` (float64), kept for the next job that embeds the same
    sample. Callers must not change them."""
    return embedder()(list(texts)).astype(np.float64)


def text_embedding_rows(
    reference: Profile, current: Profile, options: DriftOptions, ctx: RowContext
) -> list[MetricRow]:
    """The embedding-drift rows of every text column of the stream, ``[]`` without the
    extra.

    >>> from sightline.profile import Column, Schema
    >>> empty = Profile.zero(Schema((Column("review", kind="text"),)))
    >>> rows = text_embedding_rows(empty, empty, DriftOptions(), RowContext())
    >>> all(r.column == "review.embedding" for r in rows)  # not computed; none without the extra
    True
    """
    if not available():
        return []
    out: list[MetricRow] = []
    for c in reference.schema.columns:
        ref, cur = reference.columns.get(c.name), current.columns.get(c.name)
        if c.role not in STREAM_ROLES or not isinstance(ref, TextColumnProfile):
            continue
        if not isinstance(cur, TextColumnProfile):
            continue
        column = c.name + SUFFIX
        sizes = (len(ref.texts), len(cur.texts))
        if min(sizes) < MIN_SAMPLE:
            reason = f"needs at least {MIN_SAMPLE} sampled texts on each side"
            fields = {"column": column, "n_ref": sizes[0], "n_cur": sizes[1]}
            out += [ctx.not_computed(m, reason, **fields) for m in EMBEDDING_METRICS]
            continue
        a, b = embedded(ref.texts), embedded(cur.texts)
        note = " of sampled texts embedded by all-MiniLM-L6-v2"
        distance = mean_distance(a, b)
        out += embedding_rows(
            column, a, b, options, ctx, sizes=sizes, distance=distance, vectors_note=note
        )
    return out


__all__ = ["SUFFIX", "available", "embedded", "embedder", "text_embedding_rows"]
