"""``compare(reference, current)``: drift, data quality, performance and multivariate drift."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from sightline._types import Role
from sightline.analysis.columns import SchemaOptions, check_columns
from sightline.analysis.drift import SampleResult, drift_rows, sample_stat
from sightline.analysis.estimated import estimated_rows, fit_estimator
from sightline.analysis.frames import DataLike, to_table
from sightline.analysis.methods import DriftOptions
from sightline.analysis.multivariate import MultivariateDrift
from sightline.analysis.performance import (
    PerformanceSpec,
    performance_rows,
    performance_spec,
    reference_bounds,
)
from sightline.analysis.profile_compare import compare_profiles
from sightline.analysis.profiling import as_profile, profile_data
from sightline.analysis.quality import quality_rows
from sightline.analysis.reference import FittedReference, Side, fit_and_encode, fit_reference
from sightline.analysis.rows import MetricRow, Result, RowContext
from sightline.analysis.text import TextColumns, expanded_names
from sightline.errors import SchemaError
from sightline.profile.schema import Schema
from sightline.stats.estimation import CBPE

#: Progress callback: (done, total).
Progress = Callable[[int, int], None]


#: Roles whose columns the reference must have.
REFERENCE_ROLES: tuple[Role, ...] = (
    "feature",
    "prediction",
    "probability",
    "target",
    "id",
    "timestamp",
)


@dataclass(slots=True)
class Engine:
    """A fitted reference plus the settings; evaluates any number of windows against it."""

    reference: FittedReference
    drift: DriftOptions
    performance: PerformanceSpec | None
    multivariate: MultivariateDrift | None
    _bounds: dict[int, dict[str, tuple[float, float]]] = field(default_factory=dict)
    _estimator: list[CBPE | None] = field(default_factory=list)
    text: TextColumns | None = None

    @classmethod
    def prepare(
        cls,
        reference: pa.Table,
        columns: SchemaOptions,
        drift: DriftOptions,
        *,
        pos_label: str | None,
        multivariate: bool,
    ) -> Engine:
        """Resolve the schema, check the options and the reference, and fit it once."""
        reference, schema, text = _checked_schema(reference, columns, drift)
        fitted = fit_reference(reference, schema, n_bins=drift.n_bins)
        aligned = _row_aligned(reference, schema, pos_label, multivariate)
        return cls(fitted, drift, *aligned, text=text)

    @classmethod
    def compare(
        cls,
        reference: pa.Table,
        current: DataLike,
        columns: SchemaOptions,
        drift: DriftOptions,
        ctx: RowContext,
        *,
        pos_label: str | None,
        multivariate: bool,
    ) -> Result:
        """:meth:`prepare` and :meth:`evaluate` for a single window, fitted and encoded in one
        pass (:func:`~sightline.analysis.reference.fit_and_encode`)."""
        reference, schema, text = _checked_schema(reference, columns, drift)
        performance, mv = _row_aligned(reference, schema, pos_label, multivariate)
        table = to_table(current, "current")
        check_columns(schema if text is None else text.raw_schema, table, "current", ("feature",))
        extra = text.rows(table, drift, ctx) if text is not None else []
        table = text.expand(table) if text is not None else table
        fitted, side, samples = fit_and_encode(
            reference,
            table,
            schema,
            sample_stat(drift),
            n_bins=drift.n_bins,
        )
        engine = cls(fitted, drift, performance, mv, text=text)
        return engine._result(table, side, samples, ctx, extra)

    def evaluate(self, current: pa.Table, ctx: RowContext, *, name: str = "current") -> Result:
        """All rows for one window of current data."""
        extra: list[MetricRow] = []
        if self.text is not None:
            check_columns(self.text.raw_schema, current, name, ("feature",))
            extra = self.text.rows(current, self.drift, ctx)
            current = self.text.expand(current)
        check_columns(self.reference.schema, current, name, ("feature",))
        side, samples = self.reference.encode(current, sample_stat(self.drift))
        return self._result(current, side, samples, ctx, extra)

    def _result(
        self,
        current: pa.Table,
        side: Side,
        samples: Sequence[SampleResult | None],
        ctx: RowContext,
        extra: Sequence[MetricRow] = (),
    ) -> Result:
        rows, dists = drift_rows(self.reference, side, samples, self.drift, ctx)
        rows += extra
        rows += quality_rows(self.reference, side, ctx)
        if self.multivariate is not None:
            rows += self.multivariate.rows(current, ctx)
        if self.performance is not None:
            bounds = self._bounds_for(current.num_rows)
            n_ref = self.reference.side.n_rows
            rows += performance_rows(self.performance, current, ctx, bounds, n_ref)
            estimator = self._fitted_estimator()
            if estimator is not None:
                rows += estimated_rows(self.performance, estimator, current, ctx, bounds, n_ref)
        return Result(rows=tuple(rows), distributions=dists)

    def _fitted_estimator(self) -> CBPE | None:
        """The performance estimator, fitted on the reference at first use."""
        if not self._estimator and self.performance is not None:
            self._estimator.append(fit_estimator(self.performance, self.reference.table))
        return self._estimator[0] if self._estimator else None

    def _bounds_for(self, chunk_size: int) -> dict[str, tuple[float, float]]:
        if chunk_size not in self._bounds and self.performance is not None:
            self._bounds[chunk_size] = reference_bounds(
                self.performance, self.reference.table, chunk_size
            )
        return self._bounds.get(chunk_size, {})


def _checked_schema(
    reference: pa.Table, columns: SchemaOptions, drift: DriftOptions
) -> tuple[pa.Table, Schema, TextColumns | None]:
    """The resolved schema, once the drift options and the reference are checked against
    it; with text or embedding columns, the reference and schema of their descriptors
    (:class:`~sightline.analysis.text.TextColumns`)."""
    schema = columns.resolve(reference)
    check_known(schema, drift)
    check_columns(schema, reference, "reference", REFERENCE_ROLES)
    text = TextColumns.fit(reference, schema)
    if text is None:
        return reference, schema, None
    return text.reference, text.schema, text


def _row_aligned(
    reference: pa.Table, schema: Schema, pos_label: str | None, multivariate: bool
) -> tuple[PerformanceSpec | None, MultivariateDrift | None]:
    """The performance spec and the multivariate model, which read the rows themselves."""
    features = [c.name for c in schema.columns if c.role == "feature" and c.kind == "numeric"]
    mv = MultivariateDrift.fit(reference, features) if multivariate else None
    return performance_spec(schema, reference, pos_label), mv


def compare(
    reference: DataLike,
    current: DataLike,
    *,
    schema: Schema | None = None,
    target: str | None = None,
    prediction: str | None = None,
    probability: Sequence[str] = (),
    id: str | None = None,
    timestamp: str | None = None,
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    text: Sequence[str] = (),
    embedding: Sequence[str] = (),
    patterns: Mapping[str, str] | None = None,
    methods: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    numeric_method: str | None = None,
    categorical_method: str | None = None,
    alpha: float = 0.05,
    drift_share: float = 0.5,
    n_bins: int = 10,
    pos_label: str | None = None,
    multivariate: bool = False,
    model: str = "",
    version: str = "",
    title: str = "sightline report",
) -> Result:
    """Compare current data with a reference: drift, data quality and performance rows.

    ``reference`` and ``current`` are pandas or polars DataFrames, pyarrow Tables, dicts of
    columns, paths to CSV/Parquet files, or profiles (:class:`~sightline.Profile` or a
    saved profile file). When either side is a profile, both are compared as profiles (see
    :mod:`sightline.analysis.profile_compare`: drift and quality rows, no performance).
    The schema is inferred from the reference (see
    :func:`~sightline.analysis.columns.infer_schema`); ``target``, ``prediction``,
    ``probability``, ``id``, ``timestamp``, ``categorical``, ``numeric``, ``text`` and
    ``embedding`` override it, or pass a whole ``schema``. A text column is compared through
    its descriptor columns (``review.length``, ...) and a ``text_content_drift`` row, an
    embedding column through ``embedding_drift`` rows (:mod:`sightline.analysis.text`);
    ``patterns`` (``name -> RE2 pattern``, refusal phrases for instance) add a
    ``<column>.match.<name>`` descriptor, the match rate, to every text column. The
    drift settings are those of :class:`~sightline.analysis.methods.DriftOptions`.
    ``multivariate=True`` adds the PCA reconstruction-error row of the numeric features (on
    by default in :func:`sightline.analyze`, where windows are compared with reference
    chunks).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(7)
    >>> ref = {"x": rng.normal(0, 1, 500), "c": rng.choice(["a", "b"], 500)}
    >>> cur = {"x": rng.normal(1, 1, 500), "c": rng.choice(["a", "b"], 500)}
    >>> result = compare(ref, cur)
    >>> [(r.column, r.metric, r.alert) for r in result.rows if r.metric == "jensen_shannon"]
    [('x', 'jensen_shannon', True), ('c', 'jensen_shannon', False)]
    """
    columns = SchemaOptions(
        schema,
        target,
        prediction,
        tuple(probability),
        id,
        timestamp,
        tuple(categorical),
        tuple(numeric),
        tuple(text),
        tuple(embedding),
        dict(patterns or {}),
    )
    drift = DriftOptions(
        methods=dict(methods or {}),
        thresholds=dict(thresholds or {}),
        numeric_method=numeric_method,
        categorical_method=categorical_method,
        alpha=alpha,
        drift_share=drift_share,
        n_bins=n_bins,
    )
    ctx = RowContext(model=model, version=version)
    ref_profile, cur_profile = as_profile(reference), as_profile(current)
    if ref_profile is not None or cur_profile is not None:
        if ref_profile is None:
            ref_profile = profile_data(reference, columns=columns, n_bins=n_bins)
        if cur_profile is None:
            cur_profile = profile_data(current, reference=ref_profile)
        check_known(ref_profile.schema, drift)
        result = compare_profiles(ref_profile, cur_profile, drift, ctx)
    else:
        result = Engine.compare(
            to_table(reference, "reference"),
            current,
            columns,
            drift,
            ctx,
            pos_label=pos_label,
            multivariate=multivariate,
        )
    return Result(rows=result.rows, distributions=result.distributions, title=title)


def check_known(schema: Schema, drift: DriftOptions) -> None:
    """Raise unless every column named in the per-column drift options is in the schema
    (or is a descriptor column of one of its text columns, such as ``review.length``)."""
    unknown = sorted((set(drift.methods) | set(drift.thresholds)) - set(expanded_names(schema)))
    if unknown:
        raise SchemaError(
            f"methods/thresholds name columns not in the reference: {unknown}", field=unknown[0]
        )


__all__ = ["Engine", "Progress", "check_known", "compare"]
