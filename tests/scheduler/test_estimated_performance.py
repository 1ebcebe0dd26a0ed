"""The collector estimates a binary classifier's performance in windows without labels:
CBPE fitted on the rows of the uploaded reference, applied to each window's predictions."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from conftest import running_collector
from sightline.profile import Column, Schema
from sightline.scheduler import Scheduler
from sightline.server.state import Settings
from sightline.stats.estimation import CBPE
from sightline.stats.performance import classification_metrics
from support.live import Collector

SCHEMA = Schema(
    (
        Column("x"),
        Column("proba", role="probability"),
        Column("pred", role="prediction", kind="categorical"),
        Column("target", role="target", kind="categorical"),
    )
)
T0 = datetime(2026, 3, 1)
HOUR = timedelta(hours=1)
BASE = "/api/v1/models/m/versions/1"


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


def upload_reference(c: httpx.Client, columns: dict[str, np.ndarray]) -> None:
    assert c.put(BASE, json=SCHEMA.to_dict()).status_code == 200
    out = io.BytesIO()
    pacsv.write_csv(pa.table(columns), out)
    r = c.put(f"{BASE}/reference", content=out.getvalue(), headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text


def send_window(c: httpx.Client) -> None:
    stamps = [(T0 + timedelta(seconds=i)).replace(tzinfo=UTC).isoformat() for i in range(3000)]
    records = [
        {"id": f"id{i}", "timestamp": stamps[i], "prediction": int(p), "probability": float(s)}
        for i, (p, s) in enumerate(zip(WINDOW["pred"], WINDOW["proba"], strict=True))
    ]
    r = c.post(f"{BASE}/predictions", json={"records": records}, headers={"Idempotency-Key": "w"})
    assert r.status_code == 200, r.text


def rows_of(live: Collector, prefix: str) -> dict[str, dict[str, object]]:
    found = live.store.metric_rows("default", "m", since=T0, until=T0 + HOUR)
    return {r["metric"]: r for r in found if r["metric"].startswith(prefix)}


def test_windows_without_labels_get_cbpe_rows_equal_to_the_library(live: Collector) -> None:
    c = live.client()
    upload_reference(c, REFERENCE)
    send_window(c)
    Scheduler(live.store).run_once(T0 + 3 * HOUR)

    estimated = rows_of(live, "estimated_")
    library = CBPE().fit(REFERENCE["target"], REFERENCE["pred"], REFERENCE["proba"])
    expected = library.estimate(WINDOW["pred"], WINDOW["proba"])
    assert set(estimated) == {f"estimated_{m}" for m in expected}
    for name, est in expected.items():
        row = estimated[f"estimated_{name}"]
        assert row["value"] == pytest.approx(est.value, rel=1e-12)
        assert row["lower"] == pytest.approx(est.lower, rel=1e-12)
        assert row["upper"] == pytest.approx(est.upper, rel=1e-12)
        assert row["n_cur"] == 3000 and row["n_ref"] == 6000
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
    assert estimated["estimated_accuracy"]["alert"] is True
    assert not rows_of(live, "accuracy")  # no labels yet: nothing realized


def test_late_labels_add_realized_rows_beside_the_estimate(live: Collector) -> None:
    c = live.client()
    upload_reference(c, REFERENCE)
    send_window(c)
    Scheduler(live.store).run_once(T0 + 3 * HOUR)
    first = rows_of(live, "estimated_")
    labels = [{"id": f"id{i}", "label": int(t)} for i, t in enumerate(WINDOW["target"])]
    r = c.post("/api/v1/models/m/labels", json={"labels": labels}, headers={"Idempotency-Key": "l"})
    assert r.status_code == 200, r.text
    Scheduler(live.store).run_once(T0 + 4 * HOUR)

    realized = classification_metrics(WINDOW["target"], WINDOW["pred"], pos_label=1)
    assert rows_of(live, "accuracy")["accuracy"]["value"] == pytest.approx(realized["accuracy"])
    again = rows_of(live, "estimated_")
    assert {k: v["value"] for k, v in again.items()} == {k: v["value"] for k, v in first.items()}


def test_a_reference_without_labels_gives_no_estimate(live: Collector) -> None:
    c = live.client()
    unlabelled = {k: v for k, v in REFERENCE.items() if k != "target"}
    unlabelled["target"] = np.array([None] * 6000)
    upload_reference(c, unlabelled)
    send_window(c)
    Scheduler(live.store).run_once(T0 + 3 * HOUR)
    assert live.store.estimator("default", "m", "1") is None
    assert not rows_of(live, "estimated_")
    assert not rows_of(live, "label_coverage")  # nothing to realize or estimate
