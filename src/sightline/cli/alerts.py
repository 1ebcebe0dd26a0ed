"""``sightline alerts list|silence|rules`` against a running collector, and the alert
flags of ``sightline serve`` (``--rules``, ``--external-url``, reload on ``SIGHUP``).

The collector is named by ``--url``/``--key`` or ``$SIGHTLINE_URL``/``$SIGHTLINE_API_KEY``.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import signal
from typing import TYPE_CHECKING, Any

from sightline.errors import InvalidInputError, SightlineError

if TYPE_CHECKING:
    from sightline.alerts import Alerting

log = logging.getLogger("sightline.alerts")


def add_serve_flags(serve: argparse.ArgumentParser) -> None:
    """``serve --rules FILE`` (also ``$SIGHTLINE_RULES``) and ``--external-url``."""
    serve.add_argument(
        "--rules",
        default=os.environ.get("SIGHTLINE_RULES"),
        help="alert rules file (default $SIGHTLINE_RULES, else the default rules); "
        "reloaded on SIGHUP",
    )
    serve.add_argument(
        "--external-url", default="", help="the dashboard's address, for alerts' generatorURL"
    )


def serve_alerting(args: argparse.Namespace) -> Alerting:
    """The alerting of ``serve``: the rules file checked now (a bad one stops the start),
    reloaded on ``SIGHUP`` (a bad one then keeps the rules in force and logs why)."""
    from sightline.alerts import Alerting

    alerting = Alerting.from_file(args.rules, args.external_url)

    def reload(signum: int, frame: object) -> None:
        try:
            alerting.reload()
            log.warning("alert rules reloaded from %s", alerting.path)
        except InvalidInputError as exc:
            log.error("alert rules not reloaded: %s", exc)

    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, reload)
    return alerting


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``alerts`` to the subcommands."""
    alerts = sub.add_parser("alerts", help="alerts of a running collector")
    verbs = alerts.add_subparsers(dest="alerts_command", required=True)
    listing = verbs.add_parser("list", help="alerts and their states, as a table")
    listing.add_argument("--state", choices=("pending", "firing", "resolved"))
    listing.add_argument("--model")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    silence = verbs.add_parser("silence", help="mute alerts matching labels for a while")
    silence.add_argument("matchers", nargs="+", metavar="LABEL=GLOB", help="e.g. model=churn")
    silence.add_argument("--for", dest="duration", default="1h", help="how long (default 1h)")
    silence.add_argument("--comment", default="")
    verbs.add_parser("rules", help="the rules in force")
    for p in (listing, silence, verbs.choices["rules"]):
        p.add_argument("--url", default=os.environ.get("SIGHTLINE_URL", "http://127.0.0.1:8000"))
        p.add_argument("--key", default=os.environ.get("SIGHTLINE_API_KEY", ""))


def run(args: argparse.Namespace) -> int:
    """Run one ``alerts`` verb."""
    if args.alerts_command == "list":
        params = {k: v for k, v in (("state", args.state), ("model", args.model)) if v}
        alerts = call(args, "GET", "/api/v1/alerts", params=params)["alerts"]
        print(json.dumps(alerts, indent=2) if args.json else alerts_table(alerts).rstrip())
    elif args.alerts_command == "silence":
        matchers = dict(_matcher(m) for m in args.matchers)
        body = {"matchers": matchers, "duration": args.duration, "comment": args.comment}
        made = call(args, "POST", "/api/v1/silences", body=body)
        print(f"silence {made['id']} until {made['ends_at']}")
    else:
        print(json.dumps(call(args, "GET", "/api/v1/rules"), indent=2))
    return 0


def call(
    args: argparse.Namespace,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    body: Any = None,
) -> Any:
    """One request to the collector; its JSON answer, or its error as a SightlineError.
    (The one place that speaks HTTP here: ``sightline.Client`` can take its place.)"""
    import httpx

    headers = {"Authorization": f"Bearer {args.key}"} if args.key else {}
    try:
        answer = httpx.request(
            method, args.url.rstrip("/") + path, params=params, json=body, headers=headers
        )
    except httpx.HTTPError as exc:
        raise SightlineError(f"cannot reach the collector at {args.url}: {exc}") from None
    if answer.is_error:
        try:
            message = answer.json().get("error", answer.text)
        except ValueError:
            message = answer.text
        raise SightlineError(f"HTTP {answer.status_code}: {message}")
    return answer.json()


def alerts_table(alerts: list[dict[str, Any]]) -> str:
    """The alerts as a rich table (plain text when not on a terminal)."""
    from rich.console import Console
    from rich.table import Table

    table = Table("state", "severity", "rule", "model", "version", "column", "since", "summary")
    for a in alerts:
        since = a["resolved_at"] or a["fired_at"] or a["active_at"]
        table.add_row(
            a["state"],
            a["severity"],
            a["rule"],
            a["model"],
            a["version"],
            a["labels"].get("column", ""),
            since,
            a["annotations"].get("summary", ""),
        )
    out = io.StringIO()
    Console(file=out, width=160).print(table)
    return out.getvalue()


def _matcher(text: str) -> tuple[str, str]:
    label, sep, glob = text.partition("=")
    if not sep or not label:
        raise InvalidInputError(f"a matcher looks like LABEL=GLOB, got {text!r}", field="matchers")
    return label, glob


__all__ = ["add_parser", "add_serve_flags", "alerts_table", "call", "run", "serve_alerting"]
