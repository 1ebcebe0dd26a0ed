"""The Page-Hinkley test of a change in the mean."""

from __future__ import annotations

import math
from typing import Self

import numpy as np
import numpy.typing as npt

from sightline._types import FloatArray
from sightline._validate import check_in_range, check_int
from sightline.stats.detectors.base import (
    Detector,
    Mode,
    calibrated_threshold,
    check_mode,
    check_reference,
)


class PageHinkley(Detector):
    """Page-Hinkley test of a change in the mean, river's variant with a forgetting factor.

    With ``x̄`` the running mean (including ``x``), ``S⁺ = alpha·S⁺ + (x - x̄) - delta``
    and ``S⁻ = alpha·S⁻ + (x - x̄) + delta``; after ``min_instances`` values, an increase
    is detected when ``S⁺ - min S⁺ > threshold`` and a decrease when
    ``max S⁻ - S⁻ > threshold``. Same defaults and detections as river's
    ``drift.PageHinkley`` (METHODS.md 7), whose ``delta`` and ``threshold`` are in the
    data's units: use :meth:`calibrate` for metric series.

    Parameters
    ----------
    min_instances
        Values seen before a change can be detected.
    delta
        Magnitude of change tolerated (the drift of the cumulative sums), >= 0.
    threshold
        Alarm threshold ``λ`` on the test statistic, > 0.
    alpha
        Forgetting factor of the cumulative sums, in (0, 1].
    mode
        Detect increases (``"up"``), decreases (``"down"``) or ``"both"``.

    References
    ----------
    Page, E. S. (1954). Continuous inspection schemes. Biometrika 41. Oracle: river 0.26.1
    ``drift.PageHinkley`` (benchmarks/detectors.py).

    Examples
    --------
    >>> from sightline.stats.detectors import detect
    >>> np.flatnonzero(detect([0.0] * 500 + [1.0] * 500, PageHinkley()))
    array([553])
    """

    _PARAMS = ("min_instances", "delta", "threshold", "alpha", "mode")

    def __init__(
        self,
        min_instances: int = 30,
        delta: float = 0.005,
        threshold: float = 50.0,
        alpha: float = 1 - 0.0001,
        mode: Mode = "both",
    ) -> None:
        check_int("min_instances", min_instances, 1)
        check_in_range("delta", delta, low=0.0)
        check_in_range("threshold", threshold, low=0.0, low_inclusive=False)
        check_in_range("alpha", alpha, low=0.0, high=1.0, low_inclusive=False)
        check_mode(mode)
        self.min_instances = min_instances
        self.delta = delta
        self.threshold = threshold
        self.alpha = alpha
        self.mode = mode
        super().__init__()

    def _clear(self) -> None:
        self._mean = 0.0
        self._s_up = self._s_down = 0.0
        self._min_up, self._max_down = math.inf, -math.inf

    @property
    def estimation(self) -> float:
        """Running mean of the values since the last reset."""
        return self._mean

    @property
    def statistic(self) -> float:
        """The test statistic compared with ``threshold`` (0 before the first value)."""
        if not self._n:
            return 0.0
        up, down = self._s_up - self._min_up, self._max_down - self._s_down
        return up if self.mode == "up" else down if self.mode == "down" else max(up, down)

    def _step(self, x: float) -> bool:
        self._mean += (1.0 / self._n) * (x - self._mean)
        dev = x - self._mean
        self._s_up = self.alpha * self._s_up + dev - self.delta
        self._s_down = self.alpha * self._s_down + dev + self.delta
        self._min_up = min(self._min_up, self._s_up)
        self._max_down = max(self._max_down, self._s_down)
        return self._n >= self.min_instances and self.statistic > self.threshold

    @classmethod
    def calibrate(
        cls,
        reference: npt.ArrayLike,
        *,
        run_length: int = 10_000,
        k: float = 0.5,
        min_instances: int = 30,
        alpha: float = 1.0,
        mode: Mode = "both",
        n_streams: int = 200,
        seed: int = 0,
    ) -> Self:
        """Page-Hinkley allowing one false alarm per ``run_length`` stable values.

        ``delta = k * sigma`` with ``sigma`` the reference's standard deviation (``k = 0.5`` is
        tuned to a one-standard-deviation change, as for CUSUM); ``threshold`` is set by
        the module's rule. ``alpha`` defaults to 1, the classic test: with river's
        ``1 - 1e-4`` the sums forget the drift ``delta`` after about 10,000 values and the
        statistic then wanders like a random walk, which needs a higher threshold.

        Examples
        --------
        >>> reference = np.random.default_rng(7).normal(size=1000)
        >>> ph = PageHinkley.calibrate(reference, run_length=1000, n_streams=50)
        >>> round(ph.delta, 3), round(ph.threshold, 1)
        (0.471, 5.7)
        """
        ref, mean, sigma = check_reference(reference)
        check_in_range("k", k, low=0.0)
        cls(min_instances, k * sigma, 1.0, alpha, mode)  # validates the options
        threshold = calibrated_threshold(
            lambda x: _page_hinkley_levels(x, min_instances, k * sigma, alpha, mode),
            ref - mean,
            run_length=run_length,
            n_streams=n_streams,
            seed=seed,
        )
        return cls(min_instances, k * sigma, threshold, alpha, mode)


def _page_hinkley_levels(
    x: FloatArray, min_instances: int, delta: float, alpha: float, mode: Mode
) -> FloatArray:
    """Page-Hinkley's statistic of every prefix of every column (-inf before warm-up)."""
    from scipy.signal import lfilter  # the recursion S = alpha·S + d, exactly

    dev = x - np.cumsum(x, axis=0) / np.arange(1, x.shape[0] + 1)[:, None]
    s_up = np.asarray(lfilter([1.0], [1.0, -alpha], dev - delta, axis=0), dtype=np.float64)
    s_down = np.asarray(lfilter([1.0], [1.0, -alpha], dev + delta, axis=0), dtype=np.float64)
    up = s_up - np.minimum.accumulate(s_up, axis=0)
    down = np.maximum.accumulate(s_down, axis=0) - s_down
    stat = up if mode == "up" else down if mode == "down" else np.maximum(up, down)
    stat[: min_instances - 1] = -np.inf
    return stat
