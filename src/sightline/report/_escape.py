"""Escaping of user strings for the page's data blocks and for the labels Plotly draws.

Chart data travel as JSON inside ``<script type="application/json">`` elements
(:func:`json_for_script`); strings that Plotly draws are HTML-escaped first
(:func:`plot_text`), since Plotly reads a subset of HTML in its labels.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import TypeAlias

from markupsafe import Markup

from sightline._validate import finite_or_none

Json: TypeAlias = bool | int | float | str | Sequence["Json"] | Mapping[str, "Json"] | None

_JSON_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def json_for_script(data: Json) -> Markup:
    """``data`` as JSON safe to place inside a ``<script>`` element.

    Non-finite floats become ``null``; ``<``, ``>``, ``&`` and the two JavaScript line
    separators are written as JSON unicode escapes (``<`` as ``\\u003c``), so no string
    can close the element or open a comment, and ``JSON.parse`` gives back the original
    strings.

    Examples
    --------
    >>> str(json_for_script({"label": "</script>", "x": float("nan")}))
    '{"label":"\\\\u003c/script\\\\u003e","x":null}'
    """
    text = json.dumps(_finite(data), allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _JSON_ESCAPES:
        text = text.replace(raw, escaped)
    return Markup(text)


def _finite(data: Json) -> Json:
    if isinstance(data, float):
        return finite_or_none(data)
    if isinstance(data, str):
        return data
    if isinstance(data, Mapping):
        return {str(k): _finite(v) for k, v in data.items()}
    if isinstance(data, Sequence):
        return [_finite(v) for v in data]
    return data


def plot_text(text: str) -> str:
    """A user string for Plotly to draw: Plotly reads tags such as ``<b>`` in labels."""
    return html.escape(text, quote=False)


__all__ = ["Json", "json_for_script", "plot_text"]
