"""``sightline demo --fast``, ONE run for the whole module: within 90 s of its start the
collector shows, through ``sightline.Client``, the drift of exactly the injected columns of
``credit-scoring``, an estimated and a realized performance drop, firing alerts, the killed
instance leaving and coming back, and ``article-writer``'s generation health, descriptor
drift and embedding drift; then the dashboard in a real browser (Debian's Chromium) against
the same demo; last, Ctrl-C stops every process it started.

Screenshots of each page go to ``tests/artifacts`` (git-ignored); with
``SIGHTLINE_UPDATE_SCREENSHOTS=1`` the README's two are copied to ``docs/img``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

import sightline
from dashboard.browser import Tab, chromium, new_tab
from sightline.demo import articles
from sightline.demo.data import DRIFTED, FEATURES, MODEL

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc for the children"
)
DEADLINE = 90.0  # seconds after the demo's start
DURATION = 600.0  # an upper bound: the last test stops the demo with Ctrl-C
IMG_DIR = Path(__file__).resolve().parents[2] / "docs" / "img"
HOSTILE = "<img src=x onerror=alert(1)>"
TINY = "tiny"  # a model the tests register, with a hostile column name
MODEL_PAGE = f"/models/{MODEL}/versions/1"
WRITER_PAGE = f"/models/{articles.MODEL}/versions/1"


@dataclass
class Seen:
    """When (seconds after the demo's start) each thing was first seen, and the health."""

    drift: float | None = None
    drifted_then: tuple[str, ...] = ()
    estimated: float | None = None
    realized: float | None = None
    firing: float | None = None
    firing_rules: set[str] = field(default_factory=set)
    live: list[tuple[float, int]] = field(default_factory=list)  # (when, live_instances)
    writer_drift: float | None = None
    writer_health: dict[str, float] = field(default_factory=dict)

    def instance_came_back(self) -> bool:
        """live_instances was 3, then fewer, then 3 again."""
        text = "".join("3" if n == 3 else "-" for _, n in self.live)
        return "3-" in text and "-3" in text[text.index("3-") :]

    def complete(self) -> bool:
        parts = (self.drift, self.estimated, self.realized, self.firing, self.writer_drift)
        return all(p is not None for p in parts) and self.instance_came_back()


def _look(client: sightline.Client, seen: Seen, at: float) -> None:
    seen.live.append((round(at, 1), int(client.health(MODEL)["live_instances"])))
    rows = client.drift(MODEL).rows
    alerting = tuple(sorted(r.column for r in rows if r.column in FEATURES and r.alert))
    if seen.drift is None and alerting == tuple(sorted(DRIFTED)):
        seen.drift, seen.drifted_then = at, tuple(sorted(r.column for r in rows if r.column))
    metrics = client.metrics(MODEL, metric="estimated_accuracy").rows
    if seen.estimated is None and any(r.alert for r in metrics):
        seen.estimated = at
    accuracy = client.metrics(MODEL, metric="accuracy").rows
    if seen.realized is None and any(r.alert and r.n_cur for r in accuracy):
        seen.realized = at
    firing = client.alerts(state="firing", model=MODEL)
    if firing and seen.firing is None:
        seen.firing = at
    seen.firing_rules |= {a["rule"] for a in firing}
    writer = {r.column for r in client.drift(articles.MODEL).rows if r.alert}
    embedded = client.metrics(articles.MODEL, metric="embedding_drift").rows
    if embedded and embedded[-1].alert:
        writer.add(articles.EMBEDDING)
    if seen.writer_drift is None and set(articles.DRIFTED) <= writer:
        seen.writer_drift = at
    for metric in ("generations", "models_loaded", "tokens_out_per_s", "first_token_p95_ms"):
        found = client.metrics(articles.MODEL, metric=metric).rows
        if found and found[-1].value is not None:
            seen.writer_health[metric] = found[-1].value


def _tiny_model(url: str, admin: str) -> None:
    """Register ``tiny`` (a column named like an HTML tag) and log one window of rows."""
    rng = np.random.default_rng(3)
    with sightline.Client(url, api_key=admin, timeout_s=10) as client:
        reference = {HOSTILE: rng.normal(size=500).tolist(), "x": rng.normal(size=500).tolist()}
        client.register(TINY, "1", reference=reference)
        client.settings(TINY, window="5s", lateness="1s")
        ingest = str(client.keys.create("ingest")["key"])
    with sightline.Monitor(TINY, "1", url=url, api_key=ingest, window=5) as monitor:
        for a, b in zip(rng.normal(size=300), rng.normal(size=300), strict=True):
            monitor.log({HOSTILE: float(a), "x": float(b)})


@dataclass
class Live:
    """The running demo and what the tests need of it."""

    demo: Any  # conftest.DemoProcess
    seen: Seen
    url: str
    admin: str
    read: str


@pytest.fixture(scope="module")
def live(start_demo, tmp_path_factory) -> Live:  # type: ignore[no-untyped-def]
    data = tmp_path_factory.mktemp("demo") / "data"
    demo = start_demo("--fast", "--duration", str(DURATION), "--data", str(data))
    url = demo.wait_for(r"^dashboard: (http://127\.0\.0\.1:\d+)/$").group(1)
    admin = demo.wait_for(r"^admin key: (sl_\S+)$").group(1)
    read = demo.wait_for(r"^read key: (sl_\S+)$").group(1)
    seen = Seen()
    with sightline.Client(url, api_key=admin, timeout_s=10) as client:
        demo.wait_for(rf"^registered {articles.MODEL} ", timeout=90)
        _tiny_model(url, admin)
        while not seen.complete() and demo.elapsed() < DEADLINE:
            _look(client, seen, demo.elapsed())
            time.sleep(1.0)
    print(f"seen (s after the start): {seen}")  # in the report of a failing test, and with -s
    return Live(demo, seen, url, admin, read)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def tab(browser: Any, live: Live) -> Iterator[Tab]:
    with new_tab(browser, live.url) as found:
        yield found


def _no_errors(tab: Tab) -> None:
    assert tab.errors == [], tab.errors
    assert tab.dialogs == [], tab.dialogs


# --- through sightline.Client ---------------------------------------------------------------


def test_prints_the_dashboard_and_an_admin_key(live: Live) -> None:
    assert live.demo.wait_for(r"^dashboard: http://127\.0\.0\.1:\d+/$")
    assert live.demo.wait_for(r"^admin key: sl_[0-9a-f]{16}_\S+$")


def test_the_injected_columns_drift_and_no_others(live: Live) -> None:
    seen = live.seen
    assert seen.drift is not None and seen.drift <= DEADLINE, live.demo.output()
    assert set(FEATURES) - set(DRIFTED) <= set(seen.drifted_then)  # they had rows, quiet


def test_the_estimated_performance_drops(live: Live) -> None:
    seen = live.seen
    assert seen.estimated is not None and seen.estimated <= DEADLINE, live.demo.output()


def test_the_realized_performance_drops_once_labels_arrive(live: Live) -> None:
    seen = live.seen
    assert seen.realized is not None and seen.realized <= DEADLINE, live.demo.output()


def test_an_alert_fires(live: Live) -> None:
    seen = live.seen
    assert seen.firing is not None and seen.firing <= DEADLINE, live.demo.output()
    assert {"column_drift", "estimated_accuracy_drop", "realized_accuracy_drop"} <= (
        seen.firing_rules
    )
    assert any(line.startswith("alert firing: column_drift") for line in live.demo.lines)


def test_the_killed_instance_leaves_and_comes_back(live: Live) -> None:
    assert live.seen.instance_came_back(), (live.seen.live, live.demo.output())


def test_the_article_writer_shows_its_health_and_its_topic_shift(live: Live) -> None:
    seen = live.seen
    assert seen.writer_drift is not None and seen.writer_drift <= DEADLINE, live.demo.output()
    health = seen.writer_health
    assert health["models_loaded"] == 2.0 and health["generations"] > 0, health
    assert health["tokens_out_per_s"] > 0 and health["first_token_p95_ms"] > 100, health
    assert any(f"] {articles.MODEL}: live 1, " in line for line in live.demo.lines)


def test_the_alert_history_lists_each_transition(live: Live) -> None:
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {live.read}"}) as c:
        moves = c.get("/api/v1/alerts/history", params={"model": MODEL}).json()["transitions"]
        current = c.get("/api/v1/alerts", params={"model": MODEL}).json()["alerts"]
    assert moves and all(m["model"] == MODEL for m in moves)
    assert [m["at"] for m in moves] == sorted((m["at"] for m in moves), reverse=True)
    by_alert: dict[str, list[str]] = {}
    for m in reversed(moves):  # oldest first
        by_alert.setdefault(m["fingerprint"], []).append(m["state"])
    for a in current:  # each alert's newest transition is its state
        assert by_alert[a["fingerprint"]][-1] == a["state"], (a, by_alert[a["fingerprint"]])
    firing = [m for m in moves if m["state"] == "firing"]
    assert firing and all(m["evidence"] for m in firing)
    assert any("drifted" in m["summary"] for m in firing)


# --- in the browser ---------------------------------------------------------------------------


def test_a_page_without_a_session_redirects_to_the_login(tab: Tab) -> None:
    for path in ("/", "/alerts", MODEL_PAGE, f"{MODEL_PAGE}/column?name=age"):
        tab.page.goto(tab.url + path)
        assert tab.page.url.startswith(f"{tab.url}/login?next="), path
        assert tab.page.locator("#key").get_attribute("type") == "password"
    response = httpx.get(f"{tab.url}/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2F"
    tab.shot("login")
    _no_errors(tab)


def test_the_login_refuses_a_wrong_key_and_an_ingest_key(tab: Tab, live: Live) -> None:
    tab.login("sl_wrong_key")
    assert tab.page.locator("#login-error").inner_text() == "Unknown or revoked key."
    tab.shot("login-refused")
    with sightline.Client(live.url, api_key=live.admin) as client:
        ingest = str(client.keys.create("ingest")["key"])
    tab.login(ingest)
    assert "cannot read" in tab.page.locator("#login-error").inner_text()
    assert tab.page.context.cookies() == []
    tab.errors = [e for e in tab.errors if "401" not in e]  # the refused POSTs themselves
    _no_errors(tab)


def _next_refresh(tab: Tab) -> None:
    """Wait until the overview refreshes itself (its "updated" time moves)."""
    before = tab.page.locator("#updated").inner_text()
    tab.page.wait_for_function(
        "t => document.getElementById('updated').textContent !== t", arg=before, timeout=15000
    )


def test_a_read_key_lists_both_services(tab: Tab, live: Live) -> None:
    tab.login(live.read)
    assert tab.page.url == f"{tab.url}/"
    (cookie,) = tab.page.context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert live.read not in cookie["value"]
    rows = tab.page.locator("#overview tbody tr")
    rows.first.wait_for()
    assert [r.get_attribute("data-model") for r in rows.all()] == sorted(
        [MODEL, articles.MODEL, TINY]
    )
    credit = tab.page.locator(f"#overview tbody tr[data-model='{MODEL}']")
    listed = (credit.locator("td.drifted").get_attribute("title") or "").split(", ")
    assert set(listed) & set(FEATURES) == set(DRIFTED), listed
    writer = tab.page.locator(f"#overview tbody tr[data-model='{articles.MODEL}']")
    listed = (writer.locator("td.drifted").get_attribute("title") or "").split(", ")
    assert {"output.oov_share", articles.EMBEDDING} <= set(listed), listed
    # Sorting by a header (with the keyboard) reverses the order of the models.
    tab.page.locator("#overview thead button[data-sort='model']").focus()
    tab.page.keyboard.press("Enter")
    assert rows.first.get_attribute("data-model") == TINY
    # It refreshes itself: the "updated" time moves without a reload.
    _next_refresh(tab)
    tab.shot("overview")
    _no_errors(tab)


def _heatmap_marks(tab: Tab) -> set[str]:
    marked = tab.page.evaluate(
        "() => { const g = document.getElementById('chart-heatmap');"
        " const names = g.layout.yaxis.ticktext; return g.data[1].y.map(i => names[i]); }"
    )
    return set(marked)


def test_the_heatmap_marks_the_drifted_columns_and_not_the_others(tab: Tab, live: Live) -> None:
    tab.login(live.read)
    tab.page.goto(tab.url + MODEL_PAGE)
    tab.page.locator(".ranges button[data-range='1h']").click()
    links = tab.page.locator("#column-links a")
    links.first.wait_for()
    tab.page.locator("#chart-heatmap .main-svg").first.wait_for()
    shown = {a.get_attribute("data-column") for a in links.all()}
    assert set(FEATURES) <= shown
    drifted = {
        a.get_attribute("data-column") for a in tab.page.locator("#column-links a.drifted").all()
    }
    assert drifted & set(FEATURES) == set(DRIFTED)
    marks = _heatmap_marks(tab)
    assert marks & set(FEATURES) == set(DRIFTED)
    for chart in ("throughput", "latency", "errors", "performance"):
        assert tab.page.locator(f"#chart-{chart} .main-svg").count() > 0, chart
    traces = tab.page.evaluate(
        "() => document.getElementById('chart-performance').data.map(t => t.name)"
    )
    assert {"realized accuracy", "estimated accuracy", "label coverage"} <= set(traces)
    tab.page.locator("#alerts td.state-firing").first.wait_for()
    tab.page.locator("#history td.state-firing").first.wait_for()
    assert tab.page.locator("#generation").is_hidden()  # not a generative service
    assert tab.page.locator("#throughput-unit").inner_text() == "predictions/s"
    tab.shot("model")
    _no_errors(tab)


def test_the_article_writer_page_shows_its_generation_health_and_drift(
    tab: Tab, live: Live
) -> None:
    tab.login(live.read)
    tab.page.goto(tab.url + WRITER_PAGE)
    tab.page.locator(".ranges button[data-range='1h']").click()
    table = tab.page.locator("#generation-table")
    table.locator("td[data-metric='models_loaded']").wait_for()
    assert table.locator("td[data-metric='models_loaded']").inner_text() == "2"
    for metric in (
        "generations",
        "tokens_out_per_s",
        "first_token_p50_ms",
        "first_token_p95_ms",
        "latency_per_output_token_ms",
        "error_rate",
        "empty_output_rate",
    ):
        assert table.locator(f"td[data-metric='{metric}']").inner_text() != "\u2013", metric
    assert tab.page.locator("#throughput-unit").inner_text() == "generations/s"
    tab.page.locator("#chart-heatmap .main-svg").first.wait_for()
    tab.page.locator("#column-links a.drifted").first.wait_for()
    drifted = {
        a.get_attribute("data-column") for a in tab.page.locator("#column-links a.drifted").all()
    }
    assert {"output.oov_share", "output.length", articles.EMBEDDING} <= drifted, drifted
    assert {"output.oov_share", articles.EMBEDDING} <= _heatmap_marks(tab)
    quality = {r.inner_text() for r in tab.page.locator("#quality tbody td:first-child").all()}
    assert {"tokens_out", "latency_s", "model_name"} <= quality, quality
    tab.shot("model-article-writer")
    tab.page.locator("#column-links a[data-column='output.oov_share']").click()
    chart = tab.page.locator("#chart-distribution")
    chart.locator(".main-svg").first.wait_for()
    assert chart.get_attribute("data-traces") == "reference,window"
    tab.shot("column-output-oov-share")
    _no_errors(tab)


def test_clicking_a_column_opens_both_distributions(tab: Tab, live: Live) -> None:
    tab.login(live.read)
    tab.page.goto(tab.url + MODEL_PAGE)
    tab.page.locator("#chart-heatmap .main-svg").first.wait_for()
    # The cell of credit_score's row in the newest bucket, where plotly draws it, beside
    # the cell's drifted mark (a click on the mark is the marks' trace's, not the cell's).
    tab.page.locator("#chart-heatmap").scroll_into_view_if_needed()
    where = tab.page.evaluate(
        "() => { const g = document.getElementById('chart-heatmap'); const L = g._fullLayout;"
        " const row = L.yaxis.ticktext.indexOf('credit_score');"
        " const r = g.getBoundingClientRect();"
        " const n = g.data[0].x.length; const beside = 0.3 * L.xaxis._length / n;"
        " const x = L.xaxis._offset + L.xaxis.l2p(n - 1) + beside;"
        " return [r.left + x, r.top + L.yaxis._offset + L.yaxis.l2p(row)]; }"
    )
    tab.page.mouse.click(where[0], where[1])
    tab.page.wait_for_url(re.compile(r".*/column\?name=credit_score.*"))
    chart = tab.page.locator("#chart-distribution")
    chart.locator(".main-svg").first.wait_for()
    assert chart.get_attribute("data-traces") == "reference,window"
    tab.page.locator("#chart-statistic .main-svg").first.wait_for()
    tab.page.locator("#counts tbody tr").nth(3).wait_for()
    assert tab.page.locator("#counts tbody tr").count() == 4
    tab.shot("column")
    _no_errors(tab)


def test_a_hostile_column_name_is_text(tab: Tab, live: Live) -> None:
    tab.login(live.read)
    tab.page.goto(tab.url + f"/models/{TINY}/versions/1")
    link = tab.page.locator("#column-links a", has_text="<img")
    link.wait_for(timeout=30000)
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


def test_the_alerts_are_firing_with_their_history(tab: Tab, live: Live) -> None:
    tab.login(live.admin)
    tab.page.goto(tab.url + "/alerts")
    firing = tab.page.locator("#alerts tbody tr[data-state='firing']")
    firing.first.wait_for()
    texts = [r.inner_text() for r in firing.all()]
    assert any("column_drift" in t and "credit_score" in t for t in texts), texts
    history = tab.page.locator("#history tbody tr[data-state='firing']")
    history.first.wait_for()
    assert any("credit_score drifted" in r.inner_text() for r in history.all())
    tab.shot("alerts")
    drift = tab.page.locator("#alerts tbody tr[data-state='firing']", has_text="credit_score")
    drift.first.locator("button", has_text="Silence").click()
    tab.page.locator("#alerts tbody span", has_text="silenced until").wait_for()
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {live.admin}"}) as c:
        silences = c.get("/api/v1/silences").json()["silences"]
    assert [s["matchers"].get("column") for s in silences] == ["credit_score"]
    _no_errors(tab)


def test_every_answer_has_the_content_security_policy(tab: Tab, live: Live) -> None:
    tab.login(live.read)
    for path in ("/", MODEL_PAGE, "/alerts", "/static/app.css"):
        response = tab.page.goto(tab.url + path)
        assert response is not None
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    login = httpx.get(f"{tab.url}/login")
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
    assert "<script>" not in login.text and "onclick" not in login.text
    _no_errors(tab)


def test_dark_theme_by_preference_and_by_the_toggle(browser: Any, live: Live) -> None:
    with new_tab(browser, live.url, color_scheme="dark") as tab:
        tab.login(live.read)
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


def test_the_screenshots_of_the_readme(tab: Tab, live: Live) -> None:
    """The overview and model page screenshots of README.md: saved as artifacts, and
    copied to docs/img with ``SIGHTLINE_UPDATE_SCREENSHOTS=1`` (a run must not change
    the checkout)."""
    tab.login(live.read)
    tab.page.locator("#overview tbody tr").first.wait_for()
    tab.page.set_viewport_size({"width": 1800, "height": 300})
    # Right after a refresh, the tests' own model leaves the picture: a user's demo has the
    # two services only.
    _next_refresh(tab)
    tab.page.evaluate(f"() => document.querySelector(\"tr[data-model='{TINY}']\").remove()")
    overview = tab.shot("readme-overview")
    tab.page.set_viewport_size({"width": 1400, "height": 900})
    tab.page.goto(tab.url + MODEL_PAGE)
    tab.page.locator(".ranges button[data-range='1h']").click()
    tab.page.wait_for_function(
        "() => { const g = document.getElementById('chart-heatmap');"
        " return g.data && g.data[0].x.length >= 2; }"
    )
    tab.page.locator("#alerts td.state-firing").first.wait_for()
    model = tab.shot("readme-model")
    assert overview.stat().st_size > 10_000 and model.stat().st_size > 10_000
    if os.environ.get("SIGHTLINE_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(overview, IMG_DIR / "dashboard-overview.png")
        shutil.copy(model, IMG_DIR / "dashboard-model.png")
    _no_errors(tab)


# --- last: stopping -------------------------------------------------------------------------


def test_ctrl_c_stops_it_and_leaves_no_process(live: Live) -> None:
    demo = live.demo
    demo.proc.send_signal(signal.SIGINT)
    assert demo.finish(timeout=60) == 0, demo.output()
    # the collector, three instances, one restart, the article-writer
    assert len(demo.pids()) == 6, demo.output()
    assert demo.left_running(timeout=0) == []
    assert demo.lines[-1] == "stopped: every process of the demo ended"
