"""``sightline alerts list|silence|rules`` against a running collector, and the alert
flags of ``sightline serve`` (``--rules``, ``--external-url``, reload on ``SIGHUP``).

The collector is named by ``--url``/``--key`` or ``$SIGHTLINE_URL``/``$SIGHTLINE_API_KEY``,
and reached through :class:`sightline.Client`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
from typing import TYPE_CHECKING, Any

from sightline.cli.output import emit
from sightline.cli.remote import add_remote, client_of
from sightline.errors import InvalidInputError

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
        add_remote(p)


#: The columns of the ``alerts list`` table.
_ALERT_TABLE = ("state", "severity", "rule", "model", "version", "column", "since", "summary")


def run(args: argparse.Namespace) -> int:
    """Run one ``alerts`` verb."""
    with client_of(args) as client:
        if args.alerts_command == "list":
            alerts = client.alerts(state=args.state, model=args.model)
            if args.json:
                print(json.dumps(alerts, indent=2))
            else:
                emit([_alert_line(a) for a in alerts], "table", "alerts", _ALERT_TABLE)
        elif args.alerts_command == "silence":
            matchers = dict(_matcher(m) for m in args.matchers)
            made = client.silence(matchers, duration=args.duration, comment=args.comment)
            print(f"silence {made['id']} until {made['ends_at']}")
        else:
            print(json.dumps(client.rules(), indent=2))
    return 0


def _alert_line(alert: dict[str, Any]) -> dict[str, Any]:
    """One row of the ``alerts list`` table."""
    return {
        **{name: alert[name] for name in ("state", "severity", "rule", "model", "version")},
        "column": alert["labels"].get("column", ""),
        "since": alert["resolved_at"] or alert["fired_at"] or alert["active_at"],
        "summary": alert["annotations"].get("summary", ""),
    }


def _matcher(text: str) -> tuple[str, str]:
    label, sep, glob = text.partition("=")
    if not sep or not label:
        raise InvalidInputError(f"a matcher looks like LABEL=GLOB, got {text!r}", field="matchers")
    return label, glob


__all__ = ["add_parser", "add_serve_flags", "run", "serve_alerting"]
