"""Metrics of a binary or multiclass classifier's scores: ROC AUC, average precision, log loss.

The single-metric functions check their inputs; the ``binary_*`` kernels take a checked
boolean mask of positive rows and finite scores, so that
:func:`~sightline.stats._classification.classification_metrics` checks once for all three.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata

from sightline._types import BoolArray, FloatArray
from sightline.errors import InvalidInputError
from sightline.stats._metric_inputs import (
    EPS,
    check_labels,
    check_same_length,
    check_scored,
    check_unique,
    check_values,
    divide,
    positive_mask,
    sorted_classes,
)


def _auc_per_column(positive: BoolArray, scores: FloatArray) -> FloatArray:
    """Mann-Whitney AUC of every column of ``scores`` (n, k) for the masks (n, k)."""
    ranks = rankdata(scores, axis=0)  # midranks for ties
    n_pos = positive.sum(axis=0).astype(np.float64)
    n_neg = positive.shape[0] - n_pos
    rank_sum = np.sum(ranks * positive, axis=0)
    return divide(rank_sum - n_pos * (n_pos + 1.0) / 2.0, n_pos * n_neg)


def binary_auc(positive: BoolArray, score: FloatArray) -> float:
    """ROC AUC of checked scores; ``nan`` for an empty window or a single class."""
    if score.size == 0:
        return float("nan")
    return float(_auc_per_column(positive[:, None], score[:, None])[0])


def binary_average_precision(positive: BoolArray, score: FloatArray) -> float:
    """Average precision of checked scores; ``nan`` without positive rows."""
    n_pos = int(np.count_nonzero(positive))
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-score, kind="stable")
    s = score[order]
    # the last row of each group of tied scores is one threshold, as precision_recall_curve
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tps = np.cumsum(positive[order], dtype=np.float64)[last]
    prec = tps / (last + 1.0)
    rec = tps / n_pos
    return float(np.sum(np.diff(rec, prepend=0.0) * prec))


def binary_log_loss(positive: BoolArray, proba: FloatArray) -> float:
    """Log loss of checked probabilities in [0, 1]; ``nan`` for an empty window."""
    if proba.size == 0:
        return float("nan")
    q = np.clip(np.where(positive, proba, 1.0 - proba), EPS, 1.0 - EPS)
    return float(-np.mean(np.log(q)))


def roc_auc(y_true: npt.ArrayLike, y_score: npt.ArrayLike, *, pos_label: object = 1) -> float:
    """Area under the ROC curve of a binary classifier.

    Computed as the Mann-Whitney statistic P(score_pos > score_neg) + P(tie) / 2, with
    midranks for tied scores: the same number as the trapezoidal area under the ROC
    curve.

    Parameters
    ----------
    y_true
        1-D labels; rows equal to ``pos_label`` are positive, all others negative.
    y_score
        1-D finite scores, larger meaning more likely positive.
    pos_label
        The positive class.

    Returns
    -------
    AUC in ``[0, 1]``; ``nan`` when ``y_true`` has only one class (or none).

    Raises
    ------
    InvalidInputError
        Different lengths, missing labels, NaN or infinite scores, ``pos_label`` absent
        while ``y_true`` has two or more classes.

    References
    ----------
    T. Fawcett (2006), "An introduction to ROC analysis", Pattern Recognition Letters 27.
    scikit-learn ``sklearn.metrics.roc_auc_score`` (the oracle of the tests).

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> roc_auc([1, 1], [0.2, 0.9])
    nan
    """
    yt, score = check_scored(y_true, y_score, "y_score")
    return binary_auc(positive_mask(yt, pos_label), score)


def roc_auc_ovr(y_true: npt.ArrayLike, scores: npt.ArrayLike, classes: npt.ArrayLike) -> float:
    """Macro-averaged one-vs-rest ROC AUC of a multiclass classifier.

    Parameters
    ----------
    y_true
        1-D labels, each one of ``classes``.
    scores
        Finite scores of shape ``(n, n_classes)``; column ``j`` scores ``classes[j]``.
        Unlike scikit-learn, rows need not sum to 1.
    classes
        The classes in the column order of ``scores``, without duplicates.

    Returns
    -------
    Mean over classes of the AUC of class ``j`` against the rest; ``nan`` when some class
    is absent from ``y_true`` (or every row belongs to it), as scikit-learn, and for an
    empty window.

    Raises
    ------
    InvalidInputError
        Shapes that disagree, NaN or infinite scores, labels outside ``classes``.

    References
    ----------
    scikit-learn ``sklearn.metrics.roc_auc_score(..., multi_class="ovr", average="macro")``.

    Examples
    --------
    >>> roc_auc_ovr(["a", "b", "c", "a"],
    ...             [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4], [0.5, 0.4, 0.1]],
    ...             ["a", "b", "c"])
    1.0
    """
    yt = check_labels(y_true, "y_true")
    sc = check_values(scores, "scores", ndim=2)
    cls = check_labels(classes, "classes")
    check_same_length(yt, sc, "y_true", "scores")
    if sc.shape[1] != cls.size:
        raise InvalidInputError(
            f"scores must have one column per class, got {sc.shape[1]} columns "
            f"and {cls.size} classes",
            field="scores",
        )
    check_unique(cls, "classes")
    if yt.size == 0:
        return float("nan")
    sorted_cls = sorted_classes([cls], "classes")
    known = sorted_classes([sorted_cls, yt], "y_true and classes")
    if known.size != sorted_cls.size:
        extra = np.setdiff1d(known, sorted_cls)
        raise InvalidInputError(
            f"y_true contains labels not in classes: {extra.tolist()!r}", field="y_true"
        )
    column_of = np.argsort(np.searchsorted(sorted_cls, cls))  # sorted position -> column
    col = column_of[np.searchsorted(sorted_cls, yt)]
    positive = col[:, None] == np.arange(cls.size)[None, :]
    per_class = _auc_per_column(positive, sc)
    return float(np.mean(per_class))


def average_precision(
    y_true: npt.ArrayLike, y_score: npt.ArrayLike, *, pos_label: object = 1
) -> float:
    """Average precision: the step-wise area under the precision-recall curve.

    AP = sum_k (R_k - R_{k-1}) P_k over the distinct score thresholds in decreasing order
    (rows with tied scores enter together), as scikit-learn.

    Parameters
    ----------
    y_true, y_score, pos_label
        As for :func:`roc_auc`.

    Returns
    -------
    AP in ``[0, 1]``; ``nan`` when there are no positive rows (scikit-learn returns 0 with
    a warning) and for an empty window.

    Raises
    ------
    InvalidInputError
        As for :func:`roc_auc`.

    References
    ----------
    scikit-learn ``sklearn.metrics.average_precision_score``.

    Examples
    --------
    >>> average_precision([0, 1, 1], [0.2, 0.9, 0.4])
    1.0
    >>> average_precision([0, 1, 0, 1], [0.8, 0.7, 0.3, 0.2])
    0.5
    """
    yt, score = check_scored(y_true, y_score, "y_score")
    return binary_average_precision(positive_mask(yt, pos_label), score)


def _check_proba(proba: FloatArray, name: str) -> None:
    if proba.size and (proba.min() < 0.0 or proba.max() > 1.0):
        raise InvalidInputError(
            f"{name} must be probabilities in [0, 1], got values in [{proba.min()}, {proba.max()}]",
            field=name,
        )


def log_loss(y_true: npt.ArrayLike, y_proba: npt.ArrayLike, *, pos_label: object = 1) -> float:
    """Binary cross-entropy -mean(y ln p + (1 - y) ln(1 - p)).

    Parameters
    ----------
    y_true
        1-D labels; rows equal to ``pos_label`` are positive (y = 1).
    y_proba
        1-D probabilities of ``pos_label``, clipped to ``[EPS, 1 - EPS]`` with
        ``EPS = np.finfo(np.float64).eps`` so that a confident miss costs
        ``-ln(EPS) = 36.04`` instead of infinity.
    pos_label
        The positive class.

    Returns
    -------
    Mean log loss; ``nan`` for an empty window. One class in ``y_true`` is fine.

    Raises
    ------
    InvalidInputError
        Probabilities outside ``[0, 1]``, and as for :func:`roc_auc`.

    References
    ----------
    C. M. Bishop (2006), *Pattern Recognition and Machine Learning*, p. 209.
    scikit-learn ``sklearn.metrics.log_loss``.

    Examples
    --------
    >>> round(log_loss([1, 0], [0.0, 0.0]), 8)  # one confident miss: -ln(EPS) / 2
    18.02182669
    """
    yt, proba = check_scored(y_true, y_proba, "y_proba")
    _check_proba(proba, "y_proba")
    return binary_log_loss(positive_mask(yt, pos_label), proba)


__all__ = [
    "average_precision",
    "binary_auc",
    "binary_average_precision",
    "binary_log_loss",
    "log_loss",
    "roc_auc",
    "roc_auc_ovr",
]
