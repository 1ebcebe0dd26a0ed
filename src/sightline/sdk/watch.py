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


class _Call:
    """One watched call: ``with _Call(monitor) as call:`` times the body and counts an
    exception as an error; :meth:`done` logs the features and the output."""

    def __init__(self, monitor: _Logs) -> None:
        self.monitor = monitor
        self.started = time.perf_counter()

    def __enter__(self) -> _Call:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, Exception):
            self.monitor.log_error(exc, (time.perf_counter() - self.started) * 1000)

    def done(self, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        elapsed = (time.perf_counter() - self.started) * 1000
        monitor = self.monitor
        try:
            raw = args[0] if args else next(iter(kwargs.values()), {})
            features = _features(raw, monitor.feature_names)
            current_id.set(monitor.log(features, out, latency_ms=elapsed))
        except Exception as exc:  # monitoring trouble never reaches the caller
            if monitor.closed:  # MonitorClosedError: the caller must know
                raise
            monitor.count_watch_error(exc)


def watch(monitor: _Logs, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` wrapped so that every call is logged through ``monitor``."""
    if inspect.isasyncgenfunction(fn):
        return _async_generator(monitor, fn)
    if inspect.iscoroutinefunction(fn):
        return _coroutine(monitor, fn)

    @functools.wraps(fn)
    def watched(*args: Any, **kwargs: Any) -> Any:
        with _Call(monitor) as call:
            out = fn(*args, **kwargs)
        call.done(args, kwargs, out)
        return out

    return watched


def _coroutine(monitor: _Logs, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def watched(*args: Any, **kwargs: Any) -> Any:
        with _Call(monitor) as call:
            out = await fn(*args, **kwargs)
        call.done(args, kwargs, out)
        return out

    return watched


def _async_generator(monitor: _Logs, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def watched(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        last = None
        with _Call(monitor) as call:
            async for item in fn(*args, **kwargs):
                last = item
                yield item
        call.done(args, kwargs, last)

    return watched


def _features(value: Any, names: list[str] | None) -> Mapping[str, Any]:
    """The features of a call: a mapping, or a sequence in the schema's feature order."""
    if isinstance(value, Mapping):
        return value
    if names is not None and isinstance(value, Sequence | Iterable) and not isinstance(value, str):
        return dict(zip(names, list(value), strict=False))
    return {}
