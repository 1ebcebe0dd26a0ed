"""A Prometheus alerting rule over ``sightline_metric_alert``: a real Prometheus (Debian's
package) scrapes the collector's ``/metrics`` with a read key every second, evaluates the
rule every second, and its alert fires for the drifted column only (``/api/v1/alerts``).

Skips without ``/usr/bin/prometheus`` unless SIGHTLINE_REQUIRE_PROMETHEUS=1 (CI).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from server.test_prometheus import Prometheus, insert, row, running_prometheus, wait_until
from sightline.store import utcnow
from support.live import Collector

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
    with running_prometheus(duckdb_collector, tmp_path, RULE) as live:
        yield live


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
