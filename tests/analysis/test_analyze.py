"""analyze(): windows by size and by period, each compared with the reference."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

import sightline
from sightline.analysis.analyze import parse_period
from sightline.errors import InvalidInputError, SchemaError


def _data(seed: int = 5):
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 4000), "z": rng.normal(0, 1, 4000)})
    x = np.r_[rng.normal(0, 1, 1500), rng.normal(1.0, 1, 1500)]
    data = pd.DataFrame({"x": x, "z": rng.normal(0, 1, 3000)})
    return ref, data


def test_size_windows_flag_the_shifted_half() -> None:
    ref, data = _data()
    result = sightline.analyze(ref, data, chunk_size=500)
    ks = [r for r in result.rows if r.column == "x" and r.metric == "jensen_shannon"]
    assert [(r.window_start, r.window_end) for r in ks] == [
        (i, i + 500) for i in range(0, 3000, 500)
    ]
    assert [r.alert for r in ks] == [False] * 3 + [True] * 3
    each = sightline.compare(ref, data.iloc[2500:3000].reset_index(drop=True))
    want = each.select(metric="jensen_shannon", column="x")[0]
    assert ks[-1].value == pytest.approx(want.value, rel=1e-12)
    assert ks[-1].p_value == pytest.approx(want.p_value, rel=1e-12)


def test_default_is_ten_windows_and_last_partial_window_is_kept() -> None:
    ref, data = _data()
    result = sightline.analyze(ref, data)
    assert len(result.select(metric="drift_share")) == 10
    result = sightline.analyze(ref, data.iloc[:1100], chunk_size=500)
    ends = [r.window_end for r in result.select(metric="drift_share")]
    assert ends == [500, 1000, 1100]


def test_period_windows_are_epoch_aligned_utc() -> None:
    ref, data = _data()
    start = datetime(2026, 3, 1, 5, 30, tzinfo=UTC)
    data["ts"] = pd.date_range(start, periods=len(data), freq="1min", tz="UTC")
    result = sightline.analyze(ref, data, chunk_period="1D", timestamp="ts")
    windows = [(r.window_start, r.window_end) for r in result.select(metric="drift_share")]
    assert windows[0][0] == datetime(2026, 3, 1, tzinfo=UTC)
    assert windows[1] == (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
    n_cur = [r.n_cur for r in result.select(metric="jensen_shannon", column="z")]
    assert sum(n_cur) == len(data)


def test_multivariate_drift_catches_a_broken_correlation() -> None:
    rng = np.random.default_rng(9)
    cov = [[1, 0.9], [0.9, 1]]
    ref = pd.DataFrame(rng.multivariate_normal([0, 0], cov, 5000), columns=["a", "b"])
    broken = rng.multivariate_normal([0, 0], [[1, -0.9], [-0.9, 1]], 1000)
    same = rng.multivariate_normal([0, 0], cov, 1000)
    data = pd.DataFrame(np.r_[same, broken], columns=["a", "b"])
    rows = sightline.analyze(ref, data, chunk_size=500).select(metric="reconstruction_error")
    assert [r.alert for r in rows] == [False, False, True, True]


def test_bad_chunking_arguments() -> None:
    ref, data = _data()
    with pytest.raises(InvalidInputError, match="chunk_size must be a positive integer"):
        sightline.analyze(ref, data, chunk_size=0)
    with pytest.raises(InvalidInputError, match="chunk_period: a duration looks like"):
        sightline.analyze(ref, data, chunk_period="fortnight")
    with pytest.raises(SchemaError, match="needs a timestamp column"):
        sightline.analyze(ref, data, chunk_period="1h")
    with pytest.raises(InvalidInputError, match="not both"):
        sightline.analyze(ref, data, chunk_size=10, chunk_period="1h")
    assert parse_period("2h") == 7200
