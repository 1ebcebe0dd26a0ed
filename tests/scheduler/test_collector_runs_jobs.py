"""The collector runs the scheduler: what the SDK sends becomes metric rows."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import numpy as np

from conftest import running_collector
from sightline.profile import Column, Schema
from sightline.sdk import Monitor
from sightline.server.state import Settings
from support.live import windowed_model

SCHEMA = Schema((Column("x"), Column("y", role="prediction")))


def test_windows_of_logged_rows_become_rows(tmp_path: Path) -> None:
    settings = Settings(schedule_every=timedelta(seconds=0.2))
    with running_collector(str(tmp_path / "data"), settings=settings) as collector:
        admin = collector.client()
        key = windowed_model(collector, SCHEMA.to_dict(), "2s", 1)
        assert admin.get("/api/v1/models/m/settings").json()["window"] == "2s"
        rng = np.random.default_rng(0)
        with Monitor(
            "m",
            "1",
            url=collector.url,
            api_key=key,
            window=2,
            spool_dir=tmp_path / "spool",
            tick=0.1,
        ) as m:
            # Without an uploaded reference the collector fixes bins from the first window;
            # the Monitor takes them (within the collector's 5-second cache of the version)
            # and the windows binned on them are compared with each other.
            start = time.monotonic()
            drift: list[dict[str, object]] = []
            while time.monotonic() - start < 40 and not any(r["column"] == "x" for r in drift):
                for _ in range(50):
                    m.log({"x": float(rng.normal())}, prediction=0.5, latency_ms=3.0)
                m.flush(timeout=5)
                time.sleep(0.2)
                drift = admin.get("/api/v1/models/m/drift/latest").json()["rows"]
        deadline = time.monotonic() + 20
        health: list[dict[str, object]] = []
        while time.monotonic() < deadline and len(health) < 2:
            rows = admin.get("/api/v1/models/m/metrics", params={"metric": "predictions"}).json()[
                "rows"
            ]
            health = [r for r in rows if r["value"]]
            time.sleep(0.2)
        assert len(health) >= 2
        drift = admin.get("/api/v1/models/m/drift/latest").json()["rows"]
        assert {r["column"] for r in drift} >= {"x"}
