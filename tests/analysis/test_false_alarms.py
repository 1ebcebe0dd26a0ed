"""A smaller version of the false-alarm study in docs/drift.md."""

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
