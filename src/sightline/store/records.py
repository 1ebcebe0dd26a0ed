"""Rows of the store built from domain objects (one place, for the collector and backfill)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa

from sightline.analysis.rows import MetricRow, rows_to_arrow
from sightline.profile import Profile
from sightline.store.base import STORED_AS, as_utc
from sightline.store.migrations import LATENCY_COLUMNS

_TS = pa.timestamp("us")
PROFILE_SCHEMA = pa.schema(
    [
        ("project", pa.string()),
        ("model", pa.string()),
        ("version", pa.string()),
        ("instance", pa.string()),
        ("window_start", _TS),
        ("window_end", _TS),
        ("idempotency_key", pa.string()),
        ("n_rows", pa.int64()),
        ("n_predictions", pa.int64()),
        ("n_errors", pa.int64()),
        ("latency", pa.binary()),
        ("payload", pa.binary()),
        ("received_at", _TS),
        *((name, pa.int64()) for name in LATENCY_COLUMNS),
        ("latency_min", pa.float64()),
        ("latency_max", pa.float64()),
    ]
)


def profile_record(
    project: str, profile: Profile, payload: bytes, key: str, received_at: datetime
) -> pa.Table:
    """The ``profiles`` row of one profile (``payload`` its bytes), with the summaries the
    health queries sum (predictions, errors, latency buckets and range)."""
    low, high = (None, None) if profile.latency.is_empty else profile.latency.quantiles([0, 1])
    row = {
        "project": project,
        "model": profile.model,
        "version": profile.version,
        "instance": ",".join(profile.instance_ids),
        "window_start": as_utc(profile.window_start) if profile.window_start else None,
        "window_end": as_utc(profile.window_end) if profile.window_end else None,
        "idempotency_key": key,
        "n_rows": profile.n_rows,
        "n_predictions": profile.n_predictions,
        "n_errors": profile.n_errors,
        "latency": profile.latency.to_bytes(),
        "payload": payload,
        "received_at": as_utc(received_at),
        **dict(zip(LATENCY_COLUMNS, profile.latency_buckets.tolist(), strict=True)),
        "latency_min": None if low is None else float(low),
        "latency_max": None if high is None else float(high),
    }
    return pa.Table.from_pylist([row], schema=PROFILE_SCHEMA)


def metric_record(
    project: str, kind: str, rows: Sequence[MetricRow], computed_at: datetime
) -> pa.Table:
    """The ``metric_rows`` rows of metric rows: the codec's Arrow columns (renamed where SQL
    reserves the name, times as naive UTC) plus the storage metadata ``project``, ``kind``
    and ``computed_at``."""
    table = rows_to_arrow(rows)
    n = table.num_rows
    columns = {
        STORED_AS.get(name, name): (
            table.column(name).cast(_TS) if name.startswith("window_") else table.column(name)
        )
        for name in table.column_names
    }
    return pa.table(
        {
            "project": pa.array([project] * n, pa.string()),
            **columns,
            "kind": pa.array([kind] * n, pa.string()),
            "computed_at": pa.array([as_utc(computed_at)] * n, _TS),
        }
    )
