"""The ``collector`` fixture: a real server on loopback over each store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sightline.server.app import create_app
from sightline.server.state import Settings
from sightline.store import open_store
from support.live import Collector, start_server, stop_server


@pytest.fixture
def collector(store_location: str) -> Iterator[Collector]:
    """A collector with auth on, over a fresh store (DuckDB and PostgreSQL)."""
    store = open_store(store_location)
    admin = store.create_key("default", "admin")
    server, thread, url = start_server(create_app(store, Settings()))
    live = Collector(url, store, admin)
    try:
        yield live
    finally:
        for c in live.clients:
            c.close()
        stop_server(server, thread)
        store.close()
