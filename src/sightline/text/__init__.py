"""sightline.text: turning texts into embedding vectors (the optional extra ``[text]``)."""

from __future__ import annotations

from sightline.text.embedder import Embedder

__all__ = ["Embedder"]
