"""Service-level objectives: multi-window, multi-burn-rate alerts and the error budget.

The burn rate of a window is its error ratio over the ratio the objective allows,
``(bad / total) / (1 - objective)``: at 1 the budget lasts exactly the SLO's period. As in
the SRE workbook (Beyer et al., *The Site Reliability Workbook*, 2018, ch. 5, "Alerting on
SLOs", table 5-8), a tier alerts when the burn rate exceeds its factor over both a long and
a short window (the short one makes the alert stop soon after the burning does):

============  =======  ===========  ============
tier          factor   long window  short window
============  =======  ===========  ============
page-1h       14.4     1 h          5 min
page-6h       6        6 h          30 min
ticket-3d     1        3 d          6 h
============  =======  ===========  ============

Each tier is a metric row ``slo_burn`` (column ``<slo>/<tier>``, value the smaller of the
two burn rates, ``upper`` the factor, ``alert`` when both exceed it), evaluated at each
pass; the budget left over the SLO's period before the end of each closed window is a row
``error_budget_remaining`` (1: untouched, 0: spent, below 0: overspent), which the
collector stores with the other metric rows. Rules select SLOs like any other series.

>>> burn_rate(bad=2, total=1000, objective=0.999)
2.0
>>> error_budget_remaining(bad=5, total=10_000, objective=0.999)
0.5
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from sightline.alerts.rules import Slo
from sightline.analysis.rows import MetricRow
from sightline.profile.dataset import LATENCY_BUCKETS_MS


@dataclass(frozen=True)
class Tier:
    """One multi-window alert: burn rate above ``factor`` over ``long`` and ``short`` s."""

    name: str
    factor: float
    long: int
    short: int


TIERS: tuple[Tier, ...] = (
    Tier("page-1h", 14.4, 3600, 300),
    Tier("page-6h", 6.0, 6 * 3600, 1800),
    Tier("ticket-3d", 1.0, 3 * 86400, 6 * 3600),
)

#: (bad, total) events of a model over the ``seconds`` before the evaluation.
Counts = Callable[[int], tuple[float, float]]


def burn_rate(bad: float, total: float, objective: float) -> float:
    """How many times faster than allowed the window spends the error budget (0 when
    nothing was served)."""
    return 0.0 if total <= 0 else (bad / total) / (1.0 - objective)


def error_budget_remaining(bad: float, total: float, objective: float) -> float:
    """The share of the period's error budget left: ``1 - burn rate over the period``."""
    return 1.0 - burn_rate(bad, total, objective)


def slow_count(buckets: np.ndarray, threshold_ms: float) -> float:
    """Latencies above ``threshold_ms`` among counts per latency bucket (``le`` edges of
    :data:`LATENCY_BUCKETS_MS` plus ``+Inf``), interpolated linearly inside the bucket that
    holds the threshold (as Prometheus's ``histogram_quantile`` does).

    >>> edges = list(LATENCY_BUCKETS_MS)
    >>> b = np.zeros(len(edges) + 1); b[edges.index(50.0)] = 10; b[-1] = 5
    >>> slow_count(b, 50.0)
    5.0
    """
    uppers = np.array(LATENCY_BUCKETS_MS)
    lowers = np.array([0.0, *LATENCY_BUCKETS_MS[:-1]])
    inside = np.clip((uppers - threshold_ms) / (uppers - lowers), 0.0, 1.0)
    above = np.append(inside, 1.0 if threshold_ms <= uppers[-1] else 0.0)
    return float(np.sum(np.asarray(buckets, dtype=float) * above))


def burn_rows(slo: Slo, model: str, counts: Counts, now: datetime) -> list[MetricRow]:
    """The ``slo_burn`` row of each tier of ``slo`` for ``model`` at ``now``;
    ``counts(seconds)`` gives the (bad, total) of the ``seconds`` before ``now``."""
    cache: dict[int, tuple[float, float]] = {}

    def rate(seconds: int) -> float:
        cache.setdefault(seconds, counts(seconds))
        return burn_rate(*cache[seconds], slo.objective)

    rows = []
    for tier in TIERS:
        long, short = rate(tier.long), rate(tier.short)
        rows.append(
            MetricRow(
                metric="slo_burn",
                value=min(long, short),
                column=f"{slo.name}/{tier.name}",
                model=model,
                window_start=now - timedelta(seconds=tier.long),
                window_end=now,
                upper=tier.factor,
                alert=long > tier.factor and short > tier.factor,
                n_cur=int(cache[tier.long][1]),
                method=f"burn rate over {tier.long} s and {tier.short} s, {_objective(slo)}",
            )
        )
    return rows


def budget_row(
    slo: Slo, model: str, counts: Counts, window: tuple[datetime, datetime]
) -> MetricRow:
    """The ``error_budget_remaining`` row of ``slo`` for ``model`` in ``window`` (start,
    end): the budget left over the SLO's period before the window's end, where
    ``counts(seconds)`` gives the (bad, total) of the ``seconds`` before that end.

    >>> w = (datetime(2026, 1, 1, 0, 59), datetime(2026, 1, 1, 1))
    >>> slo = Slo("availability", "availability", 0.999)
    >>> budget_row(slo, "churn", lambda s: (5.0, 10_000.0), w).value
    0.5
    """
    period = int(slo.period)
    bad, total = counts(period)
    left = error_budget_remaining(bad, total, slo.objective)
    return MetricRow(
        metric="error_budget_remaining",
        value=left,
        column=slo.name,
        model=model,
        window_start=window[0],
        window_end=window[1],
        lower=0.0,
        alert=left < 0,
        n_cur=int(total),
        method=f"1 - burn rate over the {period} s before window_end, {_objective(slo)}",
    )


def _objective(slo: Slo) -> str:
    text = f"{slo.kind} objective {slo.objective}"
    return text + f" within {slo.threshold_ms:g} ms" if slo.kind == "latency" else text


__all__ = [
    "TIERS",
    "Counts",
    "Tier",
    "budget_row",
    "burn_rate",
    "burn_rows",
    "error_budget_remaining",
    "slow_count",
]
