"""``sightline.Client`` against a real collector on loopback."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sightline
from sightline.analysis.columns import SchemaOptions
from sightline.analysis.profiling import profile_data
from sightline.client import Client, CollectorError
from sightline.errors import SchemaError
from sightline.profile import Profile, Schema
from sightline.scheduler import Scheduler
from support.live import Collector


def frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = rng.uniform(size=n)
    return pd.DataFrame(
        {
            "age": rng.normal(40 + shift, 10, n),
            "city": rng.choice(["a", "b", "c"], n),
            "proba": p,
            "prediction": (p > 0.5).astype(int),
            "target": (rng.uniform(size=n) < p).astype(int),
        }
    )


@pytest.fixture
def client(duckdb_collector: Collector) -> Client:
    c = Client(duckdb_collector.url, duckdb_collector.admin_key)
    duckdb_collector.clients.append(c._http)
    return c


def test_register_infers_the_schema_as_compare_does_and_says_what_it_fitted(
    client: Client,
) -> None:
    reference = frame(2_000, 1)
    info = client.register("churn", "1", reference=reference)
    inferred = SchemaOptions().resolve(_arrow(reference))  # what compare infers
    assert info["columns"] == inferred.to_dict()["columns"]
    fitted = info["fitted"]
    assert fitted["bins"]["age"] >= 2 and fitted["vocabularies"]["city"] == 3
    assert fitted["estimator"] == "cbpe" and "2000 labelled rows" in fitted["estimator_note"]
    listed = client.models()
    assert [(v["model"], v["version"], v["has_reference"]) for v in listed] == [
        ("churn", "1", True)
    ]
    assert listed[0]["columns"] == info["columns"]
    # The same reference again is a no-op; another one is refused, naming the conflict.
    assert client.register("churn", "1", reference=reference)["has_reference"] is True
    with pytest.raises(CollectorError, match="already has another reference") as refused:
        client.register("churn", "1", reference=frame(2_000, 2))
    assert refused.value.status == 409


def _arrow(data: pd.DataFrame):  # type: ignore[no-untyped-def]
    import pyarrow as pa

    return pa.Table.from_pandas(data, preserve_index=False)


def test_register_takes_schema_overrides_and_profiles(client: Client) -> None:
    reference = frame(500, 3).drop(columns=["proba"])
    info = client.register("m", "1", reference=reference, categorical=["age"], target="target")
    kinds = {c["name"]: c["kind"] for c in info["columns"]}
    assert kinds["age"] == "categorical"
    schema = Schema.from_dict({"columns": info["columns"]})
    profile = profile_data(_arrow(reference), columns=SchemaOptions(schema=schema))
    second = client.register("m", "2", reference=profile)
    assert second["fitted"]["estimator"] is None
    assert "profile holds no rows" in second["fitted"]["estimator_note"]
    bad = {"columns": [{"name": "x", "role": "nope", "kind": "numeric"}]}
    with pytest.raises(SchemaError, match="role must be one of") as refused:
        client.register("m", "3", schema=bad)  # checked before anything is sent
    assert refused.value.field == "x"
    assert [v["version"] for v in client.models()] == ["1", "2"]


def test_metrics_and_drift_are_the_rows_of_compare(
    duckdb_collector: Collector, client: Client, tmp_path: Path
) -> None:
    reference, current = frame(3_000, 4), frame(1_000, 5, shift=8.0)
    client.register("churn", "1", reference=reference)
    schema = Schema.from_dict({"columns": client.models()[0]["columns"]})
    ref_profile = Profile.from_bytes(
        duckdb_collector.store.get_version("default", "churn", "1").reference or b""
    )
    start = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    cur_profile = profile_data(
        _arrow(current),
        reference=ref_profile,
        columns=SchemaOptions(schema=schema),
        model="churn",
        version="1",
        window_start=start,
        window_end=start + timedelta(hours=1),
    )
    http = duckdb_collector.client()
    posted = http.post(
        "/api/v1/models/churn/versions/1/profiles",
        content=cur_profile.to_bytes(),
        headers={"Idempotency-Key": "w1", "Content-Type": "application/x-sightline-profile"},
    )
    assert posted.status_code == 200, posted.text
    Scheduler(duckdb_collector.store).run_once()
    result = client.metrics("churn", since=start - timedelta(hours=1))
    assert isinstance(result, sightline.Result) and result.rows
    assert {r.model for r in result.rows} == {"churn"}
    assert list(result.table.columns) == list(sightline.compare(reference, current).table.columns)
    # The collector's drift jobs compare the window's profile with the reference by JS.
    expected = sightline.compare(
        ref_profile,
        cur_profile,
        numeric_method="jensen_shannon",
        categorical_method="jensen_shannon",
    )
    for column in ("age", "city", "proba"):
        (ours,) = [r for r in result.rows if r.column == column and r.metric == "jensen_shannon"]
        (want,) = [r for r in expected.rows if r.column == column and r.metric == ours.metric]
        assert ours.value == pytest.approx(want.value, rel=1e-9)
        assert ours.alert == want.alert
        assert ours.window_start == start
    (age,) = [r for r in result.rows if r.column == "age" and r.metric == "jensen_shannon"]
    assert age.alert  # the current ages are shifted by 0.8 standard deviations
    latest = client.drift("churn")
    assert {r.column for r in latest.rows} >= {"age", "city"}
    only_age = client.metrics("churn", since=start - timedelta(hours=1), column="age")
    assert only_age.rows and {r.column for r in only_age.rows} == {"age"}
    assert all(math.isnan(r.p_value) or 0 <= r.p_value <= 1 for r in result.rows)
    page = result.to_html(tmp_path / "churn.html").read_text(encoding="utf-8")
    assert "jensen_shannon" in page and "age" in page


def test_unknown_models_are_404_naming_them(client: Client) -> None:
    for call in (client.metrics, client.drift, client.health):
        with pytest.raises(CollectorError, match="model 'ghost' is not registered") as refused:
            call("ghost")
        assert refused.value.status == 404 and refused.value.field == "model"


def test_settings_read_and_change(client: Client) -> None:
    client.register("churn", "1", reference=frame(300, 6))
    assert client.settings("churn")["window"] == "1h"
    changed = client.settings("churn", window="5m", lateness="30s")
    assert (changed["window"], changed["lateness"]) == ("5m", "30s")
    assert client.settings("churn")["window"] == "5m"
    assert client.settings("churn", version="1", reference_windows=3) == {
        "reference_windows": 3,
        "source": "version",
    }
    with pytest.raises(CollectorError) as refused:
        client.settings("churn", window="soon")
    assert refused.value.status == 422 and refused.value.field == "window"


def test_keys_create_list_revoke(duckdb_collector: Collector, client: Client) -> None:
    created = client.keys.create("read")
    assert created["key"].startswith(f"sl_{created['id']}_") and created["scope"] == "read"
    assert created["id"] in {k["id"] for k in client.keys.list()}
    reader = Client(duckdb_collector.url, created["key"])
    duckdb_collector.clients.append(reader._http)
    assert reader.models() == []
    with pytest.raises(CollectorError) as refused:
        reader.keys.create("admin")
    assert refused.value.status == 403 and refused.value.field == "Authorization"
    client.keys.revoke(created["key"])
    assert created["id"] not in {k["id"] for k in client.keys.list()}
    with pytest.raises(CollectorError, match="invalid API key") as gone:
        reader.models()  # revoked here: refused at once, not after the cache expires
    assert gone.value.status == 401
    with pytest.raises(CollectorError) as again:
        client.keys.revoke(created["id"])
    assert again.value.status == 404


def test_environment_and_unreachable_collector(
    duckdb_collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGHTLINE_URL", duckdb_collector.url)
    monkeypatch.setenv("SIGHTLINE_API_KEY", duckdb_collector.admin_key)
    with sightline.Client() as c:
        assert c.url == duckdb_collector.url and c.models() == []
    from support.live import free_port

    with Client(f"http://127.0.0.1:{free_port()}", "sl_x_y", timeout_s=2) as c:
        with pytest.raises(CollectorError, match="cannot reach the collector") as down:
            c.models()
        assert down.value.status is None


def test_importing_the_client_stays_light() -> None:
    import subprocess
    import sys

    code = (
        "import sightline.client, sys; print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'pandas', 'pyarrow', 'scipy', 'fastapi', 'duckdb', 'polars'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
