"""Drift and data quality from two profiles instead of raw data.

What a profile can give, and how (each row's ``method`` says which):

* count statistics (``chi2``, ``psi``, ``jensen_shannon``, ``hellinger``,
  ``kl_divergence``, ``l_infinity``) from the exact histograms: equal to the raw-data
  computation on the same bins, when both profiles were binned on the same edges;
* ``ks`` from the two KLL sketches: ``|D_profile - D_exact| <= eps_ref + eps_cur``
  (0.027 for two k = 200 sketches, 99 % confidence), p-value from the asymptotic
  Kolmogorov distribution of ``D_profile``;
* ``wasserstein`` and ``wasserstein_normed`` from the sketches' quantile functions on a
  grid of 2,000 points: an estimate, whose error the tests measure; ``std`` from the exact
  moments;
* ``anderson_darling`` and ``cramer_von_mises`` need the raw values: not computed.

Data quality: missing, infinite and wrong-type shares are exact; the out-of-range share is
exact when the current range lies inside the reference's, else estimated from the sketch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final, NamedTuple, cast

import numpy as np

from sightline._types import IntArray, Role
from sightline.analysis.drift import (
    BINNED,
    COUNT_STATS,
    ColumnStat,
    categorical_distribution,
    decide,
    numeric_distribution,
)
from sightline.analysis.methods import COUNT_METHODS, DriftOptions
from sightline.analysis.profile_text import embedding_rows
from sightline.analysis.quality import ColumnQuality, column_quality_rows
from sightline.analysis.rows import Distribution, MetricRow, Result, RowContext
from sightline.errors import IncompatibleProfilesError
from sightline.profile.column import CategoricalColumnProfile, NumericColumnProfile
from sightline.profile.dataset import MONITORED_ROLES, Profile
from sightline.profile.embedding import EmbeddingColumnProfile
from sightline.profile.sketch import KLL, ks_distance
from sightline.profile.text import TextColumnProfile
from sightline.stats import drift as sd
from sightline.stats._ks import ks_asymptotic_pvalue

#: Points of the quantile grid for Wasserstein distances from sketches.
QUANTILE_GRID: Final = 2_000

_RAW_ONLY = "needs the raw values (profiles hold sketches)"
_SAME_BINS = "needs both profiles binned on the same edges"


#: The roles of a prediction stream's columns: the collector's profiles have no target
#: values (labels arrive separately, joined by id: ``label_coverage`` covers them).
STREAM_ROLES: Final[tuple[Role, ...]] = ("feature", "prediction", "probability")


def compare_profiles(
    reference: Profile,
    current: Profile,
    options: DriftOptions,
    ctx: RowContext,
    *,
    roles: Sequence[Role] = MONITORED_ROLES,
) -> Result:
    """Drift and quality rows of ``current`` against ``reference``, both profiles, for
    the columns of ``roles`` (:data:`STREAM_ROLES` for a collector's window).

    Examples
    --------
    >>> import numpy as np
    >>> from sightline.analysis.profiling import profile_data
    >>> rng = np.random.default_rng(3)
    >>> ref = profile_data({"x": rng.normal(0, 1, 20_000)})
    >>> cur = profile_data({"x": rng.normal(0.5, 1, 20_000)}, reference=ref)
    >>> row = compare_profiles(ref, cur, DriftOptions(), RowContext()).select(column="x")[0]
    >>> row.metric, round(row.value, 1), row.alert
    ('jensen_shannon', 0.2, True)
    """
    missing = [n for n in reference.columns if n not in current.columns]
    if missing:
        raise IncompatibleProfilesError(
            f"current profile lacks columns of the reference: {missing}", field=missing[0]
        )
    stats: list[ColumnStat | _Counted] = []
    quality: list[MetricRow] = []
    embedded: list[MetricRow] = []
    dists: dict[str, Distribution] = {}
    wanted = {c.name for c in reference.schema.columns if c.role in roles}
    for name, ref_col in reference.columns.items():
        if name not in wanted:
            continue
        cur_col = current.columns[name]
        numeric = _numeric_pairs(ref_col, cur_col)
        if numeric is not None:
            for ref_n, cur_n in numeric:
                stats.append(_numeric_stat(ref_n, cur_n, options))
                quality += column_quality_rows(_numeric_quality(ref_n, cur_n), ctx)
                chart = _numeric_chart(ref_n, cur_n)
                if chart is not None:
                    dists[ref_n.name] = chart
        elif isinstance(ref_col, CategoricalColumnProfile) and isinstance(
            cur_col, CategoricalColumnProfile
        ):
            stats.append(_categorical_stat(ref_col, cur_col, options))
            quality += column_quality_rows(_categorical_quality(ref_col, cur_col), ctx)
            if _same_vocabulary(ref_col, cur_col):
                dists[name] = _categorical_chart(ref_col, cur_col)
        elif isinstance(ref_col, EmbeddingColumnProfile) and isinstance(
            cur_col, EmbeddingColumnProfile
        ):
            embedded += embedding_rows(ref_col, cur_col, options, ctx)
        else:
            raise IncompatibleProfilesError(
                f"column {name!r} is of different kinds in the two profiles",
                field=name,
            )
    rows = decide(_count_stats(stats), options, ctx) + embedded + quality
    return Result(rows=tuple(rows), distributions=dists)


def _numeric_pairs(
    ref: object, cur: object
) -> list[tuple[NumericColumnProfile, NumericColumnProfile]] | None:
    """The numeric columns of a column on both sides: itself, or a text column's
    descriptors (``review.length``, ..., numeric columns with the drift, quality and
    chart of any); None for the other kinds."""
    if isinstance(ref, NumericColumnProfile) and isinstance(cur, NumericColumnProfile):
        return [(ref, cur)]
    if isinstance(ref, TextColumnProfile) and isinstance(cur, TextColumnProfile):
        return [(p, cur.descriptors[d]) for d, p in ref.descriptors.items()]
    return None


def _same_edges(a: NumericColumnProfile, b: NumericColumnProfile) -> bool:
    """Both binned on the same edges (often the same array: decoding shares them)."""
    return (
        a.edges is not None
        and b.edges is not None
        and (a.edges is b.edges or np.array_equal(a.edges, b.edges))
    )


def _same_vocabulary(a: CategoricalColumnProfile, b: CategoricalColumnProfile) -> bool:
    return (
        a.vocabulary is not None
        and a.vocabulary == b.vocabulary
        and a.counts is not None
        and b.counts is not None
    )


def _numeric_chart(ref: NumericColumnProfile, cur: NumericColumnProfile) -> Distribution | None:
    if ref.edges is None or ref.bins is None or cur.bins is None or not _same_edges(ref, cur):
        return None
    return numeric_distribution(ref.name, ref.edges, ref.bins, cur.bins)


def _categorical_chart(
    ref: CategoricalColumnProfile, cur: CategoricalColumnProfile
) -> Distribution:
    vocabulary = ref.vocabulary or ()
    empty = np.zeros(len(vocabulary) + 1, dtype=np.int64)
    ref_counts = ref.counts if ref.counts is not None else empty
    cur_counts = cur.counts if cur.counts is not None else empty
    return categorical_distribution(ref.name, vocabulary, ref_counts, cur_counts)


class _Counted(NamedTuple):
    """A column whose statistic comes from its two histograms (same bins), computed
    with the other columns of its method by :func:`_count_stats`."""

    base: ColumnStat
    ref: IntArray
    cur: IntArray
    source: str


def _numeric_stat(
    ref: NumericColumnProfile, cur: NumericColumnProfile, options: DriftOptions
) -> ColumnStat | _Counted:
    n_ref, n_cur = ref.n_valid, cur.n_valid
    method = options.method_for(ref.name, "numeric")
    base = ColumnStat(ref.name, "numeric", method, np.nan, np.nan, n_ref, n_cur)
    if n_ref == 0 or n_cur == 0:
        return base
    if method in COUNT_METHODS:
        if ref.bins is None or cur.bins is None or not _same_edges(ref, cur):
            return replace(base, reason=_SAME_BINS)
        return _Counted(base, ref.bins, cur.bins, BINNED)
    if method == "ks":
        d = ks_distance(ref.kll, cur.kll)
        p = ks_asymptotic_pvalue(np.array([d]), np.array([n_ref]), np.array([n_cur]))[0]
        eps = ref.kll.rank_error + cur.kll.rank_error
        source = f" from KLL sketches (D within ±{eps:.3f}; asymptotic p)"
        return replace(base, value=d, p_value=float(p), source=source)
    if method in ("wasserstein", "wasserstein_normed"):
        w = sketch_wasserstein(ref.kll, cur.kll)
        if method == "wasserstein_normed":
            std = float(np.sqrt(ref.moments.m2 / ref.moments.n)) if ref.moments.n else 0.0
            w /= max(std, 0.001)
        source = f" from KLL quantiles ({QUANTILE_GRID:,}-point grid, an estimate)"
        return replace(base, value=w, source=source)
    return replace(base, reason=_RAW_ONLY)


def _categorical_stat(
    ref: CategoricalColumnProfile, cur: CategoricalColumnProfile, options: DriftOptions
) -> ColumnStat | _Counted:
    n_ref, n_cur = ref.n_valid, cur.n_valid
    method = options.method_for(ref.name, "categorical")
    base = ColumnStat(ref.name, "categorical", method, np.nan, np.nan, n_ref, n_cur)
    if ref.counts is None or cur.counts is None or not _same_vocabulary(ref, cur):
        return replace(base, reason="needs both profiles counted on the same vocabulary")
    return _Counted(base, ref.counts, cur.counts, "")


def _count_stats(stats: Sequence[ColumnStat | _Counted]) -> list[ColumnStat]:
    """``stats`` with every count statistic computed: one call per method and number of
    bins, on those columns' histograms side by side. Each column is contiguous (the
    arrays are Fortran-ordered), so its sums are those of its histograms alone, to the
    last bit."""
    out = [s if isinstance(s, ColumnStat) else s.base for s in stats]
    groups: dict[tuple[str, int], list[int]] = {}
    for i, s in enumerate(stats):
        if isinstance(s, _Counted):
            groups.setdefault((s.base.method, s.ref.size), []).append(i)
    for (method, _), where in groups.items():
        counted = [cast(_Counted, stats[i]) for i in where]
        ref, cur = (np.array([getattr(c, side) for c in counted]).T for side in ("ref", "cur"))
        result = COUNT_STATS[method](ref, cur)
        if isinstance(result, sd.TestResult):
            values, pvalues = result.statistic.tolist(), result.pvalue.tolist()
        else:
            values, pvalues = result.tolist(), [np.nan] * len(where)
        for i, c, value, p in zip(where, counted, values, pvalues, strict=True):
            out[i] = replace(c.base, value=value, p_value=p, source=c.source)
    return out


def sketch_wasserstein(a: KLL, b: KLL) -> float:
    """Wasserstein-1 distance of two sketched distributions from their quantile functions.

    ``integral_0^1 |Q_a(u) - Q_b(u)| du`` by the midpoint rule on :data:`QUANTILE_GRID`
    points.

    Examples
    --------
    >>> x = KLL().update(np.arange(100.0))
    >>> y = KLL().update(np.arange(100.0) + 2.0)
    >>> sketch_wasserstein(x, y)
    2.0
    """
    u = (np.arange(QUANTILE_GRID) + 0.5) / QUANTILE_GRID
    return float(np.mean(np.abs(a.quantiles(u) - b.quantiles(u))))


def _numeric_quality(ref: NumericColumnProfile, cur: NumericColumnProfile) -> ColumnQuality:
    rows = max(cur.count, 1)
    out_of_range, note = _out_of_range(ref, cur)
    return ColumnQuality(
        column=ref.name,
        kind="numeric",
        n_ref=ref.count,
        n_cur=cur.count,
        missing=cur.n_missing / rows,
        ref_missing=ref.n_missing / max(ref.count, 1),
        constant=cur.n_valid > 0 and cur.min == cur.max,
        ref_constant=ref.n_valid > 0 and ref.min == ref.max,
        inf=cur.n_inf / rows,
        invalid=cur.n_invalid / rows,
        out_of_range=out_of_range,
        low=ref.min if ref.n_valid else np.nan,
        high=ref.max if ref.n_valid else np.nan,
        range_note=note,
    )


def _out_of_range(ref: NumericColumnProfile, cur: NumericColumnProfile) -> tuple[float, str]:
    """Share of current values outside the reference range: exact when it is 0."""
    if cur.n_valid == 0 or ref.n_valid == 0:
        return np.nan, ""
    if ref.min <= cur.min and cur.max <= ref.max:
        return 0.0, ""
    below, at_most_max = cur.kll.cdf(np.array([np.nextafter(ref.min, -np.inf), ref.max]))
    above = 1.0 - float(at_most_max)
    return max(float(below), 0.0) + max(above, 0.0), " (estimated from the KLL sketch)"


def _categorical_quality(
    ref: CategoricalColumnProfile, cur: CategoricalColumnProfile
) -> ColumnQuality:
    rows = max(cur.count, 1)
    counts = cur.counts
    unseen = np.nan
    if counts is not None and cur.n_valid:
        unseen = float(counts[-1]) / cur.n_valid
    return ColumnQuality(
        column=ref.name,
        kind="categorical",
        n_ref=ref.count,
        n_cur=cur.count,
        missing=cur.n_missing / rows,
        ref_missing=ref.n_missing / max(ref.count, 1),
        constant=_one_category(cur),
        ref_constant=_one_category(ref),
        unseen=unseen,
    )


def _one_category(p: CategoricalColumnProfile) -> bool:
    if p.counts is not None:
        return int(np.count_nonzero(p.counts)) == 1
    return p.n_valid > 0 and round(p.distinct) == 1


__all__ = ["QUANTILE_GRID", "STREAM_ROLES", "compare_profiles", "sketch_wasserstein"]
