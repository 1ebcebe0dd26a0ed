"""Rollup jobs over a real store and scheduler, on both stores: the drift of a tier
window is computed exactly from its merged profiles, a late profile reruns it, and a pass
with nothing new plans nothing."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from sightline.analysis.columns import SchemaOptions
from sightline.analysis.profile_compare import STREAM_ROLES, compare_profiles
from sightline.analysis.profiling import profile_data
from sightline.analysis.rows import RowContext
from sightline.profile import Column, Profile, Schema, merge_profiles
from sightline.scheduler import Scheduler
from sightline.scheduler.jobs import DRIFT_OPTIONS
from sightline.store import Idempotency, Store, open_store
from sightline.store.records import profile_record
from sightline.store.scheduling import ModelSettings

SCHEMA = Schema((Column("x"), Column("y", role="prediction")))
T0 = datetime(2026, 3, 1)
SIZE = timedelta(seconds=10)
TIER = 60  # six base windows per tier window
NOW = T0 + 100 * SIZE
REFERENCE = profile_data(
    pa.table({"x": np.random.default_rng(0).normal(0, 1, 3000), "y": np.linspace(0, 1, 3000)}),
    columns=SchemaOptions(schema=SCHEMA),
    model="m",
    version="1",
)


@pytest.fixture
def store(store_location: str) -> Iterator[Store]:
    s = open_store(store_location)
    s.register_version("p", "m", "1", SCHEMA.to_dict())
    s.set_reference("p", "m", "1", REFERENCE.to_bytes())
    s.set_model_settings("p", "m", ModelSettings(window=10, lateness=1))
    yield s
    s.close()


def send(store: Store, window: int, n: int, key: str, shift: float) -> None:
    start = (T0 + window * SIZE).replace(tzinfo=UTC)
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    data = pa.table({"x": rng.normal(shift, 1, n), "y": rng.uniform(0, 1, n)})
    p = profile_data(
        data,
        reference=REFERENCE,
        columns=SchemaOptions(schema=SCHEMA),
        model="m",
        version="1",
        instance_id="i1",
        window_start=start,
        window_end=start + SIZE,
    )
    store.ingest(
        "p",
        Idempotency(key, key, "profiles"),
        "profiles",
        profile_record("p", p, p.to_bytes(), key, T0),
    )


def settle(store: Store) -> int:
    """Run passes until nothing is planned; the jobs run."""
    ran = 0
    for _ in range(5):
        report = Scheduler(store, tiers=(TIER,)).run_once(NOW)
        assert report.failed == []
        if report.planned == 0:
            return ran
        ran += report.planned
    raise AssertionError("the scheduler kept planning")


def direct_drift(store: Store, start: datetime) -> float:
    """The Jensen-Shannon distance of x of the tier window's pooled profiles."""
    end = start + timedelta(seconds=TIER)
    payloads = store.window_profiles("p", "m", "1", start, end)
    merged = merge_profiles([Profile.from_bytes(b) for b in payloads])
    merged.model, merged.version = "m", "1"
    found = compare_profiles(REFERENCE, merged, DRIFT_OPTIONS, RowContext(), roles=STREAM_ROLES)
    (row,) = [r for r in found.rows if r.column == "x" and r.metric == "jensen_shannon"]
    return row.value


def rolled(store: Store, start: datetime) -> tuple[float, float, float]:
    (r,) = [
        r
        for r in store.rollup_rows("p", "m", tier=TIER, since=start, until=start + SIZE)
        if r.row.column == "x" and r.row.metric == "jensen_shannon"
    ]
    return r.row.value, r.value_min, r.value_max


def test_drift_rollup_is_exact_and_rerun_by_a_late_profile(store: Store) -> None:
    for w in range(12):
        send(store, w, 100 + 40 * w, f"k{w}", shift=0.1 * w)
    assert settle(store) > 0
    for start in (T0, T0 + 6 * SIZE):
        minutes = [
            r.value
            for r in store.metric_rows(
                "p", "m", since=start, until=start + 6 * SIZE, column="x", metric="jensen_shannon"
            )
        ]
        assert len(minutes) == 6
        value, low, high = rolled(store, start)
        assert value == pytest.approx(direct_drift(store, start), abs=1e-12)
        assert abs(value - float(np.mean(minutes))) > 1e-6  # not the mean of distances
        assert (low, high) == (pytest.approx(min(minutes)), pytest.approx(max(minutes)))
    first = store.rollup_rows("p", "m", tier=TIER, since=T0, until=NOW)
    assert settle(store) == 0  # idempotent: nothing new, nothing planned
    assert store.rollup_rows("p", "m", tier=TIER, since=T0, until=NOW) == first
    # A late profile of window 2 reruns its base jobs, then the first tier window's rollup.
    before = rolled(store, T0)[0]
    send(store, 2, 2000, "late", shift=2.0)
    settle(store)
    after = rolled(store, T0)[0]
    assert after != before
    assert after == pytest.approx(direct_drift(store, T0), abs=1e-12)
    assert rolled(store, T0 + 6 * SIZE) == next(
        (r.row.value, r.value_min, r.value_max)
        for r in first
        if r.row.window_start == (T0 + 6 * SIZE).replace(tzinfo=UTC)
        and r.row.column == "x"
        and r.row.metric == "jensen_shannon"
    )
