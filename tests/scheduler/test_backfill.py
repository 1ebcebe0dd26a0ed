"""``sightline backfill``: Parquet partitioned by time -> stored profiles and metric rows,
the same on a Dask LocalCluster as locally."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sightline.analysis.columns import SchemaOptions
from sightline.analysis.profiling import profile_data
from sightline.cli.main import main
from sightline.profile import Column, Profile, Schema
from sightline.scheduler import backfill as bf
from sightline.store import open_store
from sightline.store.scheduling import ModelSettings
from support.live import free_port, wait_ready

SCHEMA = Schema((Column("x"), Column("c", kind="categorical")))
T0 = datetime(2026, 5, 1)


def write_dataset(root: Path, days: int = 3, rows: int = 2000) -> pa.Table:
    """One Parquet file per half day, rows spread over the day, a shift on the last day."""
    rng = np.random.default_rng(4)
    parts = []
    for d in range(days):
        for half in range(2):
            start = T0 + timedelta(days=d, hours=12 * half)
            stamps = [start + timedelta(seconds=int(s)) for s in rng.integers(0, 12 * 3600, rows)]
            t = pa.table(
                {
                    "timestamp": pa.array(stamps, pa.timestamp("us")),
                    "x": rng.normal(1.0 if d == days - 1 else 0.0, 1, rows),
                    "c": rng.choice(["a", "b"], rows),
                }
            )
            folder = root / f"day={d}"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(t, folder / f"part-{half}.parquet")
            parts.append(t)
    return pa.concat_tables(parts)


def prepared_store(path: Path) -> str:
    """A store with model m (daily windows) and version 1 with its reference; an admin key."""
    store = open_store(path)
    store.register_version("default", "m", "1", SCHEMA.to_dict())
    store.set_model_settings("default", "m", ModelSettings(window=86400))
    ref = {
        "x": np.random.default_rng(9).normal(0, 1, 5000),
        "c": np.array(["a", "b"] * 2500, dtype=object),
    }
    reference = profile_data(ref, columns=SchemaOptions(schema=SCHEMA), model="m", version="1")
    store.set_reference("default", "m", "1", reference.to_bytes())
    key = store.create_key("default", "admin")
    store.close()
    return key


def backfill(tmp_path: Path, *extra: str) -> int:
    """``sightline backfill`` of the data set in ``tmp_path/ds`` into the store beside it,
    by day; its exit code."""
    store, data = str(tmp_path / "store"), str(tmp_path / "ds")
    args = ["backfill", data, "--model", "m", "--version", "1", "--data", store]
    return main([*args, "--window", "1d", *extra])


def test_backfill_stores_profiles_and_rows_and_writes_them(tmp_path: Path) -> None:
    table = write_dataset(tmp_path / "ds")
    prepared_store(tmp_path / "store")
    out = tmp_path / "rows.json"
    assert backfill(tmp_path, "--out", str(out)) == 0
    rows = json.loads(out.read_text())["rows"]
    drift = {
        r["window_start"][:10]: r
        for r in rows
        if r["column"] == "x" and r["metric"] == "jensen_shannon"
    }
    assert sorted(drift) == ["2026-05-01", "2026-05-02", "2026-05-03"]
    assert [drift[d]["alert"] for d in sorted(drift)] == [False, False, True]
    store = open_store(tmp_path / "store")
    try:
        payloads = [
            Profile.from_bytes(bytes(p[0])) for p in store._read("SELECT payload FROM profiles")
        ]
        assert sum(p.n_rows for p in payloads) == table.num_rows == 12_000
        x = np.concatenate([table.column("x").to_numpy()])
        merged = sum(payloads[1:], payloads[0])
        assert merged.columns["x"].mean == pytest.approx(float(x.mean()), rel=1e-9)
        assert store.count("metric_rows", "default") == len(rows)
        # A second backfill replaces, never doubles.
        store.close()
        assert backfill(tmp_path) == 0
        store = open_store(tmp_path / "store")
        assert store.count("metric_rows", "default") == len(rows)
        assert store.count("profiles", "default") == 3
    finally:
        store.close()


def test_dask_local_cluster_merges_like_the_local_run(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    write_dataset(tmp_path / "ds", days=2, rows=500)
    prepared_store(tmp_path / "store")
    store = open_store(tmp_path / "store")
    reference = store.get_version("default", "m", "1").reference
    store.close()
    assert reference is not None
    spec = bf.BackfillSpec("m", "1", reference, "timestamp", 3600 * 6)
    files = bf.parquet_files(tmp_path / "ds")
    local = bf.backfill(files, spec)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = bf.backfill(files, spec, client=client)
    assert sorted(local) == sorted(remote)
    for w in local:
        a, b = Profile.from_bytes(local[w]), Profile.from_bytes(remote[w])
        assert (a.n_rows, a.columns["c"].counts.tolist()) == (
            b.n_rows,
            b.columns["c"].counts.tolist(),
        )
        assert a.columns["x"].bins.tolist() == b.columns["x"].bins.tolist()
        assert a.columns["x"].mean == pytest.approx(b.columns["x"].mean, rel=1e-12)
        rows_a = [r for _, rows in bf.window_rows("p", spec, w, local[w]) for r in rows]
        rows_b = [r for _, rows in bf.window_rows("p", spec, w, remote[w]) for r in rows]
        assert rows_a == rows_b


def test_backfill_refuses_another_window_than_the_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_dataset(tmp_path / "ds", days=1, rows=100)
    prepared_store(tmp_path / "store")
    args = ["backfill", str(tmp_path / "ds"), "--model", "m", "--version", "1"]
    assert main([*args, "--data", str(tmp_path / "store"), "--window", "1m"]) != 0
    err = capsys.readouterr().err
    assert "--window 1m is not the window of model 'm' (1d)" in err and "one series" in err
    store = open_store(tmp_path / "store")
    try:
        assert store.count("profiles", "default") == 0  # nothing written
    finally:
        store.close()


def test_backfill_through_a_running_collector(tmp_path: Path) -> None:
    """``--url``: the collector process holds the DuckDB lock; the profiles go through its
    API, its scheduler computes the rows, and they are the rows of ``--out``."""
    write_dataset(tmp_path / "ds")
    key = prepared_store(tmp_path / "store")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sightline.cli", "serve", "--data", str(tmp_path / "store"),
             "--port", str(port), "--schedule-every", "0.5"],
            stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip
    try:
        wait_ready(url, proc, log)
        out = tmp_path / "rows.json"
        args = ["backfill", str(tmp_path / "ds"), "--model", "m", "--version", "1"]
        assert main([*args, "--url", url, "--key", key, "--out", str(out)]) == 0
        assert main([*args, "--url", url, "--key", key, "--window", "1d"]) == 0  # again: no-op
        mine = {
            r["window_start"]: r
            for r in json.loads(out.read_text())["rows"]
            if r["column"] == "x" and r["metric"] == "jensen_shannon"
        }
        assert len(mine) == 3
        headers = {"Authorization": f"Bearer {key}"}
        params = {"column": "x", "metric": "jensen_shannon", "since": "2026-04-30T00:00:00Z"}
        deadline = time.monotonic() + 60
        while True:
            got = httpx.get(f"{url}/api/v1/models/m/metrics", params=params, headers=headers)
            theirs = {r["window_start"]: r for r in got.json()["rows"]}
            if len(theirs) == 3 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert theirs == mine  # one answer: the same rows from the collector and --out
        assert [theirs[w]["alert"] for w in sorted(theirs)] == [False, False, True]
        # One series: each day's rows once, whatever the number of backfills.
        assert [theirs[w]["n_cur"] for w in sorted(theirs)] == [4000, 4000, 4000]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
