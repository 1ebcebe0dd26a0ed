"""Performance estimated before labels arrive: CBPE for classifiers, DLE for regressors.

*Confidence-based performance estimation* (CBPE) turns a classifier's probabilities into
an expected confusion matrix. The probabilities are first calibrated on the reference
(labelled) data with isotonic regression (:func:`isotonic_fit`); a calibrated probability
``p`` of a row is then the chance that the row is positive, so ``sum(p)`` over the rows
predicted positive is the expected number of true positives, and so on
(:func:`cbpe_binary`, :func:`cbpe_multiclass`). The ROC AUC is the ratio of the expected
Mann-Whitney numerator to the expected number of positive-negative pairs
(:func:`expected_roc_auc`).

*Direct loss estimation* (DLE) fits a model of each row's loss (``|y - y_pred|`` and
``(y - y_pred)**2``) on the reference features and prediction, and averages its
predictions over a window (:class:`DLE`, :func:`dle_regression`).

Both rest on one assumption: the relation between inputs and target, ``P(y | x)``, is the
same in the window as in the reference (*covariate shift only*). Under concept shift the
estimates stay where the reference put them while the realized performance moves: the
method cannot see it (docs/estimation.md).

Sampling error: every estimate comes with the standard error of the *realized* metric in
a window of ``n`` rows, ``rms / sqrt(n)``, where ``rms`` is the root mean square of the
metric's per-row influence values (delta method) on the reference. For accuracy,
precision, recall, specificity, MAE and RMSE this is NannyML's formula; for F1 it is the
delta method (NannyML's is larger by ``1 + TP / (TP + FP + FN)``); for ROC AUC it is
DeLong's variance; macro averages sum the classes' influence values row by row, so the
correlation between classes counts (NannyML assumes independence). The band is
``value +- band * SE`` clipped to the metric's range.

Pure numpy/scipy: the pool-adjacent-violators algorithm is this module's own (tested
against scikit-learn's ``IsotonicRegression``), and the default loss model of DLE is a
k-nearest-neighbour mean over scipy's ``cKDTree``.
"""

from sightline.stats.estimation.bands import Estimate
from sightline.stats.estimation.calibration import Calibrator, isotonic_fit
from sightline.stats.estimation.cbpe import (
    BINARY_METRICS,
    CBPE,
    MULTICLASS_METRICS,
    cbpe_binary,
    cbpe_multiclass,
    expected_roc_auc,
)
from sightline.stats.estimation.dle import (
    DLE,
    REGRESSION_METRICS,
    NearestNeighborsMean,
    Regressor,
    dle_regression,
)

__all__ = [
    "BINARY_METRICS",
    "CBPE",
    "DLE",
    "MULTICLASS_METRICS",
    "REGRESSION_METRICS",
    "Calibrator",
    "Estimate",
    "NearestNeighborsMean",
    "Regressor",
    "cbpe_binary",
    "cbpe_multiclass",
    "dle_regression",
    "expected_roc_auc",
    "isotonic_fit",
]
