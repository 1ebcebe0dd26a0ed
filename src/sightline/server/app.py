"""The collector's ASGI application: routes, error answers, limits, the retention job.

>>> from sightline.store import open_store
>>> app = create_app(open_store(":memory:"))
>>> "/api/v1/models/{model}/versions/{version}/profiles" in app.openapi()["paths"]
True
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from sightline.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    SightlineError,
    StoreError,
)
from sightline.server import alerts, ingest, jobs, keys, model_settings, pages, query
from sightline.server.bodies import ApiError
from sightline.server.limits import LimitsMiddleware, LimitStats
from sightline.server.schemas import ErrorBody
from sightline.server.state import BODY_SCHEMAS, Settings, State
from sightline.store import Store, utcnow

log = logging.getLogger("sightline.server")


def _error(status: int, message: str, field: str | None, **headers: str) -> JSONResponse:
    return JSONResponse(ErrorBody(error=message, field=field).model_dump(), status, headers=headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _error(exc.status, exc.message, exc.field)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own answers (no such route: 404, another method: 405) in the API's shape."""
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    field = "method" if exc.status_code == 405 else None
    message = f"{exc.detail}: {request.method} {request.url.path}"
    return _error(exc.status_code, message, field, **headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"] if p not in ("path", "query", "header", "body"))
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return _error(422, f"{field or 'request'}: {first['msg']}{more}", field or None)


async def _sightline_error(request: Request, exc: Exception) -> JSONResponse:
    field = getattr(exc, "field", None)
    if isinstance(exc, NotFoundError):
        return _error(404, str(exc), field)
    if isinstance(exc, ConflictError):
        return _error(409, str(exc), field)
    if isinstance(exc, StoreError):
        log.error("store unavailable: %s", exc)
        return _error(503, "the store is unavailable; retry later", None, **{"Retry-After": "5"})
    if isinstance(exc, InvalidInputError):
        return _error(422, str(exc), field)
    return _unexpected(exc)


def _unexpected(exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return _error(500, "internal error; the collector's log has the details", None)


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    return _unexpected(exc)


def create_app(store: Store, settings: Settings | None = None) -> FastAPI:
    """The collector app over ``store``; :class:`Settings` default to auth on."""
    settings = settings or Settings()
    state = State(store, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(store.optimize)  # before serving: it may take seconds
        stop = asyncio.Event()
        tasks = [asyncio.create_task(_every(settings.retention_every, _retention, state, stop))]
        if settings.schedule_every.total_seconds() > 0:
            tasks.append(
                asyncio.create_task(_every(settings.schedule_every, _schedule, state, stop))
            )
        try:
            yield
        finally:
            stop.set()  # a run in progress finishes (its thread cannot be cancelled) first
            await asyncio.gather(*tasks)

    app = FastAPI(
        title="sightline collector",
        version="1",
        summary="Ingest profiles, predictions, labels, samples and heartbeats; query metric rows.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI loads from a CDN: /docs is a local page instead
        redoc_url=None,
    )
    app.state.sightline = state
    app.state.limit_stats = LimitStats()
    app.include_router(ingest.router)
    app.include_router(query.router)
    app.include_router(model_settings.router)
    app.include_router(keys.router)
    app.add_api_route("/docs", _docs, methods=["GET"], include_in_schema=False)
    app.include_router(alerts.router)
    app.include_router(jobs.router)
    app.add_api_route("/metrics", query.metrics, methods=["GET"], include_in_schema=False)
    app.add_api_route("/healthz", _healthz, methods=["GET"], include_in_schema=False)
    app.add_api_route("/readyz", _readyz, methods=["GET"], include_in_schema=False)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(SightlineError, _sightline_error)
    app.add_exception_handler(Exception, _internal_error)
    app.add_middleware(
        LimitsMiddleware,
        limits=settings.limits,
        client_key=state.keys.verified_id,
        stats=app.state.limit_stats,
    )
    pages.install(app)  # the dashboard: its middleware goes outside the limits
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        doc.setdefault("components", {}).setdefault("schemas", {}).update(BODY_SCHEMAS)
        app.openapi_schema = doc
    return app.openapi_schema


async def _docs(request: Request) -> HTMLResponse:
    """The API's routes on one page that needs nothing from the network; the full
    document is ``/openapi.json``."""
    doc = request.app.openapi()
    rows = "".join(
        f"<tr><td>{method.upper()}</td><td><code>{html.escape(path)}</code></td>"
        f"<td>{html.escape(op.get('summary', ''))}</td></tr>"
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>sightline collector API"
        "</title><style>body{font-family:sans-serif;margin:2em}td{padding:.2em 1em}</style>"
        "</head><body><h1>sightline collector API</h1><p>The OpenAPI document: "
        "<a href='/openapi.json'>/openapi.json</a> (load it into any OpenAPI viewer).</p>"
        f"<table><tr><th>method</th><th>path</th><th>what</th></tr>{rows}</table>"
        "</body></html>"
    )
    return HTMLResponse(page)


async def _healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


async def _readyz(request: Request) -> JSONResponse:
    """Readiness: the store answers a query."""
    state: State = request.app.state.sightline
    try:
        version = await run_in_threadpool(state.store.schema_version)
    except Exception as exc:  # any store failure means not ready
        return _error(503, f"store not ready: {exc}", None, **{"Retry-After": "5"})
    return JSONResponse({"status": "ready", "schema_version": version})


async def _every(
    period: timedelta,
    job: Callable[[State], Awaitable[None]],
    state: State,
    stop: asyncio.Event,
) -> None:
    """Run ``job`` now and then every ``period`` until ``stop`` is set; one failed run does
    not stop it."""
    while not stop.is_set():
        try:
            await job(state)
        except Exception:
            log.exception("%s failed", job.__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), period.total_seconds())


#: Growth of ``metric_rows`` since it was last sorted that makes the retention job sort it.
RESORT_GROWTH = 0.1


async def _retention(state: State) -> None:
    await run_in_threadpool(state.store.optimize, min_growth=RESORT_GROWTH)
    deleted = await run_in_threadpool(state.store.enforce_retention, state.settings.retention)
    deleted |= await run_in_threadpool(
        state.store.enforce_tier_retention,
        state.settings.keep_base,
        state.settings.tiers,
        utcnow(),
    )
    if any(deleted.values()):
        log.info("retention deleted %s", deleted)


async def _schedule(state: State) -> None:
    await run_in_threadpool(state.scheduler.run_once)  # it logs each pass in one line
