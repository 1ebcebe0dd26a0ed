"""The first-token percentiles of generation profiles against numpy on fixed vectors."""

from __future__ import annotations

import numpy as np
import pytest

from sightline.analysis.rows import RowContext
from sightline.profile import Profile
from sightline.profile.generation import FIRST_TOKEN_S, GENERATION_SCHEMA, OUTPUT
from sightline.scheduler.generation import generation_rows

QUANTILES = {"first_token_p50_ms": 0.5, "first_token_p95_ms": 0.95}


def _profile(first_token_s: np.ndarray) -> Profile:
    n = first_token_s.size
    return Profile.zero(GENERATION_SCHEMA).update(
        {OUTPUT: ["Tea is green."] * n, FIRST_TOKEN_S: first_token_s}
    )


def _rows(profiles: list[Profile]) -> dict[str, float]:
    rows = generation_rows(profiles, 60.0, RowContext())
    return {r.metric: r.value for r in rows if r.metric in QUANTILES}


def test_first_token_percentiles_are_exact_below_the_sketch_size() -> None:
    """Up to k values the KLL sketch keeps them all: numpy's inverted-CDF quantiles of
    the float32 values the sketch stores, to the bit."""
    values = np.random.default_rng(5).lognormal(-3.0, 0.6, size=150)
    got = _rows([_profile(values[:70]), _profile(values[70:])])  # two serving processes
    stored = values.astype(np.float32).astype(np.float64)
    assert got == {
        metric: 1000.0 * float(np.quantile(stored, q, method="inverted_cdf"))
        for metric, q in QUANTILES.items()
    }


def test_first_token_percentiles_are_within_the_rank_error_of_many_merged_values() -> None:
    """Beyond k values, the exact share of first-token times at or below each percentile
    is within the merged sketch's rank error (0.0133 at k = 200, 99 % confidence) of its
    rank, on 200,000 values from 8 profiles."""
    values = np.random.default_rng(6).lognormal(-3.0, 0.6, size=200_000)
    profiles = [_profile(part) for part in np.array_split(values, 8)]
    kll = profiles[0].columns[FIRST_TOKEN_S].kll  # type: ignore[union-attr]
    assert kll.n == 25_000 and kll.num_retained < kll.n  # out of exact mode
    got = _rows(profiles)
    stored = np.sort(values.astype(np.float32).astype(np.float64))
    for metric, q in QUANTILES.items():
        share = np.searchsorted(stored, got[metric] / 1000.0, side="right") / stored.size
        assert share == pytest.approx(q, abs=kll.rank_error), metric
