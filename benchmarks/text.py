"""Text descriptors and embedding drift: sightline vs Evidently, side by side.

Run with the peers' environment (``bash benchmarks/setup.sh`` builds ``benchmarks/.venv``)::

    benchmarks/.venv/bin/python benchmarks/text.py --texts 1000000 --peer-texts 100000

``descriptors``: ``sightline.stats.text.descriptors`` of texts of about 200 characters (each
a run of sentences of the standard library's ``pydoc_data`` help topics, cut at 200
characters), without and with a reference vocabulary (``oov_share``); Evidently 0.7 computes
its text descriptors (``TextLength``, ``SentenceCount``, ``WordCount``,
``NonLetterCharacterPercentage``, ``IsValidJSON`` and a ``Contains`` word list, the ones that
need no download) on ``--peer-texts`` texts, and its time is scaled to the same count.

``embeddings``: 10,000 vs 10,000 vectors of 384 dimensions (N(0, 1), the current shifted by
0.05 in every dimension): sightline's ``mmd_test`` (1,000 rows per side, 200 permutations),
``mean_distance`` and ``drifted_components_share``, and Evidently's default embedding method
(``EmbeddingsDriftMetric``, a domain classifier). Each tool runs in a fresh process; the
time is the call only (the data are in memory), the median of ``--runs`` processes.
``--parts descriptors`` (or ``embeddings``) runs one half; the load average before and after
goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _harness import timed

sys.path.insert(0, str(Path(__file__).parent))

CHARS = 200


def corpus(n: int, seed: int = 0) -> list[str]:
    """``n`` texts of about 200 characters cut from runs of help-topic sentences."""
    import pydoc_data.topics
    import re

    import numpy as np

    sentences = [
        s.strip()
        for text in pydoc_data.topics.topics.values()
        for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
        if len(s.split()) >= 3
    ]
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(sentences) - 8, size=n)
    return [" ".join(sentences[s : s + 8])[:CHARS] for s in starts.tolist()]


def vectors(seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    return rng.normal(size=(10_000, 384)), rng.normal(0.05, 1.0, size=(10_000, 384))


def _sightline_descriptors(n: int, vocabulary: bool) -> float:
    import pyarrow as pa

    from sightline.stats.text import descriptors, words

    texts = pa.array(corpus(n), pa.string())
    vocab = frozenset(words(texts.slice(0, 10_000)).to_pylist()) if vocabulary else None
    cpu = time.process_time()
    _, seconds, _ = timed(lambda: descriptors(texts, vocabulary=vocab))
    print(json.dumps({"cpu_s": time.process_time() - cpu}), file=sys.stderr)
    return seconds


def _evidently_descriptors(n: int) -> float:
    import pandas as pd
    from evidently import DataDefinition, Dataset
    from evidently.descriptors import (
        Contains,
        IsValidJSON,
        NonLetterCharacterPercentage,
        SentenceCount,
        TextLength,
        WordCount,
    )

    frame = pd.DataFrame({"text": corpus(n)})

    def run() -> object:
        return Dataset.from_pandas(
            frame,
            data_definition=DataDefinition(text_columns=["text"]),
            descriptors=[
                TextLength("text", alias="length"),
                SentenceCount("text", alias="sentences"),
                WordCount("text", alias="words"),
                NonLetterCharacterPercentage("text", alias="non_letter"),
                IsValidJSON("text", alias="json"),
                Contains("text", items=["cannot", "sorry"], alias="refusal"),
            ],
        ).as_dataframe()

    _, seconds, _ = timed(run)
    return seconds


def _sightline_embeddings() -> float:
    from sightline.stats.embedding import drifted_components_share, mean_distance, mmd_test

    ref, cur = vectors()

    def run() -> tuple[float, float, float]:
        return (
            mmd_test(ref, cur).p_value,
            mean_distance(ref, cur),
            drifted_components_share(ref, cur),
        )

    found, seconds, _ = timed(run)
    print(json.dumps({"p_value": found[0], "drifted_share": found[2]}), file=sys.stderr)
    return seconds


def _evidently_embeddings() -> float:
    import pandas as pd
    from evidently.legacy.metrics import EmbeddingsDriftMetric
    from evidently.legacy.pipeline.column_mapping import ColumnMapping
    from evidently.legacy.report import Report

    ref, cur = vectors()
    names = [f"e{i}" for i in range(ref.shape[1])]
    reference, current = pd.DataFrame(ref, columns=names), pd.DataFrame(cur, columns=names)
    mapping = ColumnMapping(embeddings={"emb": names})

    def run() -> object:
        report = Report(metrics=[EmbeddingsDriftMetric("emb")])
        report.run(reference_data=reference, current_data=current, column_mapping=mapping)
        return report.as_dict()

    found, seconds, _ = timed(run)
    print(json.dumps({"evidently": str(found["metrics"][0]["result"])[:200]}), file=sys.stderr)
    return seconds


CALLS = {
    "sightline-descriptors": lambda n: _sightline_descriptors(n, vocabulary=False),
    "sightline-descriptors+oov": lambda n: _sightline_descriptors(n, vocabulary=True),
    "evidently-descriptors": _evidently_descriptors,
    "sightline-embeddings": lambda n: _sightline_embeddings(),
    "evidently-embeddings": lambda n: _evidently_embeddings(),
}


def _in_fresh_process(tool: str, n: int, runs: int) -> float:
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, __file__, "--one", tool, "--texts", str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
        print(tool, out.stderr.strip().splitlines()[-1:], file=sys.stderr)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=1_000_000)
    parser.add_argument("--peer-texts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=("descriptors", "embeddings"),
        default=("descriptors", "embeddings"),
    )
    parser.add_argument("--one", choices=sorted(CALLS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(CALLS[args.one](args.texts))
        return
    n, peer = args.texts, args.peer_texts
    print("load average before:", Path("/proc/loadavg").read_text().split()[:3], file=sys.stderr)
    print("| what | sightline s | Evidently s | ratio |")
    print("| --- | ---: | ---: | ---: |")
    if "descriptors" in args.parts:
        sl = _in_fresh_process("sightline-descriptors", n, args.runs)
        ev = _in_fresh_process("evidently-descriptors", peer, 1) * n / peer
        sl_oov = _in_fresh_process("sightline-descriptors+oov", n, args.runs)
        print(
            f"| descriptors, {n:,} texts | {sl:.2f} | {ev:.1f} (scaled from {peer:,}) "
            f"| {ev / sl:.0f}x |"
        )
        print(f"| descriptors + oov_share, {n:,} texts | {sl_oov:.2f} | | |")
    if "embeddings" in args.parts:
        se = _in_fresh_process("sightline-embeddings", n, args.runs)
        ee = _in_fresh_process("evidently-embeddings", n, 1)
        print(f"| embedding drift, 10,000 vs 10,000 x 384 | {se:.2f} | {ee:.1f} | {ee / se:.0f}x |")
    print("load average after:", Path("/proc/loadavg").read_text().split()[:3], file=sys.stderr)


if __name__ == "__main__":
    main()
