"""The HTML report: content, escaping, offline use, chart data."""

from __future__ import annotations

import html
import json
import math
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from sightline.analysis.methods import ALL_METHODS
from sightline.analysis.rows import Distribution, MetricRow, Result
from sightline.report import html as report_html
from sightline.report import render_html, write_html

NaN = math.nan
DASH = "\N{EN DASH}"
EVIL_COLUMN = "<script>alert(1)</script>"
EVIL_LABEL = '"</script><b>x'
EVIL_TITLE = "Weekly <check> & review"
BH = "BH-adjusted p < 0.05"
JSON_BLOCK = re.compile(r'<script type="application/json" id="(chart-\d+)">(.*?)</script>', re.S)


def compare_result() -> Result:
    """One window: a drifted and a not-drifted column, one not computed, quality, performance."""
    drift = (
        MetricRow(metric="ks", value=0.42, column="age", alert=True, n_ref=1000, n_cur=800,
                  method=f"ks two-sample, {BH}", p_value=1e-9),
        MetricRow(metric="psi", value=0.05, column=EVIL_COLUMN, upper=0.2, n_ref=1000, n_cur=800,
                  method="psi on reference categories"),
        MetricRow(metric="jensen_shannon", value=NaN, column="income", upper=0.1,
                  method="not computed: current column is empty"),
        MetricRow(metric="drift_share", value=0.5, upper=0.3, alert=True),
        MetricRow(metric="drifted_columns", value=1.0, upper=2.0),
        MetricRow(metric="reconstruction_error", value=1.7, lower=0.8, upper=1.5, alert=True),
    )  # fmt: skip
    quality = (
        MetricRow(metric="missing_share", value=0.12, column="age", upper=0.05, alert=True),
        MetricRow(metric="missing_share", value=0.0, column=EVIL_COLUMN, upper=0.05),
        MetricRow(metric="unseen_share", value=0.02, column=EVIL_COLUMN, upper=0.1),
        MetricRow(metric="constant", value=1.0, column="income", upper=0.5, alert=True),
    )
    performance = (
        MetricRow(metric="accuracy", value=0.88, lower=0.85, n_cur=100),
        MetricRow(metric="f1", value=0.7, lower=0.75, alert=True, n_cur=100),
        MetricRow(metric="roc_auc", value=NaN, method="not computed: only one class in labels"),
        # As sightline.analysis emits them: confusion cells and label coverage name the target.
        MetricRow(metric="label_coverage", value=1.0, column="target", n_cur=100),
        MetricRow(metric="confusion[0,0]", value=50.0, column="target"),
        MetricRow(metric="confusion[0,1]", value=5.0, column="target"),
        MetricRow(metric="confusion[1,0]", value=7.0, column="target"),
        MetricRow(metric="confusion[1,1]", value=38.0, column="target"),
    )
    distributions = {
        "age": Distribution("age", "numeric", ("[0, 30)", "[30, 60)", "[60, inf)"),
                            (0.3, 0.5, 0.2), (0.1, 0.4, 0.5)),
        EVIL_COLUMN: Distribution(EVIL_COLUMN, "categorical", (EVIL_LABEL, "paris", "lyon"),
                                  (0.5, 0.5, 0.0), (0.25, 0.75, NaN)),
    }  # fmt: skip
    return Result(rows=drift + quality + performance, distributions=distributions, title=EVIL_TITLE)


WINDOW_STARTS = [datetime(2024, 5, d, tzinfo=UTC) for d in (1, 2, 3)]


def analyze_result() -> Result:
    """Three daily windows; rows deliberately not in window order."""
    rows = []
    psi, p_chi2, share, acc = (
        (0.05, 0.15, 0.3),
        (0.5, 0.2, 0.001),
        (0.0, 0.0, 1.0),
        (0.9, 0.86, 0.7),
    )
    for i in (2, 0, 1):
        w: dict[str, Any] = {
            "window_start": WINDOW_STARTS[i],
            "window_end": WINDOW_STARTS[i] + timedelta(days=1),
        }
        rows += [
            MetricRow(metric="psi", value=psi[i], column="age", upper=0.2, alert=psi[i] > 0.2,
                      method="psi", **w),
            MetricRow(metric="chi2", value=10.0 * (i + 1), column="city", p_value=p_chi2[i],
                      alert=p_chi2[i] < 0.05, method=f"chi2 test, {BH}", **w),
            MetricRow(metric="drift_share", value=share[i], upper=0.5, alert=share[i] > 0.5, **w),
            MetricRow(metric="accuracy", value=acc[i], lower=0.8, alert=acc[i] < 0.8, **w),
            MetricRow(metric="missing_share", value=0.01 * i, column="age", upper=0.015,
                      alert=0.01 * i > 0.015, **w),
        ]  # fmt: skip
    return Result(rows=tuple(rows), title="daily")


@pytest.fixture(scope="module")
def compare_page() -> str:
    return render_html(compare_result())


@pytest.fixture(scope="module")
def analyze_page() -> str:
    return render_html(analyze_result())


def charts(page: str) -> dict[str, Any]:
    """The chart specs keyed by ``kind:subject``, parsed strictly (NaN/Infinity rejected)."""

    def reject(name: str) -> None:
        raise ValueError(f"invalid JSON constant {name}")

    out = {}
    for _, text in JSON_BLOCK.findall(page):
        spec = json.loads(text, parse_constant=reject)
        out[f"{spec['about']['chart']}:{spec['about']['subject']}"] = spec
    return out


def without_plotly(page: str) -> str:
    start = page.index("<script>/**\n* plotly.js v")
    end = page.index("</script>", start)
    return page[:start] + page[end:]


class Tables(HTMLParser):
    """Cell texts of every table, by the id of the enclosing section; script texts."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.cell_classes: dict[str, list[list[str]]] = {}
        self.scripts: list[str] = []
        self._section = ""
        self._cell: list[str] | None = None
        self._in_script = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section":
            self._section = a.get("id") or ""
        elif tag == "table":
            key = self._section + ("/confusion" if "confusion" in (a.get("class") or "") else "")
            self._key = key
            self.tables[key], self.cell_classes[key] = [], []
        elif tag == "tr":
            self.tables[self._key].append([])
            self.cell_classes[self._key].append([])
        elif tag in ("td", "th"):
            self._cell = []
            self.cell_classes[self._key][-1].append(a.get("class") or "")
        elif tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._key][-1].append(" ".join(" ".join(self._cell).split()))
            self._cell = None
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        elif self._cell is not None:
            self._cell.append(data)


# --------------------------------------------------------------------------- content


def test_write_html_writes_the_page_with_verdict_and_columns(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "dir" / "report.html"
    got = write_html(compare_result(), target)
    assert got == target
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "Data set drifted" in page
    assert "50.0%" in page  # share of drifted columns
    assert "threshold 30.0%" in page
    assert '<div class="figure">1 of 2</div>' in page  # drifted of compared columns
    assert "1 more not computed" in page
    for column in ("age", "income", html.escape(EVIL_COLUMN)):
        assert f'">{column}</a></td>' in page


def test_result_to_html_writes_through_the_report(tmp_path: Path) -> None:
    out = compare_result().to_html(tmp_path / "r.html")
    assert out.read_text(encoding="utf-8") == render_html(compare_result())


def test_not_drifted_verdict_and_multivariate_summary() -> None:
    rows = (
        MetricRow(metric="wasserstein", value=0.01, column="x", upper=0.1),
        MetricRow(metric="drift_share", value=0.0, upper=0.5),
        MetricRow(metric="reconstruction_error", value=1.0, lower=0.8, upper=1.5),
    )
    page = render_html(Result(rows=rows))
    assert "Data set not drifted" in page
    assert "Data set drifted" not in page
    assert "expected band 0.8 \N{EN DASH} 1.5" in page


def test_drift_table_lists_every_column_with_threshold_and_verdict(compare_page: str) -> None:
    table = Tables(compare_page).tables["drift"]
    header, *rows = table
    assert header == ["column", "kind", "method", "statistic", "threshold", "p-value", "verdict",
                      "n ref", "n cur"]  # fmt: skip
    by_column = {r[0]: r for r in rows}
    assert by_column["age"][1:] == ["numeric", f"ks ks two-sample, {BH}", "0.42", "p < 0.05",
                                    "1e-09", "drift", "1000", "800"]  # fmt: skip
    assert by_column[EVIL_COLUMN][1:] == [
        "categorical", "psi psi on reference categories", "0.05", "0.2", "—", "no drift", "1000",
        "800",
    ]  # fmt: skip
    assert by_column["income"][2:7] == [
        "jensen_shannon current column is empty",
        "—",
        "—",
        "—",
        "not computed",
    ]


def test_sortable_cells_carry_numeric_sort_keys(compare_page: str) -> None:
    assert '<td class="num" data-sort="0.42">0.42</td>' in compare_page
    assert '<td class="num" data-sort="">—</td>' in compare_page  # NaN sorts last
    assert 'class="sortable"' in compare_page
    assert 'th data-type="number"' in compare_page


def test_per_column_sections_show_method_value_threshold(compare_page: str) -> None:
    assert compare_page.count('<article class="column"') == 3
    assert "No distribution was recorded for this column." in compare_page  # income
    assert '<dt>reason</dt><dd class="reason">current column is empty</dd>' in compare_page


def test_performance_table_and_confusion_matrix(compare_page: str) -> None:
    tables = Tables(compare_page)
    perf = {r[0]: r for r in tables.tables["performance"][1:]}
    assert perf["accuracy"][1:5] == ["0.88", "0.85", "—", "ok"]
    assert perf["f1"][4] == "alert"
    assert perf["roc_auc"][4:] == ["not computed", "0", "only one class in labels"]
    assert perf["label_coverage"][1] == "1"
    assert "confusion[0,0]" not in {r[0] for r in tables.tables["performance"]}
    assert "other" not in tables.tables  # every row found its section
    confusion = tables.tables["performance/confusion"]
    assert confusion == [["true \\ predicted", "0", "1"], ["0", "50", "5"], ["1", "7", "38"]]


def test_quality_table_highlights_alerts(compare_page: str) -> None:
    tables = Tables(compare_page)
    header, *rows = tables.tables["quality"]
    assert header == ["column", "missing", "unseen categories", "constant", "alerts"]
    assert {r[0]: r[1:] for r in rows} == {
        "age": ["12.0%", "—", "—", "1"],
        EVIL_COLUMN: ["0.0%", "2.0%", "—", "0"],
        "income": ["—", "—", "yes", "1"],
    }
    classes = {r[0]: c for r, c in zip(rows, tables.cell_classes["quality"][1:], strict=True)}
    assert classes["age"][1] == "num alert"
    assert classes[EVIL_COLUMN][1] == "num"
    assert "Data quality alerts" in compare_page


def test_every_drift_method_and_quality_check_lands_in_its_table() -> None:
    drift_rows = [MetricRow(metric=m, value=0.1, column=f"c-{m}") for m in sorted(ALL_METHODS)]
    checks = ["missing_share", "inf_share", "out_of_range_share", "unseen_share",
              "type_violation_share", "constant"]  # fmt: skip
    quality_rows = [MetricRow(metric=m, value=0.0, column="q") for m in checks]
    tables = Tables(render_html(Result(rows=(*drift_rows, *quality_rows))))
    assert [r[0] for r in tables.tables["drift"][1:]] == [f"c-{m}" for m in sorted(ALL_METHODS)]
    assert tables.tables["quality"][0] == ["column", "missing", "infinite", "out of range",
                                           "unseen categories", "type violations", "constant",
                                           "alerts"]  # fmt: skip


def test_html_module_exports_the_report_api() -> None:
    assert report_html.__all__ == ["json_for_script", "render_html", "write_html"]
    assert (report_html.render_html, report_html.write_html) == (render_html, write_html)


def test_empty_result_renders() -> None:
    page = render_html(Result(rows=()))
    assert "This result holds no metric rows." in page
    assert "No data set drift verdict in this result" in page
    assert JSON_BLOCK.findall(page) == []


# --------------------------------------------------------------------------- escaping and offline


def test_user_strings_appear_only_escaped(compare_page: str) -> None:
    for raw in (EVIL_COLUMN, EVIL_LABEL, EVIL_TITLE, "</script><b>"):
        assert raw not in compare_page
    assert html.escape(EVIL_COLUMN, quote=False) in compare_page
    assert "<title>Weekly &lt;check&gt; &amp; review</title>" in compare_page
    parsed = Tables(compare_page)
    # Only the two page scripts and the chart data blocks are <script> elements.
    assert len(parsed.scripts) == 2 + len(JSON_BLOCK.findall(compare_page))
    # The hostile name renders as text in the drift table.
    assert EVIL_COLUMN in [r[0] for r in parsed.tables["drift"]]


def test_user_strings_in_chart_json_are_escaped_and_round_trip(compare_page: str) -> None:
    for _, text in JSON_BLOCK.findall(compare_page):
        assert not set(text) & {"<", ">", "&"}
    spec = charts(compare_page)[f"distribution:{EVIL_COLUMN}"]
    # Plotly reads HTML in labels, so labels it draws are HTML-escaped before JSON encoding.
    assert spec["data"][0]["x"] == [html.escape(EVIL_LABEL, quote=False), "paris", "lyon"]


def test_page_loads_nothing_from_the_network(compare_page: str, analyze_page: str) -> None:
    for page in (compare_page, analyze_page):
        assert "* plotly.js v" in page  # the bundle is inlined
        own = without_plotly(page)
        for needle in ("http://", "https://", "<script src", "<link", "@import", "url(", "src="):
            assert needle not in own.lower()


def test_plotly_bundle_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    report_html._plotly_js.cache_clear()
    monkeypatch.setattr(report_html, "_plotly_bundle", lambda: None)
    try:
        with pytest.raises(ImportError, match=r"pip install 'sightline\[report\]'"):
            render_html(Result(rows=()))
    finally:
        report_html._plotly_js.cache_clear()


def test_inlined_bundle_cannot_close_its_script_element(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bundle = tmp_path / "plotly.min.js"
    bundle.write_text('var s = "</SCRIPT><!-- x";', encoding="utf-8")
    report_html._plotly_js.cache_clear()
    monkeypatch.setattr(report_html, "_plotly_bundle", lambda: bundle)
    try:
        assert str(report_html._plotly_js()) == 'var s = "<\\/SCRIPT><\\!-- x";'
    finally:
        report_html._plotly_js.cache_clear()


def test_json_for_script_writes_nan_as_null_and_escapes_markup() -> None:
    text = str(report_html.json_for_script({"a": [1.0, NaN, math.inf], "s": "</script>&\u2028"}))
    assert text == '{"a":[1.0,null,null],"s":"\\u003c/script\\u003e\\u0026\\u2028"}'
    assert json.loads(text) == {"a": [1.0, None, None], "s": "</script>&\u2028"}


# --------------------------------------------------------------------------- chart data


def test_distribution_charts_carry_the_shares(compare_page: str) -> None:
    specs = charts(compare_page)
    assert set(specs) == {"distribution:age", f"distribution:{EVIL_COLUMN}"}
    age = specs["distribution:age"]
    assert [t["name"] for t in age["data"]] == ["reference", "current"]
    assert age["data"][0]["x"] == ["[0, 30)", "[30, 60)", "[60, inf)"]
    assert age["data"][0]["y"] == [0.3, 0.5, 0.2]
    assert age["data"][1]["y"] == [0.1, 0.4, 0.5]
    assert age["layout"]["barmode"] == "group"
    # A NaN share becomes null, never the invalid JSON token NaN.
    assert specs[f"distribution:{EVIL_COLUMN}"]["data"][1]["y"] == [0.25, 0.75, None]


def test_analyze_result_charts_the_statistic_per_window(analyze_page: str) -> None:
    specs = charts(analyze_page)
    assert set(specs) == {"drift:age", "drift:city", "performance:accuracy"}
    dates = ["2024-05-01 00:00:00", "2024-05-02 00:00:00", "2024-05-03 00:00:00"]
    age = specs["drift:age"]
    statistic, threshold = age["data"]
    assert statistic["x"] == dates
    assert statistic["y"] == [0.05, 0.15, 0.3]
    assert statistic["marker"]["color"][2] != statistic["marker"]["color"][0]  # alert marked
    assert threshold["name"] == "threshold"
    assert threshold["y"] == [0.2, 0.2, 0.2]
    assert age["layout"]["xaxis"]["type"] == "date"
    city = {t["name"]: t for t in specs["drift:city"]["data"]}
    assert city["chi2"]["y"] == [10.0, 20.0, 30.0]
    assert city["adjusted p-value"]["y"] == [0.5, 0.2, 0.001]
    assert city["alpha"]["y"] == [0.05, 0.05, 0.05]
    accuracy = {t["name"]: t for t in specs["performance:accuracy"]["data"]}
    assert accuracy["accuracy"]["y"] == [0.9, 0.86, 0.7]
    assert accuracy["lower"]["y"] == [0.8, 0.8, 0.8]


def test_analyze_result_tables_show_the_latest_window(analyze_page: str) -> None:
    tables = Tables(analyze_page)
    header, *rows = tables.tables["drift"]
    assert "windows drifted" in header
    by_column = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    assert by_column["age"]["statistic"] == "0.3"
    assert by_column["age"]["windows drifted"] == "1 / 3"
    assert by_column["city"]["p-value"] == "0.001"
    assert "Data set drifted" in analyze_page
    assert (
        f"3 windows, from 2024-05-01 {DASH} 2024-05-02 to 2024-05-03 {DASH} 2024-05-04"
        in analyze_page
    )
    assert tables.tables["quality"][1] == ["age", "2.0%", "1"]


def test_size_based_windows_use_a_category_axis() -> None:
    rows = tuple(
        MetricRow(metric="ks", value=v, column="x", window_start=s, window_end=s + 100,
                  method=f"ks, {BH}", p_value=0.5)
        for s, v in ((100, 0.2), (0, 0.1))
    )  # fmt: skip
    spec = charts(render_html(Result(rows=rows)))["drift:x"]
    assert spec["layout"]["xaxis"]["type"] == "category"
    assert spec["data"][0]["x"] == [f"rows 0{DASH}100", f"rows 100{DASH}200"]
    assert spec["data"][0]["y"] == [0.1, 0.2]


# --------------------------------------------------------------------------- browser


def _chromium() -> str:
    """Debian's Chromium; a laptop without it skips, CI fails (.ci/run installs it and sets
    SIGHTLINE_REQUIRE_CHROMIUM=1)."""
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("SIGHTLINE_REQUIRE_CHROMIUM") == "1" or os.environ.get("CI") == "true":
            pytest.fail("Chromium is not installed; .ci/run should have installed it")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return path


def test_page_renders_in_chromium_without_console_errors(tmp_path: Path) -> None:
    target = write_html(compare_result(), tmp_path / "report.html")
    proc = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--disable-background-networking",
            "--window-size=1280,4000",  # charts are drawn when near the viewport...
            "--virtual-time-budget=300",  # ...by an IntersectionObserver callback after load
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            target.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    assert console == []
    assert proc.stdout.count('class="main-svg"') >= 2  # Plotly drew the charts
    assert proc.stdout.count('class="chart plotted') == 2
