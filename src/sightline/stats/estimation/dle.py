"""Direct loss estimation (DLE) of regressors."""

from __future__ import annotations

import copy
import math
from typing import Final, Protocol, Self

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from sightline._types import FloatArray
from sightline._validate import as_float_array, check_int
from sightline.errors import InvalidInputError, NotFittedError
from sightline.stats._metric_inputs import (
    check_same_length,
    check_values,
)
from sightline.stats.estimation.bands import Estimate, check_band, rms, standard_error, with_band

#: Estimated metrics of a regressor.
REGRESSION_METRICS: Final = ("mae", "rmse")


# ------------------------------------------------------------------------------- DLE


class Regressor(Protocol):
    """A loss model: scikit-learn's ``fit(X, y)`` / ``predict(X)`` (LightGBM fits too)."""

    def fit(self, X: FloatArray, y: FloatArray, /) -> object: ...

    def predict(self, X: FloatArray, /) -> npt.ArrayLike: ...


class NearestNeighborsMean:
    """Mean target of the ``n_neighbors`` nearest reference rows (standardized columns).

    DLE's default loss model. Columns are scaled by the reference's standard deviation;
    a window row far outside the reference gets the loss of its nearest reference rows,
    as a tree model would (no extrapolation).

    Parameters
    ----------
    n_neighbors
        Number of reference rows averaged (capped at the reference size).

    Examples
    --------
    >>> x, y = np.array([[0.0], [1.0], [10.0]]), np.array([1.0, 3.0, 9.0])
    >>> m = NearestNeighborsMean(n_neighbors=2).fit(x, y)
    >>> m.predict(np.array([[0.2], [20.0]]))
    array([2., 6.])
    """

    def __init__(self, n_neighbors: int = 30) -> None:
        self.n_neighbors = n_neighbors

    def __repr__(self) -> str:
        return f"NearestNeighborsMean(n_neighbors={self.n_neighbors!r})"

    def fit(self, X: FloatArray, y: FloatArray) -> Self:
        """Index the reference rows ``X`` (n, k) with their targets ``y``, (n,) or (n, m)."""
        check_int("n_neighbors", self.n_neighbors, 1)
        self.center_ = X.mean(axis=0)
        scale = X.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        self.tree_ = cKDTree((X - self.center_) / self.scale_)
        self.y_ = np.asarray(y, dtype=np.float64)
        return self

    def predict(self, X: FloatArray) -> FloatArray:
        """Mean target of each row's nearest reference rows: (n,) or (n, m) as ``y``."""
        if not hasattr(self, "tree_"):
            raise NotFittedError("this NearestNeighborsMean is not fitted yet; call fit first")
        k = min(self.n_neighbors, self.y_.shape[0])
        if X.shape[0] == 0:
            return np.zeros((0, *self.y_.shape[1:]))
        _, idx = self.tree_.query((X - self.center_) / self.scale_, k=k)
        return np.asarray(self.y_[np.reshape(idx, (X.shape[0], k))].mean(axis=1))


def dle_regression(abs_error: npt.ArrayLike, squared_error: npt.ArrayLike) -> dict[str, float]:
    """MAE and RMSE of a window from predicted per-row losses (negative ones count as 0).

    Parameters
    ----------
    abs_error, squared_error
        1-D per-row predictions of ``|y - y_pred|`` and ``(y - y_pred)**2``.

    Returns
    -------
    ``mae = mean(max(0, abs_error))``, ``rmse = sqrt(mean(max(0, squared_error)))``;
    ``nan`` for an empty window.

    Examples
    --------
    >>> dle_regression([1.0, 3.0, -0.5], [1.0, 9.0, 2.0])
    {'mae': 1.333..., 'rmse': 2.0}
    """
    a = check_values(abs_error, "abs_error")
    s = check_values(squared_error, "squared_error")
    check_same_length(a, s, "abs_error", "squared_error")
    if a.size == 0:
        return dict.fromkeys(REGRESSION_METRICS, float("nan"))
    return {
        "mae": float(np.maximum(a, 0.0).mean()),
        "rmse": math.sqrt(float(np.maximum(s, 0.0).mean())),
    }


class DLE:
    """Direct loss estimation of a regressor's MAE and RMSE.

    A model of the per-row loss learns the reference's ``|y - y_pred|`` and
    ``(y - y_pred)**2`` from its features and prediction; a window's estimate is
    :func:`dle_regression` of its predictions on the window.

    Parameters
    ----------
    model
        An unfitted :class:`Regressor`, deep-copied and fitted once per loss (NannyML uses
        LightGBM; ``lightgbm.LGBMRegressor()`` can be passed here). Default: one
        :class:`NearestNeighborsMean` predicting both losses.
    band
        Half-width of the band in standard errors.

    Attributes
    ----------
    models_
        The fitted loss models: ``[abs, squared]``, or the default model alone
        (predicting both as two columns).
    influence_rms_
        Per metric, the standard error of a one-row window (see :class:`CBPE`).

    Examples
    --------
    >>> rng = np.random.default_rng(7)
    >>> x = rng.normal(size=(4_000, 1))
    >>> y = x[:, 0] + rng.normal(size=4_000) * (0.5 + np.abs(x[:, 0]))  # noise grows with |x|
    >>> dle = DLE().fit(x[:2_000], y[:2_000], x[:2_000, 0])
    >>> shifted = x[2_000:] + 1.0
    >>> est = dle.estimate(shifted, shifted[:, 0])["mae"]
    >>> round(est.value, 1)
    1.3
    """

    def __init__(self, *, model: Regressor | None = None, band: float = 3.0) -> None:
        self.model = model
        self.band = band

    def __repr__(self) -> str:
        return f"DLE(model={self.model!r}, band={self.band!r})"

    def fit(self, X: npt.ArrayLike | None, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Self:
        """Fit the loss models on the reference.

        Parameters
        ----------
        X
            Numeric reference features ``(n, k)`` without NaN (encode categoricals and
            impute first), or ``None`` to use the prediction alone.
        y_true, y_pred
            1-D finite targets and predictions.

        Raises
        ------
        InvalidInputError
            Empty reference, NaN or infinite values, lengths that differ, a bad ``band``.
        """
        check_band(self.band)
        yt = check_values(y_true, "y_true")
        yp = check_values(y_pred, "y_pred")
        check_same_length(yt, yp, "y_true", "y_pred")
        if yt.size == 0:
            raise InvalidInputError("y_true must not be empty (the reference)", field="y_true")
        features = _features(X, yp)
        self.n_features_ = features.shape[1] - 1
        err = yt - yp
        abs_err, sq_err = np.abs(err), err**2
        losses = np.column_stack([abs_err, sq_err])
        if self.model is None:  # one neighbour search serves both losses
            self.models_: list[Regressor] = [NearestNeighborsMean().fit(features, losses)]
        else:
            self.models_ = [copy.deepcopy(self.model) for _ in range(2)]
            for m, loss in zip(self.models_, losses.T, strict=True):
                m.fit(features, loss)
        rmse = math.sqrt(float(sq_err.mean()))
        self.influence_rms_: dict[str, float] = {
            "mae": rms(abs_err - abs_err.mean()),
            "rmse": rms((sq_err - sq_err.mean()) / (2.0 * rmse)) if rmse > 0 else 0.0,
        }
        return self

    def estimate(self, X: npt.ArrayLike | None, y_pred: npt.ArrayLike) -> dict[str, Estimate]:
        """Estimated MAE and RMSE of one unlabelled window (features as in :meth:`fit`).

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        InvalidInputError
            As in :meth:`fit`, and a number of feature columns other than the reference's.
        """
        if not hasattr(self, "models_"):
            raise NotFittedError("this DLE is not fitted yet; call fit(reference...) first")
        yp = check_values(y_pred, "y_pred")
        features = _features(X, yp)
        if features.shape[1] - 1 != self.n_features_:
            raise InvalidInputError(
                f"X must have the reference's {self.n_features_} feature columns, "
                f"got {features.shape[1] - 1}",
                field="X",
            )
        if yp.size == 0:
            values = dle_regression(np.zeros(0), np.zeros(0))
        else:
            preds = [np.asarray(m.predict(features), dtype=np.float64) for m in self.models_]
            losses = preds[0] if len(preds) == 1 else np.column_stack(preds)
            values = dle_regression(losses[:, 0], losses[:, 1])
        return {
            name: with_band(
                v, standard_error(self.influence_rms_[name], yp.size), self.band, 0.0, math.inf
            )
            for name, v in values.items()
        }


def _features(X: npt.ArrayLike | None, y_pred: FloatArray) -> FloatArray:
    """``[X, y_pred]`` as one finite ``(n, k + 1)`` matrix."""
    if X is None:
        return y_pred[:, None]
    x = as_float_array(X, "X")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise InvalidInputError(
            f"X must be 2-D (rows, features), got {x.ndim} dimensions", field="X"
        )
    if not np.isfinite(x).all():
        raise InvalidInputError(
            "X must be finite: impute missing values and encode categoricals first", field="X"
        )
    check_same_length(x, y_pred, "X", "y_pred")
    return np.column_stack([x, y_pred])
