"""The Keras wrapper against a real collector: every ``predict`` and call arrives, once,
with the inputs, the outputs and the ids it was given.

TensorFlow is not a dependency of sightline: this test skips without it, except in CI,
which installs ``tensorflow-cpu`` and sets SIGHTLINE_REQUIRE_TENSORFLOW=1.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from sightline.errors import InvalidInputError
from sightline.integrations.keras import monitored_model
from sightline.profile import Column, Schema
from sightline.sdk import Monitor
from support.frameworks import framework, received, register, stored_ids
from support.live import Collector

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
tf = framework("tensorflow", "SIGHTLINE_REQUIRE_TENSORFLOW", "TensorFlow")
keras = tf.keras  # Keras 3 on TensorFlow's backend

SCHEMA = Schema((Column("a"), Column("b"), Column("y", role="prediction")))
WEIGHTS = np.array([[1.0, -1.0, 0.5], [0.0, 1.0, 2.0]], dtype=np.float32)


def dense(outputs: int) -> object:
    """A linear Keras model of two inputs with known weights and no bias."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(outputs)])
    model.set_weights([WEIGHTS[:, :outputs], np.zeros(outputs, dtype=np.float32)])
    return model


@pytest.mark.parametrize("outputs", [1, 3])
def test_predict_and_calls_are_logged_with_their_ids(
    duckdb_collector: Collector, tmp_path: Path, outputs: int
) -> None:
    rng = np.random.default_rng(0)
    reference = {"a": rng.normal(size=300), "b": rng.normal(size=300), "y": rng.normal(size=300)}
    key = register(duckdb_collector, "keras", SCHEMA, reference)
    m = Monitor("keras", "1", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path, tick=0.05)
    model = monitored_model(dense(outputs), m)
    x = np.random.default_rng(1).normal(size=(100, 2)).astype(np.float32)
    given = [f"k{i:03d}" for i in range(100)]
    first = model.predict(x, verbose=0, ids=given)
    assert model.last_ids == given
    second = np.asarray(model(x[:40]))
    made = model.last_ids
    assert made is not None and len(made) == 40
    assert model.count_params() == 3 * outputs  # weights and biases: the model's own API
    m.close(timeout=30)

    got = received(duckdb_collector, "keras")
    seen = np.concatenate([x, x[:40]]).astype(np.float64)
    out = np.concatenate([first, second]).astype(np.float64)
    want_y = out[:, 0] if outputs == 1 else out.argmax(axis=1)
    np.testing.assert_allclose(out, seen @ WEIGHTS[:, :outputs], rtol=1e-5, atol=1e-6)
    assert (got.n_rows, got.n_predictions) == (140, 140)
    assert got.columns["a"].mean == pytest.approx(seen[:, 0].mean(), rel=1e-9)
    assert got.columns["b"].mean == pytest.approx(seen[:, 1].mean(), rel=1e-9)
    assert got.columns["y"].mean == pytest.approx(want_y.mean(), rel=1e-9)
    assert got.latency.n == 140
    assert stored_ids(duckdb_collector, "keras") == sorted(given + made)


def test_bad_ids_are_refused_before_the_model_runs() -> None:
    m = Monitor("keras", "1", url=None, schema=SCHEMA)
    model = monitored_model(dense(1), m)
    with pytest.raises(InvalidInputError, match=r"one id per row of the input \(3\), got 1 ids"):
        model.predict(np.zeros((3, 2), dtype=np.float32), ids=["only"])
    assert model.last_ids is None
    m.flush()
    assert m.stats()["rows"] == 0
    m.close()
