"""Each scheduler pass is one INFO line: windows computed, rows written, failures, time."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from sightline.analysis.columns import SchemaOptions
from sightline.analysis.profiling import profile_data
from sightline.client import Client
from sightline.profile import Profile, Schema
from sightline.scheduler import Scheduler
from support.live import Collector

LINE = re.compile(
    r"scheduler pass: (\d+) windows computed, (\d+) rows written, (\d+) failed, [\d.]+ s$"
)


def test_a_pass_logs_one_line_with_its_counts(
    duckdb_collector: Collector, caplog: pytest.LogCaptureFixture
) -> None:
    rng = np.random.default_rng(0)
    with Client(duckdb_collector.url, duckdb_collector.admin_key) as client:
        client.register("m", "1", reference={"x": rng.normal(size=500)})
    store = duckdb_collector.store
    reference = Profile.from_bytes(store.get_version("default", "m", "1").reference or b"")
    start = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    for hour in range(2):
        window = start + timedelta(hours=hour)
        profile = profile_data(
            pa.table({"x": rng.normal(size=100)}),
            reference=reference,
            columns=SchemaOptions(schema=Schema.from_dict(reference.schema.to_dict())),
            model="m",
            version="1",
            window_start=window,
            window_end=window + timedelta(hours=1),
        )
        r = duckdb_collector.client().post(
            "/api/v1/models/m/versions/1/profiles",
            content=profile.to_bytes(),
            headers={"Idempotency-Key": f"w{hour}"},
        )
        assert r.status_code == 200, r.text
    caplog.set_level(logging.INFO, logger="sightline.scheduler")
    report = Scheduler(store).run_once()
    lines = [r.getMessage() for r in caplog.records if r.name == "sightline.scheduler"]
    assert len(lines) == 1
    windows, rows, failed = (int(g) for g in LINE.match(lines[0]).groups())  # type: ignore[union-attr]
    assert (windows, rows, failed) == (report.written, report.rows, len(report.failed))
    assert windows >= 2 and failed == 0
    assert rows == store.count("metric_rows", "default")
    caplog.clear()
    Scheduler(store).run_once()  # nothing new: still one line, of zeros
    (again,) = [r.getMessage() for r in caplog.records if r.name == "sightline.scheduler"]
    assert LINE.match(again).groups()[:3] == ("0", "0", "0")  # type: ignore[union-attr]
