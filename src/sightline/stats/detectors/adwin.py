"""ADWIN: adaptive windowing (Bifet and Gavaldà, 2007)."""

from __future__ import annotations

import math
from collections import deque
from typing import Self

import numpy as np
import numpy.typing as npt

from sightline._types import FloatArray, IntArray
from sightline._validate import check_in_range, check_int
from sightline.errors import InvalidInputError
from sightline.stats.detectors.base import (
    HORIZON,
    Detector,
    calibrated_threshold,
    check_reference,
)


class ADWIN(Detector):
    """ADaptive WINdowing: cut the window where the means of its two parts differ.

    The window is kept as an exponential histogram (rows of at most ``max_buckets``
    summaries of ``2**i`` values). Every ``clock`` updates, once the window holds more than
    ``grace_period`` values, every cut between buckets into an older part ``W0`` and a
    newer part ``W1`` (each of at least ``min_window_length`` values) is tested, and the
    oldest bucket is dropped while ``|mean(W0) - mean(W1)| > ε`` for some cut, with
    ``ε = sqrt(2·m·σ²·δ') + 2/3·δ'·m``, ``δ' = ln(2·ln(W)/delta)``,
    ``m = 1/(n0 - mwl + 1) + 1/(n1 - mwl + 1)`` and ``σ²`` the window's variance. Same
    algorithm, defaults and detections as river's ``drift.ADWIN`` (METHODS.md 7).

    Parameters
    ----------
    delta
        Confidence of the cut test, in (0, 1); larger detects sooner and alarms more.
    clock
        Test for cuts every ``clock`` updates.
    max_buckets
        Summaries kept per row of the histogram before the two oldest merge.
    min_window_length
        Smallest size of either part of a cut.
    grace_period
        No test until the window holds more than this many values.

    References
    ----------
    Bifet, A. and Gavaldà, R. (2007). Learning from time-changing data with adaptive
    windowing. SIAM SDM. Oracle: river 0.26.1 ``drift.ADWIN`` (benchmarks/detectors.py).

    Examples
    --------
    >>> adwin = ADWIN()
    >>> for i, x in enumerate([0.0] * 1000 + [1.0] * 1000):
    ...     if adwin.update(x):
    ...         print(i, adwin.width, round(adwin.estimation, 3))
    1023 56 0.429
    """

    _PARAMS = ("delta", "clock", "max_buckets", "min_window_length", "grace_period")

    def __init__(
        self,
        delta: float = 0.002,
        clock: int = 32,
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
    ) -> None:
        check_in_range("delta", delta, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
        check_int("clock", clock, 1)
        check_int("max_buckets", max_buckets, 1)
        check_int("min_window_length", min_window_length, 1)
        check_int("grace_period", grace_period, 0)
        self.delta = delta
        self.clock = clock
        self.max_buckets = max_buckets
        self.min_window_length = min_window_length
        self.grace_period = grace_period
        super().__init__()

    def _clear(self) -> None:
        # Row i holds (total, variance) summaries of 2**i values, oldest first.
        self._rows: list[deque[tuple[float, float]]] = [deque()]
        self._width = 0
        self._total = 0.0
        self._variance = 0.0  # sum of squared deviations from the window's mean

    @property
    def width(self) -> int:
        """Number of values in the window."""
        return self._width

    @property
    def estimation(self) -> float:
        """Mean of the window (0 when it is empty)."""
        return self._total / self._width if self._width else 0.0

    def _step(self, x: float) -> bool:
        self._insert(x)
        if self._n % self.clock or self._width <= self.grace_period:
            return False
        detected = False
        while self._has_cut():
            self._drop_oldest()
            detected = True
        return detected

    def _insert(self, x: float) -> None:
        width = self._width + 1
        if width > 1:
            d = x - self._total / (width - 1)
            self._variance += (width - 1) * d * d / width
        self._width = width
        self._total += x
        rows = self._rows
        rows[0].append((x, 0.0))
        i = 0
        while len(rows[i]) > self.max_buckets:
            (t0, v0), (t1, v1) = rows[i].popleft(), rows[i].popleft()
            size = 2**i
            d = t0 / size - t1 / size
            if i + 1 == len(rows):
                rows.append(deque())
            rows[i + 1].append((t0 + t1, v0 + v1 + size / 2 * d * d))
            i += 1

    def _has_cut(self) -> bool:
        width, mwl = self._width, self.min_window_length
        if width < 2 * mwl:
            return False
        dd = math.log(2 * math.log(width) / self.delta)
        v = max(self._variance, 0.0) / width
        n0, u0, n1, u1 = 0, 0.0, width, self._total
        buckets = [(2**i, t) for i in range(len(self._rows) - 1, -1, -1) for t, _ in self._rows[i]]
        for size, t in buckets[:-1]:  # oldest first; the newest bucket is never cut off
            n0, u0, n1, u1 = n0 + size, u0 + t, n1 - size, u1 - t
            if n0 >= mwl and n1 >= mwl:
                m = 1 / (n0 - mwl + 1) + 1 / (n1 - mwl + 1)
                eps = math.sqrt(2 * m * v * dd) + 2 / 3 * dd * m
                if abs(u0 / n0 - u1 / n1) > eps:
                    return True
        return False

    def _drop_oldest(self) -> None:
        rows = self._rows
        size = 2 ** (len(rows) - 1)
        t, v = rows[-1].popleft()
        self._width -= size
        self._total -= t
        d = t / size - self._total / self._width
        self._variance -= v + size * self._width * d * d / (size + self._width)
        while len(rows) > 1 and not rows[-1]:
            rows.pop()

    @classmethod
    def calibrate(
        cls,
        reference: npt.ArrayLike,
        *,
        run_length: int = 10_000,
        clock: int = 32,
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
        n_streams: int = 200,
        seed: int = 0,
    ) -> Self:
        """ADWIN whose ``delta`` allows one false alarm per ``run_length`` stable values.

        ``delta`` is set by the module's rule. On a window that has not been cut, the
        bucket boundaries depend only on the number of values, so every cut of every
        check is evaluated from prefix sums at once; the alarm level of a cut is the
        ``-ln(delta)`` at which ``|mean(W0) - mean(W1)|`` equals ``ε``.

        Examples
        --------
        >>> reference = np.random.default_rng(7).normal(size=1000)
        >>> round(ADWIN.calibrate(reference, run_length=1000, n_streams=50).delta, 2)
        0.77
        """
        ref, mean, _ = check_reference(reference)
        cls(0.5, clock, max_buckets, min_window_length, grace_period)  # validates the options
        run_length = check_int("run_length", run_length, 10)
        layout = _adwin_layout(
            HORIZON * run_length, clock, max_buckets, min_window_length, grace_period
        )
        theta = calibrated_threshold(
            lambda x: _adwin_levels(x, layout, min_window_length),
            ref - mean,
            run_length=run_length,
            n_streams=n_streams,
            seed=seed,
            cost=layout[1].size,
        )
        delta = math.exp(-theta)
        if not 0.0 < delta < 1.0:
            raise InvalidInputError(
                f"no delta in (0, 1) gives ADWIN a run length of {run_length} on this reference",
                field="run_length",
            )
        return cls(delta, clock, max_buckets, min_window_length, grace_period)


_Layout = tuple[IntArray, IntArray, IntArray, IntArray]


def _adwin_layout(
    horizon: int, clock: int, max_buckets: int, mwl: int, grace_period: int
) -> _Layout:
    """Cuts tested by an uncut ADWIN: check times, and per cut its time and older size.

    Returns ``(check_times, cut_times, cut_n0, starts)``; the cuts of check ``j`` are
    ``cut_*[starts[j]:starts[j + 1]]``. Checks without a valid cut are left out.
    """
    counts = [0]  # buckets per row of the histogram
    checks, times, sizes0 = [], [], []
    for t in range(1, horizon + 1):
        counts[0] += 1
        i = 0
        while counts[i] > max_buckets:
            counts[i] -= 2
            if i + 1 == len(counts):
                counts.append(0)
            counts[i + 1] += 1
            i += 1
        if t % clock or t <= grace_period:
            continue
        oldest_first = np.repeat(2 ** np.arange(len(counts) - 1, -1, -1), counts[::-1])
        n0 = np.cumsum(oldest_first)[:-1]
        n0 = n0[(n0 >= mwl) & (t - n0 >= mwl)]
        if n0.size:
            checks.append(t)
            times.append(np.full(n0.size, t))
            sizes0.append(n0)
    starts = np.cumsum([0] + [s.size for s in sizes0[:-1]])
    return (
        np.array(checks, dtype=np.int64),
        np.concatenate(times).astype(np.int64),
        np.concatenate(sizes0).astype(np.int64),
        starts.astype(np.int64),
    )


def _adwin_levels(x: FloatArray, layout: _Layout, mwl: int) -> FloatArray:
    """Per step, the ``-ln(delta)`` above which an uncut ADWIN alarms there (-inf: none)."""
    checks, t, n0, starts = layout
    zero = np.zeros((1, x.shape[1]))
    p = np.concatenate([zero, np.cumsum(x, axis=0)])
    q = np.concatenate([zero, np.cumsum(x * x, axis=0)])
    tt, nn0 = t[:, None].astype(np.float64), n0[:, None].astype(np.float64)
    nn1 = tt - nn0
    u0 = p[n0]
    diff = np.abs(u0 / nn0 - (p[t] - u0) / nn1)
    variance = np.maximum(q[t] - p[t] ** 2 / tt, 0.0) / tt
    m = 1 / (nn0 - mwl + 1) + 1 / (nn1 - mwl + 1)
    a, b = 2 / 3 * m, np.sqrt(2 * m * variance)
    # |diff| = b·s + a·s² solved for s = sqrt(δ'); the cut fires iff ln(2 ln t / delta) < s².
    with np.errstate(invalid="ignore", divide="ignore"):
        s = 2 * diff / (b + np.sqrt(b * b + 4 * a * diff))
    level = np.where(diff > 0, s * s - np.log(2 * np.log(tt)), -np.inf)
    levels = np.full(x.shape, -np.inf)
    levels[checks - 1] = np.maximum.reduceat(level, starts, axis=0)
    return levels
