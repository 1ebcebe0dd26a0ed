"""The dashboard's endpoints: p50/p95 of each page's calls, on DuckDB and PostgreSQL.

Run with sightline's own environment::

    .venv/bin/python benchmarks/dashboard.py [--requests 100] [--only duckdb|postgresql] \
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

The store is filled directly before the collector starts, as the scheduler and the SDK
would have filled it: a model of 100 numeric columns with 30 days of 1-minute windows
(drift and quality rows of every column, drift share, health, realized and estimated
performance rows: 8.9M ``metric_rows``), then the steady state of the rollup tiers: the
hourly and daily rollups of every closed tier window of each kind (``Store.write_rollup``)
and the base rows older than 7 days deleted (``Store.enforce_tier_retention``); two
instances that sent a heartbeat every 30 s for 30 days, two profiles per window (binned on
the reference) for the last day, and the reference profile. The collector (``sightline serve --schedule-every 0``) runs as a
subprocess on loopback; one client calls each endpoint in sequence, the way each page
calls them, with the pages' own parameters (the model page at its default 24 h and at
30 days).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from ingest import Collector, _load, _quantile, _vacuum, fresh_database, sequential

PROJECT = "default"
MODEL = "credit"
COLUMNS = 100
DAYS = 30
PER_DAY = 1440
INSTANCES = 2
HEARTBEAT_EVERY = 30
KEEP_BASE = timedelta(days=7)
TIERS = (3600, 86400)
KINDS = ("drift", "quality", "health", "performance")
TS = pa.timestamp("us")
NAMES = [f"c{i:03d}" for i in range(COLUMNS)]


def _rows(
    starts: np.ndarray, columns: Sequence[str], metric: str, kind: str, rng: Any, **value: Any
) -> pa.Table:
    """Metric rows of ``metric`` for every (window start, column), as the store keeps them."""
    n = starts.size * len(columns)
    start = np.repeat(starts, len(columns))
    values = value.get("values", rng.beta(1, 30, n))
    upper = value.get("upper", 0.1)
    return pa.table(
        {
            "project": pa.array([PROJECT] * n, pa.string()),
            "model": pa.array([MODEL] * n, pa.string()),
            "version": pa.array(["1"] * n, pa.string()),
            "window_start": pa.array(start, TS),
            "window_end": pa.array(start + np.timedelta64(1, "m"), TS),
            "column_name": pa.array(np.tile(np.array(columns, object), starts.size), pa.string()),
            "metric": pa.array([metric] * n, pa.string()),
            "value": pa.array(values, pa.float64()),
            "lower_bound": pa.array(np.full(n, value.get("lower", np.nan)), pa.float64()),
            "upper_bound": pa.array(np.full(n, upper), pa.float64()),
            "alert": pa.array(values > upper, pa.bool_()),
            "n_ref": pa.array(np.full(n, 100_000), pa.int64()),
            "n_cur": pa.array(np.full(n, 1200), pa.int64()),
            "method": pa.array([metric] * n, pa.string()),
            "p_value": pa.nulls(n, pa.float64()),
            "kind": pa.array([kind] * n, pa.string()),
            "computed_at": pa.array(start + np.timedelta64(2, "m"), TS),
        }
    )


def preload(location: str, end: datetime) -> str:
    """Fill a new store at ``location`` (see the module's docstring); return an admin key."""
    from sightline.profile import Column, Profile, Schema
    from sightline.store import open_store

    rng = np.random.default_rng(0)
    schema = Schema(tuple(Column(n) for n in NAMES))
    data = {n: rng.normal(0, 1, 5000) for n in NAMES}
    reference = Profile.from_data(data)
    store = open_store(location)
    try:
        admin = store.create_key(PROJECT, "admin")
        store.register_version(PROJECT, MODEL, "1", schema.to_dict())
        store.set_reference(PROJECT, MODEL, "1", reference.to_bytes())
        first = np.datetime64(end - timedelta(days=DAYS), "us")
        for day in range(DAYS):
            starts = first + np.arange(day * PER_DAY, (day + 1) * PER_DAY).astype("timedelta64[m]")
            for table in (
                _rows(starts, NAMES, "jensen_shannon", "drift", rng),
                _rows(starts, NAMES, "missing_share", "quality", rng, upper=0.05),
                _rows(starts, ["", ""], "drift_share", "drift", rng, upper=0.5),
                _health(starts, rng),
            ):
                store.insert_rows("metric_rows", table)
        steady_state(store, end)
        _heartbeats(store, first)
        _profiles(store, end, reference, rng)
    finally:
        store.close()
    return admin


def steady_state(store: Any, end: datetime) -> None:
    """Roll every closed tier window of the 30 days up (each tier and kind, as the rollup
    jobs would), then delete the base rows older than 7 days that a rollup holds."""
    from sightline.store.rollups import RollupKey

    epoch = datetime(1970, 1, 1)
    first = (end - timedelta(days=DAYS) - epoch).total_seconds()
    for tier in TIERS:
        start = epoch + timedelta(seconds=-(-first // tier) * tier)  # the first whole window
        while start + timedelta(seconds=tier) <= end:
            for kind in KINDS:
                key = RollupKey(MODEL, "1", tier, start, kind)
                store.write_rollup(
                    PROJECT, key, f"rollup:{tier}:{kind}", "bench", exact=None, computed_at=end
                )
            start += timedelta(seconds=tier)
    store.enforce_tier_retention(KEEP_BASE, {}, end)


def _health(starts: np.ndarray, rng: Any) -> pa.Table:
    parts = []
    for metric, kind, center in (
        ("throughput", "health", 20.0),
        ("predictions", "health", 1200.0),
        ("latency_p50_ms", "health", 12.0),
        ("latency_p95_ms", "health", 35.0),
        ("latency_p99_ms", "health", 60.0),
        ("error_rate", "health", 0.002),
        ("accuracy", "performance", 0.9),
        ("estimated_accuracy", "performance", 0.9),
        ("label_coverage", "performance", 0.4),
    ):
        values = center * rng.uniform(0.9, 1.1, starts.size)
        parts.append(
            _rows(starts, [""], metric, kind, rng, values=values, upper=center * 1.2, lower=0.0)
        )
    return pa.concat_tables(parts)


def _heartbeats(store: Any, first: np.datetime64) -> None:
    beats = np.arange(0, DAYS * 86400, HEARTBEAT_EVERY)
    ts = first + np.repeat(beats, INSTANCES).astype("timedelta64[s]")
    n = ts.size
    instance = np.tile(np.array([f"pod-{i}" for i in range(INSTANCES)], object), beats.size)
    store.insert_rows(
        "heartbeats",
        pa.table(
            {
                "project": pa.array([PROJECT] * n, pa.string()),
                "model": pa.array([MODEL] * n, pa.string()),
                "version": pa.array(["1"] * n, pa.string()),
                "instance": pa.array(instance, pa.string()),
                "host": pa.array(instance, pa.string()),
                "pid": pa.array(np.full(n, 7), pa.int64()),
                "started_at": pa.array(np.full(n, first), TS),
                "ts": pa.array(ts, TS),
                "dropped": pa.array(np.zeros(n, np.int64), pa.int64()),
            }
        ),
    )


def _profiles(store: Any, end: datetime, reference: Any, rng: Any) -> None:
    """Two profiles per 1-minute window of the last day, binned on the reference (one
    payload, reused: the endpoints read and merge them as they would any)."""
    from sightline.profile import Profile
    from sightline.store.migrations import LATENCY_COLUMNS

    window = {n: rng.normal(0.2, 1, 600) for n in NAMES}
    profile = Profile.from_data(window, reference, model=MODEL, version="1")
    profile.record_latency(rng.gamma(2.0, 6.0, 600))
    payload = profile.to_bytes()
    starts = np.datetime64(end - timedelta(days=1), "us") + np.repeat(
        np.arange(PER_DAY), INSTANCES
    ).astype("timedelta64[m]")
    n = starts.size
    instance = np.tile(np.array([f"pod-{i}" for i in range(INSTANCES)], object), PER_DAY)
    latency = profile.latency.to_bytes()
    buckets = {
        name: pa.array(np.full(n, int(c)), pa.int64())
        for name, c in zip(LATENCY_COLUMNS, profile.latency_buckets, strict=True)
    }
    table = {
        "project": pa.array([PROJECT] * n, pa.string()),
        "model": pa.array([MODEL] * n, pa.string()),
        "version": pa.array(["1"] * n, pa.string()),
        "instance": pa.array(instance, pa.string()),
        "window_start": pa.array(starts, TS),
        "window_end": pa.array(starts + np.timedelta64(1, "m"), TS),
        "idempotency_key": pa.array([uuid.uuid4().hex for _ in range(n)]),
        "n_rows": pa.array(np.full(n, 600), pa.int64()),
        "n_predictions": pa.array(np.full(n, 600), pa.int64()),
        "n_errors": pa.array(rng.integers(0, 3, n), pa.int64()),
        "latency": pa.array([latency] * n, pa.binary()),
        "payload": pa.array([payload] * n, pa.binary()),
        "received_at": pa.array(starts + np.timedelta64(1, "m"), TS),
    }
    store.insert_rows("profiles", pa.table(table | buckets))


class Started(Collector):
    """The benchmarks' collector process, given up to 15 minutes to start: it sorts the
    metric rows by series first (DuckDB), which takes minutes on a loaded machine."""

    def __enter__(self) -> Started:
        import contextlib
        import subprocess

        import httpx

        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the collector exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.5)
        raise RuntimeError(f"the collector did not start: {self.log.read_text()[-2000:]}")


def pages(end: datetime) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(page, label, path, parameters) of every call the pages make."""
    base = f"/api/v1/models/{MODEL}/versions/1"
    day = {"since": (end - timedelta(days=1)).isoformat(), "until": end.isoformat()}
    month = {"since": (end - timedelta(days=DAYS)).isoformat(), "until": end.isoformat()}
    return [
        ("overview", "overview", "/api/v1/overview", {}),
        ("model (24 h)", "series", f"{base}/series", day),
        ("model (24 h)", "heatmap", f"{base}/heatmap", day),
        ("model (24 h)", "quality", f"{base}/quality", {}),
        ("model (24 h)", "generation", f"{base}/generation", day),
        ("model (24 h)", "alerts", "/api/v1/alerts", {"model": MODEL}),
        ("model (24 h)", "alert history", "/api/v1/alerts/history", {"model": MODEL, "limit": 200}),
        ("model (30 d)", "series", f"{base}/series", month),
        ("model (30 d)", "heatmap", f"{base}/heatmap", month),
        ("model (30 d)", "generation", f"{base}/generation", month),
        ("column", "distribution", f"{base}/distribution", {"column": "c{c:03d}"}),
        ("column", "statistic, 24 h", f"{base}/statistic", {"column": "c{c:03d}", **day}),
        ("alerts", "alerts", "/api/v1/alerts", {}),
        ("alerts", "history", "/api/v1/alerts/history", {"limit": 200}),
    ]


def run(name: str, where: Sequence[str], location: str, log: Path, n: int) -> list[dict[str, Any]]:
    """Preload the store at ``location``, start a collector, time every page's calls."""
    import httpx

    end = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
    t = time.perf_counter()
    admin = preload(location, end)
    if location.startswith("postgresql"):
        _vacuum(location)
    print(f"{name}: preloaded in {time.perf_counter() - t:.0f} s", flush=True)
    out = []
    t = time.perf_counter()
    with Started([*where, "--schedule-every", "0"], log) as server:
        print(f"{name}: the collector started in {time.perf_counter() - t:.0f} s", flush=True)
        keys = server.keys(admin, "read", 2)
        for page, label, path, params in pages(end):

            def get(http: Any, i: int, path: str = path, params: dict[str, Any] = params) -> Any:
                given = {k: str(v).format(c=i % COLUMNS) for k, v in params.items()}
                return http.get(path, params=given)

            with httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {keys[0]}"}, timeout=120
            ) as http:
                probe = get(http, 0)
            probe.raise_for_status()
            lat = sequential(server.url, keys, [get], n)
            row = {
                "store": name,
                "page": page,
                "call": label,
                "kb": len(probe.content) / 1024,
                "requests": len(lat),
                "p50_ms": 1e3 * _quantile(lat, 0.5),
                "p95_ms": 1e3 * _quantile(lat, 0.95),
            }
            print(
                f"  {page} {label}: p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms "
                f"({row['kb']:.0f} KB); load {_load()}",
                flush=True,
            )
            out.append(row)
    return out


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| store | page | call | answer KB | requests | p50 ms | p95 ms |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        mark = "" if r["p95_ms"] < 50 else " (over 50)"
        lines.append(
            f"| {r['store']} | {r['page']} | {r['call']} | {r['kb']:.0f} | {r['requests']} | "
            f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f}{mark} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="requests of each call")
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server (optional)")
    parser.add_argument("--only", choices=("duckdb", "postgresql"), help="one store only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="sightline-bench-dashboard-"))
    print(f"load average before: {_load()} (2 cores); logs in {tmp}", flush=True)
    rows: list[dict[str, Any]] = []
    try:
        if args.only != "postgresql":
            loc = str(tmp / "duckdb")
            rows += run("DuckDB", ["--data", loc], loc, tmp / "duckdb.log", args.requests)
        if args.postgres and args.only != "duckdb":
            with fresh_database(args.postgres) as url:
                rows += run("PostgreSQL", ["--store", url], url, tmp / "pg.log", args.requests)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nload average after: {_load()}\n")
    print(table(rows))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
