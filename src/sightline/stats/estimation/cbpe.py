"""Confidence-based performance estimation (CBPE) of binary and multiclass classifiers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, Self

import numpy as np
import numpy.typing as npt

from sightline._types import BoolArray, FloatArray, IntArray
from sightline._validate import as_float_array, finite_or_none
from sightline.errors import InvalidInputError, NotFittedError
from sightline.stats._metric_inputs import (
    LabelArray,
    check_labels,
    check_same_length,
    check_unique,
    check_values,
    divide,
    positive_mask,
)
from sightline.stats.estimation.bands import (
    Estimate,
    check_band,
    macro_rms,
    rms,
    standard_error,
    with_band,
)
from sightline.stats.estimation.calibration import Calibrator, isotonic_fit

#: Estimated metrics of a binary classifier (the names of the realized metric rows).
BINARY_METRICS: Final = ("accuracy", "precision", "recall", "specificity", "f1", "roc_auc")
#: Estimated metrics of a multiclass classifier: one-vs-rest per class, macro average.
MULTICLASS_METRICS: Final = (
    "accuracy",
    "precision_macro",
    "recall_macro",
    "specificity_macro",
    "f1_macro",
    "roc_auc",
)

# ------------------------------------------------------------------------ CBPE kernels


def expected_roc_auc(calibrated_proba: npt.ArrayLike, y_score: npt.ArrayLike) -> float:
    """ROC AUC expected from calibrated probabilities, rows ranked by ``y_score``.

    With ``p_i`` the probability that row ``i`` is positive and rows independent, the
    expected Mann-Whitney numerator is ``sum_{i != j} p_i (1 - p_j) [s_i > s_j]`` (ties
    counting one half) and the expected number of positive-negative pairs is
    ``sum_{i != j} p_i (1 - p_j)``; the estimate is their ratio. NannyML's trapezoid over
    the expected ROC curve is the same ratio with the ``i == j`` terms left in, an
    ``O(1/n)`` difference.

    Parameters
    ----------
    calibrated_proba
        1-D probabilities in ``[0, 1]`` that each row is positive.
    y_score
        1-D scores that rank the rows (the uncalibrated scores: isotonic calibration
        creates ties).

    Returns
    -------
    The estimated AUC; ``nan`` with fewer than two rows or when every probability is 0
    or every one is 1.

    Examples
    --------
    >>> expected_roc_auc([0.0, 0.0, 1.0, 1.0], [0.1, 0.2, 0.3, 0.4])
    1.0
    >>> expected_roc_auc([0.5, 0.5, 0.5, 0.5], [0.1, 0.2, 0.3, 0.4])
    0.5
    """
    p = _check_proba(calibrated_proba, "calibrated_proba")
    s = check_values(y_score, "y_score")
    check_same_length(p, s, "calibrated_proba", "y_score")
    return _expected_auc(p, s)


def _expected_auc(p: FloatArray, score: FloatArray) -> float:
    order = np.argsort(score, kind="stable")
    s, ps = score[order], p[order]
    if s.size < 2:
        return float("nan")
    qs = 1.0 - ps
    start = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    pos_g = np.add.reduceat(ps, start)
    neg_g = np.add.reduceat(qs, start)
    neg_below = np.cumsum(neg_g) - neg_g
    self_pairs = float(np.dot(ps, qs))
    numerator = float(np.dot(pos_g, neg_below + 0.5 * neg_g)) - 0.5 * self_pairs
    pairs = float(ps.sum()) * float(qs.sum()) - self_pairs
    return numerator / pairs if pairs > 0.0 else float("nan")


def _expected_counts(p: FloatArray, pred: BoolArray) -> tuple[FloatArray, ...]:
    """Expected TP, FP, FN, TN per column of ``p`` and ``pred`` (both ``(n, k)``)."""
    q = 1.0 - p
    tp = np.sum(p * pred, axis=0)
    fp = np.sum(q * pred, axis=0)
    fn = np.sum(p * ~pred, axis=0)
    tn = np.sum(q * ~pred, axis=0)
    return tp, fp, fn, tn


def _rates(tp: FloatArray, fp: FloatArray, fn: FloatArray, tn: FloatArray) -> dict[str, FloatArray]:
    return {
        "precision": divide(tp, tp + fp),
        "recall": divide(tp, tp + fn),
        "specificity": divide(tn, tn + fp),
        "f1": divide(2.0 * tp, 2.0 * tp + fp + fn),
    }


def cbpe_binary(
    calibrated_proba: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    y_score: npt.ArrayLike | None = None,
) -> dict[str, float]:
    """Metrics of a binary classifier expected from calibrated probabilities.

    ``TP = sum(p * pred)``, ``FP = sum((1 - p) * pred)``, ``FN = sum(p * ~pred)``,
    ``TN = sum((1 - p) * ~pred)``; the metrics are those of this expected confusion matrix.

    Parameters
    ----------
    calibrated_proba
        1-D calibrated probabilities of the positive class, in ``[0, 1]``.
    y_pred
        1-D predicted labels as booleans or 0/1 (1 = predicted positive).
    y_score
        Scores ranking the rows for the ROC AUC; default ``calibrated_proba``.

    Returns
    -------
    :data:`BINARY_METRICS` as floats; a zero denominator gives ``nan`` (NannyML gives 0),
    as for the realized metrics.

    Raises
    ------
    InvalidInputError
        Probabilities outside ``[0, 1]``, ``y_pred`` not 0/1, different lengths.

    References
    ----------
    NannyML, "Confidence-based Performance Estimation" (CBPE), nannyml 0.13.1
    ``performance_estimation/confidence_based/metrics.py``.

    Examples
    --------
    >>> m = cbpe_binary([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0])
    >>> round(m["accuracy"], 6), round(m["precision"], 6), round(m["recall"], 6)
    (0.825, 0.85, 0.809524)
    """
    p = _check_proba(calibrated_proba, "calibrated_proba")
    pred = _check_binary_pred(y_pred)
    check_same_length(p, pred, "calibrated_proba", "y_pred")
    score = p if y_score is None else check_values(y_score, "y_score")
    check_same_length(p, score, "calibrated_proba", "y_score")
    return _binary_estimates(p, pred, score)


def _binary_estimates(p: FloatArray, pred: BoolArray, score: FloatArray) -> dict[str, float]:
    if p.size == 0:
        return dict.fromkeys(BINARY_METRICS, float("nan"))
    tp, fp, fn, tn = _expected_counts(p[:, None], pred[:, None])
    out = {"accuracy": float((tp[0] + tn[0]) / p.size)}
    out |= {name: float(v[0]) for name, v in _rates(tp, fp, fn, tn).items()}
    out["roc_auc"] = _expected_auc(p, score)
    return {name: out[name] for name in BINARY_METRICS}


def cbpe_multiclass(
    calibrated_proba: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    y_score: npt.ArrayLike | None = None,
) -> dict[str, float]:
    """Metrics of a multiclass classifier expected from calibrated probabilities.

    One-vs-rest: class ``k`` has the expected confusion matrix of :func:`cbpe_binary` with
    ``p = calibrated_proba[:, k]`` and ``pred = (y_pred == k)``; precision, recall,
    specificity, F1 and ROC AUC are macro-averaged over the classes (ignoring ``nan``
    classes, as the realized metrics). Accuracy is ``mean(calibrated_proba[i, y_pred[i]])``.

    Parameters
    ----------
    calibrated_proba
        Calibrated probabilities of shape ``(n, n_classes)``, rows summing to 1.
    y_pred
        1-D predicted class indices ``0 .. n_classes - 1`` (column positions).
    y_score
        ``(n, n_classes)`` scores ranking the rows for the ROC AUC; default
        ``calibrated_proba``.

    Returns
    -------
    :data:`MULTICLASS_METRICS` as floats.

    Raises
    ------
    InvalidInputError
        Probabilities outside ``[0, 1]`` or not 2-D, class indices out of range,
        different lengths or shapes.

    Examples
    --------
    >>> proba = [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.5, 0.3, 0.2]]
    >>> m = cbpe_multiclass(proba, [0, 1, 2, 0])
    >>> round(m["accuracy"], 6)
    0.7
    """
    p = _check_proba(calibrated_proba, "calibrated_proba", ndim=2)
    codes = _check_codes(y_pred, p.shape[1])
    check_same_length(p, codes, "calibrated_proba", "y_pred")
    score = p if y_score is None else check_values(y_score, "y_score", ndim=2)
    if score.shape != p.shape:
        raise InvalidInputError(
            f"y_score must have the shape of calibrated_proba {p.shape}, got {score.shape}",
            field="y_score",
        )
    return _multiclass_estimates(p, codes, score)


def _multiclass_estimates(p: FloatArray, codes: IntArray, score: FloatArray) -> dict[str, float]:
    n, k = p.shape
    if n == 0:
        return dict.fromkeys(MULTICLASS_METRICS, float("nan"))
    pred = codes[:, None] == np.arange(k)
    rates = _rates(*_expected_counts(p, pred))
    auc = np.array([_expected_auc(p[:, j], score[:, j]) for j in range(k)])
    return {
        "accuracy": float(p[np.arange(n), codes].mean()),
        "precision_macro": _nanmean(rates["precision"]),
        "recall_macro": _nanmean(rates["recall"]),
        "specificity_macro": _nanmean(rates["specificity"]),
        "f1_macro": _nanmean(rates["f1"]),
        "roc_auc": _nanmean(auc),
    }


def _bernoulli_se(c: FloatArray) -> float:
    """Standard error of the mean of independent Bernoulli(``c_i``): ``sqrt(sum c (1 - c)) / n``
    (NaN for no rows). Exact for a metric that is the share of rows of the window that are
    right, given their calibrated probabilities of being right.

    >>> _bernoulli_se(np.array([0.5, 0.5, 0.5, 0.5]))
    0.25
    """
    if c.size == 0:
        return float("nan")
    return float(np.sqrt(np.sum(c * (1.0 - c))) / c.size)


def _nanmean(values: FloatArray) -> float:
    kept = values[~np.isnan(values)]
    return float(kept.mean()) if kept.size else float("nan")


# ------------------------------------------------------------------- sampling error


def _ratio_influence(num: FloatArray, den: FloatArray) -> FloatArray:
    """Per-row influence of ``sum(num) / sum(den)`` (delta method); ``nan`` if undefined."""
    total = float(den.sum())
    if total == 0.0:
        return np.full(num.size, np.nan)
    ratio = float(num.sum()) / total
    return np.asarray((num - ratio * den) / (total / num.size), dtype=np.float64)


def _binary_influence(
    positive: BoolArray, pred: BoolArray, score: FloatArray
) -> dict[str, FloatArray]:
    """Per-row influence values of every binary metric on the reference.

    A metric of a window of ``n`` rows deviates from its expectation by about the mean of
    these values over the window's rows, so its standard error is ``rms / sqrt(n)``.
    """
    tp = (positive & pred).astype(np.float64)
    tn = (~positive & ~pred).astype(np.float64)
    errors = (positive != pred).astype(np.float64)
    return {
        "accuracy": (positive == pred) - np.mean(positive == pred),
        "precision": _ratio_influence(tp, pred.astype(np.float64)),
        "recall": _ratio_influence(tp, positive.astype(np.float64)),
        "specificity": _ratio_influence(tn, (~positive).astype(np.float64)),
        "f1": _ratio_influence(2.0 * tp, 2.0 * tp + errors),
        "roc_auc": _auc_influence(positive, score),
    }


def _auc_influence(positive: BoolArray, score: FloatArray) -> FloatArray:
    """DeLong's placement values, centred and weighted: the per-row influence of the AUC."""
    pos_s, neg_s = np.sort(score[positive]), np.sort(score[~positive])
    if pos_s.size == 0 or neg_s.size == 0:
        return np.full(score.size, np.nan)
    s_pos, s_neg = score[positive], score[~positive]
    # each positive's share of negatives below it, each negative's share of positives above
    v10 = np.searchsorted(neg_s, s_pos, "left") + np.searchsorted(neg_s, s_pos, "right")
    v01 = 2 * pos_s.size - np.searchsorted(pos_s, s_neg, "left")
    v01 -= np.searchsorted(pos_s, s_neg, "right")
    auc = float(v10.sum()) / (2.0 * pos_s.size * neg_s.size)
    out = np.empty(score.size)
    out[positive] = (v10 / (2.0 * neg_s.size) - auc) * (score.size / pos_s.size)
    out[~positive] = (v01 / (2.0 * pos_s.size) - auc) * (score.size / neg_s.size)
    return out


# ---------------------------------------------------------------------- input checks


def _check_proba(x: npt.ArrayLike, name: str, *, ndim: int = 1) -> FloatArray:
    p = check_values(x, name, ndim=ndim)
    if p.size and (p.min() < 0.0 or p.max() > 1.0):
        raise InvalidInputError(
            f"{name} must be probabilities in [0, 1], got values in [{p.min()}, {p.max()}]",
            field=name,
        )
    return p


def _check_binary_pred(y_pred: npt.ArrayLike) -> BoolArray:
    arr = check_labels(y_pred, "y_pred")
    if arr.dtype.kind == "b":
        return arr
    if arr.dtype.kind not in "iuf" or not np.isin(arr, (0, 1)).all():
        raise InvalidInputError(
            "y_pred must hold booleans or 0/1 (1 = predicted positive), "
            f"got values {np.unique(arr)[:5].tolist()!r}",
            field="y_pred",
        )
    return np.asarray(arr == 1, dtype=np.bool_)


def _check_codes(y_pred: npt.ArrayLike, n_classes: int) -> IntArray:
    arr = check_labels(y_pred, "y_pred")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind not in "iu" or arr.min() < 0 or arr.max() >= n_classes:
        raise InvalidInputError(
            f"y_pred must hold class indices 0..{n_classes - 1} (columns of calibrated_proba), "
            f"got {arr.dtype} values in [{arr.min()}, {arr.max()}]",
            field="y_pred",
        )
    return arr.astype(np.int64)


def _encode(y: LabelArray, classes: LabelArray, name: str) -> IntArray:
    """Column index of every label of ``y`` in ``classes``; unknown labels raise."""
    order = np.argsort(classes, kind="stable")
    ordered = classes[order]
    try:
        pos = np.searchsorted(ordered, y)
    except TypeError as exc:
        raise InvalidInputError(
            f"{name} labels cannot be compared with classes {classes.tolist()!r}: {exc}",
            field=name,
        ) from exc
    pos = np.minimum(pos, ordered.size - 1)
    unknown = ordered[pos] != y
    if np.any(unknown):
        raise InvalidInputError(
            f"{name} holds labels not in classes {classes.tolist()!r}: "
            f"{np.unique(y[unknown])[:5].tolist()!r}",
            field=name,
        )
    return order[pos].astype(np.int64)


# ------------------------------------------------------------------------------ CBPE


class CBPE:
    """Confidence-based performance estimation of a binary or multiclass classifier.

    Fitted once on the reference (labelled) window; :meth:`estimate` then gives every
    metric of an unlabelled window with its sampling-error band.

    Parameters
    ----------
    calibrate
        Calibrate each class's probabilities with isotonic regression on the reference
        (one-vs-rest, rows renormalized to sum to 1 for multiclass). ``False`` trusts
        the model's probabilities as they are.
    pos_label
        The positive class of a binary classifier.
    band
        Half-width of the band in standard errors (NannyML: 3).

    Attributes
    ----------
    classes_
        The classes: ``[pos_label]`` for binary, the ``classes`` passed to :meth:`fit`
        for multiclass.
    calibrators_
        One :class:`Calibrator` per probability column (empty when not calibrating).
    influence_rms_
        Per metric, the root mean square of its per-row influence values on the
        reference: the standard error of a window of ``n`` rows is
        ``influence_rms_[metric] / sqrt(n)``.
    reference_estimates_
        The estimates on the reference itself (a check of the calibration).

    Examples
    --------
    >>> rng = np.random.default_rng(7)
    >>> p = rng.uniform(size=20_000)
    >>> y = (rng.uniform(size=p.size) < p).astype(int)  # calibrated by construction
    >>> est = CBPE().fit(y[:10_000], (p[:10_000] > 0.5).astype(int), p[:10_000])
    >>> value, se, lower, upper = est.estimate((p[10_000:] > 0.5).astype(int), p[10_000:])["f1"]
    >>> round(value, 2), round(se, 3)
    (0.75, 0.005)
    """

    def __init__(self, *, calibrate: bool = True, pos_label: object = 1, band: float = 3.0) -> None:
        self.calibrate = calibrate
        self.pos_label = pos_label
        self.band = band

    def __repr__(self) -> str:
        return (
            f"CBPE(calibrate={self.calibrate!r}, pos_label={self.pos_label!r}, band={self.band!r})"
        )

    def fit(
        self,
        y_true: npt.ArrayLike,
        y_pred: npt.ArrayLike,
        y_proba: npt.ArrayLike,
        *,
        classes: npt.ArrayLike | None = None,
    ) -> Self:
        """Calibrate on the reference and compute the metrics' standard-error terms.

        Parameters
        ----------
        y_true, y_pred
            1-D true and predicted labels of the reference, without missing values.
        y_proba
            Binary: 1-D probability of ``pos_label``. Multiclass: ``(n, n_classes)``
            probabilities whose column ``j`` is ``classes[j]``.
        classes
            The class of every column of a 2-D ``y_proba`` (required then).

        Raises
        ------
        InvalidInputError
            Empty reference, missing values, probabilities outside ``[0, 1]``, lengths
            or shapes that differ, labels not in ``classes``, a bad ``band``.
        """
        check_band(self.band)
        yt = check_labels(y_true, "y_true")
        yp = check_labels(y_pred, "y_pred")
        check_same_length(yt, yp, "y_true", "y_pred")
        if yt.size == 0:
            raise InvalidInputError("y_true must not be empty (the reference)", field="y_true")
        proba = as_float_array(y_proba, "y_proba")
        if proba.ndim == 1:
            self._fit_binary(yt, yp, _check_proba(proba, "y_proba"))
        else:
            self._fit_multiclass(yt, yp, _check_proba(proba, "y_proba", ndim=2), classes)
        return self

    def _fit_binary(self, yt: LabelArray, yp: LabelArray, proba: FloatArray) -> None:
        check_same_length(yt, proba, "y_true", "y_proba")
        positive = positive_mask(yt, self.pos_label)
        pred = np.asarray(yp == self.pos_label, dtype=np.bool_)
        cal = [isotonic_fit(proba, positive)] if self.calibrate else []
        self.classes_: LabelArray = np.array([self.pos_label])
        self.calibrators_: list[Calibrator] = cal
        self.influence_rms_: dict[str, float] = {
            name: rms(v) for name, v in _binary_influence(positive, pred, proba).items()
        }
        self.is_multiclass_ = False
        p = cal[0](proba) if cal else proba
        self.reference_estimates_ = _binary_estimates(p, pred, proba)

    def _fit_multiclass(
        self, yt: LabelArray, yp: LabelArray, proba: FloatArray, classes: npt.ArrayLike | None
    ) -> None:
        if classes is None:
            raise InvalidInputError(
                "classes is required with a 2-D y_proba: the class of every column",
                field="classes",
            )
        cls = check_labels(classes, "classes")
        check_unique(cls, "classes")
        if proba.shape[1] != cls.size or cls.size < 2:
            raise InvalidInputError(
                f"y_proba must have one column per class (>= 2), got shape {proba.shape} "
                f"for {cls.size} classes",
                field="y_proba",
            )
        check_same_length(yt, proba, "y_true", "y_proba")
        t, c = _encode(yt, cls, "y_true"), _encode(yp, cls, "y_pred")
        onehot = t[:, None] == np.arange(cls.size)
        pred = c[:, None] == np.arange(cls.size)
        self.classes_ = cls
        self.calibrators_ = (
            [isotonic_fit(proba[:, j], onehot[:, j]) for j in range(cls.size)]
            if self.calibrate
            else []
        )
        per_class = [
            _binary_influence(onehot[:, j], pred[:, j], proba[:, j]) for j in range(cls.size)
        ]
        correct = t == c
        self.influence_rms_ = {"accuracy": rms(correct - np.mean(correct))}
        for name, ovr in (
            ("precision_macro", "precision"),
            ("recall_macro", "recall"),
            ("specificity_macro", "specificity"),
            ("f1_macro", "f1"),
            ("roc_auc", "roc_auc"),
        ):
            self.influence_rms_[name] = macro_rms([v[ovr] for v in per_class])
        self.is_multiclass_ = True
        self.reference_estimates_ = _multiclass_estimates(self.calibrated(proba), c, proba)

    def _check_fitted(self) -> None:
        if not hasattr(self, "influence_rms_"):
            raise NotFittedError("this CBPE is not fitted yet; call fit(reference...) first")

    def calibrated(self, y_proba: npt.ArrayLike) -> FloatArray:
        """Calibrated probabilities of a window (rows renormalized for multiclass).

        Examples
        --------
        >>> est = CBPE().fit([0, 0, 1, 1], [0, 1, 0, 1], [0.1, 0.6, 0.4, 0.9])
        >>> est.calibrated([0.1, 0.5, 0.9])
        array([0. , 0.5, 1. ])
        """
        self._check_fitted()
        proba = _check_proba(y_proba, "y_proba", ndim=2 if self.is_multiclass_ else 1)
        if not self.calibrators_:
            return proba
        if not self.is_multiclass_:
            return self.calibrators_[0](proba)
        if proba.shape[1] != self.classes_.size:
            raise InvalidInputError(
                f"y_proba must have {self.classes_.size} columns, got {proba.shape[1]}",
                field="y_proba",
            )
        cal = np.column_stack([f(proba[:, j]) for j, f in enumerate(self.calibrators_)])
        total = cal.sum(axis=1, keepdims=True)
        uniform = np.full_like(cal, 1.0 / cal.shape[1])
        return np.asarray(np.divide(cal, total, out=uniform, where=total > 0), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as plain JSON values (``nan`` as ``None``), for a store.

        Examples
        --------
        >>> est = CBPE().fit([0, 0, 1, 1], [0, 1, 0, 1], [0.1, 0.6, 0.4, 0.9])
        >>> again = CBPE.from_dict(est.to_dict())
        >>> again.estimate([1, 0], [0.9, 0.2]) == est.estimate([1, 0], [0.9, 0.2])
        True
        """
        self._check_fitted()
        return {
            "calibrate": self.calibrate,
            "pos_label": _plain(self.pos_label),
            "band": self.band,
            "classes": [_plain(c) for c in self.classes_],
            "multiclass": self.is_multiclass_,
            "calibrators": [
                [c.x_thresholds.tolist(), c.y_thresholds.tolist()] for c in self.calibrators_
            ],
            "influence_rms": {k: finite_or_none(v) for k, v in self.influence_rms_.items()},
            "reference_estimates": {
                k: finite_or_none(v) for k, v in self.reference_estimates_.items()
            },
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> Self:
        """A fitted estimator from :meth:`to_dict`'s output."""
        est = cls(calibrate=state["calibrate"], pos_label=state["pos_label"], band=state["band"])
        est.classes_ = check_labels(state["classes"], "classes")
        est.is_multiclass_ = bool(state["multiclass"])
        est.calibrators_ = [
            Calibrator(np.array(x, dtype=np.float64), np.array(y, dtype=np.float64))
            for x, y in state["calibrators"]
        ]
        est.influence_rms_ = {k: _nan_if_none(v) for k, v in state["influence_rms"].items()}
        est.reference_estimates_ = {
            k: _nan_if_none(v) for k, v in state["reference_estimates"].items()
        }
        return est

    def standard_errors(self, n_rows: int) -> dict[str, float]:
        """Standard error of every realized metric in a window of ``n_rows`` rows.

        Examples
        --------
        >>> est = CBPE().fit([0, 1, 0, 1], [0, 1, 1, 1], [0.2, 0.9, 0.6, 0.7])
        >>> round(est.standard_errors(100)["accuracy"], 4)
        0.0433
        """
        self._check_fitted()
        return {name: standard_error(r, n_rows) for name, r in self.influence_rms_.items()}

    def estimate(self, y_pred: npt.ArrayLike, y_proba: npt.ArrayLike) -> dict[str, Estimate]:
        """Estimated metrics of one unlabelled window.

        Parameters
        ----------
        y_pred
            1-D predicted labels of the window.
        y_proba
            The window's uncalibrated probabilities, shaped as in :meth:`fit`.

        Returns
        -------
        :data:`BINARY_METRICS` or :data:`MULTICLASS_METRICS` as :class:`Estimate`; an
        empty window gives ``nan`` everywhere. The standard error of the accuracy (and of
        a binary classifier's precision, a share of the predicted positives) comes from
        the window's own calibrated probabilities, ``sqrt(sum c (1 - c)) / n`` with ``c``
        a row's probability of being right, which is exact under covariate shift; the
        other metrics' from the reference (:meth:`standard_errors`).

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        InvalidInputError
            As in :meth:`fit`, and predicted labels not among the classes (multiclass).
        """
        self._check_fitted()
        yp = check_labels(y_pred, "y_pred")
        raw = _check_proba(y_proba, "y_proba", ndim=2 if self.is_multiclass_ else 1)
        check_same_length(yp, raw, "y_pred", "y_proba")
        p = self.calibrated(raw)
        ses = self.standard_errors(yp.size)
        if self.is_multiclass_:
            codes = _encode(yp, self.classes_, "y_pred")
            values = _multiclass_estimates(p, codes, raw)
            ses["accuracy"] = _bernoulli_se(p[np.arange(codes.size), codes])
        else:
            pred = np.asarray(yp == self.pos_label, dtype=np.bool_)
            values = _binary_estimates(p, pred, raw)
            ses["accuracy"] = _bernoulli_se(np.where(pred, p, 1.0 - p))
            ses["precision"] = _bernoulli_se(p[pred])
        return {name: with_band(v, ses[name], self.band, 0.0, 1.0) for name, v in values.items()}


def _plain(value: object) -> object:
    """A label as a JSON value (numpy scalars become Python ones)."""
    return value.item() if isinstance(value, np.generic) else value


def _nan_if_none(value: float | None) -> float:
    return math.nan if value is None else float(value)
