"""sightline profiles vs whylogs profiles: build, deserialize + merge, serialized size.

Run with whylogs' own environment (``bash benchmarks/setup_whylogs.sh`` builds
``benchmarks/.venv-whylogs``, which also holds sightline, editable)::

    benchmarks/.venv-whylogs/bin/python benchmarks/profile.py

Measured, each in a fresh subprocess on the reference frame of ``_data.pair(n)`` (20
numeric columns, 5 categorical, as in compare.py):

- ``build``: ``sightline.Profile.from_data(frame)`` (which also computes the frame's own
  exact decile edges and vocabularies, since no reference is given) and
  ``whylogs.log(pandas=frame).view()``, at 100k and 1M rows. Also sightline with a
  reference profile given (``reference=``, edges and vocabularies fixed; the frame's own
  profile, built by another process and loaded before the timing), as on a serving node.
- ``merge``: the 1M-row frame cut into 1,000 slices of 1,000 rows, one profile each, all
  serialized (``p.to_bytes()``, ``view.serialize()``) before the timed subprocesses, which
  time deserializing and merging all 1,000 (``Profile.from_bytes`` +
  ``sightline.merge_profiles``; ``DatasetProfileView.deserialize`` + ``.merge`` in a left
  fold), and merging only (already deserialized). sightline's slices are profiled against
  the whole frame's profile (``reference=``), since profiles merge only on the same bin
  edges and vocabularies; whylogs has no such notion.
- serialized sizes of each tool's profiles.

Wall time covers the call only (data in memory, imports done); peak memory is the largest
resident-set growth over the process's size before the call, sampled every 5 ms. Each
measurement runs ``--runs`` times (default 3; ``--slow-runs``, default 1, when a run takes
more than 10 s), each in a fresh process, and the fastest run is kept. The tools of one
build size take turns, one run each per round, so that they meet the same machine load.
whylogs' usage statistics are switched off (``WHYLOGS_NO_ANALYTICS``) and every worker
refuses outgoing connections, reporting any attempt. ``--no-merge`` measures the builds only.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import pickle
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _harness import timed

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")  # whylogs' telemetry opt-out

N_SLICES = 1_000
SLICE_ROWS = 1_000
MERGE_ROWS = N_SLICES * SLICE_ROWS
OUT = Path(__file__).parent / "out"

# -- the network guard ---------------------------------------------------------------------

_NETWORK_ATTEMPTS: list[str] = []


def _refuse_network() -> None:
    """Make every outgoing connection of this process fail, and remember its address."""

    def refuse(self: socket.socket, address: Any, *args: Any, **kwargs: Any) -> Any:
        _NETWORK_ATTEMPTS.append(repr(address))
        raise OSError(f"benchmarks/profile.py: no network ({address!r})")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]


# -- the measured calls ----------------------------------------------------------------------


def _frame(n: int) -> Any:
    import _data

    return _data.pair(n)[0]


def _sightline_reference(frame: Any) -> Any:
    import sightline

    return sightline.Profile.from_data(frame)


def _prepare_build(tool: str, n: int) -> tuple[Callable[[], Any], Callable[[Any], dict[str, Any]]]:
    """The timed call of one build measurement, and what to report on its result."""
    frame = _frame(n)
    if tool == "whylogs":
        import whylogs

        def check(view: Any) -> dict[str, Any]:
            rows = view.get_column("num0").to_summary_dict()["counts/n"]
            return {"bytes": len(view.serialize()), "rows": int(rows)}

        return lambda: whylogs.log(pandas=frame).view(), check

    import sightline

    def check_sightline(profile: Any) -> dict[str, Any]:
        return {"bytes": len(profile.to_bytes()), "rows": profile.n_rows}

    if tool == "sightline":
        return lambda: sightline.Profile.from_data(frame), check_sightline
    # sightline+reference: the frame's own profile, built by another process (so that its
    # memory does not count in this one's baseline) and read here outside the timing.
    reference = sightline.Profile.load(_reference_path(n))
    return lambda: sightline.Profile.from_data(frame, reference=reference), check_sightline


def _reference_path(n: int) -> Path:
    return OUT / f"reference_{n}.slp"


def prepare_reference(n: int) -> dict[str, Any]:
    """Save the profile of the ``n``-row frame, the reference of ``sightline+reference``."""
    _sightline_reference(_frame(n)).save(_reference_path(n))
    return {"bytes": _reference_path(n).stat().st_size}


def _slices_path(tool: str) -> Path:
    return OUT / f"profiles_{tool}_{N_SLICES}x{SLICE_ROWS}.pickle"


def prepare_slices(tool: str) -> dict[str, Any]:
    """Profile and serialize the 1,000 slices once (not timed); return their sizes."""
    frame = _frame(MERGE_ROWS)
    parts = [frame.iloc[i * SLICE_ROWS : (i + 1) * SLICE_ROWS] for i in range(N_SLICES)]
    if tool == "whylogs":
        import whylogs

        blobs = [whylogs.log(pandas=part).view().serialize() for part in parts]
    else:
        import sightline

        reference = _sightline_reference(frame)
        blobs = [sightline.Profile.from_data(p, reference=reference).to_bytes() for p in parts]
    with _slices_path(tool).open("wb") as f:
        pickle.dump(blobs, f, protocol=pickle.HIGHEST_PROTOCOL)
    sizes = sorted(len(b) for b in blobs)
    return {"slice_bytes": sizes[len(sizes) // 2], "all_bytes": sum(sizes)}


def _prepare_merge(
    tool: str, deserialize: bool
) -> tuple[Callable[[], Any], Callable[[Any], dict[str, Any]]]:
    with _slices_path(tool).open("rb") as f:
        blobs: list[bytes] = pickle.load(f)
    if tool == "whylogs":
        from whylogs.core import DatasetProfileView

        def fold(views: Any) -> Any:
            views = iter(views)
            merged = next(views)
            for view in views:
                merged = merged.merge(view)
            return merged

        def check(view: Any) -> dict[str, Any]:
            rows = view.get_column("num0").to_summary_dict()["counts/n"]
            return {"bytes": len(view.serialize()), "rows": int(rows)}

        if deserialize:
            return lambda: fold(DatasetProfileView.deserialize(b) for b in blobs), check
        views = [DatasetProfileView.deserialize(b) for b in blobs]
        return lambda: fold(views), check

    import sightline

    def check_sightline(profile: Any) -> dict[str, Any]:
        return {"bytes": len(profile.to_bytes()), "rows": profile.n_rows}

    if deserialize:
        return (
            lambda: sightline.merge_profiles(sightline.Profile.from_bytes(b) for b in blobs),
            check_sightline,
        )
    profiles = [sightline.Profile.from_bytes(b) for b in blobs]
    return lambda: sightline.merge_profiles(profiles), check_sightline


IMPORTS = {
    "sightline": ["sightline", "sightline.profile.dataset", "sightline.analysis.profiling"],
    "whylogs": ["whylogs", "whylogs.core"],
}


def worker(kind: str, tool: str, arg: str) -> dict[str, Any]:
    """One measurement in this process: seconds, peak extra MB and the result's facts."""
    _refuse_network()
    for module in IMPORTS[tool.split("+")[0]]:
        importlib.import_module(module)
    if kind == "build":
        call, check = _prepare_build(tool, int(arg))
    else:
        call, check = _prepare_merge(tool, deserialize=arg == "deserialize")
    result, seconds, peak_mb = timed(call)
    return {
        "seconds": seconds,
        "peak_mb": peak_mb,
        **check(result),
        "network_attempts": list(_NETWORK_ATTEMPTS),
    }


# -- the driver ------------------------------------------------------------------------------


def _subprocess(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(
    kind: str, tools: Sequence[str], arg: str, runs: int, slow_runs: int
) -> dict[str, dict[str, Any]]:
    """The fastest of ``runs`` fresh runs of each tool (``slow_runs`` beyond 10 s), in rounds."""
    done: dict[str, list[dict[str, Any]]] = {tool: [] for tool in tools}
    for _ in range(max(runs, slow_runs)):
        for tool in tools:
            wanted = slow_runs if done[tool] and done[tool][0]["seconds"] > 10 else runs
            if len(done[tool]) < wanted:
                done[tool].append(_subprocess("--worker", kind, tool, arg))
    out = {}
    for tool, results in done.items():
        best = min(results, key=lambda r: r["seconds"])
        best["runs"] = len(results)
        best["network_attempts"] = sorted({a for r in results for a in r["network_attempts"]})
        seconds = ", ".join(f"{r['seconds']:.3f}" for r in results)
        print(
            f"  {kind} {tool} {arg}: {best['seconds']:.3f} s (fastest of {seconds}), "
            f"peak extra {best['peak_mb']:.0f} MB, {best['bytes']:,} bytes, "
            f"1-min load average after {os.getloadavg()[0]:.2f}",
            file=sys.stderr,
            flush=True,
        )
        out[tool] = best
    return out


def _ratio(theirs: float, ours: float) -> str:
    return f"{theirs / ours:.1f}x"


def _versions() -> str:
    names = ("sightline", "whylogs", "whylogs-sketching", "datasketches", "numpy", "pandas")
    return ", ".join(f"{n} {importlib.metadata.version(n)}" for n in names)


def run_all(
    sizes: list[int], runs: int, slow_runs: int, merges: bool
) -> tuple[dict[Any, Any], dict[str, Any], dict[Any, Any]]:
    """Every measurement: builds per size, the 1,000 slices' sizes, the merges."""
    import _data

    for n in {*sizes, *([MERGE_ROWS] if merges else [])}:
        _data.pair(n)  # write the Parquet files once, outside the timings
    print(_versions(), file=sys.stderr)
    build = {}
    for n in sizes:
        _subprocess("--reference", str(n))
        tools = ("sightline", "sightline+reference", "whylogs")
        for tool, result in measure("build", tools, str(n), runs, slow_runs).items():
            build[tool, n] = result
        _reference_path(n).unlink()
    slices = {}
    merge = {}
    for tool in ("sightline", "whylogs") if merges else ():
        print(f"  profiling {N_SLICES:,} slices with {tool} (not timed)", file=sys.stderr)
        slices[tool] = _subprocess("--prepare", tool)
        for what in ("deserialize", "merge-only"):
            merge[tool, what] = measure("merge", [tool], what, runs, slow_runs)[tool]
        _slices_path(tool).unlink()
    return build, slices, merge


def print_times(sizes: list[int], build: dict[Any, Any], merge: dict[Any, Any]) -> None:
    print(
        "| measurement | sightline s | whylogs s | whylogs / sightline | goal "
        "| sightline peak extra MB | whylogs peak extra MB |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in sizes:
        theirs = build["whylogs", n]
        goal = ">= 20x" if n == max(sizes) else ""
        for tool, label in (
            ("sightline", "own deciles and vocabularies"),
            ("sightline+reference", "sightline given a reference profile"),
        ):
            ours = build[tool, n]
            print(
                f"| build profile, {n:,} rows ({label}) | {ours['seconds']:.2f} "
                f"| {theirs['seconds']:.2f} | {_ratio(theirs['seconds'], ours['seconds'])} "
                f"| {goal} | {ours['peak_mb']:.0f} | {theirs['peak_mb']:.0f} |"
            )
            goal = ""
    for what, label in (("deserialize", "deserialize + merge"), ("merge-only", "merge only")):
        if ("sightline", what) not in merge:
            continue
        ours, theirs = merge["sightline", what], merge["whylogs", what]
        print(
            f"| {label} {N_SLICES:,} profiles of {SLICE_ROWS:,} rows | {ours['seconds']:.3f} "
            f"| {theirs['seconds']:.3f} | {_ratio(theirs['seconds'], ours['seconds'])} | >= 10x "
            f"| {ours['peak_mb']:.0f} | {theirs['peak_mb']:.0f} |"
        )
    for (tool, what), r in merge.items():
        if r["rows"] != MERGE_ROWS:
            print(f"\nWARNING: {tool}'s merged profile ({what}) counts {r['rows']:,} rows")


def print_sizes(
    sizes: list[int], build: dict[Any, Any], slices: dict[str, Any], merge: dict[Any, Any]
) -> None:
    print("| serialized profile | sightline bytes | whylogs bytes | whylogs / sightline |")
    print("| --- | ---: | ---: | ---: |")
    rows = [
        (f"{n:,} rows", build["sightline", n]["bytes"], build["whylogs", n]["bytes"]) for n in sizes
    ]
    if merge:
        rows += [
            (
                f"{SLICE_ROWS:,} rows (median of the {N_SLICES:,} slices)",
                slices["sightline"]["slice_bytes"],
                slices["whylogs"]["slice_bytes"],
            ),
            (
                f"all {N_SLICES:,} slices together",
                slices["sightline"]["all_bytes"],
                slices["whylogs"]["all_bytes"],
            ),
            (
                f"the merge of the {N_SLICES:,} slices",
                merge["sightline", "merge-only"]["bytes"],
                merge["whylogs", "merge-only"]["bytes"],
            ),
        ]
    for label, ours, theirs in rows:
        print(f"| {label} | {ours:,} | {theirs:,} | {_ratio(theirs, ours)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--worker", nargs=3, metavar=("KIND", "TOOL", "ARG"))
    parser.add_argument("--prepare", metavar="TOOL")
    parser.add_argument("--reference", type=int, metavar="N")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement")
    parser.add_argument("--slow-runs", type=int, default=1, help="runs of one beyond 10 s")
    parser.add_argument("--no-merge", action="store_true", help="measure the builds only")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
    elif args.reference:
        print(json.dumps(prepare_reference(args.reference)))
    elif args.prepare:
        print(json.dumps(prepare_slices(args.prepare)))
    else:
        build, slices, merge = run_all(args.sizes, args.runs, args.slow_runs, not args.no_merge)
        attempts = {a for r in [*build.values(), *merge.values()] for a in r["network_attempts"]}
        print(f"\n{_versions()}")
        print(f"outgoing connection attempts refused: {sorted(attempts) or 'none'}\n")
        print_times(args.sizes, build, merge)
        print()
        print_sizes(args.sizes, build, slices, merge)


if __name__ == "__main__":
    main()
