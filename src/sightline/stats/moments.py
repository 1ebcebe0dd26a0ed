"""Count, mean and sum of squared deviations per column, merged with Chan et al.'s formula.

The triple ``(n, mean, m2)`` is the exactly mergeable state behind a mean and a variance:
the moments of a concatenation are a function of the moments of the parts, so profiles
built on different nodes merge without the raw values (METHODS.md section 8).
"""

from __future__ import annotations

from typing import NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

from sightline._types import FloatArray, IntArray
from sightline._validate import check_int
from sightline.errors import InvalidInputError

Count: TypeAlias = "IntArray | int"
Real: TypeAlias = "FloatArray | float"

_BLOCK = 1 << 16  # values per block of a long 1-D sample


class Moments(NamedTuple):
    """Count, mean and sum of squared deviations from the mean.

    Scalars describe one column; arrays of shape ``(n_columns,)`` describe several, column
    ``j`` being ``(n[j], mean[j], m2[j])``. A column without values has ``n = 0``,
    ``mean = 0.0`` and ``m2 = 0.0``, which is the identity of :func:`merge_moments`.

    Attributes
    ----------
    n
        Number of non-missing values.
    mean
        Their mean (``0.0`` when ``n == 0``).
    m2
        Sum of squared deviations from the mean, ``sum((x - mean) ** 2)``.

    Examples
    --------
    >>> m = moments_of(np.array([1.0, 2.0, np.nan, 3.0]))
    >>> m
    Moments(n=3, mean=2.0, m2=2.0)
    >>> variance(m)
    1.0
    """

    n: Count
    mean: Real
    m2: Real


def moments_of(x: npt.ArrayLike) -> Moments:
    """Moments of a sample, ignoring NaN (missing values).

    Parameters
    ----------
    x
        A 1-D sample, or samples of shape ``(n_rows, n_columns)``. NaN means missing and is
        skipped; infinity is rejected (its moments are undefined).

    Returns
    -------
    Moments
        Scalars for a 1-D sample, arrays of shape ``(n_columns,)`` for a 2-D one. The mean
        is computed first and the deviations second (two passes), which keeps ``m2``
        accurate when the mean is large compared with the spread. Values so large that
        their squared deviations exceed the float range (beyond about 1e154) give an
        infinite ``m2``, without a warning.

    Examples
    --------
    >>> moments_of(np.array([[1.0, 10.0], [3.0, np.nan]]))
    Moments(n=array([2, 1]), mean=array([ 2., 10.]), m2=array([2., 0.]))
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim not in (1, 2):
        raise InvalidInputError(
            f"x must be 1-D or 2-D (rows, columns), got {arr.ndim} dimensions", field="x"
        )
    if np.isinf(arr).any():
        raise InvalidInputError("x must not contain infinity", field="x")
    with np.errstate(over="ignore"):  # |x| beyond ~1e154: m2 overflows to inf, as it should
        return _moments_1d(arr) if arr.ndim == 1 else _moments_2d(arr)


def _moments_2d(arr: FloatArray) -> Moments:
    valid = ~np.isnan(arr)
    n = np.count_nonzero(valid, axis=0).astype(np.int64)
    filled = np.where(valid, arr, 0.0)
    mean = np.divide(filled.sum(axis=0), n, out=np.zeros(arr.shape[1]), where=n > 0)
    dev = np.where(valid, arr - mean, 0.0)
    m2 = np.einsum("ij,ij->j", dev, dev)
    return Moments(n, mean, m2)


def _moments_1d(arr: FloatArray) -> Moments:
    if not np.isfinite(arr).all():  # one pass in the usual case of no missing value
        arr = arr[~np.isnan(arr)]
    if arr.size <= _BLOCK:
        return _moments_block(arr, np.empty(arr.size))
    # Block by block, merged with Chan's formula: the deviations stay in cache, and the
    # pairwise merge is as accurate as one pass over the whole array.
    buf = np.empty(_BLOCK)
    out = Moments(0, 0.0, 0.0)
    for start in range(0, arr.size, _BLOCK):
        out = _merge_scalars(out, _moments_block(arr[start : start + _BLOCK], buf))
    return out


def _moments_block(arr: FloatArray, buf: FloatArray) -> Moments:
    if arr.size == 0:
        return Moments(0, 0.0, 0.0)
    mean = float(arr.mean())
    dev = np.subtract(arr, mean, out=buf[: arr.size])
    np.multiply(dev, dev, out=dev)  # not np.dot: BLAS threads cost more than they save here
    return Moments(int(arr.size), mean, float(dev.sum()))


def merge_moments(a: Moments, b: Moments) -> Moments:
    """Moments of the concatenation of two samples, from the moments of each.

    Uses the pairwise update of Chan, Golub and LeVeque: with ``n = na + nb`` and
    ``delta = mean_b - mean_a``, ``mean = mean_a * (na / n) + mean_b * (nb / n)`` and
    ``m2 = m2_a + m2_b + delta**2 * na * nb / n``. This weighted-mean form is symmetric, so
    ``merge_moments(a, b) == merge_moments(b, a)`` exactly, and cannot overflow for finite
    means; an empty side returns the other side exactly.

    Parameters
    ----------
    a, b
        Moments of the same shape (both scalars, or both arrays of ``(n_columns,)``).

    Returns
    -------
    Moments
        Of the same shape as the inputs.

    References
    ----------
    T. F. Chan, G. H. Golub and R. J. LeVeque, "Updating formulae and a pairwise algorithm
    for computing sample variances", Stanford CS report STAN-CS-79-773, 1979.

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 3.0, 6.0])
    >>> merge_moments(moments_of(x[:2]), moments_of(x[2:]))
    Moments(n=4, mean=3.0, m2=14.0)
    >>> moments_of(x)
    Moments(n=4, mean=3.0, m2=14.0)
    """
    if not any(isinstance(v, np.ndarray) for v in (*a, *b)):
        return _merge_scalars(a, b)
    na = np.asarray(a.n, dtype=np.int64)
    nb = np.asarray(b.n, dtype=np.int64)
    if na.shape != nb.shape:
        raise InvalidInputError(
            f"moments must have the same shape, got {na.shape} and {nb.shape}", field="b"
        )
    ma, mb = np.asarray(a.mean, dtype=np.float64), np.asarray(b.mean, dtype=np.float64)
    sa, sb = np.asarray(a.m2, dtype=np.float64), np.asarray(b.m2, dtype=np.float64)
    n = na + nb
    fa, fb = na.astype(np.float64), nb.astype(np.float64)
    nf = fa + fb
    safe = np.where(nf > 0, nf, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):  # huge values: inf, as in moments_of
        delta = mb - ma
        mean = ma * (fa / safe) + mb * (fb / safe)
        m2 = sa + sb + delta * delta * (fa * fb / safe)
    mean = np.where(na == 0, mb, np.where(nb == 0, ma, mean))
    m2 = np.where(na == 0, sb, np.where(nb == 0, sa, m2))
    if n.ndim == 0:
        return Moments(int(n), float(mean), float(m2))
    return Moments(n, mean, m2)


def _merge_scalars(a: Moments, b: Moments) -> Moments:
    """The formula of :func:`merge_moments` on Python scalars (profiles merge one column at
    a time, where numpy's per-call overhead would dominate)."""
    na, nb = int(a.n), int(b.n)
    if nb == 0:
        return Moments(na, float(a.mean), float(a.m2))
    if na == 0:
        return Moments(nb, float(b.mean), float(b.m2))
    n = na + nb
    ma, mb = float(a.mean), float(b.mean)
    delta = mb - ma  # float arithmetic overflows to inf, as numpy's does
    m2 = float(a.m2) + float(b.m2) + delta * delta * (na * nb / n)
    return Moments(n, ma * (na / n) + mb * (nb / n), m2)


def variance(m: Moments, ddof: int = 1) -> Real:
    """Variance from moments, ``m2 / (n - ddof)``; NaN where ``n <= ddof``.

    Parameters
    ----------
    m
        Moments (scalars or arrays).
    ddof
        Delta degrees of freedom: 1 for the sample variance (numpy's ``ddof=1``), 0 for
        the population variance.

    Returns
    -------
    A float for scalar moments, an array of shape ``(n_columns,)`` otherwise.

    Examples
    --------
    >>> x = np.array([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])
    >>> variance(moments_of(x), ddof=0), float(np.var(x))
    (4.0, 4.0)
    >>> variance(moments_of(np.array([1.0])))
    nan
    """
    check_int("ddof", ddof, 0)
    n = np.asarray(m.n, dtype=np.float64)
    m2 = np.asarray(m.m2, dtype=np.float64)
    dof = n - ddof
    out: FloatArray = np.full(np.broadcast(m2, dof).shape, np.nan)
    np.divide(m2, dof, out=out, where=dof > 0)
    if out.ndim == 0:
        return float(out)
    return out


__all__ = ["Moments", "merge_moments", "moments_of", "variance"]
