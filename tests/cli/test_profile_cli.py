"""sightline profile / merge / show, and profiles as inputs of check and report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sightline import Profile
from sightline.cli.main import main


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({"a": rng.normal(0, 1, 3000), "b": rng.choice(["u", "v", "w"], 3000)})
    paths = {}
    for i, part in enumerate((frame.iloc[:1000], frame.iloc[1000:3000])):
        paths[f"part{i}"] = tmp_path / f"part{i}.csv"
        part.to_csv(paths[f"part{i}"], index=False)
    paths["all"] = tmp_path / "all.parquet"
    frame.to_parquet(paths["all"])
    drifted = frame.assign(a=frame.a + 1.0)
    paths["drifted"] = tmp_path / "drifted.csv"
    drifted.to_csv(paths["drifted"], index=False)
    return paths


def test_profile_merge_show_round_trip(data, tmp_path, capsys) -> None:
    ref = tmp_path / "ref.slp"
    assert main(["profile", str(data["all"]), "-o", str(ref), "--model", "m"]) == 0
    parts = []
    for name in ("part0", "part1"):
        out = tmp_path / f"{name}.slp"
        assert main(["profile", str(data[name]), "-o", str(out), "--reference", str(ref)]) == 0
        parts.append(str(out))
    merged = tmp_path / "merged.slp"
    assert main(["merge", *parts, "-o", str(merged)]) == 0
    whole, total = Profile.load(ref), Profile.load(merged)
    assert total.n_rows == whole.n_rows == 3000
    np.testing.assert_array_equal(total.columns["a"].bins, whole.columns["a"].bins)
    np.testing.assert_array_equal(total.columns["b"].counts, whole.columns["b"].counts)
    assert total.columns["a"].mean == pytest.approx(whole.columns["a"].mean, rel=1e-12)
    capsys.readouterr()
    assert main(["show", str(merged)]) == 0
    out = capsys.readouterr().out
    assert "3,000 rows" in out and "numeric" in out and "categorical" in out
    assert main(["show", str(merged), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_rows"] == 3000


def test_check_and_report_accept_profiles(data, tmp_path, capsys) -> None:
    ref = tmp_path / "ref.slp"
    assert main(["profile", str(data["all"]), "-o", str(ref)]) == 0
    assert main(["check", str(ref), str(data["all"])]) == 0
    assert main(["check", str(ref), str(data["drifted"]), "--max-drift-share", "0.4"]) == 1
    out = capsys.readouterr().out
    assert "drifted: a" in out and "checked: drift, performance, quality" in out
    assert main(["report", str(ref), str(data["drifted"]), "-o", str(tmp_path / "r.html")]) == 0


def test_corrupted_profile_is_a_one_line_error(data, tmp_path, capsys) -> None:
    ref = tmp_path / "ref.slp"
    assert main(["profile", str(data["all"]), "-o", str(ref)]) == 0
    raw = bytearray(ref.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    ref.write_bytes(bytes(raw))
    assert main(["show", str(ref)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_show_caps_the_distinct_estimate_at_the_row_count_with_its_bound(tmp_path, capsys) -> None:
    # 7,500 distinct values whose HLL estimate (lg_k 10) is 7,584: above the row count.
    values = np.random.default_rng(0).normal(size=7500)
    names = [f"id{i}" for i in range(7500)]
    path, out = tmp_path / "ids.parquet", tmp_path / "ids.slp"
    pd.DataFrame({"x": values, "name": names}).to_parquet(path)
    assert main(["profile", str(path), "-o", str(out)]) == 0
    profile = Profile.load(out)
    assert profile.columns["x"].hll.estimate() > 7500  # the raw estimate the issue saw
    capsys.readouterr()
    assert main(["show", str(out)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("x "))
    low, high = profile.columns["x"].hll.bounds(at_most=7500)
    assert f"7,500 ({low:,.0f}-7,500)" in line and low < 7500 == high
    assert main(["show", str(out), "--json"]) == 0
    columns = json.loads(capsys.readouterr().out)["columns"]
    for name in ("x", "name"):
        col = columns[name]
        assert col["distinct"] <= col["n_valid"] == 7500
        lower, upper = col["distinct_bounds"]
        assert lower <= 7500 <= upper == 7500  # the truth lies within the bound
