"""sightline.report: render a :class:`~sightline.analysis.rows.Result` for people.

:func:`render_html` returns one self-contained HTML page (Plotly inlined, works offline);
:func:`write_html` writes it to a file. ``Result.to_html(path)`` calls :func:`write_html`.
"""

from __future__ import annotations

from sightline.report.html import render_html, write_html

__all__ = ["render_html", "write_html"]
