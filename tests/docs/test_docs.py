"""The docs name only what exists: every ``sightline ...`` command of the README and
``docs/`` parses with the CLI (its verbs and its options), every ``/api/v1`` path (and
every method and path of the collector's table) is a route of the OpenAPI document, and
every link of the README points to a file of the repository."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from sightline.cli.main import build_parser
from sightline.server.app import create_app
from sightline.store import open_store

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_SPAN = re.compile(r"`(sightline [^`]+)`")
_ROUTE = re.compile(
    r"`((?:GET|PUT|POST|DELETE)(?:, (?:GET|PUT|POST|DELETE))*) (/[^`\s?]*)(?:\?[^`\s]*)?`"
)


def _commands(text: str) -> list[str]:
    """Commands of inline code spans, and lines of code blocks (of any language)."""
    found, fence = [], None
    for line in text.splitlines():
        if line.startswith("```"):
            fence = None if fence is not None else line[3:].strip()
            continue
        if fence is None:
            found += [m.group(1) for m in _SPAN.finditer(line)]
            continue
        for part in re.split(r"&&|\|\|", line.split("#", 1)[0]):
            if part.strip().startswith("sightline "):
                found.append(part.strip().rstrip("&").strip())
    return found


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings}


def _check(command: str) -> list[str]:
    """What of ``command`` the CLI does not have (an empty list when it all exists)."""
    tokens = [t.strip("[]()") for t in command.split()[1:]]
    parser, problems = build_parser(), []
    for _ in range(2):  # a verb, and a verb of the verb
        verbs = _subparsers(parser)
        if not verbs:
            break
        words = [t for t in tokens if t and not t.startswith("-")]
        if not words:
            problems.append(f"{command!r} names no verb")
            return problems
        wanted = words[0].split("|")
        for verb in wanted:
            if verb not in verbs:
                problems.append(f"{command!r}: no verb {verb!r}")
        if problems:
            return problems
        parser = verbs[wanted[0]]
        tokens = tokens[tokens.index(words[0]) + 1 :]
    allowed = _options(parser) | {"--debug", "-h", "--help"}
    for token in tokens:
        for option in token.split("|"):
            flag = option.split("=", 1)[0]
            if flag.startswith("--") and flag not in allowed:
                problems.append(f"{command!r}: no option {flag}")
    return problems


def test_the_pages_name_commands() -> None:
    assert len([c for p in PAGES for c in _commands(p.read_text(encoding="utf-8"))]) > 40


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_command_exists(page: Path) -> None:
    problems = [p for c in _commands(page.read_text(encoding="utf-8")) for p in _check(c)]
    assert problems == []


def test_the_check_finds_what_does_not_exist() -> None:
    assert _check("sightline dashboard") == ["'sightline dashboard': no verb 'dashboard'"]
    assert _check("sightline keys rotate") == ["'sightline keys rotate': no verb 'rotate'"]
    assert _check("sightline serve --tls") == ["'sightline serve --tls': no option --tls"]
    assert _check("sightline models list|register --format json") == []


def _routes() -> tuple[set[tuple[str, str]], set[str]]:
    store = open_store(":memory:")
    try:
        app = create_app(store)
        doc = app.openapi()
        plain = {getattr(r, "path", "") for r in app.routes}
    finally:
        store.close()
    norm = {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for path, ops in doc["paths"].items()
        for method in ops
    }
    return norm, plain


def test_every_api_path_exists_in_the_openapi_document() -> None:
    routes, plain = _routes()
    paths = {p for _, p in routes}
    problems, seen = [], 0
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for path in re.findall(r"/api/v1(/[A-Za-z0-9_{}/.-]*)", text):
            seen += 1
            if re.sub(r"\{[^}]+\}", "{}", f"/api/v1{path}".rstrip("/.")) not in paths:
                problems.append(f"{page.name}: /api/v1{path}")
        for methods, path in _ROUTE.findall(text):
            seen += 1
            full = f"/api/v1{path}" if path.startswith(("/models", "/keys")) else path
            for method in methods.split(", "):
                if full.startswith("/api/v1"):
                    if (method, re.sub(r"\{[^}]+\}", "{}", full)) not in routes:
                        problems.append(f"{page.name}: {method} {full}")
                elif full not in plain:
                    problems.append(f"{page.name}: {method} {full}")
    assert seen > 20 and problems == []


def test_the_readme_links_only_to_files_of_the_repository() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#]+)\)", text)
    assert links and all(not link.startswith(("..", "/", "http")) for link in links), links
    assert [link for link in links if not (ROOT / link).exists()] == []
    assert "../shared" not in text


def test_the_collector_page_promises_nothing_that_does_not_exist() -> None:
    text = (ROOT / "docs" / "collector.md").read_text(encoding="utf-8").lower()
    assert "dashboard" not in text and "alert rule" not in text
