"""Records on stdout as a rich table, JSON or CSV (``--format`` of the collector verbs)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

FORMATS = ("table", "json", "csv")
_PIPE_WIDTH = 160


def add_format(p: argparse.ArgumentParser) -> None:
    """Add ``--format table|json|csv``."""
    p.add_argument("--format", choices=FORMATS, default="table", help="output (default table)")


def emit(
    records: Sequence[Mapping[str, Any]],
    fmt: str,
    title: str = "",
    table: Sequence[str] | None = None,
) -> None:
    """Print ``records`` (JSON-ready mappings with the same keys) in ``fmt``; a table
    shows only the keys ``table`` names (default all), JSON and CSV always all.

    >>> emit([{"model": "churn", "version": "1"}], "csv")
    model,version
    churn,1
    >>> emit([{"a": None}], "json")
    [{"a": null}]
    """
    if fmt == "json":
        print(json.dumps(list(records), allow_nan=False))
        return
    names = list(records[0]) if records else []
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([_cell(r[n]) for n in names] for r in records)
        return
    from rich.console import Console
    from rich.table import Table

    shown = list(table) if table is not None else names
    grid = Table(title=title or None)
    for name in shown:
        grid.add_column(name)
    for r in records:
        grid.add_row(*(_cell(r[n]) for n in shown))
    # Piped, rich would wrap at 80 columns; a terminal gets its own width.
    console = Console() if sys.stdout.isatty() else Console(width=_PIPE_WIDTH)
    console.print(grid if records else f"{title}: nothing found")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)
