"""A text column's patterns and text sample through the Monitor to a real collector."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sightline.profile import Profile, Schema, TextColumnProfile, merge_profiles
from sightline.profile.embedding import row_keys
from sightline.profile.generation import GENERATION_SCHEMA
from sightline.sdk import Monitor
from sightline.stats.text import descriptors
from support.live import Collector

PATTERNS = {"refusal": r"(?i)\bI cannot\b"}


def test_log_generation_folds_the_schemas_patterns_and_samples_outputs_by_id(
    duckdb_collector: Collector, tmp_path: Path
) -> None:
    schema = Schema(
        tuple(
            replace(c, patterns=PATTERNS) if c.name == "output" else c
            for c in GENERATION_SCHEMA.columns
        )
    )
    outputs = [
        "I cannot answer that." if i % 4 == 0 else f"Answer {i}: tea is green." for i in range(300)
    ]
    key = duckdb_collector.store.create_key("default", "ingest")
    with Monitor(
        "writer", "1", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path, schema=schema
    ) as m:
        ids = [
            m.log_generation(f"Question {i}?", o, model_name="small") for i, o in enumerate(outputs)
        ]
    version = duckdb_collector.store.get_version("default", "writer", "1")
    assert Schema.from_dict(version.schema) == schema
    payloads = duckdb_collector.store._read("SELECT payload FROM profiles")
    got = merge_profiles(Profile.from_bytes(bytes(p[0])) for p in payloads)
    output = got.columns["output"]
    assert isinstance(output, TextColumnProfile)
    library = descriptors(outputs, patterns=PATTERNS)["match.refusal"]
    assert output.descriptors["match.refusal"].mean == pytest.approx(library.mean())
    assert output.descriptors["match.refusal"].name == "output.match.refusal"
    chosen = np.argsort(row_keys(ids))[:256]
    assert output.texts == tuple(outputs[i] for i in chosen)
