"""The one result shape: metric rows, and the :class:`Result` that carries them.

Every computation yields :class:`MetricRow` values with the fields of DESIGN.md. A row that
could not be computed has ``value = nan`` and ``method = "not computed: <reason>"``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
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
            "rows": [encode_row(r) for r in self.rows],
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

    def __repr__(self) -> str:
        """``Result('title': rows, columns, windows, alerts)``: a line, not every row."""
        columns = len({r.column for r in self.rows if r.column})
        windows = len({(r.window_start, r.window_end) for r in self.rows})
        alerts = sum(r.alert for r in self.rows)
        return (
            f"Result({self.title!r}: {len(self.rows)} rows, {columns} columns, "
            f"{windows} window{'' if windows == 1 else 's'}, {alerts} alerting)"
        )

    def _repr_html_(self) -> str | None:
        """The report's verdict and tables, inline in a notebook (None without jinja2,
        so the notebook shows the text ``repr`` instead)."""
        try:
            from sightline.report.notebook import result_html
        except ImportError:
            return None
        return result_html(self)


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


def encode_row(row: MetricRow) -> dict[str, Any]:
    """The one JSON shape of a metric row: DESIGN.md's fields in order, NaN as ``None``,
    window edges as ISO 8601 UTC with ``Z`` (or row offsets as integers).

    Every path that writes rows out (the library's JSON, the API, ``--out``/``--json``,
    ``/metrics``) calls this, and every path that reads them back calls :func:`decode_row`.

    >>> from datetime import UTC
    >>> row = MetricRow(metric="psi", value=0.3, column="age",
    ...                 window_start=datetime(2026, 1, 1, tzinfo=UTC))
    >>> encode_row(row)["window_start"], encode_row(row)["lower"]
    ('2026-01-01T00:00:00Z', None)
    >>> decode_row(encode_row(row)) == row
    True
    """
    return {name: _jsonable(getattr(row, name)) for name in ROW_FIELDS}


def decode_row(record: Mapping[str, Any]) -> MetricRow:
    """The :class:`MetricRow` of an :func:`encode_row` record (``None`` back to NaN, times
    back to aware UTC datetimes); unknown keys are refused by name.

    >>> decode_row({"metric": "accuracy", "value": None}).value
    nan
    """
    unknown = set(record) - set(ROW_FIELDS)
    if unknown:
        raise ValueError(f"not a metric row field: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = dict(record)
    for name in ("value", "lower", "upper", "p_value"):
        if name in values:
            values[name] = math.nan if values[name] is None else float(values[name])
    for name in ("window_start", "window_end"):
        if isinstance(values.get(name), str):
            values[name] = _utc(datetime.fromisoformat(values[name]))
    return MetricRow(**values)


def _utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (a naive one is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return _utc(value).isoformat().replace("+00:00", "Z")
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
    "decode_row",
    "encode_row",
]
