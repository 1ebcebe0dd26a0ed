"""``analyze`` estimates performance (CBPE) for windows without a target."""

from __future__ import annotations

import numpy as np
import pytest

import sightline
from sightline.stats.performance import classification_metrics


def classifier_data(n: int, seed: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    """A calibrated binary classifier: P(y=1 | x) = sigmoid(2x), the score is that probability."""
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1, n)
    p = 1 / (1 + np.exp(-2 * x))
    y = (rng.uniform(size=n) < p).astype(int)
    return {"x": x, "proba": p, "pred": (p > 0.5).astype(int), "y": y}


def test_windows_without_target_get_estimated_rows_that_track_realized() -> None:
    reference = classifier_data(20_000, 1)
    current = classifier_data(20_000, 2, shift=0.8)  # covariate shift only
    hidden = {k: v for k, v in current.items() if k != "y"}
    options = {"target": "y", "prediction": "pred", "probability": ["proba"], "chunk_size": 5000}
    estimated = sightline.analyze(reference, hidden, **options)
    rows = [r for r in estimated.rows if r.metric == "estimated_roc_auc"]
    assert len(rows) == 4
    for i, row in enumerate(rows):
        part = slice(i * 5000, (i + 1) * 5000)
        realized = classification_metrics(
            current["y"][part], current["pred"][part], current["proba"][part]
        )
        assert row.lower <= realized["roc_auc"] <= row.upper
        assert row.value == pytest.approx(realized["roc_auc"], abs=0.02)
        assert row.method.startswith("CBPE")
    assert {r.metric for r in estimated.rows} >= {"estimated_accuracy", "estimated_f1"}
    assert not [r for r in estimated.rows if r.metric == "roc_auc"]
    # With the target present, realized rows and no estimates.
    labelled = sightline.analyze(reference, current, **options)
    assert [r for r in labelled.rows if r.metric == "roc_auc"]
    assert not [r for r in labelled.rows if r.metric.startswith("estimated_")]
