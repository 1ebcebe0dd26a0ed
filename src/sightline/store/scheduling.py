"""What the scheduler reads and writes: model settings, window inventories, job records.

A mixin of :class:`~sightline.store.base.Store` (same SQL on DuckDB and PostgreSQL). A
window's *fingerprint* summarizes its inputs (profiles, or predictions and labels); a job
is due when its window has closed and its fingerprint differs from the one recorded when
it last ran. Recording a job replaces its metric rows and its fingerprint in one
transaction, so an interrupted run leaves either the old result or the new one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

import pyarrow as pa

from sightline._time import EPOCH, sql_bucket

if TYPE_CHECKING:
    from sightline.store.base import Transaction


@dataclass(frozen=True)
class ModelSettings:
    """How the scheduler treats a model.

    ``window`` and ``lateness`` in seconds; ``reference_windows`` 0 for the uploaded
    (fixed) reference, else the number of preceding windows that form a rolling one;
    ``label_horizon``: how long after a window closes late labels still recompute it;
    ``reference_exclude_alerted``: a rolling reference is then the ``reference_windows``
    newest earlier windows whose drift did not alert (see
    :func:`sightline.scheduler.plan.reference_starts`).
    """

    window: int = 3600
    lateness: int = 60
    reference_windows: int = 0
    label_horizon: int = 7 * 86400
    reference_exclude_alerted: bool = False


class Labelled(NamedTuple):
    """A prediction of a window with its newest label (None until one came)."""

    prediction: float | None
    prediction_label: str | None
    probability: float | None
    label: float | None
    label_text: str | None
    prediction_id: str
    probabilities: str | None  # JSON: the probability of each class (multiclass)


VersionKey = tuple[str, str, str]
#: (project, model, version, since, until): the profiles of a version in a time range.
ProfileRange = tuple[str, str, str, datetime, datetime]


@dataclass(frozen=True)
class VersionState:
    """What planning reads of one version (:meth:`SchedulingQueries.scheduling_state`):
    its model's settings, its rolling reference's length, whether it has an estimator,
    the fingerprint of each window's profiles and of each window's predictions (``n:k``,
    with unlabelled windows), and its jobs done (fingerprint) and failed (fingerprint,
    retry time) by (window start, kind)."""

    settings: ModelSettings
    rolling: int
    estimated: bool
    profiles: dict[datetime, str]
    labels: dict[datetime, str]
    done: dict[tuple[datetime, str], str]
    failed: dict[tuple[datetime, str], tuple[str, datetime]]


class DoneJob(NamedTuple):
    """A job's result as :meth:`SchedulingQueries.finish_jobs` writes it: its project,
    key (model, version, start, end, kind), the fingerprint of its inputs, its rows."""

    project: str
    key: tuple[str, str, datetime, datetime, str]
    fingerprint: str
    rows: pa.Table


class SchedulingQueries:
    """Queries of the scheduler (mixed into the Store, which supplies ``_read`` and
    ``_write``)."""

    if TYPE_CHECKING:  # the Store's hooks, declared for the type checker only

        def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

        def _write(self) -> AbstractContextManager[Transaction]: ...

    def model_settings(self, project: str, model: str) -> ModelSettings:
        """The model's settings (the defaults until some were set)."""
        rows = self._read(
            "SELECT window_seconds, lateness_seconds, reference_windows, label_horizon_seconds, "
            "reference_exclude_alerted FROM model_settings WHERE project = ? AND model = ?",
            (project, model),
        )
        if not rows:
            return ModelSettings()
        window, lateness, rolling, horizon, guard = rows[0]
        return ModelSettings(int(window), int(lateness), int(rolling), int(horizon), bool(guard))

    def set_model_settings(self, project: str, model: str, settings: ModelSettings) -> None:
        """Store the model's settings (replacing earlier ones)."""
        with self._write() as tx:
            tx.execute(
                "DELETE FROM model_settings WHERE project = ? AND model = ?", (project, model)
            )
            tx.execute(
                "INSERT INTO model_settings VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    project,
                    model,
                    settings.window,
                    settings.lateness,
                    settings.reference_windows,
                    settings.label_horizon,
                    settings.reference_exclude_alerted,
                ),
            )

    def version_reference_windows(self, project: str, model: str, version: str) -> int | None:
        """The version's own ``reference_windows`` (None: its model's applies)."""
        rows = self._read(
            "SELECT reference_windows FROM version_settings "
            "WHERE project = ? AND model = ? AND version = ?",
            (project, model, version),
        )
        return int(rows[0][0]) if rows else None

    def set_version_reference_windows(
        self, project: str, model: str, version: str, windows: int | None
    ) -> None:
        """Give a version its own reference: 0 the uploaded one, N the N windows before
        each one; None takes the model's setting again."""
        with self._write() as tx:
            tx.execute(
                "DELETE FROM version_settings WHERE project = ? AND model = ? AND version = ?",
                (project, model, version),
            )
            if windows is not None:
                tx.execute(
                    "INSERT INTO version_settings VALUES (?, ?, ?, ?)",
                    (project, model, version, windows),
                )

    def reference_windows(self, project: str, model: str, version: str) -> int:
        """The rolling reference's length for ``version`` (0: its uploaded reference)."""
        return self.references_windows([(project, model, version)])[(project, model, version)]

    def references_windows(self, keys: Collection[VersionKey]) -> dict[VersionKey, int]:
        """:meth:`reference_windows` of each version of ``keys``, in one query."""
        if not keys:
            return {}
        values = ", ".join(["(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT))"] * len(keys))
        rows = self._read(
            "SELECT k.project, k.model, k.version, coalesce(v.reference_windows, "
            f"s.reference_windows, CAST(? AS INTEGER)) FROM (VALUES {values}) "
            "AS k(project, model, version) "
            "LEFT JOIN version_settings v ON v.project = k.project AND v.model = k.model "
            "AND v.version = k.version "
            "LEFT JOIN model_settings s ON s.project = k.project AND s.model = k.model",
            [ModelSettings().reference_windows, *(x for key in keys for x in key)],
        )
        return {(p, m, v): int(n) for p, m, v, n in rows}

    def all_versions(self) -> list[tuple[str, str, str]]:
        """(project, model, version) of every registered version, sorted."""
        rows = self._read(
            "SELECT project, model, version FROM model_versions ORDER BY project, model, version"
        )
        return [(p, m, v) for p, m, v in rows]

    def scheduling_state(self) -> dict[VersionKey, VersionState]:
        """The :class:`VersionState` of every registered version, sorted, in a few
        queries whatever the number of versions (a pass plans from it).

        >>> from sightline.store import open_store
        >>> store = open_store(":memory:")
        >>> store.register_version("p", "m", "1", {"columns": []})
        True
        >>> state = store.scheduling_state()[("p", "m", "1")]
        >>> state.settings.window, state.rolling, state.profiles, state.done
        (3600, 0, {}, {})
        >>> store.close()
        """
        default = ModelSettings()
        settings = {
            (p, m): ModelSettings(int(w), int(late), int(r), int(h), bool(g))
            for p, m, w, late, r, h, g in self._read(
                "SELECT project, model, window_seconds, lateness_seconds, reference_windows, "
                "label_horizon_seconds, reference_exclude_alerted FROM model_settings"
            )
        }
        own = {
            (p, m, v): int(r)
            for p, m, v, r in self._read(
                "SELECT project, model, version, reference_windows FROM version_settings"
            )
        }
        # Each model's windows: its own size, the default where it set none.
        size = f"coalesce(s.window_seconds, {default.window})"
        settings_join = "LEFT JOIN model_settings s ON s.project = x.project AND s.model = x.model"
        profiles: dict[VersionKey, dict[datetime, str]] = {}
        for p, m, v, w, width, n, r, k in self._read(
            f"SELECT x.project, x.model, x.version, floor(extract(epoch FROM x.window_start) "
            f"/ {size}) AS w, {size}, count(*), sum(x.n_rows), sum(x.n_predictions) "
            f"FROM profiles x {settings_join} WHERE x.window_start IS NOT NULL "
            "GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4"
        ):
            profiles.setdefault((p, m, v), {})[_start(w, int(width))] = (
                f"{int(n)}:{int(r)}:{int(k)}"
            )
        labels: dict[VersionKey, dict[datetime, tuple[str, bool]]] = {}
        for p, m, v, w, width, n, k in self._read(
            f"SELECT x.project, x.model, x.version, floor(extract(epoch FROM x.ts) / {size}) "
            f"AS w, {size}, count(*), count(l.prediction_id) FROM predictions x {settings_join} "
            "LEFT JOIN (SELECT DISTINCT project, model, prediction_id FROM labels) l "
            "ON l.project = x.project AND l.model = x.model AND l.prediction_id = x.prediction_id "
            "GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4"
        ):
            labels.setdefault((p, m, v), {})[_start(w, int(width))] = (
                f"{int(n)}:{int(k)}",
                bool(k),
            )
        done: dict[VersionKey, dict[tuple[datetime, str], str]] = {}
        for p, m, v, w, kind, f in self._read(
            "SELECT project, model, version, window_start, kind, fingerprint FROM jobs_done"
        ):
            done.setdefault((p, m, v), {})[(w, kind)] = f
        failed: dict[VersionKey, dict[tuple[datetime, str], tuple[str, datetime]]] = {}
        for p, m, v, w, kind, f, retry_at in self._read(
            "SELECT project, model, version, window_start, kind, fingerprint, retry_at "
            "FROM jobs_failed"
        ):
            failed.setdefault((p, m, v), {})[(w, kind)] = (f, retry_at)
        out: dict[VersionKey, VersionState] = {}
        for p, m, v, estimated in self._read(
            "SELECT project, model, version, estimator IS NOT NULL FROM model_versions "
            "ORDER BY project, model, version"
        ):
            key = (p, m, v)
            model = settings.get((p, m), default)
            estimated = bool(estimated)
            out[key] = VersionState(
                model,
                own.get(key, model.reference_windows),
                estimated,
                profiles.get(key, {}),
                {w: f for w, (f, k) in labels.get(key, {}).items() if k or estimated},
                done.get(key, {}),
                failed.get(key, {}),
            )
        return out

    def profile_windows(
        self, project: str, model: str, version: str, size: int
    ) -> dict[datetime, str]:
        """Fingerprint of the profiles of each window of ``size`` seconds (by window start):
        how many profiles and rows it holds."""
        bucket = sql_bucket("extract(epoch FROM window_start)", size)
        rows = self._read(
            f"SELECT {bucket} AS w, count(*), sum(n_rows), sum(n_predictions) FROM profiles "
            "WHERE project = ? AND model = ? AND version = ? AND window_start IS NOT NULL "
            "GROUP BY w ORDER BY w",
            (project, model, version),
        )
        return {_start(w, size): f"{int(n)}:{int(r)}:{int(p)}" for w, n, r, p in rows}

    def alerted_windows(self, project: str, model: str, version: str) -> set[datetime]:
        """The starts of the windows whose drift rows alerted."""
        rows = self._read(
            "SELECT DISTINCT window_start FROM metric_rows WHERE project = ? AND model = ? "
            "AND version = ? AND kind = 'drift' AND alert",
            (project, model, version),
        )
        return {w for (w,) in rows}

    def jobs_done(self, project: str, model: str, version: str) -> dict[tuple[datetime, str], str]:
        """The fingerprint each job (window start, kind) had when it last ran."""
        rows = self._read(
            "SELECT window_start, kind, fingerprint FROM jobs_done "
            "WHERE project = ? AND model = ? AND version = ?",
            (project, model, version),
        )
        return {(w, k): f for w, k, f in rows}

    def window_profiles(
        self, project: str, model: str, version: str, since: datetime, until: datetime
    ) -> list[bytes]:
        """Payloads of the profiles with ``since <= window_start < until``, in a canonical
        order (window, instance, idempotency key) whatever the order they arrived in."""
        key = (project, model, version, since, until)
        return self.profiles_of_ranges([key])[key]

    def profiles_of_ranges(
        self, ranges: Collection[ProfileRange]
    ) -> dict[ProfileRange, list[bytes]]:
        """:meth:`window_profiles` of each of ``ranges`` (project, model, version, since,
        until), in one query."""
        keys = list(dict.fromkeys(ranges))
        found: list[list[bytes]] = [[] for _ in keys]
        if keys:
            values = ", ".join(
                ["(CAST(? AS INTEGER), ?, ?, ?, CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP))"]
                * len(keys)
            )
            rows = self._read(
                f"SELECT c.i, x.payload FROM (VALUES {values}) "
                "AS c(i, project, model, version, since, until) JOIN profiles x "
                "ON x.project = c.project AND x.model = c.model AND x.version = c.version "
                "AND x.window_start >= c.since AND x.window_start < c.until "
                "ORDER BY c.i, x.window_start, x.instance, x.idempotency_key",
                [v for i, key in enumerate(keys) for v in (i, *key)],
            )
            for i, payload in rows:
                found[int(i)].append(bytes(payload))
        return dict(zip(keys, found, strict=True))

    def base_kpis(
        self, ranges: Collection[ProfileRange], metrics: Collection[str]
    ) -> dict[ProfileRange, list[tuple[datetime, str, float]]]:
        """(window start, metric, value) of the model-level base rows (column ``''``) of
        ``metrics`` in each of ``ranges``, oldest first, in one query. Base rows only:
        for a model whose rows are rolled up (:meth:`rolled_models`), read
        :meth:`~sightline.store.base.Store.metric_rows`, which takes the tier that holds
        a range."""
        keys = list(dict.fromkeys(ranges))
        found: list[list[tuple[datetime, str, float]]] = [[] for _ in keys]
        if keys and metrics:
            values = ", ".join(
                ["(CAST(? AS INTEGER), ?, ?, ?, CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP))"]
                * len(keys)
            )
            names = sorted(metrics)
            rows = self._read(
                f"SELECT c.i, x.window_start, x.metric, x.value FROM (VALUES {values}) "
                "AS c(i, project, model, version, since, until) JOIN metric_rows x "
                "ON x.project = c.project AND x.model = c.model AND x.version = c.version "
                "AND x.window_start >= c.since AND x.window_start < c.until "
                f"WHERE x.column_name = '' AND x.metric IN ({', '.join(['?'] * len(names))}) "
                "ORDER BY c.i, x.window_start, x.metric",
                [*(v for i, key in enumerate(keys) for v in (i, *key)), *names],
            )
            for i, start, metric, value in rows:
                found[int(i)].append((start, metric, math.nan if value is None else value))
        return dict(zip(keys, found, strict=True))

    def rolled_models(self) -> set[tuple[str, str]]:
        """(project, model) of the models with rows rolled up into a tier."""
        return {
            (p, m) for p, m in self._read("SELECT DISTINCT project, model FROM rollup_frontiers")
        }

    def labelled(
        self, project: str, model: str, version: str, since: datetime, until: datetime
    ) -> list[Labelled]:
        """The predictions made in ``[since, until)``, left-joined with their newest label
        (by the label's own timestamp, then by arrival), sorted by id."""
        rows = self._read(
            "SELECT p.prediction, p.prediction_label, p.probability, l.label, l.label_text, "
            "p.prediction_id, p.probabilities "
            "FROM (SELECT DISTINCT ON (prediction_id) * FROM predictions "
            "WHERE project = ? AND model = ? AND version = ? AND ts >= ? AND ts < ? "
            "ORDER BY prediction_id, received_at) p "
            "LEFT JOIN (SELECT DISTINCT ON (prediction_id) prediction_id, label, label_text "
            "FROM labels WHERE project = ? AND model = ? "
            "ORDER BY prediction_id, ts DESC, received_at DESC, label, label_text) l "
            "ON p.prediction_id = l.prediction_id ORDER BY p.prediction_id",
            (project, model, version, since, until, project, model),
        )
        return [Labelled(*r) for r in rows]

    def finish_job(
        self,
        project: str,
        key: tuple[str, str, datetime, datetime, str],
        fingerprint: str,
        rows: pa.Table,
        then: Callable[[Transaction], None] | None = None,
    ) -> None:
        """Replace the rows of job ``key`` (model, version, start, end, kind) and record its
        fingerprint, in one transaction; ``then`` runs in it (the lease's release)."""

        def settle(tx: Transaction) -> tuple[int, ...]:
            if then is not None:
                then(tx)
            return ()

        self.finish_jobs([DoneJob(project, key, fingerprint, rows)], settle)

    def finish_jobs(
        self,
        done: Sequence[DoneJob],
        settle: Callable[[Transaction], Collection[int]] | None = None,
    ) -> set[int]:
        """Replace the rows of every job of ``done`` and record its fingerprint, in one
        transaction of a few statements whatever the number of jobs. ``settle`` runs
        first in it (the leases' release) and names the jobs (their indexes in ``done``)
        to leave out; they are returned.

        >>> from sightline.store import open_store
        >>> from sightline.store.records import metric_record
        >>> store = open_store(":memory:")
        >>> t = datetime(2026, 1, 1)
        >>> rows = metric_record("p", "drift", [], t)
        >>> done = [DoneJob("p", ("m", "1", t, t, k), "f", rows) for k in ("drift", "health")]
        >>> store.finish_jobs(done, lambda tx: {1})
        {1}
        >>> sorted(store.jobs_done("p", "m", "1").values()), len(store.jobs_done("p", "m", "1"))
        (['f'], 1)
        >>> store.close()
        """
        with self._write() as tx:
            skipped = set(settle(tx)) if settle is not None else set()
            kept = [d for i, d in enumerate(done) if i not in skipped]
            if kept:
                cols = "project, model, version, window_start, window_end, kind"
                values = ", ".join(
                    ["(?, ?, ?, CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP), ?)"] * len(kept)
                )
                cond = " AND ".join(f"metric_rows.{c} = c.{c}" for c in cols.split(", "))
                tx.execute(
                    f"DELETE FROM metric_rows USING (VALUES {values}) AS c({cols}) WHERE {cond}",
                    [v for d in kept for v in (d.project, *d.key)],
                )
                tables = [d.rows for d in kept if d.rows.num_rows]
                if tables:
                    tx.insert("metric_rows", pa.concat_tables(tables))
                records_done(tx, [(d.project, *d.key[:3], d.key[4], d.fingerprint) for d in kept])
        return skipped

    def failing_jobs(self, project: str) -> dict[str, int]:
        """Per model of ``project``, the jobs whose last run failed."""
        rows = self._read(
            "SELECT model, count(*) FROM jobs_failed WHERE project = ? GROUP BY model",
            (project,),
        )
        return {model: int(n) for model, n in rows}

    def fail_job(
        self,
        project: str,
        key: tuple[str, str, datetime, str],
        fingerprint: str,
        error: str,
        now: datetime,
    ) -> int:
        """Record that job ``key`` (model, version, start, kind) failed on ``fingerprint``;
        it waits 1 minute before its next try, doubling with every failure on the same
        inputs up to a day. Returns the number of failures on these inputs."""
        model, version, start, kind = key
        where = "project = ? AND model = ? AND version = ? AND window_start = ? AND kind = ?"
        params = (project, model, version, start, kind)
        with self._write() as tx:
            old = tx.execute(f"SELECT fingerprint, attempts FROM jobs_failed WHERE {where}", params)
            attempts = int(old[0][1]) + 1 if old and old[0][0] == fingerprint else 1
            delay = timedelta(seconds=min(60 * 2 ** (attempts - 1), 86_400))
            tx.execute(f"DELETE FROM jobs_failed WHERE {where}", params)
            tx.execute(
                "INSERT INTO jobs_failed VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*params, fingerprint, attempts, now + delay, error[:2000]),
            )
        return attempts


def record_done(
    tx: Transaction, project: str, key: tuple[str, str, datetime, str], fingerprint: str
) -> None:
    """In ``tx``, record job ``key`` (model, version, start, kind) done on ``fingerprint``
    (replacing its earlier record and any failure)."""
    records_done(tx, [(project, *key, fingerprint)])


def records_done(tx: Transaction, done: Sequence[tuple[str, str, str, datetime, str, str]]) -> None:
    """In ``tx``, record each job (project, model, version, start, kind, fingerprint) of
    ``done`` as :func:`record_done` does, in three statements."""
    if not done:
        return
    cols = "project, model, version, window_start, kind"
    values = ", ".join(["(?, ?, ?, CAST(? AS TIMESTAMP), ?)"] * len(done))
    keys = [v for d in done for v in d[:5]]
    for table in ("jobs_done", "jobs_failed"):
        cond = " AND ".join(f"{table}.{c} = c.{c}" for c in cols.split(", "))
        tx.execute(f"DELETE FROM {table} USING (VALUES {values}) AS c({cols}) WHERE {cond}", keys)
    tx.execute(
        f"INSERT INTO jobs_done VALUES {', '.join(['(?, ?, ?, ?, ?, ?)'] * len(done))}",
        [v for d in done for v in d],
    )


def _start(bucket: float, size: int) -> datetime:
    """The start of the window of index ``bucket`` (as :func:`sql_bucket` numbers them)."""
    return EPOCH + timedelta(seconds=int(bucket) * size)
