"""ASGI middleware: the latency and status of every HTTP request of an app (FastAPI,
Starlette), counted in the monitor's current window.

>>> from sightline.sdk import Monitor
>>> from sightline.profile import Column, Schema
>>> async def app(scope, receive, send): ...
>>> monitor = Monitor("m", "1", url=None, schema=Schema((Column("x"),)))
>>> wrapped = MonitorMiddleware(app, monitor=monitor)
>>> monitor.close()
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sightline.sdk.monitor import Monitor

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class MonitorMiddleware:
    """Times each HTTP request; a 5xx answer or an exception counts as an error.

    For a streamed response (a first body message with ``more_body``, as Starlette's
    ``StreamingResponse`` and server-sent events send), it also measures the time to the
    first byte of the body (the first non-empty body message): for a generative service,
    the time to its first token. The collector turns it into the health rows
    ``first_byte_p50_ms`` and ``first_byte_p95_ms``.

    ``app.add_middleware(MonitorMiddleware, monitor=monitor)`` in FastAPI.
    """

    def __init__(self, app: ASGIApp, monitor: Monitor) -> None:
        self.app = app
        self.monitor = monitor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        first_byte: float | None = None
        streamed = False

        async def send_status(message: Message) -> None:
            nonlocal status, first_byte, streamed
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and first_byte is None:
                streamed = streamed or bool(message.get("more_body", False))
                if message.get("body"):
                    first_byte = time.perf_counter()
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            ttfb = (first_byte - started) * 1000 if streamed and first_byte is not None else None
            self.monitor.log_request(elapsed, error=status >= 500, first_byte_ms=ttfb)
