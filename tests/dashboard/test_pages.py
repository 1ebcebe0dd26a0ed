"""The dashboard in a real browser (Debian's Chromium) against a seeded collector."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import httpx

from dashboard.browser import Tab
from dashboard.seed import CREDIT, DRIFTED, FRAUD, HOSTILE, SCHEMA, Seeded

IMG_DIR = Path(__file__).resolve().parents[2] / "docs" / "img"
MODEL_PAGE = f"/models/{CREDIT}/versions/1"


def _no_errors(tab: Tab) -> None:
    assert tab.errors == [], tab.errors
    assert tab.dialogs == [], tab.dialogs


def test_a_page_without_a_session_redirects_to_the_login(tab: Tab) -> None:
    for path in ("/", "/alerts", MODEL_PAGE, f"{MODEL_PAGE}/column?name=age"):
        tab.page.goto(tab.url + path)
        assert tab.page.url.startswith(f"{tab.url}/login?next="), path
        assert tab.page.locator("#key").get_attribute("type") == "password"
    response = httpx.get(f"{tab.url}/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2F"
    _no_errors(tab)


def test_the_login_refuses_a_wrong_key_and_an_ingest_key(tab: Tab, seeded: Seeded) -> None:
    tab.login("sl_wrong_key")
    assert tab.page.locator("#login-error").inner_text() == "Unknown or revoked key."
    tab.shot("login-refused")
    tab.login(seeded.ingest_key)
    assert "cannot read" in tab.page.locator("#login-error").inner_text()
    assert tab.page.context.cookies() == []
    tab.errors = [e for e in tab.errors if "401" not in e]  # the refused POST itself
    _no_errors(tab)


def test_a_read_key_lists_the_services_with_drift_and_alerts(tab: Tab, seeded: Seeded) -> None:
    tab.login(seeded.read_key)
    assert tab.page.url == f"{tab.url}/"
    (cookie,) = tab.page.context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert seeded.read_key not in cookie["value"]
    rows = tab.page.locator("#overview tbody tr")
    rows.first.wait_for()
    assert [r.get_attribute("data-model") for r in rows.all()] == [CREDIT, FRAUD]
    credit = tab.page.locator(f"#overview tbody tr[data-model='{CREDIT}']")
    assert DRIFTED in credit.locator("td.drifted").inner_text()
    assert "bad" in (credit.locator("td").nth(14).get_attribute("class") or "")  # firing
    fraud = tab.page.locator(f"#overview tbody tr[data-model='{FRAUD}']")
    assert fraud.locator("td").nth(11).inner_text() == "0"
    # Sorting by a header (with the keyboard) puts the other model first.
    tab.page.locator("#overview thead button[data-sort='model']").focus()
    tab.page.keyboard.press("Enter")
    assert rows.first.get_attribute("data-model") == FRAUD
    # It refreshes itself: the "updated" time moves without a reload.
    before = tab.page.locator("#updated").inner_text()
    tab.page.wait_for_function(
        "t => document.getElementById('updated').textContent !== t", arg=before, timeout=15000
    )
    tab.shot("overview")
    _no_errors(tab)


def test_the_heatmap_marks_the_drifted_columns_only(tab: Tab, seeded: Seeded) -> None:
    tab.login(seeded.read_key)
    tab.page.goto(tab.url + MODEL_PAGE)
    links = tab.page.locator("#column-links a")
    links.first.wait_for()
    features = [
        c.name for c in SCHEMA.columns if c.role in ("feature", "prediction", "probability")
    ]
    assert sorted(a.get_attribute("data-column") for a in links.all()) == sorted(features)
    drifted = [
        a.get_attribute("data-column") for a in tab.page.locator("#column-links a.drifted").all()
    ]
    assert drifted == [DRIFTED]
    marked = tab.page.evaluate(
        "() => { const g = document.getElementById('chart-heatmap');"
        " const names = g.layout.yaxis.ticktext; return g.data[1].y.map(i => names[i]); }"
    )
    assert set(marked) == {DRIFTED}
    for chart in ("throughput", "latency", "errors", "performance"):
        assert tab.page.locator(f"#chart-{chart} .main-svg").count() > 0, chart
    traces = tab.page.evaluate(
        "() => document.getElementById('chart-performance').data.map(t => t.name)"
    )
    assert {"realized accuracy", "estimated accuracy", "label coverage"} <= set(traces)
    tab.page.locator("#alerts td.state-firing").first.wait_for()
    tab.page.locator(".ranges button[data-range='1h']").click()
    tab.page.wait_for_function("() => document.getElementById('range-text').textContent")
    tab.shot("model")
    _no_errors(tab)


def test_clicking_a_column_opens_both_distributions(tab: Tab, seeded: Seeded) -> None:
    tab.login(seeded.read_key)
    tab.page.goto(tab.url + MODEL_PAGE)
    tab.page.locator("#chart-heatmap .main-svg").first.wait_for()
    box = tab.page.locator("#chart-heatmap .nsewdrag").first.bounding_box()
    assert box is not None
    # The first row of the heatmap is the first column of the schema: income, drifted.
    tab.page.mouse.click(box["x"] + box["width"] - 5, box["y"] + 5)
    tab.page.wait_for_url(re.compile(r".*/column\?name=income.*"))
    chart = tab.page.locator("#chart-distribution")
    chart.locator(".main-svg").first.wait_for()
    assert chart.get_attribute("data-traces") == "reference,window"
    # the statistic and the counts are drawn from their own requests: wait for them
    tab.page.locator("#chart-statistic .main-svg").first.wait_for()
    tab.page.locator("#counts tbody tr").nth(3).wait_for()
    assert tab.page.locator("#counts tbody tr").count() == 4
    tab.shot("column")
    _no_errors(tab)


def test_a_hostile_column_name_is_text(tab: Tab, seeded: Seeded) -> None:
    tab.login(seeded.read_key)
    tab.page.goto(tab.url + MODEL_PAGE)
    link = tab.page.locator("#column-links a", has_text="<img")
    link.wait_for()
    assert link.inner_text() == HOSTILE
    assert tab.page.locator("img").count() == 0
    link.click()
    tab.page.locator("#column-name").wait_for()
    assert tab.page.locator("#column-name").inner_text() == HOSTILE
    tab.page.locator("#chart-distribution .main-svg").first.wait_for()
    assert tab.page.locator("img").count() == 0
    assert tab.page.title().startswith(HOSTILE)
    tab.shot("column-hostile")
    _no_errors(tab)


def test_the_alert_is_firing_on_the_alerts_page(tab: Tab, seeded: Seeded) -> None:
    tab.login(seeded.collector.admin_key)
    tab.page.goto(tab.url + "/alerts")
    firing = tab.page.locator("#alerts tbody tr[data-state='firing']")
    firing.first.wait_for()
    assert firing.count() == 1
    assert "column: income" in firing.first.inner_text()
    tab.shot("alerts")
    firing.first.locator("button", has_text="Silence").click()
    tab.page.locator("#alerts tbody span", has_text="silenced until").wait_for()
    silences = seeded.collector.client().get("/api/v1/silences").json()["silences"]
    assert [s["matchers"]["column"] for s in silences] == [DRIFTED]
    _no_errors(tab)


def test_every_answer_has_the_content_security_policy(tab: Tab, seeded: Seeded) -> None:
    tab.login(seeded.read_key)
    for path in ("/", MODEL_PAGE, "/alerts", "/static/app.css"):
        response = tab.page.goto(tab.url + path)
        assert response is not None
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    login = httpx.get(f"{tab.url}/login")
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
    assert "<script>" not in login.text and "onclick" not in login.text
    _no_errors(tab)


def test_the_screenshots_of_the_readme(tab: Tab, seeded: Seeded) -> None:
    """The overview and model page screenshots of README.md: saved as artifacts, and
    copied to docs/img with ``SIGHTLINE_UPDATE_SCREENSHOTS=1`` (a run must not change
    the checkout)."""
    tab.login(seeded.read_key)
    tab.page.locator("#overview tbody tr").first.wait_for()
    tab.page.set_viewport_size({"width": 1400, "height": 300})
    overview = tab.shot("readme-overview")
    tab.page.set_viewport_size({"width": 1400, "height": 900})
    tab.page.goto(tab.url + MODEL_PAGE)
    tab.page.locator("#chart-heatmap .main-svg").first.wait_for()
    tab.page.locator(".ranges button[data-range='1h']").click()  # the seeded 10 minutes
    tab.page.wait_for_function(
        "() => document.getElementById('chart-heatmap').data[0].x.length > 4"
    )
    tab.page.locator("#alerts td.state-firing").first.wait_for()
    model = tab.shot("readme-model")
    assert overview.stat().st_size > 10_000 and model.stat().st_size > 10_000
    if os.environ.get("SIGHTLINE_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(overview, IMG_DIR / "dashboard-overview.png")
        shutil.copy(model, IMG_DIR / "dashboard-model.png")
    _no_errors(tab)


def test_dark_theme_by_preference_and_by_the_toggle(browser: Any, seeded: Seeded) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme="dark")
    try:
        tab = Tab(context.new_page(), seeded.collector.url)
        tab.login(seeded.read_key)
        tab.page.goto(tab.url + MODEL_PAGE)
        tab.page.locator("#chart-heatmap .main-svg").first.wait_for()
        background = "() => getComputedStyle(document.body).backgroundColor"
        assert tab.page.evaluate(background) == "rgb(18, 22, 28)"
        tab.shot("model-dark")
        tab.page.locator("#theme-toggle").press("Enter")
        assert tab.page.evaluate(background) == "rgb(255, 255, 255)"
        tab.page.reload()  # the choice is kept
        assert tab.page.evaluate(background) == "rgb(255, 255, 255)"
        _no_errors(tab)
    finally:
        context.close()
