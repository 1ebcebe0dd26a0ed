"""``analyze`` estimates performance (CBPE) for windows without a target."""

from __future__ import annotations

import numpy as np
import pytest

import sightline
from sightline.stats.estimation import CBPE
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


CLASSES = np.array(["a", "b", "c"], dtype=object)


def multiclass_data(n: int, seed: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    """A calibrated 3-class softmax model; one probability column per class, named
    ``proba_<class>``, which sightline matches to the classes by name."""
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1, (n, 2))
    logits = x @ np.array([[2.0, 0.0, -2.0], [0.0, 2.0, -1.0]])
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = CLASSES[(rng.uniform(size=(n, 1)) > p.cumsum(axis=1)).sum(axis=1)]
    out = {"x0": x[:, 0], "x1": x[:, 1], "pred": CLASSES[p.argmax(axis=1)], "y": y}
    return out | {f"proba_{c}": p[:, j] for j, c in enumerate(CLASSES)}


def test_multiclass_windows_get_estimates_from_the_class_probability_columns() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    reference = multiclass_data(20_000, 3)
    current = multiclass_data(10_000, 4, shift=0.7)  # covariate shift only
    hidden = {k: v for k, v in current.items() if k != "y"}
    probas = [f"proba_{c}" for c in CLASSES]
    options = {"target": "y", "prediction": "pred", "probability": probas, "chunk_size": 5000}
    estimated = sightline.analyze(reference, hidden, **options)

    library = CBPE().fit(
        reference["y"],
        reference["pred"],
        np.column_stack([reference[c] for c in probas]),
        classes=CLASSES,
    )
    matrix = np.column_stack([current[c] for c in probas])
    for i in range(2):
        part = slice(i * 5000, (i + 1) * 5000)
        rows = {r.metric: r for r in estimated.rows if r.window_start == i * 5000}
        expected = library.estimate(current["pred"][part], matrix[part])
        assert {f"estimated_{m}" for m in expected} <= set(rows)
        for name, est in expected.items():
            assert rows[f"estimated_{name}"].value == pytest.approx(est.value, rel=1e-12)
        realized = classification_metrics(
            current["y"][part], current["pred"][part], matrix[part], labels=CLASSES
        )
        for name in ("accuracy", "f1_macro", "roc_auc"):
            row = rows[f"estimated_{name}"]
            assert row.lower <= realized[name] <= row.upper, name
    # With the target: realized multiclass rows, the ROC AUC from the probability columns.
    labelled = sightline.analyze(reference, current, **options)
    auc = next(r for r in labelled.rows if r.metric == "roc_auc" and r.window_start == 0)
    want = metrics.roc_auc_score(
        current["y"][:5000], matrix[:5000], multi_class="ovr", labels=list(CLASSES)
    )
    assert auc.value == pytest.approx(want, rel=1e-9)
    assert not [r for r in labelled.rows if r.metric.startswith("estimated_")]


def test_a_binary_classifier_with_a_probability_column_per_class_uses_the_positive_one() -> None:
    reference, current = classifier_data(5000, 5), classifier_data(5000, 6, shift=0.5)
    for data in (reference, current):
        data["proba_1"], data["proba_0"] = data["proba"], 1 - data["proba"]
    hidden = {k: v for k, v in current.items() if k != "y"}
    common = {"target": "y", "prediction": "pred", "chunk_size": 2500}

    def estimates(probability: list[str]) -> list[tuple[str, float]]:
        result = sightline.analyze(reference, hidden, probability=probability, **common)
        return [(r.metric, r.value) for r in result.rows if r.metric.startswith("estimated_")]

    one = estimates(["proba"])
    assert len(one) == 12 and estimates(["proba_0", "proba_1"]) == one
