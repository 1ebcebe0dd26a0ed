"""Dataset profiles: every monitored column of one model over one window, plus service health.

A :class:`Profile` is what a serving process ships to the collector: per column a
:class:`~sightline.profile.column.NumericColumnProfile` or
:class:`~sightline.profile.column.CategoricalColumnProfile`, and per model the prediction
and error counts and the latency distribution (a KLL sketch and Prometheus-compatible
buckets). Profiles of any number of processes and windows merge into one.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Self, TypeAlias, cast

import numpy as np
import numpy.typing as npt

from sightline._types import FloatArray, IntArray, Role
from sightline._validate import check_int, finite_or_none
from sightline.errors import IncompatibleProfilesError, InvalidInputError, SchemaError
from sightline.profile.column import (
    CategoricalColumnProfile,
    NumericColumnProfile,
    _CategoricalBatch,
    _NumericBatch,
)
from sightline.profile.embedding import EmbeddingColumnProfile, _EmbeddingBatch
from sightline.profile.schema import Schema
from sightline.profile.sketch import DEFAULT_K, DEFAULT_LG_K, DEFAULT_LG_MAX_MAP_SIZE, KLL
from sightline.profile.text import TextColumnProfile, _TextBatch, descriptor_names

#: Upper bounds (``le``) of the latency buckets in milliseconds: Prometheus' default
#: histogram buckets (0.005 s ... 10 s). A last ``+Inf`` bucket follows them.
LATENCY_BUCKETS_MS: Final[tuple[float, ...]] = (
    5.0,
    10.0,
    25.0,
    50.0,
    75.0,
    100.0,
    250.0,
    500.0,
    750.0,
    1000.0,
    2500.0,
    5000.0,
    7500.0,
    10000.0,
)
#: Version of the profile's content (what the fields mean), checked on merge.
SCHEMA_VERSION: Final = 1
#: Batches of at least this many rows update their columns on two threads.
_PARALLEL_ROWS: Final = 50_000
#: Roles of the columns a profile summarizes (ids and timestamps are not profiled).
MONITORED_ROLES: Final[tuple[Role, ...]] = ("feature", "prediction", "probability", "target")

ColumnProfile: TypeAlias = (
    NumericColumnProfile | CategoricalColumnProfile | TextColumnProfile | EmbeddingColumnProfile
)
Counted: TypeAlias = tuple[Sequence[str | None] | npt.NDArray[Any], npt.ArrayLike]


def _check_window(name: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInputError(
            f"{name} must be a timezone-aware datetime (UTC) or None, got {value!r}", field=name
        )
    return value.astimezone(UTC)


def _check_text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, got {value!r}", field=name)
    return value


def _min_time(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _max_time(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


class Profile:
    """Mergeable profile of a model's data and service health over one window.

    Build one with :meth:`zero`, add batches with :meth:`update` (and
    :meth:`record_latency`), combine with :meth:`merge` or ``+`` (or
    :func:`merge_profiles`), ship with :meth:`to_bytes`.

    Attributes
    ----------
    schema
        The model's columns.
    model, version
        Model name and version; profiles merge only within one model version.
    instance_ids
        Sorted ids of the serving instances whose data the profile holds.
    window_start, window_end
        UTC bounds of the window (half-open ``[start, end)``), or None.
    n_rows
        Rows seen.
    columns
        Column profiles, in schema order, of the columns whose role is feature,
        prediction, probability or target.
    n_predictions, n_errors
        Predictions served and failed (see :meth:`record_latency`).
    latency
        KLL sketch of the prediction latencies in milliseconds.
    latency_buckets
        Non-cumulative counts of the latencies per bucket of :data:`LATENCY_BUCKETS_MS`
        plus a last ``+Inf`` bucket: bucket ``i`` holds
        ``LATENCY_BUCKETS_MS[i-1] < v <= LATENCY_BUCKETS_MS[i]``, so
        ``np.cumsum(latency_buckets)`` are Prometheus' cumulative ``le`` counts.
    first_byte_buckets
        The same buckets for the time to the first byte of streamed responses (see
        :meth:`record_first_byte`).
    schema_version
        Version of the profile content (:data:`SCHEMA_VERSION`).

    Examples
    --------
    >>> from sightline.profile.schema import Column, Schema
    >>> schema = Schema((Column("age"), Column("color", kind="categorical")))
    >>> p = Profile.zero(schema, model="churn", version="3")
    >>> batch = {"age": np.array([31.0, 45.0]), "color": np.array(["red", None], dtype=object)}
    >>> _ = p.update(batch)
    >>> q = Profile.zero(schema, model="churn", version="3").update({"age": np.array([50.0])})
    >>> both = p + q
    >>> both.n_rows, both.columns["age"].mean, both.columns["color"].n_missing
    (3, 42.0, 2)
    >>> Profile.from_bytes(both.to_bytes()) == both
    True
    """

    __slots__ = (
        "columns",
        "first_byte_buckets",
        "instance_ids",
        "latency",
        "latency_buckets",
        "model",
        "n_errors",
        "n_predictions",
        "n_rows",
        "schema",
        "schema_version",
        "version",
        "window_end",
        "window_start",
    )

    def __init__(
        self,
        *,
        schema: Schema,
        columns: Mapping[str, ColumnProfile],
        model: str = "",
        version: str = "",
        instance_ids: Iterable[str] = (),
        window_start: datetime | None = None,
        window_end: datetime | None = None,
        n_rows: int = 0,
        n_predictions: int = 0,
        n_errors: int = 0,
        latency: KLL | None = None,
        latency_buckets: npt.ArrayLike | None = None,
        schema_version: int = SCHEMA_VERSION,
        first_byte_buckets: npt.ArrayLike | None = None,
    ) -> None:
        if not isinstance(schema, Schema):
            raise InvalidInputError(
                f"schema must be a Schema, got {type(schema).__name__}", field="schema"
            )
        self.schema = schema
        self.columns: dict[str, ColumnProfile] = _check_columns(schema, columns)
        self.model = _check_text("model", model)
        self.version = _check_text("version", version)
        ids = tuple(instance_ids)
        for i in ids:
            _check_text("instance_ids", i)
        self.instance_ids: tuple[str, ...] = tuple(sorted(set(ids)))
        self.window_start = _check_window("window_start", window_start)
        self.window_end = _check_window("window_end", window_end)
        if self.window_start and self.window_end and self.window_start > self.window_end:
            raise InvalidInputError(
                f"window_start ({self.window_start}) must not be after window_end "
                f"({self.window_end})",
                field="window_start",
            )
        self.n_rows = check_int("n_rows", n_rows, 0)
        self.n_predictions = check_int("n_predictions", n_predictions, 0)
        self.n_errors = check_int("n_errors", n_errors, 0)
        self.latency = KLL() if latency is None else latency
        if not isinstance(self.latency, KLL):
            raise InvalidInputError("latency must be a KLL sketch", field="latency")
        self.latency_buckets: IntArray = _latency_buckets("latency_buckets", latency_buckets)
        self.first_byte_buckets: IntArray = _latency_buckets(
            "first_byte_buckets", first_byte_buckets
        )
        self.schema_version = check_int("schema_version", schema_version, 0)

    @classmethod
    def zero(
        cls,
        schema: Schema,
        *,
        edges: Mapping[str, npt.ArrayLike] | None = None,
        vocabularies: Mapping[str, Sequence[str]] | None = None,
        model: str = "",
        version: str = "",
        instance_id: str = "",
        window_start: datetime | None = None,
        window_end: datetime | None = None,
        k: int = DEFAULT_K,
        lg_k: int = DEFAULT_LG_K,
        lg_max_map_size: int = DEFAULT_LG_MAX_MAP_SIZE,
    ) -> Self:
        """The empty profile of a schema (the identity of :meth:`merge`).

        Parameters
        ----------
        schema
            Columns of the model; those of role feature, prediction, probability and
            target are profiled.
        edges
            Inner bin edges per numeric column, fixed by the reference (see
            :meth:`reference_spec`); columns not named get no histogram.
        vocabularies
            Categories per categorical column, fixed by the reference.
        model, version
            Model name and version.
        instance_id
            Id of the serving instance ("" for none).
        window_start, window_end
            Timezone-aware bounds of the window (converted to UTC), or None.
        k
            KLL accuracy of the column and latency sketches (default 200: 1.33 % rank
            error, about 2.5 KB per numeric column).
        lg_k
            HyperLogLog size (default 10: 1024 registers, 3.25 % standard error).
        lg_max_map_size
            Frequent-items size of categorical columns (default 7: up to 96 items exact).

        Raises
        ------
        SchemaError
            If ``edges`` or ``vocabularies`` name a column that is not a profiled column of
            the right kind.
        """
        if not isinstance(schema, Schema):
            raise InvalidInputError(
                f"schema must be a Schema, got {type(schema).__name__}", field="schema"
            )
        numeric = _monitored(schema, "numeric")
        categorical = _monitored(schema, "categorical")
        text = _monitored(schema, "text")
        described = {
            f"{t}.{d}": t for t in text for d in descriptor_names(list(dict(schema[t].patterns)))
        }
        edges = dict(edges or {})
        vocabularies = dict(vocabularies or {})
        _check_named("edges", edges, numeric + list(described), "numeric or text descriptor")
        _check_named("vocabularies", vocabularies, categorical + text, "categorical or text")
        columns: dict[str, ColumnProfile] = {}
        for name in _monitored(schema):
            if schema[name].kind == "embedding":
                columns[name] = EmbeddingColumnProfile.zero(name)
            elif name in text:
                columns[name] = TextColumnProfile.zero(
                    name,
                    vocabulary=vocabularies.get(name),
                    edges={e: v for e, v in edges.items() if described.get(e) == name},
                    patterns=schema[name].patterns,
                    k=k,
                    lg_k=lg_k,
                )
            elif name in numeric:
                columns[name] = NumericColumnProfile.zero(
                    name, edges=edges.get(name), k=k, lg_k=lg_k
                )
            else:
                columns[name] = CategoricalColumnProfile.zero(
                    name,
                    vocabulary=vocabularies.get(name),
                    lg_k=lg_k,
                    lg_max_map_size=lg_max_map_size,
                )
        return cls(
            schema=schema,
            columns=columns,
            model=model,
            version=version,
            instance_ids=(_check_text("instance_id", instance_id),) if instance_id else (),
            window_start=window_start,
            window_end=window_end,
            latency=KLL(k),
        )

    # -- updating -------------------------------------------------------------------------

    def update(
        self,
        columns: Mapping[str, npt.ArrayLike],
        *,
        n_invalid: Mapping[str, int] | None = None,
        counted: Mapping[str, Counted] | None = None,
        row_ids: Sequence[str] | None = None,
        threads: bool = True,
    ) -> Self:
        """Add a batch of rows, given column by column.

        Parameters
        ----------
        columns
            Arrays of equal length: floats for numeric columns (NaN missing, +-inf
            counted apart), str/None for categorical ones. Columns of the schema that are
            not profiled (ids, timestamps) may be present and are ignored. A profiled
            column absent from the batch counts as missing in every row of it.
        n_invalid
            Per numeric column, how many of its NaNs stand for unreadable values (see
            :meth:`NumericColumnProfile.update`).
        counted
            Categorical columns of the same batch given as ``(distinct values, counts)``
            instead of raw values, e.g. from a value-count; their counts must sum to the
            batch length.
        row_ids
            One id per row: embedding and text columns sample their rows by a hash of it
            (without ids, by a hash of the vector or the text).
        threads
            Update the columns of a batch of 50,000 rows or more on two threads: less
            wall time, about a fifth more CPU (the threads contend for the GIL). The SDK
            passes False: in a serving process its CPU is what counts.

        Returns
        -------
        The profile itself. ``n_rows`` grows by the batch length.

        Raises
        ------
        SchemaError
            If a column is not in the schema, or is given in the wrong form.
        InvalidInputError
            If lengths differ or values are invalid. The profile is unchanged then: every
            column is checked before any is updated.
        """
        counted = dict(counted or {})
        n_invalid = dict(n_invalid or {})
        self._check_update_names(columns, n_invalid, counted)
        prepared: dict[str, _NumericBatch | _CategoricalBatch | _TextBatch | _EmbeddingBatch] = {}
        lengths: dict[str, int] = {}
        for name, values in columns.items():
            profile = self.columns.get(name)
            if isinstance(profile, NumericColumnProfile):
                numeric = profile._prepare(values, n_invalid=n_invalid.get(name, 0))
                lengths[name] = numeric.n_rows
                prepared[name] = numeric
            elif isinstance(profile, CategoricalColumnProfile):
                batch = profile._prepare_values(_as_sequence(name, values))
                lengths[name] = int(batch.counts.sum()) + batch.n_missing
                prepared[name] = batch
            elif isinstance(profile, TextColumnProfile):
                texts = profile._prepare(values, ids=row_ids)  # type: ignore[arg-type]
                lengths[name] = texts.n_rows
                prepared[name] = texts
            elif isinstance(profile, EmbeddingColumnProfile):
                vectors = profile._prepare(values, ids=row_ids)
                lengths[name] = vectors.n_rows
                prepared[name] = vectors
            else:  # an unprofiled schema column: only its length matters
                lengths[name] = _length(name, values)
        for name, (distinct, counts) in counted.items():
            categorical = cast(CategoricalColumnProfile, self.columns[name])  # checked above
            batch = categorical._prepare_counts(distinct, counts)
            lengths[name] = int(batch.counts.sum()) + batch.n_missing
            prepared[name] = batch
        if len(set(lengths.values())) > 1:
            raise InvalidInputError(
                f"columns of a batch must have the same length, got {lengths}", field="columns"
            )
        n_rows = next(iter(lengths.values()), 0)

        def apply(name: str) -> None:
            profile = self.columns[name]
            if name in prepared:
                profile._apply(prepared[name])  # type: ignore[arg-type]
            else:
                profile.add_missing(n_rows)

        if threads and n_rows >= _PARALLEL_ROWS and len(prepared) > 1:
            # Each column is its own profile; numpy releases the GIL for most of the work.
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(apply, self.columns))
        else:
            for name in self.columns:
                apply(name)
        self.n_rows += n_rows
        return self

    def _check_update_names(
        self,
        columns: Mapping[str, object],
        n_invalid: Mapping[str, int],
        counted: Mapping[str, object],
    ) -> None:
        if not isinstance(columns, Mapping):
            raise InvalidInputError(
                f"columns must be a mapping of column name to values, got {type(columns).__name__}",
                field="columns",
            )
        unknown = [n for n in [*columns, *counted] if n not in self.schema]
        if unknown:
            raise SchemaError(
                f"unknown columns: {unknown}; the schema has {self.schema.names()}",
                field=str(unknown[0]),
            )
        both = sorted(set(columns) & set(counted))
        if both:
            raise SchemaError(f"columns given both as values and as counts: {both}", field=both[0])
        malformed = [n for n, v in counted.items() if not (isinstance(v, tuple) and len(v) == 2)]
        if malformed:
            raise InvalidInputError(
                f"counted must map each column to a (values, counts) tuple, got {malformed}",
                field=malformed[0],
            )
        not_cat = [
            n for n in counted if not isinstance(self.columns.get(n), CategoricalColumnProfile)
        ]
        if not_cat:
            raise SchemaError(
                f"only profiled categorical columns can be given as counts, got {not_cat}",
                field=not_cat[0],
            )
        bad = [
            n
            for n in n_invalid
            if n not in columns or not isinstance(self.columns.get(n), NumericColumnProfile)
        ]
        if bad:
            raise SchemaError(
                f"n_invalid names columns that are not profiled numeric columns of this "
                f"batch: {bad}",
                field=bad[0],
            )

    def update_counts(
        self,
        name: str,
        values: Sequence[str | None] | npt.NDArray[Any],
        counts: npt.ArrayLike,
    ) -> Self:
        """Add distinct values with their counts to one categorical column.

        ``n_rows`` is not changed: use ``update(..., counted=...)`` for a column that is
        part of a batch of rows.

        Raises
        ------
        SchemaError
            If ``name`` is not a profiled categorical column.
        """
        profile = self.columns.get(name)
        if not isinstance(profile, CategoricalColumnProfile):
            raise SchemaError(
                f"update_counts needs a profiled categorical column, got {name!r}; "
                f"categorical columns: {_monitored(self.schema, 'categorical')}",
                field=name,
            )
        profile.update_counts(values, counts)
        return self

    def record_latency(self, latency_ms: npt.ArrayLike, *, n_errors: int = 0) -> Self:
        """Add the latencies of served predictions, and a count of failed ones.

        Parameters
        ----------
        latency_ms
            Latency of each prediction in milliseconds (finite, >= 0);
            ``n_predictions`` grows by their number.
        n_errors
            How many predictions failed; the error rate is ``n_errors / n_predictions``,
            so time failed calls too when they are predictions.

        Returns
        -------
        The profile itself.

        Examples
        --------
        >>> from sightline.profile.schema import Column, Schema
        >>> p = Profile.zero(Schema((Column("x"),))).record_latency([3.0, 7.0, 12000.0], n_errors=1)
        >>> p.n_predictions, p.n_errors, p.latency_buckets.tolist()
        (3, 1, [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        """
        try:
            arr = np.asarray(latency_ms, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"latency_ms must be numbers, got {exc}", field="latency_ms"
            ) from exc
        if arr.ndim != 1 or not np.isfinite(arr).all() or (arr < 0).any():
            raise InvalidInputError(
                "latency_ms must be a 1-D array of finite numbers >= 0", field="latency_ms"
            )
        errors = check_int("n_errors", n_errors, 0)
        self.n_predictions += arr.size
        self.n_errors += errors
        if arr.size:
            self.latency._update_finite(arr, float(arr.min()), float(arr.max()))
            idx = np.searchsorted(np.asarray(LATENCY_BUCKETS_MS), arr, side="left")
            self.latency_buckets += np.bincount(idx, minlength=len(LATENCY_BUCKETS_MS) + 1)
        return self

    def record_first_byte(self, first_byte_ms: npt.ArrayLike) -> Self:
        """Add the times to the first byte of streamed responses, in milliseconds (finite,
        >= 0), to :attr:`first_byte_buckets`.

        >>> from sightline.profile.schema import Column, Schema
        >>> p = Profile.zero(Schema((Column("x"),))).record_first_byte([3.0, 80.0])
        >>> p.first_byte_buckets[:6].tolist()
        [1, 0, 0, 0, 0, 1]
        """
        arr = np.asarray(first_byte_ms, dtype=np.float64)
        if arr.ndim != 1 or not np.isfinite(arr).all() or (arr < 0).any():
            raise InvalidInputError(
                "first_byte_ms must be a 1-D array of finite numbers >= 0", field="first_byte_ms"
            )
        idx = np.searchsorted(np.asarray(LATENCY_BUCKETS_MS), arr, side="left")
        self.first_byte_buckets += np.bincount(idx, minlength=len(LATENCY_BUCKETS_MS) + 1)
        return self

    # -- merging --------------------------------------------------------------------------

    def check_compatible(self, other: object) -> Profile:
        """``other`` when it merges with ``self`` (same model, version, schema, bin edges,
        vocabularies and sketch sizes), else :class:`IncompatibleProfilesError`."""
        if not isinstance(other, Profile):
            raise IncompatibleProfilesError(
                f"can only merge a Profile with a Profile, got {type(other).__name__}"
            )
        if self.schema_version != other.schema_version:
            raise IncompatibleProfilesError(
                f"cannot merge profiles of schema versions {self.schema_version} and "
                f"{other.schema_version}"
            )
        for what in ("model", "version"):
            mine, theirs = getattr(self, what), getattr(other, what)
            if mine != theirs:
                raise IncompatibleProfilesError(
                    f"cannot merge profiles of different {what}s: {mine!r} and {theirs!r}",
                    field=what,
                )
        if self.schema != other.schema:
            diff = _schema_diff(self.schema, other.schema)
            raise IncompatibleProfilesError(
                f"cannot merge profiles of different schemas: {diff}",
                field="schema",
            )
        for name, profile in self.columns.items():
            profile._check_compatible(other.columns[name])
        if self.latency.k != other.latency.k:
            raise IncompatibleProfilesError(
                f"latency: KLL k differs ({self.latency.k} vs {other.latency.k})",
                field="latency",
            )
        return other

    def merge(self, other: Profile) -> Profile:
        """A new profile of both; ``self`` and ``other`` are unchanged.

        Counts, histograms, extremes and HLL registers add up exactly, moments merge
        with Chan et al.'s formula, the KLL and frequent-items sketches within their
        bounds. The window becomes the earliest start and the latest end, the instance
        ids the sorted union.

        Raises
        ------
        IncompatibleProfilesError
            If the schema versions, models, versions, schemas, bin edges, vocabularies or
            sketch sizes differ.
        """
        self.check_compatible(other)
        out = self._copy()
        out._merge_unchecked(other)
        return out

    __add__ = merge

    def _copy(self) -> Profile:
        out = Profile.__new__(Profile)
        out.schema = self.schema
        out.columns = {name: c._copy() for name, c in self.columns.items()}
        out.model = self.model
        out.version = self.version
        out.instance_ids = self.instance_ids
        out.window_start = self.window_start
        out.window_end = self.window_end
        out.n_rows = self.n_rows
        out.n_predictions = self.n_predictions
        out.n_errors = self.n_errors
        out.latency = copy.copy(self.latency)
        out.latency_buckets = self.latency_buckets.copy()
        out.first_byte_buckets = self.first_byte_buckets.copy()
        out.schema_version = self.schema_version
        return out

    def _merge_unchecked(self, other: Profile) -> None:
        for name, profile in self.columns.items():
            profile._merge_unchecked(other.columns[name])  # type: ignore[arg-type]
        if other.instance_ids and other.instance_ids != self.instance_ids:
            self.instance_ids = tuple(sorted({*self.instance_ids, *other.instance_ids}))
        self.window_start = _min_time(self.window_start, other.window_start)
        self.window_end = _max_time(self.window_end, other.window_end)
        self.n_rows += other.n_rows
        self.n_predictions += other.n_predictions
        self.n_errors += other.n_errors
        self.latency._merge_into(other.latency)
        self.latency_buckets += other.latency_buckets
        self.first_byte_buckets += other.first_byte_buckets

    # -- reading and writing --------------------------------------------------------------

    def reference_spec(self) -> tuple[dict[str, FloatArray], dict[str, tuple[str, ...]]]:
        """The bin edges and vocabularies of this profile, for :meth:`zero` of another.

        Examples
        --------
        >>> from sightline.profile.schema import Column, Schema
        >>> p = Profile.zero(Schema((Column("x"),)), edges={"x": [0.0, 1.0]})
        >>> edges, vocabularies = p.reference_spec()
        >>> edges["x"].tolist(), vocabularies
        ([0.0, 1.0], {})
        """
        edges: dict[str, FloatArray] = {}
        vocabularies: dict[str, tuple[str, ...]] = {}
        for name, c in self.columns.items():
            if isinstance(c, NumericColumnProfile) and c.edges is not None:
                edges[name] = c.edges
            elif isinstance(c, CategoricalColumnProfile) and c.vocabulary is not None:
                vocabularies[name] = c.vocabulary
            elif isinstance(c, TextColumnProfile):
                edges.update(
                    (d.name, d.edges) for d in c.descriptors.values() if d.edges is not None
                )
                if c.vocabulary is not None:
                    vocabularies[name] = c.vocabulary
        return edges, vocabularies

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: window, counts, latency and every column's statistics.

        Examples
        --------
        >>> from sightline.profile.schema import Column, Schema
        >>> p = Profile.zero(Schema((Column("x"),)), model="m").update({"x": np.array([1.0, 3.0])})
        >>> d = p.to_dict()
        >>> d["model"], d["n_rows"], d["columns"]["x"]["mean"]
        ('m', 2, 2.0)
        """
        lat = self.latency.quantiles(np.array([0.5, 0.95, 0.99]))
        cumulative = np.cumsum(self.latency_buckets).tolist()
        return {
            "schema_version": self.schema_version,
            "model": self.model,
            "version": self.version,
            "instance_ids": list(self.instance_ids),
            "window_start": None if self.window_start is None else self.window_start.isoformat(),
            "window_end": None if self.window_end is None else self.window_end.isoformat(),
            "n_rows": self.n_rows,
            "n_predictions": self.n_predictions,
            "n_errors": self.n_errors,
            "error_rate": (
                finite_or_none(self.n_errors / self.n_predictions) if self.n_predictions else None
            ),
            "latency_ms": {
                "p50": finite_or_none(float(lat[0])),
                "p95": finite_or_none(float(lat[1])),
                "p99": finite_or_none(float(lat[2])),
                "buckets": [
                    {"le": le, "count": n}
                    for le, n in zip([*LATENCY_BUCKETS_MS, "+Inf"], cumulative, strict=True)
                ],
            },
            "schema": self.schema.to_dict(),
            "columns": {name: c.to_dict() for name, c in self.columns.items()},
        }

    def to_bytes(self) -> bytes:
        """The compact versioned binary form (see :mod:`sightline.profile.codec`)."""
        from sightline.profile.codec import encode

        return encode(self)

    @classmethod
    def from_data(
        cls,
        data: Any,
        reference: Any = None,
        *,
        model: str = "",
        version: str = "",
        instance_id: str = "",
        window_start: datetime | None = None,
        window_end: datetime | None = None,
    ) -> Profile:
        """The profile of a data frame, Arrow table, dict of columns or CSV/Parquet file.

        ``reference`` (a profile, or data) fixes the bin edges and vocabularies; without one
        the data is its own reference (its deciles and categories). Reading data frames
        needs the analysis layer (pandas, pyarrow), imported here on first use so that the
        profile layer itself stays light for the SDK.

        Examples
        --------
        >>> p = Profile.from_data({"age": [31.0, 45.0, 52.0], "city": ["a", "b", None]})
        >>> p.n_rows, p.columns["city"].n_missing
        (3, 1)
        """
        from sightline.analysis.profiling import profile_data  # the one upward import

        return profile_data(
            data,
            reference=reference,
            model=model,
            version=version,
            instance_id=instance_id,
            window_start=window_start,
            window_end=window_end,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Profile:
        """Decode :meth:`to_bytes`.

        Raises
        ------
        UnsupportedFormatError
            If the payload is not a profile, of an unknown format version, truncated or
            corrupted.
        """
        from sightline.profile.codec import decode

        return decode(data)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_bytes` to ``path`` atomically (a temporary file, then a rename)."""
        target = Path(path)
        data = self.to_bytes()
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Profile:
        """Read a profile written by :meth:`save`.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from sightline.profile.schema import Column, Schema
        >>> p = Profile.zero(Schema((Column("x"),))).update({"x": np.array([1.0])})
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p.save(pathlib.Path(d) / "p.slp")
        ...     Profile.load(pathlib.Path(d) / "p.slp") == p
        True
        """
        return cls.from_bytes(Path(path).read_bytes())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Profile):
            return NotImplemented
        return (
            self.schema_version == other.schema_version
            and self.schema == other.schema
            and (self.model, self.version, self.instance_ids)
            == (other.model, other.version, other.instance_ids)
            and (self.window_start, self.window_end) == (other.window_start, other.window_end)
            and (self.n_rows, self.n_predictions, self.n_errors)
            == (other.n_rows, other.n_predictions, other.n_errors)
            and self.latency == other.latency
            and bool(np.array_equal(self.latency_buckets, other.latency_buckets))
            and bool(np.array_equal(self.first_byte_buckets, other.first_byte_buckets))
            and list(self.columns) == list(other.columns)
            and all(c == other.columns[n] for n, c in self.columns.items())
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return (
            f"Profile(model={self.model!r}, version={self.version!r}, n_rows={self.n_rows}, "
            f"columns={len(self.columns)}, n_predictions={self.n_predictions})"
        )

    def _repr_html_(self) -> str | None:
        """One line per column, inline in a notebook (None without jinja2, so the notebook
        shows the text ``repr`` instead)."""
        try:  # rendering is the report layer's job: the one upward import of this module
            from sightline.report.notebook import profile_html
        except ImportError:
            return None
        return profile_html(self)


def merge_profiles(profiles: Iterable[Profile]) -> Profile:
    """Merge any number of profiles into a new one (a left fold; inputs unchanged).

    The fold accumulates into one private copy, so merging ``n`` profiles costs ``n``
    in-place merges rather than ``n`` new profiles.

    Raises
    ------
    InvalidInputError
        If ``profiles`` is empty.
    IncompatibleProfilesError
        If any two are incompatible (see :meth:`Profile.merge`).

    Examples
    --------
    >>> from sightline.profile.schema import Column, Schema
    >>> schema = Schema((Column("x"),))
    >>> parts = [Profile.zero(schema).update({"x": np.array([float(i)])}) for i in range(4)]
    >>> merge_profiles(parts).columns["x"].mean
    1.5
    """
    it = iter(profiles)
    first = next(it, None)
    if first is None:
        raise InvalidInputError("merge_profiles needs at least one profile", field="profiles")
    if not isinstance(first, Profile):
        raise InvalidInputError(
            f"merge_profiles takes Profiles, got {type(first).__name__}", field="profiles"
        )
    acc = first._copy()
    for p in it:
        acc.check_compatible(p)
        acc._merge_unchecked(p)
    return acc


def _monitored(schema: Schema, kind: str | None = None) -> list[str]:
    return [
        c.name
        for c in schema.columns
        if c.role in MONITORED_ROLES and (kind is None or c.kind == kind)
    ]


def _check_named(what: str, given: Mapping[str, object], allowed: list[str], kind: str) -> None:
    bad = [n for n in given if n not in allowed]
    if bad:
        raise SchemaError(
            f"{what} names columns that are not profiled {kind} columns: {bad}; "
            f"profiled {kind} columns: {allowed}",
            field=str(bad[0]),
        )


def _check_columns(
    schema: Schema, columns: Mapping[str, ColumnProfile]
) -> dict[str, ColumnProfile]:
    """Column profiles in schema order, one per profiled column, of the column's kind."""
    expected = _monitored(schema)
    if sorted(columns) != sorted(expected):
        raise SchemaError(
            f"column profiles {sorted(columns)} do not match the profiled columns of the "
            f"schema {sorted(expected)}",
            field="columns",
        )
    out: dict[str, ColumnProfile] = {}
    for name in expected:
        profile = columns[name]
        want = _PROFILE_CLASSES[schema[name].kind]
        if not isinstance(profile, want) or profile.name != name:
            raise SchemaError(
                f"column {name!r}: expected a {want.__name__} named {name!r}, got {profile!r}",
                field=name,
            )
        out[name] = profile
    return out


_PROFILE_CLASSES: Final[dict[str, type[ColumnProfile]]] = {
    "numeric": NumericColumnProfile,
    "categorical": CategoricalColumnProfile,
    "text": TextColumnProfile,
    "embedding": EmbeddingColumnProfile,
}


def _latency_buckets(name: str, given: npt.ArrayLike | None) -> IntArray:
    """Counts per latency bucket (:data:`LATENCY_BUCKETS_MS` and ``+Inf``), zeros if None."""
    n_buckets = len(LATENCY_BUCKETS_MS) + 1
    if given is None:
        return np.zeros(n_buckets, dtype=np.int64)
    buckets = np.array(given, dtype=np.int64)
    if buckets.shape != (n_buckets,) or (buckets < 0).any():
        raise InvalidInputError(
            f"{name} must hold {n_buckets} counts >= 0, got {buckets.tolist()}", field=name
        )
    return buckets


def _schema_diff(a: Schema, b: Schema) -> str:
    left = {c.name: c for c in a.columns}
    right = {c.name: c for c in b.columns}
    parts = []
    if only := [n for n in left if n not in right]:
        parts.append(f"only in the first: {only}")
    if only := [n for n in right if n not in left]:
        parts.append(f"only in the second: {only}")
    if changed := [n for n in left if n in right and left[n] != right[n]]:
        parts.append(f"role or kind differs: {changed}")
    if not parts:
        parts.append("the column order differs")
    return "; ".join(parts)


def _length(name: str, values: object) -> int:
    try:
        return len(values)  # type: ignore[arg-type]
    except TypeError as exc:
        raise InvalidInputError(
            f"column {name!r}: values must be an array or a sequence, got {type(values).__name__}",
            field=name,
        ) from exc


def _as_sequence(name: str, values: object) -> Sequence[str | None] | npt.NDArray[Any]:
    if isinstance(values, np.ndarray | Sequence) and not isinstance(values, str | bytes):
        return values
    raise InvalidInputError(
        f"column {name!r}: categorical values must be an array or a sequence of str/None, "
        f"got {type(values).__name__}",
        field=name,
    )


__all__ = [
    "LATENCY_BUCKETS_MS",
    "MONITORED_ROLES",
    "SCHEMA_VERSION",
    "Profile",
    "merge_profiles",
]
