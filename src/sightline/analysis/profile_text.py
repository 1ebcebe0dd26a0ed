"""Text and embedding columns in profiles: their reference spec and their drift rows.

* A text column's reference fixes its descriptors' bin edges (the deciles of each
  descriptor, as for any numeric column) and its vocabulary (the reference's
  :data:`~sightline.profile.text.VOCABULARY_WORDS` most frequent words, for ``oov_share``:
  :func:`sightline.analysis.text.reference_vocabulary`, the library's own).
  A lone edge gets a second just above it
  (:func:`~sightline.stats._binning.distinct_edges`, as on data). Its drift and
  quality rows are those of its descriptor columns (``review.length``, ...), computed and
  decided as every numeric column's. Text-content drift (the domain classifier) needs
  the texts themselves: profiles do not hold them.
* An embedding column's drift is the MMD test (:func:`sightline.stats.embedding.mmd_test`)
  on the two profiles' bottom-k samples, which are uniform samples of the rows (metric
  ``embedding_drift``, alert when its permutation p-value < ``alpha`` or the column's
  threshold), plus ``embedding_mean_distance`` between the exact mean vectors (from the
  profiles' sums) and ``embedding_drifted_share`` on the samples (no alert): the rows and
  names of :func:`sightline.compare` for an embedding column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import pyarrow as pa

from sightline._types import FloatArray
from sightline.analysis.methods import DriftOptions
from sightline.analysis.rows import MetricRow, RowContext
from sightline.analysis.text import EMBEDDING_METRICS, reference_vocabulary
from sightline.analysis.text import embedding_rows as text_embedding_rows
from sightline.profile.embedding import EmbeddingColumnProfile
from sightline.stats.text import descriptors

#: Rows below which a side's sample is too small for the drift test.
MIN_SAMPLE: Final = 10


def descriptor_table(
    name: str,
    column: pa.ChunkedArray | pa.Array,
    vocabulary: Sequence[str] | None = None,
    patterns: Mapping[str, str] | None = None,
) -> pa.Table:
    """The descriptors of a text column as numeric columns ``<name>.<descriptor>`` (with
    ``<name>.match.<pattern>`` for each pattern).

    >>> descriptor_table("t", pa.array(["a b", None])).column("t.words").to_pylist()
    [2.0, nan]
    """
    found = descriptors(
        column,
        vocabulary=None if vocabulary is None else frozenset(vocabulary),
        patterns=patterns,
    )
    return pa.table({f"{name}.{d}": pa.array(v) for d, v in found.items()})


def embedding_rows(
    ref: EmbeddingColumnProfile, cur: EmbeddingColumnProfile, options: DriftOptions, ctx: RowContext
) -> list[MetricRow]:
    """The drift rows of one embedding column from two profiles.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = EmbeddingColumnProfile.zero("e").update(rng.normal(size=(300, 8)))
    >>> b = EmbeddingColumnProfile.zero("e").update(rng.normal(0.5, 1, size=(300, 8)))
    >>> rows = embedding_rows(a, b, DriftOptions(), RowContext())
    >>> [r.metric for r in rows] == list(EMBEDDING_METRICS), [r.alert for r in rows]
    (True, [True, False, False])
    """
    column = ref.name
    n_ref, n_cur = ref.n_valid, cur.n_valid
    sizes = {"column": column, "n_ref": n_ref, "n_cur": n_cur}
    reason = ""
    if ref.dim and cur.dim and ref.dim != cur.dim:
        reason = f"the dimensions differ ({ref.dim} in the reference, {cur.dim} now)"
    elif min(len(ref.keys), len(cur.keys)) < MIN_SAMPLE:
        reason = f"needs at least {MIN_SAMPLE} sampled vectors on each side"
    if reason:
        return [ctx.not_computed(metric, reason, **sizes) for metric in EMBEDDING_METRICS]
    return text_embedding_rows(
        column,
        _sample(ref),
        _sample(cur),
        options,
        ctx,
        sizes=(n_ref, n_cur),
        distance=float(np.linalg.norm(ref.mean - cur.mean)),
        vectors_note=" in bottom-k samples",
    )


def _sample(p: EmbeddingColumnProfile) -> FloatArray:
    return p.vectors.astype(np.float64)


__all__ = ["descriptor_table", "embedding_rows", "reference_vocabulary"]
