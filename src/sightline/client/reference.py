"""A reference for upload: a data frame, a CSV/Parquet file or a profile, as a schema and
the body the collector reads (pandas and pyarrow are imported only here, when called)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from sightline.errors import SchemaError

if TYPE_CHECKING:
    from sightline.profile import Schema

PROFILE = "application/x-sightline-profile"
PARQUET = "application/vnd.apache.parquet"


class Upload(NamedTuple):
    """What ``PUT .../reference`` sends, and the schema the reference implies."""

    schema: Schema
    body: bytes
    content_type: str


def upload_of(reference: Any, schema: Schema | None = None, **options: Any) -> Upload:
    """The schema and body of ``reference``: a profile (or a ``.slp`` file) as it is, any
    data ``compare`` reads (pandas, polars, pyarrow, a CSV or Parquet file) as Parquet. The
    schema is ``schema``, or the profile's, or inferred from the data as ``compare`` infers
    it, with ``options`` (``target=``, ``prediction=``, ``categorical=``, ...) overriding.

    Examples
    --------
    >>> up = upload_of({"age": [31.0, 45.5], "target": [0, 1]})
    >>> [(c.name, c.role) for c in up.schema.columns], up.content_type
    ([('age', 'feature'), ('target', 'target')], 'application/vnd.apache.parquet')
    """
    from sightline.analysis.columns import SchemaOptions
    from sightline.analysis.frames import to_table
    from sightline.analysis.profiling import as_profile

    profile = as_profile(reference)
    if profile is not None:
        return Upload(schema or profile.schema, profile.to_bytes(), PROFILE)
    table = to_table(reference, "reference")
    resolved = SchemaOptions(schema=schema, **options).resolve(table)
    missing = [n for n in resolved.names() if n not in table.column_names]
    if missing:
        raise SchemaError(f"the reference lacks the schema's columns {missing}", field=missing[0])
    return Upload(resolved, _parquet(table.select(resolved.names())), PARQUET)


def _parquet(table: Any) -> bytes:
    import io

    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
