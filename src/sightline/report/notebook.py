"""What a notebook shows of a :class:`~sightline.analysis.rows.Result` or a
:class:`~sightline.profile.Profile`: an HTML fragment for Jupyter's ``_repr_html_``.

The fragment is not a page: no ``<html>``, no script, no chart, styles scoped to its own
``sightline-nb`` class so that the notebook around it keeps its own. A result shows the
report's verdict and its tables (drift, performance, confusion matrix, data quality, other
metrics) from the same view and the same table macros as the HTML report; a profile shows
one line per column. Every user-supplied name is escaped by Jinja2's autoescape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sightline.profile.column import CategoricalColumnProfile, NumericColumnProfile
from sightline.report._view import build
from sightline.report.html import _environment

if TYPE_CHECKING:
    from sightline.analysis.rows import Result
    from sightline.profile import Profile

_TOP = 3  # most frequent categories shown per categorical column


def result_html(result: Result) -> str:
    """The verdict and tables of ``result``, as an HTML fragment.

    Examples
    --------
    >>> from sightline.analysis.rows import MetricRow, Result
    >>> rows = (MetricRow(metric="psi", value=0.31, column="<b>age</b>", upper=0.2, alert=True),
    ...         MetricRow(metric="drift_share", value=1.0, upper=0.5, alert=True))
    >>> html = result_html(Result(rows=rows))
    >>> "Data set drifted" in html, "&lt;b&gt;age&lt;/b&gt;" in html, "<script" in html
    (True, True, False)
    """
    template = _environment().get_template("notebook.html")
    return template.render(report=build(result))


@dataclass(frozen=True, slots=True)
class ProfileLine:
    """One column of a profile, as the notebook table shows it."""

    name: str
    role: str
    kind: str
    count: int
    missing_share: float
    mean: float = math.nan
    std: float = math.nan
    min: float = math.nan
    max: float = math.nan
    distinct: float = math.nan
    top: str = ""


def profile_html(profile: Profile) -> str:
    """One line per column of ``profile`` (counts, moments, distinct values, the most
    frequent categories), as an HTML fragment.

    Examples
    --------
    >>> import numpy as np
    >>> from sightline.profile import Column, Profile, Schema
    >>> schema = Schema((Column("age"), Column("city", kind="categorical")))
    >>> p = Profile.zero(schema).update({"age": np.array([30.0, 40.0]),
    ...                                  "city": np.array(["<i>a</i>", "b"], dtype=object)})
    >>> html = profile_html(p)
    >>> "&lt;i&gt;a&lt;/i&gt;" in html, "<i>a</i>" in html
    (True, False)
    """
    roles = {c.name: c.role for c in profile.schema.columns}
    lines = [_line(roles.get(name, ""), column) for name, column in profile.columns.items()]
    template = _environment().get_template("notebook_profile.html")
    return template.render(profile=profile, lines=lines)


def _line(role: str, column: object) -> ProfileLine:
    if not isinstance(column, NumericColumnProfile | CategoricalColumnProfile):
        name, kind = str(getattr(column, "name", "")), str(getattr(column, "kind", ""))
        return ProfileLine(name, role, kind, 0, math.nan)
    counts = (column.name, role, column.kind, column.count, column.missing_share)
    if isinstance(column, CategoricalColumnProfile):
        top = ", ".join(f"{item} ({n})" for item, n, _, _ in column.frequent.top(_TOP))
        return ProfileLine(*counts, distinct=column.distinct, top=top)
    valid = column.n_valid > 0
    return ProfileLine(
        *counts,
        mean=column.mean,
        std=column.std,
        min=column.min if valid else math.nan,
        max=column.max if valid else math.nan,
        distinct=column.distinct,
    )
