"""The collector estimates a binary classifier's performance in windows without labels:
CBPE fitted on the rows of the uploaded reference, applied to each window's predictions."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pytest

from conftest import running_collector
from sightline.analysis.rows import MetricRow
from sightline.profile import Column, Profile, Schema
from sightline.scheduler import Scheduler
from sightline.sdk import Monitor
from sightline.server.state import Settings
from sightline.stats.estimation import CBPE
from sightline.stats.performance import classification_metrics
from support.classifier import BASE, HOUR, SCHEMA, T0, upload
from support.live import Collector


def scored(n: int, seed: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    """Scores the model over-trusts (the true chance of a positive is ``score ** 1.5``),
    so calibration matters; ``shift`` moves the inputs only (covariate shift)."""
    rng = np.random.default_rng(seed)
    score = np.clip(rng.beta(1.0 + shift, 1.0, n), 1e-6, 1 - 1e-6)
    target = (rng.uniform(size=n) < score**1.5).astype(int)
    return {"x": score * 10, "proba": score, "pred": (score > 0.5).astype(int), "target": target}


REFERENCE = scored(6000, seed=1)
WINDOW = scored(3000, seed=2, shift=1.0)


@pytest.fixture
def live(store_location: str) -> Iterator[Collector]:
    with running_collector(store_location, settings=Settings(schedule_every=timedelta(0))) as c:
        yield c


def send_window(c: httpx.Client) -> None:
    stamps = [(T0 + timedelta(seconds=i)).replace(tzinfo=UTC).isoformat() for i in range(3000)]
    records = [
        {"id": f"id{i}", "timestamp": stamps[i], "prediction": int(p), "probability": float(s)}
        for i, (p, s) in enumerate(zip(WINDOW["pred"], WINDOW["proba"], strict=True))
    ]
    r = c.post(f"{BASE}/predictions", json={"records": records}, headers={"Idempotency-Key": "w"})
    assert r.status_code == 200, r.text


def rows_of(live: Collector, prefix: str) -> dict[str, MetricRow]:
    found = live.store.metric_rows("default", "m", since=T0, until=T0 + HOUR)
    return {r.metric: r for r in found if r.metric.startswith(prefix)}


def estimate_a_window(live: Collector) -> httpx.Client:
    """Upload the reference, send the unlabelled window, run the scheduler; the client."""
    c = live.client()
    upload(c, SCHEMA, REFERENCE)
    send_window(c)
    Scheduler(live.store).run_once(T0 + 3 * HOUR)
    return c


def test_windows_without_labels_get_cbpe_rows_equal_to_the_library(live: Collector) -> None:
    estimate_a_window(live)

    estimated = rows_of(live, "estimated_")
    library = CBPE().fit(REFERENCE["target"], REFERENCE["pred"], REFERENCE["proba"])
    expected = library.estimate(WINDOW["pred"], WINDOW["proba"])
    assert set(estimated) == {f"estimated_{m}" for m in expected}
    for name, est in expected.items():
        row = estimated[f"estimated_{name}"]
        assert row.value == pytest.approx(est.value, rel=1e-12)
        assert row.lower == pytest.approx(est.lower, rel=1e-12)
        assert row.upper == pytest.approx(est.upper, rel=1e-12)
        assert row.n_cur == 3000 and row.n_ref == 6000
    # The covariate shift moves performance; the estimate follows the realized metric.
    realized = classification_metrics(
        WINDOW["target"], WINDOW["pred"], WINDOW["proba"], pos_label=1
    )
    se = library.standard_errors(3000)
    for name in ("accuracy", "f1", "roc_auc"):
        assert abs(expected[name].value - realized[name]) < 3 * se[name]
    before = classification_metrics(
        REFERENCE["target"], REFERENCE["pred"], REFERENCE["proba"], pos_label=1
    )
    assert abs(realized["accuracy"] - before["accuracy"]) > 4 * se["accuracy"]
    assert estimated["estimated_accuracy"].alert is True
    assert not rows_of(live, "accuracy")  # no labels yet: nothing realized


def test_late_labels_add_realized_rows_beside_the_estimate(live: Collector) -> None:
    c = estimate_a_window(live)
    first = rows_of(live, "estimated_")
    labels = [{"id": f"id{i}", "label": int(t)} for i, t in enumerate(WINDOW["target"])]
    r = c.post("/api/v1/models/m/labels", json={"labels": labels}, headers={"Idempotency-Key": "l"})
    assert r.status_code == 200, r.text
    Scheduler(live.store).run_once(T0 + 4 * HOUR)

    realized = classification_metrics(WINDOW["target"], WINDOW["pred"], pos_label=1)
    assert rows_of(live, "accuracy")["accuracy"].value == pytest.approx(realized["accuracy"])
    again = rows_of(live, "estimated_")
    assert {k: v.value for k, v in again.items()} == {k: v.value for k, v in first.items()}


def test_a_reference_without_labels_gives_no_estimate(live: Collector) -> None:
    c = live.client()
    unlabelled = {k: v for k, v in REFERENCE.items() if k != "target"}
    unlabelled["target"] = np.array([None] * 6000)
    upload(c, SCHEMA, unlabelled)
    send_window(c)
    Scheduler(live.store).run_once(T0 + 3 * HOUR)
    assert live.store.estimator("default", "m", "1") is None
    assert not rows_of(live, "estimated_")
    assert not rows_of(live, "label_coverage")  # nothing to realize or estimate


CLASSES = np.array(["a", "b", "c"])
MULTI_SCHEMA = Schema(
    (
        Column("x"),
        *(Column(f"proba_{k}", role="probability") for k in CLASSES),
        Column("pred", role="prediction", kind="categorical"),
        Column("target", role="target", kind="categorical"),
    )
)


def three_classes(n: int, seed: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    """A softmax model over one input; ``proba_<class>`` columns, calibrated labels."""
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, n)
    logits = np.column_stack([2 * x, np.zeros(n), -2 * x])
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    target = CLASSES[(rng.uniform(size=(n, 1)) > p.cumsum(axis=1)).sum(axis=1)]
    out = {"x": x, "pred": CLASSES[p.argmax(axis=1)], "target": target}
    return out | {f"proba_{k}": p[:, j] for j, k in enumerate(CLASSES)}


def test_multiclass_windows_are_estimated_from_per_class_probabilities(live: Collector) -> None:
    c = live.client()
    reference, window = three_classes(6000, 1), three_classes(3000, 2, shift=0.5)
    upload(c, MULTI_SCHEMA, reference)
    matrix = np.column_stack([window[f"proba_{k}"] for k in CLASSES])
    stamps = [T0 + timedelta(seconds=i) for i in range(3000)]
    records = [  # the first half as JSON
        {
            "id": f"id{i}",
            "timestamp": stamps[i].replace(tzinfo=UTC).isoformat(),
            "prediction": str(window["pred"][i]),
            "probabilities": dict(zip(CLASSES.tolist(), matrix[i].tolist(), strict=True)),
        }
        for i in range(1500)
    ]
    r = c.post(f"{BASE}/predictions", json={"records": records}, headers={"Idempotency-Key": "j"})
    assert r.status_code == 200, r.text
    maps = pa.array(  # the second half as Arrow, a map<string, double> column
        [list(zip(CLASSES.tolist(), row.tolist(), strict=True)) for row in matrix[1500:]],
        pa.map_(pa.string(), pa.float64()),
    )
    table = pa.table(
        {
            "id": [f"id{i}" for i in range(1500, 3000)],
            "timestamp": pa.array(stamps[1500:], pa.timestamp("us")),
            "prediction": window["pred"][1500:].tolist(),
            "probabilities": maps,
        }
    )
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    arrow = {"Idempotency-Key": "a", "content-type": "application/vnd.apache.arrow.stream"}
    r = c.post(f"{BASE}/predictions", content=sink.getvalue(), headers=arrow)
    assert r.status_code == 200, r.text
    Scheduler(live.store).run_once(T0 + 3 * HOUR)

    estimated = rows_of(live, "estimated_")
    library = CBPE().fit(
        reference["target"],
        reference["pred"],
        np.column_stack([reference[f"proba_{k}"] for k in CLASSES]),
        classes=CLASSES,
    )
    expected = library.estimate(window["pred"], matrix)
    assert set(estimated) == {f"estimated_{m}" for m in expected}
    for name, est in expected.items():
        assert estimated[f"estimated_{name}"].value == pytest.approx(est.value, rel=1e-12)
        assert estimated[f"estimated_{name}"].n_cur == 3000
    bad = dict(records[0], id="bad", probabilities={"a": 1.5})
    r = c.post(f"{BASE}/predictions", json={"records": [bad]}, headers={"Idempotency-Key": "b"})
    assert r.status_code == 422 and r.json()["field"].startswith("records.0.probabilities")


def test_the_sdk_sends_a_multiclass_models_probabilities(live: Collector, tmp_path: Path) -> None:
    c = live.client()
    upload(c, MULTI_SCHEMA, three_classes(3000, 1))
    window = three_classes(300, 3)
    key = live.store.create_key("default", "ingest")
    with Monitor("m", "1", url=live.url, api_key=key, spool_dir=tmp_path, window=3600) as m:
        for i in range(300):
            by_class = {k: float(window[f"proba_{k}"][i]) for k in CLASSES}
            m.log({"x": float(window["x"][i])}, prediction=window["pred"][i], probability=by_class)
    stored = live.store._read("SELECT probabilities FROM predictions ORDER BY prediction_id")
    assert len(stored) == 300 and all(json.loads(p)["b"] >= 0 for (p,) in stored)
    (payload,) = live.store._read("SELECT payload FROM profiles")[0]
    profile = Profile.from_bytes(bytes(payload))
    assert profile.columns["proba_b"].mean == pytest.approx(window["proba_b"].mean(), rel=1e-9)
    ((first,),) = live.store._read("SELECT min(ts) FROM predictions")
    start = first.replace(minute=0, second=0, microsecond=0)
    Scheduler(live.store).run_once(start + 3 * HOUR)
    rows = live.store.metric_rows("default", "m", since=start, until=start + 2 * HOUR)
    counted = [r.n_cur for r in rows if r.metric == "estimated_accuracy"]
    assert sum(counted) == 300  # one window, or two if the logging crossed an hour


def test_a_monitored_scikit_learn_classifier_sends_every_class_probability(
    live: Collector, tmp_path: Path
) -> None:
    from sklearn.linear_model import LogisticRegression

    from sightline.integrations.sklearn import monitored

    c = live.client()
    assert c.put(BASE, json=MULTI_SCHEMA.to_dict()).status_code == 200
    data = three_classes(400, 4)
    X = data["x"][:, None]
    key = live.store.create_key("default", "ingest")
    with Monitor("m", "1", url=live.url, api_key=key, spool_dir=tmp_path, window=3600) as m:
        model = monitored(LogisticRegression(), m).fit(X, data["target"])
        proba = model.predict_proba(X)
    stored = live.store._read("SELECT prediction_label, probabilities FROM predictions")
    assert len(stored) == 400
    got = {label for label, _ in stored}
    assert got <= set(CLASSES.tolist())
    first = json.loads(stored[0][1])
    assert set(first) == set(CLASSES.tolist()) and sum(first.values()) == pytest.approx(1.0)
    assert sorted(round(v, 12) for v in first.values()) in [
        sorted(round(v, 12) for v in row) for row in proba.tolist()
    ]
