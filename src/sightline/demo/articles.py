"""The ``article-writer`` service of the demo: its prompts, its generated articles, its two
models, its topic shift and the embedding of its prompts.

Before the shift the editors ask for articles on gardening, cooking and travel; after it,
on crypto markets and chips (``Phase.covariate``: the same moment as ``credit-scoring``'s
covariate drift). The articles are drawn word by word from each topic's vocabulary and a
few function words, so after the shift most of their words are unknown to the reference
(``output.oov_share`` rises), they are longer (``output.length``, ``output.words``) and the
prompts' embeddings move. Two models serve: ``writer-small`` (60 %, shorter and faster)
and ``writer-large``.

The prompt embedding (column ``prompt_embedding``) comes from :class:`sightline.text.Embedder`
(all-MiniLM-L6-v2, 384 dimensions) when the ``[text]`` extra is installed, else from
:func:`hashed`, a deterministic hashing embedding (64 dimensions) that needs nothing.

>>> batch = Articles(seed=1).draw(3, shifted=False)
>>> len(batch.prompts), sorted(set(batch.model_names)) <= list(MODELS)
(3, True)
>>> hashed(["tea and cake"]).shape
(1, 64)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from sightline.profile import Column, Schema
from sightline.profile.generation import GENERATION_SCHEMA

MODEL = "article-writer"
VERSION = "1"
MODELS = ("writer-small", "writer-large")
EMBEDDING = "prompt_embedding"
SCHEMA = Schema((*GENERATION_SCHEMA.columns, Column(EMBEDDING, kind="embedding")))
#: Columns the topic shift moves (among others: every descriptor of the prompt moves too).
DRIFTED = ("output.oov_share", "output.length", EMBEDDING)
HASH_DIM = 64
ERROR_SHARE = 0.01  # failed generations
EMPTY_SHARE = 0.01  # empty outputs

_COMMON = ("the", "a", "and", "of", "to", "with", "is", "for", "in", "your", "it", "more")
_BEFORE = {
    "gardening": (
        "soil compost tomatoes seeds garden spring water roots leaves mulch "
        "sunlight pruning roses beds harvest herbs basil worms shade watering"
    ),
    "cooking": (
        "pasta sauce garlic onions oven bread butter salt simmer roast recipe "
        "kitchen flour dough spices lemon soup pepper olive dinner"
    ),
    "travel": (
        "train village coast hotel museum beach map mountains hiking ferry "
        "market café island journey luggage guide river castle sunset trip"
    ),
}
_AFTER = {
    "crypto markets": (
        "bitcoin ethereum blockchain token wallet exchange volatility halving "
        "stablecoin liquidity ledger mining defi staking altcoin regulators"
    ),
    "chips": (
        "semiconductor wafer transistor nanometre foundry lithography GPU "
        "datacenter silicon tariff supply fab yield memory bandwidth accelerator"
    ),
}
_SECTIONS = ("weekend", "lifestyle", "home", "readers")
#: Words made of four of these syllables (20,736 of them), 8 % of an article's words: names
#: and rare words, mostly unseen by the reference, so that ``output.oov_share`` is not 0 in
#: every reference row (a constant reference column gives its drift test one bin only).
_SYLLABLES = ("ka", "lo", "mi", "ren", "tu", "so", "vi", "da", "pel", "nor", "esh", "qua")
RARE_SHARE = 0.08


@dataclass(frozen=True)
class Batch:
    """Generations column-wise, as ``log_generations`` takes them."""

    prompts: list[str]
    outputs: list[str | None]  # None: a failed generation
    model_names: list[str]
    tokens_in: list[float]
    tokens_out: list[float]
    latency_s: list[float]
    first_token_s: list[float]
    errors: list[bool]


class Articles:
    """The generations one serving instance makes, in order (``seed`` sets them)."""

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def draw(self, n: int, *, shifted: bool) -> Batch:
        """The next ``n`` generations, after the topic shift when ``shifted``."""
        rng = self._rng
        topics = _AFTER if shifted else _BEFORE
        names = sorted(topics)
        prompts, outputs, models, t_in, t_out, latency, first = [], [], [], [], [], [], []
        errors = list(rng.random(n) < ERROR_SHARE)
        empty = rng.random(n) < EMPTY_SHARE
        for i in range(n):
            topic = names[int(rng.integers(len(names)))]
            words = topics[topic].split()
            subject = " ".join(rng.choice(words, 2, replace=False))
            section = _SECTIONS[int(rng.integers(len(_SECTIONS)))]
            prompt = f"Write a short article about {topic}: {subject}, for the {section} pages."
            large = bool(rng.random() < 0.4)
            low, high = (60, 110) if large else (30, 70)
            if shifted:
                low, high = low + 40, high + 60
            count = int(rng.integers(low, high))
            share = rng.random(count)
            picked = np.where(share < 0.35, rng.choice(_COMMON, count), rng.choice(words, count))
            rare = share > 1.0 - RARE_SHARE
            picked[rare] = ["".join(rng.choice(_SYLLABLES, 4)) for _ in range(int(rare.sum()))]
            text = "" if empty[i] else _sentences([str(w) for w in picked])
            tokens = round(1.3 * len(text.split())) if not errors[i] else 0
            ttft = float(rng.lognormal(np.log(0.35 if large else 0.15), 0.3))
            per_token = 0.025 if large else 0.01
            prompts.append(prompt)
            outputs.append(None if errors[i] else text)
            models.append(MODELS[int(large)])
            t_in.append(float(round(1.3 * len(prompt.split()))))
            t_out.append(float(tokens))
            first.append(ttft)
            latency.append(ttft + per_token * tokens * float(rng.uniform(0.8, 1.2)))
        failed = [bool(e) for e in errors]
        return Batch(prompts, outputs, models, t_in, t_out, latency, first, failed)


def _sentences(words: Sequence[str]) -> str:
    """Words as sentences of ten words, capitalized, each ending with a full stop."""
    parts = [" ".join(words[i : i + 10]) for i in range(0, len(words), 10)]
    return " ".join(p[:1].upper() + p[1:] + "." for p in parts)


def hashed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """A deterministic hashing embedding: each lower-cased word adds +1 or -1 (the sign and
    the dimension from its BLAKE2b digest) to one of :data:`HASH_DIM` dimensions; each row
    is L2-normalized (a text without words gives zeros)."""
    out = np.zeros((len(texts), HASH_DIM), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in text.lower().split():
            digest = hashlib.blake2b(word.strip(".,:;!?").encode(), digest_size=4).digest()
            value = int.from_bytes(digest, "little")
            out[i, value % HASH_DIM] += 1.0 if value & 1 << 31 else -1.0
        norm = float(np.linalg.norm(out[i]))
        if norm > 0:
            out[i] /= norm
    return out


Embed = Callable[[Sequence[str]], npt.NDArray[Any]]


def embedder() -> tuple[str, Embed]:
    """The prompt embedding in use and its name: the Embedder with the ``[text]`` extra,
    else :func:`hashed`."""
    try:
        from sightline.text import Embedder

        model = Embedder()
    except (ImportError, ValueError):  # InvalidInputError is a ValueError
        return f"hashing ({HASH_DIM} dimensions)", hashed
    return f"all-MiniLM-L6-v2 ({model.dim} dimensions)", model


def reference(embed: Embed, n: int = 1000, seed: int = 11) -> dict[str, Any]:
    """The reference of ``article-writer``: ``n`` generations before the shift, column-wise."""
    batch = Articles(seed).draw(n, shifted=False)
    return {
        "prompt": batch.prompts,
        "output": batch.outputs,
        "model_name": batch.model_names,
        "tokens_in": batch.tokens_in,
        "tokens_out": batch.tokens_out,
        "latency_s": batch.latency_s,
        "first_token_s": batch.first_token_s,
        "error": [float(e) for e in batch.errors],
        EMBEDDING: [list(map(float, v)) for v in embed(batch.prompts)],
    }


__all__ = [
    "DRIFTED",
    "EMBEDDING",
    "MODEL",
    "MODELS",
    "SCHEMA",
    "VERSION",
    "Articles",
    "Batch",
    "embedder",
    "hashed",
    "reference",
]
