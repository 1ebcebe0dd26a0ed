"""Backfill: profiles and metric rows for a large Parquet data set partitioned by time.

Map each Parquet file to the profiles of the windows its rows fall in (binned on the
version's reference), tree-merge the profiles of each window, then run the same drift,
quality and health jobs as the scheduler. Files are mapped in this process or on a Dask
cluster (``client.map``); the reduction is a pairwise tree, so any number of files merges
in ``log2`` rounds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sightline._time import EPOCH, window_edges, window_numbers
from sightline.analysis.columns import SchemaOptions
from sightline.analysis.profiling import profile_data
from sightline.analysis.rows import MetricRow
from sightline.errors import InvalidInputError
from sightline.profile import Profile, merge_profiles
from sightline.scheduler import jobs as j
from sightline.scheduler.plan import Job


@dataclass(frozen=True)
class BackfillSpec:
    """What to backfill: the model version, its reference profile (bytes), the timestamp
    column and the window size in seconds."""

    model: str
    version: str
    reference: bytes
    timestamp: str
    window: int


def parquet_files(data: str | Path) -> list[str]:
    """The Parquet files of ``data`` (a file, or a directory searched recursively), sorted."""
    path = Path(data)
    if path.is_file():
        return [str(path)]
    files = sorted(str(p) for p in path.rglob("*") if p.suffix in (".parquet", ".pq"))
    if not files:
        raise InvalidInputError(f"no Parquet files in {path}", field="data")
    return files


def profile_file(path: str, spec: BackfillSpec) -> dict[int, bytes]:
    """The profiles of one file, per window (keyed by window number since the epoch)."""
    table = pq.read_table(path)
    if spec.timestamp not in table.column_names:
        raise InvalidInputError(f"{path} has no column {spec.timestamp!r}", field="timestamp")
    stamps = pc.cast(table.column(spec.timestamp), pa.timestamp("us")).to_numpy()
    windows = window_numbers(stamps.astype("int64"), spec.window)
    reference = Profile.from_bytes(spec.reference)
    options = SchemaOptions(schema=reference.schema)
    out = {}
    for w in np.unique(windows):
        rows = table.filter(pa.array(windows == w))
        start = window_edges(int(w), spec.window)[0]
        profile = profile_data(
            rows,
            reference=reference,
            columns=options,
            model=spec.model,
            version=spec.version,
            instance_id="backfill",
            window_start=start,
            window_end=start + timedelta(seconds=spec.window),
        )
        out[int(w)] = profile.to_bytes()
    return out


def merge_pair(a: dict[int, bytes], b: dict[int, bytes]) -> dict[int, bytes]:
    """Per-window merge of two maps of profiles."""
    out = dict(a)
    for w, payload in b.items():
        if w in out:
            both = [Profile.from_bytes(out[w]), Profile.from_bytes(payload)]
            payload = merge_profiles(both).to_bytes()
        out[w] = payload
    return out


def tree_reduce(items: Sequence[Any], combine: Callable[[Any, Any], Any]) -> Any:
    """``combine`` over ``items`` pairwise, round after round (a balanced tree)."""
    level = list(items)
    while len(level) > 1:
        pairs = [combine(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    return level[0]


def window_rows(
    project: str, spec: BackfillSpec, w: int, payload: bytes
) -> list[tuple[Job, list[MetricRow]]]:
    """The drift, quality and health jobs of one merged window, with their rows."""
    start = EPOCH + timedelta(seconds=w * spec.window)
    end = start + timedelta(seconds=spec.window)
    out = []
    for kind in ("drift", "quality", "health"):
        job = Job(start, project, spec.model, spec.version, kind, end, "backfill")
        out.append((job, j.compute(j.JobInputs(job, (payload,), (spec.reference,)))))
    return out


def backfill(
    files: Iterable[str],
    spec: BackfillSpec,
    *,
    client: Any = None,
    progress: Callable[[int], None] | None = None,
) -> dict[int, bytes]:
    """The merged profile of every window of ``files`` (locally, or on ``client``)."""
    paths = list(files)
    task = functools.partial(profile_file, spec=spec)
    if client is not None:
        futures = client.map(task, paths, pure=True)
        while len(futures) > 1:
            pairs = [
                client.submit(merge_pair, futures[i], futures[i + 1])
                for i in range(0, len(futures) - 1, 2)
            ]
            futures = pairs + ([futures[-1]] if len(futures) % 2 else [])
        return dict(futures[0].result()) if futures else {}
    maps = []
    for i, path in enumerate(paths):
        maps.append(task(path))
        if progress is not None:
            progress(i + 1)
    return tree_reduce(maps, merge_pair) if maps else {}
