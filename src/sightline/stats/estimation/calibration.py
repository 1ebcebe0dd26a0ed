"""Isotonic calibration of scores (the pool-adjacent-violators algorithm)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sightline._types import FloatArray
from sightline._validate import as_float_array
from sightline.errors import InvalidInputError
from sightline.stats._metric_inputs import (
    check_same_length,
    check_values,
)

# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True, slots=True, eq=False)
class Calibrator:
    """A fitted non-decreasing step-and-ramp function, returned by :func:`isotonic_fit`.

    Calling it interpolates linearly between ``x_thresholds`` and clips outside them, as
    scikit-learn's ``IsotonicRegression(out_of_bounds="clip").predict``.

    Examples
    --------
    >>> cal = isotonic_fit([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1])
    >>> cal([0.0, 0.25, 0.35, 1.0])
    array([0.  , 0.5 , 0.75, 1.  ])
    """

    x_thresholds: FloatArray
    y_thresholds: FloatArray

    def __call__(self, scores: npt.ArrayLike) -> FloatArray:
        """Calibrated values of ``scores`` (any shape, finite)."""
        s = as_float_array(scores, "scores")
        if not np.isfinite(s).all():
            raise InvalidInputError("scores must be finite (no NaN or infinity)", field="scores")
        return np.interp(s, self.x_thresholds, self.y_thresholds)


def _pav(sums: FloatArray, weights: FloatArray) -> FloatArray:
    """Pool adjacent violators: the non-decreasing least-squares fit of ``sums / weights``."""
    block_sum: list[float] = []
    block_weight: list[float] = []
    block_size: list[int] = []
    for s, w in zip(sums.tolist(), weights.tolist(), strict=True):
        size = 1
        # pool while the previous block's mean is >= this block's mean (weights > 0)
        while block_sum and block_sum[-1] * w >= s * block_weight[-1]:
            s += block_sum.pop()
            w += block_weight.pop()
            size += block_size.pop()
        block_sum.append(s)
        block_weight.append(w)
        block_size.append(size)
    means = np.asarray(block_sum) / np.asarray(block_weight)
    return np.repeat(means, block_size)


def isotonic_fit(scores: npt.ArrayLike, targets: npt.ArrayLike) -> Calibrator:
    """Fit a non-decreasing function of ``scores`` to ``targets`` (isotonic regression).

    Rows with equal scores are pooled first (mean target, weight = count); then the
    pool-adjacent-violators algorithm gives the least-squares non-decreasing fit. Used
    with 0/1 targets it calibrates scores into probabilities.

    Parameters
    ----------
    scores
        1-D finite scores (e.g. a classifier's uncalibrated probabilities).
    targets
        1-D finite targets of the same length (0/1 labels for calibration).

    Returns
    -------
    A :class:`Calibrator`, equal to scikit-learn's
    ``IsotonicRegression(out_of_bounds="clip").fit(scores, targets).predict``.

    Raises
    ------
    InvalidInputError
        Empty or non-finite inputs, different lengths.

    References
    ----------
    M. Ayer et al. (1955), "An empirical distribution function for sampling with
    incomplete information", Ann. Math. Statist. 26. B. Zadrozny and C. Elkan (2002),
    "Transforming classifier scores into accurate multiclass probability estimates",
    KDD. scikit-learn ``sklearn.isotonic.IsotonicRegression`` (the oracle of the tests).

    Examples
    --------
    >>> cal = isotonic_fit([1, 2, 3, 4, 5], [1.0, 3.0, 2.0, 4.0, 3.5])
    >>> cal.y_thresholds
    array([1.  , 2.5 , 2.5 , 3.75, 3.75])
    >>> cal([2.5, 9.0])
    array([2.5 , 3.75])
    """
    x = check_values(scores, "scores")
    y = check_values(targets, "targets")
    check_same_length(x, y, "scores", "targets")
    if x.size == 0:
        raise InvalidInputError("scores must not be empty", field="scores")
    order = np.lexsort((y, x))
    xs, ys = x[order], y[order]
    ux, start, counts = np.unique(xs, return_index=True, return_counts=True)
    fitted = _pav(np.add.reduceat(ys, start), counts.astype(np.float64))
    # interior points of a flat run change nothing in the interpolation (as scikit-learn)
    keep = np.ones(ux.size, dtype=np.bool_)
    keep[1:-1] = (fitted[1:-1] != fitted[:-2]) | (fitted[1:-1] != fitted[2:])
    return Calibrator(ux[keep], fitted[keep])
