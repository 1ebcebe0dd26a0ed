"""Burn rates on a simulated per-minute series (SRE workbook, ch. 5, table 5-8)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from sightline.alerts.rules import Slo
from sightline.alerts.slo import budget_row, burn_rows, slow_count
from sightline.profile.dataset import LATENCY_BUCKETS_MS

T0 = datetime(2026, 3, 1)
SLO = Slo("availability", "availability", objective=0.999)
PER_MINUTE = 1000.0
HISTORY = 4 * 24 * 60  # minutes of clean traffic before the test's events


def _series(errors_at: dict[int, float], minutes: int) -> np.ndarray:
    bad = np.zeros(HISTORY + minutes)
    for minute, share in errors_at.items():
        bad[HISTORY + minute] = share * PER_MINUTE
    return bad


def _rows_at(bad: np.ndarray, minute: int) -> dict[str, object]:
    """The SLO rows after ``minute`` minutes of the simulated series."""
    end = HISTORY + minute + 1

    def counts(seconds: int) -> tuple[float, float]:
        start = max(0, end - seconds // 60)
        return float(bad[start:end].sum()), PER_MINUTE * (end - start)

    now = T0 + timedelta(minutes=end)
    window = (now - timedelta(minutes=1), now)
    rows = [*burn_rows(SLO, "churn", counts, now), budget_row(SLO, "churn", counts, window)]
    return {r.column: r for r in rows}


def _pages(rows: dict[str, object]) -> bool:
    return any(rows[c].alert for c in ("availability/page-1h", "availability/page-6h"))  # type: ignore[attr-defined]


def test_a_full_outage_pages_within_the_short_window() -> None:
    bad = _series({m: 1.0 for m in range(10)}, 10)
    first_page = next(m for m in range(10) if _pages(_rows_at(bad, m)))
    assert first_page < 5  # the short window of the 1 h tier is 5 min
    rows = _rows_at(bad, 0)
    # one bad minute of 60: burn 1/60/0.001 = 16.7 over 1 h, 1/5/0.001 = 200 over 5 min
    assert np.isclose(rows["availability/page-1h"].value, (1 / 60) / 0.001)  # type: ignore[attr-defined]


def test_a_ten_minute_blip_at_ten_times_the_burn_does_not_page() -> None:
    bad = _series({m: 10 * 0.001 for m in range(10)}, 60)
    assert not any(_pages(_rows_at(bad, m)) for m in range(60))
    rows = _rows_at(bad, 9)
    assert np.isclose(rows["availability/page-1h"].value, 10 * 10 / 60)  # type: ignore[attr-defined]
    assert rows["availability/page-1h"].upper == 14.4  # type: ignore[attr-defined]


def test_the_budget_row_falls_as_expected() -> None:
    bad = _series({m: 0.01 for m in range(600)}, 600)
    budget = [_rows_at(bad, m)["availability"].value for m in (0, 299, 599)]  # type: ignore[attr-defined]
    # the period (30 d) holds HISTORY + m + 1 minutes of which m + 1 burn at 1 %
    expected = [
        1 - ((m + 1) * 0.01 * PER_MINUTE / ((HISTORY + m + 1) * PER_MINUTE)) / 0.001
        for m in (0, 299, 599)
    ]
    assert np.allclose(budget, expected)
    assert budget[0] > budget[1] > budget[2]


def test_slow_count_interpolates_inside_a_bucket_as_histogram_quantile() -> None:
    edges = list(LATENCY_BUCKETS_MS)
    buckets = np.zeros(len(edges) + 1)
    buckets[edges.index(75.0)] = 100  # 100 latencies in (50, 75]
    assert slow_count(buckets, 50.0) == 100
    assert np.isclose(slow_count(buckets, 62.5), 50)
    assert slow_count(buckets, 75.0) == 0
