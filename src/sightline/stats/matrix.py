"""Analysis of a matrix of metric snapshots: rank, conditioning, principal directions, anomalies.

Rows are observations (one snapshot of a model's metrics per window, or one data row),
columns are metrics or features. :func:`metric_matrix` turns snapshots (``{name: value}``
mappings) into such a matrix; :func:`analyze_matrix` reports its numerical rank, condition
number and singular values, the explained variance of its principal components, and for
every row a reconstruction error from the leading components. A high error on the newest
row means a combination of metrics that breaks their usual correlations (throughput up while
latency falls, accuracy down while every confusion count looks normal), even when each
metric alone stays within its own range.

References
----------
.. [1] Belsley, D. A., Kuh, E. and Welsch, R. E. (1980). *Regression Diagnostics:
   Identifying Influential Data and Sources of Collinearity*. Wiley. Chapter 3.
.. [2] Golub, G. H. and Van Loan, C. F. (2013). *Matrix Computations*, 4th ed., section
   5.4.1 (numerical rank). The tolerance is that of ``numpy.linalg.matrix_rank``.
.. [3] Jolliffe, I. T. (2002). *Principal Component Analysis*, 2nd ed. Springer.
   Section 10.1 (outlier detection with the last principal components).
.. [4] Montgomery, D. C. (2019). *Introduction to Statistical Quality Control*, 8th ed.
   Wiley. Section 11.3 (Hotelling's T² for individual observations, phase II limit).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, cast

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from sightline._types import FloatArray
from sightline._validate import check_in_range, check_samples
from sightline.errors import InvalidInputError, SightlineWarning


@dataclass(frozen=True, slots=True, eq=False)
class MatrixResult:
    """What :func:`analyze_matrix` found in a matrix of shape ``(n_rows, n_columns)``.

    The arrays are read-only. Equality is identity (arrays have no single truth value).

    Attributes
    ----------
    columns
        Names of the columns analysed, in matrix order (all-NaN columns are not among them).
    rank
        Numerical rank: the number of singular values above
        ``s1 * max(n_rows, n_columns) * eps``, as ``numpy.linalg.matrix_rank``.
    condition_number
        ``s1 / s_min`` in the 2-norm, as ``numpy.linalg.cond``; ``inf`` when ``s_min == 0``.
    singular_values
        Singular values in decreasing order, shape ``(min(n_rows, n_columns),)``.
    explained_variance_ratio
        Share of the total variance carried by each principal component of the
        column-centred matrix, shape ``(min(n_rows, n_columns),)``; NaN when the total
        variance is zero (every column constant).
    anomaly_score
        Per row, the Euclidean norm of the row (centred, and standardised if asked) minus its
        reconstruction from the first ``n_components`` principal components; shape
        ``(n_rows,)``.
    n_components
        Principal components kept for ``anomaly_score``.

    Examples
    --------
    >>> r = analyze_matrix(np.array([[1.0, 2.0], [2.0, 4.1], [3.0, 6.0]]))
    >>> r.columns, r.rank, r.n_components
    (('x0', 'x1'), 2, 1)
    """

    columns: tuple[str, ...]
    rank: int
    condition_number: float
    singular_values: FloatArray
    explained_variance_ratio: FloatArray
    anomaly_score: FloatArray
    n_components: int


def metric_matrix(snapshots: Sequence[Mapping[str, float]]) -> tuple[list[str], FloatArray]:
    """Arrange metric snapshots as a matrix, one row per snapshot and one column per metric.

    Parameters
    ----------
    snapshots
        One mapping ``{metric name: value}`` per row, oldest first. Values are real numbers
        (Python or numpy ints and floats; ``bool`` is refused as a likely mistake, pass
        ``float(flag)``). NaN means missing; infinity is refused.

    Returns
    -------
    names
        Sorted union of the metric names over all snapshots: the column order.
    matrix
        Float array of shape ``(len(snapshots), len(names))``; a metric absent from a
        snapshot is NaN in that row.

    Raises
    ------
    InvalidInputError
        A snapshot is not a mapping, a key is not a string, or a value is not a finite-or-NaN
        real number; the message names the snapshot index and the key.

    Examples
    --------
    >>> names, m = metric_matrix([{"latency": 0.2, "rps": 90}, {"rps": 120, "errors": 3}])
    >>> names
    ['errors', 'latency', 'rps']
    >>> m
    array([[ nan,   0.2,  90. ],
           [  3. ,   nan, 120. ]])
    """
    for i, snapshot in enumerate(snapshots):
        _check_snapshot(i, snapshot)
    names = sorted(set().union(*snapshots)) if len(snapshots) else []
    index = {name: j for j, name in enumerate(names)}
    matrix = np.full((len(snapshots), len(names)), np.nan)
    rows = [i for i, snapshot in enumerate(snapshots) for _ in snapshot]
    cols = [index[key] for snapshot in snapshots for key in snapshot]
    values = [float(v) for snapshot in snapshots for v in snapshot.values()]
    matrix[rows, cols] = values
    return names, matrix


def _check_snapshot(i: int, snapshot: object) -> None:
    """Raise unless snapshot ``i`` maps string keys to real, non-infinite numbers."""
    if not isinstance(snapshot, Mapping):
        raise InvalidInputError(
            f"snapshot {i}: expected a mapping of metric name to value, "
            f"got {type(snapshot).__name__}",
            field="snapshots",
        )
    for key, value in snapshot.items():
        if not isinstance(key, str):
            raise InvalidInputError(
                f"snapshot {i}: metric names must be strings, got {key!r}", field="snapshots"
            )
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InvalidInputError(
                f"snapshot {i}, metric {key!r}: expected a real number, got "
                f"{type(value).__name__} {value!r}",
                field=key,
            )
        if np.isinf(float(value)):
            raise InvalidInputError(
                f"snapshot {i}, metric {key!r}: expected a finite number or NaN, got {value!r}",
                field=key,
            )


def analyze_matrix(
    x: FloatArray | Sequence[Mapping[str, float]],
    *,
    columns: Sequence[str] | None = None,
    standardize: bool = True,
    variance_share: float = 0.9,
) -> MatrixResult:
    """Rank, condition number, principal components and per-row anomaly score of a matrix.

    Steps, in order:

    1. **Input.** An array ``(n_rows, n_columns)`` (1-D is one column), or metric
       snapshots, which go through :func:`metric_matrix`.
    2. **Missing values.** A column that is entirely NaN is dropped with a
       :class:`~sightline.errors.SightlineWarning` (it carries no information, and imputing
       it would make every matrix singular); ``columns`` of the result lists the columns
       kept. Other NaN cells are replaced by their column's mean.
    3. **Centring and scaling.** With ``standardize=True`` each column is z-scored with its
       own mean and population standard deviation (``ddof=0``); a constant column becomes
       all zeros (it is centred and not scaled). With ``standardize=False`` nothing is
       scaled.
    4. **Rank, condition number, singular values.** These describe the z-scored matrix
       when ``standardize=True``, and the raw matrix *as given, not centred* when
       ``standardize=False``, so that they equal ``numpy.linalg.svd``,
       ``numpy.linalg.matrix_rank`` and ``numpy.linalg.cond`` of that matrix. Note that a
       centred matrix has rank at most ``n_rows - 1``, and a constant column makes it
       singular (``condition_number`` is ``inf``).
    5. **Principal components.** ``explained_variance_ratio`` and ``anomaly_score`` always
       come from the column-centred matrix (z-scored when ``standardize=True``), since
       principal components are defined on centred data; with ``standardize=False`` this
       is the only step that centres. They equal scikit-learn's ``PCA`` on that matrix.
    6. **Anomaly score.** ``n_components`` is the smallest ``k`` whose cumulative explained
       variance ratio is ``>= variance_share`` (all components when rounding keeps the sum
       just below it; 0 when every column is constant). Each row's score is
       ``‖z_i - z_i V_k V_kᵀ‖₂``, its Euclidean distance to the ``k``-dimensional principal
       subspace. The rows scored are also the rows fitted, so a single odd row must stand
       out against the others: use it on a window of history ending with the newest row.

    Parameters
    ----------
    x
        The matrix, rows = observations (oldest first), columns = metrics; or a sequence of
        ``{metric: value}`` snapshots.
    columns
        For an array: the column names (default ``x0, x1, ...``). For snapshots: the
        metrics to analyse, in this order (default: all, sorted by name).
    standardize
        Z-score the columns first (recommended when metrics have different units).
    variance_share
        Cumulative explained variance, in ``(0, 1]``, that the kept components must reach.

    Returns
    -------
    MatrixResult

    Raises
    ------
    InvalidInputError
        Fewer than 2 rows, no column with a value, infinity, a bad snapshot, ``columns`` of
        the wrong length or naming unknown metrics, or ``variance_share`` outside ``(0, 1]``.

    Examples
    --------
    Three KPIs where ``latency`` tracks ``load`` until the last window, when it drops while
    the load stays high:

    >>> load = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 55.0]
    >>> latency = [1.1, 2.0, 3.1, 3.9, 5.0, 6.1, 7.0, 1.0]
    >>> errors = [1.0, 0.0, 2.0, 1.0, 0.0, 1.0, 2.0, 1.0]
    >>> r = analyze_matrix(np.column_stack([load, latency, errors]),
    ...                    columns=["load", "latency", "errors"])
    >>> r.rank, r.n_components
    (3, 2)
    >>> int(np.argmax(r.anomaly_score))
    7

    The raw (``standardize=False``) numbers are those of numpy:

    >>> x = np.array([[1.0, 2, 3], [2, 4, 6], [1, 0, 1], [0, 1, 1]])
    >>> r = analyze_matrix(x, standardize=False)
    >>> r.rank, r.singular_values[:2].round(6)
    (2, array([8.539935, 1.034172]))
    """
    check_in_range("variance_share", variance_share, low=0.0, high=1.0, low_inclusive=False)
    names, data = _as_matrix(x, columns)
    if data.shape[0] < 2:
        raise InvalidInputError(f"x must have at least 2 rows, got {data.shape[0]}", field="x")
    names, data = _drop_empty_columns(names, data)
    n_rows, n_cols = data.shape

    nan = np.isnan(data)
    if nan.any():
        data = np.where(nan, np.nanmean(data, axis=0), data)
    constant = (data == data[0]).all(axis=0)
    centred = data - data.mean(axis=0)
    centred[:, constant] = 0.0  # exact zeros: no rounding residue from the mean
    if standardize:
        centred /= np.where(constant, 1.0, centred.std(axis=0))

    _, s_pca, vt = np.linalg.svd(centred, full_matrices=False)
    # svd(compute_uv=False), not svdvals: numpy 1.26 (the declared floor) lacks svdvals.
    s: FloatArray = (
        s_pca if standardize else np.linalg.svd(data, compute_uv=False).astype(np.float64)
    )
    tol = s[0] * max(n_rows, n_cols) * np.finfo(np.float64).eps
    rank = int(np.count_nonzero(s > tol))
    condition = float(s[0] / s[-1]) if s[-1] > 0 else float("inf")

    power = s_pca**2
    total = power.sum()
    if total > 0:
        ratio = power / total
        share = np.searchsorted(np.cumsum(ratio), variance_share, side="left") + 1
        k = int(min(share, ratio.size))
    else:
        ratio = np.full(s_pca.size, np.nan)
        k = 0
    kept = vt[:k]
    residual = centred - (centred @ kept.T) @ kept
    score = np.linalg.norm(residual, axis=1)

    for arr in (s, ratio, score):
        arr.setflags(write=False)
    return MatrixResult(
        columns=tuple(names),
        rank=rank,
        condition_number=condition,
        singular_values=s,
        explained_variance_ratio=ratio,
        anomaly_score=score,
        n_components=k,
    )


class NewestRowResult(NamedTuple):
    """Hotelling's T² of the newest row against the rows before it (:func:`newest_row_t2`)."""

    statistic: float
    pvalue: float
    n_components: int


def newest_row_t2(x: FloatArray) -> NewestRowResult:
    """Hotelling's T² of the last row of ``x`` against the mean and covariance of the
    rows before it, with its p-value.

    ``T² = d' S⁺ d`` where ``d`` is the last row minus the mean of the previous ``n`` rows
    and ``S`` their covariance (``ddof=1``), inverted on its principal components whose
    singular values pass the numerical-rank tolerance of ``numpy.linalg.matrix_rank``
    (columns constant so far, or exactly collinear ones, add no component). For a new
    observation from the same normal distribution, ``n (n - p) / (p (n + 1)(n - 1)) T²``
    follows ``F(p, n - p)`` with ``p`` the components kept. The statistic is unchanged by
    rescaling or shifting any column; unlike a reconstruction error from the leading
    components, it also sees a row far out along a principal direction. NaN cells of the
    previous rows are replaced by their column's mean; a NaN in the last row, by the same
    mean (no deviation). Statistic and p-value are NaN when no component is kept or
    ``n <= p``.

    Examples
    --------
    >>> rng = np.random.default_rng(7)
    >>> past = rng.normal(size=(40, 3))
    >>> calm = newest_row_t2(np.vstack([past, [0.1, -0.2, 0.3]]))
    >>> jump = newest_row_t2(np.vstack([past, [6.0, 0.0, 0.0]]))
    >>> calm.pvalue > 0.5, jump.pvalue < 1e-4, jump.n_components
    (True, True, 3)
    """
    data = check_samples(x, "x")
    if data.shape[0] < 2:
        raise InvalidInputError(f"x must have at least 2 rows, got {data.shape[0]}", field="x")
    past, row = data[:-1], data[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column: dropped below
        mean = np.nanmean(past, axis=0)
    known = np.isfinite(mean)
    past, row, mean = past[:, known], row[known], mean[known]
    past = np.where(np.isnan(past), mean, past)
    row = np.where(np.isnan(row), mean, row)
    n = past.shape[0]
    std = past.std(axis=0, ddof=1) if n > 1 else np.zeros(past.shape[1])
    varying = std > 0
    centred = (past[:, varying] - mean[varying]) / std[varying]
    d = (row[varying] - mean[varying]) / std[varying]
    if centred.shape[1] == 0:
        return NewestRowResult(np.nan, np.nan, 0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    tol = s[0] * max(centred.shape) * np.finfo(np.float64).eps
    kept = s > tol
    p = int(np.count_nonzero(kept))
    if n <= p:
        return NewestRowResult(np.nan, np.nan, p)
    t2 = float(np.sum((vt[kept] @ d) ** 2 / s[kept] ** 2) * (n - 1))
    return NewestRowResult(t2, float(sps.f.sf(t2 / _t2_per_f(n, p), p, n - p)), p)


def t2_limit(alpha: float, n: int, p: int) -> float:
    """The T² of a new row whose p-value is ``alpha``, for ``n`` previous rows and ``p``
    components (:func:`newest_row_t2`); NaN unless ``n > p > 0``.

    >>> round(t2_limit(0.05, 40, 3), 3)
    9.266
    """
    if not n > p > 0:
        return float("nan")
    return float(sps.f.isf(alpha, p, n - p)) * _t2_per_f(n, p)


def _t2_per_f(n: int, p: int) -> float:
    """T² = this factor times an ``F(p, n - p)`` variable (new row, ``n`` previous)."""
    return p * (n + 1) * (n - 1) / (n * (n - p))


def _as_matrix(
    x: FloatArray | Sequence[Mapping[str, float]], columns: Sequence[str] | None
) -> tuple[list[str], FloatArray]:
    """Names and float matrix from an array or snapshots, with ``columns`` applied."""
    if isinstance(x, Sequence) and len(x) > 0 and isinstance(x[0], Mapping):
        names, data = metric_matrix(x)
        if columns is None:
            return names, data
        wanted = _check_names(columns)
        unknown = [c for c in wanted if c not in names]
        if unknown:
            raise InvalidInputError(
                f"columns not found in any snapshot: {unknown}; available: {names}",
                field="columns",
            )
        index = {name: j for j, name in enumerate(names)}
        return wanted, data[:, [index[c] for c in wanted]]
    data = check_samples(cast("npt.ArrayLike", x), "x")
    if columns is None:
        return [f"x{j}" for j in range(data.shape[1])], data
    wanted = _check_names(columns)
    if len(wanted) != data.shape[1]:
        raise InvalidInputError(
            f"columns must name every column of x: got {len(wanted)} names "
            f"for {data.shape[1]} columns",
            field="columns",
        )
    return wanted, data


def _check_names(columns: Sequence[str]) -> list[str]:
    """Return ``columns`` as a list, refusing non-strings and duplicates."""
    wanted = list(columns)
    if isinstance(columns, str) or not all(isinstance(c, str) for c in wanted):
        raise InvalidInputError(
            f"columns must be a sequence of strings, got {columns!r}", field="columns"
        )
    duplicates = sorted({c for c in wanted if wanted.count(c) > 1})
    if duplicates:
        raise InvalidInputError(f"duplicate names in columns: {duplicates}", field="columns")
    return wanted


def _drop_empty_columns(names: list[str], data: FloatArray) -> tuple[list[str], FloatArray]:
    """Drop all-NaN columns with a warning; raise when none is left."""
    empty = np.isnan(data).all(axis=0)
    if empty.all():
        raise InvalidInputError(f"x has no column with a value (shape {data.shape})", field="x")
    if empty.any():
        dropped = [names[j] for j in np.flatnonzero(empty)]
        warnings.warn(
            f"columns without any value were left out of the analysis: {dropped}",
            SightlineWarning,
            stacklevel=3,
        )
        names = [names[j] for j in np.flatnonzero(~empty)]
        data = data[:, ~empty]
    return names, data


__all__ = [
    "MatrixResult",
    "NewestRowResult",
    "analyze_matrix",
    "metric_matrix",
    "newest_row_t2",
    "t2_limit",
]
