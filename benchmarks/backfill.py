"""Backfill throughput: 10M rows x 25 columns in Parquet, locally vs a 2-worker LocalCluster.

Run with sightline's own environment (Dask is in the ``dask`` extra)::

    .venv/bin/python benchmarks/backfill.py [--rows 10000000] [--files 40]

Writes a data set partitioned by day (``--files`` Parquet files of 20 numeric and 5
categorical columns plus a timestamp spread over 10 days) once, then times
``sightline.scheduler.backfill.backfill`` (map files to per-window profiles, tree-merge)
plus the drift, quality and health rows of every window: in this process, and on a
``LocalCluster(n_workers=2, threads_per_worker=1)`` started before the timing. Prints rows/s.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

T0 = datetime(2026, 1, 1)
DAYS = 10


def write_dataset(root: Path, rows: int, files: int) -> None:
    rng = np.random.default_rng(0)
    per = rows // files
    for f in range(files):
        day = f * DAYS // files
        seconds = rng.integers(0, 86400, per)
        columns = {
            "timestamp": pa.array(
                (np.datetime64(T0 + timedelta(days=day)) + seconds.astype("timedelta64[s]")).astype(
                    "datetime64[us]"
                )
            ),
            **{f"num{j}": rng.normal(0.1 * (day >= 8), 1, per) for j in range(20)},
            **{
                f"cat{j}": pa.array(rng.choice(["a", "b", "c", "d"], per)).dictionary_encode()
                for j in range(5)
            },
        }
        folder = root / f"day={day}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(columns), folder / f"part-{f}.parquet")


def reference_bytes(root: Path) -> bytes:
    from sightline.analysis.profiling import profile_data

    first = next(iter(sorted(root.rglob("*.parquet"))))
    table = pq.read_table(first).drop(["timestamp"]).slice(0, 100_000)
    return profile_data(table, model="bench", version="1").to_bytes()


def run(files: list[str], spec: object, client: object = None) -> tuple[float, int]:
    from sightline.scheduler import backfill as bf

    start = time.perf_counter()
    merged = bf.backfill(files, spec, client=client)  # type: ignore[arg-type]
    n_rows = 0
    for w, payload in merged.items():
        n_rows += sum(len(rows) for _, rows in bf.window_rows("p", spec, w, payload))  # type: ignore[arg-type]
    return time.perf_counter() - start, n_rows


def _warm_up() -> None:
    import sightline.scheduler.backfill  # noqa: F401


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--window", type=int, default=86400)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    from sightline.scheduler import backfill as bf

    with tempfile.TemporaryDirectory(prefix="sl-backfill-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        write_dataset(root, args.rows, args.files)
        print(f"wrote {args.rows:,} rows in {args.files} files in {time.perf_counter() - t:.1f} s")
        spec = bf.BackfillSpec("bench", "1", reference_bytes(root), "timestamp", args.window)
        files = bf.parquet_files(root)
        local_s, n_metric = run(files, spec)
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            client.run(_warm_up)  # workers up, sightline imported, before the timing
            dask_s, _ = run(files, spec, client)
    print(f"load average: {os.getloadavg()[0]:.2f}")
    print("| run | seconds | rows/s | metric rows |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| local (1 process) | {local_s:.1f} | {args.rows / local_s:,.0f} | {n_metric} |")
    print(f"| LocalCluster, 2 workers | {dask_s:.1f} | {args.rows / dask_s:,.0f} | {n_metric} |")


if __name__ == "__main__":
    main()
