"""sightline's streaming detectors side by side with river's (docs/detectors.md).

    bash benchmarks/setup.sh    # benchmarks/.venv: river 0.26 and sightline (editable)
    benchmarks/.venv/bin/python benchmarks/detectors.py --seeds 5

Four tables, in markdown:

1. parity: ADWIN and PageHinkley of both libraries with the same parameters on the same
   streams (stable, abrupt shift, gradual drift, error-rate shift, several seeds), with
   the detection indices compared;
2. false alarms per 100,000 stable values: river's defaults against sightline's
   calibrated detectors (``calibrate(reference, run_length=10_000)`` on 10,000 other
   stable values), on normal, log-normal and 0/1 error streams;
3. detection delay of a one-standard-deviation shift of the mean, after 2,000 to 2,063
   stable values (ADWIN tests every 32 values, so the shift's phase matters);
4. time per 100,000 updates, and of a calibration.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

Stream = Callable[[int], np.ndarray]


def _stable(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=20_000)


def _abrupt(seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=20_000)
    x[10_000:] += 1.0
    return x


def _gradual(seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=20_000)
    x[10_000:] += np.linspace(0.0, 2.0, 10_000)
    return x


def _errors(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.random(10_000) < 0.1, rng.random(10_000) < 0.2]).astype(float)


STREAMS: dict[str, Stream] = {
    "stable N(0,1)": _stable,
    "abrupt +1 sd at 10k": _abrupt,
    "gradual 0 to +2 sd over 10k": _gradual,
    "error rate 0.1 to 0.2 at 10k": _errors,
}

PARAMETERS: list[tuple[str, dict[str, Any]]] = [
    ("ADWIN", {}),
    ("ADWIN", {"delta": 0.1, "clock": 8}),
    ("ADWIN", {"delta": 0.01, "max_buckets": 3, "min_window_length": 10, "grace_period": 50}),
    ("PageHinkley", {}),
    ("PageHinkley", {"delta": 0.5, "threshold": 8.0, "alpha": 1.0}),
    ("PageHinkley", {"threshold": 20.0, "mode": "up"}),
]


def _river_hits(detector: Any, values: Iterable[float]) -> list[int]:
    hits = []
    for i, x in enumerate(values):
        detector.update(x)
        if detector.drift_detected:
            hits.append(i)
    return hits


def _ours(name: str, params: dict[str, Any]) -> Any:
    from sightline.stats import detectors

    return getattr(detectors, name)(**params)


def _theirs(name: str, params: dict[str, Any]) -> Any:
    from river import drift

    return getattr(drift, name)(**params)


def parity(seeds: int) -> None:
    from sightline.stats.detectors import detect

    print("| detector | parameters | stream | seeds | river detections | same indices |")
    print("| --- | --- | --- | ---: | ---: | --- |")
    for name, params in PARAMETERS:
        for label, make in STREAMS.items():
            total, same, notes = 0, 0, []
            for seed in range(seeds):
                values = make(seed).tolist()
                theirs = _river_hits(_theirs(name, params), values)
                ours = np.flatnonzero(detect(values, _ours(name, params))).tolist()
                total += len(theirs)
                same += ours == theirs
                if ours != theirs:
                    notes.append(f"seed {seed}: river {theirs[:5]}, sightline {ours[:5]}")
            args = ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults"
            verdict = f"{same}/{seeds}" + (f" ({'; '.join(notes)})" if notes else "")
            print(f"| {name} | {args} | {label} | {seeds} | {total} | {verdict} |", flush=True)


def _reference_and_streams(kind: str, seeds: int) -> tuple[np.ndarray, list[np.ndarray]]:
    def draw(seed: int, n: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        if kind == "normal":
            return rng.normal(size=n)
        if kind == "log-normal":
            return rng.lognormal(size=n)
        return (rng.random(n) < 0.1).astype(float)

    return draw(10_000, 10_000), [draw(seed, 100_000) for seed in range(seeds)]


def _calibrated(reference: np.ndarray) -> dict[str, Any]:
    from sightline.stats.detectors import ADWIN, CUSUM, PageHinkley

    return {
        "sightline ADWIN calibrated": ADWIN.calibrate(reference),
        "sightline PageHinkley calibrated": PageHinkley.calibrate(reference),
        "sightline CUSUM calibrated": CUSUM.calibrate(reference),
    }


def false_alarms(seeds: int) -> None:
    import copy

    from river import drift

    from sightline.stats.detectors import detect

    print("| stream (100,000 stable values) | detector | false alarms per seed | median |")
    print("| --- | --- | --- | ---: |")
    for kind in ("normal", "log-normal", "0/1 errors at rate 0.1"):
        reference, streams = _reference_and_streams(kind, seeds)
        rows: dict[str, list[int]] = {"river ADWIN()": [], "river PageHinkley()": []}
        for x in streams:
            values = x.tolist()
            rows["river ADWIN()"].append(len(_river_hits(drift.ADWIN(), values)))
            rows["river PageHinkley()"].append(len(_river_hits(drift.PageHinkley(), values)))
        for label, detector in _calibrated(reference).items():
            rows[label] = [int(detect(x, copy.deepcopy(detector)).sum()) for x in streams]
        for label, counts in rows.items():
            print(f"| {kind} | {label} | {counts} | {np.median(counts):g} |", flush=True)


def delays(seeds: int) -> None:
    import copy

    from river import drift

    from sightline.stats.detectors import detect

    reference = np.random.default_rng(10_000).normal(size=10_000)
    makers: dict[str, Callable[[], Any]] = {
        "river ADWIN()": drift.ADWIN,
        "river PageHinkley()": drift.PageHinkley,
    }
    for label, detector in _calibrated(reference).items():
        makers[label] = lambda d=detector: copy.deepcopy(d)
    print(
        "| detector | shift | median delay | 90th percentile | missed (none in 2,000) |"
        " alarms in the 2,000+ values before |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    n = 10 * seeds
    for label, make in makers.items():
        for shift in (1.0, -1.0):
            found, before = [], 0
            for seed in range(n):
                rng = np.random.default_rng(20_000 + seed)
                at = 2000 + int(rng.integers(0, 64))  # ADWIN tests every 32 values
                x = rng.normal(size=at + 2000)
                x[at:] += shift
                if label.startswith("river"):
                    hits = np.array(_river_hits(make(), x.tolist()), dtype=int)
                else:
                    hits = np.flatnonzero(detect(x, make()))
                before += int((hits < at).sum())
                after = hits[hits >= at]
                found.append(after[0] - at if after.size else np.inf)
            delay = np.array(found)
            ok = delay[np.isfinite(delay)]
            print(
                f"| {label} | {shift:+g} sd | {np.median(ok):g} | {np.quantile(ok, 0.9):g} "
                f"| {int((~np.isfinite(delay)).sum())}/{n} | {before} |",
                flush=True,
            )


def timings() -> None:
    from river import drift

    from sightline.stats.detectors import ADWIN, CUSUM, PageHinkley, detect

    x = np.random.default_rng(0).normal(size=100_000)
    values = x.tolist()
    reference = np.random.default_rng(1).normal(size=10_000)
    print("| what | seconds |")
    print("| --- | ---: |")
    cases: list[tuple[str, Callable[[], object]]] = [
        ("river ADWIN(), 100,000 updates", lambda: _river_hits(drift.ADWIN(), values)),
        ("sightline ADWIN(), 100,000 updates", lambda: detect(x, ADWIN())),
        ("river PageHinkley(), 100,000 updates", lambda: _river_hits(drift.PageHinkley(), values)),
        ("sightline PageHinkley(), 100,000 updates", lambda: detect(x, PageHinkley())),
        ("sightline CUSUM(), 100,000 updates", lambda: detect(x, CUSUM())),
        ("sightline ADWIN.calibrate (10,000-value reference)", lambda: ADWIN.calibrate(reference)),
        ("sightline PageHinkley.calibrate", lambda: PageHinkley.calibrate(reference)),
        ("sightline CUSUM.calibrate (bootstrap)", lambda: CUSUM.calibrate(reference)),
        (
            "sightline CUSUM.calibrate (siegmund)",
            lambda: CUSUM.calibrate(reference, method="siegmund"),
        ),
    ]
    PageHinkley.calibrate(reference, run_length=100, n_streams=10)  # imports scipy.signal
    for label, call in cases:
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            call()
            runs.append(time.perf_counter() - start)
        print(f"| {label} | {np.median(runs):.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--only", choices=["parity", "false_alarms", "delays", "timings"], default=None
    )
    args = parser.parse_args()
    sections: dict[str, Callable[[], None]] = {
        "parity": lambda: parity(args.seeds),
        "false_alarms": lambda: false_alarms(args.seeds),
        "delays": lambda: delays(args.seeds),
        "timings": timings,
    }
    for name, run in sections.items():
        if args.only in (None, name):
            print(f"\n### {name}\n", flush=True)
            run()


if __name__ == "__main__":
    main()
