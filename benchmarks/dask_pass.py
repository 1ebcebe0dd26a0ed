"""A scheduler pass over a backlog: in the collector's process, and on 1 and 2 Dask workers.

Run with sightline's own environment (Dask is in the ``dask`` extra; about 3 minutes)::

    .venv/bin/python benchmarks/dask_pass.py [--models 12] [--windows 12] [--columns 40]

(Not ``dask.py``: run as a script, that name would shadow the ``dask`` package.)

Builds one DuckDB store with a backlog: ``--models`` versions with a reference, each
``--windows`` closed 1-hour windows of profiles from 2 instances (``--columns`` numeric and
categorical columns, 2,000 rows a profile). Copies of it are then scheduled from scratch
(``Scheduler.run_once`` until nothing is due): in this process, and with a ``dask.distributed``
``LocalCluster(n_workers=k, threads_per_worker=1)`` for k = 1 and 2, started before the
timing. Also timed on the same inputs: the compute step alone (``jobs.compute`` of every
drift, quality and health job, mapped over the workers), which is what Dask spreads; loading
inputs and writing rows stay in the collector. Prints one table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

T0 = datetime(2026, 1, 1)
HOUR = timedelta(hours=1)


def _data(rng: np.random.Generator, n: int, columns: int, shift: float) -> pa.Table:
    half = columns // 2
    out: dict[str, Any] = {f"num{j}": rng.normal(shift, 1, n) for j in range(half)}
    out |= {f"cat{j}": rng.choice(["a", "b", "c", "d", "e"], n) for j in range(columns - half)}
    return pa.table(out)


def build(path: Path, models: int, windows: int, columns: int) -> None:
    """The backlog's store at ``path``."""
    from sightline.analysis.profiling import profile_data
    from sightline.store import open_store
    from sightline.store.records import profile_record

    rng = np.random.default_rng(0)
    store = open_store(path)
    try:
        parts = []
        for m in range(models):
            model = f"m{m}"
            reference = profile_data(_data(rng, 5000, columns, 0.0), model=model, version="1")
            store.register_version("p", model, "1", reference.schema.to_dict())
            store.set_reference("p", model, "1", reference.to_bytes())
            for w in range(windows):
                start = (T0 + w * HOUR).replace(tzinfo=UTC)
                for instance in ("i1", "i2"):
                    p = profile_data(
                        _data(rng, 2000, columns, 0.3 * (w % 4 == 3)),
                        reference=reference,
                        model=model,
                        version="1",
                        instance_id=instance,
                        window_start=start,
                        window_end=start + HOUR,
                    )
                    key = f"{model}-{w}-{instance}"
                    parts.append(profile_record("p", p, p.to_bytes(), key, T0))
        store.insert_rows("profiles", pa.concat_tables(parts))
    finally:
        store.close()


def schedule(source: Path, work: Path, client: Any) -> tuple[float, int]:
    """Seconds to schedule a copy of ``source`` from scratch, and the jobs run."""
    from sightline.scheduler import Scheduler
    from sightline.store import open_store

    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(source, work)
    store = open_store(work)
    try:
        start, jobs = time.perf_counter(), 0
        now = T0 + 30 * 24 * HOUR
        while planned := Scheduler(store, client=client).run_once(now).planned:
            jobs += planned
        return time.perf_counter() - start, jobs
    finally:
        store.close()


def compute_only(source: Path, client: Any) -> float:
    """Seconds to compute every profile job of ``source`` (inputs loaded beforehand)."""
    from sightline.scheduler import jobs as j
    from sightline.scheduler import plan
    from sightline.store import open_store

    store = open_store(source)
    try:
        inputs = [j.load(store, job) for job in plan(store, T0 + 30 * 24 * HOUR)]
    finally:
        store.close()
    start = time.perf_counter()
    if client is None:
        [j.compute(i) for i in inputs]
    else:
        futures = client.scatter(inputs)  # the inputs' transfer is not the computing
        client.gather(client.map(j.compute, futures, pure=False))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=12)
    parser.add_argument("--windows", type=int, default=12)
    parser.add_argument("--columns", type=int, default=40)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    tmp = Path(tempfile.mkdtemp(prefix="sightline-dask-"))
    try:
        source = tmp / "source"
        started = time.perf_counter()
        build(source, args.models, args.windows, args.columns)
        print(f"backlog built in {time.perf_counter() - started:.1f} s", flush=True)
        rows = []
        for workers in (0, 1, 2):
            print(f"load average {os.getloadavg()[0]:.1f}; workers {workers} ...", flush=True)
            if workers == 0:
                seconds, jobs = schedule(source, tmp / "work", None)
                alone = compute_only(source, None)
            else:
                with (
                    LocalCluster(
                        n_workers=workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=":0",
                    ) as cluster,
                    Client(cluster) as client,
                ):
                    seconds, jobs = schedule(source, tmp / "work", client)
                    alone = compute_only(source, client)
            rows.append((workers, jobs, seconds, alone))
            print(f"  {jobs} jobs in {seconds:.1f} s; compute alone {alone:.1f} s", flush=True)
        base = {w: (s, a) for w, _, s, a in rows}
        print("\n| Dask workers | jobs | pass s | speed-up vs 1 worker | compute s | speed-up |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for workers, jobs, seconds, alone in rows:
            label = "none (in process)" if workers == 0 else str(workers)
            pass_ratio = base[1][0] / seconds
            compute_ratio = base[1][1] / alone
            print(
                f"| {label} | {jobs} | {seconds:.1f} | {pass_ratio:.2f}x | {alone:.1f} | "
                f"{compute_ratio:.2f}x |"
            )
        print(f"\nload average after: {os.getloadavg()[0]:.1f} (2 cores)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
