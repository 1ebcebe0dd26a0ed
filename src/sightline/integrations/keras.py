"""A Keras model (TensorFlow's or Keras 3's) that logs what it predicts: ``predict`` and
calls of the model itself, with the model's API intact.

Keras' callbacks see a ``predict``'s outputs but not its inputs, so this is a wrapper:
``model = monitored_model(model, monitor)``. The input is a 2-D array or tensor (rows x
features, in the schema's feature order; other shapes are flattened per row); an output of
shape (n,) or (n, 1) is logged as the prediction, (n, k) as its argmax. ``ids=`` names the
rows (one per row; made by the monitor when not given) and :attr:`MonitoredModel.last_ids`
holds the ids the latest call logged, in this thread or task, for ``monitor.log_labels``.
Keras itself is not imported here: the wrapper only calls the model.

>>> from sightline.sdk import Monitor
>>> from sightline.profile import Column, Schema
>>> class Doubler:  # stands in for a keras.Model in this example
...     def predict(self, x, verbose="auto"):
...         return np.asarray(x) @ np.array([[2.0], [0.0]])
>>> schema = Schema((Column("a"), Column("b"), Column("y", role="prediction")))
>>> monitor = Monitor("m", "1", url=None, schema=schema)
>>> model = monitored_model(Doubler(), monitor)
>>> model.predict(np.array([[1.0, 5.0], [3.0, 5.0]]), ids=["r1", "r2"]).ravel().tolist()
[2.0, 6.0]
>>> model.last_ids
['r1', 'r2']
>>> monitor.close()
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from sightline.integrations._batch import Monitored, check_ids, predictions_of, rows_of
from sightline.sdk.monitor import Monitor


class MonitoredModel(Monitored):
    """Wraps a Keras model: ``predict(x)`` and ``model(x)`` log their inputs and outputs;
    every other attribute is the model's own."""

    def __init__(self, model: Any, monitor: Monitor) -> None:
        super().__init__(model, monitor)
        self.model = model

    def predict(self, x: Any, *args: Any, ids: Sequence[str] | None = None, **kwargs: Any) -> Any:
        """``model.predict(x, ...)``, logged."""
        return self._logged(self.model.predict, x, args, kwargs, ids)

    def __call__(self, x: Any, *args: Any, ids: Sequence[str] | None = None, **kwargs: Any) -> Any:
        """``model(x, ...)``, logged."""
        return self._logged(self.model, x, args, kwargs, ids)

    def _logged(
        self,
        run: Any,
        x: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        ids: Sequence[str] | None,
    ) -> Any:
        check_ids(ids, len(x))
        started = time.perf_counter()
        out = run(x, *args, **kwargs)
        self._batches.log(rows_of(x), predictions_of(np.asarray(out)), ids=ids, started=started)
        return out


def monitored_model(model: Any, monitor: Monitor) -> MonitoredModel:
    """``model`` (a ``keras.Model``), logging every ``predict`` and call through ``monitor``."""
    return MonitoredModel(model, monitor)
