"""The command line: report, check exit codes, demo; errors are one line, no traceback."""

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
    assert capsys.readouterr().out.startswith("OK:")
    assert main(["check", str(files["ref"]), str(files["drifted"])]) == 1
    out = capsys.readouterr().out
    assert out.startswith("DRIFT: 66.7% of columns drifted") and "a, b" in out
    assert (
        main(["check", str(files["ref"]), str(files["drifted"]), "--max-drift-share", "0.9"]) == 0
    )


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


def test_demo_writes_the_example_report(tmp_path, capsys) -> None:
    out = tmp_path / "demo.html"
    assert main(["demo", "-o", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    html = out.read_text(encoding="utf-8")
    for column in ("income", "purpose", "credit_score"):
        assert column in html
