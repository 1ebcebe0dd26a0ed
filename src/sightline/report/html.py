"""Self-contained HTML report of a :class:`~sightline.analysis.rows.Result`.

The page is one file that works offline: Plotly's JavaScript bundle, read from the installed
``plotly`` package, is inlined, and nothing is loaded from elsewhere (no CDN, fonts or style
sheets). Chart data travel as JSON in ``<script type="application/json">`` blocks, with ``<``,
``>`` and ``&`` written as ``\\u003c`` and so on, read by one small inline script that calls
``Plotly.newPlot``. Every user-supplied string (title, column, model, metric, method, category
label) is escaped: by Jinja2's autoescape in the HTML, by the JSON encoder in the data blocks,
and, for strings Plotly draws, also HTML-escaped first, since Plotly reads a subset of HTML in
its labels.

The page has a summary (data set verdict, multivariate drift, alert counts), a sortable drift
table with one line per column, one section per column (reference vs current shares for one
window, the statistic per window for several), performance (with the confusion matrix) and
data quality. Verdicts of a result with several windows are those of the latest window.

This module renders; :mod:`~sightline.report._view` decides what the page shows,
:mod:`~sightline.report._charts` draws it and :mod:`~sightline.report._escape` escapes it.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

try:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined
    from markupsafe import Markup
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "the HTML report needs jinja2; install it with `pip install 'sightline[report]'`"
    ) from exc

from sightline.analysis.rows import Result
from sightline.report._escape import json_for_script
from sightline.report._format import format_number, format_p_value, format_share, sort_key
from sightline.report._view import build, method_text

_TEMPLATES = Path(__file__).parent / "templates"


# --------------------------------------------------------------------------- public API


def render_html(result: Result) -> str:
    """Render ``result`` as one self-contained HTML page (Plotly inlined, works offline).

    Parameters
    ----------
    result
        What :func:`sightline.compare` (one window) or :func:`sightline.analyze` (several
        windows) returned.

    Returns
    -------
    str
        The page. It loads nothing from the network.

    Examples
    --------
    >>> from sightline.analysis.rows import MetricRow, Result
    >>> rows = (
    ...     MetricRow(metric="psi", value=0.31, column="age", upper=0.2, alert=True),
    ...     MetricRow(metric="drift_share", value=1.0, upper=0.5, alert=True),
    ... )
    >>> page = render_html(Result(rows=rows, title="weekly check"))
    >>> page.startswith("<!DOCTYPE html>"), "Data set drifted" in page, "age" in page
    (True, True, True)
    """
    report = build(result)
    return _environment().get_template("report.html").render(report=report, plotly_js=_plotly_js())


def write_html(result: Result, path: Path | str) -> Path:
    """Write :func:`render_html` of ``result`` to ``path`` as UTF-8 and return the path.

    Parent directories are created. The page is rendered before the file is opened, so a
    rendering error leaves no partial file.

    Examples
    --------
    >>> import tempfile
    >>> from sightline.analysis.rows import MetricRow, Result
    >>> out = Path(tempfile.mkdtemp()) / "reports" / "drift.html"
    >>> write_html(Result(rows=(MetricRow(metric="ks", value=0.1, column="x"),)), out).is_file()
    True
    """
    target = Path(path)
    text = render_html(result)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


# --------------------------------------------------------------------------- environment


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        num=format_number,
        pval=format_p_value,
        share=format_share,
        sortkey=sort_key,
        reason=method_text,
    )
    return env


def _plotly_bundle() -> Path | None:
    """Where the installed ``plotly`` package keeps ``plotly.min.js`` (without importing it)."""
    spec = importlib.util.find_spec("plotly")
    locations = spec.submodule_search_locations if spec is not None else None
    for location in locations or ():
        bundle = Path(location) / "package_data" / "plotly.min.js"
        if bundle.is_file():
            return bundle
    return None


@functools.cache
def _plotly_js() -> Markup:
    """Plotly's minified bundle from the installed ``plotly`` package, safe to inline."""
    bundle = _plotly_bundle()
    if bundle is None:
        raise ImportError(
            "the HTML report inlines plotly's JavaScript bundle (plotly/package_data/"
            "plotly.min.js), which was not found; install it with "
            "`pip install 'sightline[report]'`"
        )
    text = bundle.read_text(encoding="utf-8")
    # Neither occurs in the bundle today; either would end or confuse the <script> element.
    text = re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)
    return Markup(text.replace("<!--", "<\\!--"))


__all__ = ["json_for_script", "render_html", "write_html"]
