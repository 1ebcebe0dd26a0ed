"""The synthetic pair of benchmarks/compare.py, saved as Parquet once per size."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).parent / "out"
N_NUMERIC = 20
N_CATEGORICAL = 5
#: Columns that drift in the current side (known subset).
DRIFTED = ("num0", "num5", "num10", "cat0")


def _numeric(rng: np.random.Generator, j: int, n: int, drift: bool) -> np.ndarray:
    shape = j % 4
    shift = 0.3 if drift else 0.0
    if shape == 0:
        x = rng.normal(shift, 1.0, n)
    elif shape == 1:
        x = rng.lognormal(shift, 0.7, n)
    elif shape == 2:
        x = rng.standard_t(4, n) + shift
    else:
        x = rng.poisson(5, n).astype(np.float64) + (1.0 if drift else 0.0)
    if j % 3 == 0:  # some columns have 5 % missing values
        x[rng.random(n) < 0.05] = np.nan
    return x


def _categorical(rng: np.random.Generator, j: int, n: int, drift: bool) -> pd.Categorical:
    k = 10 + 10 * j  # 10 to 50 categories
    p = np.arange(1, k + 1, dtype=np.float64)
    if drift:
        p = p[::-1]
    values = rng.choice(k, n, p=p / p.sum())
    names = np.array([f"c{i:02d}" for i in range(k)], dtype=object)
    return pd.Categorical.from_codes(values, categories=list(names))


def frame(n: int, *, current: bool, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {}
    for j in range(N_NUMERIC):
        cols[f"num{j}"] = _numeric(rng, j, n, current and f"num{j}" in DRIFTED)
    for j in range(N_CATEGORICAL):
        cols[f"cat{j}"] = _categorical(rng, j, n, current and f"cat{j}" in DRIFTED)
    return pd.DataFrame(cols)


def pair(n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current frames of ``n`` rows each (cached as Parquet in out/)."""
    OUT.mkdir(exist_ok=True)
    paths = OUT / f"ref_{n}.parquet", OUT / f"cur_{n}.parquet"
    for path, current, seed in ((paths[0], False, 1), (paths[1], True, 2)):
        if not path.exists():  # written aside, then renamed: a killed run leaves no half file
            partial = path.with_suffix(f".{os.getpid()}.partial")
            frame(n, current=current, seed=seed).to_parquet(partial)
            partial.replace(path)
    return pd.read_parquet(paths[0]), pd.read_parquet(paths[1])
