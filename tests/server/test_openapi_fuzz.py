"""Fuzz every documented operation of the collector from its own OpenAPI document.

Schemathesis generates valid and invalid requests for each operation (its examples,
coverage and fuzzing phases: a fixed seed, derandomized, at most 25 generated examples per
operation, no shrinking) against a real server over DuckDB, authenticated as admin. Model
``a`` version ``1`` is registered with a reference, and half of the generated paths name
it, so that requests reach real data rather than only 404s. Every answer must be no server
error, of a documented status code, content type and schema, and invalid requests must be
refused. One store is enough here: the store behaviour is covered by the other tests.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from schemathesis.transport.serialization import serialize_binary

from sightline.server.app import create_app
from sightline.server.bodies import ARROW, CSV, PARQUET, PROFILE
from sightline.server.limits import RequestLimits
from sightline.server.state import ERRORS, Settings
from sightline.store import open_store
from support.churn import SCHEMA
from support.live import start_server, stop_server

SEED = 20260501
EXAMPLES = 25
#: Every refusal the API documents counts as rejecting invalid data (413 included).
REFUSALS = sorted(int(code) for code in ERRORS)


def _document() -> dict[str, Any]:
    """The app's OpenAPI document (it does not depend on the store)."""
    store = open_store(":memory:")
    try:
        return create_app(store).openapi()
    finally:
        store.close()


CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "dictionaries": {"models": {"values": ["a"]}, "versions": {"values": ["1"]}},
        "parameters": {
            "path.model": {"dictionary": "models", "probability": 0.5},
            "path.version": {"dictionary": "versions", "probability": 0.5},
        },
        "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True},
        "checks": {"negative_data_rejection": {"expected-statuses": REFUSALS}},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)


@schemathesis.serializer(ARROW, PROFILE, CSV, PARQUET)
def _binary(ctx: schemathesis.SerializationContext, value: object) -> bytes:
    """The binary bodies are sent as generated (the server must refuse what is not valid)."""
    return serialize_binary(value)


schema = schemathesis.openapi.from_dict(_document(), config=CONFIG)


def _reference_csv() -> bytes:
    rng = np.random.default_rng(1)
    table = pa.table(
        {
            "age": rng.normal(40, 10, 200),
            "city": rng.choice(["a", "b", "c"], 200),
            "score": rng.uniform(0, 1, 200),
        }
    )
    sink = io.BytesIO()
    pacsv.write_csv(table, sink)
    return sink.getvalue()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A collector over DuckDB with model ``a`` version ``1`` and its reference; (URL, an
    admin key). No rate limit: the fuzzer sends its requests as fast as it can."""
    store = open_store(Path(tmp_path_factory.mktemp("fuzz")) / "data")
    key = store.create_key("default", "admin")
    limits = RequestLimits(rate_per_second=1e6, burst=1_000_000)
    server, thread, url = start_server(create_app(store, Settings(limits=limits)))
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as c:
            assert c.put("/api/v1/models/a/versions/1", json=SCHEMA).status_code == 200
            r = c.put(
                "/api/v1/models/a/versions/1/reference",
                content=_reference_csv(),
                headers={"content-type": CSV},
            )
            assert r.status_code == 200, r.text
        yield url, key
    finally:
        stop_server(server, thread)
        store.close()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, api: tuple[str, str]
) -> None:
    url, key = api
    case.call_and_validate(
        base_url=url,
        headers={"Authorization": f"Bearer {key}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            negative_data_rejection,
        ],
    )
