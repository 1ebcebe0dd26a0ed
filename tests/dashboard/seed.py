"""A real collector with real rows for the dashboard's tests and screenshots.

Two services log through the SDK (``Monitor``) into a collector on loopback: eight
one-minute windows of the last ten minutes, the last four with ``income`` shifted (a
covariate drift) and with worse predictions; labels for the first six windows. The real
scheduler then computes every window and the alert rules fire on the drift.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from conftest import running_collector
from sightline.alerts import Alerting
from sightline.client import Client
from sightline.profile import Column, Schema
from sightline.scheduler import Scheduler
from sightline.sdk import Monitor
from sightline.server.state import Settings
from sightline.store import Store, utcnow
from support.live import Collector

#: A column name that is also HTML: every page must show it as text.
HOSTILE = "<img src=x onerror=alert(1)>"
DRIFTED = "income"
CREDIT = "credit-scoring"
FRAUD = "fraud-check"
RULES = """
rules:
  - name: feature_drift
    match: {metric: jensen_shannon, column: "*"}
    when: alert
    severity: page
"""
SCHEMA = Schema(
    (
        Column(DRIFTED),
        Column("age"),
        Column(HOSTILE),
        Column("region", kind="categorical"),
        Column("proba", role="probability"),
        Column("pred", role="prediction", kind="categorical"),
        Column("target", role="target", kind="categorical"),
    )
)
WINDOWS = 8
ROWS = 3000


def _data(n: int, rng: np.random.Generator, shift: float = 0.0) -> dict[str, np.ndarray]:
    score = np.clip(rng.beta(2.0, 2.0, n), 1e-6, 1 - 1e-6)
    target = (rng.uniform(size=n) < score).astype(int)
    return {
        DRIFTED: rng.normal(50.0 + shift, 10.0, n),
        "age": rng.normal(40.0, 8.0, n),
        HOSTILE: rng.uniform(0.0, 1.0, n),
        "region": rng.choice(np.array(["north", "south", "east"], dtype=object), n),
        "proba": score,
        "pred": np.where(score > 0.5, "1", "0").astype(object),
        "target": np.where(target == 1, "1", "0").astype(object),
    }


@dataclass
class Seeded:
    """The collector, its keys, and when the drift began."""

    collector: Collector
    read_key: str
    ingest_key: str


def _log(monitor: Monitor, rng: np.random.Generator, start: float, drifted: bool) -> list[str]:
    data = _data(ROWS, rng, shift=40.0 if drifted else 0.0)
    ids = []
    for i in range(ROWS):
        features = {c: data[c][i] for c in (DRIFTED, "age", HOSTILE, "region")}
        ids.append(
            monitor.log(
                features,
                prediction=data["pred"][i],
                probability=float(data["proba"][i]),
                latency_ms=float(rng.gamma(2.0, 6.0 if not drifted else 20.0)),
                timestamp=start + 55.0 * i / ROWS,
            )
        )
    labels = data["target"] if not drifted else np.where(data["target"] == "1", "0", "1")
    monitor.log_labels(ids[: ROWS // 2], list(labels[: ROWS // 2]))
    return ids


def _past_heartbeats(store: Store, model: str, now: datetime, outage: timedelta) -> None:
    """A heartbeat a minute for the last 30 days, written into the store
    as the collector stores them, with ``outage`` missing 5 days ago (an instance down)."""
    times = [now - timedelta(days=30) + timedelta(minutes=m) for m in range(30 * 24 * 60)]
    down = (now - timedelta(days=5), now - timedelta(days=5) + outage)
    times = [t for t in times if not down[0] <= t < down[1]]
    n = len(times)
    stamp = pa.timestamp("us")
    store.insert_rows(
        "heartbeats",
        pa.table(
            {
                "project": ["default"] * n,
                "model": [model] * n,
                "version": ["1"] * n,
                "instance": ["earlier-instance"] * n,
                "host": ["seed"] * n,
                "pid": pa.array([1] * n, pa.int64()),
                "started_at": pa.array([times[0]] * n, stamp),
                "ts": pa.array(times, stamp),
                "dropped": pa.array([0] * n, pa.int64()),
            }
        ),
    )


@contextlib.contextmanager
def seeded_collector(tmp_path: Path) -> Iterator[Seeded]:
    """A collector over DuckDB in ``tmp_path`` with two services' rows and a firing alert."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    alerting = Alerting.from_file(rules)
    settings = Settings(schedule_every=timedelta(0), alerting=alerting)
    with running_collector(str(tmp_path / "data"), settings=settings) as collector:
        store = collector.store
        read_key = store.create_key("default", "read")
        ingest_key = store.create_key("default", "ingest")
        rng = np.random.default_rng(11)
        for model, outage in ((CREDIT, timedelta(hours=3)), (FRAUD, timedelta(0))):
            _past_heartbeats(store, model, utcnow(), outage)
        with Client(collector.url, collector.admin_key) as client:
            for model in (CREDIT, FRAUD):
                client.register(model, "1", schema=SCHEMA, reference=_data(6000, rng))
                client.settings(model, window="1m", lateness="1s")
        now = utcnow().replace(tzinfo=UTC).timestamp()
        first = (now // 60 - WINDOWS) * 60
        for model in (CREDIT, FRAUD):
            with Monitor(
                model,
                "1",
                url=collector.url,
                api_key=ingest_key,
                window=60,
                spool_dir=tmp_path / f"spool-{model}",
                tick=0.1,
            ) as monitor:
                for w in range(WINDOWS):
                    _log(
                        monitor, rng, first + 60 * w, drifted=model == CREDIT and w >= WINDOWS // 2
                    )
                monitor.flush(timeout=60)
        scheduler = Scheduler(store, alerts=alerting)
        for _ in range(3):
            scheduler.run_once(utcnow())
        yield Seeded(collector, read_key, ingest_key)
