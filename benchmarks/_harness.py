"""Shared by the benchmarks: time one call and sample its peak extra memory."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


def timed(call: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``call`` once: its result, wall seconds, and peak resident-set growth in MB.

    The resident set is sampled every 5 ms by a background thread (psutil), relative to
    its size just before the call.
    """
    import psutil

    proc = psutil.Process()
    base = proc.memory_info().rss
    peak = base
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, proc.memory_info().rss)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    peak = max(peak, proc.memory_info().rss)
    return result, seconds, (peak - base) / 2**20
