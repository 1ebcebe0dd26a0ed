"""What the model wrappers share: logging one call's batch under ids the caller can label.

Every wrapper (:mod:`.sklearn`, :mod:`.keras`, :mod:`.onnxruntime`) checks the ``ids=``
it is given before the model runs, logs the batch after it, and keeps the ids it logged
in :attr:`BatchLogger.last_ids` (per thread and per asyncio task). Monitoring trouble is
logged at debug level and never reaches the caller; bad ``ids`` do, before anything runs.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from sightline.errors import InvalidInputError
from sightline.sdk.monitor import Monitor, log


class BatchLogger:
    """Logs batches through ``monitor`` and remembers the ids of the latest one.

    >>> from sightline.profile import Column, Schema
    >>> schema = Schema((Column("a"), Column("y", role="prediction")))
    >>> monitor = Monitor("m", "1", url=None, schema=schema)
    >>> batches = BatchLogger(monitor)
    >>> batches.log(np.array([[1.0], [2.0]]), [0.0, 1.0], ids=["p1", "p2"], started=0.0)
    >>> batches.last_ids
    ['p1', 'p2']
    >>> monitor.close()
    """

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor
        self._last: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
            "sightline_last_ids", default=None
        )

    @property
    def last_ids(self) -> list[str] | None:
        """The prediction ids of the latest logged call in this thread or task (None
        before the first, or when the monitor could not log it)."""
        return self._last.get()

    def log(
        self,
        features: Any,
        predictions: Any,
        probabilities: Sequence[Any] | None = None,
        *,
        ids: Sequence[str] | None,
        started: float,
    ) -> None:
        """Log a batch that took since ``started`` (``time.perf_counter()``) to predict
        (``predictions`` None: features only, given as an array)."""
        self._last.set(None)
        try:
            values = None if predictions is None else np.asarray(predictions).tolist()
            n = len(features) if values is None else len(values)  # features: an array then
            per_row = (time.perf_counter() - started) * 1000 / max(n, 1)
            logged = self.monitor.log_batch(
                features,
                predictions=values,
                probabilities=probabilities,
                ids=ids,
                latency_ms=[per_row] * n,
            )
            self._last.set(logged)
        except Exception as exc:  # monitoring trouble never reaches the caller
            log.debug("sightline: could not log a batch: %s", exc)


class Monitored:
    """What every wrapper shares: the wrapped object's own attributes, the monitor, and
    :attr:`last_ids`."""

    def __init__(self, wrapped: Any, monitor: Monitor) -> None:
        self.wrapped = wrapped
        self.monitor = monitor
        self._batches = BatchLogger(monitor)

    def __getattr__(self, name: str) -> Any:
        if name == "wrapped":  # not set yet (copy, pickle): no recursion
            raise AttributeError(name)
        return getattr(self.wrapped, name)

    @property
    def last_ids(self) -> list[str] | None:
        """The prediction ids of the latest logged call in this thread or task (None
        before the first, or when the monitor could not log it)."""
        return self._batches.last_ids


def check_ids(ids: Sequence[str] | None, rows: int) -> None:
    """Refuse ``ids`` that are not one non-empty string per row, before the model runs.

    >>> check_ids(["a", "b"], 3)
    Traceback (most recent call last):
    ...
    sightline.errors.InvalidInputError: ids must give one id per row of the input (3), got 2 ids
    """
    if ids is None:
        return
    if isinstance(ids, str) or len(ids) != rows:
        got = repr(ids) if isinstance(ids, str) else f"{len(ids)} ids"
        raise InvalidInputError(
            f"ids must give one id per row of the input ({rows}), got {got}", field="ids"
        )
    if not all(isinstance(i, str) and i for i in ids):
        raise InvalidInputError("ids must be non-empty strings", field="ids")


def rows_of(x: Any) -> npt.NDArray[Any]:
    """The input as a 2-D array, rows by features (one row when it is 1-D).

    >>> rows_of([1.0, 2.0]).shape
    (1, 2)
    """
    arr = np.asarray(x)
    return arr[None, :] if arr.ndim == 1 else arr.reshape(arr.shape[0], -1)


def predictions_of(y: Any) -> npt.NDArray[Any]:
    """A model output as one prediction per row: an output of shape (n,) or (n, 1) as it
    is, one of shape (n, k) as the index of its largest value (the class of a softmax).

    >>> predictions_of(np.array([[0.2], [0.7]])).tolist()
    [0.2, 0.7]
    >>> predictions_of(np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]])).tolist()
    [1, 0]
    """
    arr = np.asarray(y)
    if arr.ndim <= 1 or (arr.ndim == 2 and arr.shape[1] == 1):
        return arr.reshape(-1)
    best: npt.NDArray[Any] = arr.reshape(arr.shape[0], -1).argmax(axis=1)
    return best
