"""Argument checks that raise :class:`~sightline.errors.InvalidInputError` naming the field."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from sightline._types import FloatArray
from sightline.errors import InvalidInputError


def as_float_array(x: npt.ArrayLike, name: str) -> FloatArray:
    """Return ``x`` as a float64 array of any shape; raise naming ``name`` if it is not numeric.

    >>> as_float_array([1, 2], "y_true")
    array([1., 2.])
    """
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be numeric, got {exc}", field=name) from exc


def as_columns(x: npt.ArrayLike, name: str) -> FloatArray:
    """Return ``x`` as a 2-D float64 array ``(n_rows, n_columns)``; 1-D becomes one column.

    NaN and infinity are allowed.

    >>> as_columns([1.0, float("inf")], "x").shape
    (2, 1)
    """
    arr = as_float_array(x, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InvalidInputError(
            f"{name} must be 1-D or 2-D (rows, columns), got {arr.ndim} dimensions", field=name
        )
    return arr


def check_samples(x: npt.ArrayLike, name: str) -> FloatArray:
    """Return ``x`` as a 2-D float64 array ``(n_rows, n_columns)``; 1-D becomes one column.

    NaN is allowed (it means missing); infinity is not.

    >>> check_samples([1.0, 2.0], "reference").shape
    (2, 1)
    """
    arr = as_columns(x, name)
    if np.isinf(arr).any():
        raise InvalidInputError(f"{name} must not contain infinity", field=name)
    return arr


def check_counts(x: npt.ArrayLike, name: str) -> FloatArray:
    """Return bin counts as a 2-D float64 array ``(n_bins, n_columns)``; 1-D becomes one column.

    >>> check_counts([3, 0, 1], "current").ravel().tolist()
    [3.0, 0.0, 1.0]
    """
    arr = check_samples(x, name)
    if np.isnan(arr).any() or (arr < 0).any():
        raise InvalidInputError(f"{name} counts must be finite and >= 0", field=name)
    return arr


def check_same_columns(a: npt.NDArray[np.generic], b: npt.NDArray[np.generic], names: str) -> None:
    """Raise unless ``a`` and ``b`` have the same number of columns (axis 1).

    >>> check_same_columns(np.zeros((2, 3)), np.zeros((5, 3)), "reference and current")
    """
    if a.shape[1] != b.shape[1]:
        raise InvalidInputError(
            f"{names} must have the same number of columns, got {a.shape[1]} and {b.shape[1]}"
        )


def check_same_shape(a: npt.NDArray[np.generic], b: npt.NDArray[np.generic], names: str) -> None:
    """Raise unless ``a`` and ``b`` have the same shape.

    >>> check_same_shape(np.zeros((2, 3)), np.zeros((2, 3)), "reference and current")
    """
    if a.shape != b.shape:
        raise InvalidInputError(f"{names} must have the same shape, got {a.shape} and {b.shape}")


def check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    """Return ``value`` as an int if it is one (not a bool) in ``[low, high]``, else raise
    naming ``name``.

    >>> check_int("k", 8, 1), check_int("lg_k", 12, 4, 21)
    (8, 12)
    >>> check_int("burst", 0, 1)
    Traceback (most recent call last):
    ...
    sightline.errors.InvalidInputError: burst must be an integer >= 1, got 0
    """
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        number = int(value)
        if number >= low and (high is None or number <= high):
            return number
    bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
    raise InvalidInputError(f"{name} must be an integer {bounds}, got {value!r}", field=name)


def finite_or_none(value: float | None) -> float | None:
    """``value`` as a float, or ``None`` when it is missing, NaN or infinite: the one way a
    number that is not one becomes JSON ``null``.

    >>> finite_or_none(0.5), finite_or_none(float("nan")), finite_or_none(float("inf"))
    (0.5, None, None)
    """
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def check_in_range(
    name: str,
    value: float,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Return ``value`` if it is a finite number in the range, else raise naming ``name``.

    >>> check_in_range("alpha", 0.05, low=0.0, high=1.0, low_inclusive=False)
    0.05
    """
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value >= low if low_inclusive else value > low) and (
            value <= high if high_inclusive else value < high
        )
    if not ok:
        lo = "[" if low_inclusive else "("
        hi = "]" if high_inclusive else ")"
        raise InvalidInputError(
            f"{name} must be a finite number in {lo}{low}, {high}{hi}, got {value!r}", field=name
        )
    return float(value)


__all__ = [
    "as_columns",
    "as_float_array",
    "check_counts",
    "check_in_range",
    "check_int",
    "check_same_columns",
    "check_same_shape",
    "check_samples",
    "finite_or_none",
]
