"""The false-alarm and detection study of the default drift settings (docs/drift.md).

    .venv/bin/python benchmarks/false_alarms.py --pairs 200 --sizes 1000 10000 100000 1000000

For each size, ``pairs`` reference/current pairs are drawn from the same 25 distributions
(sightline.analysis.study) and ``pairs`` more with a 0.25 SD mean shift in 5 columns.
"""

from __future__ import annotations

import argparse
import time

from sightline.analysis.study import run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000, 1_000_000])
    args = parser.parse_args()
    print(
        "| rows a side | pairs | columns falsely flagged | data set falsely drifted |"
        " shifted columns caught | seconds |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in args.sizes:
        start = time.perf_counter()
        r = run(n, args.pairs, seed=n)
        print(
            f"| {n:,} | {r.pairs} | {r.column_false_alarms:.2%} | {r.dataset_false_alarms:.2%} "
            f"| {r.detection:.2%} | {time.perf_counter() - start:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
