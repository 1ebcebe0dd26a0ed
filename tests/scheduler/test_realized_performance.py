"""The collector's realized performance rows are the library's: the same metrics (ROC AUC,
average precision and log loss when probabilities are logged), the same bounds from
chunks of the labelled reference of the window's size, and they alert outside them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta

import httpx
import numpy as np
import pytest

import sightline
from conftest import running_collector
from sightline.scheduler import Scheduler
from sightline.server.state import Settings
from support.classifier import BASE, HOUR, SCHEMA, T0, upload
from support.live import Collector

N_WINDOW = 400


def scored(n: int, seed: int, flipped: float = 0.0) -> dict[str, np.ndarray]:
    """A calibrated binary classifier; ``flipped`` of the labels are inverted (concept
    drift: the scores no longer mean what they did)."""
    rng = np.random.default_rng(seed)
    score = np.clip(rng.beta(2.0, 2.0, n), 1e-6, 1 - 1e-6)
    target = (rng.uniform(size=n) < score).astype(int)
    flip = rng.uniform(size=n) < flipped
    target[flip] = 1 - target[flip]
    return {"x": score * 10, "proba": score, "pred": (score > 0.5).astype(int), "target": target}


REFERENCE = scored(8000, seed=1)


@pytest.fixture
def live(store_location: str) -> Iterator[Collector]:
    with running_collector(store_location, settings=Settings(schedule_every=timedelta(0))) as c:
        yield c


def send(c: httpx.Client, window: dict[str, np.ndarray], probabilities: bool = True) -> None:
    records = []
    for i in range(N_WINDOW):
        stamp = (T0 + timedelta(seconds=i)).replace(tzinfo=UTC).isoformat()
        record = {"id": f"id{i}", "timestamp": stamp, "prediction": int(window["pred"][i])}
        if probabilities:
            record["probability"] = float(window["proba"][i])
        records.append(record)
    r = c.post(f"{BASE}/predictions", json={"records": records}, headers={"Idempotency-Key": "w"})
    assert r.status_code == 200, r.text
    labels = [{"id": f"id{i}", "label": int(t)} for i, t in enumerate(window["target"])]
    r = c.post("/api/v1/models/m/labels", json={"labels": labels}, headers={"Idempotency-Key": "l"})
    assert r.status_code == 200, r.text


def collector_rows(live: Collector) -> dict[str, sightline.MetricRow]:
    found = live.store.metric_rows("default", "m", since=T0, until=T0 + HOUR)
    return {r.metric: r for r in found if r.column in ("", "target")}


def library_rows(window: dict[str, np.ndarray]) -> dict[str, sightline.MetricRow]:
    result = sightline.compare(REFERENCE, window, schema=SCHEMA)
    return {r.metric: r for r in result.rows if r.column in ("", "target")}


@pytest.mark.parametrize("flipped", [0.0, 0.4])
def test_realized_rows_equal_the_librarys_with_bounds_and_alerts(
    live: Collector, flipped: float
) -> None:
    window = scored(N_WINDOW, seed=2, flipped=flipped)
    c = live.client()
    upload(c, SCHEMA, REFERENCE)
    send(c, window)
    Scheduler(live.store).run_once(T0 + 3 * HOUR)

    got = collector_rows(live)
    want = library_rows(window)
    performance = {
        "label_coverage",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "average_precision",
        "log_loss",
    }
    assert performance <= set(want)
    for name in sorted(set(want) & (performance | {m for m in want if m.startswith("confusion")})):
        row, expected = got[name], want[name]
        assert row.value == pytest.approx(expected.value, rel=1e-12), name
        for ours, theirs in ((row.lower, expected.lower), (row.upper, expected.upper)):
            if np.isnan(theirs):
                assert np.isnan(ours), name
            else:
                assert ours == pytest.approx(theirs, rel=1e-12), name
        assert row.alert is expected.alert, name
        assert row.method == expected.method and row.n_cur == expected.n_cur, name
        assert row.n_ref == expected.n_ref, name
    assert not np.isnan(got["accuracy"].lower)  # bounds from the labelled reference
    assert got["accuracy"].alert is (flipped > 0)  # outside them after concept drift


def test_without_probabilities_the_realized_rows_have_no_ranking_metrics(live: Collector) -> None:
    window = scored(N_WINDOW, seed=3)
    c = live.client()
    upload(c, SCHEMA, REFERENCE)
    send(c, window, probabilities=False)
    Scheduler(live.store).run_once(T0 + 3 * HOUR)
    got = collector_rows(live)
    assert got["accuracy"].value == pytest.approx(library_rows(window)["accuracy"].value)
    assert not np.isnan(got["accuracy"].lower)
    assert "roc_auc" not in got and "log_loss" not in got
