"""What the monitor accumulates for one time window, and the payloads it becomes.

A window holds the profile of the rows logged in it (binned on the reference), the
prediction records for label joins, a uniform sample of raw rows, latencies and errors.
Windows are aligned to the epoch: ``[k * size, (k + 1) * size)`` seconds.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from sightline._validate import finite_or_none
from sightline.profile import Profile, Schema
from sightline.sdk.columns import Columns
from sightline.sdk.records import records_body

MAX_RECORDS = 10_000  # the collector's batch limit


class Spec:
    """The model version as the SDK needs it: schema, bin edges and vocabularies."""

    def __init__(
        self,
        schema: Schema,
        edges: Mapping[str, Any] | None = None,
        vocabularies: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.schema = schema
        self.edges = dict(edges or {})
        self.vocabularies = dict(vocabularies or {})
        self.prediction = _first(schema, "prediction")
        self.probabilities = schema.names(role="probability")

    @classmethod
    def of_reference(cls, reference: Profile) -> Spec:
        edges, vocabularies = reference.reference_spec()
        return cls(reference.schema, edges, vocabularies)


def _first(schema: Schema, role: str) -> str | None:
    names = schema.names(role=role)  # type: ignore[arg-type]
    return names[0] if names else None


class Window:
    """Accumulates one window of one monitor."""

    def __init__(
        self,
        spec: Spec,
        start: float,
        size: float,
        *,
        model: str,
        version: str,
        instance: str,
        sample_rows: int,
    ) -> None:
        self.start, self.end = start, start + size
        self._zero = functools.partial(
            Profile.zero,
            spec.schema,
            edges=spec.edges,
            vocabularies=spec.vocabularies,
            model=model,
            version=version,
            instance_id=instance,
            window_start=datetime.fromtimestamp(start, UTC),
            window_end=datetime.fromtimestamp(start + size, UTC),
        )
        self.profile = self._zero()
        self.rows = 0  # rows in ``profile``
        self.n_records = 0  # records not taken yet
        self._records: list[
            tuple[Sequence[str], npt.NDArray[np.float64], Sequence[Any], Sequence[Any]]
        ] = []
        self.samples: list[Any] = []
        self._sample_rows = sample_rows
        self._seen = 0
        self._random = np.random.default_rng(int(start))
        self.touched = False

    def add(
        self,
        columns: Columns,
        latencies: Sequence[float] | npt.NDArray[np.float64],
        *,
        served: int,
        errors: int = 0,
        rows: int = 0,
        ids: Sequence[str] | None = None,
    ) -> None:
        """Add ``rows`` logged rows already turned into columns, and ``served`` predictions
        (``errors`` of them failed; ``latencies`` of those that were timed); ``ids`` (one
        per row) choose the rows that embedding columns sample."""
        if columns.values or columns.counted:
            self.profile.update(
                columns.values,
                n_invalid=columns.n_invalid,
                counted=columns.counted,
                row_ids=ids,
                threads=False,  # the serving process's CPU counts, not this thread's wall time
            )
        self.rows += rows
        lat = np.asarray(latencies, dtype=np.float64)
        lat = lat[np.isfinite(lat) & (lat >= 0)]
        self.profile.record_latency(lat, n_errors=errors)
        self.profile.n_predictions += max(0, served - lat.size)
        self.touched = True

    def add_records(
        self,
        ids: Sequence[str],
        seconds: npt.NDArray[np.float64],
        predictions: Sequence[Any],
        probabilities: Sequence[Any],
    ) -> None:
        """Prediction records (id, timestamp, prediction, probability) for label joins,
        given column by column."""
        self._records.append((ids, seconds, predictions, probabilities))
        self.n_records += len(ids)

    def add_samples(self, rows: Sequence[Any]) -> None:
        """Keep a uniform sample of at most ``sample_rows`` rows (reservoir sampling: the
        ``i``-th row seen replaces a kept one with probability ``sample_rows / i``); rows
        that are not mappings are left out when the sample is sent."""
        head = rows[: max(0, self._sample_rows - len(self.samples))]
        self.samples.extend(head)
        before = self._seen + len(head)
        self._seen += len(rows)
        if len(rows) == len(head):
            return
        seen = before + np.arange(1, len(rows) - len(head) + 1)  # 1-based count at each row
        slots = self._random.integers(0, seen)
        for i in np.flatnonzero(slots < self._sample_rows):
            self.samples[slots[i]] = rows[len(head) + int(i)]

    def take_records(self) -> list[tuple[bytes, int]]:
        """The prediction records as JSON bodies of at most :data:`MAX_RECORDS` (with how
        many each holds), then cleared."""
        batches, self._records, self.n_records = self._records, [], 0
        if not batches:
            return []
        ids = list(itertools.chain.from_iterable(b[0] for b in batches))
        seconds = np.concatenate([b[1] for b in batches])
        predictions = list(itertools.chain.from_iterable(b[2] for b in batches))
        probabilities = list(itertools.chain.from_iterable(b[3] for b in batches))
        bodies = []
        for i in range(0, len(ids), MAX_RECORDS):
            part = slice(i, i + MAX_RECORDS)
            body = records_body(ids[part], seconds[part], predictions[part], probabilities[part])
            bodies.append((body, len(ids[part])))
        return bodies

    def take_profile(self) -> tuple[bytes, int] | None:
        """The profile so far as bytes (with its rows), then a fresh one for the rest of
        the window; None when nothing was added. Profiles merge, so the collector adds up
        the parts of a window."""
        if not self.touched:
            return None
        body, rows = self.profile.to_bytes(), self.rows
        self.profile, self.rows, self.touched = self._zero(), 0, False
        return body, rows

    def sample_body(self, names: set[str]) -> bytes | None:
        """The sampled rows (schema columns only, finite values) as one JSON body."""
        kept = [row for row in self.samples if isinstance(row, Mapping)]
        rows = [{k: _cell(v) for k, v in row.items() if k in names} for row in kept]
        rows = [r for r in rows if r]
        if not rows:
            return None
        stamp = datetime.fromtimestamp(self.start, UTC).isoformat()
        return json.dumps({"timestamp": stamp, "rows": rows[:MAX_RECORDS]}).encode()


def _cell(value: Any) -> Any:
    if type(value) is float:  # the common cell first: one type test
        return value if math.isfinite(value) else None
    if isinstance(value, bool | str) or value is None:
        return value if not isinstance(value, str) else value[:10_000]
    if isinstance(value, int | float | np.integer | np.floating):
        return finite_or_none(float(value))
    return str(value)[:10_000]
