"""The false-alarm and detection study of the default drift settings.

Pairs of samples are drawn from the same 25 distributions (mixed shapes: normal, skewed,
heavy-tailed, discrete, categorical); in the "shifted" pairs, 5 numeric columns of the
current side move by 0.25 reference standard deviations. The study counts how often the
default settings flag a column or the data set, on the data (``compare``) or, as the
collector does, on profiles binned on the reference's profile. ``benchmarks/false_alarms.py``
runs the full study for ``docs/drift.md``; the test suite runs a smaller one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sightline.analysis.compare import compare
from sightline.analysis.methods import ALL_METHODS
from sightline.analysis.profiling import profile_data
from sightline.analysis.rows import Result
from sightline.profile.dataset import Profile

N_COLUMNS = 25
SHIFTED = ("n0", "n1", "n2", "n3", "n4")
SHIFT_SD = 0.25


def sample(rng: np.random.Generator, n: int, *, shift: bool = False) -> pa.Table:
    """One sample of the 25 study columns (20 numeric of 4 shapes, 5 categorical)."""
    cols: dict[str, object] = {}
    for i in range(5):  # normal, the shifted ones
        cols[f"n{i}"] = rng.normal(0, 1, n) + (SHIFT_SD if shift else 0.0)
    for i in range(5):
        cols[f"skew{i}"] = rng.lognormal(0, 0.6, n)
    for i in range(5):
        cols[f"heavy{i}"] = rng.standard_t(3, n)
    for i in range(5):
        cols[f"count{i}"] = rng.poisson(4 + i, n).astype(np.float64)
    for i in range(5):
        k = 3 + 4 * i
        p = np.arange(1, k + 1, dtype=np.float64)
        cols[f"cat{i}"] = rng.choice([f"v{j}" for j in range(k)], n, p=p / p.sum())
    return pa.table(cols)


@dataclass(frozen=True, slots=True)
class StudyResult:
    """Shares over all pairs of one setting."""

    n_rows: int
    n_ref: int
    pairs: int
    column_false_alarms: float  # share of (pair, column) flagged when nothing changed
    dataset_false_alarms: float  # share of null pairs whose data set verdict was "drifted"
    detection: float  # share of (pair, shifted column) flagged in the shifted pairs


def run(
    n_rows: int, pairs: int, *, seed: int = 0, n_ref: int | None = None, profiles: bool = False
) -> StudyResult:
    """Run ``pairs`` null pairs and ``pairs`` shifted pairs: windows of ``n_rows`` rows
    against references of ``n_ref`` (default: as many), compared as data, or as profiles
    (``profiles=True``: the collector's computation)."""
    rng = np.random.default_rng(seed)
    size = n_rows if n_ref is None else n_ref
    false_cols = false_sets = caught = 0
    for _ in range(pairs):
        ref = sample(rng, size)
        reference = profile_data(ref) if profiles else ref
        null = _versus(reference, sample(rng, n_rows))
        flagged = {r.column for r in null.rows if r.metric in ALL_METHODS and r.alert}
        false_cols += len(flagged)
        false_sets += null.select(metric="drift_share")[0].alert
        shifted = _versus(reference, sample(rng, n_rows, shift=True))
        caught += sum(
            1 for r in shifted.rows if r.metric in ALL_METHODS and r.alert and r.column in SHIFTED
        )
    return StudyResult(
        n_rows,
        size,
        pairs,
        false_cols / (pairs * N_COLUMNS),
        false_sets / pairs,
        caught / (pairs * len(SHIFTED)),
    )


def _versus(reference: pa.Table | Profile, current: pa.Table) -> Result:
    """``compare`` on the data, or on profiles binned on the reference's."""
    if isinstance(reference, Profile):
        return compare(reference, profile_data(current, reference=reference))
    return compare(reference, current)


__all__ = ["SHIFTED", "StudyResult", "run", "sample"]
