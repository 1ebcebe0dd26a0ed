"""Realized performance metrics for classification and regression, equal to scikit-learn.

Every metric takes 1-D arrays of one window (chunk) and returns a Python ``float``.
Classification labels may be of any sortable type (integers, strings, booleans); the
classes are the sorted union of ``y_true`` and ``y_pred`` unless ``labels=`` is given.

Edge-case rules shared by every function (METHODS.md section 9, "chunk rule"):

- A metric whose denominator is zero is ``nan``, never 0 (precision with no predicted
  positives, recall with no true positives, ROC AUC with one class in ``y_true``,
  average precision with no positives). scikit-learn is matched with
  ``zero_division=np.nan``; where scikit-learn returns 0 with a warning instead (average
  precision without positives) this module returns ``nan``.
- Empty inputs are not an error: every metric of an empty window is ``nan`` (a confusion
  matrix of an empty window is all zeros).
- Missing values (NaN, ``None``) in ``y_true``, ``y_pred`` or scores raise
  :class:`~sightline.errors.InvalidInputError` naming the argument: the analysis layer
  drops rows with missing targets before calling.

No scikit-learn import: scikit-learn is the test oracle only. The metrics live in private
modules by input: :mod:`~sightline.stats._classification` (predicted labels),
:mod:`~sightline.stats._scores` (scores and probabilities) and
:mod:`~sightline.stats._regression` (numeric targets); import them from here.
"""

from __future__ import annotations

from sightline.stats._classification import (
    Average,
    accuracy,
    classification_metrics,
    confusion_matrix,
    f1,
    precision,
    recall,
)
from sightline.stats._metric_inputs import EPS
from sightline.stats._regression import mae, mape, mean_error, r2, regression_metrics, rmse
from sightline.stats._scores import average_precision, log_loss, roc_auc, roc_auc_ovr

__all__ = [
    "EPS",
    "Average",
    "accuracy",
    "average_precision",
    "classification_metrics",
    "confusion_matrix",
    "f1",
    "log_loss",
    "mae",
    "mape",
    "mean_error",
    "precision",
    "r2",
    "recall",
    "regression_metrics",
    "rmse",
    "roc_auc",
    "roc_auc_ovr",
]
