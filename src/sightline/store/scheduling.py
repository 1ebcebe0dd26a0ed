"""What the scheduler reads and writes: model settings, window inventories, job records.

A mixin of :class:`~sightline.store.base.Store` (same SQL on DuckDB and PostgreSQL). A
window's *fingerprint* summarizes its inputs (profiles, or predictions and labels); a job
is due when its window has closed and its fingerprint differs from the one recorded when
it last ran. Recording a job replaces its metric rows and its fingerprint in one
transaction, so an interrupted run leaves either the old result or the new one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
        own = self.version_reference_windows(project, model, version)
        return own if own is not None else self.model_settings(project, model).reference_windows

    def all_versions(self) -> list[tuple[str, str, str]]:
        """(project, model, version) of every registered version, sorted."""
        rows = self._read(
            "SELECT project, model, version FROM model_versions ORDER BY project, model, version"
        )
        return [(p, m, v) for p, m, v in rows]

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

    def label_windows(
        self, project: str, model: str, version: str, size: int, *, unlabelled: bool = False
    ) -> dict[datetime, str]:
        """Fingerprint of the labelled predictions of each window: predictions, labels.
        Windows without labels only when ``unlabelled`` (their performance is estimated)."""
        bucket = sql_bucket("extract(epoch FROM p.ts)", size)
        rows = self._read(
            f"SELECT {bucket} AS w, count(*), count(l.prediction_id) FROM predictions p "
            "LEFT JOIN (SELECT DISTINCT prediction_id FROM labels "
            "WHERE project = ? AND model = ?) l "
            "ON p.prediction_id = l.prediction_id "
            "WHERE p.project = ? AND p.model = ? AND p.version = ? GROUP BY w ORDER BY w",
            (project, model, project, model, version),
        )
        return {_start(w, size): f"{int(n)}:{int(k)}" for w, n, k in rows if k or unlabelled}

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
        rows = self._read(
            "SELECT payload FROM profiles WHERE project = ? AND model = ? AND version = ? "
            "AND window_start >= ? AND window_start < ? "
            "ORDER BY window_start, instance, idempotency_key",
            (project, model, version, since, until),
        )
        return [bytes(r[0]) for r in rows]

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
        fingerprint, in one transaction; ``then`` runs last in it (the lease's release)."""
        model, version, start, end, kind = key
        with self._write() as tx:
            tx.execute(
                "DELETE FROM metric_rows WHERE project = ? AND model = ? AND version = ? "
                "AND window_start = ? AND window_end = ? AND kind = ?",
                (project, model, version, start, end, kind),
            )
            if rows.num_rows:
                tx.insert("metric_rows", rows)
            record_done(tx, project, (model, version, start, kind), fingerprint)
            if then is not None:
                then(tx)

    def jobs_failed(
        self, project: str, model: str, version: str
    ) -> dict[tuple[datetime, str], tuple[str, datetime]]:
        """Per (window start, kind) of a failed job: the fingerprint it failed on and when
        it may be tried again."""
        rows = self._read(
            "SELECT window_start, kind, fingerprint, retry_at FROM jobs_failed "
            "WHERE project = ? AND model = ? AND version = ?",
            (project, model, version),
        )
        return {(start, kind): (fp, retry_at) for start, kind, fp, retry_at in rows}

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
    params = (project, *key)
    where = "project = ? AND model = ? AND version = ? AND window_start = ? AND kind = ?"
    tx.execute(f"DELETE FROM jobs_done WHERE {where}", params)
    tx.execute("INSERT INTO jobs_done VALUES (?, ?, ?, ?, ?, ?)", (*params, fingerprint))
    tx.execute(f"DELETE FROM jobs_failed WHERE {where}", params)


def _start(bucket: float, size: int) -> datetime:
    """The start of the window of index ``bucket`` (as :func:`sql_bucket` numbers them)."""
    return EPOCH + timedelta(seconds=int(bucket) * size)
