"""Metrics of a classifier's predicted labels: confusion matrix, accuracy, precision, recall, F1.

Labels of one window are encoded once against the sorted union of classes
(:func:`_encode`); per-class counts from one ``bincount`` give every metric.
:func:`classification_metrics` gathers the metrics of one window, with the score metrics
of :mod:`~sightline.stats._scores`.
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from sightline._types import FloatArray, IntArray
from sightline.errors import InvalidInputError
from sightline.stats._metric_inputs import (
    LabelArray,
    check_labels,
    check_same_length,
    check_scored,
    check_unique,
    divide,
    index_of,
    sorted_classes,
)
from sightline.stats._scores import (
    binary_auc,
    binary_average_precision,
    binary_log_loss,
    roc_auc_ovr,
)

#: The ``average=`` options of :func:`precision`, :func:`recall` and :func:`f1`.
Average = Literal["binary", "macro", "weighted"]

_AVERAGES: Final = ("binary", "macro", "weighted")


def _nanaverage(values: FloatArray, weights: FloatArray | None = None) -> float:
    """Average ignoring ``nan`` entries; zero total weight falls back to the plain mean."""
    keep = ~np.isnan(values)
    if not keep.any():
        return float("nan")
    kept = values[keep]
    if weights is None or float(weights[keep].sum()) == 0.0:
        return float(kept.mean())
    w = weights[keep]
    return float(np.sum(kept * w) / np.sum(w))


def _encode(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, labels: npt.ArrayLike | None
) -> tuple[LabelArray, IntArray, IntArray, LabelArray | None]:
    """Validate, then return ``(classes, true codes, predicted codes, labels)``.

    ``classes`` is the sorted union of ``y_true``, ``y_pred`` and ``labels``.
    """
    yt = check_labels(y_true, "y_true")
    yp = check_labels(y_pred, "y_pred")
    check_same_length(yt, yp, "y_true", "y_pred")
    arrays = [yt, yp]
    lab: LabelArray | None = None
    if labels is not None:
        lab = check_labels(labels, "labels")
        arrays.append(lab)
    classes = sorted_classes(
        arrays, "y_true, y_pred and labels" if lab is not None else "y_true and y_pred"
    )
    if lab is not None:
        check_unique(lab, "labels")
    t = np.searchsorted(classes, yt).astype(np.int64)
    p = np.searchsorted(classes, yp).astype(np.int64)
    return classes, t, p, lab


def _class_counts(t: IntArray, p: IntArray, k: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-class true positives, true counts (support) and predicted counts, as floats."""
    hit = t == p
    tp = np.bincount(t[hit], minlength=k).astype(np.float64)
    true_sum = np.bincount(t, minlength=k).astype(np.float64)
    pred_sum = np.bincount(p, minlength=k).astype(np.float64)
    return tp, true_sum, pred_sum


def _prf(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    average: str,
    pos_label: object,
    labels: npt.ArrayLike | None,
) -> tuple[float, float, float]:
    """Precision, recall and F1 under ``average``; nan for zero denominators."""
    if average not in _AVERAGES:
        raise InvalidInputError(
            f"average must be one of {list(_AVERAGES)}, got {average!r}", field="average"
        )
    classes, t, p, lab = _encode(y_true, y_pred, labels)
    tp, true_sum, pred_sum = _class_counts(t, p, classes.size)
    if average == "binary":
        known = lab if lab is not None else classes
        idx = index_of(classes, pos_label)
        if index_of(known, pos_label) is None and known.size >= 2:
            raise InvalidInputError(
                f"pos_label={pos_label!r} is not among the labels {known.tolist()!r}; "
                "pass pos_label= one of them",
                field="pos_label",
            )
        if idx is None:
            return float("nan"), float("nan"), float("nan")
        select = np.array([idx], dtype=np.int64)
    elif lab is not None:
        select = np.searchsorted(classes, lab).astype(np.int64)
    else:
        select = np.arange(classes.size, dtype=np.int64)
    tp, true_sum, pred_sum = tp[select], true_sum[select], pred_sum[select]
    prec = divide(tp, pred_sum)
    rec = divide(tp, true_sum)
    f_score = divide(2.0 * tp, true_sum + pred_sum)
    weights = true_sum if average == "weighted" else None
    return _nanaverage(prec, weights), _nanaverage(rec, weights), _nanaverage(f_score, weights)


def confusion_matrix(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, labels: npt.ArrayLike | None = None
) -> IntArray:
    """Confusion matrix: rows are true classes, columns predicted classes.

    Parameters
    ----------
    y_true, y_pred
        1-D arrays of labels of one sortable type (integers, strings, booleans).
    labels
        Classes to show, in this order. Rows whose true or predicted label is not in
        ``labels`` are left out (as scikit-learn). Default: the sorted union of ``y_true``
        and ``y_pred``.

    Returns
    -------
    Counts of shape ``(n_classes, n_classes)``, int64. An empty window gives zeros (shape
    ``(0, 0)`` without ``labels``); unlike scikit-learn, ``labels`` absent from ``y_true``
    is not an error.

    Raises
    ------
    InvalidInputError
        Different lengths, missing labels, mixed label types, duplicate ``labels``.

    References
    ----------
    scikit-learn ``sklearn.metrics.confusion_matrix`` (the oracle of the tests).

    Examples
    --------
    >>> confusion_matrix(["cat", "dog", "dog"], ["cat", "cat", "dog"])
    array([[1, 0],
           [1, 1]])
    """
    classes, t, p, lab = _encode(y_true, y_pred, labels)
    k = classes.size
    full = np.bincount(t * k + p, minlength=k * k).astype(np.int64).reshape(k, k)
    if lab is None:
        return full
    idx = np.searchsorted(classes, lab)
    return full[np.ix_(idx, idx)]


def accuracy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Share of rows whose predicted label equals the true label.

    Parameters
    ----------
    y_true, y_pred
        1-D arrays of labels of one sortable type.

    Returns
    -------
    Accuracy in ``[0, 1]``; ``nan`` for an empty window.

    References
    ----------
    scikit-learn ``sklearn.metrics.accuracy_score``.

    Examples
    --------
    >>> accuracy([0, 1, 1, 0], [0, 1, 0, 0])
    0.75
    """
    _, t, p, _ = _encode(y_true, y_pred, None)
    if t.size == 0:
        return float("nan")
    return float(np.mean(t == p))


def precision(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    average: Average = "binary",
    pos_label: object = 1,
    labels: npt.ArrayLike | None = None,
) -> float:
    """Precision TP / (TP + FP).

    Parameters
    ----------
    y_true, y_pred
        1-D arrays of labels of one sortable type.
    average
        ``"binary"``: precision of class ``pos_label`` against all other labels (for any
        number of classes). ``"macro"``: unweighted mean over classes. ``"weighted"``:
        mean weighted by each class's support (number of true rows).
    pos_label
        The positive class for ``average="binary"``.
    labels
        Classes averaged over for ``"macro"``/``"weighted"`` (default: the sorted union of
        ``y_true`` and ``y_pred``); for ``"binary"``, the known classes that ``pos_label``
        must belong to.

    Returns
    -------
    Precision in ``[0, 1]``. A class with no predicted rows has undefined precision,
    ``nan`` (never 0). Averages skip undefined classes and re-normalise the weights over
    the defined ones, and are ``nan`` only when every class is undefined: this is
    scikit-learn's ``zero_division=np.nan``. Empty windows give ``nan``.

    Raises
    ------
    InvalidInputError
        Bad ``average``; ``pos_label`` absent while two or more classes are known (as
        scikit-learn); the input errors of :func:`confusion_matrix`.

    References
    ----------
    scikit-learn ``sklearn.metrics.precision_score(..., zero_division=np.nan)``.

    Examples
    --------
    >>> precision([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    >>> precision([0, 0], [0, 0])  # no predicted positives
    nan
    """
    return _prf(y_true, y_pred, average, pos_label, labels)[0]


def recall(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    average: Average = "binary",
    pos_label: object = 1,
    labels: npt.ArrayLike | None = None,
) -> float:
    """Recall (true positive rate) TP / (TP + FN).

    Parameters
    ----------
    y_true, y_pred, average, pos_label, labels
        As for :func:`precision`.

    Returns
    -------
    Recall in ``[0, 1]``. A class with no true rows has undefined recall, ``nan``;
    averages skip undefined classes (scikit-learn ``zero_division=np.nan``). Empty
    windows give ``nan``.

    Raises
    ------
    InvalidInputError
        As for :func:`precision`.

    References
    ----------
    scikit-learn ``sklearn.metrics.recall_score(..., zero_division=np.nan)``.

    Examples
    --------
    >>> recall([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    >>> recall(["a", "b", "c"], ["a", "b", "b"], average="macro")
    0.666...
    """
    return _prf(y_true, y_pred, average, pos_label, labels)[1]


def f1(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    average: Average = "binary",
    pos_label: object = 1,
    labels: npt.ArrayLike | None = None,
) -> float:
    """F1 score 2 TP / (2 TP + FP + FN), the harmonic mean of precision and recall.

    Parameters
    ----------
    y_true, y_pred, average, pos_label, labels
        As for :func:`precision`.

    Returns
    -------
    F1 in ``[0, 1]``. Undefined (``nan``) only for a class with neither true nor
    predicted rows; a class whose precision alone is undefined has F1 = 0, as in
    scikit-learn. Averages skip undefined classes (scikit-learn ``zero_division=np.nan``).
    Empty windows give ``nan``.

    Raises
    ------
    InvalidInputError
        As for :func:`precision`.

    References
    ----------
    scikit-learn ``sklearn.metrics.f1_score(..., zero_division=np.nan)``.

    Examples
    --------
    >>> f1([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    >>> f1([0, 0], [0, 0])  # no positives at all
    nan
    """
    return _prf(y_true, y_pred, average, pos_label, labels)[2]


def _default_pos_label(classes: LabelArray) -> object:
    """1 for 0/1 (or boolean) labels, else the largest class."""
    values = classes.tolist()
    if all(v in (0, 1) for v in values) or not values:
        return 1
    return values[-1]


def classification_metrics(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    y_score: npt.ArrayLike | None = None,
    *,
    pos_label: object = None,
    labels: npt.ArrayLike | None = None,
) -> dict[str, float]:
    """The metrics of one window of a classifier, keyed by metric-row name.

    Parameters
    ----------
    y_true, y_pred
        1-D labels of one sortable type.
    y_score
        Optional scores. Binary: 1-D score (probability) of the positive class.
        Multiclass: ``(n, n_classes)`` scores in the column order of ``labels``.
    pos_label
        Makes the problem binary (``pos_label`` against the rest). Default: binary when
        at most 2 classes are known, with positive class 1 for 0/1 or boolean labels and
        the largest class otherwise; pass it explicitly for windows that may hold a
        single class.
    labels
        All classes of the model (the column order of a 2-D ``y_score``). Default: the
        sorted union of ``y_true`` and ``y_pred``.

    Returns
    -------
    Binary: ``accuracy``, ``precision``, ``recall``, ``f1``, and with ``y_score`` also
    ``roc_auc``, ``average_precision`` and ``log_loss`` (``nan`` when the scores are not
    within ``[0, 1]``). Multiclass: ``accuracy``, ``precision_macro``, ``recall_macro``,
    ``f1_macro``, ``f1_weighted``, and ``roc_auc`` (one-vs-rest macro) with a 2-D
    ``y_score``. Undefined metrics are ``nan`` as in the single-metric functions.

    Raises
    ------
    InvalidInputError
        A 2-D ``y_score`` for a binary problem, a 1-D one for a multiclass problem, and
        the errors of the single-metric functions.

    Examples
    --------
    >>> m = classification_metrics([0, 1, 1, 0], [0, 1, 0, 0], [0.2, 0.9, 0.4, 0.3])
    >>> m["accuracy"], m["precision"], m["recall"], m["roc_auc"]
    (0.75, 1.0, 0.5, 1.0)
    """
    yt = check_labels(y_true, "y_true")
    yp = check_labels(y_pred, "y_pred")
    lab = None if labels is None else check_labels(labels, "labels")
    known = lab if lab is not None else sorted_classes([yt, yp], "y_true and y_pred")
    out: dict[str, float] = {"accuracy": accuracy(yt, yp)}
    if pos_label is not None or known.size <= 2:
        pos = _default_pos_label(known) if pos_label is None else pos_label
        p, r, f = _prf(yt, yp, "binary", pos, lab)
        out |= {"precision": p, "recall": r, "f1": f}
        if y_score is not None:
            score = np.asarray(y_score)
            if score.ndim != 1:
                raise InvalidInputError(
                    "y_score of a binary problem must be the 1-D score of the positive class, "
                    f"got shape {score.shape}",
                    field="y_score",
                )
            _, s = check_scored(yt, score, "y_score")
            positive = np.asarray(yt == pos, dtype=np.bool_)
            in_unit = s.size == 0 or (s.min() >= 0.0 and s.max() <= 1.0)
            out |= {
                "roc_auc": binary_auc(positive, s),
                "average_precision": binary_average_precision(positive, s),
                "log_loss": binary_log_loss(positive, s) if in_unit else float("nan"),
            }
        return out
    p, r, f = _prf(yt, yp, "macro", None, lab)
    out |= {
        "precision_macro": p,
        "recall_macro": r,
        "f1_macro": f,
        "f1_weighted": _prf(yt, yp, "weighted", None, lab)[2],
    }
    if y_score is not None:
        score = np.asarray(y_score)
        if score.ndim != 2:
            raise InvalidInputError(
                f"y_score of a multiclass problem must have shape (n, {known.size}), "
                f"got {score.shape}",
                field="y_score",
            )
        out["roc_auc"] = roc_auc_ovr(yt, score, known)
    return out


__all__ = [
    "Average",
    "accuracy",
    "classification_metrics",
    "confusion_matrix",
    "f1",
    "precision",
    "recall",
]
