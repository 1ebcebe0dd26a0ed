"""The one result shape: metric rows, and the :class:`Result` that carries them.

Every computation yields :class:`MetricRow` values with the fields of DESIGN.md. A row that
could not be computed has ``value = nan`` and ``method = "not computed: <reason>"``.

Window edges of a :class:`MetricRow` are aware UTC datetimes everywhere (a naive edge is
taken to be UTC and made aware when the row is built), or row offsets for size-based chunks.

The one codec of the row lives here too: :func:`encode_row` / :func:`decode_row` (JSON),
:func:`rows_to_arrow` / :func:`rows_from_arrow` (Arrow, hence Parquet), and
:func:`write_rows` / :func:`read_rows` (files). The store, the API, the CLI's JSON,
``backfill --out``, ``report --json`` and ``/metrics`` all go through them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sightline._types import ColumnKind
from sightline._validate import finite_or_none
from sightline.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

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

    def __post_init__(self) -> None:
        _normalize_edges(self)

    @property
    def is_computed(self) -> bool:
        """False when the row stands for a statistic that could not be computed."""
        return not self.method.startswith(NOT_COMPUTED)


#: DESIGN.md's fields of the metric row, in order.
ROW_FIELDS: tuple[str, ...] = (
    "model",
    "version",
    "window_start",
    "window_end",
    "column",
    "metric",
    "value",
    "lower",
    "upper",
    "alert",
    "n_ref",
    "n_cur",
    "method",
    "p_value",
)
_FLOATS = ("value", "lower", "upper", "p_value")
_ROW_VALUES = attrgetter(*ROW_FIELDS)
#: The fields that name a series (its labels in ``/metrics``).
SERIES_FIELDS: tuple[str, ...] = ("model", "version", "column", "metric")


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

    def __post_init__(self) -> None:
        _normalize_edges(self)  # once here, so each of its rows finds its edges aware UTC

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
    return {  # written out, not looped over ROW_FIELDS: the API encodes 43,200 rows a series
        "model": row.model,
        "version": row.version,
        "window_start": _edge_text(row.window_start),
        "window_end": _edge_text(row.window_end),
        "column": row.column,
        "metric": row.metric,
        "value": finite_or_none(row.value),
        "lower": finite_or_none(row.lower),
        "upper": finite_or_none(row.upper),
        "alert": row.alert,
        "n_ref": row.n_ref,
        "n_cur": row.n_cur,
        "method": row.method,
        "p_value": finite_or_none(row.p_value),
    }


def _edge_text(edge: WindowEdge) -> str | int | None:
    """An edge in JSON: ISO 8601 with ``Z`` (MetricRow made it aware UTC), or an offset."""
    if isinstance(edge, datetime):
        return edge.isoformat().replace("+00:00", "Z")
    return edge


def row_from_values(values: Sequence[Any]) -> MetricRow:
    """The :class:`MetricRow` of values in :data:`ROW_FIELDS` order, ``None`` as NaN for the
    float fields: how the store reads its rows back.

    >>> row_from_values(["m", "1", None, None, "", "accuracy", 0.9, None, None, False,
    ...                  10, 10, "", None]).lower
    nan
    """
    (model, version, start, end, column, metric) = values[:6]
    (value, lower, upper, alert, n_ref, n_cur, method, p_value) = values[6:]
    return MetricRow(
        metric=metric,
        value=math.nan if value is None else value,
        column=column,
        model=model,
        version=version,
        window_start=start,
        window_end=end,
        lower=math.nan if lower is None else lower,
        upper=math.nan if upper is None else upper,
        alert=alert,
        n_ref=n_ref,
        n_cur=n_cur,
        method=method,
        p_value=math.nan if p_value is None else p_value,
    )


def decode_row(record: Mapping[str, Any]) -> MetricRow:
    """The :class:`MetricRow` of an :func:`encode_row` record (``None`` back to NaN, times
    back to aware UTC datetimes); unknown keys are refused by name.

    >>> decode_row({"metric": "accuracy", "value": None}).value
    nan
    """
    unknown = set(record) - set(ROW_FIELDS)
    if unknown:
        names = ", ".join(sorted(unknown))
        raise InvalidInputError(f"not a metric row field: {names}", field=min(unknown))
    values: dict[str, Any] = dict(record)
    for name in ("value", "lower", "upper", "p_value"):
        if name in values:
            values[name] = math.nan if values[name] is None else float(values[name])
    for name in ("window_start", "window_end"):
        if isinstance(values.get(name), str):
            values[name] = _utc(datetime.fromisoformat(values[name]))
    return MetricRow(**values)


def rows_to_arrow(rows: Sequence[MetricRow]) -> pa.Table:
    """The rows as an Arrow table: DESIGN.md's columns in order, NaN as null, window edges
    as ``timestamp[us, UTC]`` (or ``int64`` row offsets).

    >>> rows_to_arrow([MetricRow(metric="psi", value=math.nan)]).column("value").null_count
    1
    """
    import pyarrow as pa

    fields = list(zip(*map(_ROW_VALUES, rows), strict=True)) or [()] * len(ROW_FIELDS)
    columns = dict(zip(ROW_FIELDS, fields, strict=True))
    edges = (*columns["window_start"], *columns["window_end"])
    offsets = any(isinstance(e, int) for e in edges)
    edge_type = pa.int64() if offsets else pa.timestamp("us", tz="UTC")
    types = {"window_start": edge_type, "window_end": edge_type, "alert": pa.bool_()}
    types |= {"n_ref": pa.int64(), "n_cur": pa.int64()}
    return pa.table(
        {
            name: _float_array(values)
            if name in _FLOATS
            else _array(values, types.get(name, pa.string()))
            for name, values in columns.items()
        }
    )


def _array(values: Sequence[Any], type_: pa.DataType) -> pa.Array:
    """An Arrow array of ``values``; one value repeated (the model, version and window of
    one context's rows) is converted once."""
    import pyarrow as pa

    if values and all(v is values[0] for v in values):
        return pa.repeat(pa.scalar(values[0], type_), len(values))
    return pa.array(values, type_)


def _float_array(values: Sequence[float | None]) -> pa.Array:
    """A ``float64`` Arrow array of ``values``, null where one is missing, NaN or infinite
    (as :func:`~sightline._validate.finite_or_none` makes them in JSON)."""
    import pyarrow as pa

    numbers = np.array(values, dtype=np.float64)
    return pa.array(numbers, pa.float64(), mask=~np.isfinite(numbers))


def rows_from_arrow(table: pa.Table) -> list[MetricRow]:
    """The :class:`MetricRow` values of a :func:`rows_to_arrow` table (null back to NaN).

    >>> rows_from_arrow(rows_to_arrow([MetricRow(metric="psi", value=0.5)]))[0].value
    0.5
    """
    return [decode_row(record) for record in table.to_pylist()]


def write_rows(rows: Sequence[MetricRow], path: str | Path) -> Path:
    """Write rows to ``path``: ``.json`` as ``{"rows": [encode_row(...)]}`` (the API's
    shape), ``.parquet`` as :func:`rows_to_arrow`; any other suffix is refused.

    >>> import tempfile
    >>> out = write_rows([MetricRow(metric="psi", value=0.5)], Path(tempfile.mkdtemp()) / "r.json")
    >>> read_rows(out)[0].metric
    'psi'
    """
    path = Path(path)
    if rows_format(path) == "json":
        text = json.dumps({"rows": [encode_row(r) for r in rows]}, indent=1, allow_nan=False)
        path.write_text(text, encoding="utf-8")
    else:
        import pyarrow.parquet as pq

        pq.write_table(rows_to_arrow(rows), path)
    return path


def rows_format(path: str | Path, field: str = "out") -> str:
    """``"json"`` or ``"parquet"``, the format of a rows file by its suffix; anything else is
    refused naming ``field`` (check it before computing, so nothing is written in vain).

    >>> rows_format("rows.parquet")
    'parquet'
    """
    suffix = Path(path).suffix
    if suffix == ".json":
        return "json"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise InvalidInputError(f"{field} must end in .json or .parquet, got {path}", field=field)


def read_rows(path: str | Path) -> list[MetricRow]:
    """The rows of a :func:`write_rows` file."""
    path = Path(path)
    if rows_format(path, "path") == "json":
        return [decode_row(r) for r in json.loads(path.read_text(encoding="utf-8"))["rows"]]
    import pyarrow.parquet as pq

    return rows_from_arrow(pq.read_table(path))


def _normalize_edges(obj: MetricRow | RowContext) -> None:
    """Make the window edges of a (frozen) row or context aware UTC, in place."""
    start, end = obj.window_start, obj.window_end
    if isinstance(start, datetime) and start.tzinfo is not UTC:
        object.__setattr__(obj, "window_start", _utc(start))
    if isinstance(end, datetime) and end.tzinfo is not UTC:
        object.__setattr__(obj, "window_end", _utc(end))


def _utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (a naive one is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return finite_or_none(value)
    if isinstance(value, datetime):
        return _utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


__all__ = [
    "NOT_COMPUTED",
    "ROW_FIELDS",
    "SERIES_FIELDS",
    "Distribution",
    "MetricRow",
    "Result",
    "RowContext",
    "WindowEdge",
    "decode_row",
    "encode_row",
    "read_rows",
    "row_from_values",
    "rows_format",
    "rows_from_arrow",
    "rows_to_arrow",
    "write_rows",
]
