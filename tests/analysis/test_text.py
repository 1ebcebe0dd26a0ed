"""Text and embedding columns in compare and analyze: descriptor, content and embedding rows."""

from __future__ import annotations

import sys

import numpy as np
import pyarrow as pa
import pytest

import sightline
from sightline.analysis.columns import infer_schema
from sightline.analysis.content_drift import content_drift
from sightline.errors import InvalidInputError, SchemaError
from sightline.stats.text import DESCRIPTORS
from support.text_corpus import paragraphs, topic_split


def _metrics(result: sightline.Result, column: str) -> dict[str, sightline.MetricRow]:
    return {r.metric: r for r in result.rows if r.column == column}


def test_text_column_gives_descriptor_columns_and_a_content_row() -> None:
    texts = paragraphs()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(texts))
    ref = {"review": [texts[i] for i in order[:400]], "x": rng.normal(size=400)}
    cur = {"review": [texts[i] for i in order[400:800]], "x": rng.normal(size=400)}
    result = sightline.compare(ref, cur, text=["review"])
    for d in DESCRIPTORS:
        rows = _metrics(result, f"review.{d}")
        assert "jensen_shannon" in rows and "missing_share" in rows
    content = _metrics(result, "review")["text_content_drift"]
    assert 0.4 < content.value < content.upper < 0.7
    assert not content.alert and content.n_ref == content.n_cur == 400
    assert "words toward current" in content.method
    assert not _metrics(result, "review.oov_share")["jensen_shannon"].alert


def test_topic_shift_is_caught_with_its_words() -> None:
    ref, cur = topic_split(400)
    result = sightline.compare({"review": ref}, {"review": cur})
    content = _metrics(result, "review")["text_content_drift"]
    assert content.alert and content.value > 0.8 and content.p_value < 0.01


def test_embedding_column_gives_embedding_rows() -> None:
    rng = np.random.default_rng(1)
    ref = {"emb": rng.normal(size=(300, 16)), "x": rng.normal(size=300)}
    cur = {"emb": rng.normal(0.3, 1.0, size=(300, 16)), "x": rng.normal(size=300)}
    result = sightline.compare(ref, cur)
    rows = _metrics(result, "emb")
    assert set(rows) == {"embedding_drift", "embedding_mean_distance", "embedding_drifted_share"}
    assert rows["embedding_drift"].alert and rows["embedding_drift"].p_value < 0.01
    assert rows["embedding_mean_distance"].value == pytest.approx(
        np.linalg.norm(ref["emb"].mean(0) - cur["emb"].mean(0))
    )
    same = sightline.compare(ref, {"emb": rng.normal(size=(300, 16)), "x": rng.normal(size=300)})
    assert not _metrics(same, "emb")["embedding_drift"].alert


def test_inference_rule_and_overrides() -> None:
    texts = paragraphs()[:50]
    rng = np.random.default_rng(2)
    table = pa.table(
        {
            "review": texts,
            "color": [["red", "blue"][i % 2] for i in range(50)],
            "emb": pa.FixedSizeListArray.from_arrays(pa.array(rng.normal(size=100)), 2),
            "listed": [list(v) for v in rng.normal(size=(50, 3))],
            "ragged": [[0.0] * (1 + i % 2) for i in range(50)],
            "ids": [f"id-{i}" for i in range(50)],
        }
    )
    kinds = {c.name: c.kind for c in infer_schema(table).columns}
    assert kinds == {
        "review": "text",
        "color": "categorical",
        "emb": "embedding",
        "listed": "embedding",
        "ragged": "categorical",
        "ids": "categorical",
    }
    resolved = infer_schema(table, kinds={"review": "categorical", "ids": "text"})
    assert resolved["review"].kind == "categorical" and resolved["ids"].kind == "text"


def test_thresholds_may_name_descriptor_columns() -> None:
    texts = paragraphs()
    ref, cur = {"review": texts[:200]}, {"review": texts[200:400]}
    result = sightline.compare(ref, cur, text=["review"], thresholds={"review.length": 0.9})
    assert _metrics(result, "review.length")["jensen_shannon"].upper == 0.9
    with pytest.raises(SchemaError, match=r"review\.size"):
        sightline.compare(ref, cur, text=["review"], thresholds={"review.size": 0.9})


def test_vectors_of_different_lengths_are_refused_naming_the_column() -> None:
    ref = {"emb": [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]]}
    cur = {"emb": [[0.0, 1.0, 2.0], [1.0, 0.0, 2.0], [0.5, 0.5, 2.0]]}
    with pytest.raises(SchemaError, match="'emb'"):
        sightline.compare(ref, {"emb": [[0.0], [1.0, 2.0], [3.0]]}, embedding=["emb"])
    with pytest.raises(SchemaError, match="emb"):
        sightline.compare(ref, cur, embedding=["emb"])


def test_analyze_windows_carry_text_and_embedding_rows() -> None:
    ref, cur = topic_split(300)
    rng = np.random.default_rng(3)
    data = {
        "review": ref[:150] + cur[:150],
        "emb": np.vstack([rng.normal(size=(150, 4)), rng.normal(2.0, size=(150, 4))]),
    }
    result = sightline.analyze(
        {"review": ref, "emb": rng.normal(size=(300, 4))}, data, chunk_size=150, multivariate=False
    )
    content = [r.alert for r in result.rows if r.metric == "text_content_drift"]
    embedded = [r.alert for r in result.rows if r.metric == "embedding_drift"]
    assert content == [False, True] and embedded == [False, True]


def test_missing_scikit_learn_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)
    texts = paragraphs()
    with pytest.raises(ImportError, match=r"pip install 'sightline\[text\]'"):
        content_drift(texts[:100], texts[100:200])
    result = sightline.compare({"review": texts[:100]}, {"review": texts[100:200]})
    row = _metrics(result, "review")["text_content_drift"]
    assert not row.is_computed and "sightline[text]" in row.method
    assert "jensen_shannon" in _metrics(result, "review.length")


def test_patterns_become_match_rate_columns() -> None:
    answers = [f"Order {i} shipped today and arrives on time." for i in range(300)]
    refusals = [f"I cannot help with order {i}, sorry." for i in range(100)]
    result = sightline.compare(
        {"answer": answers[:285] + refusals[:15]},
        {"answer": answers[:200] + refusals},
        text=["answer"],
        patterns={"refusal": r"(?i)\bI (cannot|can't)\b"},
        thresholds={"answer.match.refusal": 0.1},
    )
    rows = _metrics(result, "answer.match.refusal")
    assert rows["jensen_shannon"].alert and rows["jensen_shannon"].upper == 0.1
    with pytest.raises(InvalidInputError, match="pattern 'bad'"):
        sightline.compare({"answer": answers}, {"answer": answers}, patterns={"bad": "("})
