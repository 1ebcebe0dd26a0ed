"""Performance metrics against scikit-learn (the oracle) and METHODS.md T11."""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import UndefinedMetricWarning

from sightline.errors import InvalidInputError
from sightline.stats import performance as perf

Y_TRUE = [0, 0, 1, 1, 0, 1, 0, 1]
P = [0.1, 0.4, 0.35, 0.8, 0.2, 0.7, 0.6, 0.9]
Y_PRED = [int(p >= 0.5) for p in P]
REG_TRUE = [0.0, 2.0, 4.0]
REG_PRED = [1.0, 2.0, 5.0]


def same(got: float, want: float, *, rel: float = 1e-12) -> bool:
    """Equal within ``rel``, NaN equal to NaN."""
    if math.isnan(want):
        return math.isnan(got)
    return got == pytest.approx(want, rel=rel, abs=1e-14)


def sk_quiet(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a scikit-learn metric, swallowing its undefined-metric warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# --------------------------------------------------------------------------- T11


def test_t11_classification_vectors() -> None:
    assert perf.roc_auc(Y_TRUE, P) == pytest.approx(0.875, abs=1e-12)
    assert perf.average_precision(Y_TRUE, P) == pytest.approx(0.9166666667, abs=1e-10)
    assert perf.log_loss(Y_TRUE, P) == pytest.approx(0.4363276948, abs=1e-10)
    for fn in (perf.accuracy, perf.precision, perf.recall, perf.f1):
        assert fn(Y_TRUE, Y_PRED) == pytest.approx(0.75, abs=1e-12)
    assert perf.log_loss([1, 0], [0.0, 0.0]) == pytest.approx(18.02182669, abs=1e-8)
    assert perf.log_loss([1, 0], [0.0, 0.0]) == pytest.approx(-math.log(perf.EPS) / 2)


def test_t11_regression_vectors() -> None:
    assert perf.mape(REG_TRUE, REG_PRED) == pytest.approx(1.501199876e15, rel=1e-9)
    assert perf.mae(REG_TRUE, REG_PRED) == pytest.approx(0.6666666667, abs=1e-10)
    assert perf.rmse(REG_TRUE, REG_PRED) == pytest.approx(0.8164965809, abs=1e-10)
    assert perf.r2(REG_TRUE, REG_PRED) == pytest.approx(0.75, abs=1e-12)
    assert perf.mape([1, 2, 4], [1.5, 2, 5]) == pytest.approx(0.25, abs=1e-12)


def test_t11_matches_sklearn_exactly() -> None:
    assert perf.roc_auc(Y_TRUE, P) == pytest.approx(skm.roc_auc_score(Y_TRUE, P), rel=1e-12)
    assert perf.average_precision(Y_TRUE, P) == pytest.approx(
        skm.average_precision_score(Y_TRUE, P), rel=1e-12
    )
    assert perf.log_loss(Y_TRUE, P) == skm.log_loss(Y_TRUE, P)
    assert perf.log_loss([1, 0], [0.0, 0.0]) == skm.log_loss([1, 0], [0.0, 0.0])
    assert perf.mape(REG_TRUE, REG_PRED) == skm.mean_absolute_percentage_error(REG_TRUE, REG_PRED)


# --------------------------------------------------------------------------- binary


def binary_data(seed: int, n: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    # rounded scores: many ties, which sklearn groups per threshold
    score = np.round(np.clip(0.3 * y + rng.uniform(0, 0.7, n), 0, 1), 1)
    pred = (score >= 0.5).astype(np.int64)
    return y, pred, score


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_binary_matches_sklearn(seed: int) -> None:
    y, pred, score = binary_data(seed)
    assert perf.accuracy(y, pred) == skm.accuracy_score(y, pred)
    assert same(perf.precision(y, pred), skm.precision_score(y, pred))
    assert same(perf.recall(y, pred), skm.recall_score(y, pred))
    assert same(perf.f1(y, pred), skm.f1_score(y, pred))
    assert same(perf.roc_auc(y, score), skm.roc_auc_score(y, score))
    assert same(perf.average_precision(y, score), skm.average_precision_score(y, score))
    assert same(perf.log_loss(y, score), skm.log_loss(y, score))
    np.testing.assert_array_equal(perf.confusion_matrix(y, pred), skm.confusion_matrix(y, pred))


@pytest.mark.parametrize("seed", [0, 1])
def test_binary_pos_label_zero_and_strings(seed: int) -> None:
    y, pred, score = binary_data(seed)
    for fn, sk in [
        (perf.precision, skm.precision_score),
        (perf.recall, skm.recall_score),
        (perf.f1, skm.f1_score),
    ]:
        assert same(fn(y, pred, pos_label=0), sk(y, pred, pos_label=0))
    assert same(perf.roc_auc(y, 1 - score, pos_label=0), skm.roc_auc_score(1 - y, 1 - score))
    assert same(
        perf.average_precision(y, 1 - score, pos_label=0),
        skm.average_precision_score(y, 1 - score, pos_label=0),
    )
    names = np.array(["no", "yes"])[y]
    names_pred = np.array(["no", "yes"])[pred]
    assert same(
        perf.f1(names, names_pred, pos_label="yes"),
        skm.f1_score(names, names_pred, pos_label="yes"),
    )
    assert same(
        perf.log_loss(names, score, pos_label="yes"),
        skm.log_loss(names, score, labels=["no", "yes"]),
    )


def test_boolean_labels() -> None:
    y = np.array([True, False, True, True])
    pred = np.array([True, True, False, True])
    assert perf.precision(y, pred) == skm.precision_score(y, pred)
    assert perf.recall(y, pred, pos_label=True) == skm.recall_score(y, pred)
    np.testing.assert_array_equal(perf.confusion_matrix(y, pred), skm.confusion_matrix(y, pred))


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(0, 1), st.integers(0, 4)), min_size=2, max_size=40).filter(
        lambda rows: len({r[0] for r in rows}) == 2
    )
)
def test_ranking_metrics_with_ties_match_sklearn(data: list[tuple[int, int]]) -> None:
    y = np.array([r[0] for r in data])
    score = np.array([r[1] for r in data], dtype=np.float64) / 4
    assert same(perf.roc_auc(y, score), skm.roc_auc_score(y, score))
    assert same(perf.average_precision(y, score), skm.average_precision_score(y, score))
    assert same(perf.log_loss(y, score), skm.log_loss(y, score))


# --------------------------------------------------------------------------- zero division


@pytest.mark.parametrize(
    ("y", "pred"),
    [
        ([0, 0, 0], [0, 0, 0]),  # no positives at all: all three undefined
        ([1, 1, 0], [0, 0, 0]),  # no predicted positives: precision undefined, f1 = 0
        ([0, 0, 0], [1, 0, 1]),  # no true positives: recall undefined, f1 = 0
        ([1, 0, 1], [1, 0, 1]),
    ],
)
def test_zero_division_is_nan_like_sklearn(y: list[int], pred: list[int]) -> None:
    for fn, sk in [
        (perf.precision, skm.precision_score),
        (perf.recall, skm.recall_score),
        (perf.f1, skm.f1_score),
    ]:
        assert same(fn(y, pred), sk(y, pred, zero_division=np.nan))


def test_zero_division_documented_cases() -> None:
    assert math.isnan(perf.precision([1, 1, 0], [0, 0, 0]))
    assert perf.recall([1, 1, 0], [0, 0, 0]) == 0.0
    assert perf.f1([1, 1, 0], [0, 0, 0]) == 0.0
    assert math.isnan(perf.f1([0, 0], [0, 0]))


def sk_undefined(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Whether scikit-learn calls the metric undefined: nan with an UndefinedMetricWarning
    (1.6 and later) or a ValueError (1.5, the declared floor)."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            value = fn(*args, **kwargs)
        except ValueError as exc:
            return "Only one class present" in str(exc)
    warned = any(
        issubclass(w.category, UndefinedMetricWarning) and "Only one class" in str(w.message)
        for w in seen
    )
    return warned and math.isnan(value)


def test_one_class_absent_gives_nan() -> None:
    assert sk_undefined(skm.roc_auc_score, [1, 1, 1], [0.2, 0.3, 0.4])
    assert math.isnan(perf.roc_auc([1, 1, 1], [0.2, 0.3, 0.4]))
    assert math.isnan(perf.roc_auc([0, 0, 0], [0.2, 0.3, 0.4]))
    assert math.isnan(perf.roc_auc(["b", "b"], [0.2, 0.3], pos_label="a"))


def test_average_precision_without_positives_is_nan_not_zero() -> None:
    # sklearn returns 0 with a warning; the chunk rule says nan
    assert sk_quiet(skm.average_precision_score, [0, 0, 0], [0.1, 0.5, 0.9]) == 0.0
    assert math.isnan(perf.average_precision([0, 0, 0], [0.1, 0.5, 0.9]))
    assert perf.average_precision([1, 1], [0.1, 0.1]) == 1.0


def test_log_loss_with_one_class() -> None:
    y, proba = [1, 1, 1], [0.9, 0.5, 0.2]
    assert same(perf.log_loss(y, proba), skm.log_loss(y, proba, labels=[0, 1]))
    assert same(perf.log_loss([0, 0], [0.1, 0.3]), skm.log_loss([0, 0], [0.1, 0.3], labels=[0, 1]))


# --------------------------------------------------------------------------- multiclass


def multiclass_data(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    classes = np.array(["bird", "cat", "dog", "eel"])
    y = classes[rng.integers(0, 4, n)]
    proba = rng.dirichlet(np.ones(4), n)
    proba[np.arange(n), np.searchsorted(classes, y)] += 0.3
    proba = np.round(proba / proba.sum(axis=1, keepdims=True), 2)
    proba /= proba.sum(axis=1, keepdims=True)
    pred = classes[np.argmax(proba, axis=1)]
    return y, pred, proba


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_multiclass_string_labels_match_sklearn(seed: int, average: str) -> None:
    y, pred, _ = multiclass_data(seed)
    kw: dict[str, Any] = {"average": average}
    assert same(perf.precision(y, pred, **kw), skm.precision_score(y, pred, **kw))
    assert same(perf.recall(y, pred, **kw), skm.recall_score(y, pred, **kw))
    assert same(perf.f1(y, pred, **kw), skm.f1_score(y, pred, **kw))
    assert perf.accuracy(y, pred) == skm.accuracy_score(y, pred)
    np.testing.assert_array_equal(perf.confusion_matrix(y, pred), skm.confusion_matrix(y, pred))


@pytest.mark.parametrize(
    ("y", "pred"),
    [
        ([0, 0, 1, 1, 2], [0, 0, 1, 1, 1]),  # class 2 never predicted: its precision is nan
        ([0, 0, 1, 1], [0, 2, 1, 2]),  # class 2 never true: its recall is nan
        (["a", "b", "c"], ["c", "a", "b"]),
        ([0, 1, 2, 3], [0, 0, 0, 0]),
    ],
)
@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_multiclass_average_skips_undefined_classes_like_sklearn(
    y: list[Any], pred: list[Any], average: str
) -> None:
    kw: dict[str, Any] = {"average": average, "zero_division": np.nan}
    for fn, sk in [
        (perf.precision, skm.precision_score),
        (perf.recall, skm.recall_score),
        (perf.f1, skm.f1_score),
    ]:
        assert same(fn(y, pred, average=average), sk(y, pred, **kw))  # type: ignore[arg-type]


def test_macro_average_values_by_hand() -> None:
    # precision per class: 1, 2/3, nan -> mean of defined values 5/6
    assert perf.precision([0, 0, 1, 1, 2], [0, 0, 1, 1, 1], average="macro") == pytest.approx(5 / 6)
    # weighted: weights 2, 2 (class 2 undefined and dropped) -> 5/6
    assert perf.precision([0, 0, 1, 1, 2], [0, 0, 1, 1, 1], average="weighted") == pytest.approx(
        5 / 6
    )


@pytest.mark.parametrize("labels", [["dog", "cat"], ["eel", "bird", "cat", "dog"], ["cat"]])
def test_labels_argument_matches_sklearn(labels: list[str]) -> None:
    y, pred, _ = multiclass_data(5, n=60)
    np.testing.assert_array_equal(
        perf.confusion_matrix(y, pred, labels=labels),
        sk_quiet(skm.confusion_matrix, y, pred, labels=labels),  # one label: sklearn warns
    )
    for average in ("macro", "weighted"):
        kw: dict[str, Any] = {"average": average, "labels": labels}
        assert same(perf.f1(y, pred, **kw), skm.f1_score(y, pred, zero_division=np.nan, **kw))
        assert same(
            perf.precision(y, pred, **kw),
            skm.precision_score(y, pred, zero_division=np.nan, **kw),
        )


def test_labels_with_absent_class_and_zero_weights() -> None:
    # "zebra" appears nowhere: every per-class value is nan except none -> nan
    assert math.isnan(perf.f1(["a", "b"], ["a", "b"], average="macro", labels=["zebra"]))
    np.testing.assert_array_equal(
        perf.confusion_matrix(["a", "b"], ["a", "a"], labels=["b", "zebra", "a"]),
        [[0, 0, 1], [0, 0, 0], [0, 0, 1]],
    )
    # class 2 is predicted but never true: support 0, so weighted falls back to the mean
    want = skm.precision_score([0, 1, 2], [2, 2, 2], labels=[2], average="weighted")
    assert perf.precision([0, 1, 2], [2, 2, 2], labels=[2], average="weighted") == want


def test_binary_average_on_multiclass_is_one_vs_rest() -> None:
    y, pred, _ = multiclass_data(3)
    classes = ["bird", "cat", "dog", "eel"]
    per_class = skm.f1_score(y, pred, average=None, labels=classes)
    for j, c in enumerate(classes):
        assert perf.f1(y, pred, pos_label=c) == pytest.approx(per_class[j], rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_auc_ovr_matches_sklearn(seed: int) -> None:
    y, _, proba = multiclass_data(seed)
    classes = np.array(["bird", "cat", "dog", "eel"])
    want = skm.roc_auc_score(y, proba, multi_class="ovr", average="macro")
    assert perf.roc_auc_ovr(y, proba, classes) == pytest.approx(want, rel=1e-12)
    # columns in another order, named by classes (sklearn only accepts sorted labels)
    order = [2, 0, 3, 1]
    assert perf.roc_auc_ovr(y, proba[:, order], classes[order]) == pytest.approx(want, rel=1e-12)


def test_roc_auc_ovr_with_absent_class_is_nan_like_sklearn() -> None:
    y = np.array([0, 1, 1, 0, 1, 0])
    proba = np.random.default_rng(0).dirichlet(np.ones(3), 6)
    assert sk_undefined(skm.roc_auc_score, y, proba, multi_class="ovr", labels=[0, 1, 2])
    assert math.isnan(perf.roc_auc_ovr(y, proba, [0, 1, 2]))


# --------------------------------------------------------------------------- bundle


def test_classification_metrics_binary_matches_single_functions() -> None:
    y, pred, score = binary_data(7)
    got = perf.classification_metrics(y, pred, score)
    assert list(got) == [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "average_precision",
        "log_loss",
    ]
    assert got["accuracy"] == skm.accuracy_score(y, pred)
    assert same(got["precision"], skm.precision_score(y, pred))
    assert same(got["recall"], skm.recall_score(y, pred))
    assert same(got["f1"], skm.f1_score(y, pred))
    assert same(got["roc_auc"], skm.roc_auc_score(y, score))
    assert same(got["average_precision"], skm.average_precision_score(y, score))
    assert same(got["log_loss"], skm.log_loss(y, score))
    assert list(perf.classification_metrics(y, pred)) == ["accuracy", "precision", "recall", "f1"]


def test_classification_metrics_binary_defaults_and_pos_label() -> None:
    y = ["no", "yes", "yes", "no"]
    pred = ["no", "yes", "no", "no"]
    got = perf.classification_metrics(y, pred, [0.1, 0.8, 0.3, 0.2])
    assert got["recall"] == 0.5  # positive class = the largest label, "yes"
    got = perf.classification_metrics(y, pred, [0.9, 0.2, 0.7, 0.8], pos_label="no")
    assert got["recall"] == 1.0
    assert got["roc_auc"] == 1.0
    # one-class window: pos_label keeps the meaning of precision/recall
    got = perf.classification_metrics([0, 0], [0, 0], [0.1, 0.2])
    assert math.isnan(got["precision"])
    assert math.isnan(got["roc_auc"])
    assert math.isnan(got["average_precision"])
    assert got["log_loss"] == pytest.approx(skm.log_loss([0, 0], [0.1, 0.2], labels=[0, 1]))


def test_classification_metrics_log_loss_nan_for_non_probability_scores() -> None:
    got = perf.classification_metrics([0, 1, 1], [0, 1, 0], [-2.0, 3.0, 0.5])
    assert got["roc_auc"] == 1.0
    assert math.isnan(got["log_loss"])


def test_classification_metrics_multiclass() -> None:
    y, pred, proba = multiclass_data(11)
    got = perf.classification_metrics(y, pred, proba)
    assert list(got) == [
        "accuracy",
        "precision_macro",
        "recall_macro",
        "f1_macro",
        "f1_weighted",
        "roc_auc",
    ]
    assert got["accuracy"] == skm.accuracy_score(y, pred)
    assert same(got["precision_macro"], skm.precision_score(y, pred, average="macro"))
    assert same(got["recall_macro"], skm.recall_score(y, pred, average="macro"))
    assert same(got["f1_macro"], skm.f1_score(y, pred, average="macro"))
    assert same(got["f1_weighted"], skm.f1_score(y, pred, average="weighted"))
    assert same(got["roc_auc"], skm.roc_auc_score(y, proba, multi_class="ovr"))
    # a window where "eel" is absent: labels= keeps the column order of the scores
    keep = y != "eel"
    labels = ["bird", "cat", "dog", "eel"]
    got = perf.classification_metrics(y[keep], pred[keep], proba[keep], labels=labels)
    assert math.isnan(got["roc_auc"])
    assert same(
        got["f1_macro"],
        skm.f1_score(y[keep], pred[keep], average="macro", labels=labels, zero_division=np.nan),
    )


def test_classification_metrics_score_shape_errors() -> None:
    with pytest.raises(InvalidInputError, match=r"1-D score of the positive class"):
        perf.classification_metrics([0, 1], [0, 1], [[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(InvalidInputError, match=r"must have shape \(n, 3\), got \(3,\)"):
        perf.classification_metrics([0, 1, 2], [0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(InvalidInputError, match=r"got 2 columns and 3 classes"):
        perf.classification_metrics([0, 1, 2], [0, 1, 2], np.ones((3, 2)) / 2)


# --------------------------------------------------------------------------- small inputs


def test_empty_inputs_give_nan() -> None:
    for fn in (perf.accuracy, perf.precision, perf.recall, perf.f1):
        assert math.isnan(fn([], []))
    for scored in (perf.roc_auc, perf.average_precision, perf.log_loss):
        assert math.isnan(scored([], []))
    assert math.isnan(perf.roc_auc_ovr([], np.empty((0, 3)), [0, 1, 2]))
    assert math.isnan(perf.f1([], [], average="macro"))
    assert perf.confusion_matrix([], []).shape == (0, 0)
    np.testing.assert_array_equal(perf.confusion_matrix([], [], labels=[0, 1]), np.zeros((2, 2)))
    assert all(math.isnan(v) for v in perf.classification_metrics([], [], []).values())
    assert all(math.isnan(v) for v in perf.regression_metrics([], []).values())
    for regression in (perf.mae, perf.rmse, perf.mape, perf.r2, perf.mean_error):
        assert math.isnan(regression([], []))


def test_single_row() -> None:
    assert perf.accuracy([1], [1]) == 1.0
    assert perf.precision([1], [1]) == 1.0
    assert math.isnan(perf.roc_auc([1], [0.3]))
    assert perf.average_precision([1], [0.3]) == 1.0
    assert perf.log_loss([1], [0.5]) == pytest.approx(skm.log_loss([1], [0.5], labels=[0, 1]))
    assert perf.mae([1.0], [3.0]) == 2.0
    assert perf.mean_error([1.0], [3.0]) == 2.0
    # sklearn: R^2 is not well defined with fewer than two samples -> nan
    assert math.isnan(sk_quiet(skm.r2_score, [1.0], [3.0]))
    assert math.isnan(perf.r2([1.0], [3.0]))


# --------------------------------------------------------------------------- regression


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_regression_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.normal(10, 3, 500)
    pred = y + rng.normal(0.5, 1, 500)
    got = perf.regression_metrics(y, pred)
    assert list(got) == ["mae", "rmse", "mape", "r2", "mean_error"]
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(y, pred), rel=1e-12)
    assert got["rmse"] == pytest.approx(skm.root_mean_squared_error(y, pred), rel=1e-12)
    assert got["mape"] == pytest.approx(skm.mean_absolute_percentage_error(y, pred), rel=1e-12)
    assert got["r2"] == pytest.approx(skm.r2_score(y, pred), rel=1e-12)
    assert got["mean_error"] == pytest.approx(float(np.mean(pred - y)), rel=1e-12)
    assert got == {
        "mae": perf.mae(y, pred),
        "rmse": perf.rmse(y, pred),
        "mape": perf.mape(y, pred),
        "r2": perf.r2(y, pred),
        "mean_error": perf.mean_error(y, pred),
    }


def test_mape_with_zero_targets_matches_sklearn() -> None:
    y = [0.0, 0.0, 3.0, -2.0]
    pred = [0.0, 1e-3, 2.0, -2.5]
    assert perf.mape(y, pred) == skm.mean_absolute_percentage_error(y, pred)
    assert math.isfinite(perf.mape(y, pred))


@pytest.mark.parametrize(
    ("y", "pred", "want"),
    [([2.0, 2.0, 2.0], [2.0, 2.0, 2.0], 1.0), ([2.0, 2.0, 2.0], [2.0, 1.0, 2.0], 0.0)],
)
def test_r2_constant_target_force_finite(y: list[float], pred: list[float], want: float) -> None:
    assert perf.r2(y, pred) == want == skm.r2_score(y, pred)


def test_r2_constant_target_is_robust_to_rounding() -> None:
    # sklearn's mean of [0.1] * 3 is not exactly 0.1, so its SS_tot is ~1e-33: a huge
    # negative R^2. Here a constant target is detected by equality and gives 0.0.
    assert skm.r2_score([0.1] * 3, [0.2] * 3) < -1e30
    assert perf.r2([0.1] * 3, [0.2] * 3) == 0.0
    assert perf.r2([0.1] * 3, [0.1] * 3) == 1.0


def test_mean_error_sign_is_prediction_minus_truth() -> None:
    assert perf.mean_error([1.0, 2.0], [2.0, 3.0]) == 1.0  # over-prediction: positive
    assert perf.mean_error([1.0, 2.0], [0.0, 1.0]) == -1.0


# --------------------------------------------------------------------------- errors


def test_length_mismatch_names_both_lengths() -> None:
    with pytest.raises(
        InvalidInputError, match=r"y_true and y_pred must have the same length, got 3 and 2"
    ):
        perf.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(
        InvalidInputError, match=r"y_true and y_pred must have the same length, got 1 and 2"
    ):
        perf.mae([0.0], [0.0, 1.0])
    with pytest.raises(
        InvalidInputError, match=r"y_true and y_score must have the same length, got 2 and 3"
    ):
        perf.roc_auc([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(InvalidInputError, match=r"y_true and y_proba must have the same length"):
        perf.log_loss([0, 1], [0.1])


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: perf.accuracy([0.0, np.nan], [0, 1]), r"y_true must not contain missing values"),
        (
            lambda: perf.f1(["a", "b"], np.array(["a", None], dtype=object)),
            r"y_pred must not contain missing values \(NaN or None\), got 1 of 2",
        ),
        (lambda: perf.mae([1.0, np.nan], [1.0, 2.0]), r"y_true must not contain NaN, got 1 of 2"),
        (lambda: perf.rmse([1.0, 2.0], [np.inf, 2.0]), r"y_pred must not contain infinity"),
        (lambda: perf.roc_auc([0, 1], [np.nan, 0.2]), r"y_score must not contain NaN"),
        (lambda: perf.mape(["a"], [1.0]), r"y_true must be numeric"),
        (lambda: perf.accuracy([[0, 1]], [[0, 1]]), r"y_true must be 1-D"),
        (lambda: perf.accuracy([0, 1], ["a", "b"]), r"labels of one type, got numbers and strings"),
        (
            lambda: perf.accuracy(np.array([1, "a"], dtype=object), [1, 2]),
            r"labels of one comparable type",
        ),
        (
            lambda: perf.precision(["a", "b"], ["a", "b"]),
            r"pos_label=1 is not among the labels \['a', 'b'\]",
        ),
        (
            lambda: perf.roc_auc(["a", "b"], [0.1, 0.2]),
            r"pos_label=1 is not among the labels of y_true",
        ),
        (
            lambda: perf.f1([0, 1], [0, 1], average="micro"),  # type: ignore[arg-type]
            r"average must be one of \['binary', 'macro', 'weighted'\], got 'micro'",
        ),
        (lambda: perf.log_loss([0, 1], [0.5, 1.5]), r"y_proba must be probabilities in \[0, 1\]"),
        (
            lambda: perf.confusion_matrix([0, 1], [0, 1], labels=[1, 1]),
            r"labels must not contain duplicates, got \[1, 1\]",
        ),
        (
            lambda: perf.roc_auc_ovr([0, 3], np.full((2, 2), 0.5), [0, 1]),
            r"y_true contains labels not in classes: \[3\]",
        ),
        (
            lambda: perf.roc_auc_ovr([0, 1], np.full((2, 2), 0.5), [0, 1, 2]),
            r"scores must have one column per class, got 2 columns and 3 classes",
        ),
        (lambda: perf.roc_auc_ovr([0, 1], [0.5, 0.5], [0, 1]), r"scores must be 2-D"),
    ],
)
def test_errors_name_the_argument(call: Callable[[], object], pattern: str) -> None:
    with pytest.raises(InvalidInputError, match=pattern):
        call()


def test_error_carries_field() -> None:
    with pytest.raises(InvalidInputError) as info:
        perf.accuracy([0, 1], np.array([0.0, np.nan]))
    assert info.value.field == "y_pred"


def test_performance_exports_every_metric_and_nothing_else() -> None:
    public = {
        n for n, v in vars(perf).items() if not n.startswith("_") and not inspect.ismodule(v)
    } - {"annotations"}
    assert set(perf.__all__) == public
    assert {
        "confusion_matrix", "accuracy", "precision", "recall", "f1", "roc_auc", "roc_auc_ovr",
        "average_precision", "log_loss", "classification_metrics", "mae", "rmse", "mape", "r2",
        "mean_error", "regression_metrics",
    } <= public  # fmt: skip
