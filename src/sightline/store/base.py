"""The one store interface, written once in SQL that DuckDB and PostgreSQL share.

A subclass supplies connections: :meth:`Store._read` runs one query, :meth:`Store._write`
opens one transaction. Everything else (keys, models, idempotent ingest, metric rows,
retention) lives here, so both stores behave the same and one test suite covers both.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

import pyarrow as pa

from sightline._time import EPOCH
from sightline.errors import ConflictError, InvalidInputError, NotFoundError
from sightline.store import tiers
from sightline.store.group_commit import GroupCommit
from sightline.store.leases import LeaseQueries
from sightline.store.migrations import LATENCY_COLUMNS, MIGRATIONS, RETENTION_COLUMN, WRITABLE
from sightline.store.rollups import RollupQueries
from sightline.store.scheduling import SchedulingQueries

if TYPE_CHECKING:
    from sightline.analysis.rows import MetricRow

Scope = Literal["ingest", "read", "admin"]
SCOPES: tuple[Scope, ...] = ("ingest", "read", "admin")
KEY_PREFIX = "sl"


def utcnow() -> datetime:
    """The current UTC time as the store keeps it (naive, microseconds)."""
    return datetime.now(UTC).replace(tzinfo=None)


def as_utc(value: datetime) -> datetime:
    """``value`` as a naive UTC datetime (aware values are converted, naive ones kept)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


@dataclass(frozen=True)
class ApiKey:
    """An authenticated key: its id (not secret), project and scope."""

    key_id: str
    project: str
    scope: Scope

    def allows(self, needed: Scope) -> bool:
        """Whether this key may do what ``needed`` names (admin may do everything).

        >>> ApiKey("k", "p", "admin").allows("read"), ApiKey("k", "p", "read").allows("ingest")
        (True, False)
        """
        return self.scope in (needed, "admin")


@dataclass(frozen=True)
class KeyInfo:
    """A key as listings show it: its id, scope and creation time (never its secret)."""

    key_id: str
    scope: Scope
    created_at: datetime


@dataclass(frozen=True)
class ModelVersion:
    """A registered model version: its schema (``Schema.to_dict()``) and reference profile.

    ``reference`` holds the profile's bytes where it was read (``Store.get_version``);
    listings leave it None and say only whether one exists.
    """

    model: str
    version: str
    schema: dict[str, Any]
    created_at: datetime
    has_reference: bool
    reference: bytes | None = None


class Heartbeat(NamedTuple):
    """A serving instance said it is alive at ``ts``; ``dropped`` counts the events its
    SDK had to drop since it started (a full spool); ``closed``: its goodbye (the Monitor
    was closed), after which the instance is not live.

    A named tuple: a health overview reads a day of them (11,520 at 4 instances beating
    every 30 s), and a tuple is built several times faster than a frozen dataclass.
    """

    version: str
    instance: str
    host: str
    pid: int
    started_at: datetime
    ts: datetime
    dropped: int
    closed: bool


class HealthSums(NamedTuple):
    """What the profiles of a range add up to: predictions, errors, latency bucket counts
    and the smallest and largest latency (``0`` and ``inf`` when none was recorded)."""

    predictions: int
    errors: int
    buckets: list[int]
    latency_min: float
    latency_max: float


class Beat(NamedTuple):
    """One heartbeat as uptime reads it: seconds since the epoch, instance, goodbye."""

    ts: float
    instance: str
    closed: bool


@dataclass(frozen=True)
class Idempotency:
    """What makes a write safe to retry: the client's key and the SHA-256 of its body."""

    key: str
    body_sha256: str
    kind: str


class IngestRequest(NamedTuple):
    """One ingest: ``rows`` for ``table`` of ``project``, under an idempotency key."""

    project: str
    request: Idempotency
    table: str
    rows: pa.Table


class Transaction(Protocol):
    """What a write transaction offers: statements and bulk inserts of Arrow tables."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def insert(self, table: str, rows: pa.Table) -> None: ...


def _check_writable(table: str, rows: pa.Table) -> None:
    allowed = WRITABLE.get(table)
    if allowed is None:
        raise InvalidInputError(f"table {table!r} cannot be written", field="table")
    extra = [c for c in rows.column_names if c not in allowed]
    if extra:
        raise InvalidInputError(f"table {table!r} has no columns {extra}", field="columns")


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _nice_step(seconds: float) -> int:
    """The smallest of 1 s, 5 s, ... 1 day, or whole days, that is at least ``seconds``."""
    for step in (1, 5, 10, 15, 30, 60, 300, 600, 900, 1800, 3600, 10800, 21600, 43200, 86400):
        if step >= seconds:
            return step
    return 86400 * math.ceil(seconds / 86400)


class Store(SchedulingQueries, LeaseQueries, RollupQueries, ABC):
    """Persistence of everything the collector keeps. Subclasses: DuckDB and PostgreSQL.

    Examples
    --------
    >>> from sightline.store import open_store
    >>> store = open_store(":memory:")
    >>> key = store.create_key("demo", "read")
    >>> store.authenticate(key).scope, store.authenticate(key + "x")
    ('read', None)
    >>> store.close()
    """

    placeholder = "?"
    #: Ingest requests' commits (set by a subclass: ``GroupCommit(self._ingest_group)``).
    _commits: GroupCommit[IngestRequest, bool]

    # -- what a subclass supplies -------------------------------------------------------

    @abstractmethod
    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read-only query and return its rows."""

    @abstractmethod
    def _write(self) -> AbstractContextManager[Transaction]:
        """One transaction: committed when the block ends, rolled back if it raises."""

    @abstractmethod
    def close(self) -> None:
        """Release connections and locks."""

    @abstractmethod
    def _lock_migrations(self, tx: Transaction) -> None:
        """Serialize concurrent migrations (several collectors starting at once)."""

    dialect: str = ""

    # -- schema --------------------------------------------------------------------------

    def migrate(self) -> int:
        """Apply the migrations not yet applied; return the schema version now in place."""
        with self._write() as tx:
            self._lock_migrations(tx)
            tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"
            )
            done = {int(r[0]) for r in tx.execute("SELECT version FROM schema_migrations")}
            for step in MIGRATIONS:
                if step.version in done:
                    continue
                extra = step.postgres_only if self.dialect == "postgresql" else ()
                for statement in (*step.statements, *extra):
                    tx.execute(statement)
                tx.execute("INSERT INTO schema_migrations VALUES (?, ?)", (step.version, utcnow()))
        return self.schema_version()

    def schema_version(self) -> int:
        """The newest migration applied (0 for an empty store)."""
        rows = self._read("SELECT max(version) FROM schema_migrations")
        return int(rows[0][0] or 0)

    # -- projects and keys ---------------------------------------------------------------

    def create_key(self, project: str, scope: Scope) -> str:
        """Create ``project`` if new and a key for it; return the key (shown once).

        Keys look like ``sl_<id>_<secret>``; only the SHA-256 of the secret is stored.
        """
        if scope not in SCOPES:
            raise InvalidInputError(f"scope must be one of {SCOPES}, got {scope!r}", field="scope")
        if not project or len(project) > 200:
            raise InvalidInputError("project must be 1 to 200 characters", field="project")
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        now = utcnow()
        with self._write() as tx:
            tx.execute("INSERT INTO projects VALUES (?, ?) ON CONFLICT DO NOTHING", (project, now))
            tx.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?)",
                (key_id, project, scope, _hash_secret(secret), now),
            )
        return f"{KEY_PREFIX}_{key_id}_{secret}"

    def count_keys(self) -> int:
        """How many keys exist (0 on a new store)."""
        return int(self._read("SELECT count(*) FROM api_keys")[0][0])

    def list_keys(self, project: str) -> list[KeyInfo]:
        """The keys of ``project``, oldest first."""
        rows = self._read(
            "SELECT key_id, scope, created_at FROM api_keys WHERE project = ? "
            "ORDER BY created_at, key_id",
            (project,),
        )
        return [KeyInfo(k, s, c) for k, s, c in rows]

    def revoke_key(self, project: str, key_id: str) -> None:
        """Delete the key ``key_id`` of ``project``; :class:`NotFoundError` when it has none
        of that id. Collectors stop accepting it when their key cache expires."""
        with self._write() as tx:
            gone = tx.execute(
                "DELETE FROM api_keys WHERE project = ? AND key_id = ? RETURNING key_id",
                (project, key_id),
            )
        if not gone:
            raise NotFoundError(f"project {project!r} has no key {key_id!r}")

    def authenticate(self, token: str) -> ApiKey | None:
        """The key ``token`` stands for, or None; the secret is compared in constant time."""
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        rows = self._read(
            "SELECT project, scope, secret_sha256 FROM api_keys WHERE key_id = ?", (parts[1],)
        )
        expected = rows[0][2] if rows else _hash_secret("")
        matches = hmac.compare_digest(_hash_secret(parts[2]), expected)
        if not rows or not matches:
            return None
        return ApiKey(parts[1], rows[0][0], rows[0][1])

    # -- models --------------------------------------------------------------------------

    def register_version(
        self, project: str, model: str, version: str, schema: Mapping[str, Any]
    ) -> bool:
        """Register a model version with its schema; True when new, False when unchanged.

        Registering it again with another schema raises :class:`ConflictError`.
        """
        text = json.dumps(schema, sort_keys=True)
        now = utcnow()
        with self._write() as tx:
            tx.execute(
                "INSERT INTO models VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (project, model, now)
            )
            old = tx.execute(
                "SELECT schema_json FROM model_versions "
                "WHERE project = ? AND model = ? AND version = ?",
                (project, model, version),
            )
            if old:
                if old[0][0] != text:
                    raise ConflictError(
                        f"model {model!r} version {version!r} is registered with another "
                        "schema; register a new version instead"
                    )
                return False
            tx.execute(
                "INSERT INTO model_versions (project, model, version, schema_json, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (project, model, version, text, now),
            )
        return True

    def set_reference(
        self,
        project: str,
        model: str,
        version: str,
        profile: bytes,
        estimator: dict[str, Any] | None = None,
        *,
        source_sha256: str | None = None,
    ) -> bool:
        """Store the reference profile of a version, and the performance estimator fitted
        on the reference's rows when there is one; True when new, False when unchanged
        (the same profile, or the same uploaded file: ``source_sha256``, its SHA-256).

        A reference fixes bin edges for every later profile, so replacing it with
        another raises :class:`ConflictError`.
        """
        with self._write() as tx:
            old = tx.execute(
                "SELECT reference, reference_sha256 FROM model_versions "
                "WHERE project = ? AND model = ? AND version = ?",
                (project, model, version),
            )
            if not old:
                raise NotFoundError(f"model {model!r} version {version!r} is not registered")
            if old[0][0] is not None:
                same_file = source_sha256 is not None and old[0][1] == source_sha256
                if not same_file and bytes(old[0][0]) != profile:
                    raise ConflictError(
                        f"model {model!r} version {version!r} already has another reference; "
                        "register a new version to change it"
                    )
                return False
            tx.execute(
                "UPDATE model_versions SET reference = ?, estimator = ?, reference_sha256 = ? "
                "WHERE project = ? AND model = ? AND version = ?",
                (profile, _json_or_none(estimator), source_sha256, project, model, version),
            )
        return True

    def estimator(self, project: str, model: str, version: str) -> dict[str, Any] | None:
        """The performance estimator stored with the version's reference, if any."""
        rows = self._read(
            "SELECT estimator FROM model_versions WHERE project = ? AND model = ? AND version = ?",
            (project, model, version),
        )
        return json.loads(rows[0][0]) if rows and rows[0][0] is not None else None

    def get_version(self, project: str, model: str, version: str) -> ModelVersion:
        """A registered version, or :class:`NotFoundError`."""
        found = self.get_versions([(project, model, version)])
        if not found:
            raise NotFoundError(f"model {model!r} version {version!r} is not registered")
        return found[(project, model, version)]

    def get_versions(
        self, keys: Collection[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], ModelVersion]:
        """The registered versions among ``keys`` (project, model, version), with their
        references, in one query.

        >>> from sightline.store import open_store
        >>> store = open_store(":memory:")
        >>> store.register_version("p", "m", "1", {"columns": []})
        True
        >>> list(store.get_versions([("p", "m", "1"), ("p", "m", "2")]))
        [('p', 'm', '1')]
        >>> store.close()
        """
        if not keys:
            return {}
        values = ", ".join(["(?, ?, ?)"] * len(keys))
        rows = self._read(
            "SELECT v.project, v.model, v.version, v.schema_json, v.reference, v.created_at "
            f"FROM (VALUES {values}) AS k(project, model, version) JOIN model_versions v "
            "ON v.project = k.project AND v.model = k.model AND v.version = k.version",
            [x for key in keys for x in key],
        )
        out = {}
        for project, model, version, schema, reference, created in rows:
            ref = None if reference is None else bytes(reference)
            out[(project, model, version)] = ModelVersion(
                model, version, json.loads(schema), created, ref is not None, ref
            )
        return out

    def list_versions(self, project: str, model: str | None = None) -> list[ModelVersion]:
        """Every version of the project (of one model when given), by model then time."""
        sql = (
            "SELECT model, version, schema_json, created_at, reference IS NOT NULL "
            "FROM model_versions WHERE project = ?"
        )
        params: list[Any] = [project]
        if model is not None:
            sql += " AND model = ?"
            params.append(model)
        rows = self._read(sql + " ORDER BY model, created_at, version", params)
        return [ModelVersion(m, v, json.loads(s), c, bool(r)) for m, v, s, c, r in rows]

    # -- ingest --------------------------------------------------------------------------

    def ingest(self, project: str, request: Idempotency, table: str, rows: pa.Table) -> bool:
        """Insert ``rows`` into ``table`` once per idempotency key, atomically.

        Returns True when stored, False when the same key and body were stored before;
        the same key with another body raises :class:`ConflictError` and writes nothing.
        Concurrent calls commit together, in one transaction (:mod:`.group_commit`).
        """
        return self.ingest_future(project, request, table, rows).result()

    def ingest_future(
        self, project: str, request: Idempotency, table: str, rows: pa.Table
    ) -> Future[bool]:
        """:meth:`ingest`, answered by a future (for a caller on an event loop, which
        awaits it with ``asyncio.wrap_future`` instead of holding a thread)."""
        _check_writable(table, rows)
        return self._commits.future(IngestRequest(project, request, table, rows))

    def _ingest_group(self, items: list[IngestRequest]) -> list[bool | ConflictError]:
        """Ingest ``items`` in one transaction (the group commit's step)."""
        with self._write() as tx:
            return self._ingest_in(tx, items)

    def _ingest_in(
        self, tx: Transaction, batch: Sequence[IngestRequest], *, new_keys: bool = False
    ) -> list[bool | ConflictError]:
        """Ingest every request of ``batch`` in the transaction ``tx``, each as
        :meth:`ingest` would alone (in order: a key seen earlier in the batch is a retry).

        One statement records all new idempotency keys and one insert per table and
        column layout writes the rows of every new request, so a batch costs about what
        one request does. A reused key is a :class:`ConflictError` in the returned list
        (it writes nothing, and does not fail the others).

        ``new_keys=True`` records the keys with a plain ``INSERT`` (cheaper than
        ``ON CONFLICT`` in DuckDB): a key stored before then fails the statement with a
        constraint error, and the caller retries without it.
        """
        now = utcnow()
        firsts: dict[tuple[str, str], int] = {}
        for i, item in enumerate(batch):
            firsts.setdefault((item.project, item.request.key), i)
        values = ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(firsts))
        params: list[Any] = []
        for i in firsts.values():
            project, req, _, rows = batch[i]
            params += (project, req.key, req.body_sha256, req.kind, rows.num_rows, now)
        sql = f"INSERT INTO ingest_requests VALUES {values}"
        if new_keys and len(firsts) == len(batch):
            tx.execute(sql, params)
            inserted = set(firsts)
        else:
            claimed = tx.execute(
                f"{sql} ON CONFLICT DO NOTHING RETURNING project, idempotency_key", params
            )
            inserted = {(str(r[0]), str(r[1])) for r in claimed}
        outcomes: list[bool | ConflictError] = []
        writes: dict[tuple[str, pa.Schema], list[pa.Table]] = {}
        for i, (project, req, table, rows) in enumerate(batch):
            if firsts[(project, req.key)] == i and (project, req.key) in inserted:
                outcomes.append(True)
                if rows.num_rows:
                    writes.setdefault((table, rows.schema), []).append(rows)
                continue
            try:
                self._check_same_body(tx, project, req)
            except ConflictError as exc:
                outcomes.append(exc)
            else:
                outcomes.append(False)
        for (table, _), parts in writes.items():
            tx.insert(table, parts[0] if len(parts) == 1 else pa.concat_tables(parts))
        return outcomes

    def _check_same_body(self, tx: Transaction, project: str, request: Idempotency) -> None:
        old = tx.execute(
            "SELECT body_sha256, kind FROM ingest_requests "
            "WHERE project = ? AND idempotency_key = ?",
            (project, request.key),
        )
        if old and (old[0][0], old[0][1]) != (request.body_sha256, request.kind):
            raise ConflictError(
                f"idempotency key {request.key!r} was used before with another body; "
                "use a new key for new data"
            )

    def insert_rows(self, table: str, rows: pa.Table) -> None:
        """Insert ``rows`` without an idempotency key (jobs and tests)."""
        _check_writable(table, rows)
        with self._write() as tx:
            tx.insert(table, rows)

    def count(self, table: str, project: str) -> int:
        """Rows of ``table`` that belong to ``project``."""
        if table not in WRITABLE and table != "ingest_requests":
            raise InvalidInputError(f"unknown table {table!r}", field="table")
        return int(self._read(f"SELECT count(*) FROM {table} WHERE project = ?", (project,))[0][0])

    # -- queries -------------------------------------------------------------------------

    def metric_rows(
        self,
        project: str,
        model: str,
        *,
        since: datetime,
        until: datetime,
        version: str | None = None,
        column: str | None = None,
        metric: str | None = None,
        max_points: int | None = None,
        limit: int | None = None,
    ) -> list[MetricRow]:
        """Metric rows of a model with ``since <= window_start < until``, oldest first.

        With ``max_points``, each series (version, column, metric) is averaged over time
        buckets of a round step (1 s ... 1 day), counted from ``since``, chosen so that it
        has at most ``max_points`` points: ``value``, ``lower`` and ``upper`` are bucket
        means, ``alert`` is true when any row of the bucket alerted, ``n_cur`` is summed.
        The rows come from the coarsest rollup tier whose size divides the step, where it
        is rolled (:mod:`sightline.store.tiers`): a 30-day series at 1,000 points reads
        720 hourly rollups instead of 43,200 minute rows, and has the same means. Without
        ``max_points``, a range older than the base rows' retention returns the rows of
        the finest tier that still holds it. ``limit`` caps the rows returned.
        """
        where = ["project = ?", "model = ?", "window_start >= ?", "window_start < ?"]
        params: list[Any] = [project, model, as_utc(since), as_utc(until)]
        for name, value in (("version", version), ("column_name", column), ("metric", metric)):
            if value is not None:
                where.append(f"{name} = ?")
                params.append(value)
        cond = " AND ".join(where)
        if max_points is None:
            source, args = tiers.finest_sources(self, project, model, cond, params, as_utc(since))
            sql = f"SELECT {_ROW_COLUMNS} FROM {source} ORDER BY window_start, column_name, metric"
        else:
            span = (as_utc(until) - as_utc(since)).total_seconds()
            step = _nice_step(span / max(max_points, 1))
            split = tiers.tier_for_step(self, project, model, version, step)
            source, args = tiers.tiered_source(split, cond, params)
            # Buckets from ``since`` (not the epoch), so that ceil(span / step) <= max_points.
            origin = (as_utc(since) - EPOCH).total_seconds()
            bucket = f"floor((date_part('epoch', window_start) - {origin!r}) / {step})"
            means = ", ".join(
                tiers.weighted_mean(c) for c in ("value", "lower_bound", "upper_bound")
            )
            sql = (
                "SELECT version, min(window_start), max(window_end), column_name, metric, "
                f"{means}, bool_or(alert), max(n_ref), "
                "CAST(sum(n_cur) AS BIGINT), min(method), min(p_value) "
                f"FROM {source} "
                f"GROUP BY version, column_name, metric, {bucket} "
                "ORDER BY 2, column_name, metric"
            )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return _metric_rows(self._read(sql, args), model)

    def latest_metric_rows(
        self, project: str, model: str, kind: str, version: str | None = None
    ) -> list[MetricRow]:
        """The newest row of each (version, column, metric) of one job kind."""
        params: list[Any] = [project, model, kind]
        extra = ""
        if version is not None:
            extra = " AND version = ?"
            params.append(version)
        sql = (
            "SELECT version, window_start, window_end, column_name, metric, value, "
            "lower_bound, upper_bound, alert, n_ref, n_cur, method, p_value FROM ("
            "SELECT *, row_number() OVER (PARTITION BY version, column_name, metric "
            "ORDER BY window_start DESC) AS newest FROM metric_rows "
            f"WHERE project = ? AND model = ? AND kind = ?{extra}) AS ranked "
            "WHERE newest = 1 ORDER BY version, column_name, metric"
        )
        return _metric_rows(self._read(sql, params), model)

    def newest_metric_rows(self, project: str, limit: int = 10_000) -> list[MetricRow]:
        """The newest row of each (model, version, column, metric) of a project."""
        sql = (
            "SELECT model, version, window_start, window_end, column_name, metric, "
            "value, lower_bound, upper_bound, alert, n_ref, n_cur, method, p_value FROM ("
            "SELECT *, row_number() OVER (PARTITION BY model, version, column_name, "
            "metric ORDER BY window_start DESC) AS newest FROM metric_rows WHERE project = ?) "
            f"AS ranked WHERE newest = 1 ORDER BY model, version, column_name, metric LIMIT {limit}"
        )
        return _metric_rows(self._read(sql, (project,)))

    def health_sums(self, project: str, model: str, since: datetime, until: datetime) -> HealthSums:
        """Predictions, errors and latency bucket counts summed over the profiles whose
        window starts in ``[since, until)`` (received time when a profile has none), and
        their smallest and largest latency, in one query."""
        rows = self._read(
            f"SELECT {_HEALTH_COLUMNS} FROM profiles WHERE project = ? AND model = ? {_IN_RANGE}",
            (project, model, as_utc(since), as_utc(until)),
        )
        return _health_sums(*rows[0])

    def health_by_version(
        self, project: str, since: datetime, until: datetime
    ) -> dict[tuple[str, str], HealthSums]:
        """:meth:`health_sums` of every (model, version) of a project, in one query."""
        rows = self._read(
            f"SELECT model, version, {_HEALTH_COLUMNS} "
            f"FROM profiles WHERE project = ? {_IN_RANGE} GROUP BY model, version",
            (project, as_utc(since), as_utc(until)),
        )
        return {(model, version): _health_sums(*sums) for model, version, *sums in rows}

    def live_instances(
        self, project: str, since: datetime, models: Sequence[str] | None = None
    ) -> dict[tuple[str, str], int]:
        """Instances of every (model, version) of a project (of ``models``, default all)
        whose newest heartbeat is after ``since`` and is not a goodbye (a closed Monitor).
        Naming the models lets PostgreSQL's ``heartbeats_ts`` index serve the time range."""
        if models == []:
            return {}
        only = "" if models is None else f"AND model IN ({', '.join('?' for _ in models)}) "
        rows = self._read(
            "SELECT model, version, count(*) FROM ("
            "SELECT model, version, closed, row_number() OVER (PARTITION BY model, version, "
            "instance ORDER BY ts DESC, closed DESC) AS newest FROM heartbeats "
            f"WHERE project = ? {only}AND ts > ?) AS ranked "
            "WHERE newest = 1 AND NOT closed GROUP BY model, version",
            (project, *(models or ()), as_utc(since)),
        )
        return {(m, v): int(n) for m, v, n in rows}

    def heartbeat_times(
        self, project: str, model: str, since: datetime, until: datetime
    ) -> list[Beat]:
        """The heartbeats with ``since <= ts < until`` (time, instance, goodbye), by time."""
        return self.heartbeats_in(project, model, [(since, until)])

    def heartbeats_in(
        self, project: str, model: str, spans: Sequence[tuple[datetime, datetime]]
    ) -> list[Beat]:
        """The heartbeats in any of ``spans`` (``[since, until)`` each), by time, in one
        query of the spans' union (a heartbeat in two overlapping spans once)."""
        union = _union(spans)
        if not union:
            return []
        within = " OR ".join("(ts >= ? AND ts < ?)" for _ in union)
        rows = self._read(
            "SELECT extract(epoch FROM ts), instance, closed FROM heartbeats "
            f"WHERE project = ? AND model = ? AND ({within}) ORDER BY ts, instance, closed",
            (project, model, *(as_utc(t) for span in union for t in span)),
        )
        return [Beat(float(t), str(i), bool(c)) for t, i, c in rows]

    def newest_heartbeats(self, project: str, model: str, since: datetime) -> list[Heartbeat]:
        """The newest heartbeat of each (instance, version) since ``since``, by instance
        (a goodbye wins a tie)."""
        rows = self._read(
            "SELECT version, instance, host, pid, started_at, ts, dropped, closed FROM ("
            "SELECT *, row_number() OVER (PARTITION BY instance, version "
            "ORDER BY ts DESC, closed DESC) AS newest FROM heartbeats "
            "WHERE project = ? AND model = ? AND ts >= ?) AS ranked "
            "WHERE newest = 1 ORDER BY instance, version",
            (project, model, as_utc(since)),
        )
        return [
            Heartbeat(v, i, h, int(p), s, t, int(d), bool(c)) for v, i, h, p, s, t, d, c in rows
        ]

    # -- maintenance ---------------------------------------------------------------------

    def optimize(self, *, min_growth: float = 0.0) -> None:
        """Reorganize storage for the queries (DuckDB clusters metric rows; PostgreSQL's
        indexes need nothing). The collector runs it at start, before it serves, and with
        the hourly retention when the table grew by ``min_growth`` since."""

    # -- retention -----------------------------------------------------------------------

    def enforce_retention(
        self, keep: Mapping[str, timedelta], now: datetime | None = None
    ) -> dict[str, int]:
        """Delete rows older than ``keep[table]`` (tables not named are kept forever).
        When both ``profiles`` and ``predictions`` are kept for a while, the scheduler's
        records (``jobs_done``, ``jobs_failed``) of windows older than the longer of the
        two go too, from a whole day (UTC) on: their inputs are gone, so no job of theirs
        is planned again, and a rollup tier of up to a day keeps every base record of its
        windows.

        Returns the rows deleted per table.

        >>> from sightline.store import open_store
        >>> store = open_store(":memory:")
        >>> day = timedelta(days=1)
        >>> store.enforce_retention({"profiles": day, "predictions": 2 * day})["jobs_done"]
        0
        >>> store.close()
        """
        now = as_utc(now) if now is not None else utcnow()
        deleted = {}
        if "profiles" in keep and "predictions" in keep:
            oldest = now - max(keep["profiles"], keep["predictions"])
            since = oldest.replace(hour=0, minute=0, second=0, microsecond=0)
            with self._write() as tx:
                for table in ("jobs_done", "jobs_failed"):
                    cond = (f"FROM {table} WHERE window_start < ?", (since,))
                    deleted[table] = int(tx.execute(f"SELECT count(*) {cond[0]}", cond[1])[0][0])
                    tx.execute(f"DELETE {cond[0]}", cond[1])
        for table, age in keep.items():
            column = RETENTION_COLUMN.get(table)
            if column is None:
                raise InvalidInputError(
                    f"no retention for {table!r}; tables: {sorted(RETENTION_COLUMN)}",
                    field="retention",
                )
            with self._write() as tx:
                cond = (f"FROM {table} WHERE {column} < ?", (now - age,))
                deleted[table] = int(tx.execute(f"SELECT count(*) {cond[0]}", cond[1])[0][0])
                tx.execute(f"DELETE {cond[0]}", cond[1])
        return deleted


#: The columns of a metric row in row-field order (without the model).
_ROW_COLUMNS = (
    "version, window_start, window_end, column_name, metric, value, lower_bound, "
    "upper_bound, alert, n_ref, n_cur, method, p_value"
)

#: The ``metric_rows`` column of each row field that SQL reserves (``column``, ``lower``,
#: ``upper``); the other fields keep their names.
STORED_AS: Mapping[str, str] = {
    "column": "column_name",
    "lower": "lower_bound",
    "upper": "upper_bound",
}


def _union(spans: Sequence[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """The union of the ``[start, end)`` ``spans`` as disjoint spans, oldest first (the
    empty ones left out).

    >>> t = [datetime(2026, 1, 1, h) for h in range(6)]
    >>> _union([(t[3], t[5]), (t[0], t[1]), (t[1], t[2]), (t[4], t[4])]) == [
    ...     (t[0], t[2]), (t[3], t[5])]
    True
    """
    union: list[tuple[datetime, datetime]] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if union and start <= union[-1][1]:
            union[-1] = (union[-1][0], max(union[-1][1], end))
        else:
            union.append((start, end))
    return union


def _metric_rows(rows: list[tuple[Any, ...]], model: str | None = None) -> list[MetricRow]:
    """The :class:`MetricRow` of each result of the metric-row queries: ``(model, version,
    window_start, ...)`` in row-field order, or without ``model`` when one model was asked
    for. The storage metadata (``project``, ``kind``, ``computed_at``) is never a field."""
    # Imported here: the analysis package pulls in scipy, which the store's other users
    # (``sightline keys``) do not need.
    from sightline.analysis.rows import row_from_values

    if model is not None:
        rows = [(model, *r) for r in rows]
    return [row_from_values(r) for r in rows]


#: The health sums of profiles: predictions, errors, then each latency bucket.
_HEALTH_COLUMNS = ", ".join(
    [
        "min(latency_min)",
        "max(latency_max)",
        "sum(n_predictions)",
        "sum(n_errors)",
        *(f"sum({c})" for c in LATENCY_COLUMNS),
    ]
)
#: Profiles whose window (received time when a profile has none) starts in [?, ?).
_IN_RANGE = (
    "AND coalesce(window_start, received_at) >= ? AND coalesce(window_start, received_at) < ?"
)


def _health_sums(low: Any, high: Any, *sums: Any) -> HealthSums:
    """A :class:`HealthSums` of a row of ``_HEALTH_COLUMNS`` (SQL's NULL sums are 0)."""
    values = [int(v or 0) for v in sums]
    ends = (0.0, math.inf) if low is None else (float(low), float(high))
    return HealthSums(values[0], values[1], values[2:], *ends)


def _json_or_none(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, allow_nan=False)
