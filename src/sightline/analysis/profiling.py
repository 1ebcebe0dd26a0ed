"""Build a :class:`~sightline.profile.dataset.Profile` from a data frame, table or file.

The bin edges and vocabularies of a profile come from a reference: another profile, a data
set (its exact deciles and categories, the same ones :func:`sightline.compare` uses), or,
without a reference, the profiled data itself, so that every profile can serve as a
reference later.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sightline._types import FloatArray
from sightline.analysis.columns import (
    SchemaOptions,
    category_text,
    check_columns,
    numeric_values,
    quantile_edges_of,
    vocabulary,
)
from sightline.analysis.frames import DataLike, to_table
from sightline.analysis.reference import MONITORED_ROLES
from sightline.profile.codec import MAGIC
from sightline.profile.dataset import Profile
from sightline.profile.schema import Schema


def profile_data(
    data: DataLike,
    *,
    reference: DataLike | Profile | None = None,
    columns: SchemaOptions | None = None,
    model: str = "",
    version: str = "",
    instance_id: str = "",
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    n_bins: int = 10,
) -> Profile:
    """The profile of ``data``, binned on the reference's edges and vocabularies.

    ``columns`` overrides the inferred schema (as the keyword arguments of
    :func:`sightline.compare` do); with a profile as the reference its schema is used.

    Examples
    --------
    >>> ref = profile_data({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "a"]}, n_bins=2)
    >>> ref.columns["x"].bins.tolist(), ref.columns["c"].counts.tolist()
    ([2, 2], [3, 1, 0])
    >>> cur = profile_data({"x": [5.0, 6.0], "c": ["a", "z"]}, reference=ref)
    >>> cur.columns["x"].bins.tolist(), cur.columns["c"].counts.tolist()
    ([0, 2], [1, 0, 1])
    """
    table = to_table(data, "data")
    schema, edges, vocabularies = _spec(table, reference, columns or SchemaOptions(), n_bins)
    check_columns(schema, table, "data", ("feature",))
    profile = Profile.zero(
        schema,
        edges=edges,
        vocabularies=vocabularies,
        model=model,
        version=version,
        instance_id=instance_id,
        window_start=window_start,
        window_end=window_end,
    )
    present = set(table.column_names)
    monitored = [c for c in schema.columns if c.role in MONITORED_ROLES and c.name in present]
    values: dict[str, FloatArray] = {}
    invalid: dict[str, int] = {}
    counted: dict[str, tuple[list[str | None], np.ndarray]] = {}
    for column in monitored:
        if column.kind == "numeric":
            values[column.name], invalid[column.name] = numeric_values(table.column(column.name))
        else:
            counted[column.name] = _value_counts(table.column(column.name))
    return profile.update(values, n_invalid=invalid, counted=counted)


def as_profile(value: object) -> Profile | None:
    """``value`` as a profile: itself, or the profile saved in the file it names; else None.

    Examples
    --------
    >>> as_profile({"x": [1.0]}) is None
    True
    """
    if isinstance(value, Profile):
        return value
    if isinstance(value, str | Path):
        path = Path(value)
        if path.is_file():
            with path.open("rb") as f:
                if f.read(len(MAGIC)) == MAGIC:
                    return Profile.load(path)
    return None


def _spec(
    table: pa.Table, reference: DataLike | Profile | None, columns: SchemaOptions, n_bins: int
) -> tuple[Schema, dict[str, FloatArray], dict[str, tuple[str, ...]]]:
    """Schema, bin edges and vocabularies fixed by the reference."""
    if isinstance(reference, Profile):
        edges, vocabularies = reference.reference_spec()
        return reference.schema, edges, vocabularies
    ref_table = table if reference is None else to_table(reference, "reference")
    schema = columns.resolve(ref_table)
    monitored = [c for c in schema.columns if c.role in MONITORED_ROLES]
    numeric = [c.name for c in monitored if c.kind == "numeric"]
    edges = dict(zip(numeric, quantile_edges_of(ref_table, numeric, n_bins), strict=True))
    vocabularies = {
        c.name: vocabulary(ref_table.column(c.name)) for c in monitored if c.kind == "categorical"
    }
    return schema, edges, vocabularies


def _value_counts(column: pa.ChunkedArray) -> tuple[list[str | None], np.ndarray]:
    """Distinct values of a categorical column as text (None = missing) and their counts."""
    counts = pc.value_counts(category_text(column))
    values: list[str | None] = counts.field("values").to_pylist()
    return values, np.asarray(counts.field("counts").to_numpy(), dtype=np.int64)


__all__ = ["as_profile", "profile_data"]
