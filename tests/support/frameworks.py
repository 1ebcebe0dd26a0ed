"""What the framework integration tests share: an optional framework that skips locally
and fails in CI, and a model version registered with a reference at a real collector."""

from __future__ import annotations

import importlib
import io
import os
from types import ModuleType

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from sightline.profile import Profile, Schema, merge_profiles
from support.live import Collector


def framework(module: str, variable: str, package: str) -> ModuleType:
    """Import ``module``; without it skip, or fail when ``$variable`` is 1 (CI sets it)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if os.environ.get(variable) == "1":
            pytest.fail(f"{package} is required here ({variable}=1): {exc}")
        pytest.skip(f"{package} is not installed (CI installs it): {exc}", allow_module_level=True)


def register(
    collector: Collector, model: str, schema: Schema, reference: dict[str, np.ndarray]
) -> str:
    """Register ``model`` version 1 with ``schema`` and a CSV ``reference``; an ingest key."""
    base = f"/api/v1/models/{model}/versions/1"
    admin = collector.client()
    assert admin.put(base, json=schema.to_dict()).status_code == 200
    sink = io.BytesIO()
    pacsv.write_csv(pa.table(reference), sink)
    r = admin.put(
        f"{base}/reference", content=sink.getvalue(), headers={"content-type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    return collector.store.create_key("default", "ingest")


def received(collector: Collector, model: str) -> Profile:
    """The merge of every profile of ``model`` the collector stored."""
    payloads = collector.store._read("SELECT payload FROM profiles WHERE model = ?", (model,))
    return merge_profiles(Profile.from_bytes(bytes(p[0])) for p in payloads)


def stored_ids(collector: Collector, model: str) -> list[str]:
    """The prediction ids of ``model`` the collector stored, sorted."""
    rows = collector.store._read(
        "SELECT prediction_id FROM predictions WHERE model = ? ORDER BY prediction_id", (model,)
    )
    return [r[0] for r in rows]
