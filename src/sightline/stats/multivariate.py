"""Multivariate drift from PCA reconstruction error (NannyML's data reconstruction, numeric).

A PCA fitted on the standardised reference keeps the directions that carry most of its
variance. Rows whose columns keep their reference correlations are reconstructed well from
those directions; when a correlation breaks, even with unchanged marginal distributions,
rows leave the principal subspace and the mean reconstruction error of a chunk rises above
what the reference chunks showed.

References
----------
.. [1] NannyML, "Data Reconstruction with PCA", https://nannyml.readthedocs.io/en/stable/
   how_it_works/multivariate_drift.html, and ``nannyml/drift/multivariate/
   data_reconstruction/calculator.py`` (version 0.13.1).
.. [2] Jolliffe, I. T. (2002). *Principal Component Analysis*, 2nd ed. Springer.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Self

import numpy as np
import numpy.typing as npt

from sightline._types import FloatArray
from sightline._validate import check_in_range, check_int, check_samples
from sightline.errors import InvalidInputError, NotFittedError


class ReconstructionResult(NamedTuple):
    """Reconstruction error of one chunk, with the reference thresholds and the alert.

    Attributes
    ----------
    error
        Mean over the chunk's rows of the Euclidean reconstruction error.
    sampling_error
        ``std(e, ddof=1) / sqrt(n)``, the standard error of ``error``.
    lower
        Lower threshold; NaN when there is none (it would have been ``<= 0``).
    upper
        Upper threshold.
    alert
        ``error`` is outside the open interval ``(lower, upper)``.
    n
        Rows in the chunk.

    Examples
    --------
    >>> ReconstructionResult(1.2, 0.01, float("nan"), 1.1, True, 50).alert
    True
    """

    error: float
    sampling_error: float
    lower: float
    upper: float
    alert: bool
    n: int


class PCAReconstruction:
    """Drift detector on the PCA reconstruction error of numeric columns.

    Fit on the reference:

    1. NaN cells are replaced by the reference column means (``mean_``).
    2. Columns are standardised with the reference mean and population standard deviation
       (``ddof=0``) of the imputed data; a constant column gets scale 1 (``scale_``).
    3. PCA keeps the smallest number of components whose cumulative explained variance
       ratio is strictly greater than ``variance_share``, the rule of scikit-learn's
       ``PCA(n_components=variance_share)`` (``searchsorted(..., side="right") + 1``).
    4. The reference is cut into consecutive chunks of ``chunk_size`` rows (the last,
       incomplete chunk is kept, as NannyML's ``incomplete='keep'``); the thresholds are
       ``mean ± n_sigma * std`` (``ddof=0``) of those chunks' mean errors. A lower
       threshold ``<= 0`` becomes NaN: no lower bound, as NannyML does.

    Scoring a chunk imputes its NaN cells with the reference means, standardises with the
    reference scale, and reconstructs every row from the kept components; the row error is
    ``‖z - ẑ‖₂`` (not squared). These are the numbers of scikit-learn's ``SimpleImputer``,
    ``StandardScaler`` and ``PCA(svd_solver="full")`` pipeline that NannyML runs; categorical
    columns must be encoded by the caller (NannyML uses frequency encoding).

    Parameters
    ----------
    variance_share
        Explained variance, in ``(0, 1)``, that the kept components must exceed.
    n_sigma
        Width of the threshold band in reference-chunk standard deviations (``> 0``).

    Attributes
    ----------
    n_features_in_ : int
        Columns seen in ``fit``.
    mean_, scale_ : FloatArray
        Reference column means (also the imputation values) and standard deviations.
    components_ : FloatArray
        Kept principal axes, shape ``(n_components_, n_features_in_)``, signs as
        scikit-learn's ``svd_flip`` (largest absolute entry of each axis positive).
    n_components_ : int
        Components kept.
    explained_variance_ratio_ : FloatArray
        Explained variance ratio of the kept components, shape ``(n_components_,)``.
    reference_errors_ : FloatArray
        Mean reconstruction error of each reference chunk.
    lower_, upper_ : float
        Alert thresholds; ``lower_`` is NaN when there is no lower bound.

    Examples
    --------
    Two correlated columns; then a chunk with the same marginals but the correlation
    reversed:

    >>> rng = np.random.default_rng(7)
    >>> cov = [[1.0, 0.9], [0.9, 1.0]]
    >>> reference = rng.multivariate_normal([0, 0], cov, size=2000)
    >>> detector = PCAReconstruction().fit(reference)
    >>> detector.n_components_
    1
    >>> detector.score(rng.multivariate_normal([0, 0], cov, size=200)).alert
    False
    >>> broken = rng.multivariate_normal([0, 0], [[1.0, -0.9], [-0.9, 1.0]], size=200)
    >>> result = detector.score(broken)
    >>> result.alert, result.error > detector.upper_
    (True, True)
    """

    def __init__(self, variance_share: float = 0.65, n_sigma: float = 3.0) -> None:
        check_in_range(
            "variance_share",
            variance_share,
            low=0.0,
            high=1.0,
            low_inclusive=False,
            high_inclusive=False,
        )
        check_in_range("n_sigma", n_sigma, low=0.0, low_inclusive=False)
        self.variance_share = variance_share
        self.n_sigma = n_sigma

    def __repr__(self) -> str:
        return (
            f"PCAReconstruction(variance_share={self.variance_share!r}, n_sigma={self.n_sigma!r})"
        )

    def fit(self, reference: npt.ArrayLike, *, chunk_size: int | None = None) -> Self:
        """Fit imputation, scaling and PCA on the reference, then the alert thresholds.

        Parameters
        ----------
        reference
            Numeric samples ``(n_rows, n_columns)``, at least 2 rows; NaN means missing,
            but every column needs at least one value and not all columns may be constant.
        chunk_size
            Rows per reference chunk for the thresholds; default ``max(n_rows // 10, 1)``.
            It must give at least 2 chunks.

        Returns
        -------
        The fitted detector.

        Examples
        --------
        >>> x = np.random.default_rng(7).normal(size=(100, 3))
        >>> PCAReconstruction(variance_share=0.5).fit(x, chunk_size=25).reference_errors_.shape
        (4,)
        """
        data = check_samples(reference, "reference")
        n_rows, n_cols = data.shape
        if n_rows < 2:
            raise InvalidInputError(
                f"reference must have at least 2 rows, got {n_rows}", field="reference"
            )
        size = (
            max(n_rows // 10, 1) if chunk_size is None else check_int("chunk_size", chunk_size, 1)
        )
        if -(-n_rows // size) < 2:
            raise InvalidInputError(
                f"chunk_size={size} leaves the {n_rows} reference rows in a single chunk; "
                "thresholds need at least 2 chunks: pass a smaller chunk_size",
                field="chunk_size",
            )
        empty = np.flatnonzero(np.isnan(data).all(axis=0))
        if empty.size:
            raise InvalidInputError(
                f"reference columns {empty.tolist()} have no value: their mean, used to "
                "impute missing values, is undefined",
                field="reference",
            )
        # In place where possible: on large references each temporary costs real time.
        valid = ~np.isnan(data)
        counts = valid.sum(axis=0)
        mean = np.where(valid, data, 0.0).sum(axis=0) / counts
        z = data - mean
        z[~valid] = 0.0  # imputed with the mean: 0 once centred
        spread = np.sqrt(np.einsum("ij,ij->j", z, z) / n_rows)
        constant = spread == 0.0
        if constant.all():
            raise InvalidInputError(
                "reference has no variance: every column is constant", field="reference"
            )
        scale = np.where(constant, 1.0, spread)
        z /= scale

        # The SVD of the R factor has the singular values and right vectors of the centred
        # data itself, at a fraction of the cost of an SVD of the tall matrix.
        r = np.linalg.qr(z - z.mean(axis=0), mode="r")
        _, s, vt = np.linalg.svd(r, full_matrices=False)
        ratio = s**2 / np.sum(s**2)
        share = int(np.searchsorted(np.cumsum(ratio), self.variance_share, side="right")) + 1
        k = min(share, s.size)
        axes = vt[:k]
        signs = np.sign(axes[np.arange(k), np.argmax(np.abs(axes), axis=1)])

        self.n_features_in_ = n_cols
        self.mean_ = mean
        self.scale_ = scale
        self.components_ = axes * signs[:, None]
        self.n_components_ = k
        self.explained_variance_ratio_ = ratio[:k]

        errors = self._errors(z)
        chunk = np.arange(n_rows) // size
        self.reference_errors_ = np.bincount(chunk, weights=errors) / np.bincount(chunk)
        self.lower_, self.upper_ = _std_thresholds(self.reference_errors_, self.n_sigma)
        return self

    def row_errors(self, x: npt.ArrayLike) -> FloatArray:
        """Euclidean reconstruction error of every row of ``x``.

        Parameters
        ----------
        x
            Samples ``(n_rows, n_columns)`` with the columns of the reference, at least one
            row; NaN cells are replaced by the reference means (an all-NaN row has error 0).

        Returns
        -------
        ``‖z_i - ẑ_i‖₂`` per row, shape ``(n_rows,)``, where ``z`` is ``x`` imputed and
        standardised with the reference and ``ẑ`` its projection on the kept components.

        Examples
        --------
        >>> x = np.random.default_rng(7).normal(size=(100, 2))
        >>> detector = PCAReconstruction(variance_share=0.5).fit(x)
        >>> detector.row_errors(detector.mean_[None, :])
        array([0.])
        """
        return self._errors(self._standardize(x, min_rows=1))

    def score(self, x: npt.ArrayLike) -> ReconstructionResult:
        """Mean reconstruction error of a chunk, compared with the reference thresholds.

        Parameters
        ----------
        x
            One chunk: samples ``(n_rows, n_columns)`` with the reference's columns, at
            least 2 rows; NaN cells are imputed with the reference means.

        Returns
        -------
        ReconstructionResult

        Examples
        --------
        >>> x = np.random.default_rng(7).normal(size=(1000, 3))
        >>> r = PCAReconstruction().fit(x).score(x[:100])
        >>> r.n, r.alert
        (100, False)
        """
        return self.score_errors(self._errors(self._standardize(x, min_rows=2)))

    def score_errors(self, errors: npt.ArrayLike) -> ReconstructionResult:
        """The :meth:`score` of a chunk whose :meth:`row_errors` are already known.

        Lets a caller compute the row errors of a large chunk block by block.

        Examples
        --------
        >>> x = np.random.default_rng(7).normal(size=(1000, 3))
        >>> detector = PCAReconstruction().fit(x)
        >>> detector.score_errors(detector.row_errors(x[:100])) == detector.score(x[:100])
        True
        """
        errors = np.asarray(errors, dtype=np.float64)
        if errors.ndim != 1 or errors.size < 2:
            raise InvalidInputError(
                f"errors must be 1-D with at least 2 rows, got shape {errors.shape}",
                field="errors",
            )
        n = errors.size
        error = float(errors.mean())
        lower, upper = self.lower_, self.upper_
        alert = error >= upper or (not math.isnan(lower) and error <= lower)
        return ReconstructionResult(
            error=error,
            sampling_error=float(errors.std(ddof=1) / math.sqrt(n)),
            lower=lower,
            upper=upper,
            alert=bool(alert),
            n=n,
        )

    def _standardize(self, x: npt.ArrayLike, *, min_rows: int) -> FloatArray:
        """Check ``x`` against the fit, impute and standardise it."""
        if not hasattr(self, "components_"):
            raise NotFittedError(
                "this PCAReconstruction is not fitted yet: call fit(reference) first"
            )
        data = check_samples(x, "x")
        if data.shape[1] != self.n_features_in_:
            raise InvalidInputError(
                f"x has {data.shape[1]} columns but the detector was fitted on "
                f"{self.n_features_in_}",
                field="x",
            )
        if data.shape[0] < min_rows:
            raise InvalidInputError(
                f"x must have at least {min_rows} rows, got {data.shape[0]}", field="x"
            )
        z: FloatArray = (data - self.mean_) / self.scale_
        z[np.isnan(z)] = 0.0  # a missing cell takes the reference mean: 0 once standardised
        return z

    def _errors(self, z: FloatArray) -> FloatArray:
        """Row norms of ``z`` minus its projection on the kept components."""
        axes = self.components_
        errors: FloatArray = np.linalg.norm(z - (z @ axes.T) @ axes, axis=1)
        return errors


def _std_thresholds(values: FloatArray, n_sigma: float) -> tuple[float, float]:
    """``mean ± n_sigma * std`` (ddof 0) of ``values``; a lower bound ``<= 0`` becomes NaN."""
    centre = float(values.mean())
    spread = n_sigma * float(values.std())
    lower = centre - spread
    return (lower if lower > 0 else math.nan), centre + spread


__all__ = ["PCAReconstruction", "ReconstructionResult"]
