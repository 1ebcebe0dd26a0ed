"""CBPE and DLE: isotonic calibration against scikit-learn, estimates against realized metrics.

Oracles: scikit-learn's ``IsotonicRegression`` and metrics, exact enumeration of every label
outcome for the expected ROC AUC, METHODS.md T10 (NannyML's CBPE on P), and data drawn
with known probabilities: perfectly calibrated, covariate shift (P(y|x) fixed: the
estimates must track the realized metrics) and concept shift (P(y|x) moves: the estimates
must miss it, which is the method's documented blind spot).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.isotonic import IsotonicRegression
from sklearn.neighbors import KNeighborsRegressor

from sightline.errors import InvalidInputError, NotFittedError
from sightline.stats import performance as perf
from sightline.stats.estimation import (
    BINARY_METRICS,
    CBPE,
    DLE,
    MULTICLASS_METRICS,
    Estimate,
    NearestNeighborsMean,
    cbpe_binary,
    cbpe_multiclass,
    dle_regression,
    expected_roc_auc,
    isotonic_fit,
)

# METHODS.md T10/T11
Y_TRUE = [0, 0, 1, 1, 0, 1, 0, 1]
P = [0.1, 0.4, 0.35, 0.8, 0.2, 0.7, 0.6, 0.9]
Y_PRED = [int(p >= 0.5) for p in P]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def _realized_binary(y: np.ndarray, pred: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """Realized metrics by scikit-learn, keyed as the estimates."""
    tn = np.sum(~y & ~pred)
    return {
        "accuracy": skm.accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred, zero_division=np.nan),
        "recall": skm.recall_score(y, pred, zero_division=np.nan),
        "specificity": tn / np.sum(~y),
        "f1": skm.f1_score(y, pred, zero_division=np.nan),
        "roc_auc": skm.roc_auc_score(y, score),
    }


# ------------------------------------------------------------------ isotonic calibration


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", ["binary", "continuous", "ties"])
def test_isotonic_matches_sklearn(seed: int, kind: str) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 3_000))
    x = rng.uniform(-2.0, 2.0, size=n)
    if kind == "ties":
        x = np.round(x, 1)
    y = (rng.uniform(size=n) < _sigmoid(2 * x)).astype(float)
    if kind == "continuous":
        y = x + rng.normal(size=n) * 2.0
    query = np.r_[x, rng.uniform(-3.0, 3.0, size=500)]  # in range, between and outside
    want = IsotonicRegression(out_of_bounds="clip").fit(x, y)
    got = isotonic_fit(x, y)
    np.testing.assert_allclose(got(query), want.predict(query), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(got.x_thresholds, want.X_thresholds_)
    np.testing.assert_allclose(got.y_thresholds, want.y_thresholds_, rtol=0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(st.integers(-20, 20), st.floats(-1e3, 1e3, allow_nan=False)),
        min_size=1,
        max_size=40,
    )
)
def test_isotonic_matches_sklearn_on_generated_data(pairs: list[tuple[int, float]]) -> None:
    x = np.array([p[0] for p in pairs], dtype=float)
    y = np.array([p[1] for p in pairs])
    query = np.arange(-25.0, 25.5, 0.5)
    want = IsotonicRegression(out_of_bounds="clip").fit(x, y).predict(query)
    got = isotonic_fit(x, y)(query)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
    assert np.all(np.diff(got) >= -1e-12)


def test_isotonic_single_point_and_constant() -> None:
    assert isotonic_fit([0.3], [1.0])([0.0, 5.0]).tolist() == [1.0, 1.0]
    cal = isotonic_fit([1, 2, 3], [5.0, 4.0, 3.0])  # all pooled
    assert cal([0, 2, 9]).tolist() == [4.0, 4.0, 4.0]


# --------------------------------------------------------------------- CBPE kernels


def test_cbpe_binary_matches_methods_t10() -> None:
    got = cbpe_binary(P, Y_PRED)
    assert got["f1"] == pytest.approx(0.7453416149, rel=1e-9)
    assert got["precision"] == pytest.approx(0.75, rel=1e-9)
    assert got["recall"] == pytest.approx(0.7407407407, rel=1e-9)
    assert got["specificity"] == pytest.approx(0.746835443, rel=1e-9)
    assert got["accuracy"] == pytest.approx(0.74375, rel=1e-9)
    assert list(got) == list(BINARY_METRICS)


def test_expected_auc_is_nannyml_without_the_self_pairs() -> None:
    # NannyML's 0.8078606032 = A / (P N); ours = (A - Q/2) / (P N - Q), Q = sum p (1 - p)
    p = np.array(P)
    q = float(np.sum(p * (1 - p)))
    pn = p.sum() * (1 - p).sum()
    ours = expected_roc_auc(p, p)
    assert (ours * (pn - q) + q / 2) / pn == pytest.approx(0.8078606032, rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_expected_auc_is_a_ratio_of_exact_expectations(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 7
    p = rng.uniform(size=n)
    score = np.round(rng.uniform(size=n), 1)  # with ties
    num = pairs = 0.0
    for outcome in itertools.product([False, True], repeat=n):
        y = np.array(outcome)
        weight = float(np.prod(np.where(y, p, 1 - p)))
        n_pos, n_neg = int(y.sum()), int((~y).sum())
        if n_pos and n_neg:
            num += weight * skm.roc_auc_score(y, score) * n_pos * n_neg
        pairs += weight * n_pos * n_neg
    assert expected_roc_auc(p, score) == pytest.approx(num / pairs, rel=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_certain_probabilities_give_the_realized_metrics(seed: int) -> None:
    # p in {0, 1} is the label itself: the expected confusion matrix is the realized one
    rng = np.random.default_rng(seed)
    y = rng.uniform(size=300) < 0.4
    score = np.round(rng.uniform(size=300) + 0.3 * y, 2)  # ties included
    pred = score > 0.6
    got = cbpe_binary(y.astype(float), pred, y_score=score)
    want = _realized_binary(y, pred, score)
    for name in BINARY_METRICS:
        assert got[name] == pytest.approx(want[name], rel=1e-12), name


def test_certain_probabilities_give_the_realized_multiclass_metrics() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, size=400)
    score = rng.dirichlet([1, 1, 1], size=400) + 0.5 * np.eye(3)[y]
    pred = np.argmax(score + rng.normal(scale=0.3, size=score.shape), axis=1)
    got = cbpe_multiclass(np.eye(3)[y], pred, y_score=score)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), rel=1e-12)
    assert got["f1_macro"] == pytest.approx(skm.f1_score(y, pred, average="macro"), rel=1e-12)
    assert got["precision_macro"] == pytest.approx(
        skm.precision_score(y, pred, average="macro"), rel=1e-12
    )
    assert got["recall_macro"] == pytest.approx(
        skm.recall_score(y, pred, average="macro"), rel=1e-12
    )
    want_auc = skm.roc_auc_score(y, score / score.sum(axis=1, keepdims=True), multi_class="ovr")
    assert got["roc_auc"] == pytest.approx(perf.roc_auc_ovr(y, score, [0, 1, 2]), rel=1e-12)
    assert got["roc_auc"] == pytest.approx(want_auc, rel=1e-12)
    assert list(got) == list(MULTICLASS_METRICS)


def test_empty_window_and_degenerate_cases() -> None:
    assert all(math.isnan(v) for v in cbpe_binary([], []).values())
    assert all(math.isnan(v) for v in cbpe_multiclass(np.zeros((0, 3)), []).values())
    none_predicted = cbpe_binary([0.2, 0.4], [0, 0])
    assert math.isnan(none_predicted["precision"])
    assert none_predicted["recall"] == 0.0
    assert math.isnan(expected_roc_auc([1.0, 1.0], [0.1, 0.2]))
    assert math.isnan(expected_roc_auc([0.5], [0.1]))


# --------------------------------------------------------------- CBPE vs realized


def _calibrated_binary(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Probabilities p, labels drawn as Bernoulli(p), a miscalibrated score with p's order."""
    p = rng.beta(0.6, 0.6, size=n)
    y = rng.uniform(size=n) < p
    score = p**2  # same ranking, needs calibration
    return y, score >= 0.25, score


def test_binary_estimates_match_realized_within_the_sampling_error() -> None:
    rng = np.random.default_rng(11)
    y, pred, score = _calibrated_binary(rng, 20_000)
    est = CBPE().fit(y, pred, score)
    n_chunks, size = 200, 1_000
    y, pred, score = _calibrated_binary(rng, n_chunks * size)
    z: dict[str, list[float]] = {name: [] for name in BINARY_METRICS}
    realized: dict[str, list[float]] = {name: [] for name in BINARY_METRICS}
    for i in range(n_chunks):
        c = slice(i * size, (i + 1) * size)
        got = est.estimate(pred[c], score[c])
        real = _realized_binary(y[c], pred[c], score[c])
        for name, e in got.items():
            z[name].append((real[name] - e.value) / e.standard_error)
            realized[name].append(real[name])
    se, se_ref = est.standard_errors(size), est.standard_errors(20_000)
    for name, values in z.items():
        zs = np.array(values)
        assert np.mean(np.abs(zs) <= 3) >= 0.97, name  # the band holds the realized value
        # the calibration's own error (about the SE of a reference-sized window) is the
        # same offset in every window; beyond it, no bias
        bias = abs(np.mean(zs)) * se[name]
        assert bias <= 3 * se_ref[name] + 4 * se[name] / math.sqrt(n_chunks), name
        # the standard error is that of the realized metric from chunk to chunk; the
        # estimate follows each chunk's scores, so it misses the realized value by less
        assert 0.8 <= np.std(realized[name]) / se[name] <= 1.25, name
        assert np.std(zs) <= 1.1, name


def test_multiclass_estimates_match_realized_within_the_sampling_error() -> None:
    # The scores are the true class probabilities. (With miscalibrated scores, e.g. a
    # softmax at temperature 2, one-vs-rest calibration leaves a bias of about 0.8 SE in
    # accuracy and macro F1 at 2,000 rows: docs/estimation.md.)
    rng = np.random.default_rng(5)
    weights = np.array([[2.0, -1.0], [-1.0, 1.5], [0.0, -1.0]])

    def draw(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        logits = rng.normal(size=(n, 2)) @ weights.T
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        y = (rng.uniform(size=(n, 1)) > np.cumsum(p, axis=1)).sum(axis=1)
        return np.array(["a", "b", "c"])[y], np.array(["a", "b", "c"])[p.argmax(1)], p

    y, pred, score = draw(30_000)
    est = CBPE().fit(y, pred, score, classes=["a", "b", "c"])
    se_ref = est.standard_errors(30_000)
    z: dict[str, list[float]] = {"accuracy": [], "f1_macro": [], "roc_auc": []}
    realized: dict[str, list[float]] = {name: [] for name in z}
    for _ in range(60):
        yc, pc, sc = draw(2_000)
        got = est.estimate(pc, sc)
        real = {
            "accuracy": perf.accuracy(yc, pc),
            "f1_macro": perf.f1(yc, pc, average="macro"),
            "roc_auc": perf.roc_auc_ovr(yc, sc, ["a", "b", "c"]),
        }
        for name in z:
            z[name].append((real[name] - got[name].value) / got[name].standard_error)
            realized[name].append(real[name])
    se = est.standard_errors(2_000)
    for name, values in z.items():
        zs = np.array(values)
        assert np.mean(np.abs(zs) <= 3) >= 0.95, name
        # the classes' metrics are correlated; the macro SE counts it
        assert 0.75 <= np.std(realized[name]) / se[name] <= 1.3, name
        bias = abs(np.mean(zs)) * se[name]
        assert bias <= 3 * se_ref[name] + 4 * se[name] / math.sqrt(len(zs)), name
        assert np.std(zs) <= 1.25, name


def test_standard_errors_match_methods_t10() -> None:
    est = CBPE(calibrate=False).fit(Y_TRUE, Y_PRED, P)
    se = est.standard_errors(100)
    assert se["accuracy"] == pytest.approx(0.04330127019, rel=1e-9)
    # NannyML's F1 SE (0.0775) is larger by 1 + r, r = TP / (TP + FP + FN) = 3 / 5
    assert se["f1"] == pytest.approx(0.07745966692 / 1.6, rel=1e-9)
    got = est.estimate(Y_PRED, P)
    assert got["accuracy"].value == pytest.approx(0.74375, rel=1e-12)
    assert got["f1"].standard_error == pytest.approx(se["f1"] * math.sqrt(100 / 8))


def test_auc_standard_error_is_delongs() -> None:
    rng = np.random.default_rng(6)
    y = rng.uniform(size=400) < 0.3
    raw = np.round(rng.normal(size=400) + y, 1)  # ties included
    score = (raw - raw.min()) / np.ptp(raw)
    pred = score > 0.5
    pos, neg = score[y], score[~y]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    delong = np.var(v10) / pos.size + np.var(v01) / neg.size
    se = CBPE(calibrate=False).fit(y, pred, score).standard_errors(400)
    assert se["roc_auc"] == pytest.approx(math.sqrt(delong), rel=1e-12)
    assert se["accuracy"] == pytest.approx(np.std(y == pred) / 20, rel=1e-12)


def _shift_data(
    rng: np.random.Generator,
    n: int,
    *,
    mean: float = 0.0,
    scale: float = 1.0,
    slope: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x ~ N(mean, scale); P(y=1 | x) = sigmoid(slope (2x - 1)); score = sigmoid(3x - 1.5)."""
    x = rng.normal(mean, scale, size=n)
    y = rng.uniform(size=n) < _sigmoid(slope * (2 * x - 1))
    score = _sigmoid(3 * x - 1.5)
    return y, score >= 0.5, score


def test_covariate_shift_is_tracked() -> None:
    rng = np.random.default_rng(21)
    est = CBPE().fit(*_shift_data(rng, 20_000))
    rows = []
    for mean, scale in [(0.0, 1.0), (-0.5, 0.6), (0.5, 0.4), (1.0, 1.5), (0.5, 0.8), (0.0, 2.0)]:
        y, pred, score = _shift_data(rng, 5_000, mean=mean, scale=scale)
        got = est.estimate(pred, score)
        real = _realized_binary(y, pred, score)
        rows.append([(real[m], got[m]) for m in ("accuracy", "f1", "roc_auc")])
    for j, name in enumerate(("accuracy", "f1", "roc_auc")):
        realized = np.array([r[j][0] for r in rows])
        value = np.array([r[j][1].value for r in rows])
        se = np.array([r[j][1].standard_error for r in rows])
        assert np.ptp(realized) > 10 * se.max(), name  # the shift moves the metric a lot
        assert np.all(np.abs(realized - value) <= 3 * se), name  # and the estimate follows
        assert np.corrcoef(realized, value)[0, 1] > 0.95, name


def _overconfident(rng: np.random.Generator, n: int, a: float) -> tuple[np.ndarray, ...]:
    """Scores beta(a, 1) of a model that over-trusts them: P(y = 1) = score ** 1.5."""
    score = np.clip(rng.beta(a, 1.0, n), 1e-6, 1 - 1e-6)
    return rng.uniform(size=n) < score**1.5, score >= 0.5, score


def test_accuracy_and_precision_errors_come_from_the_windows_own_probabilities() -> None:
    rng = np.random.default_rng(31)
    est = CBPE().fit(*_overconfident(rng, 20_000, a=1.0))
    _, pred, score = _overconfident(rng, 2_000, a=3.0)
    got = est.estimate(pred, score)
    p = est.calibrated(score)
    c = np.where(pred, p, 1 - p)
    assert got["accuracy"].standard_error == pytest.approx(
        math.sqrt(np.sum(c * (1 - c))) / c.size, rel=1e-12
    )
    positive = p[pred]
    assert got["precision"].standard_error == pytest.approx(
        math.sqrt(np.sum(positive * (1 - positive))) / positive.size, rel=1e-12
    )
    # The reference's error would be another (it describes windows drawn like it).
    assert got["accuracy"].standard_error != pytest.approx(est.standard_errors(2_000)["accuracy"])


def test_the_accuracy_band_holds_under_covariate_shift() -> None:
    """beta(3, 1) windows against a uniform reference: the realized accuracy's distance
    from the estimate, in standard errors, has spread 1 and stays inside the band."""
    rng = np.random.default_rng(32)
    est = CBPE().fit(*_overconfident(rng, 50_000, a=1.0))
    z = []
    for _ in range(300):
        y, pred, score = _overconfident(rng, 500, a=3.0)
        got = est.estimate(pred, score)["accuracy"]
        z.append((skm.accuracy_score(y, pred) - got.value) / got.standard_error)
    spread = float(np.std(z))
    assert 0.88 <= spread <= 1.12
    assert np.mean(np.abs(z) <= 3) >= 0.99


def test_concept_shift_is_not_seen() -> None:
    rng = np.random.default_rng(22)
    est = CBPE().fit(*_shift_data(rng, 20_000))
    _, pred0, score0 = _shift_data(rng, 5_000)
    before = est.estimate(pred0, score0)
    y, pred, score = _shift_data(rng, 5_000, slope=0.3)  # same x, a weaker link to y
    after = est.estimate(pred, score)
    real = _realized_binary(y, pred, score)
    for name in BINARY_METRICS:
        e = after[name]
        # the inputs did not move, so neither did the estimate ...
        assert abs(e.value - before[name].value) <= 3 * e.standard_error, name
        # ... while the realized metric left the band: CBPE cannot see concept shift
        assert not (e.lower <= real[name] <= e.upper), name
        assert real[name] < e.value - 5 * e.standard_error, name


def test_estimate_returns_clipped_bands() -> None:
    est = CBPE(band=50.0).fit(Y_TRUE, Y_PRED, P)
    for e in est.estimate(Y_PRED, P).values():
        assert isinstance(e, Estimate)
        assert 0.0 <= e.lower <= e.value <= e.upper <= 1.0
    empty = est.estimate([], [])
    assert all(math.isnan(e.value) and math.isnan(e.standard_error) for e in empty.values())


def test_string_labels_and_pos_label() -> None:
    labels = np.where(np.array(Y_TRUE) == 1, "yes", "no")
    pred = np.where(np.array(Y_PRED) == 1, "yes", "no")
    got = CBPE(calibrate=False, pos_label="yes").fit(labels, pred, P).estimate(pred, P)
    want = CBPE(calibrate=False).fit(Y_TRUE, Y_PRED, P).estimate(Y_PRED, P)
    assert got == want


def test_calibration_is_renormalized_for_multiclass() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, size=3_000)
    score = rng.dirichlet([1, 1, 1], size=3_000) + 0.3 * np.eye(3)[y]
    score /= score.sum(axis=1, keepdims=True)
    est = CBPE().fit(y, score.argmax(1), score, classes=[0, 1, 2])
    cal = est.calibrated(score[:100])
    np.testing.assert_allclose(cal.sum(axis=1), 1.0)
    assert len(est.calibrators_) == 3


# ----------------------------------------------------------------------------- DLE


def _regression(
    rng: np.random.Generator, n: int, *, mean: float = 0.0, spread: float = 1.5, noise: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x0 ~ N(mean, spread), x1 ~ N(0, 1); y = 2 x0 - x1 + noise (0.5 + |x0|) e; exact model."""
    x = rng.normal(size=(n, 2)) * np.array([spread, 1.0]) + np.array([mean, 0.0])
    y_pred = 2 * x[:, 0] - x[:, 1]
    y = y_pred + noise * (0.5 + np.abs(x[:, 0])) * rng.normal(size=n)
    return x, y, y_pred


def test_dle_tracks_covariate_shift_and_misses_concept_shift() -> None:
    rng = np.random.default_rng(8)
    x, y, y_pred = _regression(rng, 20_000)
    dle = DLE().fit(x, y, y_pred)
    realized, estimated = [], []
    for mean in (0.0, 1.0, 2.0):  # windows narrower than the reference, inside its support
        xc, yc, pc = _regression(rng, 4_000, mean=mean, spread=0.7)
        got = dle.estimate(xc, pc)
        for name, want in (("mae", perf.mae(yc, pc)), ("rmse", perf.rmse(yc, pc))):
            assert abs(got[name].value - want) <= 3 * got[name].standard_error, (name, mean)
            assert abs(got[name].value / want - 1) < 0.05, (name, mean)
        realized.append(perf.mae(yc, pc))
        estimated.append(got["mae"].value)
    assert realized[2] > 1.8 * realized[0]  # the shift doubles the error, and DLE sees it
    xc, yc, pc = _regression(rng, 4_000, spread=0.7, noise=1.5)  # same inputs, noisier target
    shifted = dle.estimate(xc, pc)["mae"]
    assert abs(shifted.value - estimated[0]) <= 3 * shifted.standard_error
    assert perf.mae(yc, pc) > shifted.upper  # concept shift: outside the band


def test_dle_accepts_any_regressor() -> None:
    rng = np.random.default_rng(9)
    x, y, y_pred = _regression(rng, 5_000)
    dle = DLE(model=KNeighborsRegressor(n_neighbors=50)).fit(x, y, y_pred)
    got = dle.estimate(x[:1_000], y_pred[:1_000])
    assert len(dle.models_) == 2
    assert got["mae"].value == pytest.approx(perf.mae(y[:1_000], y_pred[:1_000]), rel=0.1)


def test_nearest_neighbors_mean_matches_sklearn() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2_000, 3)) * np.array([1.0, 10.0, 100.0])
    y = rng.normal(size=2_000)
    query = rng.normal(size=(300, 3)) * np.array([1.0, 10.0, 100.0])
    ours = NearestNeighborsMean(n_neighbors=7).fit(x, y)
    scaled = (x - x.mean(0)) / x.std(0)
    theirs = KNeighborsRegressor(n_neighbors=7).fit(scaled, y)
    want = theirs.predict((query - x.mean(0)) / x.std(0))
    np.testing.assert_allclose(ours.predict(query), want, rtol=1e-12)


def test_dle_regression_kernel_and_prediction_only() -> None:
    assert dle_regression([2.0, -1.0], [4.0, 0.0]) == {"mae": 1.0, "rmse": math.sqrt(2.0)}
    assert all(math.isnan(v) for v in dle_regression([], []).values())
    dle = DLE().fit(None, [1.0, 2.0, 4.0], [1.0, 2.0, 3.0])
    got = dle.estimate(None, [1.0, 2.0])
    assert got["mae"].lower >= 0.0 and math.isinf(got["mae"].upper) is False


# ---------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("call", "field", "match"),
    [
        (lambda: isotonic_fit([], []), "scores", "must not be empty"),
        (lambda: isotonic_fit([1.0, np.nan], [0, 1]), "scores", "must not contain NaN"),
        (lambda: isotonic_fit([1.0, 2.0], [0, 1, 1]), None, "same length"),
        (lambda: cbpe_binary([0.5, 1.5], [0, 1]), "calibrated_proba", r"in \[0, 1\]"),
        (lambda: cbpe_binary([0.5, 0.5], [0, 2]), "y_pred", "booleans or 0/1"),
        (lambda: cbpe_multiclass([[0.5, 0.5]], [2]), "y_pred", "class indices 0..1"),
        (lambda: cbpe_multiclass([0.5, 0.5], [0, 1]), "calibrated_proba", "must be 2-D"),
        (lambda: CBPE().fit([], [], []), "y_true", "must not be empty"),
        (
            lambda: CBPE().fit([0, 1], np.array([0, None]), [0.2, 0.8]),
            "y_pred",
            "missing values",
        ),
        (lambda: CBPE().fit([0, 1], [0, 1], [0.2, np.nan]), "y_proba", "must not contain NaN"),
        (lambda: CBPE().fit([0, 1], [0, 1], [[0.2, 0.8]] * 2), "classes", "classes is required"),
        (
            lambda: CBPE().fit([0, 1], [0, 2], [[0.2, 0.8]] * 2, classes=[0, 1]),
            "y_pred",
            r"labels not in classes \[0, 1\]: \[2\]",
        ),
        (
            lambda: CBPE().fit([0, 1], [0, 1], [[0.2, 0.8]] * 2, classes=[0, 1, 2]),
            "y_proba",
            "one column per class",
        ),
        (lambda: CBPE(band=-1).fit([0, 1], [0, 1], [0.2, 0.8]), "band", "band must be"),
        (lambda: CBPE().fit([2, 3], [2, 3], [0.2, 0.8]), "pos_label", "pos_label=1"),
        (lambda: DLE().fit([[np.nan]], [1.0], [1.0]), "X", "X must be finite"),
        (lambda: DLE().fit([[1.0]], [1.0], [np.inf]), "y_pred", "infinity"),
        (
            lambda: DLE(model=NearestNeighborsMean(0)).fit(None, [1.0], [1.0]),
            "n_neighbors",
            "n_neighbors must be an integer >= 1",
        ),
    ],
)
def test_bad_input_names_the_field(call, field, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match=match) as info:
        call()
    assert info.value.field == field


def test_estimate_checks_the_window() -> None:
    est = CBPE().fit(Y_TRUE, Y_PRED, P)
    with pytest.raises(InvalidInputError, match="same length"):
        est.estimate([0, 1], [0.5])
    with pytest.raises(InvalidInputError, match=r"in \[0, 1\]") as info:
        est.estimate([0], [2.0])
    assert info.value.field == "y_proba"
    dle = DLE().fit([[1.0, 2.0]] * 3, [1.0, 2.0, 3.0], [1.0, 2.0, 2.0])
    with pytest.raises(InvalidInputError, match="2 feature columns, got 1") as info:
        dle.estimate([[1.0]], [1.0])
    assert info.value.field == "X"


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError, match="CBPE is not fitted"):
        CBPE().estimate([0], [0.5])
    with pytest.raises(NotFittedError, match="DLE is not fitted"):
        DLE().estimate(None, [0.5])
    with pytest.raises(NotFittedError):
        NearestNeighborsMean().predict(np.zeros((1, 1)))


def test_repr_keeps_constructor_arguments() -> None:
    assert repr(CBPE()) == "CBPE(calibrate=True, pos_label=1, band=3.0)"
    assert repr(DLE()) == "DLE(model=None, band=3.0)"
    assert repr(NearestNeighborsMean(5)) == "NearestNeighborsMean(n_neighbors=5)"
