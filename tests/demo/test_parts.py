"""The demo's parts: its data drifts exactly where it says (checked with
``sightline.compare``), its webhook refuses unsigned calls, its supervisor stops a child
that ignores SIGTERM, and ``--report`` still writes the static report."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import time

import httpx
import numpy as np
import pyarrow as pa
import pytest

import sightline
from sightline.cli.main import main
from sightline.demo.data import DRIFTED, FEATURES, Phase, Stream, reference
from sightline.demo.receiver import SECRET, Receiver
from sightline.demo.supervisor import Supervisor
from sightline.demo.timeline import FAST, NORMAL

WINDOW = 450  # rows in a 5-second window of --fast: 3 instances at 30 predictions/s


def _window(phase: Phase, seed: int = 1001, skip: int = 0) -> pa.Table:
    stream = Stream(seed)
    stream.draw(skip, Phase())
    rows = stream.draw(WINDOW, phase)
    return pa.table(
        {
            **rows.features,
            "probability": rows.probability,
            "prediction": rows.prediction,
            "target": rows.labels,
        }
    )


def _drifted(current: pa.Table) -> set[str]:
    result = sightline.compare(pa.table(reference()), current, target="target")
    return {
        r.column for r in result.rows if r.column in FEATURES and r.alert and r.p_value is not None
    }


@pytest.mark.parametrize("skip", [0, 1234, 98765])
def test_a_window_drifts_on_the_injected_columns_only(skip: int) -> None:
    assert _drifted(_window(Phase(), skip=skip)) == set()
    assert _drifted(_window(Phase(covariate=True), skip=skip)) == set(DRIFTED)


def test_the_model_is_calibrated_until_the_concept_drifts() -> None:
    for phase, realized in ((Phase(), 0.84), (Phase(covariate=True), 0.71)):
        rows = Stream(3).draw(20_000, phase)
        p = rows.probability
        assert np.mean(rows.prediction == rows.labels) == pytest.approx(realized, abs=0.01)
        assert np.mean(np.maximum(p, 1 - p)) == pytest.approx(realized, abs=0.01)
    concept = Stream(3).draw(20_000, Phase(covariate=True, concept=True))
    assert np.mean(concept.prediction == concept.labels) < 0.3


@pytest.mark.parametrize("timeline", [FAST, NORMAL])
def test_the_timeline_leaves_the_killed_instance_out_of_a_whole_window(timeline) -> None:  # type: ignore[no-untyped-def]
    assert timeline.restart_at - timeline.kill_at >= 2 * timeline.window
    assert timeline.heartbeat_timeout < timeline.restart_at - timeline.kill_at
    assert timeline.covariate_at < timeline.concept_at


def test_the_webhook_takes_signed_notifications_only() -> None:
    got: list[dict[str, object]] = []
    body = json.dumps({"alerts": [{"status": "firing", "fingerprint": "f1"}]}).encode()
    sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    with Receiver(SECRET, got.append) as hook:
        unsigned = httpx.post(hook.url, content=body, headers={"X-Sightline-Signature": "x"})
        signed = httpx.post(hook.url, content=body, headers={"X-Sightline-Signature": sig})
    assert (unsigned.status_code, signed.status_code) == (401, 200)
    assert got == [{"status": "firing", "fingerprint": "f1"}]


def test_the_supervisor_kills_a_child_that_ignores_sigterm(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ready = tmp_path / "ready"
    stubborn = (
        "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "pathlib.Path(sys.argv[1]).touch(); time.sleep(60)"
    )
    with Supervisor(tmp_path) as children:
        child = children.start("stubborn", [sys.executable, "-c", stubborn, str(ready)])
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        began = time.monotonic()
        children.stop_all(timeout=1.0)
        assert child.returncode == -9 and time.monotonic() - began < 5


def test_report_writes_the_static_report(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "demo.html"
    assert main(["demo", "--report", "-o", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    html = out.read_text(encoding="utf-8")
    for column in ("income", "purpose", "credit_score"):
        assert column in html


def _articles(shifted: bool, n: int = 300, seed: int = 2000) -> dict[str, object]:
    from sightline.demo import articles

    data = articles.reference(articles.hashed, n=n, seed=seed)
    if shifted:
        batch = articles.Articles(seed).draw(n, shifted=True)
        data.update(
            prompt=batch.prompts,
            output=batch.outputs,
            tokens_out=batch.tokens_out,
            prompt_embedding=[list(map(float, v)) for v in articles.hashed(batch.prompts)],
        )
    return data


def test_the_topic_shift_moves_the_outputs_descriptors_and_the_prompt_embedding() -> None:
    """A window of the writer's rate (60 generations: 5 s at 12/s) before the shift does not
    drift from the reference on the shifted columns; one after it does."""
    from sightline.demo import articles

    ref = articles.reference(articles.hashed)
    kinds = {"schema": articles.SCHEMA}
    quiet = sightline.compare(ref, _articles(False, n=60), **kinds)
    moved = sightline.compare(ref, _articles(True, n=60), **kinds)

    def alerting(result: sightline.Result) -> set[str]:
        rows = [*result.select(metric="jensen_shannon"), *result.select(metric="embedding_drift")]
        return {r.column for r in rows if r.alert and r.column}

    assert set(articles.DRIFTED) <= alerting(moved), alerting(moved)
    assert not set(articles.DRIFTED) & alerting(quiet), alerting(quiet)


def test_the_hashing_embedding_is_deterministic_and_normalized() -> None:
    from sightline.demo.articles import HASH_DIM, hashed

    texts = ["Write about soil and roses.", "Write about soil and roses.", "", "GPU wafer"]
    vectors = hashed(texts)
    assert vectors.shape == (4, HASH_DIM) and vectors.dtype == np.float32
    assert np.array_equal(vectors[0], vectors[1]) and not vectors[2].any()
    assert np.allclose(np.linalg.norm(vectors[[0, 3]], axis=1), 1.0)
    # one word's digest sets its dimension and sign: recomputed here from the definition
    digest = int.from_bytes(hashlib.blake2b(b"gpu", digest_size=4).digest(), "little")
    alone = hashed(["GPU"])[0]
    assert alone[digest % HASH_DIM] == (1.0 if digest & 1 << 31 else -1.0)
    assert np.count_nonzero(alone) == 1
