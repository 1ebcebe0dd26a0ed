"""The scikit-learn wrapper against a real collector: the ids it logs (given or made) can
be labelled, and the collector's realized accuracy is scikit-learn's on those labels."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from sightline.errors import InvalidInputError
from sightline.integrations.sklearn import monitored
from sightline.profile import Column, Schema
from sightline.scheduler import Scheduler
from sightline.sdk import Monitor
from sightline.store.base import utcnow
from support.live import Collector

SCHEMA = Schema(
    (
        Column("a"),
        Column("b"),
        Column("proba", role="probability"),
        Column("pred", role="prediction", kind="categorical"),
        Column("target", role="target", kind="categorical"),
    )
)
BASE = "/api/v1/models/clf/versions/1"


def data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = (X[:, 0] - X[:, 1] + rng.normal(scale=1.0, size=n) > 0).astype(int)
    return X, y


def register(collector: Collector, model: LogisticRegression) -> str:
    """Register clf/1 with a labelled reference; return an ingest key."""
    admin = collector.client()
    assert admin.put(BASE, json=SCHEMA.to_dict()).status_code == 200
    X, y = data(400, seed=0)
    reference = {
        "a": X[:, 0],
        "b": X[:, 1],
        "proba": model.predict_proba(X)[:, 1],
        "pred": model.predict(X),
        "target": y,
    }
    sink = io.BytesIO()
    pacsv.write_csv(pa.table(reference), sink)
    r = admin.put(
        f"{BASE}/reference", content=sink.getvalue(), headers={"content-type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    return collector.store.create_key("default", "ingest")


def test_logged_ids_are_labelled_and_joined_into_realized_accuracy(
    duckdb_collector: Collector, tmp_path: Path
) -> None:
    X, y = data(300, seed=1)
    model = LogisticRegression().fit(*data(400, seed=0))
    key = register(duckdb_collector, model)
    m = Monitor("clf", "1", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path, tick=0.05)
    wrapped = monitored(model, m)
    given = [f"req-{i}" for i in range(100)]
    first = wrapped.predict_proba(X[:100], ids=given)
    assert wrapped.last_ids == given
    second = wrapped.predict(X[100:])
    made = wrapped.last_ids
    assert made is not None and len(made) == 200 and not set(made) & set(given)
    m.log_labels(given + made, y.tolist())
    m.close(timeout=30)

    Scheduler(duckdb_collector.store).run_once(utcnow() + timedelta(hours=3))
    now = utcnow()
    rows = duckdb_collector.store.metric_rows(
        "default", "clf", since=now - timedelta(days=1), until=now + timedelta(days=1)
    )
    accuracy = [r for r in rows if r["metric"] == "accuracy" and r["column"] == ""]
    predicted = np.concatenate([model.classes_[first.argmax(axis=1)], second])
    # One window (two when the calls straddle a window edge): weigh them by their rows.
    assert sum(r["n_cur"] for r in accuracy) == 300
    realized = sum(r["value"] * r["n_cur"] for r in accuracy) / 300
    assert realized == pytest.approx(accuracy_score(y, predicted), rel=1e-12)


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (["a", "b"], r"ids must give one id per row of X \(3\), got 2 ids"),
        ("abc", r"ids must give one id per row of X \(3\), got 'abc'"),
        (["a", "", "c"], r"ids must be non-empty strings"),
    ],
)
def test_bad_ids_are_refused_before_anything_is_predicted_or_logged(
    ids: object, message: str
) -> None:
    m = Monitor("clf", "1", url=None, schema=SCHEMA)
    model = monitored(LogisticRegression().fit(*data(50, seed=2)), m)
    with pytest.raises(InvalidInputError, match=message) as info:
        model.predict(np.zeros((3, 2)), ids=ids)  # type: ignore[arg-type]
    assert info.value.field == "ids"
    assert model.last_ids is None
    m.flush()
    assert m.stats()["rows"] == 0
    m.close()
