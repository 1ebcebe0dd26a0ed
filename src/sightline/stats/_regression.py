"""Metrics of a regressor: MAE, RMSE, MAPE, R² and mean error, equal to scikit-learn.

Every function takes ``y_true`` and ``y_pred``, 1-D finite numbers of equal length, and
raises :class:`~sightline.errors.InvalidInputError` for different lengths, NaN or infinite
values and non-numeric values; an empty window gives ``nan``. Each single-metric function
checks its inputs and calls its kernel; :func:`regression_metrics` checks once and calls
every kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

import numpy as np
import numpy.typing as npt

from sightline._types import FloatArray
from sightline.stats._metric_inputs import EPS, check_same_length, check_values


def _check_regression(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    yt = check_values(y_true, "y_true")
    yp = check_values(y_pred, "y_pred")
    check_same_length(yt, yp, "y_true", "y_pred")
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


#: The kernels of :func:`regression_metrics`, in the order of its keys (metric-row names).
_KERNELS: Final[Mapping[str, Callable[[FloatArray, FloatArray], float]]] = {
    "mae": _mae,
    "rmse": _rmse,
    "mape": _mape,
    "r2": _r2,
    "mean_error": _mean_error,
}


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
    return {name: kernel(yt, yp) for name, kernel in _KERNELS.items()}


__all__ = ["mae", "mape", "mean_error", "r2", "regression_metrics", "rmse"]
