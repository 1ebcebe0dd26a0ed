"""Which drift statistic applies to which column, with which threshold.

The default (see ``docs/drift.md`` for the reasoning and the measured false-alarm table):

* fewer than :data:`LARGE_SAMPLE` rows on the smaller side: a test with a p-value that
  means something at that size, Kolmogorov-Smirnov for numeric columns and chi-square for
  categorical ones, with the Benjamini-Hochberg false-discovery-rate control across columns
  at ``alpha`` (0.05);
* otherwise an effect size with a fixed threshold, so that huge samples do not flag trivial
  differences: Wasserstein distance in reference standard deviations (>= 0.1) for numeric
  columns, Jensen-Shannon distance in base 2 (>= 0.1) for categorical ones.

Any column can be given another method and threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from sightline._types import ColumnKind
from sightline.errors import InvalidInputError

#: Rows on the smaller side from which effect sizes replace p-value tests.
LARGE_SAMPLE: Final = 5_000

#: Methods whose decision is on a p-value (Benjamini-Hochberg adjusted across columns).
PVALUE_METHODS: Final = frozenset({"ks", "anderson_darling", "cramer_von_mises", "chi2"})

#: Methods on the raw sorted samples (numeric columns only).
SAMPLE_METHODS: Final = frozenset(
    {"ks", "wasserstein", "wasserstein_normed", "anderson_darling", "cramer_von_mises"}
)

#: Methods on bin or category counts (numeric columns are binned on reference quantiles).
COUNT_METHODS: Final = frozenset(
    {"chi2", "psi", "jensen_shannon", "hellinger", "kl_divergence", "l_infinity"}
)

ALL_METHODS: Final = SAMPLE_METHODS | COUNT_METHODS

#: Drift when the statistic is >= the threshold (distances); the unit is the method's own.
DEFAULT_THRESHOLDS: Final[Mapping[str, float]] = {
    "wasserstein_normed": 0.1,
    "wasserstein": 0.1,
    "psi": 0.1,
    "jensen_shannon": 0.1,
    "hellinger": 0.1,
    "kl_divergence": 0.1,
    "l_infinity": 0.1,
}


@dataclass(frozen=True, slots=True)
class DriftOptions:
    """Settings of the drift step.

    Parameters
    ----------
    methods
        Method per column name, overriding the default choice.
    thresholds
        Threshold per column name (distances: drift when ``value >= threshold``;
        p-value tests: drift when the adjusted p-value ``< threshold``).
    numeric_method, categorical_method
        Method for every numeric / categorical column without an entry in ``methods``.
    alpha
        False discovery rate for p-value tests (Benjamini-Hochberg across columns).
    drift_share
        The data set drifted when at least this share of its columns drifted.
    n_bins
        Number of reference-quantile bins for count-based methods on numeric columns.

    Examples
    --------
    >>> DriftOptions(methods={"age": "psi"}).method_for("age", "numeric", 100, 100)
    'psi'
    >>> DriftOptions().method_for("age", "numeric", 100_000, 20_000)
    'wasserstein_normed'
    """

    methods: Mapping[str, str] = field(default_factory=dict)
    thresholds: Mapping[str, float] = field(default_factory=dict)
    numeric_method: str | None = None
    categorical_method: str | None = None
    alpha: float = 0.05
    drift_share: float = 0.5
    n_bins: int = 10

    def __post_init__(self) -> None:
        for column, method in self.methods.items():
            _check_method(method, f"methods[{column!r}]")
        for name in ("numeric_method", "categorical_method"):
            value = getattr(self, name)
            if value is not None:
                _check_method(value, name)
        if self.categorical_method in SAMPLE_METHODS:
            raise InvalidInputError(
                f"categorical_method {self.categorical_method!r} needs numeric values; "
                f"use one of {sorted(COUNT_METHODS)}",
                field="categorical_method",
            )
        if not 0.0 < self.alpha < 1.0:
            raise InvalidInputError(f"alpha must be in (0, 1), got {self.alpha!r}", field="alpha")
        if not 0.0 < self.drift_share <= 1.0:
            raise InvalidInputError(
                f"drift_share must be in (0, 1], got {self.drift_share!r}", field="drift_share"
            )
        if self.n_bins < 2:
            raise InvalidInputError(f"n_bins must be >= 2, got {self.n_bins!r}", field="n_bins")

    def method_for(self, column: str, kind: ColumnKind, n_ref: int, n_cur: int) -> str:
        """The method for one column: explicit, then per kind, then the default rule."""
        if column in self.methods:
            method = self.methods[column]
            if kind == "categorical" and method in SAMPLE_METHODS:
                raise InvalidInputError(
                    f"column {column!r} is categorical; method {method!r} needs numeric values",
                    field=column,
                )
            return method
        chosen = self.numeric_method if kind == "numeric" else self.categorical_method
        if chosen is not None:
            return chosen
        small = min(n_ref, n_cur) < LARGE_SAMPLE
        if kind == "numeric":
            return "ks" if small else "wasserstein_normed"
        return "chi2" if small else "jensen_shannon"

    def threshold_for(self, column: str, method: str) -> float:
        """The threshold for one column and method."""
        if column in self.thresholds:
            return float(self.thresholds[column])
        if method in PVALUE_METHODS:
            return self.alpha
        return DEFAULT_THRESHOLDS[method]


def _check_method(method: str, field_name: str) -> None:
    if method not in ALL_METHODS:
        raise InvalidInputError(
            f"{field_name}: unknown drift method {method!r}; choose one of {sorted(ALL_METHODS)}",
            field=field_name,
        )


__all__ = [
    "ALL_METHODS",
    "COUNT_METHODS",
    "DEFAULT_THRESHOLDS",
    "LARGE_SAMPLE",
    "PVALUE_METHODS",
    "SAMPLE_METHODS",
    "DriftOptions",
]
