"""The one result shape: metric rows, and the :class:`Result` that carries them.

Every computation yields :class:`MetricRow` values with the fields of DESIGN.md. A row that
could not be computed has ``value = nan`` and ``method = "not computed: <reason>"``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sightline._types import ColumnKind

if TYPE_CHECKING:
    import pandas as pd

#: A window edge: a UTC timestamp for time windows, a row offset for size-based chunks.
WindowEdge = datetime | int | None

NOT_COMPUTED = "not computed: "


@dataclass(frozen=True, slots=True)
class MetricRow:
    """One number about one column (or the whole model) in one window.

    Examples
    --------
    >>> row = MetricRow(column="age", metric="psi", value=0.31, upper=0.2, alert=True)
    >>> row.is_computed, row.column
    (True, 'age')
    """

    metric: str
    value: float
    column: str = ""
    model: str = ""
    version: str = ""
    window_start: WindowEdge = None
    window_end: WindowEdge = None
    lower: float = math.nan
    upper: float = math.nan
    alert: bool = False
    n_ref: int = 0
    n_cur: int = 0
    method: str = ""
    p_value: float = math.nan

    @property
    def is_computed(self) -> bool:
        """False when the row stands for a statistic that could not be computed."""
        return not self.method.startswith(NOT_COMPUTED)


ROW_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(MetricRow))


@dataclass(frozen=True, slots=True)
class Distribution:
    """Reference and current shares per bin or category of one column, for charts.

    ``labels`` names the bins (``"[0.5, 1.2)"``) or categories; the shares sum to 1 over
    the non-missing values of each side.
    """

    column: str
    kind: ColumnKind
    labels: tuple[str, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Result:
    """What :func:`sightline.compare` and :func:`sightline.analyze` return.

    Examples
    --------
    >>> r = Result(rows=(MetricRow(metric="drift_share", value=0.2),))
    >>> r.to_dict()["rows"][0]["metric"]
    'drift_share'
    """

    rows: tuple[MetricRow, ...]
    distributions: Mapping[str, Distribution] = field(default_factory=dict)
    title: str = "sightline report"

    @property
    def table(self) -> pd.DataFrame:
        """The metric rows as a pandas DataFrame, one row each, columns in DESIGN.md order."""
        import pandas as pd

        return pd.DataFrame([asdict(r) for r in self.rows], columns=list(ROW_FIELDS))

    def select(self, *, metric: str | None = None, column: str | None = None) -> list[MetricRow]:
        """Rows matching the given metric and/or column."""
        return [
            r
            for r in self.rows
            if (metric is None or r.metric == metric) and (column is None or r.column == column)
        ]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: ``{"title", "rows": [...], "distributions": {...}}``.

        NaN becomes ``None`` and window edges become ISO strings or integers.
        """
        return {
            "title": self.title,
            "rows": [{k: _jsonable(v) for k, v in asdict(r).items()} for r in self.rows],
            "distributions": {
                name: {k: _jsonable(v) for k, v in asdict(d).items()}
                for name, d in self.distributions.items()
            },
        }

    def to_json(self, path: str | Path | None = None, *, indent: int | None = None) -> str:
        """The :meth:`to_dict` data as JSON text; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_html(self, path: str | Path) -> Path:
        """Write a self-contained HTML report (works offline) and return its path."""
        # Rendering is the report layer's job; imported here lazily (the one upward import).
        from sightline.report.html import write_html

        return write_html(self, Path(path))


@dataclass(frozen=True, slots=True)
class RowContext:
    """Model, version and window stamped on every row of one computation.

    Examples
    --------
    >>> RowContext(model="churn").row("psi", 0.2, column="age").model
    'churn'
    """

    model: str = ""
    version: str = ""
    window_start: WindowEdge = None
    window_end: WindowEdge = None

    def row(self, metric: str, value: float, **fields: Any) -> MetricRow:
        """A metric row with this context's model, version and window."""
        return MetricRow(
            metric=metric,
            value=float(value),
            model=self.model,
            version=self.version,
            window_start=self.window_start,
            window_end=self.window_end,
            **fields,
        )

    def not_computed(self, metric: str, reason: str, **fields: Any) -> MetricRow:
        """A row for a statistic that could not be computed, with the reason."""
        return self.row(metric, math.nan, method=NOT_COMPUTED + reason, **fields)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


__all__ = [
    "NOT_COMPUTED",
    "ROW_FIELDS",
    "Distribution",
    "MetricRow",
    "Result",
    "RowContext",
    "WindowEdge",
]
