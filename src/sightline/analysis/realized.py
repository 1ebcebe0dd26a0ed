"""Realized performance of a collector's window: the rows :func:`sightline.compare` gives
for the same data.

With a labelled reference the collector keeps its target, prediction and scores
(:func:`reference_state`, part of :func:`~sightline.analysis.estimated.estimator_state`).
A performance job turns the window's predictions, joined with their labels, into a table
of the schema's columns (:func:`window_table`) and computes
:func:`~sightline.analysis.performance.performance_rows` on it, with bounds from
reference chunks of the window's size (:func:`~sightline.analysis.performance.reference_bounds`),
as ``compare`` does. Without a labelled reference the task follows the schema's target
(or, without one, the labels by the schema-inference rule) and the rows have no bounds.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sightline._validate import finite_or_none
from sightline.analysis.columns import category_text, integer_kind, numeric_values
from sightline.analysis.performance import (
    PerformanceSpec,
    coverage_row,
    performance_rows,
    reference_bounds,
    scores_as_classes,
)
from sightline.analysis.rows import MetricRow, RowContext
from sightline.profile.schema import Schema

#: Reference rows kept for the bounds (the first ones; chunks are consecutive rows).
MAX_REFERENCE_ROWS: Final = 100_000


def reference_state(spec: PerformanceSpec, reference: pa.Table) -> dict[str, Any]:
    """The spec and the reference's columns of ``spec`` as JSON values (at most
    :data:`MAX_REFERENCE_ROWS` rows): what :func:`realized_window_rows` needs for bounds.

    Examples
    --------
    >>> spec = PerformanceSpec("classification", "t", "y", None, "1")
    >>> state = reference_state(spec, pa.table({"t": [1, 0], "y": [1, 1]}))
    >>> state["rows"]
    {'t': ['1', '0'], 'y': ['1', '1']}
    """
    table = reference.slice(0, MAX_REFERENCE_ROWS)
    rows: dict[str, list[Any]] = {}
    for name in _label_columns(spec):
        rows[name] = _label_values(spec, table.column(name))
    for name in spec.score_columns:
        values = numeric_values(table.column(name))[0]
        rows[name] = [finite_or_none(v) for v in values.tolist()]
    return {"spec": dataclasses.asdict(spec), "rows": rows}


def _label_columns(spec: PerformanceSpec) -> tuple[str, str]:
    return spec.target, spec.prediction


def _label_values(spec: PerformanceSpec, column: pa.ChunkedArray) -> list[Any]:
    if spec.task == "classification":
        return list(category_text(column).to_pylist())
    values = numeric_values(column)[0]
    return [finite_or_none(v) for v in values.tolist()]


def spec_of(state: Mapping[str, Any]) -> PerformanceSpec:
    """The :class:`PerformanceSpec` of a :func:`reference_state`."""
    fields = dict(state["spec"])
    fields["classes"] = tuple(fields["classes"])
    fields["class_scores"] = tuple(fields["class_scores"])
    return PerformanceSpec(**fields)


def _table(spec: PerformanceSpec, rows: Mapping[str, Sequence[Any]]) -> pa.Table:
    label_type = pa.string() if spec.task == "classification" else pa.float64()
    columns = {name: pa.array(rows[name], label_type) for name in _label_columns(spec)}
    columns.update({name: pa.array(rows[name], pa.float64()) for name in spec.score_columns})
    return pa.table(columns)


def window_table(spec: PerformanceSpec, records: Sequence[Sequence[Any]]) -> pa.Table:
    """The window's predictions (``Store.labelled`` records: prediction, prediction label,
    probability, label, label text, id, probabilities as JSON) as a table of the spec's
    columns; the target is null where no label came yet."""
    classify = spec.task == "classification"
    truth = [_label(r[4], r[3], classify) for r in records]
    predicted = [_label(r[1], r[0], classify) for r in records]
    rows: dict[str, list[Any]] = {spec.target: truth, spec.prediction: predicted}
    if spec.class_scores:
        mappings = [json.loads(r[6]) if r[6] is not None else {} for r in records]
        for label, name in zip(spec.classes, spec.class_scores, strict=True):
            rows[name] = [_float(m.get(label)) for m in mappings]
    elif spec.score is not None:
        rows[spec.score] = [_float(r[2]) for r in records]
    return _table(spec, rows)


def _label(text: Any, number: Any, classify: bool) -> Any:
    """A record's label (or prediction): its text, else its number; as text for a
    classifier (whole numbers without a decimal point, as ``category_text`` writes them)."""
    if not classify:
        return _float(number)
    value = text if text is not None else number
    if value is None:
        return None
    return label_text(value)


def label_text(value: Any) -> str:
    """A label as a class name: whole-number floats print as integers.

    >>> label_text(1.0), label_text("yes"), label_text(2.5)
    ('1', 'yes', '2.5')
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _float(value: Any) -> float | None:
    return None if value is None else finite_or_none(float(value))


def stream_spec(schema: Schema, records: Sequence[Sequence[Any]]) -> PerformanceSpec:
    """The spec of a model without a labelled reference: the schema's target kind decides
    the task (the labels, by :func:`~sightline.analysis.columns.integer_kind`, when the
    schema has no target); no scores, so no ranking metrics."""
    target, prediction = schema.one("target"), schema.one("prediction")
    if target is not None:
        classify = target.kind == "categorical"
    else:
        classify = _labels_are_classes([r[4] if r[4] is not None else r[3] for r in records])
    return PerformanceSpec(
        "classification" if classify else "regression",
        target.name if target is not None else "target",
        prediction.name if prediction is not None else "prediction",
        None,
        None,
    )


def _labels_are_classes(labels: Sequence[Any]) -> bool:
    """Text labels are classes; numbers are when they are whole and few (the schema's rule
    for integer columns; the store keeps numeric labels as floats)."""
    present = [v for v in labels if v is not None]
    if any(isinstance(v, str) for v in present):
        return True
    values = np.array(present, dtype=float)
    whole = bool(np.all(values == np.round(values)))
    return whole and integer_kind(len(np.unique(values))) == "categorical"


def realized_window_rows(
    schema: Schema,
    state: Mapping[str, Any] | None,
    records: Sequence[Sequence[Any]],
    ctx: RowContext,
) -> list[MetricRow]:
    """The realized performance rows of one window (``label_coverage``, the task's
    metrics, the confusion counts), as ``compare`` gives them for the same window and
    reference; bounds from the reference kept in ``state``, when there is one.

    Examples
    --------
    >>> from sightline.profile import Column
    >>> schema = Schema((Column("y", role="prediction", kind="categorical"),
    ...     Column("t", role="target", kind="categorical")))
    >>> records = [("1", None, None, None, "1", "a", None), ("0", None, None, None, None,
    ...     "b", None)]
    >>> rows = realized_window_rows(schema, None, records, RowContext())
    >>> [(r.metric, r.value) for r in rows][:2]
    [('label_coverage', 0.5), ('accuracy', 1.0)]
    """
    realized = state.get("realized") if state is not None else None
    spec = spec_of(realized) if realized else stream_spec(schema, records)
    table = window_table(spec, records)
    y_true, y_pred = table.column(spec.target), table.column(spec.prediction)
    n_labelled = int(pc.sum(pc.and_(pc.is_valid(y_true), pc.is_valid(y_pred))).as_py() or 0)
    coverage = coverage_row(spec, n_labelled, len(records), ctx)
    if not n_labelled:
        return [coverage]
    if spec.task == "classification":
        unseen = scores_as_classes(_texts(y_true), _texts(y_pred))
        if unseen:
            reason = (
                f"{len(unseen):,} predicted values are not label classes: log a classifier's "
                "predicted class as the prediction and its score as the probability"
            )
            return [coverage, ctx.not_computed("accuracy", reason, n_cur=n_labelled)]
    bounds: dict[str, tuple[float, float]] = {}
    n_ref = 0
    if realized:
        reference = _table(spec, realized["rows"])
        bounds = reference_bounds(spec, reference, table.num_rows)
        n_ref = reference.num_rows
    return performance_rows(spec, table, ctx, bounds, n_ref)


def _texts(column: pa.ChunkedArray) -> set[str]:
    return set(pc.unique(column).drop_null().to_pylist())


__all__ = [
    "MAX_REFERENCE_ROWS",
    "label_text",
    "realized_window_rows",
    "reference_state",
    "spec_of",
    "stream_spec",
    "window_table",
]
