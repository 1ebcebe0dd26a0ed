"""The HTTP API end to end, over both stores, through a real server on loopback."""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from sightline.analysis.columns import SchemaOptions
from sightline.analysis.profiling import profile_data
from sightline.profile import Profile, Schema
from sightline.server.bodies import ARROW, PROFILE
from sightline.store import utcnow
from support.churn import BASE, SCHEMA
from support.live import Collector


def register(c: httpx.Client, version: str = "1") -> None:
    r = c.put(f"/api/v1/models/churn/versions/{version}", json=SCHEMA)
    assert r.status_code == 200, r.text


def data(n: int, seed: int = 3) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "age": rng.normal(40, 10, n),
            "city": rng.choice(["a", "b", "c"], n),
            "score": rng.uniform(0, 1, n),
        }
    )


def profile_of(table: pa.Table, reference: Profile | None = None, **fields: object) -> Profile:
    options = SchemaOptions(schema=Schema.from_dict(SCHEMA))
    return profile_data(
        table, reference=reference, columns=options, model="churn", version="1", **fields
    )  # type: ignore[arg-type]


def arrow_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def post(c: httpx.Client, path: str, key: str, **kwargs: object) -> httpx.Response:
    headers = {"Idempotency-Key": key, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    return c.post(path, headers=headers, **kwargs)  # type: ignore[arg-type]


def test_register_is_idempotent_and_schema_changes_conflict(collector: Collector) -> None:
    c = collector.client()
    register(c)
    register(c)
    r = c.put(BASE, json={"columns": [{"name": "age"}]})
    assert r.status_code == 409 and "another schema" in r.json()["error"]
    info = c.get(BASE).json()
    assert [col["name"] for col in info["columns"]] == ["age", "city", "score"]
    assert info["has_reference"] is False and info["created_at"].endswith("Z")
    listed = c.get("/api/v1/models").json()["versions"]
    assert [(v["model"], v["version"]) for v in listed] == [("churn", "1")]
    assert c.get("/api/v1/models/churn/versions/2").status_code == 404


@pytest.mark.parametrize("kind", ["csv", "parquet", "profile"])
def test_reference_upload_fixes_bins(collector: Collector, kind: str) -> None:
    c = collector.client()
    register(c)
    sink = io.BytesIO()
    if kind == "csv":
        pacsv.write_csv(data(200), sink)
        body, media = sink.getvalue(), "text/csv"
    elif kind == "parquet":
        pq.write_table(data(200), sink)
        body, media = sink.getvalue(), "application/vnd.apache.parquet"
    else:
        body, media = profile_of(data(200)).to_bytes(), PROFILE
    r = c.put(f"{BASE}/reference", content=body, headers={"content-type": media})
    assert r.status_code == 200, r.text
    assert c.get(BASE).json()["has_reference"] is True
    got = c.get(f"{BASE}/reference")
    assert got.headers["content-type"] == PROFILE
    reference = Profile.from_bytes(got.content)
    assert reference.n_rows == 200 and reference.columns["city"].counts.sum() == 200
    expected = profile_of(data(200))
    assert np.allclose(reference.columns["age"].edges, expected.columns["age"].edges)
    # A profile binned on the reference's edges is stored; one with its own edges is not.
    ok = post(c, f"{BASE}/profiles", "p1", content=profile_of(data(40, 5), reference).to_bytes())
    assert ok.status_code == 200 and ok.json() == {"stored": 1, "duplicate": False}
    own = post(c, f"{BASE}/profiles", "p2", content=profile_of(data(40, 6)).to_bytes())
    assert own.status_code == 422 and "reference" in own.json()["error"]
    # One without bins (an SDK that started before the reference) is kept for health.
    unbinned = Profile.zero(Schema.from_dict(SCHEMA), model="churn", version="1")
    late = post(c, f"{BASE}/profiles", "p3", content=unbinned.to_bytes())
    assert late.status_code == 200, late.text
    again = c.put(
        f"{BASE}/reference",
        content=profile_of(data(30)).to_bytes(),
        headers={"content-type": PROFILE},
    )
    assert again.status_code == 409, again.text
    assert collector.store.count("profiles", "default") == 2


def test_a_reference_larger_than_an_ingest_body_is_accepted(duckdb_collector: Collector) -> None:
    c = duckdb_collector.client()
    register(c)
    sink = io.BytesIO()
    pacsv.write_csv(data(250_000), sink)
    assert sink.tell() > 9 * 1024 * 1024  # over the 8 MiB of an ingest body
    r = c.put(f"{BASE}/reference", content=sink.getvalue(), headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    assert Profile.from_bytes(c.get(f"{BASE}/reference").content).n_rows == 250_000


def test_reference_needs_a_known_format(collector: Collector) -> None:
    c = collector.client()
    register(c)
    r = c.put(f"{BASE}/reference", content=b"{}", headers={"content-type": "application/json"})
    assert r.status_code == 415 and r.json()["field"] == "Content-Type"


def test_predictions_json_and_arrow_store_the_same_rows(collector: Collector) -> None:
    c = collector.client()
    register(c)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    records = [
        {"id": f"j{i}", "timestamp": (t0 + timedelta(seconds=i)).isoformat(), "prediction": i % 2}
        for i in range(10)
    ]
    records[3]["prediction"] = "yes"
    records[4]["probability"] = 0.75
    r = post(c, f"{BASE}/predictions", "json-1", json={"records": records})
    assert r.json() == {"stored": 10, "duplicate": False}
    table = pa.table(
        {
            "id": [f"a{i}" for i in range(1000)],
            "timestamp": pa.array(
                [t0 + timedelta(seconds=i) for i in range(1000)], pa.timestamp("us", "UTC")
            ),
            "prediction": np.arange(1000, dtype=np.float64),
            "probability": np.linspace(0, 1, 1000),
        }
    )
    body = arrow_bytes(table)
    r = post(c, f"{BASE}/predictions", "arrow-1", content=body, headers={"content-type": ARROW})
    assert r.json() == {"stored": 1000, "duplicate": False}
    assert post(
        c, f"{BASE}/predictions", "arrow-1", content=body, headers={"content-type": ARROW}
    ).json() == {
        "stored": 0,
        "duplicate": True,
    }
    # gzip on the wire is the same request.
    zipped = post(
        c,
        f"{BASE}/predictions",
        "arrow-1",
        content=gzip.compress(body),
        headers={"content-type": ARROW, "content-encoding": "gzip"},
    )
    assert zipped.json()["duplicate"] is True
    assert collector.store.count("predictions", "default") == 1010
    rows = collector.store._read(
        "SELECT prediction_id, ts, prediction, prediction_label, probability FROM predictions "
        "WHERE prediction_id IN ('j3', 'j4', 'a999') ORDER BY prediction_id"
    )
    assert rows[0] == ("a999", datetime(2026, 11, 1, 0, 16, 39), 999.0, None, 1.0)
    assert rows[1][2:] == (None, "yes", None)
    assert rows[2][1:] == (datetime(2026, 11, 1, 0, 0, 4), 0.0, None, 0.75)


def test_labels_samples_and_their_checks(collector: Collector) -> None:
    c = collector.client()
    assert (
        post(
            c, "/api/v1/models/churn/labels", "l0", json={"labels": [{"id": "x", "label": 1}]}
        ).status_code
        == 404
    )
    register(c)
    labels = [{"id": "p1", "label": 1}, {"id": "p2", "label": "cat"}]
    assert (
        post(c, "/api/v1/models/churn/labels", "l1", json={"labels": labels}).json()["stored"] == 2
    )
    arrow = arrow_bytes(pa.table({"id": ["p3", "p4"], "label": [0.0, 1.0]}))
    r = post(c, "/api/v1/models/churn/labels", "l2", content=arrow, headers={"content-type": ARROW})
    assert r.json()["stored"] == 2
    assert collector.store.count("labels", "default") == 4
    rows = [{"age": 31.5, "city": "a"}, {"age": None, "score": 0.2}]
    assert post(c, f"{BASE}/samples", "s1", json={"rows": rows}).json()["stored"] == 2
    bad = post(c, f"{BASE}/samples", "s2", json={"rows": [{"age": 1}, {"height": 2}]})
    assert bad.status_code == 422 and "height" in bad.json()["error"]
    stored = collector.store._read("SELECT row_json FROM samples ORDER BY row_json")
    assert sorted(json.loads(r[0])["age"] or 0 for r in stored) == [0, 31.5]
    assert collector.store.count("samples", "default") == 2


def _metric_table(project: str, start: datetime, windows: int, columns: list[str]) -> pa.Table:
    n = windows * len(columns)
    ws = [start + timedelta(minutes=w) for w in range(windows) for _ in columns]
    return pa.table(
        {
            "project": [project] * n,
            "model": ["churn"] * n,
            "version": ["1"] * n,
            "window_start": pa.array(ws, pa.timestamp("us")),
            "window_end": pa.array([w + timedelta(minutes=1) for w in ws], pa.timestamp("us")),
            "column_name": columns * windows,
            "metric": ["jensen_shannon"] * n,
            "value": [float("nan") if i == 0 else i / n for i in range(n)],
            "lower_bound": pa.nulls(n, pa.float64()),
            "upper_bound": [0.1] * n,
            "alert": [i / n > 0.1 for i in range(n)],
            "n_ref": [100] * n,
            "n_cur": [10] * n,
            "method": ["jensen_shannon"] * n,
            "p_value": pa.nulls(n, pa.float64()),
            "kind": ["drift"] * n,
            "computed_at": pa.array([start] * n, pa.timestamp("us")),
        }
    )


def test_metric_queries_and_prometheus(collector: Collector) -> None:
    c = collector.client()
    register(c)
    start = (utcnow() - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    collector.store.insert_rows("metric_rows", _metric_table("default", start, 60, ["age", "city"]))
    collector.store.insert_rows("metric_rows", _metric_table("other", start, 60, ["secret"]))
    rows = c.get("/api/v1/models/churn/metrics", params={"column": "age"}).json()["rows"]
    assert len(rows) == 60 and rows[0]["value"] is None and rows[0]["window_start"].endswith("Z")
    since = (start + timedelta(minutes=10)).isoformat() + "Z"
    until = (start + timedelta(minutes=20)).isoformat() + "Z"
    part = c.get("/api/v1/models/churn/metrics", params={"since": since, "until": until}).json()[
        "rows"
    ]
    assert len(part) == 20
    bucketed = c.get(
        "/api/v1/models/churn/metrics",
        params={
            "column": "city",
            "since": start.isoformat(),
            "until": (start + timedelta(hours=1)).isoformat(),
            "max_points": 6,
        },
    ).json()["rows"]
    assert len(bucketed) == 6 and bucketed[0]["n_cur"] == 100
    latest = c.get("/api/v1/models/churn/drift/latest").json()["rows"]
    assert [(r["column"], r["value"]) for r in latest] == [("age", 118 / 120), ("city", 119 / 120)]
    bad = c.get("/api/v1/models/churn/metrics", params={"since": until, "until": since})
    assert bad.status_code == 422 and bad.json()["field"] == "since"
    text = c.get("/metrics").text
    # The newest 1-minute window ended an hour ago, more than two windows: stale, not
    # exported (tests/server/test_prometheus.py scrapes fresh ones with Prometheus).
    assert "jensen_shannon" not in text
    assert "secret" not in text
    assert "sightline_ingested_rows" in text
    when = datetime(2026, 1, 1)
    collector.store.fail_job("default", ("churn", "1", when, "drift"), "fp", "boom", when)
    assert 'sightline_jobs_failing{model="churn"} 1.0' in c.get("/metrics").text


def test_health_overview_from_heartbeats_and_profiles(collector: Collector) -> None:
    c = collector.client()
    register(c)
    register(c, "2")
    beat = {"host": "h1", "pid": 11, "started_at": "2026-11-27T00:00:00Z"}
    for i, (instance, version) in enumerate([("i1", "1"), ("i2", "1"), ("i3", "2")]):
        r = post(
            c,
            f"/api/v1/models/churn/versions/{version}/heartbeats",
            f"hb{i}",
            json={**beat, "instance": instance, "dropped": i},
        )
        assert r.status_code == 200, r.text
    now = datetime.now(UTC)
    latencies = np.arange(1, 101, dtype=float)
    for i, part in enumerate(np.split(latencies, 4)):
        p = profile_of(data(5), window_start=now - timedelta(minutes=5), window_end=now)
        p.record_latency(part, n_errors=i)
        assert post(c, f"{BASE}/profiles", f"prof{i}", content=p.to_bytes()).status_code == 200
    health = c.get("/api/v1/models/churn/health").json()
    assert health["live_instances"] == 3
    assert [i["instance"] for i in health["instances"]] == ["i1", "i2", "i3"]
    assert health["versions_loaded"] == ["1", "2"]
    assert health["predictions"] == 100 and health["errors"] == 6
    assert health["error_rate"] == pytest.approx(0.06)
    assert health["latency_ms"]["p50"] == pytest.approx(50, abs=1.5)
    assert health["latency_ms"]["p99"] == pytest.approx(99, abs=1.5)
    assert health["dropped_events"] == 3
    assert health["uptime_percent"] == pytest.approx(100.0)  # live since the first beat
    short = c.get("/api/v1/models/churn/health", params={"timeout": 0.001}).json()
    assert short["live_instances"] == 0 and short["versions_loaded"] == []


def test_keys_endpoint_and_openapi(collector: Collector) -> None:
    c = collector.client()
    r = c.post("/api/v1/keys", json={"scope": "read"})
    assert r.status_code == 200 and r.json()["scope"] == "read"
    reader = collector.client(r.json()["key"])
    assert reader.get("/api/v1/models").status_code == 200
    assert reader.post("/api/v1/keys", json={"scope": "admin"}).status_code == 403
    doc = c.get("/openapi.json").json()
    assert "/api/v1/models/{model}/versions/{version}/predictions" in doc["paths"]
    assert {"200", "409", "413", "422", "429"} <= set(
        doc["paths"]["/api/v1/models/{model}/versions/{version}/predictions"]["post"]["responses"]
    )
    assert c.get("/healthz").json() == {"status": "ok"}
    assert c.get("/readyz").json()["status"] == "ready"


def test_arrow_samples_and_odd_references_are_checked(collector: Collector) -> None:
    c = collector.client()
    register(c)
    for table, field in (
        (pa.table({"age": [float("nan")]}), "age"),
        (pa.table({"city": [[1, 2]]}), "city"),
        (pa.table({"city": ["x" * 10_001]}), "city"),
    ):
        r = post(
            c,
            f"{BASE}/samples",
            f"s-{field}-{table.schema.types[0]}".replace(" ", ""),
            content=arrow_bytes(table),
            headers={"content-type": ARROW},
        )
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    ok = post(
        c,
        f"{BASE}/samples",
        "s-ok",
        content=arrow_bytes(pa.table({"age": [1.5], "city": ["a"]})),
        headers={"content-type": ARROW},
    )
    assert ok.json()["stored"] == 1
    assert collector.store.count("samples", "default") == 1
    sink = io.BytesIO()
    pq.write_table(pa.table({"age": [[1.0]] * 20, "city": ["a"] * 20, "score": [0.5] * 20}), sink)
    r = c.put(
        f"{BASE}/reference",
        content=sink.getvalue(),
        headers={"content-type": "application/vnd.apache.parquet"},
    )
    assert r.status_code == 422, r.text


def test_a_version_chooses_its_own_reference(collector: Collector) -> None:
    c = collector.client()
    register(c)
    register(c, "2")
    settings = f"{BASE}/settings"
    assert c.get(settings).json() == {"reference_windows": 0, "source": "model"}
    put = c.put("/api/v1/models/churn/settings", json={"reference_windows": 3})
    assert put.status_code == 200, put.text
    assert c.get(settings).json() == {"reference_windows": 3, "source": "model"}
    # Version 1 keeps its uploaded reference while the model rolls.
    assert c.put(settings, json={"reference_windows": 0}).json() == {
        "reference_windows": 0,
        "source": "version",
    }
    assert collector.store.reference_windows("default", "churn", "1") == 0
    assert collector.store.reference_windows("default", "churn", "2") == 3
    assert c.put(settings, json={"reference_windows": None}).json()["source"] == "model"
    bad = c.put(settings, json={"reference_windows": -1})
    assert bad.status_code == 422 and bad.json()["field"] == "reference_windows"
    assert c.put(settings, json={}).status_code == 422  # say which reference
    assert c.get("/api/v1/models/churn/versions/9/settings").status_code == 404
    ingest = collector.client(key=collector.store.create_key("default", "ingest"))
    assert ingest.put(settings, json={"reference_windows": 1}).status_code == 403
