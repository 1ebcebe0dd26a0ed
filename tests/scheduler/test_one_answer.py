"""One data set, four paths, one answer: ``compare``, ``analyze``, ``backfill`` and the
collector (a real server on loopback, the SDK, the scheduler's ``run_once``) give the
same drift and quality rows for the same reference and window, field by field (through
the one codec, ``encode_row``)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import sightline
from conftest import running_collector
from sightline.analysis.quality import QUALITY_METRICS
from sightline.analysis.rows import ROW_FIELDS, MetricRow, encode_row
from sightline.profile import Column, Profile, Schema
from sightline.scheduler import Scheduler
from sightline.scheduler import backfill as bf
from sightline.sdk import Monitor
from sightline.server.state import Settings
from support.live import Collector

SCHEMA = Schema(
    (
        Column("x"),
        Column("amount"),
        Column("city", kind="categorical"),
        Column("proba", role="probability"),
        Column("pred", role="prediction", kind="categorical"),
        Column("target", role="target", kind="categorical"),
    )
)
FEATURES = ("x", "amount", "city")
T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
BASE = "/api/v1/models/m/versions/1"
#: The fields every path fills the same way (compare has no window and no model).
SAME = ROW_FIELDS[ROW_FIELDS.index("column") :]


def data(n: int, seed: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    proba = rng.beta(2, 2, n)
    return {
        "x": rng.normal(shift, 1, n),
        "amount": rng.lognormal(0, 0.5, n),
        "city": rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1]),
        "proba": proba,
        "pred": (proba > 0.5).astype(int).astype(str),
        "target": (rng.uniform(size=n) < proba).astype(int).astype(str),
    }


REFERENCE = data(3000, seed=1)
WINDOW = data(600, seed=2, shift=0.5)
STAMPS = [T0 + timedelta(seconds=6 * i) for i in range(600)]  # inside [T0, T0 + 1h)
SERVED = {k: v for k, v in WINDOW.items() if k != "target"}  # labels come later


@pytest.fixture
def live(store_location: str) -> Iterator[Collector]:
    with running_collector(store_location, settings=Settings(schedule_every=timedelta(0))) as c:
        yield c


def kept(rows: list[MetricRow] | tuple[MetricRow, ...]) -> dict[tuple[str, str], dict[str, Any]]:
    """Drift and quality rows by (column, metric), encoded; the model-level performance
    and multivariate rows are other tests' business."""
    drift = {"jensen_shannon", "drift_share", "drifted_columns"}
    return {
        (r.column, r.metric): encode_row(r)
        for r in rows
        if r.metric in drift | set(QUALITY_METRICS)
    }


def collector_rows(live: Collector, tmp_path: Path) -> list[MetricRow]:
    c = live.client()
    assert c.put(BASE, json=SCHEMA.to_dict()).status_code == 200
    assert c.put("/api/v1/models/m/settings", json={"window": "1h"}).status_code == 200
    out = io.BytesIO()
    pacsv.write_csv(pa.table(REFERENCE), out)
    r = c.put(f"{BASE}/reference", content=out.getvalue(), headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    key = live.store.create_key("default", "ingest")
    with Monitor(
        "m", "1", url=live.url, api_key=key, window=3600, spool_dir=tmp_path / "spool", tick=0.05
    ) as m:
        for i in range(600):
            m.log(
                {name: WINDOW[name][i].item() for name in FEATURES},
                prediction=str(WINDOW["pred"][i]),
                probability=float(WINDOW["proba"][i]),
                timestamp=STAMPS[i],
            )
        m.flush(timeout=10)
    naive = T0.replace(tzinfo=None)  # the store's times are naive UTC
    Scheduler(live.store).run_once(naive + 3 * HOUR)
    return live.store.metric_rows("default", "m", since=naive, until=naive + HOUR)


def backfill_rows(live: Collector, tmp_path: Path) -> list[MetricRow]:
    path = tmp_path / "window.parquet"
    stamps = pa.array([s.replace(tzinfo=None) for s in STAMPS], pa.timestamp("us"))
    pq.write_table(pa.table({**SERVED, "ts": stamps}), path)
    reference = live.store.get_version("default", "m", "1").reference
    assert reference is not None
    spec = bf.BackfillSpec("m", "1", reference, "ts", 3600)
    merged = bf.backfill([str(path)], spec)
    assert len(merged) == 1
    [(w, payload)] = merged.items()
    return [row for _, rows in bf.window_rows("default", spec, w, payload) for row in rows]


def test_compare_analyze_backfill_and_the_collector_give_the_same_rows(
    live: Collector, tmp_path: Path
) -> None:
    library = kept(sightline.compare(REFERENCE, SERVED, schema=SCHEMA, model="m", version="1").rows)
    with_time = pa.table({**SERVED, "ts": pa.array(STAMPS, pa.timestamp("us", tz="UTC"))})
    analyzed = sightline.analyze(
        REFERENCE, with_time, chunk_period="1h", timestamp="ts", schema=SCHEMA
    )
    windowed = kept(analyzed.rows)
    collected = kept(collector_rows(live, tmp_path))
    backfilled = kept(backfill_rows(live, tmp_path))

    # The window drifted in x, and only there; the target is left to label_coverage.
    assert library[("x", "jensen_shannon")]["alert"] is True
    assert [c for (c, m), r in library.items() if m == "jensen_shannon" and r["alert"]] == ["x"]
    for rows in (library, windowed, collected, backfilled):
        assert not [key for key in rows if key[0] == "target"]

    # Quality rows that profiles can only estimate from KLL sketches (the out-of-range
    # share of a window leaving the reference's range) are left out of scheduled jobs.
    reference = Profile.from_bytes(live.store.get_version("default", "m", "1").reference or b"")
    profiled = kept(sightline.compare(reference, SERVED).rows)
    estimated = {k for k, r in profiled.items() if "KLL" in (r["method"] or "")}
    assert estimated == {("x", "out_of_range_share")}
    assert set(collected) == set(backfilled) == set(library) - estimated
    assert set(windowed) == set(library)
    for key in sorted(collected):
        want = {f: library[key][f] for f in SAME}
        for name, rows in (
            ("analyze", windowed),
            ("collector", collected),
            ("backfill", backfilled),
        ):
            assert {f: rows[key][f] for f in SAME} == want, (name, key)
        window = {f: windowed[key][f] for f in ("window_start", "window_end")}
        assert window == {
            "window_start": "2026-03-01T00:00:00Z",
            "window_end": "2026-03-01T01:00:00Z",
        }
        for name, rows in (("collector", collected), ("backfill", backfilled)):
            assert {f: rows[key][f] for f in ("window_start", "window_end")} == window
            assert (rows[key]["model"], rows[key]["version"]) == ("m", "1"), (name, key)
