"""Hostile requests through a real collector, on both stores: each is refused with the right
status and a message that names the field or the limit, and stores nothing.

Also keys and scopes, the isolation of projects, and the rate and admission limits of an
app built with small ones (acknowledged batches are all stored, refused ones are not).
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
import uvicorn

from sightline.profile import Profile
from sightline.server.app import create_app
from sightline.server.bodies import ARROW, CSV, PROFILE
from sightline.server.limits import LimitStats, RequestLimits
from sightline.server.state import Settings
from sightline.store import Store, open_store
from support.churn import BASE, SCHEMA
from support.live import Collector, start_server, stop_server
from support.payloads import MiB, gzip_zeros

LIMIT = 8 * MiB  # RequestLimits().max_body_bytes
PREDICTIONS = f"{BASE}/predictions"
LABELS = "/api/v1/models/churn/labels"
SAMPLES = f"{BASE}/samples"
HEARTBEATS = f"{BASE}/heartbeats"
PROFILES = f"{BASE}/profiles"
TABLES = ("predictions", "labels", "samples", "heartbeats", "profiles", "ingest_requests")
T0 = datetime(2026, 11, 1, tzinfo=UTC)


# -- helpers ---------------------------------------------------------------------------------


def stored(store: Store, project: str = "default") -> dict[str, int]:
    """Rows of every ingested table (and of the idempotency table) of ``project``."""
    return {table: store.count(table, project) for table in TABLES}


def refused(response: httpx.Response, status: int, field: str | None, *words: str) -> str:
    """Check a refusal: its status, its JSON shape, its field, and that its message says
    each of ``words``; return the message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    payload = response.json()
    assert set(payload) == {"error", "field"}, payload
    assert payload["field"] == field, payload
    for word in words:
        assert word.lower() in payload["error"].lower(), (word, payload)
    return str(payload["error"])


def arrow_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def records(n: int = 3) -> list[dict[str, object]]:
    return [
        {"id": f"p{i}", "timestamp": (T0 + timedelta(seconds=i)).isoformat(), "prediction": 0.5}
        for i in range(n)
    ]


def predictions_table(n: int = 3) -> pa.Table:
    return pa.table(
        {
            "id": [f"a{i}" for i in range(n)],
            "timestamp": pa.array(
                [T0 + timedelta(seconds=i) for i in range(n)], pa.timestamp("us")
            ),
            "prediction": np.zeros(n),
            "probability": np.full(n, 0.5),
        }
    )


def reference_csv(drop: str | None = None) -> bytes:
    rng = np.random.default_rng(7)
    table = pa.table(
        {
            "age": rng.normal(40, 10, 100),
            "city": rng.choice(["a", "b", "c"], 100),
            "score": rng.uniform(0, 1, 100),
        }
    )
    if drop is not None:
        table = table.drop_columns([drop])
    sink = io.BytesIO()
    pacsv.write_csv(table, sink)
    return sink.getvalue()


@dataclass(frozen=True)
class Hostile:
    """One hostile request and the refusal it must get."""

    name: str
    path: str
    body: bytes
    status: int
    field: str | None
    words: tuple[str, ...] = ()
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    method: str = "POST"
    idempotency_key: bool = True  # send a fresh Idempotency-Key


def send(c: httpx.Client, case: Hostile, n: int) -> httpx.Response:
    headers = {"content-type": case.content_type}
    if case.idempotency_key:
        headers["Idempotency-Key"] = f"hostile-{n}"
    headers.update(case.headers)
    return c.request(case.method, case.path, content=case.body, headers=headers)


def check_all(collector: Collector, c: httpx.Client, cases: list[Hostile]) -> None:
    """Send every case; each must be refused as stated, and nothing may be stored."""
    before = stored(collector.store)
    for n, case in enumerate(cases):
        response = send(c, case, n)
        try:
            refused(response, case.status, case.field, *case.words)
        except AssertionError as exc:
            raise AssertionError(f"case {case.name!r}: {exc}") from None
    assert stored(collector.store) == before
    assert c.get("/healthz").status_code == 200  # the collector is still up


def dumps(value: object) -> bytes:
    return json.dumps(value).encode()


@pytest.fixture
def api(collector: Collector) -> httpx.Client:
    """An admin client of a collector with model churn version 1 registered."""
    c = collector.client()
    response = c.put(BASE, json=SCHEMA)
    assert response.status_code == 200, response.text
    return c


# -- sizes and shapes ------------------------------------------------------------------------


def test_oversized_and_deep_bodies_are_refused(collector: Collector, api: httpx.Client) -> None:
    million_items = b'{"records": [' + b",".join([b"{}"] * 1_000_000) + b"]}"
    million_numbers = (
        b'{"records": [{"id": "a", "timestamp": 0, "prediction": ['
        + b",".join([b"1"] * 1_000_000)
        + b"]}]}"
    )
    cases = [
        Hostile(
            "20 MiB", PREDICTIONS, bytes(20 * MiB), 413, "body", (str(LIMIT), "content-length")
        ),
        Hostile(
            "gzip bomb",
            PREDICTIONS,
            gzip_zeros(1024),  # 1 GiB of zeros in about 1 MiB
            413,
            "body",
            ("after decompression", str(LIMIT)),
            headers=(("content-encoding", "gzip"),),
        ),
        Hostile(
            "100,000 nested arrays",
            PREDICTIONS,
            b'{"records": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            400,
            "body",
            ("malformed json", "recursion"),
        ),
        Hostile(
            "nested arrays in a sample cell",
            SAMPLES,
            b'{"rows": [{"age": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]}",
            400,
            "body",
            ("recursion",),
        ),
        Hostile("a million records", PREDICTIONS, million_items, 422, "records", ("10000",)),
        Hostile(
            "a million numbers in a field",
            PREDICTIONS,
            million_numbers,
            422,
            "records.0.prediction",
            ("valid number",),
        ),
        Hostile(
            "a million labels",
            LABELS,
            b'{"labels": [' + b",".join([b"{}"] * 1_000_000) + b"]}",
            422,
            "labels",
            ("10000",),
        ),
        Hostile(
            "10,001 Arrow rows",
            PREDICTIONS,
            arrow_bytes(predictions_table(10_001)),
            413,
            "body",
            ("10001", "10000"),
            content_type=ARROW,
        ),
        Hostile(
            "10,001 JSON records",
            PREDICTIONS,
            dumps({"records": records(10_001)}),
            422,
            "records",
            ("10000",),
        ),
    ]
    check_all(collector, api, cases)


def test_non_finite_and_huge_numbers_are_refused(collector: Collector, api: httpx.Client) -> None:
    huge = "1" + "0" * 5000  # 10**5000: beyond what the JSON parser reads as a number
    big = "1" + "0" * 400  # 10**400: an integer, but no float
    beat = '{"instance": "i", "host": "h", "pid": %s, "started_at": 0}'
    cases = []
    for literal in ("NaN", "Infinity", "-Infinity"):
        cases += [
            Hostile(
                f"{literal} probability",
                PREDICTIONS,
                b'{"records": [{"id": "a", "timestamp": 0, "probability": %s}]}' % literal.encode(),
                422,
                "records.0.probability",
                ("finite",),
            ),
            Hostile(
                f"{literal} prediction",
                PREDICTIONS,
                b'{"records": [{"id": "a", "timestamp": 0, "prediction": %s}]}' % literal.encode(),
                422,
                "records.0.prediction",
                ("finite",),
            ),
            Hostile(
                f"{literal} label",
                LABELS,
                b'{"labels": [{"id": "a", "label": %s}]}' % literal.encode(),
                422,
                "labels.0.label",
                ("finite",),
            ),
            Hostile(
                f"{literal} sample cell",
                SAMPLES,
                b'{"rows": [{"age": %s}]}' % literal.encode(),
                422,
                "rows.0.age",
                ("finite",),
            ),
            Hostile(
                f"{literal} timestamp",
                PREDICTIONS,
                b'{"records": [{"id": "a", "timestamp": %s}]}' % literal.encode(),
                422,
                "records.0.timestamp",
                ("out of range",),
            ),
        ]
    # (path, body template, field, what a 10**400 refusal says)
    places = [
        (
            PREDICTIONS,
            '{"records": [{"id": "a", "timestamp": 0, "probability": %s}]}',
            "records.0.probability",
            "finite number",
        ),
        (HEARTBEATS, beat, "pid", "less than or equal to 2147483648"),
        (SAMPLES, '{"rows": [{"age": %s}]}', "rows.0.age", "finite number"),
        (
            PREDICTIONS,
            '{"records": [{"id": "a", "timestamp": %s}]}',
            "records.0.timestamp",
            "seconds since 1970 is out of range",
        ),
    ]
    for path, template, field, says in places:
        # The JSON parser reads no number of 5000 digits: malformed, at its position.
        cases.append(
            Hostile(
                f"10**5000 at {field}",
                path,
                (template % huge).encode(),
                400,
                "body",
                ("number out of range at line 1 column",),
            )
        )
        cases.append(
            Hostile(f"10**400 at {field}", path, (template % big).encode(), 422, field, (says,))
        )
    check_all(collector, api, cases)


def test_malformed_json_is_refused(collector: Collector, api: httpx.Client) -> None:
    one = {"id": "a", "timestamp": T0.isoformat()}
    beat = {"instance": "i", "host": "h", "pid": 1, "started_at": T0.isoformat()}
    cases = [
        Hostile("not JSON", PREDICTIONS, b"{'records': }", 400, "body", ("malformed json",)),
        Hostile("empty body", PREDICTIONS, b"", 400, "body", ("malformed json",)),
        Hostile("JSON null", PREDICTIONS, b"null", 422, "body"),
        Hostile("a list", PREDICTIONS, b"[]", 422, "body"),
        Hostile("records not a list", PREDICTIONS, dumps({"records": "x"}), 422, "records"),
        Hostile("empty records", PREDICTIONS, dumps({"records": []}), 422, "records", ("1 item",)),
        Hostile("empty labels", LABELS, dumps({"labels": []}), 422, "labels", ("1 item",)),
        Hostile("empty rows", SAMPLES, dumps({"rows": []}), 422, "rows", ("1 item",)),
        Hostile(
            "id a number",
            PREDICTIONS,
            dumps({"records": [{**one, "id": 5}]}),
            422,
            "records.0.id",
            ("string",),
        ),
        Hostile(
            "empty id",
            PREDICTIONS,
            dumps({"records": [{**one, "id": ""}]}),
            422,
            "records.0.id",
            ("at least 1",),
        ),
        Hostile(
            "id with a NUL",
            PREDICTIONS,
            dumps({"records": [{**one, "id": "a\x00b"}]}),
            422,
            "records.0.id",
        ),
        Hostile(
            "label with a NUL",
            LABELS,
            dumps({"labels": [{"id": "a", "label": "x\x00"}]}),
            422,
            "labels.0.label",
        ),
        Hostile(
            "probability a string",
            PREDICTIONS,
            dumps({"records": [{**one, "probability": "0.5"}]}),
            422,
            "records.0.probability",
            ("number",),
        ),
        Hostile(
            "probability a boolean",
            PREDICTIONS,
            dumps({"records": [{**one, "probability": False}]}),
            422,
            "records.0.probability",
        ),
        Hostile(
            "probability 1.5",
            PREDICTIONS,
            dumps({"records": [{**one, "probability": 1.5}]}),
            422,
            "records.0.probability",
            ("less than or equal to 1",),
        ),
        Hostile(
            "timestamp a boolean",
            PREDICTIONS,
            dumps({"records": [{**one, "timestamp": True}]}),
            422,
            "records.0.timestamp",
        ),
        Hostile(
            "timestamp not a time",
            PREDICTIONS,
            dumps({"records": [{**one, "timestamp": "yesterday"}]}),
            422,
            "records.0.timestamp",
        ),
        Hostile(
            "timestamp beyond UTC",
            PREDICTIONS,
            dumps({"records": [{**one, "timestamp": "0001-01-01T00:00:00+01:00"}]}),
            422,
            "records.0.timestamp",
            ("out of range",),
        ),
        Hostile(
            "prediction a list",
            PREDICTIONS,
            dumps({"records": [{**one, "prediction": [1]}]}),
            422,
            "records.0.prediction",
            ("valid number or a valid string",),
        ),
        Hostile(
            "unknown record field",
            PREDICTIONS,
            dumps({"records": [{**one, "extra": 1}]}),
            422,
            "records.0.extra",
            ("extra",),
        ),
        Hostile(
            "unknown top-level field",
            PREDICTIONS,
            dumps({"records": [one], "model": "x"}),
            422,
            "model",
            ("extra",),
        ),
        Hostile(
            "missing id",
            PREDICTIONS,
            dumps({"records": [{"timestamp": 0}]}),
            422,
            "records.0.id",
            ("required",),
        ),
        Hostile(
            "no Idempotency-Key",
            PREDICTIONS,
            dumps({"records": [one]}),
            422,
            "Idempotency-Key",
            ("field required",),
            idempotency_key=False,
        ),
        Hostile(
            "Idempotency-Key with a space",
            PREDICTIONS,
            dumps({"records": [one]}),
            422,
            "Idempotency-Key",
            headers=(("Idempotency-Key", "a b"),),
        ),
        Hostile("pid a float", HEARTBEATS, dumps({**beat, "pid": 1.0}), 422, "pid", ("integer",)),
        Hostile("pid a string", HEARTBEATS, dumps({**beat, "pid": "1"}), 422, "pid", ("integer",)),
        Hostile("pid negative", HEARTBEATS, dumps({**beat, "pid": -1}), 422, "pid"),
        Hostile("dropped negative", HEARTBEATS, dumps({**beat, "dropped": -1}), 422, "dropped"),
        Hostile("host missing", HEARTBEATS, dumps({**beat, "host": None}), 422, "host"),
        Hostile(
            "sample with an unknown column",
            SAMPLES,
            dumps({"rows": [{"age": 1}, {"age": 2, "height": 3}]}),
            422,
            "rows.1.height",
            ("unknown column", "height"),
        ),
        Hostile(
            "sample cell a list",
            SAMPLES,
            dumps({"rows": [{"age": [1]}]}),
            422,
            "rows.0.age",
        ),
        Hostile(
            "sample cell too long",
            SAMPLES,
            dumps({"rows": [{"city": "x" * 10_001}]}),
            422,
            "rows.0.city",
            ("10000",),
        ),
    ]
    check_all(collector, api, cases)


def test_unknown_model_or_version_is_not_found(collector: Collector, api: httpx.Client) -> None:
    batch = dumps({"records": records()})
    beat = dumps({"instance": "i", "host": "h", "pid": 1, "started_at": 0})
    cases = [
        Hostile(
            "unknown version", f"{BASE}2/predictions", batch, 404, "version", ("not registered",)
        ),
        Hostile(
            "unknown model",
            "/api/v1/models/nope/versions/1/predictions",
            batch,
            404,
            "version",
            ("'nope'",),
        ),
        Hostile("labels of an unknown model", "/api/v1/models/nope/labels", b"{}", 404, "model"),
        Hostile("heartbeat of an unknown version", f"{BASE}2/heartbeats", beat, 404, "version"),
        Hostile("profile of an unknown version", f"{BASE}2/profiles", b"x", 404, "version"),
        Hostile("samples of an unknown version", f"{BASE}2/samples", b"{}", 404, "version"),
        Hostile(
            "reference of an unknown version",
            f"{BASE}2/reference",
            reference_csv(),
            404,
            "version",
            method="PUT",
            content_type=CSV,
        ),
        Hostile(
            "a model name with a slash: no route",
            "/api/v1/models/a%2Fb/versions/1/predictions",
            batch,
            404,
            None,
            ("not found",),
        ),
    ]
    check_all(collector, api, cases)


def test_hostile_queries_are_refused(collector: Collector, api: httpx.Client) -> None:
    metrics = "/api/v1/models/churn/metrics"
    health = "/api/v1/models/churn/health"
    cases = [
        (f"{metrics}?until=0001-01-01T00:00:00Z", "until", "after 0001-01-03"),
        (f"{health}?since=2000-01-01T00:00:00Z&until=0001-01-01T00:01:00Z", "until", "after"),
        (f"{metrics}?until=9999-12-31T23:00:00-05:00", "until", "out of range in utc"),
        (f"{metrics}?until=0.5", "until", "iso 8601"),  # not seconds since 1970
        (f"{metrics}?since=1700000000", "since", "iso 8601"),
        (f"{metrics}?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "since", "before"),
        (f"{metrics}?since=2024-01-01T00:00:00Z&until=2026-01-01T00:00:00Z", "since", "400 days"),
        (f"{metrics}?version=a%00b", "version", "pattern"),  # PostgreSQL text has no NUL
        (f"{metrics}?column=%00", "column", "pattern"),
        (f"{metrics}?max_points=0", "max_points", "greater than or equal to 1"),
        (f"{health}?timeout=0", "timeout", "greater than 0"),
        ("/api/v1/models/churn%00/metrics", "model", "pattern"),
    ]
    for url, field, says in cases:
        try:
            refused(api.get(url), 422, field, says)
        except AssertionError as exc:
            raise AssertionError(f"{url}: {exc}") from None
    # Starlette's own answers have the API's shape too.
    refused(api.get("/api/v1/nothing"), 404, None, "not found")
    wrong = api.delete("/api/v1/models")
    refused(wrong, 405, "method", "method not allowed")
    assert wrong.headers["allow"] == "GET"


# -- Arrow -------------------------------------------------------------------------------------


def test_hostile_arrow_is_refused(collector: Collector, api: httpx.Client) -> None:
    good = predictions_table()
    stream = arrow_bytes(good)
    rng = np.random.default_rng(5)

    def with_column(name: str, values: pa.Array) -> bytes:
        table = good.drop_columns([name]) if name in good.column_names else good
        return arrow_bytes(table.append_column(name, values))

    cases = [
        Hostile("truncated", PREDICTIONS, stream[: len(stream) // 2], 400, "body", ("arrow",)),
        Hostile("random bytes", PREDICTIONS, rng.bytes(4096), 400, "body", ("arrow",)),
        Hostile("empty", PREDICTIONS, b"", 400, "body", ("arrow",)),
        Hostile(
            "NaN probability",
            PREDICTIONS,
            with_column("probability", pa.array([0.5, float("nan"), 0.5])),
            422,
            "probability",
            ("nan",),
        ),
        Hostile(
            "probability 1.5",
            PREDICTIONS,
            with_column("probability", pa.array([0.5, 1.5, 0.5])),
            422,
            "probability",
            ("outside",),
        ),
        Hostile(
            "infinite prediction",
            PREDICTIONS,
            with_column("prediction", pa.array([0.0, float("inf"), 1.0])),
            422,
            "prediction",
            ("infinity",),
        ),
        Hostile(
            "id of floats",
            PREDICTIONS,
            with_column("id", pa.array([1.0, 2.0, 3.0])),
            422,
            "id",
            ("strings",),
        ),
        Hostile(
            "timestamp of strings",
            PREDICTIONS,
            with_column("timestamp", pa.array(["2026-01-01"] * 3)),
            422,
            "timestamp",
            ("timestamp",),
        ),
        Hostile(
            "timestamp beyond microseconds",
            PREDICTIONS,
            with_column("timestamp", pa.array([10**17] * 3, pa.timestamp("s"))),
            422,
            "timestamp",
            ("invalid timestamps",),
        ),
        Hostile(
            "probability of strings",
            PREDICTIONS,
            with_column("probability", pa.array(["0.5"] * 3)),
            422,
            "probability",
            ("numbers",),
        ),
        Hostile(
            "unknown column",
            PREDICTIONS,
            with_column("extra", pa.array([1, 2, 3])),
            422,
            "extra",
            ("unknown column",),
        ),
        Hostile(
            "null id",
            PREDICTIONS,
            with_column("id", pa.array(["a", None, "c"])),
            422,
            "id",
            ("null",),
        ),
        Hostile(
            "id with a NUL",
            PREDICTIONS,
            with_column("id", pa.array(["a", "b\x00", "c"])),
            422,
            "id",
        ),
        Hostile(
            "missing timestamp",
            PREDICTIONS,
            arrow_bytes(good.drop_columns(["timestamp"])),
            422,
            "timestamp",
            ("missing",),
        ),
        Hostile(
            "id twice",
            PREDICTIONS,
            arrow_bytes(good.append_column("id", pa.array(["x", "y", "z"]))),
            422,
            "id",
            ("more than once",),
        ),
        Hostile(
            "no rows",
            PREDICTIONS,
            arrow_bytes(good.slice(0, 0)),
            422,
            "body",
            ("no rows",),
        ),
        Hostile(
            "label of booleans",
            LABELS,
            arrow_bytes(pa.table({"id": ["a"], "label": [True]})),
            422,
            "label",
            content_type=ARROW,
        ),
        Hostile(
            "sample with an unknown column",
            SAMPLES,
            arrow_bytes(pa.table({"age": [1.0], "height": [2.0]})),
            422,
            "height",
            ("unknown column",),
            content_type=ARROW,
        ),
    ]
    cases = [
        c if c.content_type == ARROW else Hostile(**{**c.__dict__, "content_type": ARROW})
        for c in cases
    ]
    check_all(collector, api, cases)


# -- profiles and references -------------------------------------------------------------------


def test_hostile_profiles_and_references_are_refused(
    collector: Collector, api: httpx.Client
) -> None:
    rng = np.random.default_rng(11)
    profile = Profile.from_data({"age": rng.normal(40, 10, 100)}).to_bytes()
    cases = [
        Hostile("random bytes", PROFILES, rng.bytes(2048), 400, "body", ("malformed profile",)),
        Hostile("truncated profile", PROFILES, profile[:-10], 400, "body", ("malformed profile",)),
        Hostile("empty profile", PROFILES, b"", 400, "body", ("malformed profile",)),
        Hostile(
            "another schema",
            PROFILES,
            profile,
            422,
            "city",  # the first column that differs: the profile has age only
            ("registered schema", "score"),
        ),
    ]
    cases = [Hostile(**{**c.__dict__, "content_type": PROFILE}) for c in cases]
    reference = f"{BASE}/reference"
    cases += [
        Hostile(
            "CSV without a schema column",
            reference,
            reference_csv(drop="score"),
            422,
            "score",
            ("lacks", "score"),
            content_type=CSV,
            method="PUT",
        ),
        Hostile(
            "CSV of random bytes",
            reference,
            b"\x89PNG\r\n\x1a\n" + rng.bytes(512),
            400,
            "body",
            ("cannot read",),
            content_type=CSV,
            method="PUT",
        ),
        Hostile(
            "CSV whose header is not UTF-8",  # pyarrow 15 decodes names only when asked
            reference,
            b"\x89age,city,score\n1,a,0.5\n",
            400,
            "body",
            ("cannot read",),
            content_type=CSV,
            method="PUT",
        ),
        Hostile(
            "CSV whose city is not UTF-8",
            reference,
            b"age,city,score\n1,\xff\xfe,0.5\n2,b,0.7\n",
            400,
            "city",
            ("not utf-8",),
            content_type=CSV,
            method="PUT",
        ),
        Hostile(
            "CSV with a column twice",
            reference,
            b"age,city,score,age\n1,a,0.5,2\n",
            422,
            "age",
            ("more than once",),
            content_type=CSV,
            method="PUT",
        ),
        Hostile(
            "Parquet of random bytes",
            reference,
            rng.bytes(512),
            400,
            "body",
            ("cannot read",),
            content_type="application/vnd.apache.parquet",
            method="PUT",
        ),
        Hostile(
            "truncated reference profile",
            reference,
            profile[:-10],
            400,
            "body",
            content_type=PROFILE,
            method="PUT",
        ),
        Hostile(
            "JSON reference",
            reference,
            b"{}",
            415,
            "Content-Type",
            ("text/csv",),
            method="PUT",
        ),
    ]
    check_all(collector, api, cases)
    assert api.get(BASE).json()["has_reference"] is False
    assert api.get(f"{BASE}/reference").status_code == 404


# -- keys, scopes and projects -------------------------------------------------------------------


def test_keys_and_scopes(collector: Collector, api: httpx.Client) -> None:
    store = collector.store
    batch = {"records": records()}
    key = {"Idempotency-Key": "k1"}
    before = stored(store)
    anonymous = collector.client(key="")
    refused(anonymous.get("/api/v1/models"), 401, "Authorization", "missing api key")
    refused(anonymous.post(PREDICTIONS, json=batch, headers=key), 401, "Authorization")
    wrong = collector.client(key=collector.admin_key[:-1] + "x")
    refused(wrong.get("/api/v1/models"), 401, "Authorization", "invalid api key")
    refused(collector.client(key="sl_nothing").get("/api/v1/models"), 401, "Authorization")
    basic = httpx.Client(base_url=collector.url, auth=("user", "password"))
    try:
        refused(basic.get("/api/v1/models"), 401, "Authorization")
    finally:
        basic.close()
    reader = collector.client(key=store.create_key("default", "read"))
    ingester = collector.client(key=store.create_key("default", "ingest"))
    refused(reader.post(PREDICTIONS, json=batch, headers=key), 403, "Authorization", "'read'")
    refused(reader.put(f"{BASE}2", json=SCHEMA), 403, "Authorization", "needs ingest")
    refused(ingester.post("/api/v1/keys", json={"scope": "admin"}), 403, "Authorization", "ingest")
    refused(ingester.get("/api/v1/models/churn/metrics"), 403, "Authorization")
    assert stored(store) == before
    assert store.count_keys() == 3  # admin, read, ingest: none created by the ingest key
    assert [v["version"] for v in api.get("/api/v1/models").json()["versions"]] == ["1"]
    # What each scope may do, it does.
    assert reader.get("/api/v1/models/churn/metrics").status_code == 200
    assert ingester.post(PREDICTIONS, json=batch, headers=key).json()["stored"] == 3
    created = api.post("/api/v1/keys", json={"scope": "read"}).json()
    assert created["project"] == "default" and created["scope"] == "read"
    assert collector.client(key=created["key"]).get("/api/v1/models").status_code == 200


def metric_rows(project: str, column: str, value: float) -> pa.Table:
    ts = pa.timestamp("us")
    # A window of 10 minutes that ended 5 minutes ago: fresh, so /metrics exports it.
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=15)
    return pa.table(
        {
            "project": [project],
            "model": ["churn"],
            "version": ["1"],
            "window_start": pa.array([start], ts),
            "window_end": pa.array([start + timedelta(minutes=10)], ts),
            "column_name": [column],
            "metric": ["jensen_shannon"],
            "value": [value],
            "lower_bound": pa.array([None], pa.float64()),
            "upper_bound": [0.1],
            "alert": [True],
            "n_ref": pa.array([100], pa.int64()),
            "n_cur": pa.array([10], pa.int64()),
            "method": ["jensen_shannon"],
            "p_value": pa.array([None], pa.float64()),
            "kind": ["drift"],
            "computed_at": pa.array([start], ts),
        }
    )


def test_a_project_never_sees_or_touches_another(collector: Collector, api: httpx.Client) -> None:
    store = collector.store
    # Project "default" (B): model churn with data, a heartbeat and a metric row.
    r = api.post(PREDICTIONS, json={"records": records()}, headers={"Idempotency-Key": "b1"})
    assert r.status_code == 200, r.text
    beat = {"instance": "b-pod", "host": "b-host", "pid": 1, "started_at": T0.isoformat()}
    assert api.post(HEARTBEATS, json=beat, headers={"Idempotency-Key": "b2"}).status_code == 200
    store.insert_rows("metric_rows", metric_rows("default", "b_only_column", 0.25))
    b_before = stored(store)
    b_schema = api.get(BASE).json()["columns"]
    # Project A: the same model name and version, another schema, the same idempotency keys.
    a = collector.client(key=store.create_key("A", "admin"))
    theirs = {"columns": [{"name": "height", "role": "feature", "kind": "numeric"}]}
    assert a.put(BASE, json=theirs).status_code == 200  # not a conflict with B's schema
    assert [v["model"] for v in a.get("/api/v1/models").json()["versions"]] == ["churn"]
    assert [c["name"] for c in a.get(BASE).json()["columns"]] == ["height"]
    r = a.post(PREDICTIONS, json={"records": records(5)}, headers={"Idempotency-Key": "b1"})
    assert r.json() == {"stored": 5, "duplicate": False}  # B's key is not A's
    # A sees none of B's rows, health or gauges.
    assert a.get("/api/v1/models/churn/metrics").json() == {"rows": []}
    assert a.get("/api/v1/models/churn/drift/latest").json() == {"rows": []}
    health = a.get("/api/v1/models/churn/health").json()
    assert health["instances"] == [] and health["live_instances"] == 0
    assert "b_only_column" not in a.get("/metrics").text
    assert "b_only_column" in api.get("/metrics").text
    # The collector's ingest counters are per project too: A counts its own 5 rows only.
    counted = 'sightline_ingested_rows_total{kind="predictions"}'
    assert f"{counted} 5.0" in a.get("/metrics").text
    assert f"{counted} {len(records())}.0" in api.get("/metrics").text
    assert a.get(f"{BASE}/reference").status_code == 404
    # B is untouched: its schema, its rows, its metric rows, its health.
    assert api.get(BASE).json()["columns"] == b_schema
    assert stored(store) == b_before
    assert stored(store, "A")["predictions"] == 5
    rows = api.get("/api/v1/models/churn/metrics").json()["rows"]
    assert [r["column"] for r in rows] == ["b_only_column"]
    assert [i["instance"] for i in api.get("/api/v1/models/churn/health").json()["instances"]] == [
        "b-pod"
    ]
    # A key of A cannot name B's data by any path: a model only B has is unknown to A.
    assert api.put("/api/v1/models/b_model/versions/1", json=SCHEMA).status_code == 200
    refused(
        a.post(
            "/api/v1/models/b_model/versions/1/predictions",
            json={"records": records()},
            headers={"Idempotency-Key": "a9"},
        ),
        404,
        "version",
    )
    refused(
        a.post("/api/v1/models/b_model/labels", json={}, headers={"Idempotency-Key": "a8"}),
        404,
        "model",
    )
    created = a.post("/api/v1/keys", json={"scope": "read"}).json()
    assert created["project"] == "A"


# -- rate and admission limits ---------------------------------------------------------------


Start = Callable[[RequestLimits], tuple[Collector, LimitStats]]


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Start]:
    """Start collectors with the given limits over DuckDB, each with model churn version 1
    and an ingest key; return (collector, the app's limit counters)."""
    running: list[tuple[uvicorn.Server, threading.Thread, Store]] = []
    collectors: list[Collector] = []

    def start(limits: RequestLimits) -> tuple[Collector, LimitStats]:
        store = open_store(tmp_path / f"data{len(running)}")
        store.register_version("default", "churn", "1", SCHEMA)
        app = create_app(store, Settings(limits=limits))
        server, thread, url = start_server(app)
        running.append((server, thread, store))
        live = Collector(url, store, store.create_key("default", "ingest"))
        collectors.append(live)
        return live, app.state.limit_stats

    yield start
    for live in collectors:
        for c in live.clients:
            c.close()
    for server, thread, store in running:
        stop_server(server, thread)
        store.close()


def test_rate_limit_refuses_with_retry_after_and_stores_only_acknowledged(limited: Start) -> None:
    live, _ = limited(RequestLimits(rate_per_second=0.01, burst=3))
    c = live.client()
    # The key's first request, before it is verified, counts against the client address;
    # then three against the key's own bucket.
    answers = [
        c.post(PREDICTIONS, json={"records": records(4)}, headers={"Idempotency-Key": f"r{i}"})
        for i in range(6)
    ]
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 429, 429]
    for r in answers[4:]:
        refused(r, 429, None, "rate limit", "burst 3")
        assert int(r.headers["retry-after"]) >= 1
    assert live.store.count("predictions", "default") == 4 * 4
    assert live.store.count("ingest_requests", "default") == 4
    # Another key has its own bucket, once verified (its first request takes the
    # address's second token).
    other = live.client(key=live.store.create_key("default", "ingest"))
    for i in range(2):
        r = other.post(
            PREDICTIONS, json={"records": records(4)}, headers={"Idempotency-Key": f"o{i}"}
        )
        assert r.status_code == 200
    assert live.store.count("predictions", "default") == 6 * 4


def test_a_wrong_secret_cannot_spend_a_keys_rate_budget(limited: Start) -> None:
    live, _ = limited(RequestLimits(rate_per_second=0.01, burst=3))
    c = live.client()

    def send(client: httpx.Client, key: str) -> int:
        body = {"records": records(1)}
        return client.post(PREDICTIONS, json=body, headers={"Idempotency-Key": key}).status_code

    assert send(c, "first") == 200  # verified now; the address has 2 tokens left
    forged = live.client(key=f"sl_{live.admin_key.split('_')[1]}_not-the-secret")
    assert [send(forged, f"f{i}") for i in range(5)] == [401, 401, 429, 429, 429]
    assert [send(c, f"k{i}") for i in range(4)] == [200, 200, 200, 429]  # its own 3 tokens
    assert live.store.count("predictions", "default") == 4


def test_overload_refuses_with_retry_after_and_stores_only_acknowledged(limited: Start) -> None:
    live, stats = limited(RequestLimits(max_inflight=1, retry_after_seconds=2))
    c = live.client()
    gate = threading.Event()
    body = json.dumps({"records": records(7)}).encode()

    def slow_body() -> Iterator[bytes]:
        yield body[:10]  # the request is admitted, then its body waits for the gate
        gate.wait(20)
        yield body[10:]

    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(
            c.post,
            PREDICTIONS,
            content=slow_body(),
            headers={"Idempotency-Key": "slow", "content-type": "application/json"},
        )
        try:
            wait_for(lambda: stats.inflight == 1)
            busy = c.post(
                PREDICTIONS, json={"records": records(2)}, headers={"Idempotency-Key": "b"}
            )
            refused(busy, 503, None, "limit of 1 requests in progress")
            assert busy.headers["retry-after"] == "2"
            assert c.get("/healthz").status_code == 200  # exempt from admission
        finally:
            gate.set()
        assert first.result().json() == {"stored": 7, "duplicate": False}
    wait_for(lambda: stats.inflight == 0)
    assert live.store.count("predictions", "default") == 7
    assert live.store.count("ingest_requests", "default") == 1


def test_concurrent_overload_stores_exactly_the_acknowledged_batches(limited: Start) -> None:
    live, _ = limited(RequestLimits(max_inflight=2, rate_per_second=1000, burst=1000))
    clients = [live.client() for _ in range(8)]

    def send_batch(i: int) -> int:
        body = {"records": [{**r, "id": f"{i}-{r['id']}"} for r in records(5)]}
        c = clients[i % len(clients)]
        return c.post(PREDICTIONS, json=body, headers={"Idempotency-Key": f"c{i}"}).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(send_batch, range(40)))
    assert set(codes) <= {200, 503}, codes
    acknowledged = codes.count(200)
    assert acknowledged >= 1
    assert live.store.count("predictions", "default") == 5 * acknowledged
    assert live.store.count("ingest_requests", "default") == acknowledged


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)
