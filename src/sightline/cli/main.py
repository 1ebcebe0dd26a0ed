"""The ``sightline`` command: ``report``, ``check``, ``profile``, ``merge``, ``show``, ``demo``,
``serve``, ``keys``, ``backfill``, and the verbs of a running collector: ``models``,
``metrics``, ``drift``, ``health``.

Exit codes: 0 success (``check``: the data set passes), 1 ``check`` found an alert of a kind
it gates on (drift, performance, data quality: ``--fail-on``), 2 bad input or usage, with a
one-line message on stderr (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sightline.cli import alerts, backfill, collector, remote
from sightline.errors import SightlineError

EXIT_OK = 0
EXIT_ALERT = 1
EXIT_BAD_INPUT = 2
_DATA_FILES = "CSV, Parquet or profile (.slp) file"
_CHECK_HELP = f"""Compare CURRENT with REFERENCE (each a {_DATA_FILES}) and exit 1 when an
alert of a kind named by --fail-on fired: drift (the share of drifted columns reached
--max-drift-share), performance (a model metric left the band of the reference; needs the
target and prediction columns, not available when a side is a profile) or quality (missing
values, infinities, type violations, out-of-range values, unseen categories, a constant
column). Exit 0 when none did, 2 on bad input."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="sightline",
        description="Monitor machine-learning models: drift, quality, performance.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    report = sub.add_parser("report", help="write an HTML report comparing two data sets")
    _data_args(report)
    report.add_argument("-o", "--output", default="report.html", help="HTML file to write")
    report.add_argument("--json", dest="json_path", help="also write the metric rows as JSON")
    report.add_argument("--chunk-size", type=int, help="analyze CURRENT in windows of N rows")
    report.add_argument("--chunk-period", help="analyze CURRENT in time windows, e.g. 1D")

    check = sub.add_parser(
        "check",
        help="exit 1 when CURRENT drifted, lost performance or broke data quality",
        description=_CHECK_HELP,
    )
    _data_args(check)
    check.add_argument(
        "--max-drift-share",
        type=float,
        default=0.5,
        help="the drift gate fails when at least this share of columns drifted (default 0.5)",
    )
    check.add_argument(
        "--fail-on",
        default="drift,performance,quality",
        help="kinds of alert that fail the check, comma-separated (default: all three, "
        "drift,performance,quality)",
    )
    check.add_argument(
        "--json",
        action="store_true",
        help='print {"verdict": ..., "rows": [...]} (the metric rows) instead of the summary',
    )

    profile = sub.add_parser("profile", help="write the profile of a data set")
    profile.add_argument("data", help="CSV or Parquet file")
    profile.add_argument("-o", "--output", required=True, help="profile file to write")
    profile.add_argument("--reference", help="data or profile that fixes bins and categories")
    profile.add_argument("--model", default="", help="model name stored in the profile")
    profile.add_argument("--version", default="", help="model version stored in the profile")

    merge = sub.add_parser("merge", help="merge profiles into one")
    merge.add_argument("profiles", nargs="+", help="profile files")
    merge.add_argument("-o", "--output", required=True, help="profile file to write")

    show = sub.add_parser("show", help="print a readable summary of a profile")
    show.add_argument("profile", help="profile file")
    show.add_argument("--json", action="store_true", help="print the full summary as JSON")

    demo = sub.add_parser(
        "demo",
        help="run a live demo: a collector, serving processes, drifts, alerts",
        description="Start a collector on a fresh DuckDB data directory, register "
        "credit-scoring, run three serving processes that log through the SDK, inject a "
        "covariate then a concept drift, kill and restart an instance. Prints the dashboard's "
        "address and an admin key, then progress. Ctrl-C stops every process it started.",
    )
    demo.add_argument("--fast", action="store_true", help="5-second windows: all within 90 s")
    demo.add_argument("--duration", type=float, help="stop after this many seconds")
    demo.add_argument("--port", type=int, help="the collector's port (default: a free one)")
    demo.add_argument("--data", help="data directory (default: a new temporary directory)")
    demo.add_argument(
        "--report", action="store_true", help="write the static report of a bundled example"
    )
    demo.add_argument(
        "-o", "--output", default="sightline-report.html", help="--report's HTML file"
    )
    collector.add_parsers(sub)
    remote.add_parsers(sub)
    backfill.add_parser(sub)
    alerts.add_parser(sub)
    return parser


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("reference", help="reference data: CSV or Parquet file, or a profile (.slp)")
    p.add_argument("current", help="current data: CSV or Parquet file, or a profile (.slp)")
    p.add_argument("--target", help="target column (default: inferred by name)")
    p.add_argument("--prediction", help="prediction column (default: inferred by name)")
    p.add_argument("--timestamp", help="timestamp column")
    p.add_argument("--categorical", action="append", default=[], help="treat column as categorical")
    p.add_argument(
        "--method",
        action="append",
        default=[],
        metavar="COLUMN=METHOD",
        help="drift method of one column, e.g. age=psi",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "report": _report,
        "check": _check,
        "demo": _demo,
        "profile": _profile,
        "merge": _merge,
        "show": _show,
        "serve": collector.serve,
        "keys": collector.keys,
        "backfill": backfill.run,
        **remote.COMMANDS,
        "alerts": alerts.run,
    }
    try:
        return commands[args.command](args)
    except (SightlineError, OSError, ValueError) as exc:
        if args.debug:
            raise
        print(f"sightline {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


def _methods(args: argparse.Namespace) -> dict[str, str]:
    methods = {}
    for item in args.method:
        column, sep, method = item.partition("=")
        if not sep or not column or not method:
            raise SightlineError(f"--method must look like COLUMN=METHOD, got {item!r}")
        methods[column] = method
    return methods


def _report(args: argparse.Namespace) -> int:
    from sightline.analysis import analyze, compare
    from sightline.cli.progress import progress_bar

    title = f"{Path(args.current).name} vs {Path(args.reference).name}"
    methods = _methods(args)
    with progress_bar("analyzing") as progress:
        if args.chunk_size is not None or args.chunk_period is not None:
            result = analyze(
                args.reference,
                args.current,
                chunk_size=args.chunk_size,
                chunk_period=args.chunk_period,
                timestamp=args.timestamp,
                title=title,
                progress=progress,
                target=args.target,
                prediction=args.prediction,
                categorical=args.categorical,
                methods=methods,
            )
        else:
            result = compare(
                args.reference,
                args.current,
                multivariate=True,
                title=title,
                timestamp=args.timestamp,
                target=args.target,
                prediction=args.prediction,
                categorical=args.categorical,
                methods=methods,
            )
            progress(1, 1)
    path = result.to_html(args.output)
    print(f"report written to {path.resolve()}")
    if args.json_path:
        result.to_json(args.json_path)
        print(f"metric rows written to {Path(args.json_path).resolve()}")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    import json

    from sightline.analysis import compare
    from sightline.analysis.verdict import parse_gates, verdict

    gates = parse_gates(args.fail_on)  # refused before the data is read
    result = compare(
        args.reference,
        args.current,
        drift_share=args.max_drift_share,
        timestamp=args.timestamp,
        target=args.target,
        prediction=args.prediction,
        categorical=args.categorical,
        methods=_methods(args),
    )
    found = verdict(result.rows, gates)
    if args.json:
        rows = result.to_dict()["rows"]
        print(json.dumps({"verdict": found.to_dict(), "rows": rows}, indent=1, allow_nan=False))
    else:
        status = "FAIL" if found.failed else "OK"
        failed = f" [{', '.join(found.failed)}]" if found.failed else ""
        print(f"{status}{failed}: {found.headline} (checked: {', '.join(gates)})")
    return EXIT_ALERT if found.failed else EXIT_OK


def _profile(args: argparse.Namespace) -> int:
    from sightline.analysis.profiling import as_profile
    from sightline.profile.dataset import Profile

    reference = as_profile(args.reference) or args.reference
    profile = Profile.from_data(args.data, reference, model=args.model, version=args.version)
    profile.save(args.output)
    size = Path(args.output).stat().st_size
    print(
        f"profile of {profile.n_rows:,} rows, {len(profile.columns)} columns written to "
        f"{args.output} ({size:,} bytes)"
    )
    return EXIT_OK


def _merge(args: argparse.Namespace) -> int:
    from sightline.profile.dataset import Profile, merge_profiles

    merged = merge_profiles(Profile.load(path) for path in args.profiles)
    merged.save(args.output)
    print(f"merged {len(args.profiles)} profiles ({merged.n_rows:,} rows) into {args.output}")
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    import json

    from sightline.cli.summary import profile_table
    from sightline.profile.dataset import Profile

    profile = Profile.load(args.profile)
    if args.json:
        print(json.dumps(profile.to_dict(), indent=2))
    else:
        print(profile_table(profile))
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    if not args.report:
        try:
            from sightline.demo.run import Options, run
        except ModuleNotFoundError as exc:
            raise SightlineError(
                f"the live demo runs a collector, which needs {exc.name}: "
                "pip install 'sightline[server]' (or run sightline demo --report)"
            ) from None
        return run(Options(args.fast, args.duration, args.port, args.data))
    from sightline.analysis import compare
    from sightline.examples import loan_data

    reference, current = loan_data()
    result = compare(
        reference,
        current,
        multivariate=True,
        title="sightline demo: loan default model, reference vs a drifted month",
        model="loan-default",
        version="1",
    )
    path = result.to_html(args.output)
    print(f"demo report written to {path.resolve()}")
    print("open it in a browser, e.g. file://" + str(path.resolve()))
    return EXIT_OK


__all__ = ["EXIT_ALERT", "EXIT_BAD_INPUT", "EXIT_OK", "build_parser", "main", "run"]
