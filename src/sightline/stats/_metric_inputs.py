"""Inputs of the performance metrics: checked labels, scores and targets, and class encoding.

Shared by :mod:`~sightline.stats._classification`, :mod:`~sightline.stats._scores` and
:mod:`~sightline.stats._regression`, together with the two numeric rules every metric
follows: :data:`EPS` as the floor of probabilities and denominators, and ``nan`` (never 0)
for a zero denominator (:func:`divide`).
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

from sightline._types import BoolArray, FloatArray
from sightline._validate import as_float_array
from sightline.errors import InvalidInputError

#: Probability clip and MAPE denominator floor: float64 machine epsilon, as scikit-learn.
EPS: Final = float(np.finfo(np.float64).eps)

_NUMERIC_KINDS: Final = frozenset("biuf")
_STRING_KINDS: Final = frozenset("US")

#: A 1-D array of labels of any sortable type (integers, strings, booleans).
LabelArray = npt.NDArray[Any]


def check_labels(y: npt.ArrayLike, name: str) -> LabelArray:
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


def check_values(x: npt.ArrayLike, name: str, *, ndim: int = 1) -> FloatArray:
    """Return ``x`` as a float64 array of ``ndim`` dimensions, all finite."""
    arr = as_float_array(x, name)
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


def check_same_length(a: npt.NDArray[Any], b: npt.NDArray[Any], name_a: str, name_b: str) -> None:
    """Raise unless ``a`` and ``b`` have as many rows."""
    if a.shape[0] != b.shape[0]:
        raise InvalidInputError(
            f"{name_a} and {name_b} must have the same length, got {a.shape[0]} and {b.shape[0]}"
        )


def check_scored(
    y_true: npt.ArrayLike, y_score: npt.ArrayLike, score_name: str
) -> tuple[LabelArray, FloatArray]:
    """Labels and finite 1-D scores of equal length; ``score_name`` is the scores' argument."""
    yt = check_labels(y_true, "y_true")
    score = check_values(y_score, score_name)
    check_same_length(yt, score, "y_true", score_name)
    return yt, score


def check_unique(labels: LabelArray, name: str) -> None:
    """Raise if ``labels`` holds a label twice."""
    if np.unique(labels).size != labels.size:
        raise InvalidInputError(
            f"{name} must not contain duplicates, got {labels.tolist()!r}", field=name
        )


def _kind_group(arr: LabelArray) -> str:
    kind = arr.dtype.kind
    if kind in _NUMERIC_KINDS:
        return "number"
    if kind in _STRING_KINDS:
        return "string"
    return kind


def sorted_classes(arrays: list[LabelArray], names: str) -> LabelArray:
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


def index_of(classes: LabelArray, value: object) -> int | None:
    """Position of ``value`` among ``classes`` (a loop over classes, not rows)."""
    for i, c in enumerate(classes.tolist()):
        if c == value:
            return i
    return None


def positive_mask(y_true: LabelArray, pos_label: object) -> BoolArray:
    """``y_true == pos_label``; raise when ``pos_label`` is absent but 2+ classes are present."""
    classes, inverse = np.unique(y_true, return_inverse=True)
    idx = index_of(classes, pos_label)
    if idx is None:
        if classes.size >= 2:
            raise InvalidInputError(
                f"pos_label={pos_label!r} is not among the labels of y_true "
                f"{classes.tolist()!r}; pass pos_label= one of them",
                field="pos_label",
            )
        return np.zeros(y_true.shape[0], dtype=np.bool_)
    return np.asarray(inverse.reshape(-1) == idx, dtype=np.bool_)


def divide(num: FloatArray, den: FloatArray) -> FloatArray:
    """``num / den`` with ``nan`` where ``den == 0``."""
    out = np.full(np.shape(num), np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


__all__ = [
    "EPS",
    "LabelArray",
    "check_labels",
    "check_same_length",
    "check_scored",
    "check_unique",
    "check_values",
    "divide",
    "index_of",
    "positive_mask",
    "sorted_classes",
]
