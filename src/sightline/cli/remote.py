"""The collector's verbs: ``models list|register|reference|settings``, ``metrics``,
``drift``, ``health`` and ``jobs`` — thin calls of :class:`sightline.Client`.

Every verb takes ``--url`` and ``--key`` (default ``$SIGHTLINE_URL``,
``$SIGHTLINE_API_KEY``) and ``--format table|json|csv``; metric rows in JSON are the one
row shape (:func:`sightline.analysis.rows.encode_row`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sightline.cli.output import add_format, emit

if TYPE_CHECKING:
    from sightline.analysis.rows import Result
    from sightline.client import Client


def add_remote(p: argparse.ArgumentParser) -> None:
    """Add ``--url`` and ``--key``."""
    p.add_argument("--url", help="collector URL (default $SIGHTLINE_URL or 127.0.0.1:8000)")
    p.add_argument("--key", help="API key (default $SIGHTLINE_API_KEY)")


def client_of(args: argparse.Namespace) -> Client:
    """The client the ``--url`` and ``--key`` of ``args`` name."""
    from sightline.client import Client

    return Client(args.url, args.key)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``models``, ``metrics``, ``drift``, ``health`` and ``jobs`` to the subcommands."""
    models = sub.add_parser("models", help="list, register and configure models on a collector")
    verbs = models.add_subparsers(dest="models_command", required=True)
    add_remote(listed := verbs.add_parser("list", help="registered models and versions"))
    add_format(listed)
    register = verbs.add_parser("register", help="register a version, with its reference")
    register.add_argument("model")
    register.add_argument("version")
    register.add_argument("--reference", help="CSV, Parquet or profile (.slp): fixes the bins")
    register.add_argument("--schema", help="JSON file {'columns': [...]} (default: inferred)")
    for role in ("target", "prediction", "timestamp", "id"):
        register.add_argument(f"--{role}", help=f"the {role} column (default: by name)")
    register.add_argument("--categorical", action="append", default=[], help="a column")
    register.add_argument("--numeric", action="append", default=[], help="a column")
    reference = verbs.add_parser("reference", help="upload the reference of a version")
    reference.add_argument("model")
    reference.add_argument("version")
    reference.add_argument("reference", help="CSV, Parquet or profile (.slp)")
    settings = verbs.add_parser("settings", help="show or change how a model is windowed")
    settings.add_argument("model")
    settings.add_argument("--version", help="a version's own reference_windows instead")
    settings.add_argument("--window", help="window size, e.g. 1h")
    settings.add_argument("--lateness", help="allowed lateness, e.g. 1m")
    settings.add_argument("--reference-windows", type=int, help="rolling reference (0: fixed)")
    settings.add_argument("--label-horizon", help="how long late labels recompute, e.g. 7d")
    for p in (register, reference, settings):
        add_remote(p)
        add_format(p)

    for name, text in (("metrics", "metric rows of a model"), ("drift", "its newest drift")):
        p = sub.add_parser(name, help=text)
        p.add_argument("model")
        p.add_argument("--version", help="only this version")
        add_remote(p)
        add_format(p)
    metrics = sub.choices["metrics"]
    metrics.add_argument("--since", help="ISO 8601 start (default: until - 24 h)")
    metrics.add_argument("--until", help="ISO 8601 end, excluded (default: now)")
    metrics.add_argument("--column", help="only this column ('' for model-level rows)")
    metrics.add_argument("--metric", help="only this metric, e.g. psi")
    health = sub.add_parser("health", help="live instances, uptime, errors, latency")
    health.add_argument("model")
    health.add_argument("--since", help="ISO 8601 start (default: until - 24 h)")
    health.add_argument("--until", help="ISO 8601 end, excluded (default: now)")
    add_remote(health)
    add_format(health)
    jobs = sub.add_parser("jobs", help="the scheduler's job runs: who ran what, what fails")
    jobs.add_argument("--model", help="only this model's jobs")
    jobs.add_argument("--since", help="ISO 8601: runs started since (default: 24 h ago)")
    jobs.add_argument("--state", choices=("leased", "ok", "failed", "expired"))
    jobs.add_argument("--limit", type=int, help="at most this many runs (default 1000)")
    jobs.add_argument("--replicas", action="store_true", help="the replicas instead")
    add_remote(jobs)
    add_format(jobs)


def models(args: argparse.Namespace) -> int:
    """``sightline models list|register|reference|settings``."""
    verbs: dict[str, Callable[[Client, argparse.Namespace], list[dict[str, Any]]]] = {
        "list": lambda c, a: [_version_line(v) for v in c.models()],
        "register": _register,
        "reference": lambda c, a: [_version_line(c.reference(a.model, a.version, a.reference))],
        "settings": _settings,
    }
    with client_of(args) as client:
        records = verbs[args.models_command](client, args)
    shown = _VERSION_TABLE if args.models_command != "settings" else None
    emit(records, args.format, f"models {args.models_command}", shown)
    return 0


#: What a table shows of a version (JSON and CSV show everything).
_VERSION_TABLE = ("model", "version", "created_at", "has_reference", "columns", "fitted")
#: What a table shows of a metric row.
_ROW_TABLE = ("window_start", "column", "metric", "value", "upper", "alert", "n_cur")


def _version_line(v: dict[str, Any]) -> dict[str, Any]:
    line = {k: v[k] for k in ("model", "version", "created_at", "has_reference")}
    line["columns"] = ", ".join(
        f"{c['name']} ({c['role']}, {c['kind']})" for c in v["columns"] or []
    )
    fitted = v.get("fitted")
    line["bins"] = fitted["bins"] if fitted else None
    line["vocabularies"] = fitted["vocabularies"] if fitted else None
    line["estimator"] = fitted["estimator_note"] if fitted else None
    line["fitted"] = (
        f"{len(fitted['bins'])} binned, {len(fitted['vocabularies'])} with vocabularies; "
        f"{fitted['estimator_note']}"
        if fitted
        else None
    )
    return line


def _register(client: Client, args: argparse.Namespace) -> list[dict[str, Any]]:
    schema = json.loads(Path(args.schema).read_text(encoding="utf-8")) if args.schema else None
    options = {
        role: getattr(args, role)
        for role in ("target", "prediction", "timestamp", "id")
        if getattr(args, role) is not None
    }
    if args.categorical:
        options["categorical"] = args.categorical
    if args.numeric:
        options["numeric"] = args.numeric
    info = client.register(args.model, args.version, schema, args.reference, **options)
    return [_version_line(info)]


def _settings(client: Client, args: argparse.Namespace) -> list[dict[str, Any]]:
    changes = {
        name: getattr(args, name)
        for name in ("window", "lateness", "reference_windows", "label_horizon")
        if getattr(args, name) is not None
    }
    return [{"model": args.model, **client.settings(args.model, version=args.version, **changes)}]


def _rows(result: Result) -> list[dict[str, Any]]:
    from sightline.analysis.rows import encode_row

    return [encode_row(r) for r in result.rows]


def metrics(args: argparse.Namespace) -> int:
    """``sightline metrics MODEL``: its metric rows."""
    with client_of(args) as client:
        result = client.metrics(
            args.model,
            since=args.since,
            until=args.until,
            version=args.version,
            column=args.column,
            metric=args.metric,
        )
    emit(_rows(result), args.format, result.title, _ROW_TABLE)
    return 0


def drift(args: argparse.Namespace) -> int:
    """``sightline drift MODEL``: the newest drift row of every column."""
    with client_of(args) as client:
        result = client.drift(args.model, version=args.version)
    emit(_rows(result), args.format, result.title, _ROW_TABLE)
    return 0


def health(args: argparse.Namespace) -> int:
    """``sightline health MODEL``: the service-health overview."""
    with client_of(args) as client:
        overview = client.health(args.model, since=args.since, until=args.until)
    if args.format == "json":
        print(json.dumps(overview))
        return 0
    latency = overview.pop("latency_ms")
    overview.pop("instances")
    overview.update({f"latency_ms_{k}": v for k, v in latency.items()})
    overview["versions_loaded"] = ", ".join(overview["versions_loaded"])
    if args.format == "table":
        emit([{"field": k, "value": v} for k, v in overview.items()], "table", args.model)
    else:
        emit([overview], args.format)
    return 0


#: What a table shows of a job run.
_JOB_TABLE = ("started_at", "replica", "model", "version", "window_start", "kind", "state")
_JOB_TABLE_MORE = ("duration_s", "rows", "error")


def jobs(args: argparse.Namespace) -> int:
    """``sightline jobs``: the scheduler's job runs (or ``--replicas``)."""
    with client_of(args) as client:
        found = client.jobs(model=args.model, since=args.since, state=args.state, limit=args.limit)
    if args.replicas:
        emit(found["replicas"], args.format, "replicas")
        return 0
    runs = found["jobs"]
    if args.format == "table":
        # A traceback's last line says what failed; JSON and CSV keep it whole.
        runs = [{**r, "error": (r["error"].strip().splitlines() or [""])[-1]} for r in runs]
    emit(runs, args.format, "job runs", (*_JOB_TABLE, *_JOB_TABLE_MORE))
    return 0


#: The verbs of this module, by subcommand (``cli.main`` dispatches to them).
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "models": models,
    "metrics": metrics,
    "drift": drift,
    "health": health,
    "jobs": jobs,
}
