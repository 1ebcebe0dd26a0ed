"""Two-sided CUSUM of standardized values, with run lengths from Siegmund's approximation."""

from __future__ import annotations

import math
from typing import Literal, Self

import numpy as np
import numpy.typing as npt

from sightline._types import FloatArray
from sightline._validate import check_in_range, check_int
from sightline.errors import InvalidInputError
from sightline.stats.detectors.base import (
    Detector,
    calibrated_threshold,
    check_reference,
)


class CUSUM(Detector):
    """Two-sided tabular CUSUM on standardized values.

    With ``z = (x - target)/sigma``: ``S⁺ = max(0, S⁺ + z - k)`` and
    ``S⁻ = max(0, S⁻ - z - k)``; a change is detected when either exceeds ``h``. ``k`` and
    ``h`` are in units of ``sigma``; ``k = 0.5`` is tuned to a shift of one standard
    deviation. A ``target`` or ``sigma`` left as None is estimated over the first
    ``min_instances`` values (mean and standard deviation, ddof 1), as river's CUSUM does,
    and again after each detection; given ones are kept, so a persistent shift alarms again
    every few values.

    Parameters
    ----------
    target
        In-control mean; None estimates it.
    sigma
        In-control standard deviation, > 0; None estimates it (an estimate of 0 makes
        any deviation a change).
    k
        Slack per value, in units of sigma, >= 0.
    h
        Decision threshold, in units of sigma, > 0. Its in-control average run length is
        :func:`cusum_arl`.
    min_instances
        Values used to estimate ``target``/``sigma`` when not given, >= 2.

    References
    ----------
    Page, E. S. (1954). Continuous inspection schemes. Biometrika 41. Montgomery, D. C.
    Introduction to Statistical Quality Control, section 9.1 (the tabular CUSUM).

    Examples
    --------
    >>> from sightline.stats.detectors import detect
    >>> cusum = CUSUM(target=0.0, sigma=1.0)
    >>> detect([0.0] * 5 + [2.0] * 5, cusum)  # S⁺ = 1.5, 3, 4.5, 6 > 5
    array([False, False, False, False, False, False, False, False,  True, False])
    >>> cusum.statistic  # started over after the detection: 2 - 0.5
    1.5
    """

    _PARAMS = ("target", "sigma", "k", "h", "min_instances")

    def __init__(
        self,
        target: float | None = None,
        sigma: float | None = None,
        k: float = 0.5,
        h: float = 5.0,
        *,
        min_instances: int = 30,
    ) -> None:
        if target is not None:
            check_in_range("target", target)
        if sigma is not None:
            check_in_range("sigma", sigma, low=0.0, low_inclusive=False)
        check_in_range("k", k, low=0.0)
        check_in_range("h", h, low=0.0, low_inclusive=False)
        check_int("min_instances", min_instances, 2)
        self.target = target
        self.sigma = sigma
        self.k = k
        self.h = h
        self.min_instances = min_instances
        super().__init__()

    def _clear(self) -> None:
        self.target_ = None if self.target is None else float(self.target)
        self.sigma_ = None if self.sigma is None else float(self.sigma)
        self._warmup: list[float] = []
        self._s_up = self._s_down = 0.0

    @property
    def statistic(self) -> float:
        """``max(S⁺, S⁻)`` in units of sigma, compared with ``h``."""
        s = max(self._s_up, self._s_down)
        if self.sigma_ is None or s == 0.0:
            return 0.0
        return s / self.sigma_ if self.sigma_ else math.inf

    def _step(self, x: float) -> bool:
        if self.target_ is None or self.sigma_ is None:
            self._warmup.append(x)
            if self._n == self.min_instances:
                if self.target_ is None:
                    self.target_ = float(np.mean(self._warmup))
                if self.sigma_ is None:
                    self.sigma_ = float(np.std(self._warmup, ddof=1))
                self._warmup = []
            return False
        # In data units, so that a sigma of 0 still works.
        d, slack = x - self.target_, self.k * self.sigma_
        self._s_up = max(0.0, self._s_up + d - slack)
        self._s_down = max(0.0, self._s_down - d - slack)
        return max(self._s_up, self._s_down) > self.h * self.sigma_

    @classmethod
    def calibrate(
        cls,
        reference: npt.ArrayLike,
        *,
        run_length: int = 10_000,
        k: float = 0.5,
        method: Literal["bootstrap", "siegmund"] = "bootstrap",
        n_streams: int = 200,
        seed: int = 0,
    ) -> Self:
        """CUSUM on the reference's mean and sigma, one false alarm per ``run_length``.

        ``method="bootstrap"`` sets ``h`` by the module's rule, for any distribution;
        ``"siegmund"`` solves ``cusum_arl(h, k) = run_length``, exact enough for normal
        values and instantaneous.

        Examples
        --------
        >>> reference = np.random.default_rng(7).normal(size=1000)
        >>> round(CUSUM.calibrate(reference, method="siegmund").h, 3)
        8.045
        """
        ref, mean, sigma = check_reference(reference)
        check_in_range("k", k, low=0.0)
        if method == "siegmund":
            h = _siegmund_h(check_int("run_length", run_length, 10), k)
        elif method == "bootstrap":
            h = calibrated_threshold(
                lambda z: _cusum_levels(z, k),
                (ref - mean) / sigma,
                run_length=run_length,
                n_streams=n_streams,
                seed=seed,
            )
        else:
            raise InvalidInputError(
                f"method must be 'bootstrap' or 'siegmund', got {method!r}", field="method"
            )
        return cls(target=mean, sigma=sigma, k=k, h=h)


def _cusum_levels(z: FloatArray, k: float) -> FloatArray:
    """``max(S⁺, S⁻)`` of every prefix of every column: Lindley's ``S = C - min(0, min C)``."""
    up = np.cumsum(z - k, axis=0)
    down = np.cumsum(-z - k, axis=0)
    up -= np.minimum(np.minimum.accumulate(up, axis=0), 0.0)
    down -= np.minimum(np.minimum.accumulate(down, axis=0), 0.0)
    return np.maximum(up, down)


def cusum_arl(h: float, k: float = 0.5, shift: float = 0.0) -> float:
    """Average run length of the two-sided CUSUM, by Siegmund's approximation.

    One side: ``ARL = (exp(-2Δb) + 2Δb - 1)/(2Δ²)`` with ``b = h + 1.166`` and ``Δ`` the
    shift minus ``k`` (``b²`` when ``Δ = 0``); the two sides combine as
    ``1/ARL = 1/ARL⁺ + 1/ARL⁻``. For normal values.

    Parameters
    ----------
    h, k
        The CUSUM's threshold and slack, in standard deviations.
    shift
        The mean's shift in standard deviations: 0 for the in-control run length.

    References
    ----------
    Siegmund, D. (1985). Sequential Analysis. Springer. Montgomery, D. C. Introduction to
    Statistical Quality Control, Table 9.3 (``h = 5, k = 0.5``: 465 in control, 10.4 at
    one standard deviation).

    Examples
    --------
    >>> round(cusum_arl(5.0), 1), round(cusum_arl(5.0, shift=1.0), 2)
    (469.1, 10.34)
    """
    check_in_range("h", h, low=0.0)
    check_in_range("k", k, low=0.0)
    check_in_range("shift", shift)
    b = h + 1.166

    def one_sided(drift: float) -> float:
        if drift == 0.0:
            return b * b
        return (math.exp(-2 * drift * b) + 2 * drift * b - 1) / (2 * drift * drift)

    return 1.0 / (1.0 / one_sided(shift - k) + 1.0 / one_sided(-shift - k))


def _siegmund_h(run_length: int, k: float) -> float:
    """The ``h`` whose two-sided in-control :func:`cusum_arl` is ``run_length`` (bisection)."""
    lo, hi = 0.0, 1.0
    while cusum_arl(hi, k) < run_length:
        lo, hi = hi, 2 * hi
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cusum_arl(mid, k) < run_length else (lo, mid)
    return hi
