"""Rollups of metric rows into coarser tiers: writing them, reading them with their
minimum and maximum, and deleting each tier at its own age.

A mixin of :class:`~sightline.store.base.Store` (same SQL on DuckDB and PostgreSQL). A
rollup row is a metric row of a tier window (``tier_seconds`` long, aligned to the epoch)
in ``metric_rollups``, plus ``value_min`` and ``value_max`` (of the base rows' values)
and ``n_windows`` (the base rows it rolled). Rolling up one (version, tier window, job
kind) is one statement over the base rows: ``value`` and bounds averaged, ``alert`` when
any row alerted, ``n_cur`` summed, ``n_ref`` the largest, ``p_value`` the smallest;
exact rows computed by the scheduler from the window's merged profiles (drift, quality,
health) replace the averaged ones of the same (column, metric) and keep their min, max
and alert. The job's record (``jobs_done``) and the frontier of its (version, tier, kind)
are written in the same transaction.

>>> from datetime import datetime
>>> from sightline.store import open_store
>>> store = open_store(":memory:")
>>> key = RollupKey("churn", "1", 3600, datetime(2026, 1, 1), "drift")
>>> store.write_rollup("p", key, "rollup:3600:drift", "fp", exact=None, computed_at=key.start)
0
>>> store.rollup_rows("p", "churn", tier=3600, since=key.start, until=key.end)
[]
>>> store.close()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

import pyarrow as pa

if TYPE_CHECKING:
    from sightline.analysis.rows import MetricRow
    from sightline.store.base import Transaction

#: The aggregate of one (column, metric) of a tier window's base rows, in the order of
#: ``metric_rollups``' columns from ``column_name`` to ``n_windows``.
_AGGREGATE = (
    "column_name, metric, avg(value), avg(lower_bound), avg(upper_bound), bool_or(alert), "
    "max(n_ref), CAST(sum(n_cur) AS BIGINT), min(method), min(p_value), kind, ?, "
    "min(value), max(value), count(*)"
)
_WINDOW = (
    "project = ? AND model = ? AND version = ? AND kind = ? AND window_start >= ? "
    "AND window_start < ?"
)


class RollupKey(NamedTuple):
    """One rollup: a (model, version)'s tier window of ``tier`` seconds from ``start``,
    of the base job kind ``kind``."""

    model: str
    version: str
    tier: int
    start: datetime
    kind: str

    @property
    def end(self) -> datetime:
        """The end of the tier window."""
        return self.start + timedelta(seconds=self.tier)


class RolledRow(NamedTuple):
    """A rollup row: the metric row, and the smallest and largest value of the base rows
    it rolled (NaN when none had one) and how many it rolled."""

    row: MetricRow
    value_min: float
    value_max: float
    n_windows: int


class RollupQueries:
    """Rollup tiers of metric rows (mixed into the Store)."""

    if TYPE_CHECKING:  # the Store's hooks, declared for the type checker only

        def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

        def _write(self) -> AbstractContextManager[Transaction]: ...

    def write_rollup(
        self,
        project: str,
        key: RollupKey,
        job_kind: str,
        fingerprint: str,
        *,
        exact: Sequence[MetricRow] | None,
        computed_at: datetime,
        then: Callable[[Transaction], None] | None = None,
    ) -> int:
        """Replace the rollup ``key`` with the aggregate of its base rows (``exact`` rows
        replacing those of their (column, metric)), record the job ``job_kind`` done with
        ``fingerprint`` and move the frontier, in one transaction that ``then`` ends.
        Returns the rollup rows written."""
        from sightline.store.scheduling import record_done

        window = (project, key.model, key.version, key.kind, key.start, key.end)
        with self._write() as tx:
            tx.execute(
                "DELETE FROM metric_rollups WHERE project = ? AND model = ? AND version = ? "
                "AND kind = ? AND window_start = ? AND tier_seconds = ?",
                (project, key.model, key.version, key.kind, key.start, key.tier),
            )
            head = "?, ?, ?, ?, ?, ?, "
            select = (
                f"SELECT {head}{_AGGREGATE} FROM metric_rows WHERE {_WINDOW} "
                "GROUP BY column_name, metric, kind"
            )
            fixed = (project, key.model, key.version, key.tier, key.start, key.end, computed_at)
            if not exact:
                tx.execute(f"INSERT INTO metric_rollups {select}", (*fixed, *window))
            else:
                found = tx.execute(select, (*fixed, *window))
                table = _merged(found, exact, fixed, key.kind)
                if table.num_rows:
                    tx.insert("metric_rollups", table)
            (n,) = tx.execute(
                "SELECT count(*) FROM metric_rollups WHERE project = ? AND model = ? "
                "AND version = ? AND kind = ? AND window_start = ? AND tier_seconds = ?",
                (project, key.model, key.version, key.kind, key.start, key.tier),
            )[0]
            tx.execute(
                "INSERT INTO rollup_frontiers VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (project, model, version, tier_seconds, kind) DO UPDATE "
                "SET rolled_until = greatest(rollup_frontiers.rolled_until, excluded.rolled_until)",
                (project, key.model, key.version, key.tier, key.kind, key.end),
            )
            record_done(tx, project, (key.model, key.version, key.start, job_kind), fingerprint)
            if then is not None:
                then(tx)
        return int(n)

    def rollup_rows(
        self,
        project: str,
        model: str,
        *,
        tier: int,
        since: datetime,
        until: datetime,
        version: str | None = None,
        column: str | None = None,
        metric: str | None = None,
    ) -> list[RolledRow]:
        """The rollups of ``tier`` seconds with ``since <= window_start < until``, oldest
        first, each with the min and max of its base rows' values."""
        from sightline.store.base import _metric_rows, as_utc

        where = ["project = ?", "model = ?", "tier_seconds = ?"]
        where += ["window_start >= ?", "window_start < ?"]
        params: list[Any] = [project, model, tier, as_utc(since), as_utc(until)]
        for name, value in (("version", version), ("column_name", column), ("metric", metric)):
            if value is not None:
                where.append(f"{name} = ?")
                params.append(value)
        rows = self._read(
            "SELECT version, window_start, window_end, column_name, metric, value, lower_bound, "
            "upper_bound, alert, n_ref, n_cur, method, p_value, value_min, value_max, n_windows "
            f"FROM metric_rollups WHERE {' AND '.join(where)} "
            "ORDER BY window_start, column_name, metric",
            params,
        )
        found = _metric_rows([r[:13] for r in rows], model)
        return [
            RolledRow(row, _float(r[13]), _float(r[14]), int(r[15]))
            for row, r in zip(found, rows, strict=True)
        ]

    def enforce_tier_retention(
        self, keep_base: timedelta, tiers: Mapping[int, timedelta], now: datetime
    ) -> dict[str, int]:
        """Delete the base metric rows older than ``keep_base`` that a rollup holds (rows
        of a (version, kind) never rolled stay until ``metric_rows``' own retention), and
        the rollups of each tier (seconds) older than its age. Returns the rows deleted,
        by ``metric_rows`` and ``metric_rollups:<seconds>``."""
        deleted: dict[str, int] = {}
        rolled = (
            "FROM metric_rows m WHERE m.window_end < ? AND EXISTS (SELECT 1 FROM "
            "rollup_frontiers f WHERE f.project = m.project AND f.model = m.model "
            "AND f.version = m.version AND f.kind = m.kind AND m.window_end <= f.rolled_until)"
        )
        with self._write() as tx:
            cutoff = (now - keep_base,)
            deleted["metric_rows"] = int(tx.execute(f"SELECT count(*) {rolled}", cutoff)[0][0])
            tx.execute(
                "DELETE FROM metric_rows WHERE window_end < ? AND EXISTS (SELECT 1 FROM "
                "rollup_frontiers f WHERE f.project = metric_rows.project AND "
                "f.model = metric_rows.model AND f.version = metric_rows.version AND "
                "f.kind = metric_rows.kind AND metric_rows.window_end <= f.rolled_until)",
                cutoff,
            )
            for tier, age in sorted(tiers.items()):
                cond = (
                    "FROM metric_rollups WHERE tier_seconds = ? AND window_end < ?",
                    (tier, now - age),
                )
                name = f"metric_rollups:{tier}"
                deleted[name] = int(tx.execute(f"SELECT count(*) {cond[0]}", cond[1])[0][0])
                tx.execute(f"DELETE {cond[0]}", cond[1])
        return deleted


def _merged(
    found: list[tuple[Any, ...]], exact: Sequence[MetricRow], fixed: tuple[Any, ...], kind: str
) -> pa.Table:
    """The rollup rows of a window: the aggregates ``found`` (``fixed`` columns first),
    with each ``exact`` row in place of the aggregate of its (column, metric) (its min and
    max kept, and alert when either alerted)."""
    from sightline.analysis.rows import rows_to_arrow

    names = tuple(ROLLUP_SCHEMA.names)
    records = {(r[6], r[7]): dict(zip(names, r, strict=True)) for r in found}
    arrow = rows_to_arrow(exact).to_pylist()
    for row, values in zip(exact, arrow, strict=True):
        old = records.get((row.column, row.metric))
        record = dict(zip(names[:6], fixed[:6], strict=True))
        record.update(
            column_name=row.column,
            metric=row.metric,
            value=values["value"],
            lower_bound=values["lower"],
            upper_bound=values["upper"],
            alert=bool(row.alert or (old is not None and old["alert"])),
            n_ref=row.n_ref,
            n_cur=row.n_cur,
            method=row.method,
            p_value=values["p_value"],
            kind=kind,
            computed_at=fixed[6],
            value_min=None if old is None else old["value_min"],
            value_max=None if old is None else old["value_max"],
            n_windows=0 if old is None else old["n_windows"],
        )
        records[(row.column, row.metric)] = record
    return pa.Table.from_pylist(list(records.values()), schema=ROLLUP_SCHEMA)


_TS = pa.timestamp("us")
#: The Arrow schema of ``metric_rollups`` rows.
ROLLUP_SCHEMA = pa.schema(
    [
        ("project", pa.string()),
        ("model", pa.string()),
        ("version", pa.string()),
        ("tier_seconds", pa.int64()),
        ("window_start", _TS),
        ("window_end", _TS),
        ("column_name", pa.string()),
        ("metric", pa.string()),
        ("value", pa.float64()),
        ("lower_bound", pa.float64()),
        ("upper_bound", pa.float64()),
        ("alert", pa.bool_()),
        ("n_ref", pa.int64()),
        ("n_cur", pa.int64()),
        ("method", pa.string()),
        ("p_value", pa.float64()),
        ("kind", pa.string()),
        ("computed_at", _TS),
        ("value_min", pa.float64()),
        ("value_max", pa.float64()),
        ("n_windows", pa.int64()),
    ]
)


def _float(value: object) -> float:
    return float("nan") if value is None else float(value)  # type: ignore[arg-type]
