"""Generations and embeddings through the Monitor to a real collector on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from sightline.analysis.rows import RowContext
from sightline.errors import InvalidInputError
from sightline.profile import (
    EmbeddingColumnProfile,
    Profile,
    TextColumnProfile,
    merge_profiles,
)
from sightline.profile.embedding import row_keys
from sightline.profile.generation import GENERATION_SCHEMA
from sightline.scheduler.generation import generation_rows
from sightline.sdk import Monitor
from support.live import Collector


def _stored(collector: Collector) -> Profile:
    payloads = collector.store._read("SELECT payload FROM profiles")
    return merge_profiles(Profile.from_bytes(bytes(p[0])) for p in payloads)


def test_generations_arrive_as_text_profiles_with_their_health(
    duckdb_collector: Collector, tmp_path: Path
) -> None:
    key = duckdb_collector.store.create_key("default", "ingest")
    with Monitor("writer", "1", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path) as m:
        for i in range(40):
            m.log_generation(
                f"Write a short note about tea number {i}.",
                "" if i % 10 == 0 else f"Tea {i} is green and calm. See https://tea.example/{i}",
                model_name="small" if i % 2 else "large",
                tokens_in=8,
                tokens_out=12,
                latency_s=0.6,
                first_token_s=0.05 + i / 1000,
                error=RuntimeError("timeout") if i == 7 else None,
            )
        m.log_generations(
            ["Tell me about cups.", "And pots?"],
            ["Cups hold tea.", None],
            model_names=["small", "small"],
            tokens_out=[3, None],
            errors=[None, "overloaded"],
        )
    version = duckdb_collector.store.get_version("default", "writer", "1")
    assert [(c["name"], c["kind"]) for c in version.schema["columns"]] == [
        (c.name, c.kind) for c in GENERATION_SCHEMA.columns
    ]
    got = _stored(duckdb_collector)
    output = got.columns["output"]
    assert isinstance(output, TextColumnProfile)
    assert (got.n_rows, output.count, output.n_missing) == (42, 42, 1)
    assert output.descriptors["urls"].mean == pytest.approx(36 / 41)
    assert got.n_errors == 2 and got.n_predictions == 42
    assert got.latency.n == 40  # the timed ones
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ctx = RowContext("writer", "1", start, start + timedelta(seconds=60))
    rows = {r.metric: r for r in generation_rows([got], 60.0, ctx)}
    assert rows["generations"].value == 42
    assert rows["tokens_in_per_s"].value == pytest.approx(40 * 8 / 60)
    assert rows["tokens_out_per_s"].value == pytest.approx((40 * 12 + 3) / 60)
    assert rows["first_token_p50_ms"].value == pytest.approx(50 + 19.5, abs=1.01)
    assert rows["latency_per_output_token_ms"].value == pytest.approx(1000 * 24 / 483)
    assert rows["empty_output_rate"].value == pytest.approx(4 / 41)
    assert rows["models_loaded"].value == 2


def test_embeddings_are_inferred_and_sampled_by_row_id(
    duckdb_collector: Collector, tmp_path: Path
) -> None:
    key = duckdb_collector.store.create_key("default", "ingest")
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(600, 16)).astype(np.float32)
    with Monitor("search", "1", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path) as m:
        ids = [m.log({"query": vectors[i], "k": 3.0}, prediction=1.0) for i in range(300)]
        ids += m.log_batch({"query": vectors[300:], "k": np.full(300, 3.0)}, ids=None)
    version = duckdb_collector.store.get_version("default", "search", "1")
    assert {c["name"]: c["kind"] for c in version.schema["columns"]}["query"] == "embedding"
    query = _stored(duckdb_collector).columns["query"]
    assert isinstance(query, EmbeddingColumnProfile)
    assert (query.count, query.dim, len(query.keys)) == (600, 16, 256)
    expected = np.argsort(row_keys(ids))[:256]
    assert query.keys.tolist() == np.sort(row_keys(ids))[:256].tolist()
    np.testing.assert_array_equal(query.vectors, vectors[expected])
    np.testing.assert_allclose(query.mean, vectors.astype(np.float64).mean(axis=0), rtol=1e-6)


def test_a_batch_of_generations_with_a_short_column_is_refused() -> None:
    with Monitor("writer", "1", url=None) as m:
        with pytest.raises(InvalidInputError, match="model_names has 1 values for 2") as err:
            m.log_generations(["a", "b"], ["c", "d"], model_names=["x"])
        assert err.value.field == "model_names"
        with pytest.raises(InvalidInputError, match="emb has 3 values"):
            m.log_generations(["a"], ["b"], extra={"emb": np.zeros((3, 2))})
