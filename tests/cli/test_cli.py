"""The command line: report, check exit codes; errors are one line, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sightline.cli.main import main


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(2)
    ref = pd.DataFrame(
        {
            "a": rng.normal(0, 1, 800),
            "b": rng.normal(0, 1, 800),
            "<script>alert(1)</script>": rng.choice(["u", "v"], 800),
        }
    )
    same = pd.DataFrame(
        {
            "a": rng.normal(0, 1, 800),
            "b": rng.normal(0, 1, 800),
            "<script>alert(1)</script>": rng.choice(["u", "v"], 800),
        }
    )
    drifted = same.assign(a=same.a + 2, b=same.b * 3)
    paths = {}
    for name, frame in (("ref", ref), ("same", same), ("drifted", drifted)):
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return paths


def test_check_exit_codes(files, capsys) -> None:
    assert main(["check", str(files["ref"]), str(files["same"])]) == 0
    assert capsys.readouterr().out.startswith("OK: Data set not drifted")
    assert main(["check", str(files["ref"]), str(files["drifted"])]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL [drift, quality]: Data set drifted: 66.7% of columns")
    assert "drifted: a, b" in out and "a: out_of_range_share" in out
    loose = ["check", str(files["ref"]), str(files["drifted"]), "--max-drift-share", "0.9"]
    assert main(loose) == 1  # the shifted values are out of the reference's range
    assert main([*loose, "--fail-on", "drift"]) == 0


@pytest.fixture
def labelled(tmp_path):
    """A classifier whose inputs do not move but whose accuracy falls from ~0.95 to ~0.8."""
    rng = np.random.default_rng(11)

    def frame(n: int, wrong: float) -> pd.DataFrame:
        x = rng.normal(0, 1, n)
        target = (x > 0).astype(int)
        flip = rng.uniform(0, 1, n) < wrong
        return pd.DataFrame(
            {"x": x, "target": target, "prediction": np.where(flip, 1 - target, target)}
        )

    paths = {}
    for name, wrong in (("ref", 0.05), ("good", 0.05), ("worse", 0.2)):
        paths[name] = tmp_path / f"{name}.csv"
        frame(2000, wrong).to_csv(paths[name], index=False)
    return paths


def test_check_gates_on_performance_too(labelled, capsys) -> None:
    ref, worse = str(labelled["ref"]), str(labelled["worse"])
    assert main(["check", ref, str(labelled["good"])]) == 0
    capsys.readouterr()
    assert main(["check", ref, worse]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL [performance]: Data set not drifted") and "accuracy" in out
    assert main(["check", ref, worse, "--fail-on", "drift,quality"]) == 0
    capsys.readouterr()
    assert main(["check", ref, worse, "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    verdict = found["verdict"]
    assert verdict["passed"] is False and verdict["failed"] == ["performance"]
    accuracy = [r for r in found["rows"] if r["metric"] == "accuracy"]
    assert len(accuracy) == 1 and accuracy[0]["alert"] is True
    assert accuracy[0] in verdict["alerts"]["performance"]
    assert accuracy[0]["value"] < accuracy[0]["lower"]


def test_check_refuses_an_unknown_gate_by_name(labelled, capsys) -> None:
    ref = str(labelled["ref"])
    assert main(["check", ref, ref, "--fail-on", "drift,speed"]) == 2
    assert "fail-on takes a comma-separated list of drift, performance, quality" in (
        capsys.readouterr().err
    )


def test_check_help_names_the_file_kinds_and_the_gates(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "CSV, Parquet or profile (.slp)" in text
    assert "--fail-on" in text and "drift,performance,quality" in text


def test_report_headline_lists_every_kind_of_alert(labelled, tmp_path) -> None:
    out = tmp_path / "r.html"
    assert main(["report", str(labelled["ref"]), str(labelled["worse"]), "-o", str(out)]) == 0
    page = out.read_text()
    assert "Data set not drifted" in page and "Performance dropped" in page


def test_check_bad_input_is_one_line_exit_2(files, tmp_path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("a,zzz\n1,2\n")
    proc = subprocess.run(
        [sys.executable, "-m", "sightline.cli", "check", str(files["ref"]), str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "missing columns in current" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sightline.cli",
            "check",
            str(files["ref"]),
            str(tmp_path / "no.csv"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and "file not found" in proc.stderr


def test_report_writes_html_and_json(files, tmp_path) -> None:
    out, js = tmp_path / "r.html", tmp_path / "r.json"
    code = main(
        ["report", str(files["ref"]), str(files["drifted"]), "-o", str(out), "--json", str(js)]
    )
    assert code == 0
    html = out.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    rows = json.loads(js.read_text())["rows"]
    assert {r["column"] for r in rows} >= {"a", "b", "<script>alert(1)</script>"}


def test_report_in_windows(files, tmp_path) -> None:
    out = tmp_path / "w.html"
    assert (
        main(
            [
                "report",
                str(files["ref"]),
                str(files["drifted"]),
                "-o",
                str(out),
                "--chunk-size",
                "200",
            ]
        )
        == 0
    )
    assert out.stat().st_size > 0
