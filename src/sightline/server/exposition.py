"""What ``/metrics`` exports for Prometheus, per project (the key's own), in text format.

- ``sightline_metric_value``, ``sightline_metric_lower``, ``sightline_metric_upper``,
  ``sightline_metric_alert`` (0 or 1) and ``sightline_metric_window_end_seconds`` (epoch
  seconds), labelled model, version, column, metric: the newest row of each series. A row
  without a bound has no ``_lower``/``_upper`` sample. A series whose newest window ended
  more than two windows ago is no longer exported, so that Prometheus marks it stale
  instead of repeating an old value.
- ``sightline_health_live_instances``, ``sightline_health_predictions_per_second``,
  ``sightline_health_latency_p95_seconds`` and ``sightline_health_error_ratio``, labelled
  model, version, over the last :data:`HEALTH_SPAN` (a version that served nothing then
  has no latency or error sample).
- ``sightline_jobs_failing`` {model}; the counters ``sightline_ingested_rows_total``
  {kind} and ``sightline_ingest_requests_total`` {kind, outcome}.

Every family is a gauge but the two counters; no ``_created`` series are exported.
``docs/prometheus.md`` shows them in PromQL.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from sightline._time import EPOCH
from sightline.analysis.rows import SERIES_FIELDS, MetricRow
from sightline.server.health import VersionHealth
from sightline.store import as_utc

#: The span that the health gauges summarize, ending at the scrape.
HEALTH_SPAN = timedelta(minutes=5)

_ROW_LABELS = list(SERIES_FIELDS)


class Counters:
    """The collector's ingest counters, per project (a key's ``/metrics`` shows its own
    project's only).

    >>> counters = Counters()
    >>> counters.ingested("a", "predictions", 3, stored=True)
    >>> [(s.name, s.labels, s.value) for f in counters.families("a") for s in f.samples][0]
    ('sightline_ingested_rows_total', {'kind': 'predictions'}, 3.0)
    >>> counters.families("b")[0].samples
    []
    """

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], int] = {}
        self._requests: dict[tuple[str, str, str], int] = {}
        self._lock = threading.Lock()

    def ingested(self, project: str, kind: str, rows: int, stored: bool) -> None:
        """Count one ingest request of ``kind`` and the ``rows`` it committed."""
        outcome = "stored" if stored else "duplicate"
        with self._lock:
            self._rows[(project, kind)] = self._rows.get((project, kind), 0) + rows
            key = (project, kind, outcome)
            self._requests[key] = self._requests.get(key, 0) + 1

    def families(self, project: str) -> list[Metric]:
        """The counters of ``project``, without ``_created`` samples."""
        rows = CounterMetricFamily(
            "sightline_ingested_rows", "Rows committed by ingest requests", labels=["kind"]
        )
        requests = CounterMetricFamily(
            "sightline_ingest_requests", "Ingest requests by outcome", labels=["kind", "outcome"]
        )
        with self._lock:
            for (p, kind), n in sorted(self._rows.items()):
                if p == project:
                    rows.add_metric([kind], float(n))
            for (p, kind, outcome), n in sorted(self._requests.items()):
                if p == project:
                    requests.add_metric([kind, outcome], float(n))
        return [rows, requests]


def fresh(row: MetricRow, now: datetime) -> bool:
    """Whether a newest row is still exported: its window ended at most two windows before
    ``now`` (a row without window edges always is).

    >>> t = datetime(2026, 1, 1, 12)
    >>> hour = timedelta(hours=1)
    >>> fresh(MetricRow("psi", 0.1, window_start=t - 3 * hour, window_end=t - 2 * hour), t)
    True
    >>> fresh(MetricRow("psi", 0.1, window_start=t - 4 * hour, window_end=t - 3 * hour), t)
    False
    """
    start, end = row.window_start, row.window_end
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        return True
    return bool(as_utc(now) - as_utc(end) <= 2 * (end - start))


def exposition(
    rows: Iterable[MetricRow],
    health: Sequence[VersionHealth],
    failing: dict[str, int],
    counters: list[Metric],
) -> bytes:
    """The text of ``/metrics`` from the newest (fresh) metric rows, the health of each
    version, the failing jobs per model and the ingest counters."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families([*_row_families(rows), *_health_families(health)]))
    registry.register(_Families([_failing_family(failing), *counters]))
    return generate_latest(registry)


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> list[Metric]:
        return self._families


def _row_families(rows: Iterable[MetricRow]) -> list[Metric]:
    def gauge(name: str, doc: str) -> GaugeMetricFamily:
        return GaugeMetricFamily(f"sightline_metric_{name}", doc, labels=_ROW_LABELS)

    value = gauge("value", "Value of the newest metric row")
    lower = gauge("lower", "Lower bound of the newest metric row (its threshold or interval)")
    upper = gauge("upper", "Upper bound of the newest metric row (its threshold or interval)")
    alert = gauge("alert", "1 when the newest metric row alerts, else 0")
    end = gauge("window_end_seconds", "End of the newest metric row's window, epoch seconds")
    for r in rows:
        names = [str(getattr(r, field)) for field in SERIES_FIELDS]
        value.add_metric(names, r.value)
        for family, bound in ((lower, r.lower), (upper, r.upper)):
            if math.isfinite(bound):
                family.add_metric(names, bound)
        alert.add_metric(names, 1.0 if r.alert else 0.0)
        if isinstance(r.window_end, datetime):
            end.add_metric(names, _epoch(r.window_end))
    return [value, lower, upper, alert, end]


def _health_families(health: Sequence[VersionHealth]) -> list[Metric]:
    def gauge(name: str, doc: str) -> GaugeMetricFamily:
        return GaugeMetricFamily(f"sightline_health_{name}", doc, labels=["model", "version"])

    span = f"over the last {int(HEALTH_SPAN.total_seconds())} s"
    live = gauge("live_instances", "Serving instances whose heartbeat is current")
    throughput = gauge("predictions_per_second", f"Predictions served per second {span}")
    p95 = gauge("latency_p95_seconds", f"95th percentile of prediction latency {span}")
    errors = gauge("error_ratio", f"Failed predictions per prediction {span}")
    for h in health:
        names = [h.model, h.version]
        live.add_metric(names, float(h.live_instances))
        throughput.add_metric(names, h.predictions_per_second)
        if not math.isnan(h.latency_p95_ms):
            p95.add_metric(names, h.latency_p95_ms / 1000.0)
        if not math.isnan(h.error_rate):
            errors.add_metric(names, h.error_rate)
    return [live, throughput, p95, errors]


def _failing_family(failing: dict[str, int]) -> Metric:
    family = GaugeMetricFamily(
        "sightline_jobs_failing",
        "Scheduler jobs whose last run failed (retried with a growing delay)",
        labels=["model"],
    )
    for model, n in sorted(failing.items()):
        family.add_metric([model], float(n))
    return family


def _epoch(moment: datetime) -> float:
    """Epoch seconds of a store time (naive UTC) or an aware one."""
    return (as_utc(moment) - EPOCH).total_seconds()
