"""Realized performance from a collector's prediction records equals compare's rows for
the same window (binary, multiclass, regression), and the task follows one rule."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pytest

import sightline
from sightline.analysis.estimated import estimator_state
from sightline.analysis.realized import realized_window_rows
from sightline.analysis.rows import RowContext
from sightline.profile import Column, Schema

CLASSES = ["a", "b", "c"]
MULTI = Schema(
    (
        Column("x"),
        *(Column(f"proba_{k}", role="probability") for k in CLASSES),
        Column("pred", role="prediction", kind="categorical"),
        Column("target", role="target", kind="categorical"),
    )
)
REGRESSION = Schema((Column("x"), Column("pred", role="prediction"), Column("y", role="target")))


def multiclass(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    logits = np.column_stack([2 * x, np.zeros(n), -2 * x])
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    target = np.array(CLASSES)[(rng.uniform(size=(n, 1)) > p.cumsum(axis=1)).sum(axis=1)]
    out = {"x": x, "pred": np.array(CLASSES)[p.argmax(axis=1)], "target": target}
    return out | {f"proba_{k}": p[:, j] for j, k in enumerate(CLASSES)}


def same(got: list[sightline.MetricRow], want: tuple[sightline.MetricRow, ...]) -> None:
    expected = {r.metric: r for r in want if r.column in ("", "target", "y")}
    assert got
    for row in got:
        other = expected[row.metric]
        assert row.value == pytest.approx(other.value, rel=1e-12), row.metric
        for a, b in ((row.lower, other.lower), (row.upper, other.upper)):
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12)
        assert (row.alert, row.method, row.n_ref, row.n_cur) == (
            other.alert,
            other.method,
            other.n_ref,
            other.n_cur,
        )


def test_multiclass_records_give_compares_rows() -> None:
    reference, window = multiclass(3000, 1), multiclass(300, 2)
    state = estimator_state(MULTI, pa.table(reference))
    records = [
        (
            None,
            str(window["pred"][i]),
            None,
            None,
            str(window["target"][i]),
            f"id{i}",
            json.dumps({k: float(window[f"proba_{k}"][i]) for k in CLASSES}),
        )
        for i in range(300)
    ]
    got = realized_window_rows(MULTI, state, records, RowContext())
    assert {"roc_auc", "accuracy", "f1_macro"} <= {r.metric for r in got}
    same(got, sightline.compare(reference, window, schema=MULTI).rows)


def test_regression_records_give_compares_rows() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, 2300)
    table = {"x": x, "pred": 2 * x, "y": 2 * x + rng.normal(0, 0.5, 2300)}
    reference = {k: v[:2000] for k, v in table.items()}
    window = {k: v[2000:] for k, v in table.items()}
    state = estimator_state(REGRESSION, pa.table(reference))
    assert state is not None and "cbpe" not in state  # bounds only, no estimator
    records = [
        (float(window["pred"][i]), None, None, float(window["y"][i]), None, f"id{i}", None)
        for i in range(300)
    ]
    got = realized_window_rows(REGRESSION, state, records, RowContext())
    assert {"mae", "rmse"} <= {r.metric for r in got}
    same(got, sightline.compare(reference, window, schema=REGRESSION).rows)


@pytest.mark.parametrize(
    ("labels", "task"),
    [
        ([0.0, 1.0, 2.0, 1.0], "accuracy"),
        ([float(i) for i in range(8)], "mae"),
        (["x", "y"], "accuracy"),
    ],
)
def test_without_a_target_in_the_schema_the_labels_decide_by_the_schema_rule(
    labels: list[object], task: str
) -> None:
    """Whole numbers with at most 5 distinct values are classes, as in schema inference."""
    schema = Schema((Column("x"), Column("pred", role="prediction")))
    records = []
    for i, label in enumerate(labels):
        text = label if isinstance(label, str) else None
        number = None if isinstance(label, str) else label
        records.append((number, text, None, number, text, f"id{i}", None))
    metrics = {r.metric for r in realized_window_rows(schema, None, records, RowContext())}
    assert task in metrics
