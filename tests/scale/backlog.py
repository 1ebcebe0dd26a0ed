"""A backlog of closed windows for several models, written to a store in one transaction,
and what the scheduler made of it (job runs, rows through the one codec)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache

import numpy as np
import pyarrow as pa

from sightline.analysis.columns import SchemaOptions
from sightline.analysis.profiling import profile_data
from sightline.analysis.rows import encode_row
from sightline.profile import Column, Profile, Schema
from sightline.store import Store
from sightline.store.records import profile_record

PROJECT = "default"
SCHEMA = Schema((Column("x"), Column("c", kind="categorical"), Column("y", role="prediction")))
T0 = datetime(2026, 3, 1)
HOUR = timedelta(hours=1)
#: Fewer windows than the change detectors' history needs: every job's rows depend on its
#: own window's inputs only, whichever replica ran the windows before it.
WINDOWS = 8
INSTANCES = ("i1", "i2")


def _data(n: int, seed: int, shift: float) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "x": rng.normal(shift, 1, n),
            "c": rng.choice(["a", "b", "c"], n),
            "y": rng.uniform(0, 1, n),
        }
    )


@cache
def _reference(model: str) -> Profile:
    options = SchemaOptions(schema=SCHEMA)
    return profile_data(_data(2000, 0, 0.0), columns=options, model=model, version="1")


@cache
def _profiles(models: int) -> pa.Table:
    """The ``profiles`` rows of every model, window and instance."""
    parts = []
    for m in range(models):
        model = f"m{m}"
        for w in range(WINDOWS):
            start = (T0 + w * HOUR).replace(tzinfo=UTC)
            for i, instance in enumerate(INSTANCES):
                p = profile_data(
                    _data(300, 1000 * m + 10 * w + i, 0.6 * (w == 5)),
                    reference=_reference(model),
                    model=model,
                    version="1",
                    instance_id=instance,
                    window_start=start,
                    window_end=start + HOUR,
                ).record_latency(np.full(300, 5.0 + w + m), n_errors=i)
                body = p.to_bytes()
                parts.append(profile_record(PROJECT, p, body, f"{model}-{w}-{instance}", T0))
    return pa.concat_tables(parts)


def junk_window(model: str, window: int) -> pa.Table:
    """The ``profiles`` row of a profile of ``model`` in ``window`` whose payload is junk:
    the window's jobs fail."""
    start = (T0 + window * HOUR).replace(tzinfo=UTC)
    p = profile_data(
        _data(10, 0, 0.0),
        reference=_reference(model),
        model=model,
        version="1",
        instance_id="bad",
        window_start=start,
        window_end=start + HOUR,
    )
    return profile_record(PROJECT, p, b"junk", f"{model}-{window}-bad", T0)


def seed(store: Store, models: int) -> None:
    """Register ``models`` models (``m0``...) with their references, then store every
    profile of the backlog in one transaction (so every job becomes due at once)."""
    for m in range(models):
        model = f"m{m}"
        store.register_version(PROJECT, model, "1", SCHEMA.to_dict())
        store.set_reference(PROJECT, model, "1", _reference(model).to_bytes())
    store.insert_rows("profiles", _profiles(models))


def encoded_rows(store: Store, models: int) -> list[str]:
    """Every metric row of the backlog through the one codec, sorted."""
    found = []
    for m in range(models):
        rows = store.metric_rows(PROJECT, f"m{m}", since=T0, until=T0 + WINDOWS * HOUR)
        found += [json.dumps(encode_row(r), sort_keys=True) for r in rows]
    return sorted(found)


def runs_by_job(store: Store) -> dict[tuple[object, ...], list[str]]:
    """The states of the runs of each (model, version, window, kind, fingerprint)."""
    runs: dict[tuple[object, ...], list[str]] = {}
    for r in store.job_runs(PROJECT, since=datetime(2000, 1, 1), limit=100_000):
        runs.setdefault((r.model, r.version, r.window_start, r.kind, r.fingerprint), []).append(
            r.state
        )
    return runs


def row_keys_unique(store: Store) -> bool:
    """Whether each (model, version, window, column, metric, kind) has one stored row."""
    (dupes,) = store._read(
        "SELECT count(*) FROM (SELECT model, version, window_start, column_name, metric, kind "
        "FROM metric_rows GROUP BY 1, 2, 3, 4, 5, 6 HAVING count(*) > 1) AS d"
    )[0]
    return int(dupes) == 0
