"""A scikit-learn estimator that logs what it predicts, with the estimator's API intact.

>>> from sklearn.linear_model import LogisticRegression
>>> from sightline.sdk import Monitor
>>> from sightline.profile import Column, Schema
>>> import numpy as np
>>> X, y = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]]), np.array([0, 1, 0, 1])
>>> schema = Schema((Column("a"), Column("b"), Column("prediction", role="prediction")))
>>> monitor = Monitor("m", "1", url=None, schema=schema)
>>> model = monitored(LogisticRegression(), monitor).fit(X, y)
>>> model.predict(X).tolist(), model.classes_.tolist()
([0, 1, 0, 1], [0, 1])
>>> monitor.flush(); monitor.stats()["rows"]
True
4
>>> monitor.close()
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from sightline.sdk.monitor import Monitor, log


class MonitoredEstimator:
    """Wraps an estimator: ``predict``, ``predict_proba`` and ``decision_function`` log
    their inputs and outputs; every other attribute is the estimator's own."""

    def __init__(self, estimator: Any, monitor: Monitor) -> None:
        self.estimator = estimator
        self.monitor = monitor

    def __getattr__(self, name: str) -> Any:
        return getattr(self.estimator, name)

    def fit(self, *args: Any, **kwargs: Any) -> MonitoredEstimator:
        self.estimator.fit(*args, **kwargs)
        return self

    def predict(self, X: Any) -> Any:
        started = time.perf_counter()
        out = self.estimator.predict(X)
        self._log(X, out, None, started)
        return out

    def predict_proba(self, X: Any) -> Any:
        started = time.perf_counter()
        proba = self.estimator.predict_proba(X)
        classes = np.asarray(self.estimator.classes_)
        best = np.asarray(proba).argmax(axis=1)
        if proba.shape[1] == 2:  # binary: the positive class's probability
            self._log(X, classes[best], np.asarray(proba)[:, 1].tolist(), started)
        else:  # multiclass: every class's
            names = [str(c) for c in classes]
            by_class = [dict(zip(names, row, strict=True)) for row in np.asarray(proba).tolist()]
            self._log(X, classes[best], by_class, started)
        return proba

    def _log(self, X: Any, predictions: Any, probabilities: Any, started: float) -> None:
        try:
            n = len(predictions)
            per_row = (time.perf_counter() - started) * 1000 / max(n, 1)
            self.monitor.log_batch(
                _columns(X, self.estimator),
                predictions=np.asarray(predictions).tolist(),
                probabilities=None if probabilities is None else list(probabilities),
                latency_ms=[per_row] * n,
            )
        except Exception as exc:  # monitoring trouble never reaches the caller
            log.debug("sightline: could not log an sklearn batch: %s", exc)


def monitored(estimator: Any, monitor: Monitor) -> MonitoredEstimator:
    """``estimator``, logging every prediction through ``monitor``."""
    return MonitoredEstimator(estimator, monitor)


def _columns(X: Any, estimator: Any) -> dict[str, Any] | np.ndarray:
    """Columns by name when the input or the estimator names them, else the matrix (the
    monitor maps its columns to the schema's features in order)."""
    if hasattr(X, "columns"):
        return {str(c): np.asarray(X[c]) for c in X.columns}
    arr = np.asarray(X)
    if arr.ndim == 1:
        arr = arr[:, None]
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        return arr
    return {str(name): arr[:, i] for i, name in enumerate(list(names)[: arr.shape[1]])}
