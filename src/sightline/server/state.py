"""What every route shares: settings, the store, caches of versions and references, counters.

Also the OpenAPI helpers: :data:`ERRORS` documents every error answer of a route, and
:func:`body_doc` documents bodies the routes read themselves (JSON checked by pydantic
without FastAPI's lenient parser, Arrow IPC, CSV, Parquet and profiles).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from sightline.alerts import Alerting
from sightline.errors import IncompatibleProfilesError, InvalidInputError, NotFoundError
from sightline.profile import Profile, Schema
from sightline.scheduler import Replica, Scheduler
from sightline.scheduler.leasing import LEASE_TIMEOUT
from sightline.scheduler.rollup import DEFAULT_KEEP_BASE, DEFAULT_TIERS
from sightline.server.auth import KeyCache
from sightline.server.bodies import ApiError
from sightline.server.exposition import Counters
from sightline.server.limits import RequestLimits
from sightline.server.schemas import ErrorBody
from sightline.store import ModelVersion, Store

#: How long each kind of data is kept by default (the retention job deletes older rows).
DEFAULT_RETENTION: dict[str, timedelta] = {
    "predictions": timedelta(days=90),
    "labels": timedelta(days=90),
    "samples": timedelta(days=30),
    "heartbeats": timedelta(days=30),
    "profiles": timedelta(days=400),
    "metric_rows": timedelta(days=400),
    "ingest_requests": timedelta(days=30),
    "job_runs": timedelta(days=7),
}


@dataclass(frozen=True)
class Settings:
    """How a collector runs. ``auth=False`` (local trials only) treats every request as an
    admin of ``default_project``. The scheduler runs every ``schedule_every`` (0: never),
    on ``scheduler_client`` (a Dask client) when given, then ``alerting``'s rules. Replicas
    on one store share the jobs through leases: ``replica`` names this one (default
    ``host:pid:random``), ``lease_timeout`` is how long its jobs stay its own after it
    stops. Metric rows are rolled up into ``tiers`` ({seconds: kept}); base rows that a
    rollup holds are kept ``keep_base`` (docs/scheduler.md, Retention tiers).
    ``embed_texts``: the drift jobs embed text columns' sampled texts (the ``[text]``
    extra; docs/text.md)."""

    auth: bool = True
    limits: RequestLimits = field(default_factory=RequestLimits)
    heartbeat_timeout: timedelta = timedelta(seconds=120)
    retention: dict[str, timedelta] = field(default_factory=lambda: dict(DEFAULT_RETENTION))
    retention_every: timedelta = timedelta(hours=1)
    default_project: str = "default"
    schedule_every: timedelta = timedelta(seconds=30)
    scheduler_client: Any = None
    alerting: Alerting | None = None
    replica: str | None = None
    lease_timeout: timedelta = timedelta(seconds=LEASE_TIMEOUT)
    tiers: dict[int, timedelta] = field(default_factory=lambda: dict(DEFAULT_TIERS))
    keep_base: timedelta = DEFAULT_KEEP_BASE
    embed_texts: bool = False


class State:
    """Shared by the routes of one app (``request.app.state.sightline``)."""

    _VERSION_TTL = 5.0

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.keys = KeyCache(store)
        replica = Replica(store, settings.replica, timeout=settings.lease_timeout.total_seconds())
        if settings.alerting is not None:  # one liveness timeout: the collector's
            settings.alerting.heartbeat_timeout = settings.heartbeat_timeout.total_seconds()
        self.scheduler = Scheduler(
            store,
            client=settings.scheduler_client,
            replica=replica,
            alerts=settings.alerting,
            tiers=sorted(settings.tiers),
            embed_texts=settings.embed_texts,
        )
        self.counters = Counters()
        self._versions: dict[tuple[str, str, str], tuple[ModelVersion, float]] = {}
        self._models: dict[tuple[str, str], float] = {}  # registered models, until when
        self._references: dict[tuple[str, str, str], Profile] = {}

    async def version(self, project: str, model: str, version: str) -> ModelVersion:
        """A registered version (cached for a few seconds), or 404."""
        key = (project, model, version)
        hit = self._versions.get(key)
        now = time.monotonic()
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            found = await run_in_threadpool(self.store.get_version, project, model, version)
        except NotFoundError:
            raise ApiError(
                404,
                f"model {model!r} version {version!r} is not registered; "
                f"PUT /api/v1/models/{model}/versions/{version} with its schema first",
                "version",
            ) from None
        if len(self._versions) > 10_000:
            self._versions.clear()
        self._versions[key] = (found, now + self._VERSION_TTL)
        return found

    def forget_version(self, project: str, model: str, version: str) -> None:
        """Drop the cached version (after its reference was set)."""
        self._versions.pop((project, model, version), None)

    async def model(self, project: str, model: str) -> None:
        """404 unless ``model`` has a registered version (a registered one is cached for
        a few seconds: label ingest asks on every request)."""
        now = time.monotonic()
        if self._models.get((project, model), 0.0) > now:
            return
        versions = await run_in_threadpool(self.store.list_versions, project, model)
        if not versions:
            raise ApiError(404, f"model {model!r} is not registered", "model")
        if len(self._models) > 10_000:
            self._models.clear()
        self._models[(project, model)] = now + self._VERSION_TTL

    def decode_profile(self, body: bytes, schema: Schema, model: str, version: str) -> Profile:
        """A profile body checked against the version: its model, version and schema."""
        try:
            profile = Profile.from_bytes(body)
        except InvalidInputError as exc:
            raise ApiError(400, f"malformed profile: {exc}", "body") from None
        for what, expected in (("model", model), ("version", version)):
            given = getattr(profile, what)
            if given and given != expected:
                raise ApiError(422, f"the profile is of {what} {given!r}, not {expected!r}", what)
            setattr(profile, what, expected)
        if profile.schema != schema:
            theirs = {c.name: c for c in profile.schema.columns}
            ours = {c.name: c for c in schema.columns}
            odd = sorted(n for n in set(theirs) | set(ours) if theirs.get(n) != ours.get(n))
            raise ApiError(
                422,
                f"the profile's columns differ from the registered schema at {odd[:5]}",
                odd[0] if odd else "schema",
            )
        return profile

    async def check_against_reference(
        self, project: str, model: str, version: str, profile: Profile
    ) -> None:
        """422 unless ``profile`` bins on the reference's edges and vocabularies, or has no
        bins at all (an SDK that started before the reference was uploaded: the scheduler
        counts it in the health rows and leaves it out of drift, so nothing it says is
        lost) with the reference's schema."""
        key = (project, model, version)
        reference = self._references.get(key)
        if reference is None:
            found = await run_in_threadpool(self.store.get_version, project, model, version)
            if found.reference is None:
                return
            reference = Profile.from_bytes(found.reference)
            self._references[key] = reference
        if profile.schema == reference.schema and profile.reference_spec() == ({}, {}):
            return
        try:
            reference.check_compatible(profile)
        except IncompatibleProfilesError as exc:
            raise ApiError(
                422, f"the profile does not match the reference: {exc}", exc.field or "body"
            ) from None


def state_of(request: Request) -> State:
    """The :class:`State` of the app serving ``request``."""
    state: State = request.app.state.sightline
    return state


_ERROR_CODES = {
    400: "Malformed body",
    401: "Missing or invalid API key",
    403: "The key's scope does not allow this",
    404: "Unknown model or version",
    409: "Idempotency key reused with another body, or a conflicting registration",
    413: "Body or batch too large",
    415: "Unsupported content type or encoding",
    422: "A field is invalid; `field` names it",
    429: "Rate limit; retry after `Retry-After` seconds",
    503: "Overloaded or store unavailable; retry after `Retry-After` seconds",
}

#: The error answers every route documents (all share :class:`ErrorBody`).
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text} for code, text in _ERROR_CODES.items()
}


#: Schemas that :func:`body_doc` refers to, added to the OpenAPI components by the app.
BODY_SCHEMAS: dict[str, Any] = {}


def body_doc(model: type[BaseModel] | None, *binary_types: str) -> dict[str, Any]:
    """OpenAPI ``requestBody`` of a route that reads its body itself: JSON of ``model``
    and/or the binary media types."""
    content: dict[str, Any] = {}
    if model is not None:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        BODY_SCHEMAS.update(schema.pop("$defs", {}))
        content["application/json"] = {"schema": schema}
    for media in binary_types:
        content[media] = {"schema": {"type": "string", "format": "binary"}}
    return {"requestBody": {"required": True, "content": content}}
