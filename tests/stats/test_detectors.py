"""Streaming detectors: river's test vectors, calibrated false-alarm rates, detection delays.

River itself is not a dependency; the detections it gives on the METHODS.md T13 streams are
the oracle here, and benchmarks/detectors.py compares both on random streams.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable

import numpy as np
import pytest

from sightline.errors import InvalidInputError
from sightline.stats.detectors import ADWIN, CUSUM, PageHinkley, cusum_arl, detect
from sightline.stats.detectors.adwin import _adwin_layout, _adwin_levels
from sightline.stats.detectors.cusum import _cusum_levels
from sightline.stats.detectors.page_hinkley import _page_hinkley_levels

Detector = ADWIN | PageHinkley | CUSUM

STEP = [0.0] * 1000 + [1.0] * 1000
S2 = [(i % 10) / 10 for i in range(1000)] + [0.5 + (i % 10) / 10 for i in range(1000)]
_rng = random.Random(12345)  # river's docstring stream
RIVER_DOC = _rng.choices([0, 1], k=1000) + _rng.choices(range(4, 8), k=1000)


@pytest.fixture(scope="module")
def calibrated() -> dict[str, Detector]:
    """The three detectors calibrated with the defaults on 10,000 stable N(0, 1) values."""
    reference = np.random.default_rng(1).normal(size=10_000)
    return {
        "ADWIN": ADWIN.calibrate(reference),
        "PageHinkley": PageHinkley.calibrate(reference),
        "CUSUM": CUSUM.calibrate(reference),
    }


# --- river's detections (METHODS.md T13, river 0.26.1) -----------------------------------


@pytest.mark.parametrize(
    ("make", "stream", "expected"),
    [
        (ADWIN, STEP, [1023]),
        (ADWIN, S2, [1055]),
        (ADWIN, RIVER_DOC, [1023]),
        (PageHinkley, [0.0] * 500 + [1.0] * 500, [553]),
        (PageHinkley, S2, [1106]),
        (PageHinkley, RIVER_DOC, [1006]),
    ],
)
def test_detections_match_river(
    make: Callable[[], Detector], stream: list[float], expected: list[int]
) -> None:
    assert np.flatnonzero(detect(stream, make())).tolist() == expected


def test_adwin_window_at_and_after_detection_matches_river() -> None:
    adwin = ADWIN()
    widths = {}
    for i, x in enumerate(STEP[:1025]):
        adwin.update(x)
        widths[i] = adwin.width
    assert (widths[1022], widths[1023], widths[1024]) == (1023, 56, 1)
    assert adwin.n == 1
    assert adwin.estimation == 1.0


# --- calibrated defaults: false alarms and detection delay --------------------------------


@pytest.mark.parametrize("name", ["ADWIN", "PageHinkley", "CUSUM"])
def test_calibrated_false_alarms_on_100k_stable_values(
    calibrated: dict[str, Detector], name: str
) -> None:
    detector = copy.deepcopy(calibrated[name])
    alarms = int(detect(np.random.default_rng(11).normal(size=100_000), detector).sum())
    # Calibrated to at most 1 per 10,000 on average: 10 expected at most; P(Poisson(10) > 20)
    # is 0.2 %. River's PageHinkley defaults give 64 on this kind of stream.
    assert alarms <= 20


@pytest.mark.parametrize(
    ("name", "median_bound"), [("ADWIN", 40), ("PageHinkley", 30), ("CUSUM", 25)]
)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_calibrated_detect_one_sd_shift_within_bounded_delay(
    calibrated: dict[str, Detector], name: str, median_bound: int, sign: float
) -> None:
    delays = []
    for seed in range(10):
        x = np.random.default_rng(100 + seed).normal(size=1300)
        x[1000:] += sign
        hits = np.flatnonzero(detect(x, copy.deepcopy(calibrated[name])))
        after = hits[hits >= 1000]
        assert after.size, f"seed {seed}: no detection in 300 values after the shift"
        delays.append(int(after[0]) - 1000)
    assert np.median(delays) <= median_bound
    assert max(delays) <= 150


def test_adwin_detects_abrupt_drift_in_error_rate() -> None:
    rng = np.random.default_rng(3)
    errors = np.concatenate([rng.random(5000) < 0.1, rng.random(2000) < 0.3]).astype(float)
    hits = np.flatnonzero(detect(errors, ADWIN()))
    assert hits[hits < 5000].size == 0
    assert 5000 <= hits[0] < 5200


def test_page_hinkley_mode_selects_the_direction() -> None:
    x = np.random.default_rng(4).normal(size=600)
    x[300:] += 2.0
    assert detect(x, PageHinkley(threshold=10.0, mode="up")).any()
    assert detect(x, PageHinkley(threshold=10.0, mode="both")).any()
    assert not detect(x, PageHinkley(threshold=10.0, mode="down")).any()


# --- calibration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("h", "shift", "table"),
    [(4.0, 0.0, 168.0), (4.0, 1.0, 8.38), (5.0, 0.0, 465.0), (5.0, 1.0, 10.4)],
)
def test_cusum_arl_matches_published_table(h: float, shift: float, table: float) -> None:
    # Montgomery, Introduction to Statistical Quality Control, Table 9.3 (k = 0.5).
    assert cusum_arl(h, 0.5, shift) == pytest.approx(table, rel=0.015)


def test_siegmund_calibration_solves_the_arl_equation() -> None:
    reference = np.random.default_rng(2).normal(loc=3.0, scale=2.0, size=500)
    cusum = CUSUM.calibrate(reference, run_length=10_000, method="siegmund")
    assert cusum_arl(cusum.h, 0.5) == pytest.approx(10_000, rel=1e-9)
    assert cusum.target == pytest.approx(float(reference.mean()))
    assert cusum.sigma == pytest.approx(float(reference.std(ddof=1)))


def test_bootstrap_calibration_agrees_with_siegmund_on_normal_values(
    calibrated: dict[str, Detector],
) -> None:
    cusum = calibrated["CUSUM"]
    assert isinstance(cusum, CUSUM)
    # A little above: the simulated rule keeps a margin for its own Monte Carlo error.
    assert 10_000 <= cusum_arl(cusum.h, 0.5) <= 16_000


def test_bootstrap_calibration_handles_skewed_values() -> None:
    reference = np.random.default_rng(3).lognormal(size=5000)
    stream = np.random.default_rng(4).lognormal(size=50_000)
    bootstrap = CUSUM.calibrate(reference, run_length=2000, n_streams=100)
    normal_theory = CUSUM.calibrate(reference, run_length=2000, method="siegmund")
    assert int(detect(stream, bootstrap).sum()) <= 50  # 25 allowed on average
    assert int(detect(stream, normal_theory).sum()) > 100


def test_calibration_is_seeded() -> None:
    reference = np.random.default_rng(5).normal(size=300)
    a = PageHinkley.calibrate(reference, run_length=500, n_streams=20, seed=1)
    b = PageHinkley.calibrate(reference, run_length=500, n_streams=20, seed=1)
    c = PageHinkley.calibrate(reference, run_length=500, n_streams=20, seed=2)
    assert a.threshold == b.threshold != c.threshold


def test_page_hinkley_and_cusum_levels_match_the_scalar_recursions() -> None:
    x = np.random.default_rng(6).normal(size=400)
    x[200:] += 0.7
    for alpha in (1.0, 0.99):
        ph = PageHinkley(min_instances=30, delta=0.2, threshold=1e9, alpha=alpha)
        scalar = [(ph.update(v), ph.statistic)[1] for v in x]
        levels = _page_hinkley_levels(x[:, None], 30, 0.2, alpha, "both")[:, 0]
        assert np.isneginf(levels[:29]).all()
        np.testing.assert_allclose(levels[29:], scalar[29:], rtol=1e-9, atol=1e-9)
    cusum = CUSUM(target=0.0, sigma=1.0, h=1e9)
    scalar = [(cusum.update(v), cusum.statistic)[1] for v in x]
    np.testing.assert_allclose(_cusum_levels(x[:, None], 0.5)[:, 0], scalar, atol=1e-9)


def test_adwin_levels_predict_the_first_detection_of_every_delta() -> None:
    x = np.random.default_rng(7).normal(size=3000)
    x[1500:] += 0.3
    levels = _adwin_levels(x[:, None], _adwin_layout(x.size, 32, 5, 5, 10), 5)[:, 0]
    finite = levels[np.isfinite(levels)]
    for theta in np.quantile(finite, [0.5, 0.9, 0.99]):
        predicted = int(np.argmax(levels > theta))
        got = np.flatnonzero(detect(x, ADWIN(delta=math.exp(-theta))))
        assert got[0] == predicted


# --- state: reset, detect, repr, copies ----------------------------------------------------


# reset, detect = a loop of update (also in pieces), pickling and copying, and the refusal of
# non-finite values: every detector passes tests/contracts/test_detector.py.


def test_cusum_estimates_missing_target_and_sigma_on_warm_up() -> None:
    x = np.random.default_rng(10).normal(loc=5.0, scale=2.0, size=200)
    cusum = CUSUM(sigma=2.0, min_instances=40)
    assert not detect(x[:39], cusum).any()
    assert cusum.target_ is None
    cusum.update(x[39])
    assert cusum.target_ == pytest.approx(float(x[:40].mean()))
    assert cusum.sigma_ == 2.0
    cusum.reset()
    assert (cusum.target_, cusum.sigma_) == (None, 2.0)


def test_cusum_with_zero_estimated_sigma_flags_any_deviation() -> None:
    cusum = CUSUM(min_instances=5)
    assert detect([1.0] * 8 + [1.001], cusum).tolist() == [False] * 8 + [True]
    assert cusum.statistic == math.inf


def test_repr_names_the_parameters() -> None:
    assert repr(ADWIN()) == (
        "ADWIN(delta=0.002, clock=32, max_buckets=5, min_window_length=5, grace_period=10)"
    )
    assert repr(CUSUM(k=1.0)) == "CUSUM(target=None, sigma=None, k=1.0, h=5.0, min_instances=30)"


def test_detect_checks_the_whole_series_first() -> None:
    detector = ADWIN()
    with pytest.raises(InvalidInputError, match=r"series must be finite, got nan at index 2"):
        detect([1.0, 2.0, math.nan, 3.0], detector)
    assert detector.n == 0
    with pytest.raises(InvalidInputError, match=r"series must be 1-D, got 2 dimensions"):
        detect(np.zeros((3, 2)), detector)


@pytest.mark.parametrize("calibrate", [ADWIN.calibrate, PageHinkley.calibrate, CUSUM.calibrate])
@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ([1.0, math.inf, 2.0], r"reference must be finite, got inf at index 1"),
        ([3.0] * 50, r"reference is constant \(3.0\)"),
        ([1.0], r"reference must hold at least 2 values, got 1"),
        ([[1.0, 2.0], [3.0, 4.0]], r"reference must be 1-D"),
    ],
)
def test_calibrate_rejects_bad_references(
    calibrate: Callable[..., Detector], reference: list[float], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as info:
        calibrate(reference)
    assert info.value.field == "reference"


@pytest.mark.parametrize(
    ("make", "field", "message"),
    [
        (lambda: ADWIN(delta=0.0), "delta", r"delta must be a finite number in \(0.0, 1.0\)"),
        (lambda: ADWIN(delta=1.0), "delta", r"got 1.0"),
        (lambda: ADWIN(clock=0), "clock", r"clock must be an integer >= 1, got 0"),
        (lambda: ADWIN(clock=1.5), "clock", r"got 1.5"),
        (lambda: ADWIN(max_buckets=True), "max_buckets", r"got True"),
        (lambda: ADWIN(min_window_length=0), "min_window_length", r">= 1"),
        (lambda: ADWIN(grace_period=-1), "grace_period", r">= 0"),
        (lambda: PageHinkley(threshold=0.0), "threshold", r"threshold must be"),
        (lambda: PageHinkley(alpha=1.5), "alpha", r"alpha must be"),
        (lambda: PageHinkley(delta=-0.1), "delta", r"delta must be"),
        (lambda: PageHinkley(mode="sideways"), "mode", r"mode must be one of"),
        (lambda: PageHinkley(min_instances=0), "min_instances", r">= 1"),
        (lambda: CUSUM(sigma=0.0), "sigma", r"sigma must be"),
        (lambda: CUSUM(target=math.nan), "target", r"target must be a finite number"),
        (lambda: CUSUM(k=-1.0), "k", r"k must be"),
        (lambda: CUSUM(h=0.0), "h", r"h must be"),
        (lambda: CUSUM(min_instances=1), "min_instances", r">= 2"),
        (lambda: CUSUM.calibrate([1.0, 2.0], method="exact"), "method", r"'bootstrap' or"),
        (lambda: CUSUM.calibrate([1.0, 2.0], run_length=5), "run_length", r">= 10, got 5"),
        (lambda: ADWIN.calibrate([1.0, 2.0], clock=0), "clock", r">= 1"),
        (lambda: PageHinkley.calibrate([1.0, 2.0], n_streams=1), "n_streams", r">= 10"),
        (lambda: PageHinkley.calibrate([1.0, 2.0], k=-0.5), "k", r"k must be"),
    ],
)
def test_bad_parameters_raise_naming_the_field(
    make: Callable[[], object], field: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as info:
        make()
    assert info.value.field == field
