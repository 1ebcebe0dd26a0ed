"""The dashboard's caches: new data shows up in the next answer after at most their time to
live, which stays within the page's refresh."""

from __future__ import annotations

import re
import time
from datetime import UTC, timedelta

import pyarrow as pa

from dashboard.test_api import MINUTE, _profile, _register, _table
from sightline.server.bodies import PROFILE
from sightline.server.pages import api
from sightline.server.pages.routes import STATIC
from sightline.store import utcnow
from support.churn import BASE
from support.live import Collector


def test_a_new_profile_of_the_window_shows_in_the_next_distribution(collector: Collector) -> None:
    c = collector.client()
    reference = _profile(_table(2000, 1))
    _register(c, reference)
    at = utcnow().replace(second=0, microsecond=0, tzinfo=UTC) - 2 * MINUTE

    def post(i: int, n: int) -> None:
        p = _profile(_table(n, 10 + i), reference, window_start=at, window_end=at + MINUTE)
        r = c.post(
            f"{BASE}/profiles",
            content=p.to_bytes(),
            headers={"Idempotency-Key": f"w{i}", "content-type": PROFILE},
        )
        assert r.status_code == 200, r.text

    def count() -> int:
        found = c.get(f"{BASE}/distribution", params={"column": "age"}).json()
        return int(sum(found["window"]["counts"]))

    post(0, 300)
    assert count() == 300 and count() == 300  # the second answer from the cache
    post(1, 200)  # the same window: its merge is decoded again at once
    assert count() == 500


def test_a_new_heartbeat_shows_in_the_30_day_uptime_within_the_refresh(
    collector: Collector,
) -> None:
    refresh = re.search(r"REFRESH_MS = (\d+)", (STATIC / "overview.js").read_text())
    assert refresh is not None and int(refresh.group(1)) / 1000 >= api.MONTHLY_SECONDS
    c = collector.client()
    _register(c, _profile(_table(2000, 1)))
    now = utcnow()

    def beat(times: list, instance: str) -> None:  # type: ignore[type-arg]
        n = len(times)
        collector.store.insert_rows(
            "heartbeats",
            pa.table(
                {
                    "project": ["default"] * n,
                    "model": ["churn"] * n,
                    "version": ["1"] * n,
                    "instance": [instance] * n,
                    "host": ["h"] * n,
                    "pid": [1] * n,
                    "started_at": [times[0]] * n,
                    "ts": times,
                    "dropped": [0] * n,
                    "closed": [False] * n,
                }
            ),
        )

    def uptime() -> float:
        (row,) = c.get("/api/v1/overview").json()["versions"]
        return float(row["uptime_percent_30d"])

    # Beats for the first 10 minutes of the last 20: half the range is covered.
    start = now - timedelta(minutes=20)
    beat([start + timedelta(seconds=30 * i) for i in range(20)], "a")
    before = uptime()
    assert 40 < before < 60
    beat([start + timedelta(minutes=10, seconds=30 * i) for i in range(21)], "b")
    time.sleep(api.MONTHLY_SECONDS)
    assert uptime() > 95
