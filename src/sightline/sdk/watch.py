"""``@monitor.watch``: time a predict function, log its input and output, count its errors.

Plain functions, ``async def`` functions (awaited: the latency is the await's, the
prediction the awaited value) and async generators (the latency runs until the generator
is exhausted, the prediction is its last item) are all watched.

>>> import asyncio
>>> from sightline.profile import Column, Schema
>>> from sightline.sdk import Monitor
>>> m = Monitor("m", "1", url=None, schema=Schema((Column("x"),)))
>>> @m.watch
... async def predict(features):
...     return 0.5
>>> asyncio.run(predict({"x": 1.0}))
0.5
>>> m.flush(), m.stats()["rows"]
(True, 1)
>>> m.close()
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

log = logging.getLogger("sightline.sdk")

#: The id of the latest watched call in this thread or task.
current_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "sightline_prediction_id", default=None
)


class _Logs(Protocol):
    closed: bool

    @property
    def feature_names(self) -> list[str] | None: ...

    def log(
        self, features: Mapping[str, Any], prediction: Any = ..., *, latency_ms: float
    ) -> str: ...

    def log_error(
        self, exc: BaseException | None = ..., latency_ms: float | None = ...
    ) -> None: ...

    def count_watch_error(self, exc: Exception) -> None: ...


class _Calls:
    """What every watched call does when it ends: log its row, or count its error."""

    def __init__(self, monitor: _Logs) -> None:
        self.monitor = monitor

    def done(self, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any, started: float) -> None:
        elapsed = (time.perf_counter() - started) * 1000
        monitor = self.monitor
        try:
            raw = args[0] if args else next(iter(kwargs.values()), {})
            features = _features(raw, monitor.feature_names)
            current_id.set(monitor.log(features, out, latency_ms=elapsed))
        except Exception as exc:  # monitoring trouble never reaches the caller
            if monitor.closed:  # MonitorClosedError: the caller must know
                raise
            monitor.count_watch_error(exc)

    def failed(self, exc: BaseException, started: float) -> None:
        self.monitor.log_error(exc, (time.perf_counter() - started) * 1000)


def watch(monitor: _Logs, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` wrapped so that every call is logged through ``monitor``."""
    calls = _Calls(monitor)
    if inspect.isasyncgenfunction(fn):
        return _async_generator(calls, fn)
    if inspect.iscoroutinefunction(fn):
        return _coroutine(calls, fn)

    @functools.wraps(fn)
    def watched(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            out = fn(*args, **kwargs)
        except Exception as exc:
            calls.failed(exc, started)
            raise
        calls.done(args, kwargs, out, started)
        return out

    return watched


def _coroutine(calls: _Calls, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def watched(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            out = await fn(*args, **kwargs)
        except Exception as exc:
            calls.failed(exc, started)
            raise
        calls.done(args, kwargs, out, started)
        return out

    return watched


def _async_generator(calls: _Calls, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def watched(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        started, last = time.perf_counter(), None
        try:
            async for item in fn(*args, **kwargs):
                last = item
                yield item
        except Exception as exc:
            calls.failed(exc, started)
            raise
        calls.done(args, kwargs, last, started)

    return watched


def _features(value: Any, names: list[str] | None) -> Mapping[str, Any]:
    """The features of a call: a mapping, or a sequence in the schema's feature order."""
    if isinstance(value, Mapping):
        return value
    if names is not None and isinstance(value, Sequence | Iterable) and not isinstance(value, str):
        return dict(zip(names, list(value), strict=False))
    return {}
