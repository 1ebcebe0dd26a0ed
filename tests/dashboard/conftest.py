"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, and a collector
seeded with real rows (:mod:`seed`), shared by the tests of a module.

Without Chromium the tests skip with the reason, except when
``SIGHTLINE_REQUIRE_CHROMIUM=1`` (CI sets it), where they fail. Playwright never
downloads a browser here: it launches ``shutil.which("chromium")``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from dashboard.browser import Tab
from dashboard.seed import Seeded, seeded_collector


def _chromium() -> str:
    found = shutil.which("chromium")
    reason = "Debian's chromium is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        found, reason = None, "playwright is not installed (pip install -e '.[dev]')"
    if found is None:
        if os.environ.get("SIGHTLINE_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"Chromium is required here (SIGHTLINE_REQUIRE_CHROMIUM=1): {reason}")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium (Debian's), for the module."""
    path = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """One seeded collector for the module (seeding takes a few seconds)."""
    with seeded_collector(tmp_path_factory.mktemp("dashboard")) as found:
        yield found


@pytest.fixture
def tab(browser: Any, seeded: Seeded) -> Iterator[Tab]:
    """A fresh browser context (no cookies) on the seeded collector."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        yield Tab(context.new_page(), seeded.collector.url)
    finally:
        context.close()
