"""Rank statistics of two samples on their pooled sample: Anderson-Darling and Cramer-von Mises.

Both start from the tie runs of the merged sorted samples (:func:`pooled_runs`);
:func:`sightline.stats.drift.anderson_darling` and
:func:`sightline.stats.drift.cramer_von_mises` run them over the columns.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import special, stats

from sightline._types import FloatArray, IntArray

#: Anderson-Darling p-values are interpolated between these bounds and capped to them.
AD_PVALUE_RANGE = (0.001, 0.25)


class Runs(NamedTuple):
    """Distinct values of the pooled sample: size of each tie run and its share per side."""

    size: FloatArray
    n_x: FloatArray
    n_y: FloatArray


def pooled_runs(xs: FloatArray, ys: FloatArray) -> Runs:
    """Tie runs of the merged sample of two sorted samples."""
    pooled = np.concatenate([xs, ys])
    order = np.argsort(pooled, kind="stable")  # two sorted runs: a linear merge
    merged = pooled[order]
    ends = np.flatnonzero(np.concatenate([merged[1:] != merged[:-1], [True]]))
    x_before_end = np.cumsum(order < xs.size)[ends]
    n_x = np.diff(x_before_end, prepend=0).astype(np.float64)
    size = np.diff(ends, prepend=-1).astype(np.float64)
    return Runs(size, n_x, size - n_x)


def ad_midrank(runs: Runs, n: int, m: int) -> float:
    """Scholz & Stephens' midrank A2akN (their eq. 7) for two samples."""
    big_n = n + m
    lj = runs.size
    bj = np.cumsum(lj) - lj + lj / 2.0
    denom = bj * (big_n - bj) - big_n * lj / 4.0
    total = 0.0
    for counts, size in ((runs.n_x, n), (runs.n_y, m)):
        mij = np.cumsum(counts) - counts / 2.0
        inner = lj / float(big_n) * (big_n * mij - bj * size) ** 2 / denom
        total += float(inner.sum()) / size
    return total * (big_n - 1.0) / big_n


def ad_harmonics(big_n: int) -> tuple[float, float]:
    """The sums ``h`` and ``g`` of Scholz & Stephens eq. 4, which depend on N only."""
    hs_cs = (1.0 / np.arange(big_n - 1, 1, -1)).cumsum()
    return float(hs_cs[-1]) + 1, float((hs_cs / np.arange(2, big_n)).sum())


def ad_sigma(n: int, m: int, h: float, g: float) -> float:
    """Standard deviation of A2akN under the null hypothesis (Scholz & Stephens eq. 4)."""
    big_n, k = n + m, 2
    h_sum = 1.0 / n + 1.0 / m
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * h_sum
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * h_sum - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * h_sum + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    var = (a * big_n**3 + b * big_n**2 + c * big_n + d) / (
        (big_n - 1.0) * (big_n - 2.0) * (big_n - 3.0)
    )
    return math.sqrt(var)


def ad_pvalue(a2: FloatArray) -> FloatArray:
    """scipy's interpolation of Scholz & Stephens' Table 2 (k = 2), capped to its range."""
    b0 = np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
    b1 = np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
    b2 = np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])
    critical = b0 + b1 / math.sqrt(1) + b2 / 1
    sig = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])
    fit = np.polyfit(critical, np.log(sig), 2)
    out = np.full(a2.shape, np.nan)
    out[a2 < critical.min()] = AD_PVALUE_RANGE[1]
    out[a2 > critical.max()] = AD_PVALUE_RANGE[0]
    inside = (a2 >= critical.min()) & (a2 <= critical.max())
    out[inside] = np.exp(np.polyval(fit, a2[inside]))
    return out


def _cvm_t(runs: Runs, n: int, m: int) -> float:
    """Anderson's T from midranks of the pooled sample (scipy's ``cramervonmises_2samp``)."""
    mid = np.cumsum(runs.size) - runs.size + (runs.size + 1) / 2
    rx = np.repeat(mid, runs.n_x.astype(np.intp))
    ry = np.repeat(mid, runs.n_y.astype(np.intp))
    u = n * float(np.sum((rx - np.arange(1, n + 1)) ** 2)) + m * float(
        np.sum((ry - np.arange(1, m + 1)) ** 2)
    )
    k, big_n = n * m, n + m
    return u / (k * big_n) - (4 * k - 1) / (6 * big_n)


def _cdf_cvm_inf(x: FloatArray) -> FloatArray:
    """Limiting CDF of the Cramer-von Mises statistic (Csorgo & Faraway 1996, eq. 1.2).

    The series of scipy's ``_cdf_cvm_inf``, term by term, vectorized over ``x``.
    """
    total = np.zeros_like(x)
    active = np.ones(x.shape, dtype=bool)
    k = 0
    while active.any():
        xa = x[active]
        u = math.exp(special.gammaln(k + 0.5) - special.gammaln(k + 1)) / (np.pi**1.5 * np.sqrt(xa))
        y = 4 * k + 1
        q = y**2 / (16 * xa)
        term = u * math.sqrt(y) * np.exp(-q) * special.kv(0.25, q)
        total[active] += term
        active[active] = np.abs(term) >= 1e-7
        k += 1
    return total


def cvm_asymptotic_pvalue(t: FloatArray, n: IntArray, m: IntArray) -> FloatArray:
    """Anderson's (1962) standardization of T, then the limiting distribution (as scipy)."""
    tn = np.empty_like(t)
    for i, (ti, nx, ny) in enumerate(zip(t.tolist(), n.tolist(), m.tolist(), strict=True)):
        k, big_n = nx * ny, nx + ny
        et = (1 + 1 / big_n) / 6
        vt = (big_n + 1) * (4 * k * big_n - 3 * (nx**2 + ny**2) - 2 * k)
        vt = vt / (45 * big_n**2 * 4 * k)
        tn[i] = 1 / 6 + (ti - et) / math.sqrt(45 * vt)
    out = np.ones_like(t)
    far = tn >= 0.003  # below, 1 - cdf rounds to 1
    out[far] = np.clip(1.0 - _cdf_cvm_inf(tn[far]), 0.0, None)
    return out


def cvm_statistic(xs: FloatArray, ys: FloatArray) -> float:
    """Anderson's T of two sorted samples (of 2 or more values each)."""
    return _cvm_t(pooled_runs(xs, ys), xs.size, ys.size)


def cvm_exact_pvalue(xs: FloatArray, ys: FloatArray) -> float:
    """The exact (permutation) p-value of scipy's ``cramervonmises_2samp``."""
    return float(stats.cramervonmises_2samp(xs, ys, method="exact").pvalue)


__all__ = [
    "AD_PVALUE_RANGE",
    "Runs",
    "ad_harmonics",
    "ad_midrank",
    "ad_pvalue",
    "ad_sigma",
    "cvm_asymptotic_pvalue",
    "cvm_exact_pvalue",
    "cvm_statistic",
    "pooled_runs",
]
