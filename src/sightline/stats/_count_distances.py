"""Distances between the bin or category proportions of two samples, every column at once.

PSI, Kullback-Leibler, Jensen-Shannon, Hellinger and L-infinity take counts of shape
``(n_bins, n_columns)`` on the same bins for both sides, normalise them to proportions and
return ``(n_columns,)`` vectors, ``nan`` where a side has no count. Import them from
:mod:`sightline.stats.drift`, which also has the chi-square test on the same counts.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import special

from sightline._types import BoolArray, FloatArray, IntArray
from sightline._validate import check_counts, check_in_range, check_same_shape
from sightline.errors import InvalidInputError


def counts_pair(reference: npt.ArrayLike, current: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Both sides' counts as float arrays ``(n_bins, n_columns)`` of the same shape."""
    ref = check_counts(reference, "reference")
    cur = check_counts(current, "current")
    check_same_shape(ref, cur, "reference and current counts")
    return ref, cur


def _shares(
    reference: npt.ArrayLike, current: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Per-column proportions of both sides and the mask of columns with an empty side."""
    ref, cur = counts_pair(reference, current)
    n_ref, n_cur = ref.sum(axis=0), cur.sum(axis=0)
    empty = (n_ref == 0) | (n_cur == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ref / n_ref, cur / n_cur, np.asarray(empty, dtype=bool)


def _floored_shares(
    reference: npt.ArrayLike, current: npt.ArrayLike, eps: float
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """:func:`_shares` with proportions floored at ``eps`` (not renormalised)."""
    floor = check_in_range("eps", eps, low=0.0, low_inclusive=False)
    p, q, empty = _shares(reference, current)
    return np.maximum(p, floor), np.maximum(q, floor), empty


def _finish(values: FloatArray, empty: BoolArray) -> FloatArray:
    out = np.asarray(values, dtype=np.float64).copy()
    out[empty] = np.nan
    return out


def psi(reference: IntArray, current: IntArray, *, eps: float = 1e-4) -> FloatArray:
    """Population stability index of every column at once.

    Parameters
    ----------
    reference, current
        Bin counts of shape ``(n_bins, n_columns)`` (1-D is one column); column ``j`` of both
        is one feature binned on the same edges (the reference's quantile edges). Bins empty
        on both sides (padding) do not change the result.
    eps
        Floor for empty-bin proportions, so the logarithm stays finite; the proportions are
        not renormalised after flooring (Evidently's convention for its default 1e-4).

    Returns
    -------
    PSI per column, ``sum((q - p) * ln(q / p))``; ``nan`` where a side has no count.
    Usual reading: < 0.1 no material change, >= 0.25 a major shift.

    References
    ----------
    Yurdakul, B. (2018). Statistical properties of population stability index. METHODS.md
    1.3 and T4.

    Examples
    --------
    >>> psi(np.array([[50, 10], [50, 90]]), np.array([[50, 90], [50, 10]])).round(3)
    array([0.   , 3.516])
    """
    p, q, empty = _floored_shares(reference, current, eps)
    return _finish(np.sum((q - p) * np.log(q / p), axis=0), empty)


def kl_divergence(reference: IntArray, current: IntArray, *, eps: float = 1e-4) -> FloatArray:
    """Kullback-Leibler divergence KL(reference || current) of every column.

    Parameters
    ----------
    reference, current
        Bin counts ``(n_bins, n_columns)`` on the same bins.
    eps
        Floor for empty-bin proportions (no renormalisation), as in :func:`psi`.

    Returns
    -------
    ``sum(p * ln(p / q))`` per column, in nats; ``nan`` where a side has no count.

    References
    ----------
    Kullback, S. and Leibler, R. A. (1951). On Information and Sufficiency. METHODS.md 1.6.

    Examples
    --------
    >>> kl_divergence([50, 50], [90, 10]).round(4)
    array([0.5108])
    """
    p, q, empty = _floored_shares(reference, current, eps)
    return _finish(np.sum(p * np.log(p / q), axis=0), empty)


def jensen_shannon(reference: IntArray, current: IntArray, *, base: float = 2.0) -> FloatArray:
    """Jensen-Shannon distance of every column.

    Parameters
    ----------
    reference, current
        Bin counts ``(n_bins, n_columns)`` on the same bins; normalised to proportions.
    base
        Logarithm base: 2 (NannyML's default) bounds the distance by 1; ``math.e`` gives
        Evidently's convention (bounded by sqrt(ln 2)).

    Returns
    -------
    ``sqrt((KL(p || m) + KL(q || m)) / 2)`` with ``m = (p + q) / 2``, per column; ``nan``
    where a side has no count.

    References
    ----------
    Lin, J. (1991). Divergence measures based on the Shannon entropy. Oracle:
    ``scipy.spatial.distance.jensenshannon`` (METHODS.md 1.4, T5, T6).

    Examples
    --------
    >>> jensen_shannon([1, 0], [0, 1])
    array([1.])
    """
    base = check_in_range("base", base, low=0.0, low_inclusive=False)
    if base == 1.0:
        raise InvalidInputError(
            "base must be a finite number > 0 other than 1, got 1.0", field="base"
        )
    p, q, empty = _shares(reference, current)
    mid = (p + q) / 2.0
    js = special.rel_entr(p, mid).sum(axis=0) + special.rel_entr(q, mid).sum(axis=0)
    js /= np.log(base)
    return _finish(np.sqrt(np.maximum(js / 2.0, 0.0)), empty)


def hellinger(reference: IntArray, current: IntArray) -> FloatArray:
    """Hellinger distance of every column.

    Parameters
    ----------
    reference, current
        Bin counts ``(n_bins, n_columns)`` on the same bins; normalised to proportions.

    Returns
    -------
    ``sqrt(sum((sqrt(p) - sqrt(q))**2)) / sqrt(2)`` in [0, 1] per column (the numerically
    stable form of ``sqrt(1 - sum(sqrt(p * q)))``); ``nan`` where a side has no count.

    References
    ----------
    Hellinger, E. (1909). NannyML ``hellinger`` and Evidently categorical ``hellinger``
    (METHODS.md 1.5, T5, T6).

    Examples
    --------
    >>> hellinger([1, 0], [0, 1])
    array([1.])
    """
    p, q, empty = _shares(reference, current)
    dist = np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2, axis=0)) / math.sqrt(2.0)
    return _finish(dist, empty)


def l_infinity(reference: IntArray, current: IntArray) -> FloatArray:
    """L-infinity distance between the bin proportions of every column.

    Parameters
    ----------
    reference, current
        Bin counts ``(n_bins, n_columns)`` on the same bins; normalised to proportions.

    Returns
    -------
    ``max |p - q|`` over bins per column; ``nan`` where a side has no count.

    References
    ----------
    NannyML ``l_infinity`` (METHODS.md 2.3, T5, T6).

    Examples
    --------
    >>> l_infinity([10, 20, 30, 40], [15, 25, 25, 35])
    array([0.05])
    """
    p, q, empty = _shares(reference, current)
    if p.shape[0] == 0:
        return np.full(p.shape[1], np.nan)
    return _finish(np.max(np.abs(p - q), axis=0), empty)


__all__ = ["counts_pair", "hellinger", "jensen_shannon", "kl_divergence", "l_infinity", "psi"]
