"""Realized performance metrics for classification and regression, equal to scikit-learn.

Every metric takes 1-D arrays of one window (chunk) and returns a Python ``float``.
Classification labels may be of any sortable type (integers, strings, booleans); the
classes are the sorted union of ``y_true`` and ``y_pred`` unless ``labels=`` is given.

Edge-case rules shared by every function (METHODS.md section 9, "chunk rule"):

- A metric whose denominator is zero is ``nan``, never 0 (precision with no predicted
  positives, recall with no true positives, ROC AUC with one class in ``y_true``,
  average precision with no positives). scikit-learn is matched with
  ``zero_division=np.nan``; where scikit-learn returns 0 with a warning instead (average
  precision without positives) this module returns ``nan``.
- Empty inputs are not an error: every metric of an empty window is ``nan`` (a confusion
  matrix of an empty window is all zeros).
- Missing values (NaN, ``None``) in ``y_true``, ``y_pred`` or scores raise
  :class:`~sightline.errors.InvalidInputError` naming the argument: the analysis layer
  drops rows with missing targets before calling.

No scikit-learn import: scikit-learn is the test oracle only.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata

from sightline._types import BoolArray, FloatArray, IntArray
from sightline.errors import InvalidInputError

#: The ``average=`` options of :func:`precision`, :func:`recall` and :func:`f1`.
Average = Literal["binary", "macro", "weighted"]

#: Probability clip and MAPE denominator floor: float64 machine epsilon, as scikit-learn.
EPS: Final = float(np.finfo(np.float64).eps)

_AVERAGES: Final = ("binary", "macro", "weighted")
_NUMERIC_KINDS: Final = frozenset("biuf")
_STRING_KINDS: Final = frozenset("US")

_LabelArray = npt.NDArray[Any]


# --------------------------------------------------------------------------- validation


def _check_labels(y: npt.ArrayLike, name: str) -> _LabelArray:
    """Return ``y`` as a 1-D array of labels without missing values."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise InvalidInputError(
            f"{name} must be 1-D (one label per row), got {arr.ndim} dimensions", field=name
        )
    if arr.dtype.kind == "f":
        missing = np.isnan(arr)
    elif arr.dtype.kind == "O":
        is_none = np.asarray(arr == None, dtype=np.bool_)  # noqa: E711 (elementwise)
        missing = np.asarray(np.not_equal(arr, arr), dtype=np.bool_) | is_none
    else:
        return arr
    n_missing = int(np.count_nonzero(missing))
    if n_missing:
        raise InvalidInputError(
            f"{name} must not contain missing values (NaN or None), got {n_missing} of "
            f"{arr.size}; drop those rows before computing metrics",
            field=name,
        )
    return arr


def _check_values(x: npt.ArrayLike, name: str, *, ndim: int = 1) -> FloatArray:
    """Return ``x`` as a float64 array of ``ndim`` dimensions, all finite."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be numeric, got {exc}", field=name) from exc
    if arr.ndim != ndim:
        raise InvalidInputError(
            f"{name} must be {ndim}-D, got {arr.ndim} dimensions (shape {arr.shape})", field=name
        )
    n_nan = int(np.count_nonzero(np.isnan(arr)))
    if n_nan:
        raise InvalidInputError(
            f"{name} must not contain NaN, got {n_nan} of {arr.size} values; "
            "drop those rows before computing metrics",
            field=name,
        )
    if np.isinf(arr).any():
        raise InvalidInputError(f"{name} must not contain infinity", field=name)
    return arr


def _check_same_length(a: npt.NDArray[Any], b: npt.NDArray[Any], name_a: str, name_b: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise InvalidInputError(
            f"{name_a} and {name_b} must have the same length, got {a.shape[0]} and {b.shape[0]}"
        )


def _kind_group(arr: _LabelArray) -> str:
    kind = arr.dtype.kind
    if kind in _NUMERIC_KINDS:
        return "number"
    if kind in _STRING_KINDS:
        return "string"
    return kind


def _classes(arrays: list[_LabelArray], names: str) -> _LabelArray:
    """Sorted distinct labels of ``arrays``; raise when their types cannot be compared."""
    groups = {_kind_group(a) for a in arrays if a.size}
    if "number" in groups and "string" in groups:
        raise InvalidInputError(
            f"{names} must hold labels of one type, got numbers and strings "
            f"({', '.join(str(a.dtype) for a in arrays)})"
        )
    try:
        return np.unique(np.concatenate(arrays))
    except TypeError as exc:
        raise InvalidInputError(
            f"{names} must hold labels of one comparable type, got {exc}"
        ) from exc


def _index_of(classes: _LabelArray, value: object) -> int | None:
    """Position of ``value`` among ``classes`` (a loop over classes, not rows)."""
    for i, c in enumerate(classes.tolist()):
        if c == value:
            return i
    return None


def _check_unique(labels: _LabelArray, name: str) -> None:
    if np.unique(labels).size != labels.size:
        raise InvalidInputError(
            f"{name} must not contain duplicates, got {labels.tolist()!r}", field=name
        )


def _positive_mask(y_true: _LabelArray, pos_label: object) -> BoolArray:
    """``y_true == pos_label``; raise when ``pos_label`` is absent but 2+ classes are present."""
    classes, inverse = np.unique(y_true, return_inverse=True)
    idx = _index_of(classes, pos_label)
    if idx is None:
        if classes.size >= 2:
            raise InvalidInputError(
                f"pos_label={pos_label!r} is not among the labels of y_true "
                f"{classes.tolist()!r}; pass pos_label= one of them",
                field="pos_label",
            )
        return np.zeros(y_true.shape[0], dtype=np.bool_)
    return np.asarray(inverse.reshape(-1) == idx, dtype=np.bool_)


def _divide(num: FloatArray, den: FloatArray) -> FloatArray:
    """``num / den`` with ``nan`` where ``den == 0``."""
    out = np.full(np.shape(num), np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


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


# --------------------------------------------------------------------------- classification


def _encode(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, labels: npt.ArrayLike | None
) -> tuple[_LabelArray, IntArray, IntArray, _LabelArray | None]:
    """Validate, then return ``(classes, true codes, predicted codes, labels)``.

    ``classes`` is the sorted union of ``y_true``, ``y_pred`` and ``labels``.
    """
    yt = _check_labels(y_true, "y_true")
    yp = _check_labels(y_pred, "y_pred")
    _check_same_length(yt, yp, "y_true", "y_pred")
    arrays = [yt, yp]
    lab: _LabelArray | None = None
    if labels is not None:
        lab = _check_labels(labels, "labels")
        arrays.append(lab)
    classes = _classes(
        arrays, "y_true, y_pred and labels" if lab is not None else "y_true and y_pred"
    )
    if lab is not None:
        _check_unique(lab, "labels")
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
        idx = _index_of(classes, pos_label)
        if _index_of(known, pos_label) is None and known.size >= 2:
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
    prec = _divide(tp, pred_sum)
    rec = _divide(tp, true_sum)
    f_score = _divide(2.0 * tp, true_sum + pred_sum)
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


def _auc_per_column(positive: BoolArray, scores: FloatArray) -> FloatArray:
    """Mann-Whitney AUC of every column of ``scores`` (n, k) for the masks (n, k)."""
    ranks = rankdata(scores, axis=0)  # midranks for ties
    n_pos = positive.sum(axis=0).astype(np.float64)
    n_neg = positive.shape[0] - n_pos
    rank_sum = np.sum(ranks * positive, axis=0)
    return _divide(rank_sum - n_pos * (n_pos + 1.0) / 2.0, n_pos * n_neg)


def _auc(positive: BoolArray, score: FloatArray) -> float:
    if score.size == 0:
        return float("nan")
    return float(_auc_per_column(positive[:, None], score[:, None])[0])


def _average_precision(positive: BoolArray, score: FloatArray) -> float:
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


def _log_loss(positive: BoolArray, proba: FloatArray) -> float:
    if proba.size == 0:
        return float("nan")
    q = np.clip(np.where(positive, proba, 1.0 - proba), EPS, 1.0 - EPS)
    return float(-np.mean(np.log(q)))


def _check_scored(
    y_true: npt.ArrayLike, y_score: npt.ArrayLike, score_name: str
) -> tuple[_LabelArray, FloatArray]:
    yt = _check_labels(y_true, "y_true")
    score = _check_values(y_score, score_name)
    _check_same_length(yt, score, "y_true", score_name)
    return yt, score


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
    yt, score = _check_scored(y_true, y_score, "y_score")
    return _auc(_positive_mask(yt, pos_label), score)


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
    yt = _check_labels(y_true, "y_true")
    sc = _check_values(scores, "scores", ndim=2)
    cls = _check_labels(classes, "classes")
    _check_same_length(yt, sc, "y_true", "scores")
    if sc.shape[1] != cls.size:
        raise InvalidInputError(
            f"scores must have one column per class, got {sc.shape[1]} columns "
            f"and {cls.size} classes",
            field="scores",
        )
    _check_unique(cls, "classes")
    if yt.size == 0:
        return float("nan")
    sorted_cls = _classes([cls], "classes")
    known = _classes([sorted_cls, yt], "y_true and classes")
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
    y_true
        1-D labels; rows equal to ``pos_label`` are positive.
    y_score
        1-D finite scores, larger meaning more likely positive.
    pos_label
        The positive class.

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
    yt, score = _check_scored(y_true, y_score, "y_score")
    return _average_precision(_positive_mask(yt, pos_label), score)


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
    yt, proba = _check_scored(y_true, y_proba, "y_proba")
    _check_proba(proba, "y_proba")
    return _log_loss(_positive_mask(yt, pos_label), proba)


def _default_pos_label(classes: _LabelArray) -> object:
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
    yt = _check_labels(y_true, "y_true")
    yp = _check_labels(y_pred, "y_pred")
    lab = None if labels is None else _check_labels(labels, "labels")
    known = lab if lab is not None else _classes([yt, yp], "y_true and y_pred")
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
            _, s = _check_scored(yt, score, "y_score")
            positive = np.asarray(yt == pos, dtype=np.bool_)
            in_unit = s.size == 0 or (s.min() >= 0.0 and s.max() <= 1.0)
            out |= {
                "roc_auc": _auc(positive, s),
                "average_precision": _average_precision(positive, s),
                "log_loss": _log_loss(positive, s) if in_unit else float("nan"),
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


# --------------------------------------------------------------------------- regression


def _check_regression(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    yt = _check_values(y_true, "y_true")
    yp = _check_values(y_pred, "y_pred")
    _check_same_length(yt, yp, "y_true", "y_pred")
    return yt, yp


def _mae(yt: FloatArray, yp: FloatArray) -> float:
    return float(np.mean(np.abs(yp - yt))) if yt.size else float("nan")


def _rmse(yt: FloatArray, yp: FloatArray) -> float:
    return float(np.sqrt(np.mean((yp - yt) ** 2))) if yt.size else float("nan")


def _mape(yt: FloatArray, yp: FloatArray) -> float:
    if yt.size == 0:
        return float("nan")
    return float(np.mean(np.abs(yp - yt) / np.maximum(np.abs(yt), EPS)))


def _r2(yt: FloatArray, yp: FloatArray) -> float:
    if yt.size < 2:
        return float("nan")
    ss_res = float(np.sum((yt - yp) ** 2))
    ss_tot = float(np.sum((yt - np.mean(yt)) ** 2))
    if ss_tot == 0.0 or bool(np.all(yt == yt[0])):
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


def _mean_error(yt: FloatArray, yp: FloatArray) -> float:
    return float(np.mean(yp - yt)) if yt.size else float("nan")


def mae(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Mean absolute error mean(|y_pred - y_true|).

    Parameters
    ----------
    y_true, y_pred
        1-D finite numbers of equal length.

    Returns
    -------
    MAE; ``nan`` for an empty window.

    Raises
    ------
    InvalidInputError
        Different lengths, NaN or infinite values, non-numeric values.

    References
    ----------
    scikit-learn ``sklearn.metrics.mean_absolute_error``.

    Examples
    --------
    >>> mae([0.0, 2.0, 4.0], [1.0, 2.0, 5.0])
    0.666...
    """
    return _mae(*_check_regression(y_true, y_pred))


def rmse(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Root mean squared error sqrt(mean((y_pred - y_true)^2)).

    Parameters
    ----------
    y_true, y_pred
        1-D finite numbers of equal length.

    Returns
    -------
    RMSE; ``nan`` for an empty window.

    Raises
    ------
    InvalidInputError
        As for :func:`mae`.

    References
    ----------
    scikit-learn ``sklearn.metrics.root_mean_squared_error``.

    Examples
    --------
    >>> rmse([0.0, 2.0, 4.0], [1.0, 2.0, 5.0])
    0.8164965809...
    """
    return _rmse(*_check_regression(y_true, y_pred))


def mape(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Mean absolute percentage error mean(|y_pred - y_true| / max(|y_true|, EPS)).

    Parameters
    ----------
    y_true, y_pred
        1-D finite numbers of equal length.

    Returns
    -------
    MAPE as a fraction (0.25 is 25 %); ``nan`` for an empty window. A zero target divides
    by ``EPS = np.finfo(np.float64).eps``, giving values of order 1e15 (finite), exactly
    as scikit-learn.

    Raises
    ------
    InvalidInputError
        As for :func:`mae`.

    References
    ----------
    scikit-learn ``sklearn.metrics.mean_absolute_percentage_error``.

    Examples
    --------
    >>> mape([1.0, 2.0, 4.0], [1.5, 2.0, 5.0])
    0.25
    """
    return _mape(*_check_regression(y_true, y_pred))


def r2(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Coefficient of determination 1 - SS_res / SS_tot.

    Parameters
    ----------
    y_true, y_pred
        1-D finite numbers of equal length.

    Returns
    -------
    R² (at most 1, unbounded below). Constant ``y_true``: 1.0 for a perfect prediction,
    else 0.0 (scikit-learn ``force_finite=True``); constancy is tested as "all values
    equal", so rounding in the mean cannot produce a huge negative value as it can in
    scikit-learn. Fewer than 2 rows: ``nan`` (as scikit-learn).

    Raises
    ------
    InvalidInputError
        As for :func:`mae`.

    References
    ----------
    scikit-learn ``sklearn.metrics.r2_score``.

    Examples
    --------
    >>> r2([0.0, 2.0, 4.0], [1.0, 2.0, 5.0])
    0.75
    >>> r2([3.0, 3.0], [3.0, 2.0])
    0.0
    """
    return _r2(*_check_regression(y_true, y_pred))


def mean_error(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Mean signed error mean(y_pred - y_true), the bias of the predictions.

    Parameters
    ----------
    y_true, y_pred
        1-D finite numbers of equal length.

    Returns
    -------
    Positive when the model over-predicts on average, negative when it under-predicts;
    ``nan`` for an empty window.

    Raises
    ------
    InvalidInputError
        As for :func:`mae`.

    Examples
    --------
    >>> mean_error([0.0, 2.0, 4.0], [1.0, 2.0, 5.0])
    0.666...
    """
    return _mean_error(*_check_regression(y_true, y_pred))


def regression_metrics(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> dict[str, float]:
    """The metrics of one window of a regressor, keyed by metric-row name.

    Parameters
    ----------
    y_true, y_pred
        1-D finite numbers of equal length.

    Returns
    -------
    ``mae``, ``rmse``, ``mape``, ``r2`` and ``mean_error`` as the single-metric functions
    compute them (all ``nan`` for an empty window).

    Raises
    ------
    InvalidInputError
        As for :func:`mae`.

    Examples
    --------
    >>> regression_metrics([0.0, 2.0, 4.0], [1.0, 2.0, 5.0])["r2"]
    0.75
    """
    yt, yp = _check_regression(y_true, y_pred)
    return {
        "mae": _mae(yt, yp),
        "rmse": _rmse(yt, yp),
        "mape": _mape(yt, yp),
        "r2": _r2(yt, yp),
        "mean_error": _mean_error(yt, yp),
    }


__all__ = [
    "EPS",
    "Average",
    "accuracy",
    "average_precision",
    "classification_metrics",
    "confusion_matrix",
    "f1",
    "log_loss",
    "mae",
    "mape",
    "mean_error",
    "precision",
    "r2",
    "recall",
    "regression_metrics",
    "rmse",
    "roc_auc",
    "roc_auc_ovr",
]
