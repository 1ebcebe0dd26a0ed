"""A smaller version of the false-alarm study in docs/drift.md, on the data and on
profiles (the collector's path), from 100-row windows up."""

from __future__ import annotations

import pytest

from sightline.analysis.study import run


@pytest.mark.parametrize(("n_rows", "pairs"), [(1000, 20), (20_000, 10)])
def test_default_settings_control_false_alarms_and_catch_a_quarter_sd(n_rows, pairs) -> None:
    result = run(n_rows, pairs, seed=n_rows)
    assert result.column_false_alarms <= 0.05
    assert result.dataset_false_alarms <= 0.05
    if n_rows >= 10_000:
        assert result.detection >= 0.95


@pytest.mark.parametrize("n_rows", [100, 300])
def test_small_windows_against_a_large_reference_hold_the_rate_on_profiles(n_rows) -> None:
    """Windows of 143 and 200 rows false-alarmed against a fixed 0.1 distance."""
    result = run(n_rows, 10, seed=n_rows, n_ref=5000, profiles=True)
    assert result.column_false_alarms <= 0.05
    assert result.dataset_false_alarms <= 0.05
