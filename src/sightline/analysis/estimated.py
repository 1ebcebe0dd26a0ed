"""Performance estimated before labels (CBPE) in analyses and in the collector's jobs.

:func:`fit_estimator` fits CBPE on the labelled reference rows of a classifier;
:func:`estimated_rows` gives a window without a target its ``estimated_<metric>`` rows.
The collector keeps :func:`estimator_state` (JSON) with the version's reference and turns
each window's prediction records into rows with :func:`estimated_window_rows`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from sightline.analysis.columns import category_text, numeric_values
from sightline.analysis.performance import (
    N_SIGMA,
    PerformanceSpec,
    labelled,
    metric_values,
    performance_spec,
    score_matrix,
)
from sightline.analysis.realized import reference_state
from sightline.analysis.rows import MetricRow, RowContext
from sightline.profile.schema import Schema
from sightline.stats.estimation import CBPE, Estimate

#: Reference rows a performance estimator needs at least.
MIN_ESTIMATION_ROWS = 100


def fit_estimator(spec: PerformanceSpec, reference: pa.Table) -> CBPE | None:
    """A CBPE estimator fitted on the labelled reference rows of a classifier with a score
    column (binary) or a probability column per class (multiclass), or None (regression,
    no scores, fewer than ``MIN_ESTIMATION_ROWS`` usable rows)."""
    if spec.task != "classification":
        return None
    y_true, y_pred, ok = labelled(spec, reference)
    if spec.class_scores:
        classes = np.array(spec.classes, dtype=object)
        matrix = score_matrix(spec, reference)[ok]
        usable = _usable(matrix) & np.isin(y_true, classes) & np.isin(y_pred, classes)
        if usable.sum() < MIN_ESTIMATION_ROWS:
            return None
        return CBPE().fit(y_true[usable], y_pred[usable], matrix[usable], classes=classes)
    if spec.score is None or spec.pos_label is None:
        return None
    scores = numeric_values(reference.column(spec.score))[0][ok]
    usable = _usable(scores)
    if usable.sum() < MIN_ESTIMATION_ROWS:
        return None
    pos = spec.pos_label
    return CBPE(pos_label=1).fit(
        (y_true[usable] == pos).astype(int), (y_pred[usable] == pos).astype(int), scores[usable]
    )


def _usable(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Rows whose scores (1-D, or one column per class) are all probabilities."""
    inside = np.isfinite(scores) & (scores >= 0) & (scores <= 1)
    return np.asarray(inside if inside.ndim == 1 else inside.all(axis=1), dtype=np.bool_)


def estimated_rows(
    spec: PerformanceSpec,
    estimator: CBPE,
    table: pa.Table,
    ctx: RowContext,
    bounds: Mapping[str, tuple[float, float]],
    n_ref: int,
) -> list[MetricRow]:
    """``estimated_<metric>`` rows for a window with predictions and scores but no target
    (none when a target is present: then the realized rows say it). ``lower``/``upper``
    are the estimate's band (+- 3 standard errors); the row alerts when the estimate leaves
    the realized metric's reference bounds. Multiclass rows whose predicted class the
    reference does not know are left out."""
    names = table.column_names
    score_columns = spec.score_columns
    if spec.prediction not in names or not score_columns or not set(score_columns) <= set(names):
        return []
    if spec.target in names and table.column(spec.target).null_count < table.num_rows:
        return []
    predicted = category_text(table.column(spec.prediction))
    valid = np.asarray(pc.is_valid(predicted).to_numpy(zero_copy_only=False), dtype=bool)
    labels = np.asarray(predicted.to_numpy(zero_copy_only=False), dtype=object)
    if spec.class_scores:
        scores = score_matrix(spec, table)
        ok = valid & _usable(scores) & np.isin(labels, np.array(spec.classes, dtype=object))
    else:
        scores = numeric_values(table.column(score_columns[0]))[0]
        ok = valid & _usable(scores)
    if not ok.any():
        return []
    estimates = _estimates(estimator, spec.pos_label, labels[ok], scores[ok])
    return _estimate_rows(estimates, bounds, ctx, n_ref, int(ok.sum()))


def _estimates(
    estimator: CBPE, pos_label: str | None, labels: npt.NDArray[Any], scores: npt.ArrayLike
) -> dict[str, Estimate]:
    """The estimates of one window: predicted classes and their probabilities (multiclass),
    or predicted labels against ``pos_label`` and the positive class's score (binary)."""
    if estimator.is_multiclass_:
        return estimator.estimate(labels, scores)
    return estimator.estimate((labels == pos_label).astype(int), scores)


def _estimate_rows(
    estimates: Mapping[str, Estimate],
    bounds: Mapping[str, tuple[float, float]],
    ctx: RowContext,
    n_ref: int,
    n_cur: int,
) -> list[MetricRow]:
    rows = []
    for name, est in estimates.items():
        low, high = bounds.get(name, (np.nan, np.nan))
        rows.append(
            ctx.row(
                f"estimated_{name}",
                est.value,
                lower=est.lower,
                upper=est.upper,
                alert=bool(est.value < low or est.value > high),
                n_ref=n_ref,
                n_cur=n_cur,
                method="CBPE: expected confusion matrix from scores calibrated on the "
                "reference (isotonic); band +- 3 standard errors; alert outside the realized "
                "metric's reference bounds; assumes no concept shift",
            )
        )
    return rows


def estimator_state(schema: Schema, reference: pa.Table) -> dict[str, Any] | None:
    """What a collector keeps of a labelled reference, as JSON values: under
    ``"realized"`` the reference's target, prediction and scores, for the bounds of
    realized performance (:func:`~sightline.analysis.realized.reference_state`); and for
    a classifier with probabilities, the CBPE fitted on it and the reference's realized
    metrics, to estimate performance in windows without labels. None when the schema
    has no target or no prediction, or the reference no label.

    Examples
    --------
    >>> from sightline.profile import Column
    >>> schema = Schema((Column("p", role="probability"), Column("y", role="prediction",
    ...     kind="categorical"), Column("t", role="target", kind="categorical")))
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(size=1000)
    >>> table = pa.table({"p": p, "y": (p > 0.5).astype(int).astype(str),
    ...     "t": (rng.uniform(size=1000) < p).astype(int).astype(str)})
    >>> state = estimator_state(schema, table)
    >>> state["pos_label"], state["n_reference"], sorted(state["realized"]["rows"])
    ('1', 1000, ['p', 't', 'y'])
    """
    spec = performance_spec(schema, reference, None)
    if spec is None or reference.column(spec.target).null_count == reference.num_rows:
        return None
    state: dict[str, Any] = {"realized": reference_state(spec, reference)}
    estimator = fit_estimator(spec, reference)
    if estimator is None:
        return state
    realized, n_ref = metric_values(spec, reference)
    centre = {**estimator.reference_estimates_, **realized}
    return {
        **state,
        "pos_label": spec.pos_label,
        "cbpe": estimator.to_dict(),
        "n_reference": n_ref,
        "reference": {
            k: float(centre[k]) for k in estimator.influence_rms_ if math.isfinite(centre[k])
        },
    }


def estimated_window_rows(
    state: Mapping[str, Any],
    predicted: Sequence[str],
    scores: Sequence[Any],
    ctx: RowContext,
) -> list[MetricRow]:
    """``estimated_<metric>`` rows of one window from :func:`estimator_state`, the window's
    predicted labels (as text) and scores: a binary classifier's probability of the
    positive class per row, or a multiclass one's mapping of class to probability (rows
    lacking a class of the reference, or predicting one it does not know, are left out).
    The bounds are the reference's realized metric +- 3 standard errors of a window of
    this size.

    Examples
    --------
    >>> state = {"pos_label": "1", "n_reference": 4, "reference": {"accuracy": 0.75},
    ...     "cbpe": CBPE().fit([0, 0, 1, 1], [0, 1, 0, 1], [0.1, 0.6, 0.4, 0.9]).to_dict()}
    >>> ctx = RowContext("m", "1", None, None)
    >>> rows = estimated_window_rows(state, ["1", "0"], [0.9, 0.1], ctx)
    >>> [(r.metric, r.value) for r in rows][:2]
    [('estimated_accuracy', 1.0), ('estimated_precision', 1.0)]
    """
    if "cbpe" not in state:
        return []
    estimator = CBPE.from_dict(state["cbpe"])
    if estimator.is_multiclass_:
        classes = [str(c) for c in estimator.classes_]
        known = set(classes)
        rows = [
            (label, [float(s[c]) for c in classes])
            for label, s in zip(predicted, scores, strict=True)
            if label in known and isinstance(s, Mapping) and known <= set(s)
        ]
        labels = np.array([label for label, _ in rows])
        matrix = np.array([p for _, p in rows])
    else:
        labels, matrix = np.array(predicted), np.asarray(scores, dtype=np.float64)
    n = len(labels)
    if not n:
        return []
    estimates = _estimates(estimator, state["pos_label"], labels, matrix)
    se = estimator.standard_errors(n)
    bounds = {
        name: (value - N_SIGMA * se[name], value + N_SIGMA * se[name])
        for name, value in state["reference"].items()
    }
    return _estimate_rows(estimates, bounds, ctx, int(state["n_reference"]), n)


__all__ = [
    "MIN_ESTIMATION_ROWS",
    "estimated_rows",
    "estimated_window_rows",
    "estimator_state",
    "fit_estimator",
]
