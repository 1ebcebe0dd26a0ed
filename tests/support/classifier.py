"""The scored classifier of the collector's performance tests: its schema, its version's
path, and the upload of a labelled CSV reference."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from sightline.profile import Column, Schema

SCHEMA = Schema(
    (
        Column("x"),
        Column("proba", role="probability"),
        Column("pred", role="prediction", kind="categorical"),
        Column("target", role="target", kind="categorical"),
    )
)
T0 = datetime(2026, 3, 1)
HOUR = timedelta(hours=1)
BASE = "/api/v1/models/m/versions/1"


def upload(c: httpx.Client, schema: Schema, columns: dict[str, np.ndarray]) -> None:
    """Register version 1 of ``m`` with ``schema`` and upload ``columns`` as its CSV
    reference."""
    assert c.put(BASE, json=schema.to_dict()).status_code == 200
    out = io.BytesIO()
    pacsv.write_csv(pa.table(columns), out)
    r = c.put(f"{BASE}/reference", content=out.getvalue(), headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
