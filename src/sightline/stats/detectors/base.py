"""What the detectors share: input checks, the reset-after-detection protocol, the
calibration of a threshold to a run length between false alarms, and :func:`detect`."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar, Final, Literal, Protocol

import numpy as np
import numpy.typing as npt

from sightline._types import BoolArray, FloatArray
from sightline._validate import as_float_array, check_int
from sightline.errors import InvalidInputError

Mode = Literal["up", "down", "both"]
MODES: Final = ("up", "down", "both")
HORIZON: Final = 3  # simulated streams are this many run lengths long
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


def check_value(x: float) -> float:
    if isinstance(x, str | bytes):
        raise InvalidInputError(f"x must be a finite number, got {x!r}", field="x")
    try:
        value = float(x)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"x must be a finite number, got {x!r}", field="x") from exc
    if not math.isfinite(value):
        raise InvalidInputError(f"x must be a finite number, got {value!r}", field="x")
    return value


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise InvalidInputError(f"mode must be one of {MODES}, got {mode!r}", field="mode")


def check_series(x: npt.ArrayLike, name: str) -> FloatArray:
    arr = as_float_array(x, name)
    if arr.ndim != 1:
        raise InvalidInputError(f"{name} must be 1-D, got {arr.ndim} dimensions", field=name)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise InvalidInputError(
            f"{name} must be finite, got {arr[bad[0]]} at index {bad[0]}", field=name
        )
    return arr


def check_reference(reference: npt.ArrayLike) -> tuple[FloatArray, float, float]:
    """The reference as a 1-D array, its mean and its standard deviation (ddof 1)."""
    ref = check_series(reference, "reference")
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


class Detector(ABC):
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
        value = check_value(x)
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


def calibrated_threshold(
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
    run_length = check_int("run_length", run_length, 10)
    n_streams = check_int("n_streams", n_streams, 10)
    horizon = HORIZON * run_length
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
    >>> from sightline.stats.detectors import CUSUM
    >>> detect([0.0, 0.1, 5.0, 5.1], CUSUM(target=0.0, sigma=1.0, h=2.0))  # the target stays
    array([False, False,  True,  True])
    """
    values = check_series(series, "series")
    return np.fromiter((detector.update(x) for x in values.tolist()), bool, values.size)
