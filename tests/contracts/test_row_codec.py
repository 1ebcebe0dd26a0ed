"""One row shape: a metric row fed through every path comes out with the same fields and
values (library JSON, Arrow/Parquet files, the store on DuckDB and PostgreSQL, the API,
``/metrics``, ``backfill --out``, ``report --json`` and ``check --json``)."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from prometheus_client.parser import text_string_to_metric_families

from sightline.analysis import compare
from sightline.analysis.columns import SchemaOptions
from sightline.analysis.profiling import profile_data
from sightline.analysis.rows import (
    ROW_FIELDS,
    SERIES_FIELDS,
    MetricRow,
    Result,
    decode_row,
    encode_row,
    read_rows,
    rows_from_arrow,
    rows_to_arrow,
    write_rows,
)
from sightline.cli.main import main
from sightline.errors import InvalidInputError
from sightline.profile import Column, Schema
from sightline.store import open_store, utcnow
from sightline.store.records import metric_record
from sightline.store.scheduling import ModelSettings
from support.churn import SCHEMA
from support.live import Collector

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ROW = MetricRow(
    model="churn",
    version="1",
    window_start=START,
    window_end=START + timedelta(hours=1),
    column="age",
    metric="jensen_shannon",
    value=0.25,
    lower=math.nan,
    upper=0.1,
    alert=True,
    n_ref=1000,
    n_cur=200,
    method="jensen_shannon on 10 bins",
    p_value=math.nan,
)
#: The codec's JSON of ROW, written out by hand from DESIGN.md: the specification.
ENCODED = {
    "model": "churn",
    "version": "1",
    "window_start": "2026-03-02T10:00:00Z",
    "window_end": "2026-03-02T11:00:00Z",
    "column": "age",
    "metric": "jensen_shannon",
    "value": 0.25,
    "lower": None,
    "upper": 0.1,
    "alert": True,
    "n_ref": 1000,
    "n_cur": 200,
    "method": "jensen_shannon on 10 bins",
    "p_value": None,
}


def same(a: MetricRow, b: MetricRow) -> bool:
    """Equal rows, NaN equal to NaN (the dataclass ``==`` says NaN != NaN)."""
    return encode_row(a) == encode_row(b)


def test_the_fields_are_designs_in_order_and_the_codec_round_trips() -> None:
    assert sorted(ROW_FIELDS) == sorted(f.name for f in dataclasses.fields(MetricRow))
    assert list(ENCODED) == list(ROW_FIELDS)
    assert encode_row(ROW) == ENCODED
    assert list(encode_row(ROW)) == list(ROW_FIELDS)
    assert same(decode_row(ENCODED), ROW)
    with pytest.raises(InvalidInputError, match="column_name"):
        decode_row({**ENCODED, "column_name": "age"})


def test_window_edges_are_aware_utc_whatever_they_were_built_from() -> None:
    naive = dataclasses.replace(ROW, window_start=START.replace(tzinfo=None))
    paris = START.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    for row in (naive, dataclasses.replace(ROW, window_start=paris)):
        assert row.window_start == START and row.window_start.tzinfo is UTC  # type: ignore[union-attr]
        assert encode_row(row)["window_start"] == "2026-03-02T10:00:00Z"
    offsets = MetricRow(metric="psi", value=0.1, window_start=0, window_end=500)
    assert encode_row(offsets)["window_end"] == 500


def test_library_json_and_table() -> None:
    result = Result(rows=(ROW,))
    assert json.loads(result.to_json())["rows"] == [ENCODED]
    assert list(result.table.columns) == list(ROW_FIELDS)


@pytest.mark.parametrize("suffix", [".json", ".parquet"])
def test_row_files(tmp_path: Path, suffix: str) -> None:
    path = write_rows([ROW], tmp_path / f"rows{suffix}")
    assert [encode_row(r) for r in read_rows(path)] == [ENCODED]
    if suffix == ".json":
        assert json.loads(path.read_text()) == {"rows": [ENCODED]}
    else:
        assert pq.read_table(path).column_names == list(ROW_FIELDS)
    with pytest.raises(InvalidInputError, match=r"out must end in \.json or \.parquet"):
        write_rows([ROW], tmp_path / "rows.csv")


def test_arrow_keeps_nan_as_null_and_times_in_utc() -> None:
    table = rows_to_arrow([ROW])
    assert table.column("lower").null_count == 1
    assert table.schema.field("window_start").type == pa.timestamp("us", tz="UTC")
    assert [encode_row(r) for r in rows_from_arrow(table)] == [ENCODED]


def test_arrow_columns_are_the_json_values_of_each_row() -> None:
    """The columnar path gives each row what :func:`encode_row` gives it alone: non-finite
    numbers null, naive or offset edges as UTC, offsets as integers, no rows at all."""
    from sightline.analysis.rows import RowContext

    ctx = RowContext("m", "1", datetime(2026, 1, 1), datetime(2026, 1, 1, 0, 1))
    rows = [
        ctx.row("psi", 0.3, column="a", lower=math.inf, upper=-math.inf, p_value=math.nan),
        ctx.not_computed("ks", "why", column="b", n_ref=3, n_cur=4, alert=True),
        dataclasses.replace(ROW, window_start=datetime(2026, 1, 1, 3, tzinfo=UTC)),
    ]
    offsets = [MetricRow(metric="o", value=1.5, window_start=0, window_end=10)]
    for some in (rows, offsets, [MetricRow(metric="x", value=2.0)], []):
        table = rows_to_arrow(some)
        assert table.column_names == list(ROW_FIELDS)
        assert [encode_row(r) for r in rows_from_arrow(table)] == [encode_row(r) for r in some]
    assert rows_to_arrow(offsets).schema.field("window_end").type == pa.int64()


def test_store_round_trip_keeps_metadata_out_of_the_row(store_location: str) -> None:
    store = open_store(store_location)
    try:
        store.insert_rows("metric_rows", metric_record("p", "drift", [ROW], utcnow()))
        window = {"since": START, "until": START + timedelta(hours=1)}
        found = store.metric_rows("p", "churn", **window)  # type: ignore[arg-type]
        found += store.latest_metric_rows("p", "churn", "drift")
        found += store.newest_metric_rows("p")
        assert [encode_row(r) for r in found] == [ENCODED] * 3
        assert all(isinstance(r, MetricRow) for r in found)
    finally:
        store.close()


def test_api_and_prometheus(collector: Collector) -> None:
    c = collector.client()
    assert c.put("/api/v1/models/churn/versions/1", json=SCHEMA).status_code == 200
    now = utcnow().replace(minute=0, second=0, microsecond=0, tzinfo=UTC) - timedelta(hours=1)
    row = dataclasses.replace(ROW, window_start=now, window_end=now + timedelta(hours=1))
    collector.store.insert_rows("metric_rows", metric_record("default", "drift", [row], utcnow()))
    expected = encode_row(row)
    assert c.get("/api/v1/models/churn/metrics").json() == {"rows": [expected]}
    assert c.get("/api/v1/models/churn/drift/latest").json() == {"rows": [expected]}
    text = c.get("/metrics").text
    samples = [
        s
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name in ("sightline_metric_value", "sightline_metric_alert")
    ]
    labels = {name: expected[name] for name in SERIES_FIELDS}
    assert {s.name: s.value for s in samples if s.labels == labels} == {
        "sightline_metric_value": expected["value"],
        "sightline_metric_alert": 1.0,
    }


def _dataset(root: Path) -> None:
    """One day of rows in two Parquet files, and a store with the model and a reference."""
    rng = np.random.default_rng(5)
    day = datetime(2026, 5, 1)
    for half in range(2):
        stamps = [day + timedelta(hours=12 * half, seconds=int(s)) for s in rng.integers(0, 9, 300)]
        table = pa.table(
            {"timestamp": pa.array(stamps, pa.timestamp("us")), "x": rng.normal(0, 1, 300)}
        )
        (root / "ds").mkdir(parents=True, exist_ok=True)
        pq.write_table(table, root / "ds" / f"part-{half}.parquet")
    schema = Schema((Column("x"),))
    store = open_store(root / "store")
    try:
        store.register_version("default", "m", "1", schema.to_dict())
        reference = profile_data(
            {"x": rng.normal(0, 1, 2000)},
            columns=SchemaOptions(schema=schema),
            model="m",
            version="1",
        )
        store.set_reference("default", "m", "1", reference.to_bytes())
        store.set_model_settings("default", "m", ModelSettings(window=86400))  # daily windows
    finally:
        store.close()


@pytest.mark.parametrize("suffix", [".json", ".parquet"])
def test_backfill_out_writes_the_stored_rows(tmp_path: Path, suffix: str) -> None:
    _dataset(tmp_path)
    out = tmp_path / f"rows{suffix}"
    args = ["backfill", str(tmp_path / "ds"), "--model", "m", "--version", "1"]
    assert (
        main([*args, "--data", str(tmp_path / "store"), "--window", "1d", "--out", str(out)]) == 0
    )
    written = read_rows(out)
    store = open_store(tmp_path / "store")
    try:
        stored = store.metric_rows(
            "default", "m", since=datetime(2026, 5, 1), until=datetime(2026, 5, 2)
        )
    finally:
        store.close()
    key = lambda r: (r.column, r.metric)  # noqa: E731
    assert len(written) > 5 and {r.model for r in written} == {"m"}
    assert [encode_row(r) for r in sorted(written, key=key)] == [
        encode_row(r) for r in sorted(stored, key=key)
    ]
    if suffix == ".json":
        records = json.loads(out.read_text())["rows"]
        assert all(list(r) == list(ROW_FIELDS) for r in records)
        assert all(r["window_start"] == "2026-05-01T00:00:00Z" for r in records)


def test_backfill_refuses_an_unknown_out_format_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _dataset(tmp_path)
    args = ["backfill", str(tmp_path / "ds"), "--model", "m", "--version", "1"]
    assert (
        main([*args, "--data", str(tmp_path / "store"), "--out", str(tmp_path / "rows.csv")]) == 2
    )
    assert "out must end in .json or .parquet" in capsys.readouterr().err
    store = open_store(tmp_path / "store")
    try:
        assert store.count("metric_rows", "default") == 0
        assert store.count("profiles", "default") == 0
    finally:
        store.close()


def _csv_pair(root: Path) -> tuple[str, str]:
    rng = np.random.default_rng(8)
    paths = []
    for name, shift in (("reference", 0.0), ("current", 0.8)):
        table = pa.table({"a": rng.normal(shift, 1, 400), "b": rng.choice(["x", "y"], 400)})
        path = root / f"{name}.csv"
        pacsv.write_csv(table, path)
        paths.append(str(path))
    return paths[0], paths[1]


def test_report_and_check_json_are_the_librarys_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reference, current = _csv_pair(tmp_path)
    library = compare(reference, current).to_dict()["rows"]
    assert (
        main(
            [
                "report",
                reference,
                current,
                "-o",
                str(tmp_path / "r.html"),
                "--json",
                str(tmp_path / "r.json"),
            ]
        )
        == 0
    )
    report = json.loads((tmp_path / "r.json").read_text())["rows"]
    capsys.readouterr()
    assert main(["check", reference, current, "--json"]) == 1
    check = json.loads(capsys.readouterr().out)["rows"]
    drift = {(r["column"], r["metric"]): r for r in library if r["column"]}
    for rows in (report, check):
        assert all(list(r) == list(ROW_FIELDS) for r in rows)
        assert [encode_row(decode_row(r)) for r in rows] == rows
        assert {
            (r["column"], r["metric"]): r for r in rows if (r["column"], r["metric"]) in drift
        } == drift
