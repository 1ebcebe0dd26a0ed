"""Debian's Chromium driven by Playwright, and a browser page for the dashboard's tests: it
records console errors, page errors and dialogs, logs in, and saves screenshots under
``tests/artifacts`` (git-ignored).

Without Chromium the tests skip with the reason, except when
``SIGHTLINE_REQUIRE_CHROMIUM=1`` (CI sets it), where they fail. Playwright never
downloads a browser here: it launches ``shutil.which("chromium")``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

#: Where the screenshots go; each test prints the path it wrote.
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


class Tab:
    """A browser page that records console errors, page errors and dialogs."""

    def __init__(self, page: Any, url: str) -> None:
        self.page = page
        self.url = url
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        def dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)

    def login(self, key: str) -> None:
        self.page.goto(f"{self.url}/login")
        self.page.fill("#key", key)
        self.page.click("button[type=submit]")

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path


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


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (Debian's), closed at the end."""
    path = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def new_tab(browser: Any, url: str, **options: Any) -> Iterator[Tab]:
    """A fresh browser context (no cookies) with one page on ``url``."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, **options)
    try:
        yield Tab(context.new_page(), url)
    finally:
        context.close()
