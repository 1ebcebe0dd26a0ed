"""The cost of ``Monitor.log_generation`` in the serving process.

Run with sightline's own environment::

    .venv/bin/python benchmarks/generation.py [--rows 100000]

Measured in one run against a real collector on loopback (``sightline serve``):

- the caller-side time of ``log_generation(prompt, output, model_name=..., tokens_in=...,
  tokens_out=..., latency_s=..., first_token_s=...)`` per call (median and p99 over
  ``--rows`` calls, as fast as the loop goes, while the background thread profiles the
  texts and ships);
- the CPU per generation: the process's CPU time (all threads) for logging ``--rows``
  generations and ``close()`` (descriptors, frequent words, profiles, HTTP, all delivered);
  the run fails unless every generation was profiled (``stats()["rows"]``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from sdk import percentiles, start_collector


def texts(n: int) -> list[tuple[str, str]]:
    rng = np.random.default_rng(0)
    words = np.array(
        [
            "the",
            "tea",
            "cup",
            "leaf",
            "green",
            "pot",
            "brew",
            "calm",
            "server",
            "deploy",
            "docker",
            "model",
        ]
    )
    return [
        (
            "Write about " + " ".join(rng.choice(words, 8)) + ".",
            " ".join(rng.choice(words, 40)).capitalize() + ".",
        )
        for _ in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    from sightline import Monitor

    data = texts(1000)
    n = args.rows
    root = Path(tempfile.mkdtemp(prefix="sl-gen-"))
    proc, url = start_collector(root / "data")
    try:
        cpu0 = time.process_time()
        m = Monitor("writer", "1", url=url, spool_dir=root / "spool", buffer_rows=n)
        out = np.empty(n, dtype=np.int64)
        clock = time.perf_counter_ns
        log = m.log_generation
        for i in range(n):
            prompt, output = data[i % 1000]
            t0 = clock()
            log(prompt, output, model_name="small", tokens_in=9, tokens_out=41,
                latency_s=0.8, first_token_s=0.05)  # fmt: skip
            out[i] = clock() - t0
        m.close(timeout=300)
        cpu = time.process_time() - cpu0
        stats = m.stats()
        assert stats["rows"] == stats["logged"] == n, stats
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    median, p99 = percentiles(out)
    print(f"log_generation: median {median:.2f} us, p99 {p99:.2f} us over {n:,} calls")
    print(f"CPU per generation (all threads, to delivery): {cpu / n * 1e6:.1f} us")


if __name__ == "__main__":
    main()
