"""The ONNX Runtime wrapper against a real collector: every ``run`` arrives, once, with the
feed, the prediction output and the ids it was given. The model is built here with the
``onnx`` package's helper API (a linear layer), so its outputs are known exactly.

onnxruntime is not a dependency of sightline: this test skips without it, except in CI,
which installs ``onnx`` and ``onnxruntime`` and sets SIGHTLINE_REQUIRE_ONNXRUNTIME=1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sightline.errors import InvalidInputError
from sightline.integrations.onnxruntime import monitored_session
from sightline.profile import Column, Schema
from sightline.sdk import Monitor
from support.frameworks import framework, received, register, stored_ids
from support.live import Collector

ort = framework("onnxruntime", "SIGHTLINE_REQUIRE_ONNXRUNTIME", "onnxruntime")
onnx = framework("onnx", "SIGHTLINE_REQUIRE_ONNXRUNTIME", "onnx")

SCHEMA = Schema((Column("a"), Column("b"), Column("y", role="prediction")))
WEIGHTS = np.array([[1.0, -1.0, 0.5], [0.0, 1.0, 2.0]], dtype=np.float32)
BIAS = np.array([0.1, 0.0, -0.2], dtype=np.float32)


def linear_session() -> Any:
    """An InferenceSession of ``scores = x @ WEIGHTS + BIAS`` and ``label = argmax``."""
    h = onnx.helper
    graph = h.make_graph(
        [
            h.make_node("MatMul", ["x", "w"], ["xw"]),
            h.make_node("Add", ["xw", "b"], ["scores"]),
            h.make_node("ArgMax", ["scores"], ["label"], axis=1, keepdims=0),
        ],
        "linear",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [None, 2])],
        [
            h.make_tensor_value_info("scores", onnx.TensorProto.FLOAT, [None, 3]),
            h.make_tensor_value_info("label", onnx.TensorProto.INT64, [None]),
        ],
        [onnx.numpy_helper.from_array(WEIGHTS, "w"), onnx.numpy_helper.from_array(BIAS, "b")],
    )
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("output", [None, "label"])
def test_runs_are_logged_with_their_ids(
    duckdb_collector: Collector, tmp_path: Path, output: str | None
) -> None:
    rng = np.random.default_rng(0)
    reference = {"a": rng.normal(size=300), "b": rng.normal(size=300), "y": rng.normal(size=300)}
    key = register(duckdb_collector, "onnx", SCHEMA, reference)
    m = Monitor("onnx", "1", url=duckdb_collector.url, api_key=key, spool_dir=tmp_path, tick=0.05)
    session = monitored_session(linear_session(), m, output=output)
    x = np.random.default_rng(1).normal(size=(100, 2)).astype(np.float32)
    given = [f"o{i:03d}" for i in range(100)]
    scores, label = session.run(None, {"x": x}, ids=given)
    assert session.last_ids == given
    (only,) = session.run(["scores"], {"x": x[:40]})  # asks for one output only
    made = session.last_ids
    assert made is not None and len(made) == 40
    assert [i.name for i in session.get_inputs()] == ["x"]  # the session's own API
    m.close(timeout=30)

    want = x.astype(np.float64) @ WEIGHTS + BIAS
    np.testing.assert_allclose(scores, want, rtol=1e-5, atol=1e-6)
    assert label.tolist() == want.argmax(axis=1).tolist()
    got = received(duckdb_collector, "onnx")
    seen = np.concatenate([x, x[:40]]).astype(np.float64)
    assert (got.n_rows, got.n_predictions) == (140, 140)
    assert got.columns["a"].mean == pytest.approx(seen[:, 0].mean(), rel=1e-9)
    assert got.columns["b"].mean == pytest.approx(seen[:, 1].mean(), rel=1e-9)
    # The first output (scores) as its argmax, or the label output as it is; the second
    # run did not ask for the label, so with output="label" it logged features only.
    predicted = np.concatenate([label, only.argmax(axis=1)]) if output is None else label
    assert got.columns["y"].n_valid == len(predicted)
    assert got.columns["y"].mean == pytest.approx(predicted.mean(), rel=1e-9)
    assert stored_ids(duckdb_collector, "onnx") == sorted(given + made)


def test_bad_names_and_ids_are_refused_before_the_session_runs() -> None:
    m = Monitor("onnx", "1", url=None, schema=SCHEMA)
    with pytest.raises(InvalidInputError, match=r"output 'proba' is not one of the session's"):
        monitored_session(linear_session(), m, output="proba")
    session = monitored_session(linear_session(), m)
    with pytest.raises(InvalidInputError, match=r"input_feed has no 'x'") as info:
        session.run(None, {"input": np.zeros((3, 2), dtype=np.float32)})
    assert info.value.field == "input_feed"
    with pytest.raises(InvalidInputError, match=r"one id per row of the input \(3\), got 2 ids"):
        session.run(None, {"x": np.zeros((3, 2), dtype=np.float32)}, ids=["a", "b"])
    assert session.last_ids is None
    m.flush()
    assert m.stats()["rows"] == 0
    m.close()
