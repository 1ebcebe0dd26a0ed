"""A Prometheus alerting rule over ``sightline_metric_alert``: a real Prometheus (Debian's
package) scrapes the collector's ``/metrics`` with a read key every second, evaluates the
rule every second, and its alert fires for the drifted column only (``/api/v1/alerts``).

Skips without ``/usr/bin/prometheus`` unless SIGHTLINE_REQUIRE_PROMETHEUS=1 (CI).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from server.test_prometheus import Prometheus, _binary, insert, row, wait_until
from sightline.store import utcnow
from support.live import Collector, free_port

RULE = """groups:
  - name: sightline
    interval: 1s
    rules:
      - alert: SightlineColumnDrift
        expr: sightline_metric_alert{metric="jensen_shannon"} == 1
        for: 2s
        labels: {severity: page}
        annotations:
          summary: "{{ $labels.model }} {{ $labels.version }}: {{ $labels.column }} drifted"
"""


@pytest.fixture
def alerting_prometheus(duckdb_collector: Collector, tmp_path: Path) -> Iterator[Prometheus]:
    """Prometheus scraping the collector every second, with :data:`RULE` loaded."""
    binary = _binary()
    key = duckdb_collector.store.create_key("default", "read")
    (tmp_path / "rules.yml").write_text(RULE)
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
        f"rule_files: ['{tmp_path / 'rules.yml'}']\n"
        "scrape_configs:\n  - job_name: sightline\n"
        f"    authorization: {{type: Bearer, credentials: {key}}}\n"
        f"    static_configs: [{{targets: ['{duckdb_collector.url.removeprefix('http://')}']}}]\n"
    )
    port = free_port()
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        live = Prometheus(f"http://127.0.0.1:{port}")

        def up() -> bool:
            assert process.poll() is None, (tmp_path / "prometheus.log").read_text()
            try:
                return live.values('up{job="sightline"}', ()) == {(): 1.0}
            except (httpx.HTTPError, AssertionError):
                return False

        wait_until("Prometheus to scrape the collector", up)
        yield live
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_a_prometheus_alerting_rule_over_sightline_metric_alert_fires(
    duckdb_collector: Collector, alerting_prometheus: Prometheus
) -> None:
    size = timedelta(minutes=10)
    end = utcnow()
    insert(
        duckdb_collector,
        [
            row(
                "churn", "age", "jensen_shannon", end, size, value=0.3, upper_bound=0.1, alert=True
            ),
            row("churn", "city", "jensen_shannon", end, size, value=0.02, upper_bound=0.1),
        ],
    )

    def alerts() -> list[dict[str, object]]:
        answer = httpx.get(f"{alerting_prometheus.url}/api/v1/alerts", timeout=10).json()
        return [a for a in answer["data"]["alerts"] if a["state"] == "firing"]

    wait_until("the alert to fire", lambda: bool(alerts()))
    (alert,) = alerts()
    labels = alert["labels"]
    assert labels["alertname"] == "SightlineColumnDrift"  # type: ignore[index]
    assert (labels["model"], labels["column"], labels["severity"]) == ("churn", "age", "page")  # type: ignore[index]
    assert alert["annotations"] == {"summary": "churn 1: age drifted"}
    assert float(alert["value"]) == 1.0  # type: ignore[arg-type]
