"""Which tier a read takes its rows from: base metric rows, or the rollups of a tier.

Rollups (``metric_rollups``) hold the rows of each closed tier window (1 h, 1 d, ...)
rolled up from the base rows of the model's own window; ``rollup_frontiers`` records, per
(version, tier, job kind), the end of the newest rolled tier window. A bucketed read of
step ``s`` takes the coarsest tier whose size divides ``s``: its rollups before the
frontier of each version (the oldest of its kinds'), and the base rows from there on (the
current hour, a kind whose rollup is late), so a read never loses rows of a rolled kind to
a rollup that does not exist yet; base rows of kinds that were never rolled (``slo``) are
read at every time. A read of one version that names its job kinds (all rolled) reads the
finer tiers that divide ``s`` between the coarse frontier and the base rows (30 days by
the day: daily rollups, today's hourly ones, then the current hour's base rows).
Every source offers the same columns (:data:`SOURCE_COLUMNS`): a base row is a rollup of
one window (``value_min = value_max = value``, ``n_windows = 1``).

>>> split = TierSplit(0, "", ())
>>> sql, params = tiered_source(split, "model = ?", ["m"])
>>> sql.startswith("(SELECT version, window_start"), params
(True, ['m'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sightline.store.base import Store

#: The columns of every tiered source, in row-field order then the rollup's own.
SOURCE_COLUMNS = (
    "version, window_start, window_end, column_name, metric, value, lower_bound, "
    "upper_bound, alert, n_ref, n_cur, method, p_value, kind, value_min, value_max, n_windows"
)
_BASE_COLUMNS = SOURCE_COLUMNS.replace(
    "value_min, value_max, n_windows", "value AS value_min, value AS value_max, 1 AS n_windows"
)


@dataclass(frozen=True)
class TierSplit:
    """The tier a read takes (``tier`` seconds, 0: base rows only), the SQL condition
    ``rolled`` (with its ``params``) true of the rows its rollups stand for, ``fresh``
    (with ``fresh_params``) true of the base rows read beside them, and the ``finer``
    tiers read between the two (seconds, condition, params; coarsest first)."""

    tier: int
    rolled: str
    params: tuple[Any, ...]
    fresh: str = ""
    fresh_params: tuple[Any, ...] = ()
    finer: tuple[tuple[int, str, tuple[Any, ...]], ...] = ()


#: (tier seconds, version, kind, rolled until) of one rolled (version, tier, kind).
Frontier = tuple[int, str, str, datetime]


def frontiers(store: Store, project: str, model: str, version: str | None = None) -> list[Frontier]:
    """(tier seconds, version, kind, rolled until) of every rolled (version, tier, kind)."""
    extra, params = "", [project, model]
    if version is not None:
        extra, params = " AND version = ?", [project, model, version]
    rows = store._read(
        "SELECT tier_seconds, version, kind, rolled_until FROM rollup_frontiers "
        f"WHERE project = ? AND model = ?{extra} ORDER BY tier_seconds, version, kind",
        params,
    )
    return [(int(t), str(v), str(k), u) for t, v, k, u in rows]


def tier_for_step(
    store: Store,
    project: str,
    model: str,
    version: str | None,
    step: float,
    kinds: Sequence[str] | None = None,
    known: Sequence[Frontier] | None = None,
) -> TierSplit:
    """The coarsest tier whose size divides ``step`` seconds (buckets hold whole tier
    windows), with the condition of its rolled rows; tier 0 when none fits. ``kinds``:
    the job kinds of the rows the read asks for (None: any); ``known``: the
    :func:`frontiers` of ``version`` when the caller has just read them (None: read here).

    A version is rolled up to the oldest frontier of its kinds (of ``kinds``), so that no
    rolled kind loses rows; base rows of a kind without a frontier (never rolled, such as
    ``slo``) are read at every time. The condition of one version names a kind only then,
    so that PostgreSQL reads base rows from its series index alone, and both stores prune
    the base rows before the frontier by their window."""
    if known is None:
        known = frontiers(store, project, model, version)
    found = [f for f in known if kinds is None or f[2] in kinds]
    fits = [t for t, _, _, _ in found if t <= step and int(step) % t == 0 and step == int(step)]
    if not fits:
        return TierSplit(0, "", ())
    tier = max(fits)
    until: dict[str, datetime] = {}
    rolled_kinds: dict[str, list[str]] = {}
    for t, v, k, end in found:
        if t == tier:
            until[v] = min(end, until.get(v, end))
            rolled_kinds.setdefault(v, []).append(k)
    if version is not None:
        mark, rolled_here = until[version], rolled_kinds[version]
        if kinds is not None and set(kinds) <= set(rolled_here):
            finer, last = _finer(found, sorted(set(fits), reverse=True)[1:], kinds, mark)
            return TierSplit(tier, "window_start < ?", (mark,), "window_start >= ?", (last,), finer)
        fresh = f"(window_start >= ? OR kind NOT IN ({_marks(rolled_here)}))"
        return TierSplit(tier, "window_start < ?", (mark,), fresh, (mark, *rolled_here))
    rolled = " OR ".join("(version = ? AND window_start < ?)" for _ in until)
    params = tuple(p for item in sorted(until.items()) for p in item)
    covered = " OR ".join(
        f"(version = ? AND window_start < ? AND kind IN ({_marks(rolled_kinds[v])}))"
        for v in sorted(until)
    )
    held = tuple(p for v in sorted(until) for p in (v, until[v], *rolled_kinds[v]))
    return TierSplit(tier, f"({rolled})", params, f"NOT ({covered})", held)


def _finer(
    found: Sequence[tuple[int, str, str, datetime]],
    finer: Sequence[int],
    kinds: Sequence[str],
    mark: datetime,
) -> tuple[tuple[tuple[int, str, tuple[Any, ...]], ...], datetime]:
    """The ``finer`` tiers (coarsest first) that roll every one of ``kinds`` past ``mark``,
    each read from the previous one's frontier to its own, and the last frontier."""
    chain = []
    for tier in finer:
        ends = [end for t, _, k, end in found if t == tier and k in kinds]
        if len(ends) == len(set(kinds)) and min(ends) > mark:
            chain.append((tier, "window_start >= ? AND window_start < ?", (mark, min(ends))))
            mark = min(ends)
    return tuple(chain), mark


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def tiered_source(split: TierSplit, where: str, params: Sequence[Any]) -> tuple[str, list[Any]]:
    """A FROM item (``... AS src``) with :data:`SOURCE_COLUMNS` of the rows matching
    ``where``: the tier's rollups where rolled, base rows elsewhere."""
    base = f"SELECT {_BASE_COLUMNS} FROM metric_rows WHERE {where}"
    if not split.tier:
        return f"({base}) AS src", list(params)
    parts, args = [f"{base} AND {split.fresh}"], [*params, *split.fresh_params]
    for tier, cond, cond_params in ((split.tier, split.rolled, split.params), *split.finer):
        parts.append(
            f"SELECT {SOURCE_COLUMNS} FROM metric_rollups WHERE {where} "
            f"AND tier_seconds = {int(tier)} AND {cond}"
        )
        args += [*params, *cond_params]
    return f"({' UNION ALL '.join(parts)}) AS src", args


def weighted_mean(column: str) -> str:
    """SQL for the mean of ``column`` over the base windows its rows stand for (a rollup
    weighs as many windows as it rolled), so that a bucket of rollups has the mean of its
    base rows."""
    return (
        f"CAST(sum({column} * n_windows) AS DOUBLE PRECISION) / "
        f"CAST(sum(CASE WHEN {column} IS NOT NULL THEN n_windows END) AS DOUBLE PRECISION)"
    )


def finest_sources(
    store: Store, project: str, model: str, where: str, params: Sequence[Any], since: datetime
) -> tuple[str, list[Any]]:
    """A FROM item of the rows matching ``where`` at the finest tier that holds them: base
    rows, and, before the oldest of them (deleted by retention), the rollups of the finest
    tier that still holds the range, then the next coarser before those."""
    base = f"SELECT {_BASE_COLUMNS} FROM metric_rows WHERE {where}"
    tiers = sorted({t for t, _, _, _ in frontiers(store, project, model)})
    if not tiers:
        return f"({base}) AS src", list(params)
    (floor,) = store._read(f"SELECT min(window_start) FROM metric_rows WHERE {where}", params)[0]
    parts, out = [base], list(params)
    for tier in tiers:
        if floor is not None and floor <= since:
            break
        cond = f"{where} AND tier_seconds = {tier}"
        args: list[Any] = list(params)
        if floor is not None:
            cond += " AND window_end <= ?"
            args.append(floor)
        (oldest,) = store._read(f"SELECT min(window_start) FROM metric_rollups WHERE {cond}", args)[
            0
        ]
        if oldest is None:
            continue
        parts.append(f"SELECT {SOURCE_COLUMNS} FROM metric_rollups WHERE {cond}")
        out += args
        floor = oldest
    return f"({' UNION ALL '.join(parts)}) AS src", out
