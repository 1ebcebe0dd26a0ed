"""``/metrics`` scraped by a real Prometheus (Debian's package) on loopback with a read key:
the newest rows with their bounds and window ends, per-version health gauges, stale series
dropped (and marked stale by Prometheus), and no ``_created`` series.

Prometheus is not a Python package: this test skips without ``/usr/bin/prometheus``, except
in CI, which installs it and sets SIGHTLINE_REQUIRE_PROMETHEUS=1 so that a missing binary
fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pytest
from prometheus_client.parser import text_string_to_metric_families

from sightline._time import EPOCH
from sightline.profile import Column, Schema
from sightline.profile.dataset import LATENCY_BUCKETS_MS
from sightline.sdk import Monitor
from sightline.store import utcnow
from support.daemon import daemon
from support.live import Collector, free_port

SCHEMA = Schema((Column("x"), Column("y", role="prediction")))
ROW = ("model", "version", "column", "metric")
VERSION = ("model", "version")


def _binary() -> str:
    found = shutil.which("prometheus") or (
        "/usr/bin/prometheus" if os.path.exists("/usr/bin/prometheus") else None
    )
    if found is None:
        if os.environ.get("SIGHTLINE_REQUIRE_PROMETHEUS") == "1":
            pytest.fail("Prometheus is required here (SIGHTLINE_REQUIRE_PROMETHEUS=1)")
        pytest.skip("Prometheus is not installed (apt-get install prometheus; CI installs it)")
    return found


@dataclass
class Prometheus:
    """A running Prometheus: its HTTP API on loopback."""

    url: str

    def query(self, promql: str) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "success", body
        return list(body["data"]["result"])

    def values(self, promql: str, labels: tuple[str, ...] = ROW) -> dict[tuple[str, ...], float]:
        """``{(values of labels): value}`` of an instant query (an empty label value is
        an absent label to Prometheus, as ``column`` of a model-level metric)."""
        return {
            tuple(s["metric"].get(name, "") for name in labels): float(s["value"][1])
            for s in self.query(promql)
        }


def wait_until(what: str, check: Callable[[], bool], seconds: float = 60.0) -> None:
    """Poll ``check`` every 0.2 s until it is true, at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.2)


@contextlib.contextmanager
def running_prometheus(
    collector: Collector, tmp_path: Path, rules: str = ""
) -> Iterator[Prometheus]:
    """Prometheus scraping the collector's ``/metrics`` every second with a read key, and
    evaluating the alerting ``rules`` (a rules file's YAML) every second when given."""
    binary = _binary()
    key = collector.store.create_key("default", "read")
    target = collector.url.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    text = "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
    if rules:
        (tmp_path / "rules.yml").write_text(rules)
        text += f"  evaluation_interval: 1s\nrule_files: ['{tmp_path / 'rules.yml'}']\n"
    config.write_text(
        text + "scrape_configs:\n"
        "  - job_name: sightline\n"
        "    authorization:\n      type: Bearer\n"
        f"      credentials: {key}\n"
        f"    static_configs:\n      - targets: ['{target}']\n"
    )
    port = free_port()
    args = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    with daemon(args, tmp_path / "prometheus.log") as process:
        live = Prometheus(f"http://127.0.0.1:{port}")

        def scraped() -> bool:
            try:
                return live.values('up{job="sightline"}', ()) == {(): 1.0}
            except httpx.HTTPError:
                return process.poll() is not None  # exited: fail below with its log
            except AssertionError:
                return False

        wait_until("Prometheus to scrape the collector", scraped)
        assert process.poll() is None, (tmp_path / "prometheus.log").read_text()
        yield live


@pytest.fixture
def prometheus(duckdb_collector: Collector, tmp_path: Path) -> Iterator[Prometheus]:
    """Prometheus scraping the collector's ``/metrics`` every second with a read key."""
    with running_prometheus(duckdb_collector, tmp_path) as live:
        yield live


def row(model: str, column: str, metric: str, end: datetime, size: timedelta, **kw: Any) -> dict:
    base = {"value": 0.0, "lower_bound": None, "upper_bound": None, "alert": False}
    return {
        "project": "default",
        "model": model,
        "version": "1",
        "window_start": end - size,
        "window_end": end,
        "column_name": column,
        "metric": metric,
        **base,
        **kw,
        "n_ref": 100,
        "n_cur": 10,
        "method": metric,
        "p_value": None,
        "kind": "drift",
        "computed_at": end,
    }


def insert(collector: Collector, rows: list[dict]) -> None:
    table = pa.Table.from_pylist(rows)
    for name in ("window_start", "window_end", "computed_at"):
        table = table.set_column(
            table.schema.get_field_index(name), name, table[name].cast(pa.timestamp("us"))
        )
    for name in ("lower_bound", "upper_bound", "p_value"):
        table = table.set_column(
            table.schema.get_field_index(name), name, table[name].cast(pa.float64())
        )
    collector.store.insert_rows("metric_rows", table)


def epoch(moment: datetime) -> float:
    return (moment - EPOCH).total_seconds()


def test_rows_bounds_window_ends_and_health_reach_prometheus(
    duckdb_collector: Collector, prometheus: Prometheus, tmp_path: Path
) -> None:
    hour = timedelta(hours=1)
    now = utcnow()
    newest = now.replace(minute=0, second=0, microsecond=0)
    rows = [
        row("churn", "age", "psi", newest, hour, value=0.31, upper_bound=0.2, alert=True),
        row("churn", "age", "psi", newest - hour, hour, value=0.05, upper_bound=0.2),
        row("churn", "", "accuracy", newest, hour, value=0.9, lower_bound=0.85, upper_bound=0.95),
        # Its newest window ended three windows ago: no longer exported.
        row("churn", "gone", "psi", now - 3 * timedelta(minutes=1), timedelta(minutes=1)),
    ]
    insert(duckdb_collector, rows)

    # Health: one instance of churn/1 serves 200 predictions, 10 of them failed.
    admin = duckdb_collector.client()
    assert admin.put("/api/v1/models/churn/versions/1", json=SCHEMA.to_dict()).status_code == 200
    key = duckdb_collector.store.create_key("default", "ingest")
    m = Monitor("churn", "1", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path, tick=0.05)
    latencies = np.random.default_rng(3).gamma(2.0, 20.0, 200)
    m.log_batch({"x": np.arange(200.0)}, predictions=[1.0] * 200, latency_ms=latencies.tolist())
    for _ in range(10):
        m.log_error(latency_ms=5.0)
    assert m.flush(timeout=30)

    want_value = {("churn", "1", "age", "psi"): 0.31, ("churn", "1", "", "accuracy"): 0.9}

    def exported() -> bool:
        return prometheus.values("sightline_metric_value") == want_value and bool(
            prometheus.values("sightline_health_error_ratio", VERSION)
        )

    wait_until("the newest rows and the health gauges", exported)
    assert prometheus.values("sightline_metric_upper") == {
        ("churn", "1", "age", "psi"): 0.2,
        ("churn", "1", "", "accuracy"): 0.95,
    }
    assert prometheus.values("sightline_metric_lower") == {("churn", "1", "", "accuracy"): 0.85}
    assert prometheus.values("sightline_metric_alert") == {
        ("churn", "1", "age", "psi"): 1.0,
        ("churn", "1", "", "accuracy"): 0.0,
    }
    ends = prometheus.values("sightline_metric_window_end_seconds")
    assert ends == dict.fromkeys(want_value, epoch(newest))
    assert not prometheus.query('{column="gone"}')
    # The alert a rule would write: a drifted column, in PromQL (docs/prometheus.md).
    drifted = prometheus.values("sightline_metric_value > sightline_metric_upper")
    assert list(drifted) == [("churn", "1", "age", "psi")]
    psi = prometheus.query('sightline_metric_value{column="age"}')[0]["metric"]
    assert set(psi) == {"__name__", "instance", "job", *ROW}

    # Health per version, as the health API computes it over the same five minutes.
    health = admin.get(
        "/api/v1/models/churn/health",
        params={"since": (utcnow() - timedelta(minutes=5)).isoformat() + "Z"},
    ).json()
    assert (health["predictions"], health["errors"]) == (210, 10)
    assert prometheus.values("sightline_health_live_instances", VERSION) == {("churn", "1"): 1.0}
    assert prometheus.values("sightline_health_predictions_per_second", VERSION) == {
        ("churn", "1"): pytest.approx(210 / 300)
    }
    assert prometheus.values("sightline_health_error_ratio", VERSION) == {
        ("churn", "1"): pytest.approx(10 / 210)
    }
    p95 = prometheus.values("sightline_health_latency_p95_seconds", VERSION)[("churn", "1")]
    assert p95 == pytest.approx(health["latency_ms"]["p95"] / 1000)
    # Interpolated in the latency buckets: inside the bucket of the exact 95th percentile.
    exact = float(np.percentile(np.concatenate([latencies, [5.0] * 10]), 95))
    edges = [0.0, *LATENCY_BUCKETS_MS]
    i = int(np.searchsorted(edges, exact))
    assert edges[i - 1] <= p95 * 1000 <= edges[i]
    m.close(timeout=30)

    assert not prometheus.query('{__name__=~".+_created"}')
    assert prometheus.values("sightline_ingested_rows_total")  # counters still there


def test_a_series_whose_windows_stop_is_marked_stale(
    duckdb_collector: Collector, prometheus: Prometheus
) -> None:
    # Ten-second windows: exported for two windows after the newest ends, then dropped.
    now = utcnow()
    insert(duckdb_collector, [row("blink", "x", "psi", now, timedelta(seconds=10), value=0.5)])
    series = 'sightline_metric_value{model="blink"}'
    wait_until(
        "Prometheus to scrape the series",
        lambda: prometheus.values(f"count_over_time({series}[5m])", ()) != {},
    )
    # Gone from instant queries long before their 5-minute lookback: a staleness marker.
    wait_until("the series to be marked stale", lambda: prometheus.values(series) == {})
    assert prometheus.values(f"last_over_time({series}[5m])") == {("blink", "1", "x", "psi"): 0.5}


def test_health_gauges_per_version_on_both_stores(collector: Collector, tmp_path: Path) -> None:
    """Two versions of one model, two instances of one of them: each version its own
    gauges (the text of ``/metrics``, parsed by prometheus_client, on DuckDB and PostgreSQL)."""
    admin = collector.client()
    key = collector.store.create_key("default", "ingest")
    served: dict[str, list[Monitor]] = {"1": [], "2": []}
    for version, instances, n in (("1", 2, 30), ("2", 1, 12)):
        url = f"/api/v1/models/churn/versions/{version}"
        assert admin.put(url, json=SCHEMA.to_dict()).status_code == 200
        for i in range(instances):
            spool = tmp_path / f"{version}-{i}"
            m = Monitor("churn", version, url=collector.url, api_key=key, spool_dir=spool)
            m.log_batch({"x": np.arange(float(n))}, predictions=[0.0] * n, latency_ms=[2.0] * n)
            m.log_error(latency_ms=2.0)
            assert m.flush(timeout=30)
            served[version].append(m)
    text = admin.get("/metrics", headers={"Authorization": f"Bearer {read_key(collector)}"}).text
    got = {
        (s.name, s.labels["version"]): s.value
        for family in text_string_to_metric_families(text)
        if family.name.startswith("sightline_health_")
        for s in family.samples
    }
    assert got == {
        ("sightline_health_live_instances", "1"): 2.0,
        ("sightline_health_live_instances", "2"): 1.0,
        ("sightline_health_predictions_per_second", "1"): pytest.approx(62 / 300),
        ("sightline_health_predictions_per_second", "2"): pytest.approx(13 / 300),
        ("sightline_health_error_ratio", "1"): pytest.approx(2 / 62),
        ("sightline_health_error_ratio", "2"): pytest.approx(1 / 13),
        # All at 2 ms: the first latency bucket, clamped to the observed range [2, 2] ms.
        ("sightline_health_latency_p95_seconds", "1"): pytest.approx(0.002),
        ("sightline_health_latency_p95_seconds", "2"): pytest.approx(0.002),
    }
    assert "_created" not in text
    for monitors in served.values():
        for m in monitors:
            m.close(timeout=30)


def read_key(collector: Collector) -> str:
    return collector.store.create_key("default", "read")
