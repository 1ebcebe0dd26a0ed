"""A browser page for the dashboard's tests: it records console errors, page errors and
dialogs, logs in, and saves screenshots under ``tests/artifacts`` (git-ignored)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
