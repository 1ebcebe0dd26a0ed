"""The collector's verbs from the shell, against a real collector on loopback: thin calls
of the Client, in three formats, with one-line errors."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sightline.analysis.rows import ROW_FIELDS, decode_row
from sightline.cli.main import main
from support.live import Collector


@pytest.fixture
def remote(duckdb_collector: Collector) -> list[str]:
    return ["--url", duckdb_collector.url, "--key", duckdb_collector.admin_key]


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    rng = np.random.default_rng(7)
    path = tmp_path / "reference.csv"
    pd.DataFrame({"age": rng.normal(40, 10, 400), "city": rng.choice(["a", "b"], 400)}).to_csv(
        path, index=False
    )
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_models_register_list_and_settings(
    remote: list[str], reference: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "models", "register", "churn", "1", "--reference", str(reference),
        "--format", "json", *remote,
    )  # fmt: skip
    assert code == 0
    (info,) = json.loads(out)
    assert info["has_reference"] is True and info["vocabularies"] == {"city": 2}
    assert "no CBPE" in info["estimator"]
    code, out, _ = run(capsys, "models", "list", "--format", "csv", *remote)
    (line,) = list(csv.DictReader(io.StringIO(out)))
    assert (line["model"], line["version"]) == ("churn", "1")
    assert line["columns"] == "age (feature, numeric), city (feature, categorical)"
    code, out, _ = run(capsys, "models", "list", *remote)
    assert code == 0 and "churn" in out and "categorical" in out  # a rich table
    code, out, _ = run(
        capsys, "models", "settings", "churn", "--window", "15m", "--format", "json", *remote
    )
    assert code == 0 and json.loads(out)[0]["window"] == "15m"
    code, _, _ = run(capsys, "models", "register", "churn", "2", *remote)
    assert code == 2
    code, _, err = run(capsys, "models", "reference", "churn", "1", str(reference), *remote)
    assert code == 0, err  # the same file again: a no-op


def test_metrics_and_drift_rows_in_the_one_shape(
    duckdb_collector: Collector,
    remote: list[str],
    reference: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        run(capsys, "models", "register", "churn", "1", "--reference", str(reference), *remote)[0]
        == 0
    )
    start = (datetime.now(UTC) - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    import pyarrow as pa

    n = 5
    duckdb_collector.store.insert_rows(
        "metric_rows",
        pa.table(
            {
                "project": ["default"] * n,
                "model": ["churn"] * n,
                "version": ["1"] * n,
                "window_start": [
                    start.replace(tzinfo=None) + timedelta(minutes=i) for i in range(n)
                ],
                "window_end": [
                    start.replace(tzinfo=None) + timedelta(minutes=i + 1) for i in range(n)
                ],
                "column_name": ["age"] * n,
                "metric": ["psi"] * n,
                "value": [0.1 * i for i in range(n)],
                "lower_bound": [float("nan")] * n,
                "upper_bound": [0.2] * n,
                "alert": [0.1 * i > 0.2 for i in range(n)],
                "n_ref": [400] * n,
                "n_cur": [50] * n,
                "method": ["psi"] * n,
                "p_value": [float("nan")] * n,
                "kind": ["drift"] * n,
                "computed_at": [datetime(2026, 1, 1)] * n,
            }
        ),
    )
    code, out, _ = run(capsys, "metrics", "churn", "--metric", "psi", "--format", "json", *remote)
    assert code == 0
    records = json.loads(out)
    assert [list(r) for r in records] == [list(ROW_FIELDS)] * n
    rows = [decode_row(r) for r in records]
    assert [r.value for r in rows] == pytest.approx([0.1 * i for i in range(n)])
    assert (
        rows[0].model == "churn" and rows[0].window_start == start and records[0]["lower"] is None
    )
    code, out, _ = run(capsys, "metrics", "churn", "--format", "csv", *remote)
    assert len(list(csv.DictReader(io.StringIO(out)))) == n
    code, out, _ = run(capsys, "drift", "churn", "--format", "json", *remote)
    (newest,) = json.loads(out)
    assert newest["value"] == pytest.approx(0.4) and newest["alert"] is True
    code, out, _ = run(capsys, "drift", "churn", *remote)
    assert code == 0 and "psi" in out and "0.4" in out
    code, out, _ = run(capsys, "health", "churn", "--format", "json", *remote)
    assert code == 0 and json.loads(out)["live_instances"] == 0
    code, out, _ = run(capsys, "health", "churn", *remote)
    assert code == 0 and "live_instances" in out and "latency_ms_p95" in out


def test_register_from_a_schema_file(
    remote: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text(
        json.dumps({"columns": [{"name": "x", "role": "feature", "kind": "numeric"}]})
    )
    code, out, err = run(
        capsys, "models", "register", "m", "1", "--schema", str(schema), "--format", "json", *remote
    )
    assert code == 0, err
    (info,) = json.loads(out)
    assert info["columns"] == "x (feature, numeric)" and info["has_reference"] is False


def test_errors_are_one_line_naming_the_collector_answer(
    remote: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "metrics", "ghost", *remote)
    assert code == 2 and out == ""
    assert err.strip() == (
        "sightline metrics: error: model 'ghost' is not registered (HTTP 404, field 'model')"
    )
    code, _, err = run(capsys, "models", "list", "--url", remote[1], "--key", "sl_bad_key")
    assert code == 2 and "invalid API key (HTTP 401" in err and "Traceback" not in err


def test_keys_through_the_api_and_on_a_stopped_store(
    duckdb_collector: Collector,
    remote: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "keys", "create", "--scope", "read", *remote)
    key = out.strip()
    assert code == 0 and key.startswith("sl_")
    assert duckdb_collector.store.authenticate(key) is not None
    code, out, _ = run(capsys, "keys", "list", "--format", "json", *remote)
    ids = [k["id"] for k in json.loads(out)]
    assert key.split("_")[1] in ids and len(ids) == 2
    code, out, _ = run(capsys, "keys", "revoke", key, *remote)
    assert code == 0 and duckdb_collector.store.authenticate(key) is None
    code, _, err = run(capsys, "keys", "revoke", key, *remote)
    assert code == 2 and "HTTP 404" in err
    # A stopped collector's data directory: the store directly.
    data = str(tmp_path / "stopped")
    code, out, _ = run(capsys, "keys", "create", "--scope", "ingest", "--data", data)
    stored = out.strip()
    code, out, _ = run(capsys, "keys", "list", "--data", data, "--format", "csv")
    assert [r["scope"] for r in csv.DictReader(io.StringIO(out))] == ["ingest"]
    assert run(capsys, "keys", "revoke", stored.split("_")[1], "--data", data)[0] == 0
    code, out, _ = run(capsys, "keys", "list", "--data", data, "--format", "json")
    assert json.loads(out) == []
