"""A scikit-learn estimator that logs what it predicts, with the estimator's API intact.

``predict`` and ``predict_proba`` take ``ids=`` (one per row; generated when not given)
and :attr:`MonitoredEstimator.last_ids` holds the ids the latest call logged, in this
thread or task, so that its rows can be labelled later with ``monitor.log_labels``.

>>> from sklearn.linear_model import LogisticRegression
>>> from sightline.sdk import Monitor
>>> from sightline.profile import Column, Schema
>>> import numpy as np
>>> X, y = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]]), np.array([0, 1, 0, 1])
>>> schema = Schema((Column("a"), Column("b"), Column("prediction", role="prediction")))
>>> monitor = Monitor("m", "1", url=None, schema=schema)
>>> model = monitored(LogisticRegression(), monitor).fit(X, y)
>>> model.predict(X, ids=["r1", "r2", "r3", "r4"]).tolist(), model.classes_.tolist()
([0, 1, 0, 1], [0, 1])
>>> model.last_ids
['r1', 'r2', 'r3', 'r4']
>>> monitor.log_labels(model.last_ids, y.tolist())
>>> monitor.flush(); monitor.stats()["rows"]
True
4
>>> monitor.close()
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from sightline.integrations._batch import Monitored, check_ids
from sightline.sdk.monitor import Monitor


class MonitoredEstimator(Monitored):
    """Wraps an estimator: ``predict`` and ``predict_proba`` log their inputs and outputs
    under ``ids`` (or ids the monitor makes), kept in :attr:`last_ids`; every other
    attribute is the estimator's own."""

    def __init__(self, estimator: Any, monitor: Monitor) -> None:
        super().__init__(estimator, monitor)
        self.estimator = estimator

    def fit(self, *args: Any, **kwargs: Any) -> MonitoredEstimator:
        self.estimator.fit(*args, **kwargs)
        return self

    def predict(self, X: Any, *, ids: Sequence[str] | None = None) -> Any:
        check_ids(ids, len(X))
        started = time.perf_counter()
        out = self.estimator.predict(X)
        self._batches.log(_columns(X, self.estimator), out, ids=ids, started=started)
        return out

    def predict_proba(self, X: Any, *, ids: Sequence[str] | None = None) -> Any:
        check_ids(ids, len(X))
        started = time.perf_counter()
        proba = self.estimator.predict_proba(X)
        classes = np.asarray(self.estimator.classes_)
        p = np.asarray(proba)
        if p.shape[1] == 2:  # binary: the positive class's probability
            probabilities: list[Any] = p[:, 1].tolist()
        else:  # multiclass: every class's
            names = [str(c) for c in classes]
            probabilities = [dict(zip(names, row, strict=True)) for row in p.tolist()]
        features = _columns(X, self.estimator)
        self._batches.log(
            features, classes[p.argmax(axis=1)], probabilities, ids=ids, started=started
        )
        return proba


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
