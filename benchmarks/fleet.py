"""A simulated fleet: the scheduler pass of one 1-minute window, and the 30-day store.

One command (sightline's own environment; PostgreSQL on 127.0.0.1:5432 for ``postgres``)::

    .venv/bin/python benchmarks/fleet.py --versions 100 300 1000 --columns 50 \
        --store duckdb postgres [--days 30] [--series-models 1]

The pass: ``--versions`` model versions (one model each, 1-minute windows, lateness 0),
each with an uploaded reference (``--columns`` columns, half numeric, half categorical);
2 profiles per version per minute (instances ``i1`` and ``i2``) stored directly through
the store, as ingest stores them (ingest's speed is ``ingest.py``'s). A first window is
scheduled untimed (warm-up: the history reads then find rows); then the next window's
profiles are stored and the time from its close to all its jobs' rows being stored is
measured: ``Scheduler.run_once`` at the close on DuckDB (one collector), and two
processes with leases on PostgreSQL (2 replicas), with a breakdown of the one-collector
pass (plan, load, compute, write).

The 30-day store: base rows only, written directly into ``metric_rows`` (not through the
rollup tiers, whose steady state ``rollups.py`` and ``dashboard.py`` measure):
``--series-models`` models with every 1-minute window of ``--days`` days holding the rows
a real pass wrote for one window (the pass's own rows, re-dated). Prints the size on disk
per model and the p95 of the 30-day series query ``Store.metric_rows(..., max_points=1000)``
of one model (20 runs, one column's drift series, and the whole model): the cost of a
series that no coarser tier serves.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/profile.py would shadow the standard library's ``profile`` (which cProfile imports).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import cProfile
import multiprocessing as mp
import os
import pstats
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

PROJECT = "p"
T0 = datetime(2026, 1, 1)
MINUTE = timedelta(minutes=1)
INSTANCES = ("i1", "i2")
ADMIN = os.environ.get("SIGHTLINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _data(rng: np.random.Generator, n: int, columns: int, shift: float) -> pa.Table:
    half = columns // 2
    out: dict[str, Any] = {f"num{j}": rng.normal(shift, 1, n) for j in range(half)}
    cats = [f"c{k}" for k in range(8)]
    out |= {f"cat{j}": rng.choice(cats, n) for j in range(columns - half)}
    return pa.table(out)


class Fleet:
    """Profile templates of one column count, re-labelled for every version and window
    (profiling the data once: the pass, not the SDK, is measured)."""

    def __init__(self, columns: int) -> None:
        from sightline.analysis.profiling import profile_data

        rng = np.random.default_rng(0)
        self.reference = profile_data(_data(rng, 5000, columns, 0.0))
        self.windows = [
            profile_data(
                _data(rng, 1000, columns, 0.3 * (k == 2)),
                reference=self.reference,
                instance_id=INSTANCES[k % 2],
            ).record_latency(rng.gamma(2, 5, 1000), n_errors=k)
            for k in range(4)
        ]

    def register(self, store: Any, versions: int) -> None:
        from sightline.store.scheduling import ModelSettings

        for m in range(versions):
            model = f"m{m:04d}"
            self.reference.model, self.reference.version = model, "1"
            store.register_version(PROJECT, model, "1", self.reference.schema.to_dict())
            store.set_reference(PROJECT, model, "1", self.reference.to_bytes())
            store.set_model_settings(PROJECT, model, ModelSettings(window=60, lateness=0))

    def window(self, store: Any, versions: int, w: int) -> None:
        """Store the 2 profiles of every version for window ``w`` (one insert)."""
        from sightline.store.records import profile_record

        start = (T0 + w * MINUTE).replace(tzinfo=UTC)
        parts = []
        for m in range(versions):
            model = f"m{m:04d}"
            for i in range(2):
                p = self.windows[(w + i + m) % 4 if i == 0 else 3 - (w + m) % 2 * 2]
                p.model, p.version, p.window_start, p.window_end = model, "1", start, start + MINUTE
                p.instance_ids = (INSTANCES[i],)
                key = f"{model}-{w}-{i}"
                parts.append(profile_record(PROJECT, p, p.to_bytes(), key, start + MINUTE))
        store.insert_rows("profiles", pa.concat_tables(parts))


@contextmanager
def location(kind: str, tmp: Path) -> Iterator[str]:
    """A fresh DuckDB directory or PostgreSQL database, dropped afterwards."""
    if kind == "duckdb":
        path = tmp / f"duck-{uuid.uuid4().hex[:6]}"
        try:
            yield str(path)
        finally:
            shutil.rmtree(path, ignore_errors=True)
        return
    import psycopg

    name = f"sightline_fleet_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{ADMIN.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _replica(url: str, name: str, now: datetime, go: Any, out: Any) -> None:
    from sightline.scheduler import Scheduler
    from sightline.scheduler.leasing import Replica
    from sightline.store import open_store

    store = open_store(url)
    try:
        go.wait()
        report = Scheduler(store, replica=Replica(store, name)).run_once(now)
        out.put((name, report.written, time.perf_counter()))
    finally:
        store.close()


def run_replicas(url: str, now: datetime, n: int) -> tuple[float, int]:
    """Seconds for ``n`` replica processes to run every job due at ``now``, and the jobs."""
    ctx = mp.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_replica, args=(url, f"r{k}", now, go, out)) for k in range(n)]
    for proc in procs:
        proc.start()
    time.sleep(3.0)  # let them import and connect: the window "closes" at go
    began = time.perf_counter()
    go.set()
    done = [out.get(timeout=3600) for _ in procs]
    for proc in procs:
        proc.join()
    return max(t for _, _, t in done) - began, sum(w for _, w, _ in done)


class Breakdown:
    """Cumulative seconds of the pass's steps (plan, load, compute, write)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def patched(self) -> Iterator[None]:
        from sightline.scheduler import jobs, runner

        originals = {
            "plan": (runner, "plan"),
            "load": (jobs, "load"),
            "compute": (jobs, "compute"),
            "write": (jobs, "write_jobs"),
        }
        saved = {name: getattr(mod, attr) for name, (mod, attr) in originals.items()}

        def timed(name: str) -> Any:
            def call(*args: Any, **kwargs: Any) -> Any:
                began = time.perf_counter()
                try:
                    return saved[name](*args, **kwargs)
                finally:
                    self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - began

            return call

        for name, (mod, attr) in originals.items():
            setattr(mod, attr, timed(name))
        try:
            yield
        finally:
            for name, (mod, attr) in originals.items():
                setattr(mod, attr, saved[name])


def one_pass(store: Any, now: datetime, profile: Path | None) -> tuple[float, int, Breakdown]:
    """Seconds of one pass at ``now`` (its CPU seconds in ``breakdown.seconds["cpu"]``)."""
    from sightline.scheduler import Scheduler

    breakdown = Breakdown()
    profiler = cProfile.Profile() if profile else None
    with breakdown.patched():
        began, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        report = Scheduler(store).run_once(now)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - began
        breakdown.seconds["cpu"] = time.process_time() - cpu
    if profiler and profile:
        profiler.dump_stats(profile)
        pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(25)
    return seconds, report.written, breakdown


def bench_pass(kind: str, versions: int, columns: int, tmp: Path, profile: bool) -> dict[str, Any]:
    from sightline.store import open_store

    fleet = Fleet(columns)
    with location(kind, tmp) as url:
        store = open_store(url)
        try:
            fleet.register(store, versions)
            fleet.window(store, versions, 0)
            warm, _, _ = one_pass(store, T0 + MINUTE, None)
            fleet.window(store, versions, 1)
            if kind == "duckdb":
                path = tmp / f"pass-{versions}.prof" if profile else None
                seconds, jobs, breakdown = one_pass(store, T0 + 2 * MINUTE, path)
                steps = breakdown.seconds
            else:
                store.close()
                seconds, jobs = run_replicas(url, T0 + 2 * MINUTE, 2)
                steps = {}
        finally:
            store.close()
    return {"warm": warm, "seconds": seconds, "jobs": jobs, "steps": steps}


def bench_store(kind: str, columns: int, days: int, models: int, tmp: Path) -> dict[str, Any]:
    """Size on disk and the series query's p95 after ``days`` of 1-minute windows."""
    from sightline.store import open_store

    fleet = Fleet(columns)
    with location(kind, tmp) as url:
        store = open_store(url)
        try:
            fleet.register(store, 1)
            fleet.window(store, 1, 0)
            template = _template(store, T0 + MINUTE)
            per_window = template.num_rows
            empty = _size(store, url)
            windows = days * 1440
            began = time.perf_counter()
            for m in range(models):
                for chunk in range(0, windows, 1440):
                    store.insert_rows("metric_rows", _dated(template, f"s{m}", chunk, 1440))
            filled = time.perf_counter() - began
            store.optimize()
            size = _size(store, url) - empty
            since, until = T0, T0 + timedelta(days=days)
            timings: dict[str, list[float]] = {"one column drift": [], "whole model": []}
            for _ in range(20):
                for name, extra in (
                    ("one column drift", {"column": "num0", "metric": "jensen_shannon"}),
                    ("whole model", {}),
                ):
                    began = time.perf_counter()
                    store.metric_rows(
                        PROJECT, "s0", since=since, until=until, max_points=1000, **extra
                    )
                    timings[name].append(time.perf_counter() - began)
        finally:
            store.close()
    return {
        "rows per window": per_window,
        "rows": per_window * windows * models,
        "fill s": filled,
        "size MB per model": size / models / 1e6,
        "p95 ms": {k: 1000 * float(np.percentile(v, 95)) for k, v in timings.items()},
    }


def _template(store: Any, now: datetime) -> pa.Table:
    """The ``metric_rows`` of every job of model ``m0000`` due at ``now``: one window's."""
    from sightline.scheduler import jobs as j
    from sightline.scheduler import plan

    due = [job for job in plan(store, now) if job.kind != "matrix"]
    return pa.concat_tables(j.rows_table(job, j.compute(j.load(store, job)), now) for job in due)


def _dated(template: pa.Table, model: str, first: int, count: int) -> pa.Table:
    """``template`` (one window's rows) repeated over windows ``first .. first + count``."""
    n = template.num_rows
    out = template.take(pa.array(np.tile(np.arange(n), count)))
    step = np.timedelta64(60, "s")
    starts = np.datetime64(T0, "us") + np.repeat(np.arange(first, first + count), n) * step
    kind = out.schema.field("window_start").type
    cols = {name: out.column(name) for name in out.column_names}
    cols["window_start"] = pa.array(starts, type=pa.timestamp("us")).cast(kind)
    cols["window_end"] = pa.array(starts + step, type=pa.timestamp("us")).cast(kind)
    cols["model"] = pa.array([model] * out.num_rows, type=out.schema.field("model").type)
    return pa.table(cols, schema=out.schema)


def _size(store: Any, url: str) -> int:
    if url.startswith("postgresql"):
        return int(store._read("SELECT pg_database_size(current_database())")[0][0])
    return sum(f.stat().st_size for f in Path(url).rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--columns", type=int, nargs="+", default=[50])
    parser.add_argument("--store", nargs="+", default=["duckdb", "postgres"])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--series-models", type=int, default=1)
    parser.add_argument("--no-series", action="store_true", help="skip the 30-day store")
    parser.add_argument("--profile", action="store_true", help="cProfile the DuckDB pass")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sightline-fleet-"))
    try:
        print(
            "| store | versions | columns | jobs | window close -> rows stored, s | "
            "CPU s | plan / load / compute / write s | warm-up pass s | load average |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |", flush=True)
        for kind in args.store:
            for columns in args.columns:
                for versions in args.versions:
                    r = bench_pass(kind, versions, columns, tmp, args.profile)
                    steps = (
                        " / ".join(
                            f"{r['steps'].get(k, 0):.1f}"
                            for k in ("plan", "load", "compute", "write")
                        )
                        if r["steps"]
                        else "(2 replicas)"
                    )
                    label = "DuckDB, 1 collector" if kind == "duckdb" else "PostgreSQL, 2 replicas"
                    cpu = f"{r['steps']['cpu']:.1f}" if r["steps"] else "-"
                    print(
                        f"| {label} | {versions} | {columns} | {r['jobs']} | {r['seconds']:.1f} "
                        f"| {cpu} "
                        f"| {steps} | {r['warm']:.1f} | {os.getloadavg()[0]:.1f} |",
                        flush=True,
                    )
        if args.no_series:
            return
        print(
            "\n| store | days | rows per window | rows | size on disk per model, MB | "
            "p95 one column's drift, ms | p95 whole model, ms | load average |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", flush=True)
        for kind in args.store:
            s = bench_store(kind, args.columns[0], args.days, args.series_models, tmp)
            p95 = s["p95 ms"]
            print(
                f"| {kind} | {args.days} | {s['rows per window']} | {s['rows']:,} | "
                f"{s['size MB per model']:.0f} | {p95['one column drift']:.0f} | "
                f"{p95['whole model']:.0f} | {os.getloadavg()[0]:.1f} |",
                flush=True,
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
