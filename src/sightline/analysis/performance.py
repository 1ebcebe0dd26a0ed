"""Performance rows from the target and prediction columns (when both are present).

The task follows the target's kind: categorical targets are classification, numeric ones
regression. Rows without a target (or prediction) are left out; ``label_coverage`` says
which share of the window had one. Bounds come from the spread of the same metric over
reference chunks (mean ± 3 standard deviations, see :func:`reference_bounds`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from sightline.analysis.columns import category_text, numeric_values
from sightline.analysis.rows import MetricRow, RowContext
from sightline.errors import InvalidInputError
from sightline.profile.schema import Schema, probability_column
from sightline.stats import performance as perf

N_SIGMA: Final = 3.0
MIN_REFERENCE_CHUNKS: Final = 3
#: Metrics that live in [0, 1]; their bounds are clipped to it.
UNIT_METRICS: Final = frozenset(
    {
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "average_precision",
        "precision_macro",
        "recall_macro",
        "f1_macro",
        "f1_weighted",
    }
)


@dataclass(frozen=True, slots=True)
class PerformanceSpec:
    """What to compute: the task, the columns and (binary) the positive label; for a
    multiclass classifier with one probability column per class, the classes and their
    columns in the same order."""

    task: Literal["classification", "regression"]
    target: str
    prediction: str
    score: str | None
    pos_label: str | None
    classes: tuple[str, ...] = ()
    class_scores: tuple[str, ...] = ()

    @property
    def score_columns(self) -> tuple[str, ...]:
        """The score columns: one per class (multiclass), the positive class's, or none."""
        return self.class_scores or ((self.score,) if self.score is not None else ())


def performance_spec(
    schema: Schema, reference: pa.Table, pos_label: str | None
) -> PerformanceSpec | None:
    """The spec for a schema with a target and a prediction column, else None.

    Raises :class:`InvalidInputError` (the prediction's field) when the target is
    categorical and the prediction holds more than ``MAX_UNSEEN_PREDICTIONS`` values that
    are not target classes: scores passed as the prediction."""
    target, prediction = schema.one("target"), schema.one("prediction")
    if target is None or prediction is None:
        return None
    if target.kind == "numeric":
        return PerformanceSpec("regression", target.name, prediction.name, None, None)
    truth = _distinct_labels(reference, target.name)
    predicted = _distinct_labels(reference, prediction.name)
    unseen = scores_as_classes(truth, predicted)
    if unseen:
        examples = ", ".join(unseen[:3])
        raise InvalidInputError(
            f"prediction column {prediction.name!r} holds {len(predicted):,} distinct values, "
            f"{len(unseen):,} of them not classes of the categorical target {target.name!r} "
            f"(e.g. {examples}): a classifier's prediction must be its predicted class; give "
            "its scores the role 'probability' and the predicted class the role 'prediction' "
            "(or declare the target numeric for regression metrics)",
            field=prediction.name,
        )
    labels = sorted(truth | predicted)
    probas = schema.names(role="probability")
    columns = class_columns(labels, probas)
    if len(labels) > 2:
        classes = tuple(labels) if columns else ()
        return PerformanceSpec(
            "classification", target.name, prediction.name, None, pos_label, classes, columns
        )
    if pos_label is None:
        pos_label = _default_positive(labels)
    score = probas[0] if len(probas) == 1 else None
    if columns and pos_label in labels:
        score = columns[labels.index(pos_label)]
    return PerformanceSpec("classification", target.name, prediction.name, score, pos_label)


def class_columns(classes: Sequence[str], probabilities: Sequence[str]) -> tuple[str, ...]:
    """The probability column of each class, found by name: the class itself or a name
    ending in ``_<class>`` (``proba_a``, ``y_pred_proba_a``); empty unless every class has
    exactly one, each its own.

    >>> class_columns(["a", "b"], ["proba_b", "proba_a"])
    ('proba_a', 'proba_b')
    >>> class_columns(["a", "b"], ["score"])
    ()
    """
    found = [probability_column(probabilities, label) for label in classes]
    if None in found or len(set(found)) < len(found):
        return ()
    return tuple(name for name in found if name is not None)


#: Predicted labels that are not target classes tolerated before a prediction column is
#: taken for scores rather than classes (each would become a class of the confusion matrix).
MAX_UNSEEN_PREDICTIONS: Final = 20


def scores_as_classes(truth: Iterable[str], predicted: Iterable[str]) -> list[str]:
    """The predicted values that are not classes of the target, sorted, when there are more
    than ``MAX_UNSEEN_PREDICTIONS`` of them (scores given as a classifier's prediction);
    else an empty list.

    >>> scores_as_classes(["0", "1"], ["0", "1", "2"])
    []
    >>> len(scores_as_classes(["0", "1"], [f"0.{i:02d}" for i in range(30)]))
    30
    """
    unseen = set(predicted) - set(truth)
    return sorted(unseen) if len(unseen) > MAX_UNSEEN_PREDICTIONS else []


def _distinct_labels(table: pa.Table, name: str) -> set[str]:
    return set(pc.unique(_labels(table, name)).drop_null().to_pylist())


def _default_positive(labels: list[str]) -> str | None:
    lowered = {x.lower() for x in labels}
    for yes in ("1", "true", "yes"):
        if yes in lowered:
            return next(x for x in labels if x.lower() == yes)
    return labels[-1] if labels else None


def _labels(table: pa.Table, name: str) -> pa.ChunkedArray:
    return category_text(table.column(name))


def metric_values(spec: PerformanceSpec, table: pa.Table) -> tuple[dict[str, float], int]:
    """Metric values on the labelled rows of ``table`` and the number of such rows."""
    if spec.task == "regression":
        target, _ = numeric_values(table.column(spec.target))
        predicted, _ = numeric_values(table.column(spec.prediction))
        both = np.isfinite(target) & np.isfinite(predicted)
        return perf.regression_metrics(target[both], predicted[both]), int(both.sum())
    y_true, y_pred, ok = labelled(spec, table)
    y_score: npt.NDArray[np.float64] | None = None
    if spec.score is not None:
        scores, _ = numeric_values(table.column(spec.score))
        ok_score = np.isfinite(scores[ok])
        if ok_score.all():
            y_score = scores[ok]
    if spec.class_scores:
        matrix = score_matrix(spec, table)[ok]
        known = np.isin(y_true, spec.classes) & np.isin(y_pred, spec.classes)
        if known.all() and np.isfinite(matrix).all():
            values = perf.classification_metrics(
                y_true, y_pred, matrix, labels=np.array(spec.classes, dtype=object)
            )
            return values, int(ok.sum())
    values = perf.classification_metrics(y_true, y_pred, y_score, pos_label=spec.pos_label)
    return values, int(ok.sum())


def score_matrix(spec: PerformanceSpec, table: pa.Table) -> npt.NDArray[np.float64]:
    """The ``(rows, classes)`` probabilities of a multiclass spec (NaN where missing)."""
    return np.column_stack([numeric_values(table.column(c))[0] for c in spec.class_scores])


def labelled(
    spec: PerformanceSpec, table: pa.Table
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_], npt.NDArray[np.bool_]]:
    """Target and prediction labels (text) of the rows that have both, and that row mask."""
    true = _labels(table, spec.target)
    pred = _labels(table, spec.prediction)
    ok_arrow = pc.and_(pc.is_valid(true), pc.is_valid(pred))
    ok = np.asarray(ok_arrow.to_numpy(zero_copy_only=False), dtype=bool)
    y_true = np.asarray(true.to_numpy(zero_copy_only=False), dtype=object)[ok]
    y_pred = np.asarray(pred.to_numpy(zero_copy_only=False), dtype=object)[ok]
    return y_true, y_pred, ok


def confusion_rows(spec: PerformanceSpec, table: pa.Table, ctx: RowContext) -> list[MetricRow]:
    """One row per confusion-matrix cell, metric ``confusion[<true>,<predicted>]``."""
    y_true, y_pred, ok = labelled(spec, table)
    labels = sorted(set(y_true.tolist()) | set(y_pred.tolist()))
    matrix = perf.confusion_matrix(y_true, y_pred, labels=labels)
    return [
        ctx.row(
            f"confusion[{t},{p}]",
            float(matrix[i, j]),
            column=spec.target,
            n_cur=int(ok.sum()),
            method="confusion-matrix count (true, predicted)",
        )
        for i, t in enumerate(labels)
        for j, p in enumerate(labels)
    ]


def reference_bounds(
    spec: PerformanceSpec, reference: pa.Table, window_size: int
) -> dict[str, tuple[float, float]]:
    """Mean ± 3 std of each metric over consecutive reference chunks.

    The chunks have ``window_size`` rows when the reference holds at least
    :data:`MIN_REFERENCE_CHUNKS` of them. Otherwise the reference is cut into 10 chunks and
    their standard deviation is scaled to the window size by ``sqrt(chunk / window)``, the
    rate at which a metric's sampling error shrinks.
    """
    window_size = max(window_size, 1)
    chunk = window_size
    if reference.num_rows // window_size < MIN_REFERENCE_CHUNKS:
        chunk = reference.num_rows // 10
        if chunk < 1:
            return {}
    per_chunk: dict[str, list[float]] = {}
    for i in range(reference.num_rows // chunk):
        values, _ = metric_values(spec, reference.slice(i * chunk, chunk))
        for name, v in values.items():
            per_chunk.setdefault(name, []).append(v)
    scale = np.sqrt(chunk / window_size)
    bounds = {}
    for name, vals in per_chunk.items():
        arr = np.asarray(vals, dtype=np.float64)
        if np.isnan(arr).any():
            continue
        mean, std = float(arr.mean()), float(arr.std()) * scale
        low, high = mean - N_SIGMA * std, mean + N_SIGMA * std
        if name in UNIT_METRICS:
            low, high = max(low, 0.0), min(high, 1.0)
        bounds[name] = (low, high)
    return bounds


def coverage_row(
    spec: PerformanceSpec, n_labelled: int, n: int, ctx: RowContext, n_ref: int = 0
) -> MetricRow:
    """The ``label_coverage`` row: the share of the ``n`` rows with a target and a
    prediction (NaN without rows)."""
    return ctx.row(
        "label_coverage",
        n_labelled / n if n else float("nan"),
        column=spec.target,
        n_ref=n_ref,
        n_cur=n,
        method="share of rows with a target and a prediction",
    )


def performance_rows(
    spec: PerformanceSpec,
    table: pa.Table,
    ctx: RowContext,
    bounds: Mapping[str, tuple[float, float]],
    n_ref: int,
) -> list[MetricRow]:
    """Rows of realized performance on ``table`` (empty list when it has no target)."""
    if spec.target not in table.column_names or spec.prediction not in table.column_names:
        return []
    values, n_labeled = metric_values(spec, table)
    rows = [coverage_row(spec, n_labeled, table.num_rows, ctx, n_ref)]
    task = "classification" if spec.task == "classification" else "regression"
    for name, value in values.items():
        low, high = bounds.get(name, (np.nan, np.nan))
        if np.isnan(value):
            rows.append(
                ctx.not_computed(
                    name,
                    "undefined for this window (zero denominator or a single class)",
                    n_ref=n_ref,
                    n_cur=n_labeled,
                )
            )
            continue
        alert = bool(value < low or value > high)
        method = f"realized {task} metric" + (
            "; bounds: reference chunks mean ± 3 std" if name in bounds else ""
        )
        rows.append(
            ctx.row(
                name,
                value,
                lower=low,
                upper=high,
                alert=alert,
                n_ref=n_ref,
                n_cur=n_labeled,
                method=method,
            )
        )
    if spec.task == "classification" and n_labeled:
        rows += confusion_rows(spec, table, ctx)
    return rows


__all__ = [
    "PerformanceSpec",
    "class_columns",
    "coverage_row",
    "labelled",
    "metric_values",
    "performance_rows",
    "performance_spec",
    "reference_bounds",
    "score_matrix",
    "scores_as_classes",
]
