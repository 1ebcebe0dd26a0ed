"""Group commit (DuckDB and PostgreSQL): requests that arrive while a commit runs commit
together in the next transaction, each answered after that commit; one that fails fails
alone."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

from sightline.errors import ConflictError
from sightline.store import Idempotency, Store, open_store
from sightline.store.duckdb_store import DuckDBStore

NOW = datetime(2026, 1, 1)


def predictions(n: int, *, good: bool = True) -> pa.Table:
    """``n`` predictions; a bad batch has no ids (``prediction_id`` is NOT NULL)."""
    ids = [uuid.uuid4().hex if good else None for _ in range(n)]
    ts = pa.array([NOW] * n, pa.timestamp("us"))
    return pa.table(
        {
            "project": ["p"] * n,
            "model": ["m"] * n,
            "version": ["1"] * n,
            "prediction_id": pa.array(ids, pa.string()),
            "ts": ts,
            "prediction": [1.0] * n,
            "received_at": ts,
        }
    )


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def test_a_failing_request_in_a_group_fails_alone(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    assert isinstance(store, DuckDBStore)
    outcomes: dict[str, object] = {}

    def send(key: str, rows: pa.Table, body: str | None = None) -> None:
        request = Idempotency(key, body or key, "predictions")
        try:
            outcomes[key] = store.ingest("p", request, "predictions", rows)
        except Exception as exc:  # the outcome under test
            outcomes[key] = exc

    try:
        store.ingest("p", Idempotency("old", "old", "predictions"), "predictions", predictions(1))
        with store._lock:  # a commit in progress: what arrives now queues
            first = threading.Thread(target=send, args=("first", predictions(2)))
            first.start()
            wait_for(lambda: store._commits.committing, "the first request to lead a commit")
            group = {f"good-{i}": predictions(3) for i in range(6)}
            group |= {"bad": predictions(2, good=False), "old": predictions(1)}
            threads = [
                threading.Thread(target=send, args=(key, rows, "another" if key == "old" else None))
                for key, rows in group.items()
            ]
            for t in threads:
                t.start()
            wait_for(lambda: store._commits.queued == len(group), "the group to queue")
        for t in [first, *threads]:
            t.join(30)
        assert outcomes.pop("first") is True
        assert isinstance(outcomes.pop("bad"), Exception)  # a NOT NULL violation, its own
        assert isinstance(outcomes.pop("old"), ConflictError)  # a key reused with another body
        assert outcomes == {key: True for key in group if key.startswith("good")}
        assert store.count("predictions", "p") == 1 + 2 + 6 * 3
        assert store.count("ingest_requests", "p") == 1 + 1 + 6  # nothing of "bad"
    finally:
        store.close()


def test_concurrent_requests_share_commits_and_each_is_stored_once(tmp_path: Path) -> None:
    threads = 16
    store = open_store(tmp_path)
    commits = 0
    begin = store._transaction

    def counted():  # type: ignore[no-untyped-def]
        nonlocal commits
        commits += 1
        return begin()

    store._transaction = counted  # type: ignore[method-assign]
    try:
        keys = [[f"{t}-{i}" for i in range(20)] for t in range(threads)]

        def client(mine: list[str]) -> None:
            for key in mine:
                assert store.ingest(
                    "p", Idempotency(key, key, "predictions"), "predictions", predictions(1)
                )

        workers = [threading.Thread(target=client, args=(mine,)) for mine in keys]
        for w in workers:
            w.start()
        for w in workers:
            w.join(60)
        assert store.count("predictions", "p") == threads * 20
        assert store.count("ingest_requests", "p") == threads * 20
        assert commits < threads * 20  # requests that arrived together committed together
    finally:
        store.close()


def ingest_group(
    store: Store, held: AbstractContextManager[object], group: dict[str, tuple[pa.Table, str]]
) -> dict[str, object]:
    """The outcome of each request of ``group`` (key: rows, body), sent from its own thread
    after a first request started a commit that ``held`` keeps from finishing; none may be
    answered before that commit ends."""
    outcomes: dict[str, object] = {}

    def send(key: str, rows: pa.Table, body: str) -> None:
        try:
            request = Idempotency(body if key == "first" else key, body, "predictions")
            outcomes[key] = store.ingest("p", request, "predictions", rows)
        except Exception as exc:  # the outcome under test
            outcomes[key] = exc

    with held:
        lead = uuid.uuid4().hex
        first = threading.Thread(target=send, args=("first", predictions(2), lead))
        first.start()
        wait_for(lambda: store._commits.committing, "the first request to lead a commit")
        threads = [threading.Thread(target=send, args=(k, *v)) for k, v in group.items()]
        for t in threads:
            t.start()
        wait_for(lambda: store._commits.queued == len(group), "the group to queue")
        time.sleep(0.1)
        assert outcomes == {}  # nothing answered before its commit
    for t in [first, *threads]:
        t.join(30)
    assert outcomes.pop("first") is True
    return outcomes


@contextmanager
def table_locked(url: str) -> Iterator[None]:
    """``ingest_requests`` locked by another session: inserts wait until it commits."""
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(url) as blocker:
        blocker.execute("LOCK TABLE ingest_requests IN EXCLUSIVE MODE")
        yield
        blocker.commit()


def test_postgresql_commits_concurrent_requests_in_groups(postgres_url: str) -> None:
    store = open_store(postgres_url)
    try:
        store.ingest("p", Idempotency("old", "old", "predictions"), "predictions", predictions(1))
        before = store._commits.groups
        good = {f"good-{i}": (predictions(3), f"good-{i}") for i in range(8)}
        assert ingest_group(store, table_locked(postgres_url), good) == dict.fromkeys(good, True)
        assert store._commits.groups - before == 2  # 9 requests, 2 transactions
        mixed = {"a": (predictions(1), "a"), "bad": (predictions(2, good=False), "bad")}
        mixed |= {"old": (predictions(1), "another"), "b": (predictions(1), "b")}
        outcomes = ingest_group(store, table_locked(postgres_url), mixed)
        assert isinstance(outcomes.pop("bad"), Exception)  # a NOT NULL violation, its own
        assert isinstance(outcomes.pop("old"), ConflictError)  # a key reused with another body
        assert outcomes == {"a": True, "b": True}
        assert store.count("predictions", "p") == 1 + 2 + 8 * 3 + 2 + 1 + 1
        assert store.count("ingest_requests", "p") == 1 + 1 + 8 + 1 + 2  # nothing of "bad"
    finally:
        store.close()
