"""Write routes: register versions, upload references, ingest batches idempotently.

Each ingest request carries an ``Idempotency-Key`` header, scoped to the project and the
request's path (model, version, kind of data). The batch and the key commit in one
transaction, so a 2xx means stored, a retry of a stored batch changes nothing, and the same
key with another body on the same path is a 409. A body is read as its ``Content-Type``
says, or as the route's first type when none is given; another type is a 415.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
from fastapi import APIRouter, Header, Path, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from sightline.analysis.columns import SchemaOptions
from sightline.analysis.estimated import estimator_state
from sightline.analysis.profiling import profile_data
from sightline.errors import InvalidInputError
from sightline.profile import Profile, Schema
from sightline.server import bodies as b
from sightline.server.auth import Ingest
from sightline.server.schemas import (
    ColumnSpec,
    Fitted,
    HeartbeatBody,
    LabelBatch,
    PredictionBatch,
    SampleBatch,
    SchemaBody,
    Stored,
    VersionInfo,
)
from sightline.server.state import ERRORS, State, body_doc, state_of
from sightline.store import ApiKey, Idempotency, utcnow
from sightline.store.records import profile_record

router = APIRouter(prefix="/api/v1")
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

#: Bodies up to this size are parsed on the event loop: for one event, parsing takes tens
#: of microseconds, less than a hop to the threadpool and back.
INLINE_BODY = 16 * 1024

#: A model or version name: letters, digits and ``_.:-``, not only dots (``.``, ``..``).
ModelName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_.:\-]*[A-Za-z0-9_:\-][A-Za-z0-9_.:\-]*$",
        description="letters, digits and _.:- (not only dots)",
    ),
]
IdemKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Unique per batch; a retry with the same key and body changes nothing.",
    ),
]


def _repeat(value: Any, n: int, kind: pa.DataType) -> pa.Array:
    """``value`` ``n`` times (built by Arrow, not from a Python list)."""
    return pa.repeat(pa.scalar(value, kind), n)


def _idempotency(key: str, body: bytes, kind: str, model: str, version: str = "") -> Idempotency:
    """The client's key scoped to the request's path: the same key sent to another model,
    version or kind of data is another request (names hold no ``/``)."""
    return Idempotency(f"{model}/{version}/{kind}/{key}", hashlib.sha256(body).hexdigest(), kind)


def _is_arrow(request: Request) -> bool:
    """Whether the body is Arrow IPC (else JSON); 415 for any other declared type."""
    return b.body_type(request.headers.get("content-type"), (b.JSON, b.ARROW)) == b.ARROW


async def json_body(request: Request, model: type[M]) -> M:
    """The request's JSON body as ``model``: 415 unless it is declared JSON (or undeclared),
    400 when malformed, 422 naming the field."""
    b.body_type(request.headers.get("content-type"), (b.JSON,))
    return b.parse_json(await request.body(), model)


async def _parse(body: bytes, parse: Callable[..., T], *args: Any) -> T:
    """``parse(*args)`` of ``body``: inline when the body is small, else in the threadpool."""
    if len(body) <= INLINE_BODY:
        return parse(*args)
    return await run_in_threadpool(parse, *args)


async def _store(
    state: State, key: ApiKey, idem: Idempotency, table: str, rows: pa.Table
) -> Stored:
    # Only the commit leaves the event loop: the group-commit thread answers the future.
    stored = await asyncio.wrap_future(state.store.ingest_future(key.project, idem, table, rows))
    state.counters.ingested(key.project, table, rows.num_rows if stored else 0, stored)
    return Stored(stored=rows.num_rows if stored else 0, duplicate=not stored)


@router.put(
    "/models/{model}/versions/{version}",
    response_model=VersionInfo,
    responses=ERRORS,
    summary="Register a model version with its schema",
    openapi_extra=body_doc(SchemaBody),
)
async def register_version(
    model: ModelName, version: ModelName, request: Request, key: Ingest
) -> VersionInfo:
    state = state_of(request)
    body = await json_body(request, SchemaBody)
    schema = body.model_dump()
    try:
        Schema.from_dict(schema)
    except InvalidInputError as exc:
        raise b.ApiError(
            422, str(exc), f"columns.{exc.field}" if exc.field else "columns"
        ) from None
    await run_in_threadpool(state.store.register_version, key.project, model, version, schema)
    found = await state.version(key.project, model, version)
    return VersionInfo(
        model=model,
        version=version,
        created_at=found.created_at,
        has_reference=found.has_reference,
        columns=body.columns,
    )


@router.put(
    "/models/{model}/versions/{version}/reference",
    response_model=VersionInfo,
    responses=ERRORS,
    summary="Upload the reference: CSV, Parquet or a sightline profile",
    openapi_extra=body_doc(None, b.CSV, b.PARQUET, b.PROFILE),
)
async def upload_reference(
    model: ModelName, version: ModelName, request: Request, key: Ingest
) -> VersionInfo:
    state = state_of(request)
    kind = b.body_type(
        request.headers.get("content-type"), (b.CSV, b.PARQUET, b.PROFILE), required=True
    )
    found = await state.version(key.project, model, version)
    body = await request.body()
    schema = Schema.from_dict(found.schema)
    estimator = None
    if kind == b.PROFILE:
        profile = state.decode_profile(body, schema, model, version)
    else:
        profile, estimator = await run_in_threadpool(
            _reference_of, body, kind, schema, model, version
        )
    await run_in_threadpool(
        state.store.set_reference,
        key.project,
        model,
        version,
        profile.to_bytes(),
        estimator,
        source_sha256=hashlib.sha256(body).hexdigest(),
    )
    state.forget_version(key.project, model, version)
    return VersionInfo(
        model=model,
        version=version,
        created_at=found.created_at,
        has_reference=True,
        columns=columns_of(found.schema),
        fitted=_fitted(profile, schema, estimator, kind),
    )


def columns_of(schema: dict[str, Any]) -> list[ColumnSpec]:
    """The columns of a stored schema as the API shows them."""
    return [ColumnSpec(**c) for c in schema["columns"]]


def _fitted(
    profile: Profile, schema: Schema, estimator: dict[str, Any] | None, kind: str
) -> Fitted:
    """What a new reference fixed: bins per numeric column, categories per categorical
    one, and the performance estimator (CBPE) or why there is none."""
    edges, vocabularies = profile.reference_spec()
    cbpe = estimator if estimator is not None and "cbpe" in estimator else None
    if cbpe is not None:
        note = f"CBPE fitted on {cbpe['n_reference']} labelled rows"
    elif kind == b.PROFILE:
        note = "no CBPE: a profile holds no rows to calibrate on; upload CSV or Parquet"
    elif schema.one("target") is None or not schema.names(role="probability"):
        note = "no CBPE: it needs a target and a probability column (a classifier's)"
    else:
        note = "no CBPE: the reference has too few labelled rows of a classifier"
    return Fitted(
        bins={name: len(e) - 1 for name, e in edges.items()},
        vocabularies={name: len(v) for name, v in vocabularies.items()},
        estimator="cbpe" if cbpe is not None else None,
        estimator_note=note,
    )


def _reference_of(
    body: bytes, kind: str, schema: Schema, model: str, version: str
) -> tuple[Profile, dict[str, Any] | None]:
    """The profile of a CSV or Parquet reference, and the performance estimator fitted on
    its labelled rows when it is a classifier's (else None)."""
    data = b.read_table_file(body, kind)
    missing = [c.name for c in schema.columns if c.name not in data.column_names]
    if missing:
        raise b.ApiError(422, f"the reference lacks the schema's columns {missing}", missing[0])
    rows = data.select([c.name for c in schema.columns])
    try:
        options = SchemaOptions(schema=schema)
        profile = profile_data(rows, columns=options, model=model, version=version)
    except InvalidInputError as exc:
        raise b.ApiError(422, str(exc), exc.field) from None
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise b.ApiError(422, f"cannot profile the reference: {exc}", "body") from None
    try:
        return profile, estimator_state(schema, rows)
    except InvalidInputError as exc:
        raise b.ApiError(422, f"cannot fit the performance estimator: {exc}", exc.field) from None


@router.post(
    "/models/{model}/versions/{version}/profiles",
    response_model=Stored,
    responses=ERRORS,
    summary="Ingest one profile (the SDK sends one per instance and window)",
    openapi_extra=body_doc(None, b.PROFILE),
)
async def ingest_profile(
    model: ModelName, version: ModelName, request: Request, key: Ingest, idem: IdemKey
) -> Stored:
    state = state_of(request)
    found = await state.version(key.project, model, version)
    b.body_type(request.headers.get("content-type"), (b.PROFILE,))
    body = await request.body()
    profile = await run_in_threadpool(
        state.decode_profile, body, Schema.from_dict(found.schema), model, version
    )
    if found.has_reference:
        await state.check_against_reference(key.project, model, version, profile)
    rows = profile_record(key.project, profile, body, idem, utcnow())
    scope = _idempotency(idem, body, "profiles", model, version)
    return await _store(state, key, scope, "profiles", rows)


@router.post(
    "/models/{model}/versions/{version}/predictions",
    response_model=Stored,
    responses=ERRORS,
    summary="Ingest prediction records (id, timestamp, prediction, probability)",
    openapi_extra=body_doc(PredictionBatch, b.ARROW),
)
async def ingest_predictions(
    model: ModelName, version: ModelName, request: Request, key: Ingest, idem: IdemKey
) -> Stored:
    state = state_of(request)
    await state.version(key.project, model, version)
    body = await request.body()
    arrow = _is_arrow(request)
    columns = await _parse(body, _prediction_columns, body, arrow)
    n = len(columns["prediction_id"])
    now = utcnow()
    rows = pa.table(
        {
            "project": _repeat(key.project, n, pa.string()),
            "model": _repeat(model, n, pa.string()),
            "version": _repeat(version, n, pa.string()),
            **columns,
            "received_at": _repeat(now, n, b.TS),
        }
    )
    scope = _idempotency(idem, body, "predictions", model, version)
    return await _store(state, key, scope, "predictions", rows)


def _prediction_columns(body: bytes, arrow: bool) -> dict[str, Any]:
    """The prediction columns of a JSON or Arrow body (parsed off the event loop)."""
    if arrow:
        return _prediction_arrow(b.read_arrow(body))
    return _prediction_json(b.parse_json(body, PredictionBatch))


def _prediction_json(batch: PredictionBatch) -> dict[str, Any]:
    records = batch.records
    nums, strs = b.split_values([r.prediction for r in records])
    return {
        "prediction_id": pa.array([r.id for r in records], pa.string()),
        # Arrow converts aware times to UTC and keeps naive ones, as b.utc does.
        "ts": pa.array([r.timestamp for r in records], b.TS),
        "prediction": pa.array(nums, pa.float64()),
        "prediction_label": pa.array(strs, pa.string()),
        "probability": pa.array([r.probability for r in records], pa.float64()),
        "probabilities": pa.array(
            [
                None if r.probabilities is None else b.probabilities_text(r.probabilities)
                for r in records
            ],
            pa.string(),
        ),
    }


def _prediction_arrow(table: pa.Table) -> dict[str, Any]:
    b.check_columns(table, ("id", "timestamp", "prediction", "probability", "probabilities"))
    n = table.num_rows
    ids = b.texts(b.required(table, "id"), "id")
    ts = b.timestamps(b.required(table, "timestamp"), "timestamp")
    nums, strs = b.value_columns(b.optional(table, "prediction"), "prediction", n)
    prob = b.optional(table, "probability")
    return {
        "prediction_id": ids,
        "ts": ts,
        "prediction": nums,
        "prediction_label": strs,
        "probability": pa.nulls(n, pa.float64())
        if prob is None
        else b.numbers(prob, "probability", low=0.0, high=1.0),
        "probabilities": pa.nulls(n, pa.string())
        if (probs := b.optional(table, "probabilities")) is None
        else b.class_probabilities(probs, "probabilities"),
    }


@router.post(
    "/models/{model}/labels",
    response_model=Stored,
    responses=ERRORS,
    summary="Ingest true labels, joined to predictions by id",
    openapi_extra=body_doc(LabelBatch, b.ARROW),
)
async def ingest_labels(model: ModelName, request: Request, key: Ingest, idem: IdemKey) -> Stored:
    state = state_of(request)
    await state.model(key.project, model)
    body = await request.body()
    now = utcnow()
    arrow = _is_arrow(request)
    ids, nums, strs, ts = await _parse(body, _label_columns, body, arrow, now)
    n = len(ids)
    rows = pa.table(
        {
            "project": _repeat(key.project, n, pa.string()),
            "model": _repeat(model, n, pa.string()),
            "prediction_id": ids,
            "label": nums,
            "label_text": strs,
            "ts": ts,
            "received_at": _repeat(now, n, b.TS),
        }
    )
    return await _store(state, key, _idempotency(idem, body, "labels", model), "labels", rows)


def _label_columns(body: bytes, arrow: bool, now: datetime) -> tuple[pa.Array, ...]:
    """Ids, numeric labels, text labels and times of a JSON or Arrow label body."""
    if arrow:
        table = b.read_arrow(body)
        b.check_columns(table, ("id", "label", "timestamp"))
        n = table.num_rows
        nums, strs = b.value_columns(b.required(table, "label"), "label", n)
        given = b.optional(table, "timestamp")
        ts = _repeat(now, n, b.TS) if given is None else b.timestamps(given, "timestamp")
        return b.texts(b.required(table, "id"), "id"), nums, strs, ts
    labels = b.parse_json(body, LabelBatch).labels
    num_list, str_list = b.split_values([r.label for r in labels])
    return (
        pa.array([r.id for r in labels], pa.string()),
        pa.array(num_list, pa.float64()),
        pa.array(str_list, pa.string()),
        pa.array([b.utc(r.timestamp, now) for r in labels], b.TS),
    )


@router.post(
    "/models/{model}/versions/{version}/samples",
    response_model=Stored,
    responses=ERRORS,
    summary="Ingest sampled raw rows (schema columns only)",
    openapi_extra=body_doc(SampleBatch, b.ARROW),
)
async def ingest_samples(
    model: ModelName, version: ModelName, request: Request, key: Ingest, idem: IdemKey
) -> Stored:
    state = state_of(request)
    found = await state.version(key.project, model, version)
    columns = [c["name"] for c in found.schema["columns"]]
    body = await request.body()
    now = utcnow()
    arrow = _is_arrow(request)
    texts, when = await _parse(body, _sample_texts, body, arrow, columns, now)
    n = len(texts)
    rows = pa.table(
        {
            "project": _repeat(key.project, n, pa.string()),
            "model": _repeat(model, n, pa.string()),
            "version": _repeat(version, n, pa.string()),
            "ts": _repeat(when, n, b.TS),
            "row_json": texts,
            "received_at": _repeat(now, n, b.TS),
        }
    )
    scope = _idempotency(idem, body, "samples", model, version)
    return await _store(state, key, scope, "samples", rows)


def _sample_texts(
    body: bytes, arrow: bool, columns: list[str], now: datetime
) -> tuple[pa.Array, datetime]:
    """The rows of a JSON or Arrow sample body as JSON texts, and their time."""
    if arrow:
        table = b.read_arrow(body)
        b.check_columns(table, columns)
        records, when = _sample_records(table), now
    else:
        batch = b.parse_json(body, SampleBatch)
        records, when = batch.rows, b.utc(batch.timestamp, now)
        allowed = set(columns)
        for i, record in enumerate(records):
            unknown = sorted(set(record) - allowed)
            if unknown:
                raise b.ApiError(
                    422, f"rows.{i}: unknown column {unknown[0]!r}", f"rows.{i}.{unknown[0]}"
                )
    texts = [json.dumps(r, allow_nan=False, sort_keys=True) for r in records]
    return pa.array(texts, pa.string()), when


def _sample_records(table: pa.Table) -> list[dict[str, Any]]:
    """The rows of an Arrow sample batch, whose columns must hold finite numbers, booleans,
    texts of at most 10,000 characters, or nulls (as the JSON form does)."""
    for name in table.column_names:
        col = table.column(name)
        kind = col.type
        if pa.types.is_floating(kind) or pa.types.is_integer(kind):
            b.numbers(col, name)
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            longest = pc.max(pc.utf8_length(col)).as_py() or 0
            if longest > 10_000:
                raise b.ApiError(422, f"column {name!r} holds texts over 10,000 characters", name)
        elif not (pa.types.is_boolean(kind) or pa.types.is_null(kind)):
            raise b.ApiError(
                422, f"column {name!r} must be numbers, texts or booleans, got {kind}", name
            )
    return table.to_pylist()  # type: ignore[no-any-return]


@router.post(
    "/models/{model}/versions/{version}/heartbeats",
    response_model=Stored,
    responses=ERRORS,
    summary="An instance serving this version is alive",
    openapi_extra=body_doc(HeartbeatBody),
)
async def heartbeat(
    model: ModelName, version: ModelName, request: Request, key: Ingest, idem: IdemKey
) -> Stored:
    state = state_of(request)
    await state.version(key.project, model, version)
    beat = await json_body(request, HeartbeatBody)
    body = await request.body()
    now = utcnow()
    row = {
        "project": key.project,
        "model": model,
        "version": version,
        "instance": beat.instance,
        "host": beat.host,
        "pid": beat.pid,
        "started_at": b.utc(beat.started_at, now),
        "ts": now,
        "dropped": beat.dropped,
        "closed": beat.closed,
    }
    return await _store(
        state,
        key,
        _idempotency(idem, body, "heartbeats", model, version),
        "heartbeats",
        pa.Table.from_pylist([row]),
    )
