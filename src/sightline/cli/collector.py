"""``sightline serve`` and ``sightline keys create|list|revoke``: the collector from the
command line.

``keys`` works through a running collector's API (``--url``/``--key``, or
``$SIGHTLINE_URL``/``$SIGHTLINE_API_KEY``, with an admin key), or on the store of a stopped
one (``--data DIR`` or ``--store URL``; the default data directory when nothing is given).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import socket
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

from sightline.cli import alerts
from sightline.cli.output import add_format, emit
from sightline.cli.remote import add_remote, client_of
from sightline.errors import InvalidInputError, StoreError

if TYPE_CHECKING:
    from sightline.server.state import Settings
    from sightline.store import Store

DEFAULT_DATA = "sightline-data"


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``serve`` and ``keys`` to the subcommands."""
    serve = sub.add_parser("serve", help="run the collector (HTTP API, /metrics)")
    _store_args(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("SIGHTLINE_PORT", "8000")),
        help="port (default $SIGHTLINE_PORT or 8000)",
    )
    serve.add_argument(
        "--no-auth",
        action="store_true",
        help="accept requests without keys (refused on a non-loopback address)",
    )
    serve.add_argument("--log-level", default="info", help="uvicorn log level (default info)")
    serve.add_argument(
        "--schedule-every",
        type=float,
        default=30.0,
        help="seconds between scheduler runs (default 30; 0: no scheduler)",
    )
    serve.add_argument(
        "--dask", help="run scheduled jobs on this Dask scheduler ('local': a LocalCluster)"
    )
    serve.add_argument(
        "--heartbeat-timeout",
        type=float,
        default=120.0,
        help="seconds without a heartbeat before an instance is not live (default 120)",
    )
    serve.add_argument(
        "--replica",
        help="this collector's name among the replicas of one PostgreSQL store "
        "(default host:pid:random); shown by 'sightline jobs'",
    )
    serve.add_argument(
        "--lease-timeout",
        type=float,
        default=60.0,
        help="seconds a stopped replica's jobs stay leased before another takes them (default 60)",
    )
    serve.add_argument(
        "--tiers",
        default="1h:90d,1d:400d",
        help="rollup tiers of the metric rows, size:kept,... (default 1h:90d,1d:400d; '' none)",
    )
    serve.add_argument(
        "--keep-base",
        default="7d",
        help="how long base metric rows that a rollup holds are kept (default 7d)",
    )
    serve.add_argument(
        "--embed-texts",
        action="store_true",
        help="embed the sampled texts of text columns in the drift jobs and add their "
        "embedding drift (needs the [text] extra; costs CPU per text; off by default)",
    )
    alerts.add_serve_flags(serve)

    keys = sub.add_parser("keys", help="create, list and revoke API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key and print it on stdout")
    create.add_argument("--scope", required=True, choices=("ingest", "read", "admin"))
    listed = keys_sub.add_parser("list", help="the keys of a project (never their secrets)")
    revoke = keys_sub.add_parser("revoke", help="revoke a key (refused within 5 s everywhere)")
    revoke.add_argument("key_id", help="the key's id, or the whole key")
    for p in (create, listed, revoke):
        _store_args(p)
        add_remote(p)
        p.add_argument(
            "--project", default="default", help="project, on a store (default 'default')"
        )
    add_format(listed)


def _store_args(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--data", help=f"DuckDB data directory (default ./{DEFAULT_DATA}, created on first start)"
    )
    where.add_argument("--store", help="PostgreSQL URL, postgresql://user@host:port/db")


def _location(args: argparse.Namespace) -> str:
    return str(args.store or args.data or os.environ.get("SIGHTLINE_DATA", DEFAULT_DATA))


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError:
            return False
        return all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def serve(args: argparse.Namespace) -> int:
    """Run the collector until interrupted (Ctrl+C or SIGTERM)."""
    from sightline._time import parse_duration
    from sightline.cli.backfill import dask_client
    from sightline.scheduler.rollup import parse_tiers
    from sightline.server.state import Settings
    from sightline.store import open_store

    if args.no_auth and not is_loopback(args.host):
        raise InvalidInputError(
            f"refusing to serve {args.host} without authentication; drop --no-auth "
            "or bind 127.0.0.1",
            field="host",
        )
    store = open_store(_location(args))
    try:
        with dask_client(args.dask) as client:
            settings = Settings(
                auth=not args.no_auth,
                schedule_every=timedelta(seconds=args.schedule_every),
                heartbeat_timeout=timedelta(seconds=args.heartbeat_timeout),
                scheduler_client=client,
                alerting=alerts.serve_alerting(args),
                replica=args.replica,
                lease_timeout=_lease_timeout(args.lease_timeout),
                tiers=parse_tiers(args.tiers),
                keep_base=timedelta(seconds=parse_duration(args.keep_base, field="keep-base")),
                embed_texts=args.embed_texts,
            )
            _first_key(store, settings)
            _run_uvicorn(args, store, settings)
    finally:
        store.close()
    return 0


def _lease_timeout(seconds: float) -> timedelta:
    if not seconds > 0:
        raise InvalidInputError(
            f"--lease-timeout must be positive seconds, got {seconds}", field="lease-timeout"
        )
    return timedelta(seconds=seconds)


def _first_key(store: Store, settings: Settings) -> None:
    if settings.auth and store.count_keys() == 0:
        key = store.create_key(settings.default_project, "admin")
        print(
            f"No API key existed: created an admin key of project "
            f"{settings.default_project!r}. It is shown once; keep it:\n\n    {key}\n\n"
            f"Create others with: sightline keys create --scope ingest|read|admin "
            f"--key <this key> (or, the collector stopped, --data DIR [--project P]).",
            flush=True,
        )


def _run_uvicorn(args: argparse.Namespace, store: Store, settings: Settings) -> None:
    import logging

    import uvicorn

    # The collector's own lines (a scheduler pass, retention) beside uvicorn's, on stderr.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    logging.getLogger("sightline").addHandler(handler)
    logging.getLogger("sightline").setLevel(args.log_level.upper())

    from sightline.server.app import create_app

    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        uvicorn.run(
            create_app(store, settings),
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            http="httptools",
            access_log=False,
        )
    except _Terminated:
        pass  # uvicorn shut down gracefully, then re-raised the signal it caught
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Terminated(Exception):
    """SIGTERM arrived (``docker stop``, systemd): stop like Ctrl+C, closing the store."""


def _terminated(signum: int, frame: object) -> None:
    raise _Terminated


def keys(args: argparse.Namespace) -> int:
    """``keys create|list|revoke``, through the API or on a stopped collector's store."""
    on_store = args.data or args.store
    if not on_store and (
        args.url
        or args.key
        or os.environ.get("SIGHTLINE_URL")
        or os.environ.get("SIGHTLINE_API_KEY")
    ):
        return _keys_by_api(args)
    return _keys_on_store(args)


def _keys_by_api(args: argparse.Namespace) -> int:
    from sightline.client.keys import key_id_of

    with client_of(args) as client:
        if args.keys_command == "create":
            print(client.keys.create(args.scope)["key"])
        elif args.keys_command == "list":
            emit(client.keys.list(), args.format, "keys")
        else:
            client.keys.revoke(key_id_of(args.key_id))
            print(f"revoked key {key_id_of(args.key_id)}")
    sys.stdout.flush()
    return 0


def _keys_on_store(args: argparse.Namespace) -> int:
    from sightline.client.keys import key_id_of
    from sightline.store import open_store

    try:
        store = open_store(_location(args))
    except StoreError as exc:
        raise StoreError(
            f"{exc}\nWhile the collector runs, manage keys through its API: pass --url and "
            "--key (an admin key), or set SIGHTLINE_URL and SIGHTLINE_API_KEY "
            "(POST /api/v1/keys)."
        ) from None
    try:
        if args.keys_command == "create":
            print(store.create_key(args.project, args.scope))
        elif args.keys_command == "list":
            found = store.list_keys(args.project)
            emit(
                [
                    {"id": k.key_id, "scope": k.scope, "created_at": k.created_at.isoformat() + "Z"}
                    for k in found
                ],
                args.format,
                f"keys of project {args.project!r}",
            )
        else:
            store.revoke_key(args.project, key_id_of(args.key_id))
            print(f"revoked key {key_id_of(args.key_id)}")
    finally:
        store.close()
    sys.stdout.flush()
    return 0
