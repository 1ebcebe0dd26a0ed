"""The JSON bodies of the HTTP API, as pydantic models (they are also its OpenAPI document).

Every model forbids unknown fields, refuses NaN and infinity, and is strict: a number is
not read from a string or a boolean; a time is an ISO 8601 date-time or seconds since 1970.
Names are 1 to 200 characters of letters, digits and ``_.:-``, texts have no NUL character;
batches hold at most :data:`MAX_BATCH` items.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    WithJsonSchema,
    model_serializer,
)

MAX_BATCH = 10_000
MAX_COLUMNS = 2_000

Name = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:\-]+$")
]
#: No NUL character: PostgreSQL cannot store one in text.
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)]
#: A prediction or label given as text.
Label = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=2**53)]
Cell = Annotated[str, StringConstraints(max_length=10_000)] | Finite | bool | None


def _epoch(value: object) -> object:
    """Seconds since 1970 (a JSON number, not a boolean) as an aware UTC datetime."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            shown = str(value) if len(str(value)) <= 30 else f"{str(value)[:12]}..."
            raise ValueError(f"{shown} seconds since 1970 is out of range") from None
    return value


def _naive_utc(value: datetime) -> datetime:
    """``value`` as the store keeps times: naive UTC (a time without a zone is UTC)."""
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is out of range in UTC") from None


#: A time in a request: an ISO 8601 date-time (UTC when it has no zone) or seconds since
#: 1970 (what the SDK sends); validated into naive UTC.
Time = Annotated[
    datetime,
    Field(strict=False),  # a string still parses as an ISO 8601 date-time
    BeforeValidator(_epoch),
    AfterValidator(_naive_utc),
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "number"}]}),
]
#: A time in an answer: the store's naive UTC times, written with their zone.
Utc = Annotated[datetime, AfterValidator(lambda d: d if d.tzinfo else d.replace(tzinfo=UTC))]


class Strict(BaseModel):
    """Base of every body: unknown fields, non-finite numbers and coercions are refused
    (``"probability": false`` or ``"0.5"``, ``"pid": 1.0`` or ``"7"``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


class ErrorBody(Strict):
    """Every 4xx and 5xx answer: a message that names the problem, and the field at fault."""

    error: str
    field: str | None = None


class ColumnSpec(Strict):
    """One column of a model's schema."""

    name: Text
    role: Literal["feature", "prediction", "probability", "target", "id", "timestamp"] = "feature"
    kind: Literal["numeric", "categorical", "text", "embedding"] = "numeric"
    #: A text column's RE2 patterns, ``name -> pattern``: match-rate descriptors.
    patterns: dict[Text, Text] | None = None

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Without ``patterns`` when there are none (as ``Column.to_dict``)."""
        out: dict[str, Any] = handler(self)
        if out.get("patterns") is None:
            out.pop("patterns", None)
        return out


class SchemaBody(Strict):
    """``PUT /models/{model}/versions/{version}``: the columns of the model version."""

    columns: Annotated[list[ColumnSpec], Field(min_length=1, max_length=MAX_COLUMNS)]


#: Classes a multiclass prediction may give probabilities for.
MAX_CLASSES = 1_000


class PredictionRecord(Strict):
    """One served prediction, for joining labels later by ``id``: a binary classifier's
    ``probability`` of the positive class, or a multiclass one's ``probabilities`` of
    every class."""

    id: Text
    timestamp: Time
    prediction: Finite | Label | None = None
    probability: Probability | None = None
    probabilities: Annotated[dict[Text, Probability], Field(max_length=MAX_CLASSES)] | None = None


class PredictionBatch(Strict):
    records: Annotated[list[PredictionRecord], Field(min_length=1, max_length=MAX_BATCH)]


class LabelRecord(Strict):
    """The true outcome of the prediction ``id``."""

    id: Text
    label: Finite | Label
    timestamp: Time | None = None


class LabelBatch(Strict):
    labels: Annotated[list[LabelRecord], Field(min_length=1, max_length=MAX_BATCH)]


class SampleBatch(Strict):
    """Raw rows sampled by the SDK, each a flat mapping of schema columns to values."""

    timestamp: Time | None = None
    rows: Annotated[
        list[Annotated[dict[Text, Cell], Field(max_length=MAX_COLUMNS)]],
        Field(min_length=1, max_length=MAX_BATCH),
    ]


class HeartbeatBody(Strict):
    """A serving instance is alive; ``dropped`` counts events its SDK dropped so far;
    ``closed`` says it is the last heartbeat of an instance that closed its Monitor."""

    instance: Text
    host: Text
    pid: Annotated[int, Field(ge=0, le=2**31)]
    started_at: Time
    dropped: Count = 0
    closed: bool = False


class KeyRequest(Strict):
    """``POST /keys``: a new key of the caller's project."""

    scope: Literal["ingest", "read", "admin"]


class Stored(Strict):
    """An ingest answer: how many rows were committed, or that the key was seen before."""

    stored: int
    duplicate: bool


class Fitted(Strict):
    """What a reference upload fixed: the number of bins of each numeric column, of
    categories of each categorical one, and the performance estimator or why not."""

    bins: dict[str, int]
    vocabularies: dict[str, int]
    estimator: Literal["cbpe"] | None
    estimator_note: str


class VersionInfo(Strict):
    model: str
    version: str
    created_at: Utc
    has_reference: bool
    columns: list[ColumnSpec] | None = None
    fitted: Fitted | None = None


class ModelList(Strict):
    versions: list[VersionInfo]


class MetricRowOut(Strict):
    """One metric row as :func:`sightline.analysis.rows.encode_row` writes it (DESIGN.md's
    fields in order, times in UTC with ``Z``); non-finite values are null."""

    model: str
    version: str
    window_start: Utc
    window_end: Utc
    column: str
    metric: str
    value: float | None
    lower: float | None
    upper: float | None
    alert: bool
    n_ref: int
    n_cur: int
    method: str
    p_value: float | None


class MetricRows(Strict):
    rows: list[MetricRowOut]


class RollupRows(Strict):
    """Rollup rows of one tier, and per row the smallest and largest value of the base
    rows it rolled (null when none had one) and how many it rolled."""

    rows: list[MetricRowOut]
    value_min: list[float | None]
    value_max: list[float | None]
    n_windows: list[int]


class InstanceOut(Strict):
    instance: str
    version: str
    host: str
    pid: int
    started_at: Utc
    last_seen: Utc
    live: bool
    closed: bool
    dropped: int


class LatencyOut(Strict):
    p50: float | None
    p95: float | None
    p99: float | None


class HealthOut(Strict):
    """The service-health overview of one model over ``[since, until)``: ``uptime_percent``
    (0-100) is the share of ``[uptime_since, until)`` covered by some live instance, where
    ``uptime_since`` is the first heartbeat in the range (or ``since``, when an instance was
    already live then; null without heartbeats)."""

    model: str
    since: Utc
    until: Utc
    live_instances: int
    instances: list[InstanceOut]
    uptime_percent: Annotated[float, Field(ge=0, le=100)]
    uptime_since: Utc | None
    predictions: int
    errors: int
    error_rate: float | None
    latency_ms: LatencyOut
    versions_loaded: list[str]
    dropped_events: int


class KeyOut(Strict):
    """A new key: shown once, with its id (what ``DELETE /keys/{id}`` takes)."""

    key: str
    id: str
    project: str
    scope: str


class KeyInfoOut(Strict):
    id: str
    scope: str
    created_at: Utc


class KeyList(Strict):
    keys: list[KeyInfoOut]
