"""Read routes: models, metric rows, latest drift, health overview, ``/metrics``.

Every query is filtered by the project of the caller's key; a query about a model that is
not registered is a 404 naming it. Time ranges are half-open
``[since, until)``; without them a query covers the last 24 hours.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool

from sightline._validate import finite_or_none
from sightline.analysis.rows import MetricRow, encode_row
from sightline.server import exposition, health
from sightline.server.alerts import alert_exposition
from sightline.server.auth import Reader, ReaderOrIngest
from sightline.server.bodies import PROFILE, ApiError
from sightline.server.ingest import ModelName, columns_of
from sightline.server.schemas import (
    NO_NUL,
    HealthOut,
    MetricRows,
    ModelList,
    RollupRows,
    VersionInfo,
)
from sightline.server.state import ERRORS, state_of
from sightline.store import as_utc, utcnow

router = APIRouter(prefix="/api/v1")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_only(value: object) -> object:
    """Refuse what pydantic would read as seconds since 1970 (``until=0.5``): the API
    documents ISO 8601 date-times only."""
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z")
    return value


Since = Annotated[
    datetime | None,
    BeforeValidator(_iso_only),
    Query(description="start (UTC), default: until - 24 h"),
]
Until = Annotated[
    datetime | None,
    BeforeValidator(_iso_only),
    Query(description="end, excluded (UTC), default: now"),
]
Filter = Annotated[str | None, Query(min_length=1, max_length=200, pattern=NO_NUL)]

MAX_RANGE = timedelta(days=400)
MAX_ROWS = 100_000
#: The earliest time a range may name: room for the default day and the health timeout.
EARLIEST = datetime(1, 1, 3)


def _time(value: datetime, name: str) -> datetime:
    """``value`` as naive UTC; 422 when it is out of the range Python's datetime can shift."""
    try:
        when = as_utc(value)
    except OverflowError:
        raise ApiError(422, f"{name} ({value.isoformat()}) is out of range in UTC", name) from None
    if when < EARLIEST:
        raise ApiError(422, f"{name} must be after {EARLIEST.date()} UTC", name)
    return when


def _range(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    end = utcnow() if until is None else _time(until, "until")
    start = end - timedelta(days=1) if since is None else _time(since, "since")
    if start >= end:
        raise ApiError(422, f"since ({start}) must be before until ({end})", "since")
    if end - start > MAX_RANGE:
        raise ApiError(422, f"the range may span at most {MAX_RANGE.days} days", "since")
    return start, end


def _rows_response(rows: list[MetricRow]) -> Response:
    """``{"rows": [...]}`` with each row as the codec writes it (:func:`encode_row`)."""
    return JSONResponse({"rows": [encode_row(r) for r in rows]})


@router.get("/models", response_model=ModelList, responses=ERRORS, summary="Models and versions")
async def list_models(request: Request, key: ReaderOrIngest) -> ModelList:
    versions = await run_in_threadpool(state_of(request).store.list_versions, key.project)
    return ModelList(
        versions=[
            VersionInfo(
                model=v.model,
                version=v.version,
                created_at=v.created_at,
                has_reference=v.has_reference,
                columns=columns_of(v.schema),
            )
            for v in versions
        ]
    )


@router.get(
    "/models/{model}/versions/{version}",
    response_model=VersionInfo,
    responses=ERRORS,
    summary="One version and its schema",
)
async def get_version(
    model: ModelName, version: ModelName, request: Request, key: ReaderOrIngest
) -> VersionInfo:
    found = await state_of(request).version(key.project, model, version)
    return VersionInfo(
        model=model,
        version=version,
        created_at=found.created_at,
        has_reference=found.has_reference,
        columns=columns_of(found.schema),
    )


@router.get(
    "/models/{model}/versions/{version}/reference",
    responses={**ERRORS, 200: {"content": {PROFILE: {}}, "description": "The reference profile"}},
    summary="The reference profile (bin edges and vocabularies for the SDK)",
)
async def get_reference(
    model: ModelName, version: ModelName, request: Request, key: ReaderOrIngest
) -> Response:
    state = state_of(request)
    found = await run_in_threadpool(state.store.get_version, key.project, model, version)
    if found.reference is None:
        raise ApiError(404, f"model {model!r} version {version!r} has no reference yet", "version")
    return Response(found.reference, media_type=PROFILE)


@router.get(
    "/models/{model}/metrics",
    response_model=MetricRows,
    responses=ERRORS,
    summary="Metric rows by version, column, metric and time range",
)
async def metric_rows(
    model: ModelName,
    request: Request,
    key: Reader,
    *,
    since: Since = None,
    until: Until = None,
    version: Filter = None,
    column: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    metric: Filter = None,
    max_points: Annotated[
        int | None, Query(ge=1, le=10_000, description="average each series into buckets")
    ] = None,
) -> Response:
    start, end = _range(since, until)
    await state_of(request).model(key.project, model)
    rows = await run_in_threadpool(
        state_of(request).store.metric_rows,
        key.project,
        model,
        since=start,
        until=end,
        version=version,
        column=column,
        metric=metric,
        max_points=max_points,
        limit=MAX_ROWS + 1,
    )
    if len(rows) > MAX_ROWS:
        raise ApiError(
            422, f"more than {MAX_ROWS} rows; narrow the range or pass max_points", "max_points"
        )
    return _rows_response(rows)


@router.get(
    "/models/{model}/rollups",
    response_model=RollupRows,
    responses=ERRORS,
    summary="Rollup rows of one tier, with the min and max of the base rows they rolled",
)
async def rollup_rows(
    model: ModelName,
    request: Request,
    key: Reader,
    *,
    tier: Annotated[int, Query(ge=1, description="the tier's window in seconds (3600, 86400)")],
    since: Since = None,
    until: Until = None,
    version: Filter = None,
    column: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    metric: Filter = None,
) -> Response:
    start, end = _range(since, until)
    await state_of(request).model(key.project, model)
    found = await run_in_threadpool(
        state_of(request).store.rollup_rows,
        key.project,
        model,
        tier=tier,
        since=start,
        until=end,
        version=version,
        column=column,
        metric=metric,
    )
    if len(found) > MAX_ROWS:
        raise ApiError(422, f"more than {MAX_ROWS} rows; narrow the range", "since")
    return JSONResponse(
        {
            "rows": [encode_row(r.row) for r in found],
            "value_min": [finite_or_none(r.value_min) for r in found],
            "value_max": [finite_or_none(r.value_max) for r in found],
            "n_windows": [r.n_windows for r in found],
        }
    )


@router.get(
    "/models/{model}/drift/latest",
    response_model=MetricRows,
    responses=ERRORS,
    summary="The newest drift row of every column",
)
async def latest_drift(
    model: ModelName, request: Request, key: Reader, version: Filter = None
) -> Response:
    await state_of(request).model(key.project, model)
    rows = await run_in_threadpool(
        state_of(request).store.latest_metric_rows, key.project, model, "drift", version
    )
    return _rows_response(rows)


@router.get(
    "/models/{model}/health",
    response_model=HealthOut,
    responses=ERRORS,
    summary="Live instances, uptime, predictions, errors and latency of a model",
)
async def model_health(
    model: ModelName,
    request: Request,
    key: Reader,
    since: Since = None,
    until: Until = None,
    timeout: Annotated[
        float | None, Query(gt=0, le=86_400, description="seconds without a heartbeat")
    ] = None,
) -> dict[str, Any]:
    state = state_of(request)
    start, end = _range(since, until)
    await state.model(key.project, model)
    limit = state.settings.heartbeat_timeout if timeout is None else timedelta(seconds=timeout)
    return await run_in_threadpool(
        health.overview,
        state.store,
        key.project,
        model,
        since=start,
        until=end,
        now=utcnow(),
        timeout=limit,
    )


async def metrics(request: Request, key: Reader) -> Response:
    """Prometheus exposition of the key's project (:mod:`sightline.server.exposition`)."""
    state = state_of(request)
    now = utcnow()
    rows = await run_in_threadpool(state.store.newest_metric_rows, key.project)
    versions = await run_in_threadpool(
        health.by_version,
        state.store,
        key.project,
        now=now,
        span=exposition.HEALTH_SPAN,
        timeout=state.settings.heartbeat_timeout,
    )
    failing = await run_in_threadpool(state.store.failing_jobs, key.project)
    text = exposition.exposition(
        [r for r in rows if exposition.fresh(r, now)],
        versions,
        failing,
        state.counters.families(key.project),
    )
    text += await run_in_threadpool(alert_exposition, state.store, key.project)
    return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")
