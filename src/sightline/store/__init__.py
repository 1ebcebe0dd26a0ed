"""Persistence of the collector: one interface (:class:`Store`), DuckDB and PostgreSQL.

>>> store = open_store(":memory:")
>>> store.register_version("p", "churn", "1", {"columns": []})
True
>>> [v.version for v in store.list_versions("p")]
['1']
>>> store.close()
"""

from __future__ import annotations

from pathlib import Path

from sightline.store.base import (
    SCOPES,
    ApiKey,
    Beat,
    Heartbeat,
    Idempotency,
    KeyInfo,
    ModelVersion,
    Scope,
    Store,
    as_utc,
    utcnow,
)

__all__ = [
    "SCOPES",
    "ApiKey",
    "Beat",
    "Heartbeat",
    "Idempotency",
    "KeyInfo",
    "ModelVersion",
    "Scope",
    "Store",
    "as_utc",
    "open_store",
    "utcnow",
]


def open_store(location: str | Path, *, pool_size: int = 8) -> Store:
    """Open (and migrate) the store at ``location``.

    A ``postgresql://`` URL opens :class:`~sightline.store.postgres_store.PostgresStore`;
    anything else is a DuckDB data directory (created when missing) or ``":memory:"``.
    """
    text = str(location)
    if text.startswith(("postgresql://", "postgres://")):
        from sightline.store.postgres_store import PostgresStore

        return PostgresStore(text, pool_size=pool_size)
    from sightline.store.duckdb_store import DuckDBStore

    return DuckDBStore(location)
