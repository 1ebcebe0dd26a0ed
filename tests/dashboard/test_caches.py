"""The dashboard's caches: new data shows up in the next answer after at most their time to
live, which stays within the page's refresh."""

from __future__ import annotations

from datetime import UTC

from dashboard.test_api import MINUTE, _profile, _register, _table
from sightline.server.bodies import PROFILE
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
