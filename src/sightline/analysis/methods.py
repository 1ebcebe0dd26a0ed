"""Which drift statistic applies to which column, with which threshold.

The default, the same for every column kind and size, and the same whether the data or
their profiles are compared (the collector computes it exactly from the profiles; see
``docs/drift.md`` for the reasoning and the measured false-alarm table):

``jensen_shannon``: the Jensen-Shannon distance (base 2) between the reference's and the
current shares on the reference's bins (numeric columns: its deciles; categorical: its
categories plus one bin for the unseen ones), with the p-value of the chi-square test of
homogeneity on the same counts. A column drifted when the change is both significant (the
Benjamini-Hochberg adjusted p-value across columns < ``alpha``, 0.05) and large enough to
matter (the distance >= 0.05 for numeric columns, about a 0.12 standard-deviation shift of
a normal's mean; >= 0.1 for categorical ones). The test keeps small windows from crying
wolf, the distance keeps huge ones from flagging trivial differences.

Any column can be given another method and threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from sightline._types import ColumnKind
from sightline.errors import InvalidInputError

#: Methods whose decision is on a p-value (Benjamini-Hochberg adjusted across columns).
PVALUE_METHODS: Final = frozenset({"ks", "anderson_darling", "cramer_von_mises", "chi2"})

#: Distances that also carry the chi-square test of homogeneity on the same counts: drift
#: when the BH-adjusted p-value < ``alpha`` and the distance >= its threshold.
TESTED_DISTANCES: Final = frozenset({"jensen_shannon"})

#: The default method, for every column kind and size.
DEFAULT_METHOD: Final = "jensen_shannon"

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

#: Thresholds of numeric columns that differ from :data:`DEFAULT_THRESHOLDS`: a
#: Jensen-Shannon distance of 0.05 on deciles is a 0.12 SD shift of a normal's mean.
NUMERIC_THRESHOLDS: Final[Mapping[str, float]] = {"jensen_shannon": 0.05}


@dataclass(frozen=True, slots=True)
class DriftOptions:
    """Settings of the drift step.

    Parameters
    ----------
    methods
        Method per column name, overriding the default choice.
    thresholds
        Threshold per column name (distances: drift when ``value >= threshold``, and for
        :data:`TESTED_DISTANCES` also the adjusted p-value ``< alpha``; p-value tests:
        drift when the adjusted p-value ``< threshold``).
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
    >>> DriftOptions(methods={"age": "psi"}).method_for("age", "numeric")
    'psi'
    >>> DriftOptions().method_for("age", "numeric")
    'jensen_shannon'
    >>> DriftOptions().threshold_for("age", "jensen_shannon", "numeric")
    0.05
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

    def method_for(self, column: str, kind: ColumnKind) -> str:
        """The method for one column: explicit, then per kind, then :data:`DEFAULT_METHOD`."""
        if column in self.methods:
            method = self.methods[column]
            if kind == "categorical" and method in SAMPLE_METHODS:
                raise InvalidInputError(
                    f"column {column!r} is categorical; method {method!r} needs numeric values",
                    field=column,
                )
            return method
        chosen = self.numeric_method if kind == "numeric" else self.categorical_method
        return DEFAULT_METHOD if chosen is None else chosen

    def threshold_for(self, column: str, method: str, kind: ColumnKind) -> float:
        """The threshold for one column, method and kind."""
        if column in self.thresholds:
            return float(self.thresholds[column])
        if method in PVALUE_METHODS:
            return self.alpha
        if kind == "numeric" and method in NUMERIC_THRESHOLDS:
            return NUMERIC_THRESHOLDS[method]
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
    "DEFAULT_METHOD",
    "DEFAULT_THRESHOLDS",
    "NUMERIC_THRESHOLDS",
    "PVALUE_METHODS",
    "SAMPLE_METHODS",
    "TESTED_DISTANCES",
    "DriftOptions",
]
