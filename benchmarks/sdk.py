"""The SDK's cost in the serving process: sightline vs whylogs vs prometheus-client.

Run with whylogs' environment (``bash benchmarks/setup_whylogs.sh``; it also installs
prometheus-client), the collector from sightline's own ``.venv``::

    benchmarks/.venv-whylogs/bin/python benchmarks/sdk.py [--rows 200000] [--soak 600]

or sightline's row alone, without whylogs' environment::

    .venv/bin/python benchmarks/sdk.py --only-sightline --soak 0

Measured in one run, on the same 25-feature rows (20 numbers, 5 short strings):

- ``log`` call: the caller-side time of ``Monitor.log(row, prediction=...)`` per call
  (median and p99 over ``--rows`` calls, as fast as the loop goes, while the background
  thread profiles and ships to a real collector on loopback), against whylogs'
  ``DatasetProfile.track(row=row)`` and ``why.log(row=row)`` per row and
  prometheus-client's ``Histogram.observe`` (the floor of in-process instrumentation).
- CPU per row: the process's CPU time (all threads) for logging ``--rows`` rows and
  ``close()`` (profiling, JSON, gzip, HTTP, all delivered), divided by the rows; the run
  fails unless every row was profiled (``stats()["rows"]``); whylogs' per-row CPU for
  ``track``. The timing loop's own CPU (the same loop around a call that does nothing) is
  printed apart: it is part of the figure. A second run logs the same rows in a bare
  loop (no clock around each call) for the CPU per row without the timing loop. Both
  follow a first, unmeasured run of ``--rows`` rows (what a process pays once: lazy
  imports, the heap's growth).
- soak: ``--soak-rate`` rows/s (10,000) for ``--soak`` seconds with the collector down (a
  closed port), a local reference profile (so windows are profiled and shipped to the spool) and a spool
  directory: the resident set and the spool's size every 10 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
#: The collector: sightline's own ``.venv``, else the one next to this Python.
COLLECTOR = next(
    (
        p
        for p in (ROOT / ".venv" / "bin" / "sightline", Path(sys.executable).parent / "sightline")
        if p.exists()
    ),
    ROOT / ".venv" / "bin" / "sightline",
)
os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")


def rows(n: int = 1000) -> list[dict[str, Any]]:
    rng = np.random.default_rng(0)
    nums = rng.normal(size=(n, 20))
    cats = rng.choice(["red", "green", "blue", "amber"], size=(n, 5))
    return [
        {
            **{f"num{j}": float(nums[i, j]) for j in range(20)},
            **{f"cat{j}": str(cats[i, j]) for j in range(5)},
        }
        for i in range(n)
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_collector(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            str(COLLECTOR),
            "serve",
            "--data",
            str(data),
            "--port",
            str(port),
            "--no-auth",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the collector did not start")


def percentiles(ns: np.ndarray) -> tuple[float, float]:
    return float(np.median(ns)) / 1000, float(np.percentile(ns, 99)) / 1000


def time_calls(call: Any, args: list[Any], n: int) -> np.ndarray:
    out = np.empty(n, dtype=np.int64)
    clock = time.perf_counter_ns
    m = len(args)
    for i in range(n):
        a = args[i % m]
        t0 = clock()
        call(a)
        out[i] = clock() - t0
    return out


def bench_sightline(url: str, data: list[dict[str, Any]], n: int) -> dict[str, float]:
    # A first, unmeasured run pays what a serving process pays once (lazy imports, the
    # heap's growth to hold a burst): the figures are those of a process in its stride.
    run_sightline(url, data, n, timed=False)
    ns, cpu, sent = run_sightline(url, data, n, timed=True)
    median, p99 = percentiles(ns)
    loop0 = time.process_time()  # the timing loop alone, around a call that does nothing
    time_calls(lambda row: None, data, n)
    loop = time.process_time() - loop0
    _, untimed, _ = run_sightline(url, data, n, timed=False)
    return {
        "median": median,
        "p99": p99,
        "cpu_per_row": cpu / n * 1e6,
        "loop_per_row": loop / n * 1e6,
        "untimed_per_row": untimed / n * 1e6,
        "sent": sent,
    }


def run_sightline(
    url: str, data: list[dict[str, Any]], n: int, *, timed: bool
) -> tuple[np.ndarray, float, int]:
    """Log ``n`` rows (each call timed, or in a bare loop) and close: the call times, the
    process's CPU seconds from the monitor's start to the end of ``close``, and the
    payloads delivered. Fails unless every row was profiled."""
    from sightline import Monitor

    spool = Path(tempfile.mkdtemp(prefix="sl-sdk-"))
    cpu0 = time.process_time()
    # A buffer that holds the whole burst: every row is profiled and shipped (with the
    # default 100,000 the loop outruns the background thread and the rest are dropped).
    monitor = Monitor("bench", "1", url=url, spool_dir=spool, buffer_rows=n)
    ns = np.empty(0, dtype=np.int64)
    if timed:
        ns = time_calls(lambda row: monitor.log(row, prediction=0.5), data, n)
    else:
        log, m = monitor.log, len(data)
        for i in range(n):
            log(data[i % m], prediction=0.5)
    monitor.close(timeout=120)
    cpu = time.process_time() - cpu0
    stats = monitor.stats()
    shutil.rmtree(spool, ignore_errors=True)
    if stats["rows"] != n:
        raise RuntimeError(f"only {stats['rows']} of {n} rows were profiled: {stats}")
    return ns, cpu, stats["delivery"].sent


def bench_whylogs(data: list[dict[str, Any]], n_track: int, n_log: int) -> dict[str, float]:
    setattr(np, "unicode_", np.str_)  # noqa: B010  (whylogs 1.6 names numpy 1's alias of str_)
    import whylogs as why
    from whylogs.core import DatasetProfile

    profile = DatasetProfile()
    cpu0 = time.process_time()
    track = time_calls(lambda row: profile.track(row=row), data, n_track)
    cpu = time.process_time() - cpu0
    log = time_calls(lambda row: why.log(row=row), data, n_log)
    t_med, t_p99 = percentiles(track)
    l_med, l_p99 = percentiles(log)
    return {
        "median": t_med,
        "p99": t_p99,
        "cpu_per_row": cpu / n_track * 1e6,
        "log_median": l_med,
        "log_p99": l_p99,
    }


def bench_prometheus(n: int) -> dict[str, float]:
    from prometheus_client import CollectorRegistry, Histogram

    hist = Histogram("latency_seconds", "latency", registry=CollectorRegistry())
    values = list(np.random.default_rng(1).uniform(0, 1, 1000))
    ns = time_calls(hist.observe, values, n)
    cpu0 = time.process_time()
    for v in values * (n // len(values)):
        hist.observe(v)
    cpu = time.process_time() - cpu0
    median, p99 = percentiles(ns)
    return {"median": median, "p99": p99, "cpu_per_row": cpu / n * 1e6}


def soak(
    data: list[dict[str, Any]], seconds: float, rate: int = 10_000
) -> list[tuple[float, float, float]]:
    import psutil

    from sightline import Monitor, Profile

    spool = Path(tempfile.mkdtemp(prefix="sl-soak-"))
    columns = {k: [r[k] for r in data] for k in data[0]}
    reference = Profile.from_data({**columns, "prediction": [0.5] * len(data)})
    monitor = Monitor(
        "bench",
        "1",
        url=f"http://127.0.0.1:{free_port()}",
        spool_dir=spool,
        timeout=2,
        reference=reference,
    )
    proc = psutil.Process()
    samples = []
    start = time.monotonic()
    sent = 0
    next_sample = 0.0
    while (elapsed := time.monotonic() - start) < seconds:
        target = int(elapsed * rate)
        while sent < target:
            monitor.log(data[sent % len(data)], prediction=0.5)
            sent += 1
        if elapsed >= next_sample:
            disk = sum(f.stat().st_size for f in spool.rglob("*") if f.is_file())
            samples.append((elapsed, proc.memory_info().rss / 2**20, disk / 2**20))
            next_sample += 10.0
        time.sleep(0.001)
    monitor.close(timeout=5)
    shutil.rmtree(spool, ignore_errors=True)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--whylogs-rows", type=int, default=5_000)
    parser.add_argument("--why-log-rows", type=int, default=200)
    parser.add_argument("--soak", type=float, default=60.0, help="seconds of the soak (0: skip)")
    parser.add_argument("--soak-rate", type=int, default=10_000, help="rows/s of the soak")
    parser.add_argument(
        "--only-sightline",
        action="store_true",
        help="sightline's row alone (runs under sightline's own .venv, no whylogs needed)",
    )
    args = parser.parse_args()
    data = rows()
    with tempfile.TemporaryDirectory(prefix="sl-collector-") as tmp:
        proc, url = start_collector(Path(tmp))
        try:
            sl = bench_sightline(url, data, args.rows)
        finally:
            proc.terminate()
            proc.wait(30)
    print(f"load average: {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}")
    print("| tool | call median us | call p99 us | CPU per row us |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| sightline `Monitor.log` (25 features) | {sl['median']:.2f} | {sl['p99']:.2f} | {sl['cpu_per_row']:.2f} |"
    )
    print(f"of sightline's CPU per row, the timing loop itself: {sl['loop_per_row']:.2f} us")
    print(
        f"sightline's CPU per row with the calls untimed (a bare loop): {sl['untimed_per_row']:.2f} us"
    )
    if not args.only_sightline:
        wl = bench_whylogs(data, args.whylogs_rows, args.why_log_rows)
        pm = bench_prometheus(args.rows)
        print(
            f"| whylogs `DatasetProfile.track(row=)` | {wl['median']:.1f} | {wl['p99']:.1f} | {wl['cpu_per_row']:.1f} |"
        )
        print(f"| whylogs `why.log(row=)` | {wl['log_median']:.0f} | {wl['log_p99']:.0f} | |")
        print(
            f"| prometheus-client `Histogram.observe` | {pm['median']:.2f} | {pm['p99']:.2f} | {pm['cpu_per_row']:.2f} |"
        )
        print(
            f"sightline vs whylogs track: {wl['median'] / sl['median']:.0f}x cheaper per call, "
            f"{wl['cpu_per_row'] / sl['cpu_per_row']:.0f}x less CPU per row; payloads delivered {sl['sent']}"
        )
    if args.soak > 0:
        samples = soak(data, args.soak, args.soak_rate)
        print("| soak s | RSS MiB | spool MiB |")
        print("| ---: | ---: | ---: |")
        for elapsed, rss, disk in samples:
            print(f"| {elapsed:.0f} | {rss:.0f} | {disk:.1f} |")


if __name__ == "__main__":
    main()
