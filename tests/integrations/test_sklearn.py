"""The scikit-learn wrapper against a real collector: the ids it logs (given or made) can
be labelled, and the collector's realized accuracy is scikit-learn's on those labels."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from sightline.errors import InvalidInputError
from sightline.integrations.sklearn import monitored
from sightline.profile import Column, Schema
from sightline.scheduler import Scheduler
from sightline.sdk import Monitor
from sightline.store.base import utcnow
from support.frameworks import register
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


def data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = (X[:, 0] - X[:, 1] + rng.normal(scale=1.0, size=n) > 0).astype(int)
    return X, y


def reference_of(model: LogisticRegression) -> dict[str, np.ndarray]:
    """A labelled reference: the model's scores and classes on data it was fitted on."""
    X, y = data(400, seed=0)
    proba, pred = model.predict_proba(X)[:, 1], model.predict(X)
    return {"a": X[:, 0], "b": X[:, 1], "proba": proba, "pred": pred, "target": y}


def test_logged_ids_are_labelled_and_joined_into_realized_accuracy(
    duckdb_collector: Collector, tmp_path: Path
) -> None:
    X, y = data(300, seed=1)
    model = LogisticRegression().fit(*data(400, seed=0))
    key = register(duckdb_collector, "clf", SCHEMA, reference_of(model))
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
    accuracy = [r for r in rows if r.metric == "accuracy" and r.column == ""]
    predicted = np.concatenate([model.classes_[first.argmax(axis=1)], second])
    # One window (two when the calls straddle a window edge): weigh them by their rows.
    assert sum(r.n_cur for r in accuracy) == 300
    realized = sum(r.value * r.n_cur for r in accuracy) / 300
    assert realized == pytest.approx(accuracy_score(y, predicted), rel=1e-12)


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (["a", "b"], r"ids must give one id per row of the input \(3\), got 2 ids"),
        ("abc", r"ids must give one id per row of the input \(3\), got 'abc'"),
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
