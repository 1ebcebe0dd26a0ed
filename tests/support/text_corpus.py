"""Real text that ships with Python: the paragraphs of ``pydoc_data.topics``."""

from __future__ import annotations

import pydoc_data.topics
from functools import cache


@cache
def paragraphs(min_words: int = 5) -> list[str]:
    """Every paragraph of the help topics with at least ``min_words`` words, in topic order."""
    return [
        p.strip()
        for text in pydoc_data.topics.topics.values()
        for p in text.split("\n\n")
        if len(p.split()) >= min_words
    ]


def topic_split(size: int) -> tuple[list[str], list[str]]:
    """``size`` paragraphs of the first topics (alphabetically) and ``size`` of the last:
    a shift of topic."""
    texts = paragraphs()
    return texts[:size], texts[-size:]
