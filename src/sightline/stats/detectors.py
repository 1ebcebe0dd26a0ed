"""Streaming change detectors over a metric series: ADWIN, Page-Hinkley and CUSUM.

Each detector takes one value at a time; ``update(x)`` returns whether a change was
detected at ``x``. As in river, a detection is reported once and the whole state is
discarded at the next update, so the detector starts over on the new regime.

River's default thresholds are fixed numbers in the data's units and raise many false
alarms on stable series. ``calibrate(reference, run_length=10_000)`` instead sets a
detector's threshold from stable reference data so that it raises **at most one false
alarm per** ``run_length`` **updates** on average, sightline's default for metric series:

1. draw ``n_streams`` bootstrap streams of ``3 * run_length`` values from the reference
   (with replacement, seeded);
2. run the detector's recursion on all streams at once (vectorized), recording at every
   step the largest threshold that would already have raised an alarm;
3. take the smallest threshold for which the mean run length to the first alarm,
   truncated at ``3 * run_length``, less two standard errors, is at least ``run_length``.
   Truncation only shortens run lengths, so the expected run length between false alarms
   is at least ``run_length`` (with about 97.5 % confidence over the simulation).

The bootstrap treats the reference as independent values; an autocorrelated series
alarms more often than calibrated (see docs/detectors.md).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from typing import ClassVar, Final, Literal, Protocol, Self

import numpy as np
import numpy.typing as npt

from sightline._types import BoolArray, FloatArray, IntArray
from sightline._validate import as_float_array, check_in_range
from sightline.errors import InvalidInputError

Mode = Literal["up", "down", "both"]
_MODES: Final = ("up", "down", "both")
_HORIZON: Final = 3  # simulated streams are this many run lengths long
_CHUNK_VALUES: Final = 2**18  # values simulated at once (2 MB a float64 array)


class ChangeDetector(Protocol):
    """Anything with ``update(x) -> bool``, as the three detectors here; :func:`detect` runs one.

    Examples
    --------
    >>> class Above:
    ...     def update(self, x: float) -> bool:
    ...         return x > 1.0
    >>> detect([0.5, 2.0], Above())
    array([False,  True])
    """

    def update(self, x: float) -> bool:
        """Take one value; return whether a change was detected at it."""
        ...


def _check_value(x: float) -> float:
    if isinstance(x, str | bytes):
        raise InvalidInputError(f"x must be a finite number, got {x!r}", field="x")
    try:
        value = float(x)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"x must be a finite number, got {x!r}", field="x") from exc
    if not math.isfinite(value):
        raise InvalidInputError(f"x must be a finite number, got {value!r}", field="x")
    return value


def _check_int(name: str, value: int, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise InvalidInputError(f"{name} must be an integer >= {low}, got {value!r}", field=name)
    return int(value)


def _check_mode(mode: str) -> None:
    if mode not in _MODES:
        raise InvalidInputError(f"mode must be one of {_MODES}, got {mode!r}", field="mode")


def _check_series(x: npt.ArrayLike, name: str) -> FloatArray:
    arr = as_float_array(x, name)
    if arr.ndim != 1:
        raise InvalidInputError(f"{name} must be 1-D, got {arr.ndim} dimensions", field=name)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise InvalidInputError(
            f"{name} must be finite, got {arr[bad[0]]} at index {bad[0]}", field=name
        )
    return arr


def _check_reference(reference: npt.ArrayLike) -> tuple[FloatArray, float, float]:
    """The reference as a 1-D array, its mean and its standard deviation (ddof 1)."""
    ref = _check_series(reference, "reference")
    if ref.size < 2:
        raise InvalidInputError(
            f"reference must hold at least 2 values, got {ref.size}", field="reference"
        )
    sigma = float(np.std(ref, ddof=1))
    if sigma == 0.0:
        raise InvalidInputError(
            f"reference is constant ({ref[0]}); a threshold cannot be calibrated on it",
            field="reference",
        )
    return ref, float(np.mean(ref)), sigma


class _Detector(ABC):
    """Shared protocol: validated ``update``, river's reset-after-detection, ``repr``."""

    _PARAMS: ClassVar[tuple[str, ...]]

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every value seen: back to the state of a new detector."""
        self._n = 0
        self._drift = False
        self._clear()

    @property
    def n(self) -> int:
        """Number of values seen since the last reset (or detection)."""
        return self._n

    @property
    def drift_detected(self) -> bool:
        """Whether the last ``update`` detected a change."""
        return self._drift

    def update(self, x: float) -> bool:
        """Take one value; return whether a change was detected at it.

        Raises :class:`~sightline.errors.InvalidInputError` (field ``x``) for NaN,
        infinity or a non-number, before any state changes.
        """
        value = _check_value(x)
        if self._drift:
            self.reset()
        self._n += 1
        self._drift = self._step(value)
        return self._drift

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._PARAMS)
        return f"{type(self).__name__}({args})"

    @abstractmethod
    def _clear(self) -> None:
        """Forget every value seen (the parameters stay)."""

    @abstractmethod
    def _step(self, x: float) -> bool:
        """Take one checked value; True when a change is detected."""


def _calibrated_threshold(
    levels: Callable[[FloatArray], FloatArray],
    values: FloatArray,
    *,
    run_length: int,
    n_streams: int,
    seed: int,
    cost: int = 0,
) -> float:
    """The calibration rule of the module docstring.

    ``levels(streams)`` maps bootstrap streams ``(steps, n)`` to the per-step alarm level:
    the detector with threshold ``θ`` alarms at the first step whose level exceeds ``θ``.
    ``cost`` is the number of intermediate values per stream, when above the steps.
    """
    run_length = _check_int("run_length", run_length, 10)
    n_streams = _check_int("n_streams", n_streams, 10)
    horizon = _HORIZON * run_length
    rng = np.random.default_rng(seed)
    chunk = max(1, _CHUNK_VALUES // max(horizon, cost))
    maxima = []  # per stream, the running maximum of its levels
    for start in range(0, n_streams, chunk):
        streams = values[
            rng.integers(0, values.size, size=(horizon, min(chunk, n_streams - start)))
        ]
        maxima.append(np.maximum.accumulate(levels(streams), axis=0).T.astype(np.float32))
    rows = np.concatenate(maxima)

    def shortfall(theta: float) -> float:
        # A stream's run length truncated at the horizon: its steps with maximum <= θ.
        run = np.count_nonzero(rows <= theta, axis=1)
        return run_length - float(run.mean() - 2 * run.std(ddof=1) / math.sqrt(n_streams))

    # The mean alone reaches run_length at an order statistic of the pooled maxima; the
    # two standard errors need a little more, found by bisection.
    kth = n_streams * run_length - 1
    lo = max(float(np.partition(rows.ravel(), kth)[kth]), 0.0)
    hi = max(float(rows[:, -1].max()), lo)
    if shortfall(lo) <= 0:
        return lo
    for _ in range(20):  # to 1e-6 of the range
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if shortfall(mid) <= 0 else (mid, hi)
    return hi


class ADWIN(_Detector):
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
        _check_int("clock", clock, 1)
        _check_int("max_buckets", max_buckets, 1)
        _check_int("min_window_length", min_window_length, 1)
        _check_int("grace_period", grace_period, 0)
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
        ref, mean, _ = _check_reference(reference)
        cls(0.5, clock, max_buckets, min_window_length, grace_period)  # validates the options
        run_length = _check_int("run_length", run_length, 10)
        layout = _adwin_layout(
            _HORIZON * run_length, clock, max_buckets, min_window_length, grace_period
        )
        theta = _calibrated_threshold(
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


class PageHinkley(_Detector):
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
        _check_int("min_instances", min_instances, 1)
        check_in_range("delta", delta, low=0.0)
        check_in_range("threshold", threshold, low=0.0, low_inclusive=False)
        check_in_range("alpha", alpha, low=0.0, high=1.0, low_inclusive=False)
        _check_mode(mode)
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
        ref, mean, sigma = _check_reference(reference)
        check_in_range("k", k, low=0.0)
        cls(min_instances, k * sigma, 1.0, alpha, mode)  # validates the options
        threshold = _calibrated_threshold(
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


class CUSUM(_Detector):
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
        _check_int("min_instances", min_instances, 2)
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
        ref, mean, sigma = _check_reference(reference)
        check_in_range("k", k, low=0.0)
        if method == "siegmund":
            h = _siegmund_h(_check_int("run_length", run_length, 10), k)
        elif method == "bootstrap":
            h = _calibrated_threshold(
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


def detect(series: npt.ArrayLike, detector: ChangeDetector) -> BoolArray:
    """Feed a whole series to a detector; True where a change was detected.

    The detector goes on from its current state and keeps the state at the end, so a long
    series can be fed in pieces. The series is checked before the first update.

    Parameters
    ----------
    series
        1-D finite values, oldest first (e.g. per-window error rates).
    detector
        Any object with ``update(x) -> bool``.

    Returns
    -------
    Boolean array of the series' length.

    Examples
    --------
    >>> detect([0.0, 0.1, 5.0, 5.1], CUSUM(target=0.0, sigma=1.0, h=2.0))  # the target stays
    array([False, False,  True,  True])
    """
    values = _check_series(series, "series")
    return np.fromiter((detector.update(x) for x in values.tolist()), bool, values.size)


__all__ = ["ADWIN", "CUSUM", "ChangeDetector", "PageHinkley", "cusum_arl", "detect"]
