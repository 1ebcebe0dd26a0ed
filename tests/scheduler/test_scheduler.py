"""The scheduler over both stores: deterministic, idempotent, catching up, late labels."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sightline.analysis.columns import SchemaOptions
from sightline.analysis.profiling import profile_data
from sightline.profile import Column, Profile, Schema
from sightline.scheduler import Scheduler, plan
from sightline.store import Idempotency, Store, open_store
from sightline.store.records import profile_record
from sightline.store.scheduling import ModelSettings

SCHEMA = Schema((Column("x"), Column("c", kind="categorical"), Column("y", role="prediction")))
T0 = datetime(2026, 3, 1)
HOUR = timedelta(hours=1)


def data(n: int, seed: int, shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "x": rng.normal(shift, 1, n),
            "c": rng.choice(["a", "b", "c"], n),
            "y": rng.uniform(0, 1, n),
        }
    )


REFERENCE = profile_data(
    data(2000, 0), columns=SchemaOptions(schema=SCHEMA), model="m", version="1"
)


def batch_profile(window: int, instance: str, part: int, n: int = 300) -> Profile:
    """A profile of one SDK flush: instance, window (hours after T0), part of the window."""
    start = (T0 + window * HOUR).replace(tzinfo=UTC)
    p = profile_data(
        data(n, seed=window * 100 + part + 7 * len(instance), shift=0.5 * (window == 2)),
        reference=REFERENCE,
        model="m",
        version="1",
        instance_id=instance,
        window_start=start + timedelta(minutes=10 * part),
        window_end=start + timedelta(minutes=10 * part + 10),
    )
    return p.record_latency(np.full(n, 5.0 + window), n_errors=part)


EVENTS = [(w, i, part) for w in range(4) for i in ("i1", "i2") for part in range(3)]


def ingest(store: Store, events: list[tuple[int, str, int]], duplicates: int = 0) -> None:
    store.register_version("p", "m", "1", SCHEMA.to_dict())
    store.set_reference("p", "m", "1", PAYLOADS["reference"])
    for w, i, part in events + events[:duplicates]:
        key = f"{w}-{i}-{part}"
        body = PAYLOADS[key]
        rows = profile_record("p", Profile.from_bytes(body), body, key, T0)
        store.ingest("p", Idempotency(key, key, "profiles"), "profiles", rows)


PAYLOADS = {f"{w}-{i}-{part}": batch_profile(w, i, part).to_bytes() for w, i, part in EVENTS}
PAYLOADS["reference"] = REFERENCE.to_bytes()
NOW = T0 + 10 * HOUR


def all_rows(store: Store) -> list[tuple[object, ...]]:
    return sorted(store._read("SELECT * FROM metric_rows"), key=repr)


@pytest.fixture
def store(store_location: str) -> Iterator[Store]:
    s = open_store(store_location)
    yield s
    s.close()


def test_runs_every_job_once_and_reruns_identically(store: Store) -> None:
    ingest(store, EVENTS)
    first = Scheduler(store).run_once(NOW)
    # 4 windows x 3 kinds from profiles, then the 4 windows' matrix jobs in a second pass
    assert (first.planned, first.written, first.failed) == (16, 16, [])
    rows = all_rows(store)
    assert Scheduler(store).run_once(NOW).planned == 0
    with store._write() as tx:  # forget the job records: everything runs again
        tx.execute("DELETE FROM jobs_done")
    assert Scheduler(store).run_once(NOW).written == 16
    assert all_rows(store) == rows
    drift = store.latest_metric_rows("p", "m", "drift")
    shares = {r.column: r for r in drift}
    assert shares["x"].metric == "jensen_shannon"
    windows = store.metric_rows("p", "m", since=T0, until=NOW, column="x", metric="jensen_shannon")
    assert [r.alert for r in windows] == [False, False, True, False]  # the shift in window 2
    health = {
        r.metric: r.value
        for r in store.metric_rows("p", "m", since=T0, until=T0 + HOUR)
        if r.column == ""
        and r.metric in ("predictions", "error_rate", "instances", "latency_p50_ms")
    }
    assert health == {
        "predictions": 1800.0,
        "error_rate": 6 / 1800,
        "instances": 2.0,
        "latency_p50_ms": pytest.approx(5.0, abs=2.5),
    }


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), duplicates=st.integers(0, 5))
def test_order_batches_and_duplicates_do_not_change_rows(
    tmp_path_factory: pytest.TempPathFactory, seed: int, duplicates: int
) -> None:
    stores = [open_store(tmp_path_factory.mktemp("a")), open_store(tmp_path_factory.mktemp("b"))]
    try:
        shuffled = EVENTS[:]
        random.Random(seed).shuffle(shuffled)
        ingest(stores[0], EVENTS)
        ingest(stores[1], shuffled, duplicates=duplicates)
        for s in stores:
            Scheduler(s).run_once(NOW)
        assert all_rows(stores[0]) == all_rows(stores[1])
    finally:
        for s in stores:
            s.close()


def test_catch_up_after_downtime_oldest_first(store: Store) -> None:
    ingest(store, EVENTS)
    jobs = plan(store, T0 + 2 * HOUR + timedelta(minutes=2))
    assert {j.window_start for j in jobs} == {T0, T0 + HOUR}  # the later windows are open
    later = plan(store, NOW)
    assert [j.window_start for j in later] == sorted(j.window_start for j in later)
    # Drift, quality, health and the matrix (run after them) of each of the 4 windows.
    assert len(later) == 16 and sum(j.kind == "matrix" for j in later) == 4


def test_late_labels_recompute_performance_within_the_horizon(store: Store) -> None:
    ingest(store, EVENTS)
    store.set_model_settings(
        "p", "m", ModelSettings(window=3600, lateness=60, label_horizon=3 * 3600)
    )
    n = 40
    predictions = pa.table(
        {
            "project": ["p"] * n,
            "model": ["m"] * n,
            "version": ["1"] * n,
            "prediction_id": [f"id{i}" for i in range(n)],
            "ts": pa.array([T0 + timedelta(minutes=i) for i in range(n)], pa.timestamp("us")),
            "prediction": [float(i % 2) for i in range(n)],
            "prediction_label": pa.nulls(n, pa.string()),
            "probability": pa.nulls(n, pa.float64()),
            "received_at": pa.array([T0] * n, pa.timestamp("us")),
        }
    )
    store.insert_rows("predictions", predictions)

    def label(ids: range, stamp: datetime) -> None:
        store.insert_rows(
            "labels",
            pa.table(
                {
                    "project": ["p"] * len(ids),
                    "model": ["m"] * len(ids),
                    "prediction_id": [f"id{i}" for i in ids],
                    "label": [float(i % 2) if i % 4 else 1.0 - i % 2 for i in ids],
                    "label_text": pa.nulls(len(ids), pa.string()),
                    "ts": pa.array([stamp] * len(ids), pa.timestamp("us")),
                    "received_at": pa.array([stamp] * len(ids), pa.timestamp("us")),
                }
            ),
        )

    label(range(20), T0 + HOUR)
    Scheduler(store).run_once(T0 + 2 * HOUR)
    coverage = store.metric_rows("p", "m", since=T0, until=T0 + HOUR, metric="label_coverage")
    assert [r.value for r in coverage] == [0.5]
    label(range(20, 40), T0 + 2 * HOUR)
    report = Scheduler(store).run_once(T0 + 3 * HOUR)
    assert report.written >= 1
    coverage = store.metric_rows("p", "m", since=T0, until=T0 + HOUR, metric="label_coverage")
    assert [r.value for r in coverage] == [1.0]
    accuracy = store.metric_rows("p", "m", since=T0, until=T0 + HOUR, metric="accuracy")
    assert [r.value for r in accuracy] == [0.75]
    # The window's health matrix reran on its new performance rows.
    done = store.jobs_done("p", "m", "1")
    assert done[(T0, "matrix")].endswith("|" + done[(T0, "performance")])
    # Beyond the horizon, new labels no longer recompute the window.
    label(range(40), T0 + 9 * HOUR)
    assert not [j for j in plan(store, T0 + 9 * HOUR) if j.kind == "performance"]


def test_scores_logged_as_predictions_are_not_computed_as_classes(store: Store) -> None:
    store.register_version("p", "m", "1", SCHEMA.to_dict())
    n = 500
    rng = np.random.default_rng(0)
    stamp = pa.array([T0 + timedelta(seconds=i) for i in range(n)], pa.timestamp("us"))
    ids = [f"id{i}" for i in range(n)]
    store.insert_rows(
        "predictions",
        pa.table(
            {
                "project": ["p"] * n,
                "model": ["m"] * n,
                "version": ["1"] * n,
                "prediction_id": ids,
                "ts": stamp,
                "prediction": rng.random(n),  # a score, not a class
                "prediction_label": pa.nulls(n, pa.string()),
                "probability": pa.nulls(n, pa.float64()),
                "received_at": stamp,
            }
        ),
    )
    labels = {"label": rng.integers(0, 2, n).astype(float), "label_text": pa.nulls(n, pa.string())}
    store.insert_rows(
        "labels",
        pa.table(
            {"project": ["p"] * n, "model": ["m"] * n, "prediction_id": ids, **labels}
            | {"ts": stamp, "received_at": stamp}
        ),
    )
    assert not Scheduler(store).run_once(NOW).failed
    rows = {r.metric: r for r in store.metric_rows("p", "m", since=T0, until=T0 + HOUR)}
    assert set(rows) == {"label_coverage", "accuracy"}
    value = rows["accuracy"].value
    assert value is None or math.isnan(value)  # not computed
    assert "not label classes" in rows["accuracy"].method


def test_a_profile_binned_before_the_reference_does_not_block_its_window(store: Store) -> None:
    ingest(store, [(0, "i1", 0), (0, "i2", 0)])
    # Sent before the reference existed (or to a replica that did not know it yet): no bins.
    early = Profile.zero(
        SCHEMA,
        model="m",
        version="1",
        instance_id="i3",
        window_start=(T0 + timedelta(minutes=5)).replace(tzinfo=UTC),
        window_end=(T0 + timedelta(minutes=15)).replace(tzinfo=UTC),
    )
    early.update(data(100, seed=99).to_pydict())
    early = early.record_latency(np.full(100, 50.0), n_errors=4)
    body = early.to_bytes()
    rows = profile_record("p", early, body, "early", T0)
    store.ingest("p", Idempotency("early", "early", "profiles"), "profiles", rows)

    report = Scheduler(store).run_once(NOW)
    assert report.failed == []
    got = {r.metric: r.value for r in store.metric_rows("p", "m", since=T0, until=NOW)}
    assert got["profiles_skipped"] == 1.0
    assert got["predictions"] == 700.0  # health counts every profile: 300 + 300 + 100
    assert got["instances"] == 3.0
    assert got["error_rate"] == 4 / 700
    assert "drift_share" in got and got["drift_share"] is not None


def test_a_failing_job_is_retried_later_with_a_growing_delay(store: Store) -> None:
    ingest(store, [(0, "i1", 0)])
    good = PAYLOADS["0-i1-0"]
    broken = profile_record("p", Profile.from_bytes(good), b"not a profile", "broken", T0)
    store.ingest("p", Idempotency("broken", "broken", "profiles"), "profiles", broken)

    def run(at: datetime) -> set[str]:
        report = Scheduler(store).run_once(at)
        return {key.rsplit("/", 1)[1] for key in report.failed}

    assert run(NOW) == {"drift", "quality", "health"}  # the window cannot be read
    assert store.failing_jobs("p") == {"m": 3}
    assert Scheduler(store).run_once(NOW + timedelta(seconds=30)).planned == 0  # waits 1 min
    assert run(NOW + timedelta(seconds=61)) == {"drift", "quality", "health"}
    assert Scheduler(store).run_once(NOW + timedelta(seconds=150)).planned == 0  # now 2 min
    ((error,),) = store._read("SELECT DISTINCT error FROM jobs_failed WHERE kind = 'drift'")
    assert "Error" in error
    # New inputs are tried at once; a success clears the failure.
    with store._write() as tx:
        tx.execute("DELETE FROM profiles WHERE idempotency_key = 'broken'")
    ingest(store, [(0, "i2", 0), (0, "i2", 1)])
    report = Scheduler(store).run_once(NOW + timedelta(seconds=151))
    assert (report.planned, report.failed) == (4, [])  # three kinds, then the matrix
    assert store.failing_jobs("p") == {}


def test_rolling_reference(store: Store) -> None:
    ingest(store, EVENTS)
    store.set_model_settings("p", "m", ModelSettings(window=3600, lateness=60, reference_windows=2))
    Scheduler(store).run_once(NOW)
    rows = store.metric_rows("p", "m", since=T0, until=NOW, column="x", metric="jensen_shannon")
    starts = [T0.replace(tzinfo=UTC) + k * HOUR for k in (2, 3)]  # rows carry aware UTC
    assert [r.window_start for r in rows] == starts
    assert [r.alert for r in rows] == [True, True]  # window 3 against windows 1-2
    early = store.metric_rows("p", "m", since=T0, until=T0 + 2 * HOUR, metric="drift_share")
    assert [r.method[:33] for r in early] == ["not computed: reference not ready"] * 2


def test_a_version_may_roll_while_its_model_keeps_the_uploaded_reference(store: Store) -> None:
    ingest(store, EVENTS)  # version 1 has an uploaded reference
    store.set_version_reference_windows("p", "m", "1", 2)
    Scheduler(store).run_once(NOW)
    rolled = all_rows(store)
    with store._write() as tx:  # the same through the model's setting
        tx.execute("DELETE FROM metric_rows")
        tx.execute("DELETE FROM jobs_done")
    store.set_version_reference_windows("p", "m", "1", None)
    store.set_model_settings("p", "m", ModelSettings(window=3600, lateness=60, reference_windows=2))
    Scheduler(store).run_once(NOW)
    assert all_rows(store) == rolled
    first = store.metric_rows("p", "m", since=T0, until=T0 + HOUR, metric="drift_share")
    assert first[0].method.startswith("not computed")  # no window before the first


def test_dask_local_cluster_gives_the_same_rows(tmp_path_factory: pytest.TempPathFactory) -> None:
    distributed = pytest.importorskip("distributed")
    local, remote = (
        open_store(tmp_path_factory.mktemp("l")),
        open_store(tmp_path_factory.mktemp("r")),
    )
    try:
        ingest(local, EVENTS)
        ingest(remote, EVENTS)
        Scheduler(local).run_once(NOW)
        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            report = Scheduler(remote, client=client).run_once(NOW)
        assert report.written == 16
        assert all_rows(local) == all_rows(remote)
    finally:
        local.close()
        remote.close()


def test_health_series_detect_a_latency_change_and_score_the_window() -> None:
    from sightline.analysis.rows import RowContext
    from sightline.scheduler.jobs import KpiPoint, change_rows, matrix_rows

    rng = np.random.default_rng(5)
    windows = [T0 + i * HOUR for i in range(40)]
    history = [KpiPoint(w, "latency_p95_ms", float(50 + rng.normal(0, 1))) for w in windows]
    history += [KpiPoint(w, "error_rate", float(0.01 + rng.normal(0, 0.001))) for w in windows]
    history += [KpiPoint(w, "drift_share", float(rng.uniform(0, 0.1))) for w in windows]
    now = T0 + 40 * HOUR
    ctx = RowContext("m", "1", now, now + HOUR)

    def rows(latency: float, drift_share: float = 0.05) -> dict[str, object]:
        current = [ctx.row("latency_p95_ms", latency), ctx.row("error_rate", 0.01)]
        mine = [KpiPoint(now, r.metric, r.value) for r in current]
        mine.append(KpiPoint(now, "drift_share", drift_share))
        found = change_rows(history, current, ctx) + matrix_rows(history + mine, now, ctx)
        return {r.metric: r for r in found}

    calm, jump = rows(50.2), rows(80.0)
    assert not calm["change_latency_p95_ms"].alert and jump["change_latency_p95_ms"].alert  # type: ignore[attr-defined]
    assert not calm["change_error_rate"].alert  # type: ignore[attr-defined]
    assert jump["health_anomaly_score"].value > calm["health_anomaly_score"].value  # type: ignore[attr-defined]
    assert jump["health_anomaly_score"].alert and not calm["health_anomaly_score"].alert  # type: ignore[attr-defined]
    # The window's own drift share counts: a data set drifting at 90 % is an anomaly.
    assert rows(50.2, drift_share=0.9)["health_anomaly_score"].alert  # type: ignore[attr-defined]
    assert rows(50.0) == rows(50.0)  # deterministic
    assert matrix_rows(history, now, ctx) == []  # no KPI of the window itself yet


def test_the_health_matrix_takes_realized_accuracy_else_the_estimate(store: Store) -> None:
    from sightline.analysis.rows import RowContext
    from sightline.scheduler.jobs import _history, rows_table
    from sightline.scheduler.plan import Job

    def window(i: int, metrics: dict[str, float]) -> None:
        start = T0 + i * HOUR
        job = Job(start, "p", "m", "1", "performance", start + HOUR, "f")
        ctx = RowContext("m", "1", start, start + HOUR)
        rows = [ctx.row(name, value) for name, value in metrics.items()]
        store.insert_rows("metric_rows", rows_table(job, rows, start))

    store.register_version("p", "m", "1", SCHEMA.to_dict())
    window(0, {"accuracy": 0.9, "estimated_accuracy": 0.8})  # labels came: realized
    window(1, {"estimated_accuracy": 0.7})  # not yet
    window(2, {"throughput": 5.0})
    health = Job(T0 + 3 * HOUR, "p", "m", "1", "health", T0 + 4 * HOUR, "f")
    got = {(w, m): v for w, m, v in _history(store, health)}
    assert got == {
        (T0, "accuracy"): 0.9,
        (T0 + HOUR, "accuracy"): 0.7,
        (T0 + 2 * HOUR, "throughput"): 5.0,
    }


KILLED_RUN = """
import sys, time
from datetime import datetime
from sightline.scheduler import Scheduler, jobs, runner
from sightline.store import open_store

store = open_store(sys.argv[1])
write = jobs.write_jobs
runner.WRITE_BATCH = 1  # one job per transaction: the kill lands between two

def slow_write(*args, **kwargs):
    lost = write(*args, **kwargs)
    print("wrote", flush=True)
    time.sleep(0.3)
    return lost

jobs.write_jobs = slow_write
Scheduler(store).run_once(datetime.fromisoformat(sys.argv[2]))
print("done", flush=True)
"""


def test_a_killed_run_leaves_one_result_per_window_equal_to_a_clean_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    import subprocess
    import sys

    killed, clean = tmp_path_factory.mktemp("killed"), tmp_path_factory.mktemp("clean")
    for path in (killed, clean):
        s = open_store(path)
        ingest(s, EVENTS)
        s.close()
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, str(killed), NOW.isoformat()],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline().strip() for _ in range(4)]
    proc.kill()  # SIGKILL in the middle of the run, after four jobs
    proc.wait(30)
    proc.stdout.close()
    assert lines == ["wrote"] * 4
    store = open_store(killed)
    try:
        done_before = len(store.jobs_done("p", "m", "1"))
        assert 4 <= done_before < 16
        assert Scheduler(store).run_once(NOW).written == 16 - done_before
        after_restart = all_rows(store)
    finally:
        store.close()
    reference = open_store(clean)
    try:
        Scheduler(reference).run_once(NOW)
        assert after_restart == all_rows(reference)
        keys = [(r[1], r[2], r[3], r[5], r[6], r[15]) for r in after_restart]
        assert len(keys) == len(
            set(keys)
        )  # one row per (model, version, window, column, metric, kind)
    finally:
        reference.close()


def test_rolling_reference_thresholds_come_from_the_spread_of_its_windows() -> None:
    from sightline.scheduler.jobs import window_thresholds

    parts = [batch_profile(w, "i1", part) for w in (0, 1, 3) for part in range(3)]
    reference = sum(parts[1:], parts[0])
    thresholds = window_thresholds(reference, parts, HOUR)
    assert set(thresholds) == {"x", "c", "y"}
    assert all(0 < t < 0.1 for t in thresholds.values())  # stable windows: tighter than 0.1
    assert window_thresholds(reference, parts[:6], HOUR) == {}  # two windows: fixed threshold
    shifted = [batch_profile(w, "i1", part) for w in (0, 1, 2) for part in range(3)]
    wider = window_thresholds(sum(shifted[1:], shifted[0]), shifted, HOUR)
    assert wider["x"] > thresholds["x"]  # a shifted window in the reference widens it
