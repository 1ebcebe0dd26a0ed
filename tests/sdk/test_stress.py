"""The SDK's invariant under stress, end to end against a real collector on loopback.

Hypothesis draws a stream of phases: the collector up, down (nothing listens), hanging
(a socket that accepts and never answers) or restarting, and in each a burst of rows of
every value type (numbers, numpy scalars, texts, None, NaN, booleans, bad timestamps and
latencies) and labels, from one to four threads, into a small buffer. Then the collector
comes up and the monitor closes. What the collector stores must equal what ``stats()``
says was kept, nothing twice, and ``kept + invalid + dropped == logged`` for rows,
records and labels. Bounded: a few examples of a few seconds each.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import running_collector
from sightline.profile import Profile, merge_profiles
from sightline.sdk import Monitor
from sightline.store import open_store
from support.live import free_port, silent_listener

STATES = ("up", "down", "hanging", "restart")


def value(rng: np.random.Generator) -> Any:
    """A feature value of any type a caller may pass."""
    pick = int(rng.integers(0, 9))
    return [
        float(rng.normal()),
        int(rng.integers(-100, 100)),
        np.int64(rng.integers(0, 5)),
        np.float32(rng.normal()),
        str(rng.choice(["a", "b", "c"])),
        None,
        float("nan"),
        bool(rng.integers(0, 2)),
        np.bool_(rng.integers(0, 2)),
    ][pick]


def log_burst(m: Monitor, rng: np.random.Generator, n: int, threads: int, tag: str) -> None:
    """``n`` rows from ``threads`` threads; one in 50 has a bad timestamp or latency; every
    tenth row gets a label of a random type (ids unique, so no label supersedes one)."""
    rows = []
    for i in range(n):
        timestamp: Any = None
        latency: Any = float(rng.uniform(0, 50))
        if i % 50 == 7:
            timestamp = "yesterday"
        elif i % 50 == 13:
            latency = "fast"
        elif i % 50 == 21:
            timestamp = datetime.now(UTC)
        features = {"x": float(rng.normal()), "v": value(rng), "c": value(rng)}
        rows.append((features, value(rng), f"{tag}-{i}", latency, timestamp))
    labels = [value(rng) for _ in range(0, n, 10)]

    def work(part: int) -> None:
        for j in range(part, n, threads):
            features, prediction, pid, latency, timestamp = rows[j]
            m.log(features, prediction=prediction, id=pid, latency_ms=latency, timestamp=timestamp)
            if j % 10 == 0:
                m.log_label(pid, labels[j // 10])

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


class Collectors:
    """The collector of one example on a fixed port: up, down, hanging or restarted."""

    def __init__(self, data: str, port: int) -> None:
        self.data, self.port = data, port
        self.stack = contextlib.ExitStack()
        self.state = "down"
        self.live: Any = None

    def become(self, state: str) -> None:
        if state == "restart":
            self.become("down")
            state = "up"
        if state == self.state:
            return
        self.stack.close()
        self.stack = contextlib.ExitStack()
        self.live = None
        if state == "up":
            self.live = self.stack.enter_context(running_collector(self.data, self.port))
        elif state == "hanging":
            self.stack.enter_context(silent_listener(self.port))
        self.state = state


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
@given(
    phases=st.lists(
        st.tuples(st.sampled_from(STATES), st.integers(50, 3000), st.integers(1, 4)),
        min_size=1,
        max_size=4,
    ),
    buffer_rows=st.sampled_from([200, 5000]),
    seed=st.integers(0, 2**16),
)
def test_what_the_collector_stores_is_what_stats_says(
    phases: list[tuple[str, int, int]], buffer_rows: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory(prefix="sl-stress-") as tmp:
        data, spool = str(Path(tmp) / "data"), Path(tmp) / "spool"
        store = open_store(data)
        key = store.create_key("default", "ingest")
        store.close()
        port = free_port()
        collectors = Collectors(data, port)
        try:
            m = Monitor(
                "stress",
                "1",
                url=f"http://127.0.0.1:{port}",
                api_key=key,
                spool_dir=spool,
                buffer_rows=buffer_rows,
                tick=0.05,
                timeout=1,
            )
            for k, (state, n, threads) in enumerate(phases):
                collectors.become(state)
                log_burst(m, rng, n, threads, f"p{k}")
            collectors.become("up")
            m.close(timeout=30)
            s = m.stats()
            # A later process on the same spool replays what close could not deliver.
            Monitor("stress", "1", url=m.url, api_key=key, spool_dir=spool).close(timeout=30)
            assert_stored_as_counted(collectors.live.store, s)
        finally:
            collectors.stack.close()


def assert_stored_as_counted(store: Any, s: dict[str, Any]) -> None:
    assert s["pending"] == 0
    assert s["rows"] + s["invalid"] + s["dropped"] == s["logged"]
    for kind in ("records", "labels"):
        c = s[kind]
        assert c["pending"] == 0, kind
        assert c["kept"] + c["invalid"] + c["dropped"] == c["logged"], kind
    payloads = store._read("SELECT payload FROM profiles")
    profiled = merge_profiles(Profile.from_bytes(bytes(p[0])) for p in payloads).n_rows
    assert profiled == s["rows"]
    n, distinct = store._read("SELECT count(*), count(DISTINCT prediction_id) FROM predictions")[0]
    assert n == distinct == s["records"]["kept"]
    n, distinct = store._read("SELECT count(*), count(DISTINCT prediction_id) FROM labels")[0]
    assert n == distinct == s["labels"]["kept"]
