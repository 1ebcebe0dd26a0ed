"""Multivariate drift rows: PCA reconstruction error of the numeric features.

The detector is fitted on the reference's numeric feature columns (at most
:data:`MAX_FIT_ROWS` evenly spaced rows, which keeps the fit fast on large references). Its
thresholds come from reference chunks of the window's size when the reference holds at least
three such chunks, otherwise from ten reference chunks (wider bands: fewer alerts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from sightline._types import FloatArray
from sightline.analysis.reference import FittedReference, Side
from sightline.analysis.rows import MetricRow, RowContext
from sightline.stats.multivariate import PCAReconstruction

MAX_FIT_ROWS: Final = 200_000
MIN_COLUMNS: Final = 2
VARIANCE_SHARE: Final = 0.65


@dataclass(slots=True)
class MultivariateDrift:
    """PCA reconstruction drift on a fixed set of numeric feature columns."""

    columns: tuple[str, ...]
    reference: FloatArray
    _fitted: dict[int, PCAReconstruction] = field(default_factory=dict)

    @classmethod
    def fit(cls, ref: FittedReference, features: Sequence[str]) -> MultivariateDrift | None:
        """The detector for ``features``, or None when fewer than two are numeric."""
        names = [n for n in features if n in ref.numeric_names]
        values = ref.side.numeric.values[:, [ref.numeric_names.index(n) for n in names]]
        with np.errstate(invalid="ignore"):
            spread = np.nanmax(values, axis=0, initial=-np.inf) - np.nanmin(
                values, axis=0, initial=np.inf
            )
        usable = spread > 0  # all-missing and constant columns carry no correlation
        names = [n for n, ok in zip(names, usable, strict=True) if ok]
        if len(names) < MIN_COLUMNS or values.shape[0] < 20:
            return None
        values = values[:, usable]
        if values.shape[0] > MAX_FIT_ROWS:
            step = values.shape[0] / MAX_FIT_ROWS
            values = values[(np.arange(MAX_FIT_ROWS) * step).astype(np.int64)]
        return cls(tuple(names), values)

    def detector(self, n_rows: int) -> PCAReconstruction:
        """The detector whose thresholds suit windows of ``n_rows`` rows."""
        n_ref = self.reference.shape[0]
        chunk = n_rows if n_ref >= 3 * n_rows else max(2, n_ref // 10)
        if chunk not in self._fitted:
            pca = PCAReconstruction(variance_share=VARIANCE_SHARE)
            self._fitted[chunk] = pca.fit(self.reference, chunk_size=chunk)
        return self._fitted[chunk]

    def rows(self, side: Side, ctx: RowContext) -> list[MetricRow]:
        """One ``reconstruction_error`` row for the window."""
        present = [n for n in self.columns if n in side.numeric.names]
        n_ref = self.reference.shape[0]
        if len(present) < len(self.columns) or side.n_rows < 2:
            reason = "fewer than 2 rows" if side.n_rows < 2 else "numeric features missing"
            return [
                ctx.not_computed("reconstruction_error", reason, n_ref=n_ref, n_cur=side.n_rows)
            ]
        values = side.numeric.values[:, [side.numeric.names.index(n) for n in self.columns]]
        pca = self.detector(side.n_rows)
        result = pca.score(values)
        method = (
            f"PCA reconstruction error of {len(self.columns)} numeric features "
            f"({pca.n_components_} components, > {VARIANCE_SHARE:g} variance); "
            "bounds: reference chunks mean ± 3 std"
        )
        return [
            ctx.row(
                "reconstruction_error",
                result.error,
                lower=result.lower,
                upper=result.upper,
                alert=result.alert,
                n_ref=n_ref,
                n_cur=result.n,
                method=method,
            )
        ]


__all__ = ["MAX_FIT_ROWS", "MultivariateDrift"]
