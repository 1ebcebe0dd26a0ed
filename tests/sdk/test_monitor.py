"""The Monitor against a real collector on loopback: what is logged arrives, exactly once."""

from __future__ import annotations

import gc
import io
import os
import threading
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from conftest import running_collector
from sightline.analysis.columns import SchemaOptions
from sightline.analysis.profiling import profile_data
from sightline.profile import Column, Profile, Schema, merge_profiles
from sightline.sdk import Monitor, MonitorClosedError
from sightline.store import open_store
from support.live import Collector, free_port

SCHEMA = Schema(
    (
        Column("age"),
        Column("city", kind="categorical"),
        Column("score", role="prediction"),
    )
)
BASE = "/api/v1/models/churn/versions/1"


def reference_table(n: int = 500) -> pa.Table:
    rng = np.random.default_rng(1)
    return pa.table(
        {
            "age": rng.normal(40, 10, n),
            "city": rng.choice(["a", "b", "c"], n).astype(object),
            "score": rng.uniform(0, 1, n),
        }
    )


def reference_profile() -> Profile:
    return profile_data(
        reference_table(), columns=SchemaOptions(schema=SCHEMA), model="churn", version="1"
    )


def register(collector: Collector) -> str:
    """Register churn/1 with its reference; return an ingest key."""
    admin = collector.client()
    assert admin.put(BASE, json=SCHEMA.to_dict()).status_code == 200
    sink = io.BytesIO()
    pacsv.write_csv(reference_table(), sink)
    r = admin.put(
        f"{BASE}/reference", content=sink.getvalue(), headers={"content-type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    return collector.store.create_key("default", "ingest")


def logged_rows(n: int, seed: int = 2) -> list[tuple[dict[str, object], float]]:
    rng = np.random.default_rng(seed)
    ages, cities, scores = (
        rng.normal(45, 10, n),
        rng.choice(["a", "b", "d"], n),
        rng.uniform(0, 1, n),
    )
    return [({"age": float(ages[i]), "city": str(cities[i])}, float(scores[i])) for i in range(n)]


def offline(rows: list[tuple[dict[str, object], float]]) -> Profile:
    edges, vocab = reference_profile().reference_spec()
    p = Profile.zero(SCHEMA, edges=edges, vocabularies=vocab, model="churn", version="1")
    return p.update(
        {
            "age": np.array([r[0]["age"] for r in rows], dtype=float),
            "city": np.array([r[0]["city"] for r in rows], dtype=object),
            "score": np.array([r[1] for r in rows], dtype=float),
        }
    )


def stored_profile(collector: Collector) -> Profile:
    payloads = collector.store._read("SELECT payload FROM profiles")
    return merge_profiles(Profile.from_bytes(bytes(p[0])) for p in payloads)


def assert_same_data(got: Profile, want: Profile) -> None:
    assert got.n_rows == want.n_rows
    for name in ("age", "score"):
        g, w = got.columns[name], want.columns[name]
        assert (g.count, g.n_missing) == (w.count, w.n_missing)
        assert g.mean == pytest.approx(w.mean, rel=1e-9)
        assert g.std == pytest.approx(w.std, rel=1e-9)
        assert g.bins.tolist() == w.bins.tolist()
    assert got.columns["city"].counts.tolist() == want.columns["city"].counts.tolist()


def test_logged_rows_arrive_once_and_profile_like_offline(
    duckdb_collector: Collector, tmp_path: Path
) -> None:
    key = register(duckdb_collector)
    rows = logged_rows(3000)
    with Monitor(
        "churn", "1", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path, sample_rows=100
    ) as m:
        ids = [m.log(f, prediction=p, latency_ms=2.0) for f, p in rows]
    assert len(set(ids)) == 3000
    store = duckdb_collector.store
    assert store.count("predictions", "default") == 3000
    assert store._read("SELECT count(DISTINCT prediction_id) FROM predictions")[0][0] == 3000
    got = stored_profile(duckdb_collector)
    assert_same_data(got, offline(rows))
    assert got.n_predictions == 3000 and got.latency.n == 3000
    assert 0 < store.count("samples", "default") <= 100 * 2  # at most two windows
    assert store.count("heartbeats", "default") >= 1


def test_collector_down_first_then_up(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    store = open_store(data)  # a fresh collector: the monitor registers the version itself
    key = store.create_key("default", "ingest")
    store.close()
    port = free_port()
    rows = logged_rows(2000, seed=5)
    m = Monitor(
        "churn",
        "1",
        url=f"http://127.0.0.1:{port}",
        api_key=key,
        spool_dir=tmp_path / "spool",
        reference=reference_profile(),
        tick=0.05,
        timeout=2,
    )
    for f, p in rows[:1500]:
        m.log(f, prediction=p)
    assert m.flush(timeout=1) is False  # nobody listens yet
    with running_collector(data, port) as collector:
        for f, p in rows[1500:]:
            m.log(f, prediction=p)
        m.close(timeout=30)
        assert collector.store.count("predictions", "default") == 2000
        assert_same_data(stored_profile(collector), offline(rows))
        version = collector.store.get_version("default", "churn", "1")
        assert version.reference is not None
        stored_edges = Profile.from_bytes(version.reference).reference_spec()[0]["age"]
        assert stored_edges.tolist() == reference_profile().reference_spec()[0]["age"].tolist()


def test_threads_log_at_once(duckdb_collector: Collector, tmp_path: Path) -> None:
    key = register(duckdb_collector)
    m = Monitor("churn", "1", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path)
    rows = logged_rows(500)

    def work() -> None:
        for f, p in rows:
            m.log(f, prediction=p)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    m.close(timeout=30)
    assert duckdb_collector.store.count("predictions", "default") == 4000
    assert stored_profile(duckdb_collector).n_rows == 4000
    assert m.stats()["rows"] == 4000


def test_bad_input_is_counted_not_raised(duckdb_collector: Collector, tmp_path: Path) -> None:
    key = register(duckdb_collector)
    m = Monitor("churn", "1", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path)
    m.log({"age": float("nan"), "city": "a"}, prediction=0.5)
    m.log({"age": "forty", "city": 3, "height": 180}, prediction="high")
    m.log({"city": None}, prediction=None, probability=float("inf"))
    m.log("not a mapping", prediction=0.1)  # type: ignore[arg-type]
    m.close(timeout=30)
    with pytest.raises(MonitorClosedError, match="closed"):
        m.log({"age": 1.0})
    assert m.stats()["unknown_columns"] == {"height": 1}
    age = stored_profile(duckdb_collector).columns["age"]
    assert (age.count, age.n_missing, age.n_invalid) == (4, 3, 1)
    assert duckdb_collector.store.count("predictions", "default") == 4


def test_watch_times_calls_counts_errors_and_gives_ids(
    duckdb_collector: Collector, tmp_path: Path
) -> None:
    key = register(duckdb_collector)
    m = Monitor("churn", "1", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path)

    @m.watch
    def predict(features: dict[str, object]) -> float:
        if features["age"] == 0:
            raise ValueError("bad age")
        return 0.25

    assert predict({"age": 30.0, "city": "a"}) == 0.25
    first = m.last_id
    assert predict({"age": 31.0, "city": "b"}) == 0.25
    assert m.last_id != first and first is not None
    with pytest.raises(ValueError, match="bad age"):
        predict({"age": 0, "city": "a"})
    m.close(timeout=30)
    got = stored_profile(duckdb_collector)
    assert (got.n_rows, got.n_predictions, got.n_errors, got.latency.n) == (2, 3, 1, 3)
    ids = {r[0] for r in duckdb_collector.store._read("SELECT prediction_id FROM predictions")}
    assert first in ids


def test_unknown_version_is_registered_from_the_first_rows(
    duckdb_collector: Collector, tmp_path: Path
) -> None:
    key = duckdb_collector.store.create_key("default", "ingest")
    with Monitor("fresh", "7", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path) as m:
        m.log({"x": 1.5, "kind": "a"}, prediction=1.0)
        m.log({"x": 2.5, "kind": "b"}, prediction=0.0)
    version = duckdb_collector.store.get_version("default", "fresh", "7")
    assert [(c["name"], c["kind"]) for c in version.schema["columns"]] == [
        ("x", "numeric"),
        ("kind", "categorical"),
        ("prediction", "numeric"),
    ]
    assert duckdb_collector.store.count("predictions", "default") == 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_workers_log_through_their_own_monitor(
    duckdb_collector: Collector, tmp_path: Path
) -> None:
    key = register(duckdb_collector)
    m = Monitor("churn", "1", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path)
    rows = logged_rows(300)
    for f, p in rows[:100]:
        m.log(f, prediction=p)
    pid = os.fork()
    if pid == 0:  # the child: its own rows only, then leave without running the parent's exit hooks
        code = 0
        try:
            for f, p in rows[100:150]:
                m.log(f, prediction=p)
            m.close(timeout=30)
        except BaseException:
            code = 1
        os._exit(code)
    for f, p in rows[150:300]:
        m.log(f, prediction=p)
    _, status = os.waitpid(pid, 0)
    m.close(timeout=30)
    assert os.waitstatus_to_exitcode(status) == 0
    store = duckdb_collector.store
    assert store.count("predictions", "default") == 300
    assert store._read("SELECT count(DISTINCT prediction_id) FROM predictions")[0][0] == 300
    assert stored_profile(duckdb_collector).n_rows == 300
    instances = {r[0] for r in store._read("SELECT DISTINCT instance FROM heartbeats")}
    assert len(instances) == 2


def test_fastapi_middleware_records_latency_and_errors(
    duckdb_collector: Collector, tmp_path: Path
) -> None:
    from fastapi import FastAPI

    from sightline.integrations.asgi import MonitorMiddleware
    from support.live import start_server, stop_server

    key = register(duckdb_collector)
    m = Monitor("churn", "1", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path)
    app = FastAPI()
    app.add_middleware(MonitorMiddleware, monitor=m)

    @app.get("/ok")
    def ok() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/fail")
    def fail() -> None:
        raise RuntimeError("boom")

    server, thread, url = start_server(app)
    try:
        with httpx.Client(base_url=url) as client:
            for _ in range(5):
                assert client.get("/ok").status_code == 200
            assert client.get("/fail").status_code == 500
    finally:
        stop_server(server, thread)
    m.close(timeout=30)
    got = stored_profile(duckdb_collector)
    assert (got.n_rows, got.n_predictions, got.n_errors, got.latency.n) == (0, 6, 1, 6)


SERVING = """
import sys, time
from sightline.profile import Profile
from sightline.sdk import Monitor
n = int(sys.argv[4])
rows = [({"age": 30.0 + i % 40, "city": "abc"[i % 3]}, (i % 10) / 10) for i in range(n)]
m = Monitor("churn", "1", url=sys.argv[1], api_key=sys.argv[2], spool_dir=sys.argv[3],
            reference=Profile.load(sys.argv[5]), tick=0.05, timeout=1)
for f, p in rows:
    m.log(f, prediction=p)
m.flush(timeout=3)  # the collector is down: everything goes to the spool
print("spooled", flush=True)
time.sleep(120)
"""


def test_sigkilled_serving_process_loses_nothing_that_reached_the_spool(tmp_path: Path) -> None:
    import subprocess
    import sys

    data, spool, ref = str(tmp_path / "data"), tmp_path / "spool", tmp_path / "ref.slp"
    reference_profile().save(ref)
    store = open_store(data)
    key = store.create_key("default", "ingest")
    store.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVING, url, key, str(spool), "1500", str(ref)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "spooled"
    finally:
        proc.kill()
        proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()
    assert any(spool.rglob("*.slq")) or any(p.is_file() for p in spool.rglob("*"))
    with running_collector(data, port) as collector:
        # A restarted serving process on the same spool directory replays what was spooled.
        again = Monitor("churn", "1", url=url, api_key=key, spool_dir=spool, tick=0.05)
        again.close(timeout=30)
        assert collector.store.count("predictions", "default") == 1500
        assert (
            collector.store._read("SELECT count(DISTINCT prediction_id) FROM predictions")[0][0]
            == 1500
        )
        assert stored_profile(collector).n_rows == 1500


def test_a_reference_uploaded_while_the_monitor_runs_loses_nothing(
    duckdb_collector: Collector, tmp_path: Path
) -> None:
    admin = duckdb_collector.client()
    assert admin.put(BASE, json=SCHEMA.to_dict()).status_code == 200  # no reference yet
    key = duckdb_collector.store.create_key("default", "ingest")
    m = Monitor("churn", "1", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path, tick=0.05)
    rows = reference_table(200).to_pylist()
    for r in rows[:100]:
        m.log({"age": r["age"], "city": r["city"]}, prediction=r["score"])
    assert m.flush(timeout=10)
    sink = io.BytesIO()
    pacsv.write_csv(reference_table(), sink)
    r = admin.put(
        f"{BASE}/reference", content=sink.getvalue(), headers={"content-type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    for r in rows[100:]:
        m.log({"age": r["age"], "city": r["city"]}, prediction=r["score"])
    m.close(timeout=30)
    assert m.stats()["delivery"].rejected == {}
    payloads = duckdb_collector.store._read("SELECT payload FROM profiles")
    got = [Profile.from_bytes(bytes(p[0])) for p in payloads]
    assert sum(p.n_rows for p in got) == 200  # every row arrived
    binned = [p for p in got if p.columns["age"].edges is not None]
    assert sum(p.n_rows for p in binned) == 100  # the later ones on the reference's bins


def test_rows_waiting_in_the_buffer_leave_nothing_for_the_garbage_collector() -> None:
    """``log`` keeps no object per row (a tuple per waiting row made the collector's full
    collections run every few tens of thousands of rows, at 1-2 us per row in all), and the
    rows still arrive whole."""
    monitor = Monitor("m", "1", url=None, schema=Schema((Column("x"),)), tick=3600)
    row = {"x": 1.0}
    gc.disable()
    try:
        before = gc.get_count()[0]
        for i in range(5_000):
            monitor.log(row, prediction=float(i), latency_ms=2.0)
        grown = gc.get_count()[0] - before
    finally:
        gc.enable()
    assert grown < 50, f"{grown} tracked objects for 5,000 rows"
    assert monitor.flush(10)
    stats = monitor.stats()
    assert (stats["logged"], stats["rows"], stats["pending"]) == (5_000, 5_000, 0)
    monitor.close()
