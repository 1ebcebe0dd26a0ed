"""One contract for every change detector of ``sightline.stats.detectors`` (river's
``check_estimator`` style): :func:`check_detector` runs on each, built with its defaults,
with given parameters and calibrated, on random streams (hypothesis).

The contract: ``detect`` equals a loop of ``update`` and may be fed in pieces; a detection
is reported once and the detector starts over at the next value; ``reset`` returns to the
state of a new detector; pickling and copying keep parameters and state; the same stream
gives the same detections; a value that is not a finite number is refused, naming ``x``,
before anything changes; ``calibrate`` returns a detector of the same class.
"""

from __future__ import annotations

import copy
import inspect
import math
import pickle
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sightline.errors import InvalidInputError
from sightline.stats import detectors
from sightline.stats.detectors import ADWIN, CUSUM, PageHinkley, detect
from sightline.stats.detectors.base import Detector

REFERENCE = np.random.default_rng(1).normal(size=2_000)
MAKERS: dict[str, Callable[[], Detector]] = {
    "ADWIN": ADWIN,
    "ADWIN(delta=0.1)": lambda: ADWIN(delta=0.1),
    "ADWIN.calibrate": lambda: ADWIN.calibrate(REFERENCE, run_length=2000),
    "PageHinkley": PageHinkley,
    "PageHinkley(threshold=5)": lambda: PageHinkley(threshold=5.0),
    "PageHinkley.calibrate": lambda: PageHinkley.calibrate(REFERENCE, run_length=200),
    "CUSUM": CUSUM,
    "CUSUM(target=0, sigma=1)": lambda: CUSUM(target=0.0, sigma=1.0),
    "CUSUM.calibrate": lambda: CUSUM.calibrate(REFERENCE, run_length=200),
}
_BUILT: dict[str, Detector] = {}


def make(name: str) -> Detector:
    """A fresh detector (a calibration is run once, then copied)."""
    if name not in _BUILT:
        _BUILT[name] = MAKERS[name]()
    return copy.deepcopy(_BUILT[name])


def check_detector(name: str, stream: np.ndarray, cut: int) -> None:
    """Every property of the contract, for one detector on one stream."""
    fresh = make(name)
    whole = detect(stream, make(name))
    loop = make(name)
    np.testing.assert_array_equal(whole, [loop.update(float(v)) for v in stream])
    pieces = make(name)
    np.testing.assert_array_equal(
        whole, np.concatenate([detect(stream[:cut], pieces), detect(stream[cut:], pieces)])
    )
    assert pieces.n == loop.n and pieces.drift_detected == loop.drift_detected == bool(
        whole[-1:].any()
    )
    # Detections come once, then the detector starts over.
    for i in np.flatnonzero(whole):
        replay = make(name)
        detect(stream[: i + 1], replay)
        assert replay.drift_detected
        replay.update(float(stream[i]))
        assert replay.n == 1
    # Pickling and copying keep parameters and state.
    half = make(name)
    detect(stream[:cut], half)
    for clone in (pickle.loads(pickle.dumps(half)), copy.deepcopy(half)):
        assert repr(clone) == repr(half) and clone.n == half.n
        np.testing.assert_array_equal(detect(stream[cut:], clone), whole[cut:])
    # reset: the state of a new detector.
    half.reset()
    assert (half.n, half.drift_detected, repr(half)) == (0, False, repr(fresh))
    np.testing.assert_array_equal(detect(stream, half), whole)
    # Bad values change nothing.
    for bad in (math.nan, math.inf, -math.inf, "1.0", None):
        before = pickle.dumps(loop)
        with pytest.raises(InvalidInputError, match="x must be a finite number, got") as info:
            loop.update(bad)  # type: ignore[arg-type]
        assert info.value.field == "x" and pickle.dumps(loop) == before


# A stable stretch, then maybe a shift: streams with and without detections.
streams = st.builds(
    lambda n, shift, seed: _stream(n, shift, seed),
    st.integers(1, 600),
    st.sampled_from([0.0, 0.0, 1.0, -3.0, 10.0]),
    st.integers(0, 2**16),
)


def _stream(n: int, shift: float, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=n)
    x[n // 2 :] += shift
    return x


@pytest.mark.parametrize("name", sorted(MAKERS))
@settings(max_examples=25, deadline=None)
@given(stream=streams, at=st.floats(0, 1))
def test_check_detector(name: str, stream: np.ndarray, at: float) -> None:
    check_detector(name, stream, round(at * stream.size))


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_check_detector_on_a_stream_with_detections(name: str) -> None:
    stream = _stream(3000, 4.0, 5)
    assert detect(stream, make(name)).any()
    check_detector(name, stream, 1234)


def test_every_detector_is_under_contract() -> None:
    classes = {
        value
        for value in vars(detectors).values()
        if inspect.isclass(value) and issubclass(value, Detector)
    }
    assert classes == {type(make(name)) for name in MAKERS}
    for cls in classes:
        assert type(cls.calibrate(REFERENCE, run_length=2000)) is cls  # type: ignore[attr-defined]
