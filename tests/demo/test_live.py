"""``sightline demo --fast``: within 90 s of its start the collector shows, through
``sightline.Client``, the drift of exactly the injected columns, an estimated and a realized
performance drop, a firing alert, and the killed instance leaving and coming back; after
``--duration`` every process it started is gone."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import pytest

import sightline
from sightline.demo.data import DRIFTED, FEATURES, MODEL

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc for the children"
)
DEADLINE = 90.0  # seconds after the demo's start
DURATION = 100.0


@dataclass
class Seen:
    """When (seconds after the demo's start) each thing was first seen, and the health."""

    drift: float | None = None
    drifted_then: tuple[str, ...] = ()
    estimated: float | None = None
    realized: float | None = None
    firing: float | None = None
    firing_rules: set[str] = field(default_factory=set)
    live: list[tuple[float, int]] = field(default_factory=list)  # (when, live_instances)

    def instance_came_back(self) -> bool:
        """live_instances was 3, then fewer, then 3 again."""
        text = "".join("3" if n == 3 else "-" for _, n in self.live)
        return "3-" in text and "-3" in text[text.index("3-") :]

    def complete(self) -> bool:
        parts = (self.drift, self.estimated, self.realized, self.firing)
        return all(p is not None for p in parts) and self.instance_came_back()


def _look(client: sightline.Client, seen: Seen, at: float) -> None:
    seen.live.append((round(at, 1), int(client.health(MODEL)["live_instances"])))
    rows = client.drift(MODEL).rows
    alerting = tuple(sorted(r.column for r in rows if r.column in FEATURES and r.alert))
    if seen.drift is None and alerting == tuple(sorted(DRIFTED)):
        seen.drift, seen.drifted_then = at, tuple(sorted(r.column for r in rows if r.column))
    metrics = client.metrics(MODEL, metric="estimated_accuracy").rows
    if seen.estimated is None and any(r.alert for r in metrics):
        seen.estimated = at
    accuracy = client.metrics(MODEL, metric="accuracy").rows
    if seen.realized is None and any(r.alert and r.n_cur for r in accuracy):
        seen.realized = at
    firing = client.alerts(state="firing", model=MODEL)
    if firing and seen.firing is None:
        seen.firing = at
    seen.firing_rules |= {a["rule"] for a in firing}


@pytest.fixture(scope="module")
def fast_demo(start_demo, tmp_path_factory):  # type: ignore[no-untyped-def]
    data = tmp_path_factory.mktemp("demo") / "data"
    demo = start_demo("--fast", "--duration", str(DURATION), "--data", str(data))
    url = demo.wait_for(r"^dashboard: (http://127\.0\.0\.1:\d+)/$").group(1)
    key = demo.wait_for(r"^admin key: (sl_\S+)$").group(1)
    seen = Seen()
    with sightline.Client(url, api_key=key, timeout_s=10) as client:
        demo.wait_for(r"^registered ")
        while not seen.complete() and demo.elapsed() < DEADLINE:
            _look(client, seen, demo.elapsed())
            time.sleep(1.0)
    code = demo.finish(DURATION + 30 - demo.elapsed())
    print(f"seen (s after the start): {seen}")  # in the report of a failing test, and with -s
    return demo, seen, code


def test_prints_the_dashboard_and_an_admin_key(fast_demo) -> None:
    demo, _, _ = fast_demo
    assert demo.wait_for(r"^dashboard: http://127\.0\.0\.1:\d+/$")
    assert demo.wait_for(r"^admin key: sl_[0-9a-f]{16}_\S+$")


def test_the_injected_columns_drift_and_no_others(fast_demo) -> None:
    demo, seen, _ = fast_demo
    assert seen.drift is not None and seen.drift <= DEADLINE, demo.output()
    assert set(FEATURES) - set(DRIFTED) <= set(seen.drifted_then)  # they had rows, quiet


def test_the_estimated_performance_drops(fast_demo) -> None:
    demo, seen, _ = fast_demo
    assert seen.estimated is not None and seen.estimated <= DEADLINE, demo.output()


def test_the_realized_performance_drops_once_labels_arrive(fast_demo) -> None:
    demo, seen, _ = fast_demo
    assert seen.realized is not None and seen.realized <= DEADLINE, demo.output()


def test_an_alert_fires(fast_demo) -> None:
    demo, seen, _ = fast_demo
    assert seen.firing is not None and seen.firing <= DEADLINE, demo.output()
    assert {"column_drift", "estimated_accuracy_drop", "realized_accuracy_drop"} <= (
        seen.firing_rules
    )
    assert any(line.startswith("alert firing: column_drift") for line in demo.lines)


def test_the_killed_instance_leaves_and_comes_back(fast_demo) -> None:
    demo, seen, _ = fast_demo
    assert seen.instance_came_back(), (seen.live, demo.output())


def test_stops_after_the_duration_and_leaves_no_process(fast_demo) -> None:
    demo, _, code = fast_demo
    assert code == 0, demo.output()
    assert len(demo.pids()) == 5  # the collector, three instances, one restart
    assert demo.left_running(timeout=0) == []
