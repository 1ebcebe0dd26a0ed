"""``analyze(reference, data, chunk_size=... | chunk_period=...)``: the rows of every window."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sightline._time import parse_duration, window_edges, window_numbers
from sightline.analysis.columns import SchemaOptions, is_time_column
from sightline.analysis.compare import Engine, Progress
from sightline.analysis.frames import DataLike, to_table
from sightline.analysis.methods import DriftOptions
from sightline.analysis.rows import Result, RowContext, WindowEdge
from sightline.errors import InvalidInputError, SchemaError
from sightline.profile.schema import Schema

#: Number of windows when neither ``chunk_size`` nor ``chunk_period`` is given.
DEFAULT_CHUNKS = 10


def parse_period(period: str) -> int:
    """Seconds in a period such as ``"1h"``, ``"15min"``, ``"5m"``, ``"1D"`` or ``"W"``
    (the one duration grammar of :func:`sightline._time.parse_duration`).

    Examples
    --------
    >>> parse_period("15min"), parse_period("1D"), parse_period("W")
    (900, 86400, 604800)
    """
    return parse_duration(period, field="chunk_period")


def size_windows(n_rows: int, chunk_size: int) -> Iterator[tuple[int, int]]:
    """Consecutive ``[start, end)`` row ranges; the last, shorter one is kept.

    Examples
    --------
    >>> list(size_windows(7, 3))
    [(0, 3), (3, 6), (6, 7)]
    """
    for start in range(0, n_rows, chunk_size):
        yield start, min(start + chunk_size, n_rows)


def period_windows(
    table: pa.Table, column: str, seconds: int
) -> list[tuple[datetime, datetime, pa.Array]]:
    """Epoch-aligned time windows: ``(start, end, row indices)`` for every non-empty window."""
    if not is_time_column(table, column):
        raise SchemaError(
            f"column {column!r} must hold timestamps to chunk by period", field=column
        )
    micros = pc.cast(pc.cast(table.column(column), pa.timestamp("us")), pa.int64())
    valid = np.asarray(pc.is_valid(micros).to_numpy(zero_copy_only=False), dtype=bool)
    values = pc.fill_null(micros, 0).to_numpy(zero_copy_only=False)
    starts = window_numbers(values, seconds)
    out = []
    for w in np.unique(starts[valid]):
        idx = np.flatnonzero(valid & (starts == w))
        out.append((*window_edges(int(w), seconds), pa.array(idx)))
    return out


def analyze(
    reference: DataLike,
    data: DataLike,
    *,
    chunk_size: int | None = None,
    chunk_period: str | None = None,
    timestamp: str | None = None,
    schema: Schema | None = None,
    target: str | None = None,
    prediction: str | None = None,
    probability: Sequence[str] = (),
    id: str | None = None,
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    text: Sequence[str] = (),
    embedding: Sequence[str] = (),
    patterns: Mapping[str, str] | None = None,
    methods: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    numeric_method: str | None = None,
    categorical_method: str | None = None,
    alpha: float = 0.05,
    drift_share: float = 0.5,
    n_bins: int = 10,
    pos_label: str | None = None,
    multivariate: bool = True,
    model: str = "",
    version: str = "",
    title: str = "sightline analysis",
    progress: Progress | None = None,
) -> Result:
    """Compare every window of ``data`` with ``reference``; the rows of all windows.

    Windows are ``chunk_size`` consecutive rows (``window_start``/``window_end`` are row
    offsets), or epoch-aligned periods of ``chunk_period`` on the ``timestamp`` column
    (UTC datetimes). Without either, the data is cut into 10 windows of equal size. The
    other arguments are those of :func:`sightline.compare`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> ref = {"x": rng.normal(0, 1, 3000)}
    >>> data = {"x": np.concatenate([rng.normal(0, 1, 1000), rng.normal(2, 1, 1000)])}
    >>> result = analyze(ref, data, chunk_size=500)
    >>> [r.alert for r in result.rows if r.metric == "jensen_shannon"]
    [False, False, True, True]
    """
    ref_table = to_table(reference, "reference")
    table = to_table(data, "data")
    ref_timestamp = timestamp if timestamp in ref_table.column_names else None
    engine = Engine.prepare(
        ref_table,
        SchemaOptions(
            schema,
            target,
            prediction,
            tuple(probability),
            id,
            ref_timestamp,
            tuple(categorical),
            tuple(numeric),
            tuple(text),
            tuple(embedding),
            dict(patterns or {}),
        ),
        DriftOptions(
            methods=dict(methods or {}),
            thresholds=dict(thresholds or {}),
            numeric_method=numeric_method,
            categorical_method=categorical_method,
            alpha=alpha,
            drift_share=drift_share,
            n_bins=n_bins,
        ),
        pos_label=pos_label,
        multivariate=multivariate,
    )
    resolved = engine.reference.schema
    windows = list(_windows(table, resolved, chunk_size, chunk_period, timestamp))
    results = []
    for i, (start, end, chunk) in enumerate(windows):
        ctx = RowContext(model=model, version=version, window_start=start, window_end=end)
        results.append(engine.evaluate(chunk, ctx, name=f"data window {i}"))
        if progress is not None:
            progress(i + 1, len(windows))
    return Result(rows=tuple(r for res in results for r in res.rows), title=title)


def _windows(
    table: pa.Table,
    schema: Schema,
    chunk_size: int | None,
    chunk_period: str | None,
    timestamp: str | None,
) -> Iterator[tuple[WindowEdge, WindowEdge, pa.Table]]:
    if table.num_rows == 0:
        raise SchemaError("data is empty (0 rows)", field="data")
    if chunk_size is not None and chunk_period is not None:
        raise InvalidInputError("give chunk_size or chunk_period, not both", field="chunk_size")
    if chunk_period is not None:
        seconds = parse_period(chunk_period)
        ts_column = schema.one("timestamp")
        ts_col = timestamp or (ts_column.name if ts_column is not None else None)
        if ts_col is None or ts_col not in table.column_names:
            raise SchemaError(
                "chunk_period needs a timestamp column: pass timestamp=<column>", field="timestamp"
            )
        for t_start, t_end, idx in period_windows(table, ts_col, seconds):
            yield t_start, t_end, table.take(idx)
        return
    if chunk_size is None:
        chunk_size = max(1, math.ceil(table.num_rows / DEFAULT_CHUNKS))
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InvalidInputError(
            f"chunk_size must be a positive integer, got {chunk_size!r}", field="chunk_size"
        )
    for start, end in size_windows(table.num_rows, chunk_size):
        yield start, end, table.slice(start, end - start)


__all__ = ["DEFAULT_CHUNKS", "analyze", "parse_period", "period_windows", "size_windows"]
