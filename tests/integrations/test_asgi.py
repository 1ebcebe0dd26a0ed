"""The ASGI middleware on a real streaming FastAPI app served by uvicorn: the time to the
first byte of streamed responses reaches the collector's profile and health rows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np

from sightline.analysis.rows import RowContext
from sightline.profile import LATENCY_BUCKETS_MS, Column, Profile, Schema, merge_profiles
from sightline.scheduler.generation import first_byte_rows
from sightline.sdk import Monitor
from support.live import Collector, start_server, stop_server

FIRST_TOKEN_S = 0.15


def test_streamed_responses_report_their_time_to_first_byte(
    duckdb_collector: Collector, tmp_path: Path
) -> None:
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    from sightline.integrations.asgi import MonitorMiddleware

    key = duckdb_collector.store.create_key("default", "ingest")
    schema = Schema((Column("x"),))
    m = Monitor(
        "chat", "1", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path, schema=schema
    )
    app = FastAPI()
    app.add_middleware(MonitorMiddleware, monitor=m)

    @app.get("/generate")
    async def generate() -> StreamingResponse:
        async def tokens() -> AsyncIterator[bytes]:
            await asyncio.sleep(FIRST_TOKEN_S)  # the model thinks, then streams
            for word in ("Tea ", "is ", "green."):
                yield word.encode()
                await asyncio.sleep(0.1)

        return StreamingResponse(tokens(), media_type="text/plain")

    @app.get("/plain")
    def plain() -> dict[str, str]:
        return {"status": "ok"}

    server, thread, url = start_server(app)
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            for _ in range(3):
                started = time.perf_counter()
                with client.stream("GET", "/generate") as r:
                    chunks = r.iter_bytes()
                    first = next(chunks)
                    seen = time.perf_counter() - started
                    body = first + b"".join(chunks)
                assert body == b"Tea is green."
                assert seen >= FIRST_TOKEN_S
            assert client.get("/plain").status_code == 200
    finally:
        stop_server(server, thread)
    m.close(timeout=30)
    payloads = duckdb_collector.store._read("SELECT payload FROM profiles")
    got = merge_profiles(Profile.from_bytes(bytes(p[0])) for p in payloads)
    assert got.n_predictions == 4  # every request is timed ...
    assert int(got.first_byte_buckets.sum()) == 3  # ... the streamed ones to their first byte
    bucket = int(np.searchsorted(LATENCY_BUCKETS_MS, FIRST_TOKEN_S * 1000))
    assert got.first_byte_buckets[bucket : bucket + 2].sum() == 3  # 150 ms to 500 ms
    assert got.latency.quantiles(np.array([0.5]))[0] >= 350  # whole streamed responses
    rows = {r.metric: r.value for r in first_byte_rows([got], RowContext())}
    assert FIRST_TOKEN_S * 1000 <= rows["first_byte_p50_ms"] <= 500
