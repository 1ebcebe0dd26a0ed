"""End to end: a real ``sightline serve`` process, a Monitor logging generations whose topic
shifts midway; the scheduler's drift rows of the output's descriptors and of the prompt
embedding alert after the shift, not before, and the health rows count the generations."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from sightline.analysis.columns import SchemaOptions
from sightline.analysis.profiling import profile_data
from sightline.profile import Column, Schema
from sightline.profile.generation import GENERATION_SCHEMA
from sightline.scheduler.embedding import available as collector_embeds_texts
from sightline.sdk import Monitor
from support.live import free_port, wait_ready

SCHEMA = Schema((*GENERATION_SCHEMA.columns, Column("prompt_embedding", kind="embedding")))
BASE = "/api/v1/models/writer/versions/1"
TOPICS = {
    "tea": (["tea", "cup", "leaf", "green", "pot", "brew", "calm"], 0.0),
    "ops": (["Docker", "server", "deploy", "https://ops.example/x", "500", "PYTHON"], 1.0),
}


def _generation(rng: np.random.Generator, topic: str) -> dict[str, Any]:
    words, shift = TOPICS[topic]
    return {
        "prompt": "Write about " + " ".join(rng.choice(words, 3)) + ".",
        "output": " ".join(rng.choice(words, rng.integers(5, 15))) + ".",
        "model_name": str(rng.choice(["small", "large"])),
        "tokens_in": 6.0,
        "tokens_out": float(rng.integers(5, 15)),
        "latency_s": float(rng.uniform(0.2, 0.8)),
        "first_token_s": float(rng.uniform(0.02, 0.08)),
        "error": 0.0,
        "prompt_embedding": (rng.normal(size=16) + shift).tolist(),
    }


def _rows(client: httpx.Client, metric: str, column: str | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"metric": metric, "limit": 1000}
    if column is not None:
        params["column"] = column
    r = client.get("/api/v1/models/writer/metrics", params=params)
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()["rows"]
    return rows


def test_a_topic_shift_alerts_through_a_real_collector(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "sightline.cli", "serve", "--data", str(tmp_path / "data")]
    command += ["--port", str(port), "--no-auth", "--schedule-every", "0.3"]
    command += ["--log-level", "warning"] + (["--embed-texts"] if collector_embeds_texts() else [])
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    client = httpx.Client(base_url=url, timeout=10)
    try:
        wait_ready(url, proc, log)
        assert client.put(BASE, json=SCHEMA.to_dict()).status_code == 200
        settings = {"window": "2s", "lateness": "1s"}
        assert client.put("/api/v1/models/writer/settings", json=settings).status_code == 200
        rng = np.random.default_rng(4)
        rows = [_generation(rng, "tea") for _ in range(1500)]
        data = {name: [r[name] for r in rows] for name in SCHEMA.names()}
        reference = profile_data(
            data, columns=SchemaOptions(schema=SCHEMA), model="writer", version="1"
        )
        put = client.put(
            f"{BASE}/reference",
            content=reference.to_bytes(),
            headers={"content-type": "application/x-sightline-profile"},
        )
        assert put.status_code == 200, put.text
        with Monitor("writer", "1", url=url, window=2, tick=0.1, spool_dir=tmp_path / "s") as m:
            for topic, seconds in (("tea", 4.5), ("ops", 4.5)):
                until = time.monotonic() + seconds
                while time.monotonic() < until:
                    for _ in range(100):
                        g = _generation(rng, topic)
                        embedding = g.pop("prompt_embedding")
                        prompt, output = g.pop("prompt"), g.pop("output")
                        g.pop("error")
                        m.log_generation(prompt, output, extra={"prompt_embedding": embedding}, **g)
                    time.sleep(0.1)
                if topic == "tea":
                    shift_at = time.time()
        deadline = time.monotonic() + 60
        mmd: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            mmd = _rows(client, "embedding_drift", "prompt_embedding")
            late = [r for r in mmd if _start(r) >= shift_at + 0.5]
            if any(r["alert"] for r in late):
                break
            time.sleep(0.3)
        early = [r for r in mmd if _end(r) <= shift_at]
        late = [r for r in mmd if _start(r) >= shift_at]
        assert early and late, mmd
        assert not any(r["alert"] for r in early), early
        assert all(r["alert"] for r in late), late
        assert all(r["column"] == "prompt_embedding" for r in mmd)
        if collector_embeds_texts():  # the collector embeds the sampled output texts too
            texts = _rows(client, "embedding_drift", "output.embedding")
            assert any(r["alert"] for r in texts if _start(r) >= shift_at), texts
        oov = [r for r in _rows(client, "jensen_shannon") if r["column"] == "output.oov_share"]
        assert any(r["alert"] for r in oov if _start(r) >= shift_at), oov
        assert not any(r["alert"] for r in oov if _end(r) <= shift_at), oov
        health = {r["window_start"]: r["value"] for r in _rows(client, "generations")}
        assert sum(health.values()) > 1000
        loaded = {r["value"] for r in _rows(client, "models_loaded")}
        assert loaded == {2.0}
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=30)


def _start(row: dict[str, Any]) -> float:
    from datetime import datetime

    return datetime.fromisoformat(row["window_start"].replace("Z", "+00:00")).timestamp()


def _end(row: dict[str, Any]) -> float:
    from datetime import datetime

    return datetime.fromisoformat(row["window_end"].replace("Z", "+00:00")).timestamp()
