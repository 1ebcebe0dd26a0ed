"""Rollup tiers: storage per model-column-day, and the 30-day heatmap and series queries
before (1-minute base rows only) and after (7 days of base rows, 30 days of hourly
rollups and daily rollups, as the steady state holds), on DuckDB and PostgreSQL.

Run with sightline's own environment::

    PYTHONPATH=src .venv/bin/python benchmarks/rollups.py \
        [--columns 100] [--days 30] [--postgres postgresql://postgres@127.0.0.1:5432/test]

Rows are written directly through the store: one ``jensen_shannon`` row per column per
1-minute window (what the heatmap reads) and one model-level ``drift_share`` row (a
series). Hourly and daily rollups are made by the store's own rollup statement
(``Store.write_rollup``) from the base rows, then the base rows older than 7 days are
deleted (``Store.enforce_tier_retention``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from sightline.store import Store, open_store
from sightline.store import dashboard as q
from sightline.store.rollups import RollupKey

PROJECT, MODEL, VERSION = "default", "credit", "1"
END = datetime(2026, 2, 1)
KEEP_BASE = timedelta(days=7)


def fill_base(store: Store, columns: int, days: int) -> None:
    """``days`` of 1-minute rows ending at END, one day per insert."""
    rng = np.random.default_rng(0)
    names = [f"c{i:03d}" for i in range(columns)] + [""]
    metrics = ["jensen_shannon"] * columns + ["drift_share"]
    for day in range(days):
        start = END - timedelta(days=days - day)
        starts = np.array([start + timedelta(minutes=m) for m in range(1440)], "datetime64[us]")
        n = len(starts) * len(names)
        table = pa.table(
            {
                "project": [PROJECT] * n,
                "model": [MODEL] * n,
                "version": [VERSION] * n,
                "window_start": pa.array(np.repeat(starts, len(names))),
                "window_end": pa.array(np.repeat(starts + np.timedelta64(60, "s"), len(names))),
                "column_name": names * len(starts),
                "metric": metrics * len(starts),
                "value": rng.uniform(0, 0.3, n),
                "lower_bound": pa.nulls(n, pa.float64()),
                "upper_bound": np.full(n, 0.1),
                "alert": rng.random(n) < 0.01,
                "n_ref": np.full(n, 3000),
                "n_cur": np.full(n, 500),
                "method": ["jensen_shannon on reference histograms"] * n,
                "p_value": pa.nulls(n, pa.float64()),
                "kind": ["drift"] * n,
                "computed_at": pa.array(np.repeat(starts, len(names))),
            }
        )
        store.insert_rows("metric_rows", table)


def roll(store: Store, days: int) -> None:
    for tier in (3600, 86400):
        for k in range(days * 86400 // tier):
            start = END - timedelta(days=days) + timedelta(seconds=k * tier)
            key = RollupKey(MODEL, VERSION, tier, start, "drift")
            store.write_rollup(
                PROJECT, key, f"rollup:{tier}:drift", "bench", exact=None, computed_at=END
            )


def sizes(store: Store) -> dict[str, int]:
    """Bytes of each metric table (PostgreSQL: with its indexes; DuckDB: its blocks)."""
    if store.dialect == "postgresql":
        return {
            t: int(store._read(f"SELECT pg_total_relation_size('{t}')")[0][0])
            for t in ("metric_rows", "metric_rollups")
        }
    store._read("CHECKPOINT")
    found = store._read("SELECT table_name, estimated_size, column_count FROM duckdb_tables()")
    total = int(store._read("SELECT used_blocks * block_size FROM pragma_database_size()")[0][0])
    rows = {t: int(n) for t, n, _ in found if t in ("metric_rows", "metric_rollups")}
    counts = {t: int(store._read(f"SELECT count(*) FROM {t}")[0][0]) for t in rows}
    share = sum(counts.values()) or 1
    return {t: total * counts[t] // share for t in rows}  # the file's bytes, by row share


def timed(call: Any, repeat: int = 7) -> float:
    call()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def queries(store: Store, columns: int) -> dict[str, float]:
    since = END - timedelta(days=30)
    names = [f"c{i:03d}" for i in range(columns)]
    return {
        "heatmap 30 d (step 1 h)": timed(
            lambda: q.column_grid(
                store, PROJECT, MODEL, VERSION, metrics=["jensen_shannon"], columns=names,
                since=since, until=END, step=3600,
            )
        ),
        "series 30 d (step 1 h)": timed(
            lambda: q.model_series(
                store, PROJECT, MODEL, VERSION, metrics=["drift_share"], since=since, until=END,
                step=3600,
            )
        ),
        "metric_rows 30 d max_points=1000": timed(
            lambda: store.metric_rows(
                PROJECT, MODEL, since=since, until=END, metric="jensen_shannon", max_points=1000
            )
        ),
    }  # fmt: skip


def run(location: str, columns: int, days: int) -> None:
    store = open_store(location)
    try:
        began = time.perf_counter()
        fill_base(store, columns, days)
        store.optimize()
        if store.dialect == "postgresql":
            with store._write() as tx:
                tx.execute("ANALYZE metric_rows")
        print(f"  filled {days} d x {columns} columns in {time.perf_counter() - began:.0f} s")
        before = queries(store, columns)
        base = sizes(store)["metric_rows"]
        roll(store, days)
        store.enforce_tier_retention(KEEP_BASE, {}, END)
        store.optimize()
        if store.dialect == "postgresql":
            with store._write() as tx:
                tx.execute("ANALYZE metric_rows")
                tx.execute("ANALYZE metric_rollups")
        after = queries(store, columns)
        now = sizes(store)
        hourly = int(
            store._read("SELECT count(*) FROM metric_rollups WHERE tier_seconds = 3600")[0][0]
        )
        daily = int(
            store._read("SELECT count(*) FROM metric_rollups WHERE tier_seconds = 86400")[0][0]
        )
        series = columns + 1
        per_row_rollup = now["metric_rollups"] / max(hourly + daily, 1)
        per_base_day = base / (series * days)
        per_hour_day = per_row_rollup * 24
        per_day_day = per_row_rollup
        steady = 7 * per_base_day + 90 * per_hour_day + 400 * per_day_day
        print(f"  load average {os.getloadavg()}")
        print(f"  base rows: {per_base_day:,.0f} B per model-column-day")
        print(f"  rollups: {per_row_rollup:,.0f} B per row ({hourly} hourly, {daily} daily)")
        print(
            f"  steady state (7 d base, 90 d hourly, 400 d daily): {steady / 1e3:,.0f} kB per "
            f"column, {steady / 400:,.0f} B per model-column-day of the 400 kept "
            f"(base rows for 400 days: {400 * per_base_day / 1e3:,.0f} kB per column)"
        )
        for name in before:
            print(
                f"  {name}: before {before[name] * 1e3:,.1f} ms, after {after[name] * 1e3:,.1f} ms"
            )
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=("duckdb", "postgresql"))
    args = parser.parse_args()
    if args.only != "postgresql":
        folder = tempfile.mkdtemp()
        print(f"DuckDB ({args.columns} columns, {args.days} days)")
        try:
            run(folder, args.columns, args.days)
        finally:
            shutil.rmtree(folder)
    if args.only != "duckdb":
        import psycopg

        name = f"rollup_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        print(f"PostgreSQL ({args.columns} columns, {args.days} days)")
        try:
            run(args.postgres.rsplit("/", 1)[0] + f"/{name}", args.columns, args.days)
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
