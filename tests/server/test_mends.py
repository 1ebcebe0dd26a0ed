"""Mends found by a hostile-input probe: idempotency scoped to the request path, dot-only
names, bodies of another content type, an offline ``/docs``, identical reference re-uploads,
columns in the models list, and keys revoked on every replica within 5 s."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from sightline.server.auth import CACHE_SECONDS
from sightline.store import open_store
from support.churn import BASE, SCHEMA
from support.live import Collector, free_port, wait_ready

LABELS = {"labels": [{"id": "p1", "label": 1}]}


def registered(collector: Collector, model: str = "churn", version: str = "1") -> httpx.Client:
    c = collector.client()
    r = c.put(f"/api/v1/models/{model}/versions/{version}", json=SCHEMA)
    assert r.status_code == 200, r.text
    return c


def test_an_idempotency_key_is_scoped_to_the_request_path(collector: Collector) -> None:
    c = registered(collector)
    registered(collector, "fraud")
    registered(collector, "churn", "2")
    beat = {"instance": "i", "host": "h", "pid": 1, "started_at": "2026-01-01T00:00:00Z"}
    paths = [
        "/api/v1/models/churn/versions/1/heartbeats",
        "/api/v1/models/churn/versions/2/heartbeats",
        "/api/v1/models/fraud/versions/1/heartbeats",
    ]
    for path in paths:  # the same key and body on three paths: three stored requests
        r = c.post(path, json=beat, headers={"Idempotency-Key": "same"})
        assert r.json() == {"stored": 1, "duplicate": False}, (path, r.text)
    again = c.post(paths[2], json=beat, headers={"Idempotency-Key": "same"})
    assert again.json() == {"stored": 0, "duplicate": True}
    assert collector.store.count("heartbeats", "default") == 3
    for model in ("churn", "fraud"):  # labels: scoped to their model
        r = c.post(f"/api/v1/models/{model}/labels", json=LABELS, headers={"Idempotency-Key": "l"})
        assert r.json()["duplicate"] is False
    assert collector.store.count("labels", "default") == 2
    changed = c.post(
        paths[0], json={**beat, "pid": 2}, headers={"Idempotency-Key": "same"}
    )  # the same path, another body
    assert changed.status_code == 409


@pytest.mark.parametrize("name", [".", "..", "...", "%2E%2E", "%2e"])
def test_names_of_only_dots_are_refused(duckdb_collector: Collector, name: str) -> None:
    c = duckdb_collector.client()
    for path in (f"/api/v1/models/{name}/versions/1", f"/api/v1/models/m/versions/{name}"):
        r = c.put(path, json=SCHEMA)
        if r.status_code == 404:  # the client or router normalised the dots away
            assert "Not Found" in r.json()["error"]
            continue
        assert r.status_code == 422, (path, r.text)
        assert r.json()["field"] in ("model", "version")
    assert duckdb_collector.store.list_versions("default") == []
    assert c.put("/api/v1/models/v1.2/versions/.1", json=SCHEMA).status_code == 200


def test_a_body_of_another_content_type_is_415(duckdb_collector: Collector) -> None:
    c = registered(duckdb_collector)
    text = {"Content-Type": "text/plain"}
    import json

    body = json.dumps(SCHEMA).encode()
    r = c.put("/api/v1/models/other/versions/1", content=body, headers=text)
    assert r.status_code == 415 and r.json()["field"] == "Content-Type"
    assert "application/json" in r.json()["error"]
    beat = json.dumps({"instance": "i", "host": "h", "pid": 1, "started_at": 0}).encode()
    for path, payload in (
        (f"{BASE}/heartbeats", beat),
        ("/api/v1/models/churn/labels", json.dumps(LABELS).encode()),
        (f"{BASE}/profiles", b"SLPF"),
    ):
        r = c.post(path, content=payload, headers={**text, "Idempotency-Key": "k"})
        assert r.status_code == 415, (path, r.text)
    r = c.put("/api/v1/models/churn/settings", content=b'{"window": "5m"}', headers=text)
    assert r.status_code == 415
    r = c.post("/api/v1/keys", content=b'{"scope": "read"}', headers=text)
    assert r.status_code == 415
    r = c.put(f"{BASE}/reference", content=b"age,city,score\n1,a,2\n")  # which of three?
    assert r.status_code == 415 and "text/csv" in r.json()["error"]
    assert duckdb_collector.store.count("heartbeats", "default") == 0
    assert duckdb_collector.store.count("labels", "default") == 0
    assert duckdb_collector.store.count_keys() == 1
    assert [v.model for v in duckdb_collector.store.list_versions("default")] == ["churn"]
    # Declared JSON (with parameters) and undeclared bodies are still read.
    ok = c.post(
        f"{BASE}/heartbeats",
        content=beat,
        headers={"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": "k"},
    )
    assert ok.status_code == 200, ok.text


def test_docs_is_a_local_page(duckdb_collector: Collector) -> None:
    c = duckdb_collector.client()
    page = c.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http://" not in page.text and "https://" not in page.text  # nothing from a CDN
    assert "/openapi.json" in page.text
    for path in c.get("/openapi.json").json()["paths"]:
        assert path.replace("{", "&#x7b;") in page.text or path in page.text
    assert c.get("/redoc").status_code == 404


def _csv(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pacsv.write_csv(table, sink)
    return sink.getvalue()


def test_an_identical_reference_upload_is_a_no_op(collector: Collector) -> None:
    c = registered(collector)
    reference = pa.table(
        {"age": [float(i) for i in range(200)], "city": ["a", "b"] * 100, "score": [0.5] * 200}
    )
    headers = {"Content-Type": "text/csv"}
    first = c.put(f"{BASE}/reference", content=_csv(reference), headers=headers)
    assert first.status_code == 200, first.text
    fitted = first.json()["fitted"]
    assert fitted["bins"]["age"] >= 2 and fitted["vocabularies"] == {"city": 2}
    assert fitted["estimator"] is None and "target" in fitted["estimator_note"]
    stored = collector.store.get_version("default", "churn", "1").reference
    again = c.put(f"{BASE}/reference", content=_csv(reference), headers=headers)
    assert again.status_code == 200 and again.json()["fitted"] == fitted
    assert collector.store.get_version("default", "churn", "1").reference == stored
    other = reference.set_column(0, "age", pa.array([float(2 * i) for i in range(200)]))
    refused = c.put(f"{BASE}/reference", content=_csv(other), headers=headers)
    assert refused.status_code == 409


def test_the_models_list_shows_the_columns(duckdb_collector: Collector) -> None:
    c = registered(duckdb_collector)
    (listed,) = c.get("/api/v1/models").json()["versions"]
    assert listed["columns"] == [
        {"name": c["name"], "role": c["role"], "kind": c["kind"]} for c in SCHEMA["columns"]
    ]


def test_keys_list_and_revoke_scopes(collector: Collector) -> None:
    admin = collector.client()
    created = admin.post("/api/v1/keys", json={"scope": "ingest"}).json()
    ingest = collector.client(created["key"])
    assert ingest.get("/api/v1/keys").status_code == 403
    assert ingest.delete(f"/api/v1/keys/{created['id']}").status_code == 403
    listed = admin.get("/api/v1/keys").json()["keys"]
    assert [k["scope"] for k in listed] == ["admin", "ingest"]
    assert all(set(k) == {"id", "scope", "created_at"} for k in listed)
    assert admin.delete(f"/api/v1/keys/{created['id']}").status_code == 204
    assert ingest.get("/api/v1/models").status_code == 401
    missing = admin.delete(f"/api/v1/keys/{created['id']}")
    assert missing.status_code == 404 and created["id"] in missing.json()["error"]
    theirs = collector.store.create_key("other", "read")  # another project's key
    assert admin.delete(f"/api/v1/keys/{theirs.split('_')[1]}").status_code == 404
    assert collector.store.authenticate(theirs) is not None
    assert all(k["id"] != theirs.split("_")[1] for k in admin.get("/api/v1/keys").json()["keys"])


# -- two collector processes on one PostgreSQL database -------------------------------------


@pytest.fixture
def two_replicas(postgres_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """Two ``sightline serve`` processes on ``postgres_url``; their URLs."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    urls, procs = [], []
    try:
        for i in range(2):
            port = free_port()
            with (tmp_path / f"replica{i}.log").open("wb") as log:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "sightline.cli", "serve", "--store", postgres_url,
                         "--port", str(port), "--schedule-every", "0"],
                        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                    )
                )  # fmt: skip
            urls.append(f"http://127.0.0.1:{port}")
        for i, (proc, url) in enumerate(zip(procs, urls, strict=True)):
            wait_ready(url, proc, tmp_path / f"replica{i}.log")
        yield urls
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(timeout=20)


def test_a_revoked_key_is_refused_by_every_replica_within_5_s(
    postgres_url: str, two_replicas: list[str]
) -> None:
    store = open_store(postgres_url)
    try:
        admin = store.create_key("default", "admin")
        reader = store.create_key("default", "read")
    finally:
        store.close()
    a, b = (httpx.Client(base_url=u, timeout=5) for u in two_replicas)
    with a, b:
        as_reader = {"Authorization": f"Bearer {reader}"}
        for replica in (a, b):  # both replicas now hold the key in their cache
            assert replica.get("/api/v1/models", headers=as_reader).status_code == 200
        key_id = reader.split("_")[1]
        revoked = a.delete(f"/api/v1/keys/{key_id}", headers={"Authorization": f"Bearer {admin}"})
        assert revoked.status_code == 204, revoked.text
        at = time.monotonic()
        assert a.get("/api/v1/models", headers=as_reader).status_code == 401  # at once here
        while b.get("/api/v1/models", headers=as_reader).status_code == 200:
            assert time.monotonic() - at < 5, "replica b still accepts the revoked key after 5 s"
            time.sleep(0.1)
        took = time.monotonic() - at
        assert took <= CACHE_SECONDS + 0.5
        assert b.get("/api/v1/models", headers=as_reader).json()["field"] == "Authorization"
