"""The store for several collector replicas: one PostgreSQL database, a connection pool.

Every replica migrates at start under an advisory lock, so replicas may start together.
Sessions run in UTC. Bulk inserts use ``COPY`` of CSV that Arrow writes. Ingest requests
commit in groups (:mod:`sightline.store.group_commit`): one transaction, on one pooled
connection, for the requests that arrive while the previous group commits. PostgreSQL 13 or
newer (``hash_mem_multiplier``).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg_pool import ConnectionPool

from sightline.errors import StoreError
from sightline.store.base import Store, Transaction
from sightline.store.group_commit import GroupCommit

_MIGRATION_LOCK = 0x5167_6874  # "Sght": the advisory lock every replica migrates under
#: UTC sessions; memory enough for a bucketed series query over many columns to aggregate
#: in a hash table (up to 256 MB per hash, 16 MB per sort) instead of sorting on disk.
_SESSION_OPTIONS = "-c timezone=UTC -c work_mem=16MB -c hash_mem_multiplier=16"


def _sql(text: str) -> str:
    return text.replace("?", "%s")


class _PgTransaction:
    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._cursor.execute(_sql(sql), list(params))
        return self._cursor.fetchall() if self._cursor.description else []

    def insert(self, table: str, rows: pa.Table) -> None:
        """``COPY`` in CSV written by Arrow: no Python object per value."""
        names = ", ".join(rows.column_names)
        rows = _csv_ready(rows)
        options = pacsv.WriteOptions(include_header=False, batch_size=8192)
        with self._cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv)") as copy:
            for batch in rows.to_batches(max_chunksize=65_536):
                buffer = io.BytesIO()
                pacsv.write_csv(batch, buffer, options)
                copy.write(buffer.getbuffer())


def _csv_ready(rows: pa.Table) -> pa.Table:
    """``rows`` with columns that CSV cannot carry as is rewritten: binary as PostgreSQL's
    hex ``bytea`` text, dictionaries decoded.

    In Arrow's CSV, strings are always quoted and nulls are empty, which PostgreSQL's CSV
    reads back as the same strings (even empty ones) and NULL.
    """
    for i, field in enumerate(rows.schema):
        kind = field.type
        if pa.types.is_dictionary(kind):
            rows = rows.set_column(i, field.name, rows.column(i).cast(kind.value_type))
            kind = kind.value_type
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            hex_text = [None if v is None else "\\x" + v.hex() for v in rows.column(i).to_pylist()]
            rows = rows.set_column(i, field.name, pa.array(hex_text, pa.string()))
    return rows


class PostgresStore(Store):
    """Store in the PostgreSQL database at ``url`` (``postgresql://user@host:port/db``).

    ``pool_size`` connections at most; the schema is migrated on open.
    """

    dialect = "postgresql"
    shares_jobs = True
    _claim_lock = " FOR UPDATE OF l SKIP LOCKED"

    def __init__(self, url: str, *, pool_size: int = 8, timeout: float = 10.0) -> None:
        self.location = url
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"options": _SESSION_OPTIONS, "autocommit": True},
            open=False,
            timeout=timeout,
        )
        try:
            self._pool.open(wait=True, timeout=timeout)
        except Exception as exc:  # the pool raises its own timeout error
            self._pool.close()
            raise StoreError(f"cannot connect to PostgreSQL at {_redact(url)}: {exc}") from exc
        self._commits = GroupCommit(self._ingest_group)
        self.migrate()

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._pool.connection() as conn:
            return conn.execute(_sql(sql), list(params)).fetchall()

    @contextmanager
    def _write(self) -> Iterator[Transaction]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield _PgTransaction(cursor)

    def _lock_migrations(self, tx: Transaction) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))

    def _clock(self, tx: Transaction) -> datetime:
        """The database's clock (UTC sessions): every replica's leases on one clock."""
        now: datetime = tx.execute("SELECT localtimestamp")[0][0]
        return now

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.close()


def _redact(url: str) -> str:
    """``url`` without its password."""
    head, sep, tail = url.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, user = head.partition("//")
    return f"{scheme}//{user.split(':', 1)[0]}:***@{tail}"
