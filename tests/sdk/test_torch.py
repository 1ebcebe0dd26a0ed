"""The PyTorch forward hook against a real collector: every forward pass arrives, once.

PyTorch is not a dependency of sightline: this test skips without it, except in CI, which
installs the CPU build and sets SIGHTLINE_REQUIRE_TORCH=1 so that a missing torch fails.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from sightline.profile import Column, Profile, Schema, merge_profiles
from sightline.sdk import Monitor
from support.live import Collector

if os.environ.get("SIGHTLINE_REQUIRE_TORCH") == "1":
    import torch
else:
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (CI installs it)")

from sightline.integrations.torch import monitor_module

SCHEMA = Schema((Column("a"), Column("b"), Column("y", role="prediction")))
BASE = "/api/v1/models/net/versions/1"


def register(collector: Collector) -> str:
    """Register net/1 with a reference; return an ingest key."""
    admin = collector.client()
    assert admin.put(BASE, json=SCHEMA.to_dict()).status_code == 200
    rng = np.random.default_rng(0)
    sink = io.BytesIO()
    reference = {"a": rng.normal(size=300), "b": rng.normal(size=300), "y": rng.normal(size=300)}
    pacsv.write_csv(pa.table(reference), sink)
    r = admin.put(
        f"{BASE}/reference", content=sink.getvalue(), headers={"content-type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    return collector.store.create_key("default", "ingest")


@pytest.mark.parametrize("outputs", [1, 3])
def test_forward_passes_are_logged_until_the_hook_is_removed(
    duckdb_collector: Collector, tmp_path: Path, outputs: int
) -> None:
    key = register(duckdb_collector)
    model = torch.nn.Linear(2, outputs)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, -1.0], [0.0, 1.0], [2.0, 0.0]][:outputs]))
        model.bias.zero_()
    x = torch.tensor(np.random.default_rng(1).normal(size=(100, 2)), dtype=torch.float32)
    m = Monitor("net", "1", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path, tick=0.05)
    handle = monitor_module(model, m)
    first, second = model(x), model(x[:40])
    handle.remove()
    model(x)  # not logged
    m.close(timeout=30)

    payloads = duckdb_collector.store._read("SELECT payload FROM profiles")
    got = merge_profiles(Profile.from_bytes(bytes(p[0])) for p in payloads)
    seen = torch.cat([x, x[:40]]).numpy().astype(np.float64)
    out = torch.cat([first, second]).detach().numpy().astype(np.float64)
    want_y = out[:, 0] if outputs == 1 else out.argmax(axis=1)
    assert (got.n_rows, got.n_predictions) == (140, 140)
    assert got.columns["a"].mean == pytest.approx(seen[:, 0].mean(), rel=1e-9)
    assert got.columns["b"].mean == pytest.approx(seen[:, 1].mean(), rel=1e-9)
    assert got.columns["y"].mean == pytest.approx(want_y.mean(), rel=1e-9)
    assert got.latency.n == 140


def test_an_unregistered_version_is_registered_from_the_first_forward_passes(
    duckdb_collector: Collector, tmp_path: Path
) -> None:
    key = duckdb_collector.store.create_key("default", "ingest")
    model = torch.nn.Linear(2, 1)
    x = torch.tensor(np.random.default_rng(2).normal(size=(32, 2)), dtype=torch.float32)
    m = Monitor("fresh-net", "1", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path)
    handle = monitor_module(model, m)
    for _ in range(10):
        model(x)
    handle.remove()
    m.close(timeout=30)
    assert m.stats()["rows"] == 320
    version = duckdb_collector.store.get_version("default", "fresh-net", "1")
    assert [c["name"] for c in version.schema["columns"]] == ["x0", "x1", "prediction"]
    payloads = duckdb_collector.store._read("SELECT payload FROM profiles")
    assert merge_profiles(Profile.from_bytes(bytes(p[0])) for p in payloads).n_rows == 320
