"""``/api/v1/models/{model}/settings``: how the scheduler windows a model; and
``/api/v1/models/{model}/versions/{version}/settings``: a version's own reference."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from sightline.errors import InvalidInputError
from sightline.scheduler.windows import parse_duration
from sightline.server import bodies as b
from sightline.server.auth import Admin, ReaderOrIngest
from sightline.server.ingest import ModelName, json_body
from sightline.server.schemas import Strict
from sightline.server.state import ERRORS, body_doc, state_of
from sightline.store.scheduling import ModelSettings

router = APIRouter(prefix="/api/v1")
Duration = Annotated[str, StringConstraints(pattern=r"^\s*[1-9]\d{0,6}\s*[smhd]\s*$")]


class SettingsBody(Strict):
    """Window size, allowed lateness, rolling reference (0: the uploaded one), how long
    late labels still recompute a window, and whether the rolling reference leaves out the
    windows whose drift alerted; durations like ``30s``, ``5m``, ``1h``, ``1d``."""

    window: Duration = "1h"
    lateness: Duration = "1m"
    reference_windows: Annotated[int, Field(ge=0, le=10_000)] = 0
    label_horizon: Duration = "7d"
    reference_exclude_alerted: bool = False


class SettingsOut(Strict):
    """The model's settings; durations in their largest whole unit."""

    window: str
    lateness: str
    reference_windows: int
    label_horizon: str
    reference_exclude_alerted: bool


def duration_text(seconds: int) -> str:
    """``seconds`` in the largest unit that divides it.

    >>> duration_text(3600), duration_text(90), duration_text(172800)
    ('1h', '90s', '2d')
    """
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _out(s: ModelSettings) -> SettingsOut:
    return SettingsOut(
        window=duration_text(s.window),
        lateness=duration_text(s.lateness),
        reference_windows=s.reference_windows,
        label_horizon=duration_text(s.label_horizon),
        reference_exclude_alerted=s.reference_exclude_alerted,
    )


@router.get(
    "/models/{model}/settings", response_model=SettingsOut, responses=ERRORS, summary="Scheduling"
)
async def get_settings(model: ModelName, request: Request, key: ReaderOrIngest) -> SettingsOut:
    state = state_of(request)
    await state.model(key.project, model)
    return _out(await run_in_threadpool(state.store.model_settings, key.project, model))


@router.put(
    "/models/{model}/settings",
    response_model=SettingsOut,
    responses=ERRORS,
    summary="Set how the scheduler windows a model (admin)",
    openapi_extra=body_doc(SettingsBody),
)
async def put_settings(model: ModelName, request: Request, key: Admin) -> SettingsOut:
    state = state_of(request)
    await state.model(key.project, model)
    body = await json_body(request, SettingsBody)
    try:
        settings = ModelSettings(
            window=parse_duration(body.window.strip()),
            lateness=parse_duration(body.lateness.strip()),
            reference_windows=body.reference_windows,
            label_horizon=parse_duration(body.label_horizon.strip()),
            reference_exclude_alerted=body.reference_exclude_alerted,
        )
    except InvalidInputError as exc:
        raise b.ApiError(422, str(exc), exc.field) from None
    await run_in_threadpool(state.store.set_model_settings, key.project, model, settings)
    return _out(settings)


class VersionSettingsBody(Strict):
    """The version's reference: 0 the uploaded one, N a rolling one of the N windows before
    each window; null takes the model's ``reference_windows`` again."""

    reference_windows: Annotated[int, Field(ge=0, le=10_000)] | None


class VersionSettingsOut(Strict):
    """The reference the version's drift and quality jobs use, and where that comes from."""

    reference_windows: int
    source: str


async def _version_out(
    request: Request, project: str, model: str, version: str
) -> VersionSettingsOut:
    store = state_of(request).store
    own = await run_in_threadpool(store.version_reference_windows, project, model, version)
    if own is not None:
        return VersionSettingsOut(reference_windows=own, source="version")
    settings = await run_in_threadpool(store.model_settings, project, model)
    return VersionSettingsOut(reference_windows=settings.reference_windows, source="model")


@router.get(
    "/models/{model}/versions/{version}/settings",
    response_model=VersionSettingsOut,
    responses=ERRORS,
    summary="The version's reference (fixed or rolling)",
)
async def get_version_settings(
    model: ModelName,
    version: ModelName,
    request: Request,
    key: ReaderOrIngest,
) -> VersionSettingsOut:
    await state_of(request).version(key.project, model, version)
    return await _version_out(request, key.project, model, version)


@router.put(
    "/models/{model}/versions/{version}/settings",
    response_model=VersionSettingsOut,
    responses=ERRORS,
    summary="Give a version its own reference, fixed or rolling (admin)",
    openapi_extra=body_doc(VersionSettingsBody),
)
async def put_version_settings(
    model: ModelName,
    version: ModelName,
    request: Request,
    key: Admin,
) -> VersionSettingsOut:
    state = state_of(request)
    await state.version(key.project, model, version)
    body = await json_body(request, VersionSettingsBody)
    await run_in_threadpool(
        state.store.set_version_reference_windows,
        key.project,
        model,
        version,
        body.reference_windows,
    )
    return await _version_out(request, key.project, model, version)
