"""The false-alarm and detection study of the default drift settings (docs/drift.md).

    .venv/bin/python benchmarks/false_alarms.py --pairs 200 --sizes 100 300 1000 10000

For each window size, ``pairs`` reference/window pairs are drawn from the same 25
distributions (sightline.analysis.study) and ``pairs`` more with a 0.25 SD mean shift in 5
columns; the reference has as many rows as the window, or ``--reference`` rows. Each pair
is compared twice: on the data (``compare``) and on profiles (the collector's path).
"""

from __future__ import annotations

import argparse
import time

from sightline.analysis.study import run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000, 10_000])
    parser.add_argument("--reference", type=int, default=None, help="reference rows")
    args = parser.parse_args()
    print(
        "| window rows | reference rows | path | pairs | columns falsely flagged |"
        " data set falsely drifted | shifted columns caught | seconds |"
    )
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for n in args.sizes:
        for profiles in (False, True):
            start = time.perf_counter()
            r = run(n, args.pairs, seed=n, n_ref=args.reference, profiles=profiles)
            path = "profiles (collector)" if profiles else "data (compare)"
            print(
                f"| {n:,} | {r.n_ref:,} | {path} | {r.pairs} | {r.column_false_alarms:.2%} "
                f"| {r.dataset_false_alarms:.2%} | {r.detection:.2%} "
                f"| {time.perf_counter() - start:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
