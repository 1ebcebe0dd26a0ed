"""Multivariate drift rows: PCA reconstruction error of the numeric features.

The detector is fitted on the reference's numeric feature columns, and each window is
scored, on at most :data:`MAX_ROWS` evenly spaced rows of each (the mean error of 100,000
rows is known far more precisely than the spread of the thresholds, and a large comparison
stays fast);
columns that are constant or empty in the reference are left out. Its thresholds come from
reference chunks of the window's size when the reference holds at least three such chunks,
otherwise from ten reference chunks (wider bands: fewer alerts). Windows are read from the
table block by block, so a large window needs no second copy of its data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pyarrow as pa

from sightline._types import FloatArray
from sightline.analysis.columns import encode_numeric
from sightline.analysis.rows import MetricRow, RowContext
from sightline.stats.multivariate import PCAReconstruction

MAX_ROWS: Final = 100_000
MIN_COLUMNS: Final = 2
MIN_ROWS: Final = 20
VARIANCE_SHARE: Final = 0.65
BLOCK_ROWS: Final = 65_536


@dataclass(slots=True)
class MultivariateDrift:
    """PCA reconstruction drift on a fixed set of numeric feature columns."""

    columns: tuple[str, ...]
    reference: FloatArray
    n_ref: int
    _fitted: dict[int, PCAReconstruction] = field(default_factory=dict)

    @classmethod
    def fit(cls, table: pa.Table, features: Sequence[str]) -> MultivariateDrift | None:
        """The detector for the numeric ``features``, or None when fewer than two vary."""
        n_ref = table.num_rows
        if len(features) < MIN_COLUMNS or n_ref < MIN_ROWS:
            return None
        values = encode_numeric(_evenly_spaced(table), features).values
        with np.errstate(invalid="ignore"):
            spread = np.fmax.reduce(values, axis=0) - np.fmin.reduce(values, axis=0)
        usable = spread > 0  # all-missing (NaN) and constant (0) columns are left out
        if usable.sum() < MIN_COLUMNS:
            return None
        names = tuple(n for n, ok in zip(features, usable, strict=True) if ok)
        return cls(names, np.ascontiguousarray(values[:, usable]), n_ref)

    def detector(self, n_rows: int) -> PCAReconstruction:
        """The detector whose thresholds suit windows of ``n_rows`` rows."""
        n_fit = self.reference.shape[0]
        chunk = n_rows if n_fit >= 3 * n_rows else max(2, n_fit // 10)
        if chunk not in self._fitted:
            pca = PCAReconstruction(variance_share=VARIANCE_SHARE)
            self._fitted[chunk] = pca.fit(self.reference, chunk_size=chunk)
        return self._fitted[chunk]

    def rows(self, table: pa.Table, ctx: RowContext) -> list[MetricRow]:
        """One ``reconstruction_error`` row for the window in ``table``."""
        missing = [n for n in self.columns if n not in table.column_names]
        n = table.num_rows
        if missing or n < 2:
            reason = "fewer than 2 rows" if n < 2 else f"numeric features missing: {missing}"
            return [ctx.not_computed("reconstruction_error", reason, n_ref=self.n_ref, n_cur=n)]
        pca = self.detector(n)
        sample = _evenly_spaced(table)
        errors = np.concatenate(
            [
                pca.row_errors(encode_numeric(sample.slice(start, BLOCK_ROWS), self.columns).values)
                for start in range(0, sample.num_rows, BLOCK_ROWS)
            ]
        )
        result = pca.score_errors(errors)
        sampled = f" of {MAX_ROWS:,} evenly spaced rows" if n > MAX_ROWS else ""
        method = (
            f"PCA reconstruction error{sampled} of {len(self.columns)} numeric features "
            f"({pca.n_components_} components, > {VARIANCE_SHARE:g} variance); "
            "bounds: reference chunks mean ± 3 std"
        )
        row = ctx.row(
            "reconstruction_error",
            result.error,
            lower=result.lower,
            upper=result.upper,
            alert=result.alert,
            n_ref=self.n_ref,
            n_cur=n,
            method=method,
        )
        return [row]


def _evenly_spaced(table: pa.Table) -> pa.Table:
    """At most :data:`MAX_ROWS` rows of ``table``, evenly spaced (all rows when fewer)."""
    n = table.num_rows
    if n <= MAX_ROWS:
        return table
    return table.take(pa.array((np.arange(MAX_ROWS) * (n / MAX_ROWS)).astype(np.int64)))


__all__ = ["MAX_ROWS", "MultivariateDrift"]
