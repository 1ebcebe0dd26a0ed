"""One suite for both stores: every test runs on DuckDB and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from sightline.errors import ConflictError, InvalidInputError, NotFoundError
from sightline.store import Idempotency, Store, open_store

T0 = datetime(2026, 1, 1)
T0Z = T0.replace(tzinfo=UTC)  # as rows come back: aware UTC


@pytest.fixture
def store(store_location: str) -> Iterator[Store]:
    s = open_store(store_location)
    yield s
    s.close()


def predictions(project: str, n: int, start: int = 0) -> pa.Table:
    return pa.table(
        {
            "project": [project] * n,
            "model": ["churn"] * n,
            "version": ["1"] * n,
            "prediction_id": [f"id{i}" for i in range(start, start + n)],
            "ts": [T0 + timedelta(seconds=i) for i in range(start, start + n)],
            "prediction": [float(i % 2) for i in range(n)],
            "probability": [0.25] * n,
            "received_at": [T0] * n,
        }
    )


def metric_rows(project: str, windows: int, columns: list[str], kind: str = "drift") -> pa.Table:
    rows: dict[str, list[object]] = {k: [] for k in ("window_start", "window_end", "column_name")}
    for w in range(windows):
        for c in columns:
            rows["window_start"].append(T0 + timedelta(minutes=w))
            rows["window_end"].append(T0 + timedelta(minutes=w + 1))
            rows["column_name"].append(c)
    n = len(rows["column_name"])
    return pa.table(
        {
            "project": [project] * n,
            "model": ["churn"] * n,
            "version": ["1"] * n,
            **rows,
            "metric": ["jensen_shannon"] * n,
            "value": [float(i % 10) / 10 for i in range(n)],
            "lower_bound": [None] * n,
            "upper_bound": [0.1] * n,
            "alert": [i % 10 > 1 for i in range(n)],
            "n_ref": [100] * n,
            "n_cur": [10] * n,
            "method": ["jensen_shannon"] * n,
            "p_value": [None] * n,
            "kind": [kind] * n,
            "computed_at": [T0] * n,
        },
        schema=_metric_schema(),
    )


def _metric_schema() -> pa.Schema:
    ts = pa.timestamp("us")
    return pa.schema(
        [
            ("project", pa.string()),
            ("model", pa.string()),
            ("version", pa.string()),
            ("window_start", ts),
            ("window_end", ts),
            ("column_name", pa.string()),
            ("metric", pa.string()),
            ("value", pa.float64()),
            ("lower_bound", pa.float64()),
            ("upper_bound", pa.float64()),
            ("alert", pa.bool_()),
            ("n_ref", pa.int64()),
            ("n_cur", pa.int64()),
            ("method", pa.string()),
            ("p_value", pa.float64()),
            ("kind", pa.string()),
            ("computed_at", ts),
        ]
    )


def test_migrations_run_once_and_reopen(store_location: str) -> None:
    first = open_store(store_location)
    version = first.schema_version()
    key = first.create_key("p", "read")
    first.close()
    again = open_store(store_location)
    assert again.schema_version() == version >= 1
    assert again.authenticate(key) is not None
    again.close()


def test_keys_are_hashed_scoped_and_checked(store: Store) -> None:
    key = store.create_key("alpha", "ingest")
    found = store.authenticate(key)
    assert found is not None and (found.project, found.scope) == ("alpha", "ingest")
    secret = key.split("_", 2)[2]
    stored = store._read("SELECT secret_sha256 FROM api_keys")
    assert all(secret not in str(row) for row in stored)
    assert store.authenticate(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert store.authenticate("sl_unknown_secret") is None
    assert store.authenticate("garbage") is None
    assert store.count_keys() == 1
    with pytest.raises(InvalidInputError, match="scope"):
        store.create_key("alpha", "root")  # type: ignore[arg-type]


def test_register_version_and_reference(store: Store) -> None:
    schema = {"columns": [{"name": "x"}]}
    assert store.register_version("p", "m", "1", schema) is True
    assert store.register_version("p", "m", "1", schema) is False
    with pytest.raises(ConflictError, match="another schema"):
        store.register_version("p", "m", "1", {"columns": []})
    assert store.get_version("p", "m", "1").reference is None
    assert store.set_reference("p", "m", "1", b"ref") is True
    assert store.set_reference("p", "m", "1", b"ref") is False
    with pytest.raises(ConflictError, match="another reference"):
        store.set_reference("p", "m", "1", b"other")
    assert store.get_version("p", "m", "1").reference == b"ref"
    with pytest.raises(NotFoundError):
        store.set_reference("p", "m", "2", b"ref")
    with pytest.raises(NotFoundError):
        store.get_version("other-project", "m", "1")
    store.register_version("p", "m", "2", schema)
    store.register_version("p", "a", "1", schema)
    assert [(v.model, v.version) for v in store.list_versions("p")] == [
        ("a", "1"),
        ("m", "1"),
        ("m", "2"),
    ]
    assert store.list_versions("q") == []


def test_ingest_is_idempotent_and_atomic(store: Store) -> None:
    batch = predictions("p", 5)
    request = Idempotency("k1", "hash-a", "predictions")
    assert store.ingest("p", request, "predictions", batch) is True
    assert store.ingest("p", request, "predictions", batch) is False
    assert store.count("predictions", "p") == 5
    with pytest.raises(ConflictError, match="another body"):
        store.ingest("p", Idempotency("k1", "hash-b", "predictions"), "predictions", batch)
    assert store.count("predictions", "p") == 5
    # The same key in another project is another request.
    assert store.ingest("q", request, "predictions", predictions("q", 3)) is True
    assert store.count("predictions", "q") == 3
    # A batch that fails half-way writes nothing, not even its key.
    bad = batch.set_column(3, "prediction_id", pa.array([None] * 5, pa.string()))
    with pytest.raises(Exception, match=r"(?i)null|constraint"):
        store.ingest("p", Idempotency("k2", "hash-c", "predictions"), "predictions", bad)
    assert store.count("predictions", "p") == 5
    assert store.count("ingest_requests", "p") == 1
    assert store.ingest("p", Idempotency("k2", "hash-c", "predictions"), "predictions", batch)


def test_ingest_refuses_unknown_tables_and_columns(store: Store) -> None:
    with pytest.raises(InvalidInputError, match="cannot be written"):
        store.ingest("p", Idempotency("k", "h", "x"), "api_keys", predictions("p", 1))
    with pytest.raises(InvalidInputError, match="no columns"):
        store.insert_rows("labels", predictions("p", 1))
    assert store.count("ingest_requests", "p") == 0


def test_metric_rows_filter_bucket_and_latest(store: Store) -> None:
    store.insert_rows("metric_rows", metric_rows("p", 120, ["a", "b"]))
    store.insert_rows("metric_rows", metric_rows("q", 3, ["a"]))
    rows = store.metric_rows("p", "churn", since=T0, until=T0 + timedelta(hours=3), column="a")
    assert len(rows) == 120 and {r.column for r in rows} == {"a"}
    assert rows[0].window_start == T0Z and rows[-1].window_start == T0Z + timedelta(minutes=119)
    assert [r.value for r in rows[:3]] == [0.0, 0.2, 0.4]
    part = store.metric_rows(
        "p", "churn", since=T0 + timedelta(minutes=10), until=T0 + timedelta(minutes=20)
    )
    assert len(part) == 20
    # 2 hours in at most 12 points: 10-minute buckets of the mean.
    bucketed = store.metric_rows(
        "p", "churn", since=T0, until=T0 + timedelta(hours=2), column="a", max_points=12
    )
    assert len(bucketed) == 12
    first = [r.value for r in rows[:10]]
    assert bucketed[0].value == pytest.approx(sum(first) / 10)
    assert bucketed[0].n_cur == 100 and bucketed[0].alert is True
    assert bucketed[1].window_start == T0Z + timedelta(minutes=10)
    latest = store.latest_metric_rows("p", "churn", "drift")
    assert [(r.column, r.window_start) for r in latest] == [
        ("a", T0Z + timedelta(minutes=119)),
        ("b", T0Z + timedelta(minutes=119)),
    ]
    assert store.latest_metric_rows("p", "churn", "quality") == []
    newest = store.newest_metric_rows("p")
    assert [(r.model, r.column) for r in newest] == [("churn", "a"), ("churn", "b")]
    assert [r.window_start for r in store.newest_metric_rows("q")] == [T0Z + timedelta(minutes=2)]


def test_finish_jobs_writes_a_batch_and_leaves_out_the_settled(store: Store) -> None:
    from sightline.store.scheduling import DoneJob

    store.insert_rows("metric_rows", metric_rows("p", 2, ["a", "b"]))
    minute = timedelta(minutes=1)
    new = metric_rows("p", 1, ["a"]).set_column(7, "value", pa.array([9.0]))
    done = [
        DoneJob("p", ("churn", "1", T0 + k * minute, T0 + (k + 1) * minute, "drift"), "fp", new)
        for k in range(2)
    ]
    assert store.finish_jobs(done, lambda tx: [1]) == {1}  # the second: taken over
    assert store.jobs_done("p", "churn", "1") == {(T0, "drift"): "fp"}
    rows = store.metric_rows("p", "churn", since=T0, until=T0 + 2 * minute)
    assert [(r.window_start, r.column, r.value) for r in rows] == [
        (T0Z, "a", 9.0),
        (T0Z + minute, "a", 0.2),
        (T0Z + minute, "b", 0.3),
    ]


def test_retention_prunes_job_records_of_windows_whose_inputs_are_gone(store: Store) -> None:
    empty = metric_rows("p", 1, ["a"]).slice(0, 0)
    for days in (0, 3):
        start = T0 + timedelta(days=days, hours=5)
        store.finish_job(
            "p", ("churn", "1", start, start + timedelta(hours=1), "drift"), "f", empty
        )
    keep = {"profiles": timedelta(days=1), "predictions": timedelta(days=2)}
    deleted = store.enforce_retention(keep, now=T0 + timedelta(days=3, hours=12))
    assert deleted["jobs_done"] == 1
    assert list(store.jobs_done("p", "churn", "1")) == [(T0 + timedelta(days=3, hours=5), "drift")]
    # Profiles alone (labels may still come for old windows): the records stay.
    assert "jobs_done" not in store.enforce_retention({"profiles": timedelta(hours=1)})


def test_finish_job_replaces_one_job(store: Store) -> None:
    store.insert_rows("metric_rows", metric_rows("p", 2, ["a", "b"]))
    job = ("churn", "1", T0, T0 + timedelta(minutes=1), "drift")
    new = metric_rows("p", 1, ["a"]).set_column(7, "value", pa.array([9.0]))
    store.finish_job("p", job, "fp", new)
    store.finish_job("p", job, "fp", new)
    assert store.jobs_done("p", "churn", "1") == {(T0, "drift"): "fp"}
    rows = store.metric_rows("p", "churn", since=T0, until=T0 + timedelta(minutes=2))
    assert [(r.window_start, r.column, r.value) for r in rows] == [
        (T0Z, "a", 9.0),
        (T0Z + timedelta(minutes=1), "a", 0.2),
        (T0Z + timedelta(minutes=1), "b", 0.3),
    ]


def test_health_inputs_and_retention(store: Store) -> None:
    hb = pa.table(
        {
            "project": ["p", "p", "q"],
            "model": ["churn"] * 3,
            "version": ["1"] * 3,
            "instance": ["i1", "i2", "i1"],
            "host": ["h"] * 3,
            "pid": [1, 2, 3],
            "started_at": [T0] * 3,
            "ts": [T0, T0 + timedelta(minutes=5), T0],
            "dropped": [0, 4, 0],
        }
    )
    store.insert_rows("heartbeats", hb)
    got = store.newest_heartbeats("p", "churn", T0)
    assert [(g.instance, g.pid, g.ts, g.dropped) for g in got] == [
        ("i1", 1, T0, 0),
        ("i2", 2, T0 + timedelta(minutes=5), 4),
    ]
    deleted = store.enforce_retention(
        {"heartbeats": timedelta(minutes=3)}, now=T0 + timedelta(minutes=6)
    )
    assert deleted == {"heartbeats": 2}
    assert [g.instance for g in store.newest_heartbeats("p", "churn", T0)] == ["i2"]
    assert store.heartbeat_times("p", "churn", T0, T0 + timedelta(hours=1)) == [
        ((T0 + timedelta(minutes=5) - datetime(1970, 1, 1)).total_seconds(), "i2", False)
    ]
    with pytest.raises(InvalidInputError, match="no retention"):
        store.enforce_retention({"api_keys": timedelta(days=1)})


def test_heartbeats_in_reads_the_union_of_the_spans(store: Store) -> None:
    minutes = [0, 10, 20, 30, 40]
    hb = pa.table(
        {
            "project": ["p"] * 5,
            "model": ["churn"] * 5,
            "version": ["1"] * 5,
            "instance": ["i1"] * 5,
            "host": ["h"] * 5,
            "pid": [1] * 5,
            "started_at": [T0] * 5,
            "ts": [T0 + timedelta(minutes=m) for m in minutes],
            "dropped": [0] * 5,
        }
    )
    store.insert_rows("heartbeats", hb)
    at = [T0 + timedelta(minutes=m) for m in range(0, 50, 5)]
    spans = [(at[6], at[9]), (at[0], at[3]), (at[2], at[4]), (at[5], at[5])]
    got = store.heartbeats_in("p", "churn", spans)
    assert [b.ts for b in got] == [
        b.ts
        for m in (0, 10, 30, 40)
        for b in store.heartbeat_times(
            "p", "churn", T0 + timedelta(minutes=m), T0 + timedelta(minutes=m + 1)
        )
    ]
    assert store.heartbeats_in("p", "churn", []) == []
    live = store.live_instances("p", T0 + timedelta(minutes=35))
    assert live == store.live_instances("p", T0 + timedelta(minutes=35), ["churn"])
    assert live == {("churn", "1"): 1}
    assert store.live_instances("p", T0, ["fraud"]) == store.live_instances("p", T0, []) == {}


def test_optimize_keeps_every_row(store: Store) -> None:
    store.insert_rows("metric_rows", metric_rows("p", 30, ["b", "a"]))
    before = sorted(store._read("SELECT * FROM metric_rows"), key=repr)
    store.optimize()
    assert sorted(store._read("SELECT * FROM metric_rows"), key=repr) == before
    assert len(store.metric_rows("p", "churn", since=T0, until=T0 + timedelta(hours=1))) == 60


def test_duckdb_resorts_metric_rows_once_they_grew_by_the_given_share(tmp_path: Path) -> None:
    store = open_store(tmp_path / "data")

    def columns_in_storage_order() -> list[str]:
        return [c for (c,) in store._read("SELECT column_name FROM metric_rows")]

    try:
        store.insert_rows("metric_rows", metric_rows("p", 50, ["b", "a"]))  # 100 rows
        store.optimize()
        assert columns_in_storage_order() == ["a"] * 50 + ["b"] * 50  # one series after another
        store.insert_rows("metric_rows", metric_rows("p", 5, ["b"]))  # +5 %: left as it is
        store.optimize(min_growth=0.1)
        assert columns_in_storage_order()[-5:] == ["b"] * 5
        store.insert_rows("metric_rows", metric_rows("p", 6, ["a"]))  # 11 % in all: sorted
        store.optimize(min_growth=0.1)
        assert columns_in_storage_order() == ["a"] * 56 + ["b"] * 55
    finally:
        store.close()
