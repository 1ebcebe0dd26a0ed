"""The sampling-error band of an estimate: ``value +- band * rms / sqrt(n)``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from sightline._types import FloatArray
from sightline.errors import InvalidInputError


class Estimate(NamedTuple):
    """One estimated metric of one window, with its sampling-error band.

    Attributes
    ----------
    value
        The estimate (``nan`` when undefined, e.g. for an empty window).
    standard_error
        Standard error of the realized metric in a window of this size.
    lower, upper
        ``value -+ band * standard_error``, clipped to the metric's range.
    """

    value: float
    standard_error: float
    lower: float
    upper: float


def rms(influence: FloatArray) -> float:
    """``sqrt(mean(influence**2))``: the standard error of a one-row window."""
    return math.sqrt(float(np.mean(influence**2))) if influence.size else float("nan")


def macro_rms(per_class: Sequence[FloatArray]) -> float:
    """RMS of the per-row influence of a macro average (classes undefined on the reference
    left out), so that correlations between the classes' metrics count."""
    defined = [v for v in per_class if not np.isnan(v).any()]
    if not defined:
        return float("nan")
    return rms(np.mean(defined, axis=0))


def standard_error(rms: float, n_rows: int) -> float:
    """``rms / sqrt(n_rows)``; ``nan`` for an empty window.

    >>> standard_error(0.5, 100)
    0.05
    """
    return rms / math.sqrt(n_rows) if n_rows > 0 else float("nan")


def with_band(value: float, se: float, band: float, low: float, high: float) -> Estimate:
    """``value`` with its band ``value -+ band * se`` clipped to ``[low, high]``.

    >>> with_band(0.9, 0.05, 3.0, 0.0, 1.0)
    Estimate(value=0.9, standard_error=0.05, lower=0.75, upper=1.0)
    """
    if math.isnan(value) or math.isnan(se):
        return Estimate(value, se, float("nan"), float("nan"))
    return Estimate(value, se, max(low, value - band * se), min(high, value + band * se))


def check_band(band: float) -> None:
    """Raise :class:`InvalidInputError` unless ``band`` is a finite number > 0."""
    ok = isinstance(band, int | float) and not isinstance(band, bool)
    if not (ok and math.isfinite(band) and band > 0):
        raise InvalidInputError(f"band must be a finite number > 0, got {band!r}", field="band")
