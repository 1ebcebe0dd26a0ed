"""Layers import downward only, the SDK stays light, and the public API is explicit."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import sightline

SRC = Path(sightline.__file__).parent

# Lower number = lower layer. Shared modules (_types, errors, _validate) sit below everything.
LAYERS = {
    "_types": 0,
    "errors": 0,
    "_validate": 0,
    "_time": 0,
    "stats": 1,
    "profile": 2,
    "analysis": 3,
    "examples": 3,
    "text": 3,  # the optional Embedder, beside analysis (DESIGN.md: model-based tests)
    "sdk": 4,
    "client": 4,
    "integrations": 4,
    "store": 4,
    "alerts": 5,
    "scheduler": 5,
    "report": 5,
    "server": 6,
    "cli": 7,
    "demo": 7,
    "__main__": 8,
    "__init__": 8,
}
# Allowed upward edges, each a lazy import inside a function: Result.to_html and
# _repr_html_ render through the report layer; Profile.from_data reads data frames through
# the analysis layer and Profile._repr_html_ renders through the report layer.
ALLOWED = {
    ("analysis/rows.py", "report"),
    ("profile/dataset.py", "analysis"),
    ("profile/dataset.py", "report"),
}


def _layer_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "__init__"


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sightline"):
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("sightline")]
    return found


def test_imports_go_down_only() -> None:
    violations = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        own = rel.split("/")[0].removesuffix(".py")
        for module in _imports(path):
            target = _layer_of(module)
            if target == own or (rel, target) in ALLOWED:
                continue
            if LAYERS[target] > LAYERS[own]:
                violations.append(f"{rel} imports {module}")
    assert violations == []


# The text descriptors work on Arrow's UTF-8 buffers and string kernels (pyarrow is a core
# dependency); the SDK imports this module lazily, only for a text column.
STATS_USING_ARROW = {"text.py"}


def test_stats_is_pure() -> None:
    banned = {"pandas", "pyarrow", "polars", "sklearn", "httpx", "duckdb", "logging"}
    for path in (SRC / "stats").rglob("*.py"):
        banned_here = banned - {"pyarrow"} if path.name in STATS_USING_ARROW else banned
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module.split(".")[0]]
            assert not set(names) & banned_here, f"{path.name} imports {names}"


def test_import_sightline_is_cheap() -> None:
    code = (
        "import sightline, sys; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'fastapi', 'duckdb', 'sklearn', 'jinja2', 'plotly', 'rich', 'polars'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_match_all() -> None:
    assert sightline.__all__ == sorted(sightline.__all__)
    for name in sightline.__all__:
        assert getattr(sightline, name) is not None
    assert set(sightline.__all__) <= set(dir(sightline))


def test_profile_layer_imports_light() -> None:
    code = (
        "import sightline.profile, sys; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'scipy', 'pandas', 'pyarrow', 'polars', 'sklearn', 'jinja2', 'fastapi', 'duckdb'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_base_dependencies_stay_small() -> None:
    from importlib.metadata import requires

    base = {
        r.split(";")[0].split(">")[0].split("=")[0].split("<")[0].strip()
        for r in requires("sightline") or []
        if "extra ==" not in r
    }
    assert base == {"numpy", "scipy", "pandas", "pyarrow", "datasketches", "httpx"}


def test_sdk_imports_numpy_datasketches_and_httpx_only() -> None:
    def third_party(statement: str) -> set[str]:
        code = (
            f"import sys; {statement}; "
            "print(sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names)))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        return set(out.stdout.strip()[2:-2].split("', '"))

    allowed = third_party("import numpy, datasketches, httpx")
    assert third_party("import sightline.sdk") - allowed == {"sightline"}
