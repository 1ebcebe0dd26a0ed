"""Issue 17: every row logged is profiled and stored, or counted and said once in the log;
every prediction record and label likewise. Each test runs a real collector on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from conftest import running_collector
from sightline.errors import InvalidInputError
from sightline.profile import Column, Profile, Schema, merge_profiles
from sightline.sdk import Monitor
from sightline.store import open_store
from support import churn
from support.live import Collector, free_port, silent_listener


def register(collector: Collector) -> str:
    """Register churn/1 (no reference); return an ingest key."""
    assert collector.client().put(churn.BASE, json=churn.SCHEMA).status_code == 200
    return collector.store.create_key("default", "ingest")


def stored_rows(collector: Collector) -> int:
    payloads = collector.store._read("SELECT payload FROM profiles")
    if not payloads:
        return 0
    return merge_profiles(Profile.from_bytes(bytes(p[0])) for p in payloads).n_rows


def stored(collector: Collector, table: str) -> int:
    return collector.store.count(table, "default")


def assert_balanced(stats: dict[str, Any]) -> None:
    """``kept + invalid + dropped == logged`` for rows, records and labels, none pending."""
    assert stats["pending"] == 0
    assert stats["rows"] + stats["invalid"] + stats["dropped"] == stats["logged"]
    for kind in ("records", "labels"):
        c = stats[kind]
        assert c["pending"] == 0, kind
        assert c["kept"] + c["invalid"] + c["dropped"] == c["logged"], kind


def row(i: int) -> dict[str, Any]:
    return {"age": 20.0 + i % 50, "city": "abc"[i % 3]}


# -- 1. one bad value loses only its row -----------------------------------------------------


def test_a_bad_timestamp_or_latency_loses_only_its_row(
    duckdb_collector: Collector, caplog: pytest.LogCaptureFixture
) -> None:
    key = register(duckdb_collector)
    m = Monitor("churn", "1", url=duckdb_collector.url, api_key=key, tick=60)
    for i in range(200):
        m.log(row(i), prediction=0.5, latency_ms=1.0)
    m.log(row(0), prediction=0.5, latency_ms="fast")  # type: ignore[arg-type]
    m.log(row(1), prediction=0.5, timestamp="yesterday")  # type: ignore[arg-type]
    m.log(row(2), prediction=0.5, timestamp=1.7e12)  # milliseconds: the year 55,800
    with caplog.at_level(logging.WARNING, logger="sightline.sdk"):
        assert m.flush(timeout=30)
    m.close(timeout=30)
    s = m.stats()
    assert (s["logged"], s["rows"], s["invalid"], s["dropped"]) == (203, 200, 3, 0)
    assert s["records"]["invalid"] == 3
    assert_balanced(s)
    assert stored_rows(duckdb_collector) == 200
    assert stored(duckdb_collector, "predictions") == 200
    assert sum("3 rows were invalid" in r.getMessage() for r in caplog.records) == 1


# -- 3. a full buffer counts what it refuses ----------------------------------------------


def test_a_burst_beyond_the_buffer_is_counted_and_said_once(
    duckdb_collector: Collector, caplog: pytest.LogCaptureFixture
) -> None:
    key = register(duckdb_collector)
    m = Monitor("churn", "1", url=duckdb_collector.url, api_key=key, buffer_rows=5000, tick=60)

    def burst() -> None:
        for i in range(2000):
            m.log(row(i), prediction=0.5)

    threads = [threading.Thread(target=burst) for _ in range(8)]
    with caplog.at_level(logging.WARNING, logger="sightline.sdk"):
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        m.close(timeout=30)
    s = m.stats()
    assert s["logged"] == 16_000
    assert s["dropped"] > 0 and 0 < s["rows"] <= 5000 + 8  # each thread may pass the check once
    assert_balanced(s)
    assert stored_rows(duckdb_collector) == s["rows"]
    assert stored(duckdb_collector, "predictions") == s["records"]["kept"] == s["rows"]
    warnings = [r for r in caplog.records if "rows dropped" in r.getMessage()]
    assert len(warnings) == 1 and "buffer_rows" in warnings[0].getMessage()


# -- 6. numpy scalars are their Python values ---------------------------------------------


def test_numpy_scalars_are_read_as_python_values(duckdb_collector: Collector) -> None:
    key = duckdb_collector.store.create_key("default", "ingest")
    with Monitor("np", "1", url=duckdb_collector.url, api_key=key) as m:
        a = m.log({"n": np.int64(3), "f": np.float32(0.5)}, prediction=np.float32(0.25))
        b = m.log({"n": np.int64(4), "f": np.float32(1.5)}, prediction=np.float32(0.75))
        for pid, label in [(a, np.int64(1)), (b, np.int32(0))]:
            m.log_label(pid, label)
        m.log_labels(["c", "d"], [np.float32(0.5), np.bool_(True)])
    version = duckdb_collector.store.get_version("default", "np", "1")
    kinds = {c["name"]: c["kind"] for c in version.schema["columns"]}
    assert kinds == {"n": "numeric", "f": "numeric", "prediction": "numeric"}
    labels = sorted(duckdb_collector.store._read("SELECT prediction_id, label FROM labels"))
    assert labels == sorted([(a, 1.0), (b, 0.0), ("c", 0.5), ("d", 1.0)])
    predictions = duckdb_collector.store._read("SELECT prediction FROM predictions")
    assert sorted(p[0] for p in predictions) == [0.25, 0.75]


def test_numpy_probabilities_are_stored(duckdb_collector: Collector) -> None:
    key = duckdb_collector.store.create_key("default", "ingest")
    with Monitor("np", "1", url=duckdb_collector.url, api_key=key) as m:
        m.log({"x": 1.0}, prediction="a", probability=np.float32(0.75), id="p1")
        m.log({"x": 2.0}, prediction="b", probability={"a": np.float32(0.25)}, id="p2")
    got = dict(duckdb_collector.store._read("SELECT prediction_id, probability FROM predictions"))
    assert got["p1"] == pytest.approx(0.75)
    rows = duckdb_collector.store._read(
        "SELECT probabilities FROM predictions WHERE prediction_id = 'p2'"
    )
    assert "0.25" in str(rows[0][0])


# -- 5. watch awaits coroutines and async generators --------------------------------------


def test_watch_awaits_async_functions(duckdb_collector: Collector) -> None:
    key = register(duckdb_collector)
    m = Monitor("churn", "1", url=duckdb_collector.url, api_key=key)

    @m.watch
    async def predict(features: dict[str, Any]) -> float:
        await asyncio.sleep(0.2)
        if features["age"] < 0:
            raise ValueError("negative age")
        return 0.5

    async def serve() -> None:
        assert await predict({"age": 30.0, "city": "a"}) == 0.5
        for _ in range(5):
            with pytest.raises(ValueError, match="negative age"):
                await predict({"age": -1.0, "city": "a"})

    asyncio.run(serve())
    m.close(timeout=30)
    payloads = duckdb_collector.store._read("SELECT payload FROM profiles")
    got = merge_profiles(Profile.from_bytes(bytes(p[0])) for p in payloads)
    assert (got.n_rows, got.n_errors) == (1, 5)
    assert got.latency.quantiles([0.5])[0] >= 200
    assert duckdb_collector.store._read("SELECT prediction FROM predictions") == [(0.5,)]


def test_watch_runs_async_generators_to_the_end(duckdb_collector: Collector) -> None:
    key = register(duckdb_collector)
    m = Monitor("churn", "1", url=duckdb_collector.url, api_key=key)

    @m.watch
    async def stream(features: dict[str, Any]) -> Any:
        for score in (0.1, 0.9):
            await asyncio.sleep(0.1)
            yield score

    async def consume() -> list[float]:
        return [x async for x in stream({"age": 30.0, "city": "a"})]

    assert asyncio.run(consume()) == [0.1, 0.9]
    m.close(timeout=30)
    assert duckdb_collector.store._read("SELECT prediction FROM predictions") == [(0.9,)]
    payloads = duckdb_collector.store._read("SELECT payload FROM profiles")
    got = merge_profiles(Profile.from_bytes(bytes(p[0])) for p in payloads)
    assert got.latency.quantiles([0.5])[0] >= 200


# -- 4. rows waiting for a schema reach the spool -----------------------------------------


@pytest.mark.parametrize("down", ["refusing", "hanging"])
def test_rows_waiting_for_a_schema_are_spooled_while_the_collector_is_down(
    tmp_path: Path, down: str
) -> None:
    data, spool = str(tmp_path / "data"), tmp_path / "spool"
    store = open_store(data)
    key = store.create_key("default", "ingest")
    store.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    hang = silent_listener(port) if down == "hanging" else contextlib.nullcontext()
    with hang:
        m = Monitor("fresh", "1", url=url, api_key=key, spool_dir=spool, timeout=2, tick=0.05)
        for i in range(3000):
            m.log(row(i), prediction=0.5)
        m.close(timeout=8)
    s = m.stats()
    assert (s["logged"], s["rows"], s["dropped"]) == (3000, 3000, 0)
    with running_collector(data, port) as collector:
        again = Monitor("fresh", "1", url=url, api_key=key, spool_dir=spool, tick=0.05)
        again.close(timeout=30)
        assert stored(collector, "predictions") == 3000
        assert stored_rows(collector) == 3000
        version = collector.store.get_version("default", "fresh", "1")
        assert [c["name"] for c in version.schema["columns"]] == ["age", "city", "prediction"]


# -- 2. records go out as they come -------------------------------------------------------


def test_records_are_shipped_as_they_come_without_a_spool(duckdb_collector: Collector) -> None:
    key = register(duckdb_collector)
    n = 200_000  # about 20 MiB of records: more than the delivery queue holds at once
    m = Monitor("churn", "1", url=duckdb_collector.url, api_key=key, buffer_rows=n, window=60)
    ids = [m.log(row(i), prediction=0.5) for i in range(n)]
    m.close(timeout=120)
    s = m.stats()
    assert_balanced(s)
    assert s["dropped"] == s["records"]["dropped"] == 0
    assert stored(duckdb_collector, "predictions") == n
    assert len(set(ids)) == n
    assert s["delivery"].dropped == 0


# -- 10. the newest label wins ------------------------------------------------------------


def test_of_two_labels_for_one_id_the_newest_wins(duckdb_collector: Collector) -> None:
    key = register(duckdb_collector)
    with Monitor("churn", "1", url=duckdb_collector.url, api_key=key, tick=60) as m:
        pid = m.log(row(0), prediction=1.0)
        m.log_label(pid, 0)
        m.log_label(pid, 1)  # same tick
    s = m.stats()
    assert_balanced(s)
    joined = _labelled(duckdb_collector)
    assert joined == [(pid, 1.0)]


def test_the_label_with_the_newest_timestamp_wins_whatever_the_arrival(
    duckdb_collector: Collector,
) -> None:
    key = register(duckdb_collector)
    with Monitor("churn", "1", url=duckdb_collector.url, api_key=key) as m:
        pid = m.log(row(0), prediction=1.0)
    client = duckdb_collector.client(key)
    path = "/api/v1/models/churn/labels"
    for label, stamp in ((1, "2030-01-01T00:00:02Z"), (0, "2030-01-01T00:00:01Z")):
        body = {"labels": [{"id": pid, "label": label, "timestamp": stamp}]}
        r = client.post(path, json=body, headers={"Idempotency-Key": f"k{label}"})
        assert r.status_code == 200, r.text
    assert _labelled(duckdb_collector) == [(pid, 1.0)]


def _labelled(collector: Collector) -> list[tuple[str, float]]:
    since, until = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    rows = collector.store.labelled("default", "churn", "1", since, until)
    return [(r[5], r[3]) for r in rows]


# -- 7. a refused schema is said and counted ----------------------------------------------


@pytest.mark.parametrize(
    "features",
    [{"x" * 300: 1.0}, {f"c{i}": 1.0 for i in range(10_000)}],
    ids=["long name", "10,000 columns"],
)
def test_a_schema_the_collector_refuses_is_reported_and_counted(
    duckdb_collector: Collector, caplog: pytest.LogCaptureFixture, features: dict[str, float]
) -> None:
    key = duckdb_collector.store.create_key("default", "ingest")
    m = Monitor("wide", "1", url=duckdb_collector.url, api_key=key, tick=0.05)
    with caplog.at_level(logging.WARNING, logger="sightline.sdk"):
        for _ in range(3):
            m.log(features, prediction=1.0)
        assert m.flush(timeout=30) is False
        m.log(features, prediction=1.0)
        assert m.flush(timeout=30) is False
    m.close(timeout=30)
    s = m.stats()
    assert (s["logged"], s["rows"], s["dropped"]) == (4, 0, 4)
    assert_balanced(s)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "HTTP 422" in errors[0].getMessage()
    assert s["spec_422"] == 1  # not retried every tick


# -- 8. a batch registers an unknown version ----------------------------------------------


def test_a_matrix_batch_registers_an_unknown_version(duckdb_collector: Collector) -> None:
    """What the torch hook logs: a 2-D array and its predictions."""
    key = duckdb_collector.store.create_key("default", "ingest")
    x = np.random.default_rng(0).normal(size=(320, 2))
    with Monitor("net", "1", url=duckdb_collector.url, api_key=key) as m:
        m.log_batch(x, predictions=x.sum(axis=1).tolist())
    assert m.stats()["rows"] == 320
    version = duckdb_collector.store.get_version("default", "net", "1")
    assert [c["name"] for c in version.schema["columns"]] == ["x0", "x1", "prediction"]
    assert stored_rows(duckdb_collector) == 320


def test_a_batch_of_unequal_columns_is_refused_naming_the_field() -> None:
    with Monitor("m", "1", url=None, schema=Schema((Column("a"),))) as m:
        with pytest.raises(InvalidInputError, match="predictions has 2 values for 3 rows"):
            m.log_batch({"a": [1, 2, 3]}, predictions=[1, 2])
        assert m.stats()["logged"] == 0


# -- 9. a multiprocessing child that never closes -----------------------------------------

_CHILD_MONITOR: list[Monitor] = []


def _child_logs() -> None:
    for i in range(100):
        _CHILD_MONITOR[0].log(row(i), prediction=0.5)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs the fork start method")
def test_a_multiprocessing_child_that_exits_without_close_loses_nothing(
    duckdb_collector: Collector,
) -> None:
    key = register(duckdb_collector)
    m = Monitor("churn", "1", url=duckdb_collector.url, api_key=key)
    _CHILD_MONITOR[:] = [m]
    try:
        child = multiprocessing.get_context("fork").Process(target=_child_logs)
        child.start()
        child.join(60)
        assert child.exitcode == 0
        m.log(row(0), prediction=0.5)
        m.close(timeout=30)
    finally:
        _CHILD_MONITOR.clear()
    assert stored(duckdb_collector, "predictions") == 101
    assert stored_rows(duckdb_collector) == 101


# -- issue 18: the window's grammar, and goodbye ------------------------------------------


def test_window_takes_the_duration_grammar() -> None:
    with Monitor("m", "1", url=None, window="5m", schema=Schema((Column("a"),))) as m:
        assert m.window == 300
        m.log({"a": 1.0}, timestamp=1_000_000.0)
        assert m.flush()
        assert list(m._windows) == []
    with pytest.raises(InvalidInputError, match="window: a duration looks like"):
        Monitor("m", "1", url=None, window="soon")


class _Recording(httpx.HTTPTransport):
    """Real HTTP, and the heartbeat bodies sent with the status the collector answered."""

    def __init__(self) -> None:
        super().__init__()
        self.beats: list[tuple[dict[str, Any], int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/heartbeats"):
            import gzip

            body = request.read()
            if request.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            self.beats.append((json.loads(body), response.status_code))
        return response


def test_a_closed_monitor_says_goodbye(duckdb_collector: Collector) -> None:
    key = register(duckdb_collector)
    transport = _Recording()
    m = Monitor("churn", "1", url=duckdb_collector.url, api_key=key, transport=transport)
    m.log(row(0), prediction=0.5)
    assert m.flush(timeout=30)
    m.close(timeout=30)
    closed = [beat["closed"] for beat, _ in transport.beats]
    assert closed[-1] is True and closed.count(True) == 1 and len(closed) >= 2
    assert all(status == 200 for _, status in transport.beats)
    assert stored(duckdb_collector, "heartbeats") == len(closed)
