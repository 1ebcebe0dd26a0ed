"""A Result and a Profile in a notebook: ``_repr_html_`` shows the report's verdict and the
same tables as the HTML report, every name escaped, no script; ``repr`` is one short line."""

from __future__ import annotations

import sys
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import sightline
from sightline.profile import Column, Profile, Schema
from sightline.report import render_html
from sightline.report._format import format_number, format_share
from sightline.report._view import build

EVIL = "<script>alert(1)</script>"


class Tables(HTMLParser):
    """The cell texts of every table in document order, and the tags seen."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.tags: set[str] = set()
        self._cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def result() -> sightline.Result:
    """A real comparison: a drifted numeric column, a categorical one with a hostile name,
    a classifier's predictions and labels."""
    rng = np.random.default_rng(7)

    def frame(n: int, shift: float) -> pd.DataFrame:
        x = rng.normal(shift, 1.0, n)
        target = (x + rng.normal(0, 1, n) > shift).astype(int)
        return pd.DataFrame(
            {
                "age": x,
                EVIL: rng.choice(["a", "b", "<i>c</i>"], n),
                "prediction": (x > shift).astype(int),
                "target": target,
            }
        )

    return sightline.compare(
        frame(800, 0.0), frame(600, 1.0), prediction="prediction", target="target"
    )


def test_result_shows_the_reports_verdict_and_tables(result: sightline.Result) -> None:
    fragment = result._repr_html_()
    assert fragment is not None
    verdict = build(result).summary.verdict
    assert verdict in fragment
    page = Tables(render_html(result))
    shown = Tables(fragment)
    assert shown.tables == page.tables  # drift, performance, confusion, quality: the same
    assert len(shown.tables) >= 3
    drift_columns = {row[0] for row in shown.tables[0][1:]}
    assert {"age", EVIL} <= drift_columns
    # A fragment, not a page: nothing that would run or restyle the notebook around it.
    assert not shown.tags & {"html", "body", "script", "head"}
    assert EVIL not in fragment and "<i>c</i>" not in fragment
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fragment


def test_result_repr_is_one_short_line(result: sightline.Result) -> None:
    text = repr(result)
    columns = len({r.column for r in result.rows if r.column})
    alerts = sum(r.alert for r in result.rows)
    assert text == (
        f"Result({result.title!r}: {len(result.rows)} rows, {columns} columns, 1 window, "
        f"{alerts} alerting)"
    )
    assert "\n" not in text and len(text) < 120


def test_profile_shows_one_line_per_column() -> None:
    rng = np.random.default_rng(3)
    schema = Schema(
        (Column("age"), Column(EVIL, kind="categorical"), Column("y", role="prediction"))
    )
    age = rng.normal(40, 10, 500)
    age[:25] = np.nan
    city = rng.choice(["paris", "lyon", "<b>nice</b>"], 500, p=[0.6, 0.3, 0.1]).astype(object)
    profile = Profile.zero(schema, model="churn<1>", version="2").update(
        {"age": age, EVIL: city, "y": rng.uniform(size=500)}
    )
    fragment = profile._repr_html_()
    assert fragment is not None
    (table,) = Tables(fragment).tables
    header, *lines = table
    assert header[0] == "column" and len(lines) == 3
    by_name = {line[0]: dict(zip(header, line, strict=True)) for line in lines}
    assert set(by_name) == {"age", EVIL, "y"}
    assert by_name["age"]["mean"] == format_number(float(np.nanmean(age)))
    assert by_name["age"]["std"] == format_number(float(np.nanstd(age, ddof=1)))
    assert by_name["age"]["missing"] == format_share(25 / 500)
    assert by_name["age"]["rows"] == "500"
    assert by_name["y"]["role"] == "prediction"
    values, counts = np.unique(city.astype(str), return_counts=True)
    most = values[np.argmax(counts)]
    assert by_name[EVIL]["most frequent"].startswith(f"{most} ({counts.max()})")
    assert EVIL not in fragment and "<b>nice</b>" not in fragment and "churn<1>" not in fragment
    assert "churn&lt;1&gt;" in fragment


def test_without_jinja2_the_notebook_falls_back_to_the_text_repr(
    result: sightline.Result, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sightline.report.notebook", None)  # import fails
    schema = Schema((Column("x"),))
    assert result._repr_html_() is None
    assert Profile.zero(schema)._repr_html_() is None
