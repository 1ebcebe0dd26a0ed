"""Drift rows: one statistic per column, the false-discovery control, the data set verdict."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, NamedTuple

import numpy as np

from sightline._types import ColumnKind, FloatArray, IntArray
from sightline.analysis.methods import (
    PVALUE_METHODS,
    SAMPLE_METHODS,
    TESTED_DISTANCES,
    DriftOptions,
)
from sightline.analysis.reference import FittedReference, PairStat, Side
from sightline.analysis.rows import Distribution, MetricRow, RowContext
from sightline.stats import drift as sd
from sightline.stats.multiple import benjamini_hochberg

SampleStat = Callable[[sd.SortedColumns, sd.SortedColumns], "FloatArray | sd.TestResult"]
CountStat = Callable[[IntArray, IntArray], "FloatArray | sd.TestResult"]

SAMPLE_STATS: Final[dict[str, SampleStat]] = {
    "ks": sd.ks,
    "wasserstein": sd.wasserstein,
    "wasserstein_normed": sd.wasserstein_normed,
    "anderson_darling": sd.anderson_darling,
    "cramer_von_mises": sd.cramer_von_mises,
}


def tested_jensen_shannon(reference: IntArray, current: IntArray) -> sd.TestResult:
    """Jensen-Shannon distance (base 2) of every column's counts, with the p-value of the
    chi-square test of homogeneity on the same counts.

    >>> r = tested_jensen_shannon(np.array([[50], [50]]), np.array([[70], [30]]))
    >>> float(r.statistic[0].round(4)), float(r.pvalue[0].round(4))
    (0.1741, 0.0061)
    """
    return sd.TestResult(sd.jensen_shannon(reference, current), sd.chi2(reference, current).pvalue)


COUNT_STATS: Final[dict[str, CountStat]] = {
    "chi2": sd.chi2,
    "psi": sd.psi,
    "jensen_shannon": tested_jensen_shannon,
    "hellinger": sd.hellinger,
    "kl_divergence": sd.kl_divergence,
    "l_infinity": sd.l_infinity,
}

DESCRIPTIONS: Final = {
    "ks": "two-sample Kolmogorov-Smirnov test",
    "wasserstein": "Wasserstein-1 distance",
    "wasserstein_normed": "Wasserstein-1 distance / reference std",
    "anderson_darling": "Anderson-Darling k-sample test (p capped to [0.001, 0.25])",
    "cramer_von_mises": "Cramer-von Mises two-sample test",
    "chi2": "chi-square test of homogeneity",
    "psi": "population stability index",
    "jensen_shannon": "Jensen-Shannon distance (base 2)",
    "hellinger": "Hellinger distance",
    "kl_divergence": "Kullback-Leibler divergence KL(reference || current)",
    "l_infinity": "L-infinity distance of shares",
}


#: How a count statistic of a numeric column was obtained (data and profiles alike).
BINNED: Final = " on the reference's quantile bins"


@dataclass(frozen=True, slots=True)
class ColumnStat:
    """The statistic of one column before thresholds and the false-discovery control.

    ``source`` says how it was obtained (appended to the method description);
    ``reason``, when set, says why it could not be computed.
    """

    column: str
    kind: ColumnKind
    method: str
    value: float
    p_value: float
    n_ref: int
    n_cur: int
    source: str = ""
    reason: str = ""


class SampleResult(NamedTuple):
    """The statistic of one numeric column on its sorted samples (p-value NaN if none)."""

    value: float
    p_value: float


def sample_stat(options: DriftOptions) -> PairStat[SampleResult | None]:
    """The statistic of a numeric column from both sorted sides, for methods that need them.

    Columns whose method works on bin counts get ``None`` (their statistic comes from the
    bins, see :func:`drift_rows`).
    """

    def stat(name: str, ref: sd.SortedColumns, cur: sd.SortedColumns) -> SampleResult | None:
        method = options.method_for(name, "numeric")
        if method not in SAMPLE_METHODS:
            return None
        result = SAMPLE_STATS[method](ref, cur)
        if isinstance(result, sd.TestResult):
            return SampleResult(float(result.statistic[0]), float(result.pvalue[0]))
        return SampleResult(float(result[0]), np.nan)

    return stat


def drift_rows(
    ref: FittedReference,
    cur: Side,
    samples: Sequence[SampleResult | None],
    options: DriftOptions,
    ctx: RowContext,
) -> tuple[list[MetricRow], dict[str, Distribution]]:
    """Rows of drift statistics for every monitored column of ``cur``, and chart data.

    ``samples`` holds the :func:`sample_stat` of every numeric column of ``cur``.
    """
    num_idx = [ref.numeric_names.index(n) for n in cur.numeric.names]
    cat_idx = [ref.categorical_names.index(n) for n in cur.categorical.names]
    cur_bins = cur.numeric.bins
    ref_bins = _rows(ref.bins[:, num_idx], cur_bins.shape[0])
    cur_cats = cur.categorical.counts
    ref_cats = _rows(ref.side.categorical.counts[:, cat_idx], cur_cats.shape[0])

    stats = _numeric_stats(ref, cur, num_idx, samples, ref_bins, cur_bins, options)
    stats += _categorical_stats(ref, cur, cat_idx, ref_cats, cur_cats, options)
    rows = decide(stats, options, ctx)
    dists = _numeric_distributions(ref, cur, num_idx, ref_bins, cur_bins)
    dists.update(_categorical_distributions(ref, cur, cat_idx, ref_cats, cur_cats))
    return rows, dists


def _rows(counts: IntArray, n: int) -> IntArray:
    """Counts cut or zero-padded to ``n`` rows (padding rows are empty bins)."""
    if counts.shape[0] >= n:
        return counts[:n]
    pad = np.zeros((n - counts.shape[0], counts.shape[1]), dtype=counts.dtype)
    return np.vstack([counts, pad])


def _numeric_stats(
    ref: FittedReference,
    cur: Side,
    num_idx: list[int],
    samples: Sequence[SampleResult | None],
    ref_bins: IntArray,
    cur_bins: IntArray,
    options: DriftOptions,
) -> list[ColumnStat]:
    names = cur.numeric.names
    n_ref = ref.side.numeric.n_valid[num_idx]
    n_cur = cur.numeric.n_valid
    groups = _group(names, "numeric", n_ref, n_cur, options)
    out: list[ColumnStat] = []
    binned = BINNED
    for method, cols in groups.items():
        if method in SAMPLE_METHODS:
            found = [samples[j] or SampleResult(np.nan, np.nan) for j in cols]
            values = sd.TestResult(
                np.array([s.value for s in found]), np.array([s.p_value for s in found])
            )
            out += _stats(names, "numeric", cols, method, values, n_ref, n_cur, source="")
        else:
            result = COUNT_STATS[method](ref_bins[:, cols], cur_bins[:, cols])
            out += _stats(names, "numeric", cols, method, result, n_ref, n_cur, source=binned)
    return out


def _categorical_stats(
    ref: FittedReference,
    cur: Side,
    cat_idx: list[int],
    ref_cats: IntArray,
    cur_cats: IntArray,
    options: DriftOptions,
) -> list[ColumnStat]:
    names = cur.categorical.names
    n_ref = ref.side.categorical.n_valid[cat_idx]
    n_cur = cur.categorical.n_valid
    out: list[ColumnStat] = []
    for method, cols in _group(names, "categorical", n_ref, n_cur, options).items():
        result = COUNT_STATS[method](ref_cats[:, cols], cur_cats[:, cols])
        out += _stats(names, "categorical", cols, method, result, n_ref, n_cur, source="")
    return out


def _group(
    names: Sequence[str],
    kind: ColumnKind,
    n_ref: IntArray,
    n_cur: IntArray,
    options: DriftOptions,
) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        method = options.method_for(name, kind)
        groups.setdefault(method, []).append(j)
    return groups


def _stats(
    names: Sequence[str],
    kind: ColumnKind,
    cols: list[int],
    method: str,
    result: FloatArray | sd.TestResult,
    n_ref: IntArray,
    n_cur: IntArray,
    *,
    source: str,
) -> list[ColumnStat]:
    if isinstance(result, sd.TestResult):
        values, pvalues = result.statistic, result.pvalue
    else:
        values, pvalues = result, np.full(len(cols), np.nan)
    return [
        ColumnStat(
            names[j],
            kind,
            method,
            float(values[i]),
            float(pvalues[i]),
            int(n_ref[j]),
            int(n_cur[j]),
            source,
        )
        for i, j in enumerate(cols)
    ]


def decide(stats: list[ColumnStat], options: DriftOptions, ctx: RowContext) -> list[MetricRow]:
    """Apply thresholds (Benjamini-Hochberg across p-value columns) and build the rows."""
    tested = [s for s in stats if s.method in PVALUE_METHODS | TESTED_DISTANCES]
    adjusted = (
        dict(
            zip(
                [s.column for s in tested],
                benjamini_hochberg([s.p_value for s in tested]),
                strict=True,
            )
        )
        if tested
        else {}
    )
    rows: list[MetricRow] = []
    n_drifted = n_computed = 0
    for s in stats:
        reason = _not_computed_reason(s)
        if reason:
            rows.append(
                ctx.not_computed(s.method, reason, column=s.column, n_ref=s.n_ref, n_cur=s.n_cur)
            )
            continue
        threshold = options.threshold_for(s.column, s.method, s.kind)
        if s.method in PVALUE_METHODS:
            p = float(adjusted[s.column])
            alert = bool(p < threshold)
            method = f"{DESCRIPTIONS[s.method]}{s.source}, BH-adjusted p < {threshold:g}"
            upper = np.nan
        elif s.method in TESTED_DISTANCES:
            p = float(adjusted[s.column])
            alert = bool(s.value >= threshold and p < options.alpha)
            method = (
                f"{DESCRIPTIONS[s.method]}{s.source}, drift when >= {threshold:g} and the "
                f"chi-square test's BH-adjusted p < {options.alpha:g}"
            )
            upper = threshold
        else:
            p = np.nan
            alert = bool(s.value >= threshold)
            method = f"{DESCRIPTIONS[s.method]}{s.source}, drift when >= {threshold:g}"
            upper = threshold
        n_computed += 1
        n_drifted += alert
        rows.append(
            ctx.row(
                s.method,
                s.value,
                column=s.column,
                upper=upper,
                alert=alert,
                n_ref=s.n_ref,
                n_cur=s.n_cur,
                method=method,
                p_value=p,
            )
        )
    rows += _dataset_rows(n_drifted, n_computed, options, ctx)
    return rows


def _not_computed_reason(s: ColumnStat) -> str:
    if s.reason:
        return s.reason
    if s.n_ref == 0:
        return "no values in reference"
    if s.n_cur == 0:
        return "no values in current"
    if not np.isfinite(s.value):
        return "statistic undefined for these values (a single category or bin?)"
    return ""


def _dataset_rows(
    n_drifted: int, n_computed: int, options: DriftOptions, ctx: RowContext
) -> list[MetricRow]:
    method = f"share of drifted columns, data set drifted when >= {options.drift_share:g}"
    if n_computed == 0:
        return [ctx.not_computed("drift_share", "no column could be compared")]
    share = n_drifted / n_computed
    return [
        ctx.row(
            "drift_share",
            share,
            upper=options.drift_share,
            alert=share >= options.drift_share,
            method=method,
        ),
        ctx.row(
            "drifted_columns",
            n_drifted,
            upper=float(n_computed),
            method="drifted of computed columns",
        ),
    ]


def _shares(counts: IntArray) -> tuple[float, ...]:
    total = counts.sum()
    return tuple((counts / total).tolist()) if total else (0.0,) * len(counts)


def numeric_distribution(
    name: str, edges: FloatArray, ref_bins: IntArray, cur_bins: IntArray
) -> Distribution:
    """Chart data of one numeric column from its counts on the reference's bin edges."""
    labels = _bin_labels(np.asarray(edges, dtype=np.float64).tobytes())
    k = len(labels)
    return Distribution(name, "numeric", labels, _shares(ref_bins[:k]), _shares(cur_bins[:k]))


def categorical_distribution(
    name: str, vocabulary: tuple[str, ...], ref_counts: IntArray, cur_counts: IntArray
) -> Distribution:
    """Chart data of one categorical column from its counts (vocabulary, then unseen)."""
    labels = (*vocabulary, "(unseen)")
    k = len(labels)
    return Distribution(
        name, "categorical", labels, _shares(ref_counts[:k]), _shares(cur_counts[:k])
    )


def _numeric_distributions(
    ref: FittedReference, cur: Side, num_idx: list[int], ref_bins: IntArray, cur_bins: IntArray
) -> dict[str, Distribution]:
    return {
        name: numeric_distribution(name, ref.edges[num_idx[j]], ref_bins[:, j], cur_bins[:, j])
        for j, name in enumerate(cur.numeric.names)
    }


def _categorical_distributions(
    ref: FittedReference, cur: Side, cat_idx: list[int], ref_cats: IntArray, cur_cats: IntArray
) -> dict[str, Distribution]:
    return {
        name: categorical_distribution(
            name, ref.vocabularies[cat_idx[j]], ref_cats[:, j], cur_cats[:, j]
        )
        for j, name in enumerate(cur.categorical.names)
    }


@lru_cache(maxsize=4096)
def _bin_labels(edges: bytes) -> tuple[str, ...]:
    """The labels of the bins on ``edges`` (float64 bytes); cached, since every window of
    a version is binned on its reference's edges."""
    if not edges:
        return ("all values",)
    e = [f"{x:.4g}" for x in np.frombuffer(edges, dtype=np.float64).tolist()]
    return (f"< {e[0]}", *(f"[{a}, {b})" for a, b in itertools.pairwise(e)), f">= {e[-1]}")


__all__ = [
    "BINNED",
    "COUNT_STATS",
    "DESCRIPTIONS",
    "SAMPLE_STATS",
    "ColumnStat",
    "SampleResult",
    "categorical_distribution",
    "decide",
    "drift_rows",
    "numeric_distribution",
    "sample_stat",
    "tested_jensen_shannon",
]
