"""False alarms and detection of text and embedding drift on real text (docs/text.md).

    .venv/bin/python benchmarks/text_false_alarms.py --splits 100 --shifts 20 --rows 1000

The corpus is the paragraphs (3 words or more) of the standard library's
``pydoc_data.topics``, which ships with Python. Each undrifted split draws two disjoint
random samples of ``rows`` paragraphs, reference and current; each shift draws ``rows``
paragraphs of the first half of the topics (alphabetically) as the reference and ``rows``
of the second half as the current. Both go through ``sightline.compare`` with a text column
``review`` and an embedding column ``emb``: the paragraphs embedded once by
:class:`sightline.text.Embedder` (the packaged all-MiniLM-L6-v2, 384 dimensions) when the
``[text]`` extra is installed, else (or with ``--hashing``) hashed bag-of-words vectors
(scikit-learn's ``HashingVectorizer``, 256 dimensions, l2-normed). A column false alarm is
a drift row with ``alert`` set on an undrifted split.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

# Run as a script, this directory comes first on sys.path, and its profile.py would shadow
# the standard library's profile module, which torch imports (for the Embedder).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import numpy as np  # noqa: E402

import sightline  # noqa: E402
from sightline.stats.text import DESCRIPTORS  # noqa: E402


def paragraphs() -> tuple[list[str], list[str]]:
    """All paragraphs, and the topic of each."""
    import pydoc_data.topics

    texts, topics = [], []
    for topic, text in sorted(pydoc_data.topics.topics.items()):
        for p in text.split("\n\n"):
            if len(p.split()) >= 3:
                texts.append(p.strip())
                topics.append(topic)
    return texts, topics


def embed(texts: list[str], hashing: bool) -> tuple[np.ndarray, str]:
    """The texts' vectors (unit length) and what made them: the Embedder when it can
    load, else hashed bag-of-words vectors of 256 dimensions."""
    if not hashing:
        try:
            from sightline.text import Embedder

            return Embedder()(texts), "Embedder (all-MiniLM-L6-v2, 384 dimensions)"
        except (ImportError, ValueError) as exc:
            print(f"no Embedder ({exc}): hashed vectors")
    from sklearn.feature_extraction.text import HashingVectorizer

    vectors = HashingVectorizer(n_features=256, alternate_sign=True, norm="l2")
    return np.asarray(vectors.transform(texts).toarray()), "HashingVectorizer (256 dimensions)"


def alerts(texts: list[str], vectors: np.ndarray, ref: np.ndarray, cur: np.ndarray) -> Counter:
    """Which drift rows alert when ``ref`` rows are compared with ``cur`` rows."""
    result = sightline.compare(
        {"review": [texts[i] for i in ref], "emb": vectors[ref]},
        {"review": [texts[i] for i in cur], "emb": vectors[cur]},
        text=["review"],
        embedding=["emb"],
    )
    found: Counter = Counter()
    drift = {"text_content_drift", "embedding_drift"}
    for row in result.rows:
        if row.column.startswith("review.") and row.metric == "jensen_shannon":
            found[row.column] += row.alert
        elif row.metric in drift:
            found[row.metric] += row.alert
        elif row.column.startswith("review.") and row.alert:
            found["descriptor quality"] += 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--splits", type=int, default=100)
    parser.add_argument("--shifts", type=int, default=20)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--hashing", action="store_true", help="hashed vectors, no Embedder")
    args = parser.parse_args()
    texts, topics = paragraphs()
    start = time.perf_counter()
    vectors, made = embed(texts, args.hashing)
    n = args.rows
    print(f"{len(texts)} paragraphs of {len(set(topics))} topics; {n} rows per side")
    print(f"embeddings: {made}, {time.perf_counter() - start:.0f} s")
    start = time.perf_counter()
    undrifted: Counter = Counter()
    for seed in range(args.splits):
        order = np.random.default_rng(seed).permutation(len(texts))
        undrifted.update(alerts(texts, vectors, order[:n], order[n : 2 * n]))
    names = sorted(set(topics))
    first = np.flatnonzero(np.isin(topics, names[: len(names) // 2]))
    second = np.flatnonzero(np.isin(topics, names[len(names) // 2 :]))
    shifted: Counter = Counter()
    for seed in range(args.shifts):
        rng = np.random.default_rng(10_000 + seed)
        ref = rng.choice(first, size=min(n, first.size), replace=False)
        cur = rng.choice(second, size=min(n, second.size), replace=False)
        shifted.update(alerts(texts, vectors, ref, cur))
    descriptor_alarms = sum(undrifted[f"review.{d}"] for d in DESCRIPTORS)
    print("| rows | what | undrifted splits alerting | topic shifts caught |")
    print("| ---: | --- | ---: | ---: |")
    per_descriptor = args.splits * len(DESCRIPTORS)
    print(
        f"| {n} | descriptor columns (all {len(DESCRIPTORS)}) | "
        f"{descriptor_alarms / per_descriptor:.1%} of {per_descriptor} | "
        f"{sum(shifted[f'review.{d}'] > 0 for d in DESCRIPTORS)} of {len(DESCRIPTORS)} columns |"
    )
    for d in DESCRIPTORS:
        print(
            f"| {n} | review.{d} | {undrifted[f'review.{d}'] / args.splits:.1%} "
            f"| {shifted[f'review.{d}'] / args.shifts:.0%} |"
        )
    for metric in ("text_content_drift", "embedding_drift"):
        print(
            f"| {n} | {metric} | {undrifted[metric] / args.splits:.1%} "
            f"| {shifted[metric] / args.shifts:.0%} |"
        )
    print(
        f"| {n} | descriptor quality rows alerting (per split) | "
        f"{undrifted['descriptor quality'] / args.splits:.2f} | |"
    )
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
