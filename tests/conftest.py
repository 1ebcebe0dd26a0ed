"""Shared fixtures: a fresh PostgreSQL database per test, and store locations for both stores.

PostgreSQL tests need the server of ``SIGHTLINE_TEST_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/test``). Without it they skip with the reason, except
when ``SIGHTLINE_REQUIRE_POSTGRES=1`` (CI sets it), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sightline.server.app import create_app
from sightline.server.state import Settings
from sightline.store import open_store
from support.live import Collector, start_server, stop_server

ADMIN_URL = os.environ.get("SIGHTLINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _admin_connection():  # type: ignore[no-untyped-def]
    psycopg = pytest.importorskip("psycopg")
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("SIGHTLINE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required here (SIGHTLINE_REQUIRE_POSTGRES=1): {exc}")
        pytest.skip(f"no PostgreSQL at {ADMIN_URL} (set SIGHTLINE_TEST_POSTGRES): {exc}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a new, empty database, dropped after the test."""
    admin = _admin_connection()
    name = f"sightline_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE DATABASE {name}")
    base, _, _ = ADMIN_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@pytest.fixture(params=["duckdb", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh location for each store: a DuckDB data directory or a PostgreSQL URL."""
    if request.param == "duckdb":
        return str(tmp_path / "data")
    return str(request.getfixturevalue("postgres_url"))


@contextlib.contextmanager
def running_collector(
    location: str, port: int = 0, settings: Settings | None = None
) -> Iterator[Collector]:
    """A collector with auth on over the store at ``location``, in a thread on loopback."""
    store = open_store(location)
    admin = store.create_key("default", "admin")
    server, thread, url = start_server(create_app(store, settings or Settings()), port)
    live = Collector(url, store, admin)
    try:
        yield live
    finally:
        for c in live.clients:
            c.close()
        stop_server(server, thread)
        store.close()


@pytest.fixture
def collector(store_location: str) -> Iterator[Collector]:
    """A collector over a fresh store, once on DuckDB and once on PostgreSQL."""
    with running_collector(store_location) as live:
        yield live


@pytest.fixture
def duckdb_collector(tmp_path: Path) -> Iterator[Collector]:
    """A collector over a fresh DuckDB store (for tests about clients, not stores)."""
    with running_collector(str(tmp_path / "collector-data")) as live:
        yield live
