"""sightline.compare vs Evidently's DataDriftPreset vs NannyML's UnivariateDriftCalculator.

Run with the peers' environment (``make bench`` builds ``benchmarks/.venv``)::

    benchmarks/.venv/bin/python benchmarks/compare.py --sizes 100000 1000000

``sightline`` is ``sightline.compare`` with its defaults (drift of every column, data set
verdict, data quality); ``sightline+multivariate`` adds the PCA reconstruction error. Every
tool runs in a fresh subprocess on the same pandas frames (20 numeric columns of four
shapes, some with 5 % NaN; 5 categorical columns with 10-50 categories; drift in num0,
num5, num10 and cat0). Wall time covers the call only (data already in memory); peak memory
is the largest resident-set growth over the process's size before the call, sampled every
5 ms. Tools that finish in under 10 s are run 3 times (fresh process each) and the median
is kept. Import time is not measured. The baseline is one single-threaded ``np.sort`` of every numeric column of both
sides; ``sort-2d`` is the same as one ``np.sort(axis=0)`` call on each side's numeric block
(row-major, as ``DataFrame.to_numpy`` returns it).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

from _harness import timed

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")

TOOLS = ("sort", "sort-2d", "sightline", "sightline+multivariate", "nannyml", "evidently")


def _run_sort(ref, cur) -> None:
    import numpy as np

    for col in ref.columns:
        if ref[col].dtype.kind == "f":
            np.sort(ref[col].to_numpy())
            np.sort(cur[col].to_numpy())


def _run_sort_2d(ref, cur) -> None:
    import numpy as np

    numeric = [c for c in ref.columns if ref[c].dtype.kind == "f"]
    np.sort(ref[numeric].to_numpy(), axis=0)
    np.sort(cur[numeric].to_numpy(), axis=0)


def _run_sightline(ref, cur, *, multivariate: bool = False) -> None:
    import sightline

    result = sightline.compare(ref, cur, multivariate=multivariate)
    drifted = sorted(r.column for r in result.rows if r.alert and r.metric in _DRIFT)
    print(json.dumps({"drifted": drifted}), file=sys.stderr)


_DRIFT = {"wasserstein_normed", "jensen_shannon", "ks", "chi2"}


def _run_nannyml(ref, cur) -> None:
    import nannyml as nml

    calc = nml.UnivariateDriftCalculator(column_names=list(ref.columns), chunk_size=len(cur))
    calc.fit(ref)
    calc.calculate(cur)


def _run_evidently(ref, cur) -> None:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)


#: Modules each tool imports; imported before the timer starts (import time is not measured).
IMPORTS = {
    "sort": ["numpy"],
    "sort-2d": ["numpy"],
    "sightline": ["sightline", "sightline.analysis.compare"],
    "sightline+multivariate": ["sightline", "sightline.analysis.compare"],
    "nannyml": ["nannyml"],
    "evidently": ["evidently", "evidently.presets"],
}

RUNNERS = {
    "sort": _run_sort,
    "sort-2d": _run_sort_2d,
    "sightline": _run_sightline,
    "sightline+multivariate": lambda r, c: _run_sightline(r, c, multivariate=True),
    "nannyml": _run_nannyml,
    "evidently": _run_evidently,
}


def worker(tool: str, n: int) -> dict[str, float]:
    """Run one tool once in this process; return seconds and peak extra memory (MB)."""
    import _data

    ref, cur = _data.pair(n)
    for module in IMPORTS[tool]:
        importlib.import_module(module)
    _, seconds, peak_mb = timed(lambda: RUNNERS[tool](ref, cur))
    input_mb = (ref.memory_usage(deep=False).sum() + cur.memory_usage(deep=False).sum()) / 2**20
    return {"seconds": seconds, "peak_mb": peak_mb, "input_mb": float(input_mb)}


def measure(tool: str, n: int) -> dict[str, float]:
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, __file__, "--worker", tool, str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        if runs[-1]["seconds"] > 10:
            break
    best = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    best["runs"] = len(runs)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--tools", nargs="+", default=list(TOOLS))
    parser.add_argument("--worker", nargs=2, metavar=("TOOL", "N"))
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]))))
        return
    import _data

    for n in args.sizes:
        _data.pair(n)  # write the Parquet files once, outside the timings
        results = {tool: measure(tool, n) for tool in args.tools}
        print(f"\n## {n:,} rows a side (input arrays {results[args.tools[0]]['input_mb']:.0f} MB)")
        print("| tool | wall s | peak extra MB | sightline is x faster |")
        print("| --- | ---: | ---: | ---: |")
        ours = results.get("sightline", {}).get("seconds")
        for tool, r in results.items():
            ratio = f"{r['seconds'] / ours:.1f}" if ours else ""
            print(f"| {tool} | {r['seconds']:.2f} | {r['peak_mb']:.0f} | {ratio} |")
        for base in ("sort", "sort-2d"):
            if base in results and ours:
                print(f"\nsightline / {base}: {ours / results[base]['seconds']:.2f}x")


if __name__ == "__main__":
    main()
