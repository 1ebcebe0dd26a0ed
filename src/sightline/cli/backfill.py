"""``sightline backfill``: profiles and metric rows for a Parquet data set partitioned by time."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sightline.errors import InvalidInputError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``backfill`` to the subcommands."""
    p = sub.add_parser("backfill", help="profile and analyze a Parquet data set by time window")
    p.add_argument("data", help="a Parquet file or a directory of them (partitioned by time)")
    p.add_argument("--model", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--project", default="default")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--data", dest="data_dir", help="DuckDB data directory")
    where.add_argument("--store", help="PostgreSQL URL")
    where.add_argument(
        "--url",
        help="a running collector: send the window profiles through its API, and its "
        "scheduler computes the rows (no store lock needed)",
    )
    p.add_argument("--key", help="with --url: an admin key (default $SIGHTLINE_API_KEY)")
    p.add_argument("--timestamp", default="timestamp", help="time column (default timestamp)")
    p.add_argument(
        "--window", default=None, help="the model's window, to check it (refused if another)"
    )
    p.add_argument(
        "--out", help="also write the metric rows to this .json or .parquet file (the row codec)"
    )
    p.add_argument("--dask", help="a scheduler address, or 'local' for a LocalCluster")


@contextlib.contextmanager
def dask_client(address: str | None) -> Iterator[Any]:
    """A Dask client of ``address`` ('local': a LocalCluster on this machine), or None."""
    if address is None:
        yield None
        return
    from distributed import Client, LocalCluster

    # distributed's constructors carry no annotations
    if address == "local":
        with (
            LocalCluster(processes=True, dashboard_address=":0") as cluster,  # type: ignore[no-untyped-call]
            Client(cluster) as client,  # type: ignore[no-untyped-call]
        ):
            yield client
    else:
        with Client(address) as client:  # type: ignore[no-untyped-call]
            yield client


def check_window(given: str | None, model_window: int, model: str) -> int:
    """The model's window, after checking ``--window`` (when given) names the same: rows of
    another window size would be a second series beside the collector's for the same days.

    >>> check_window("1h", 3600, "m")
    3600
    """
    from sightline.scheduler.windows import parse_duration
    from sightline.server.model_settings import duration_text

    if given is not None and parse_duration(given) != model_window:
        own = duration_text(model_window)
        raise InvalidInputError(
            f"--window {given} is not the window of model {model!r} ({own}): backfill writes "
            "the model's windows, so that backfilled and live rows form one series; leave "
            f"--window out, or change the model's window first (sightline models settings "
            f"{model} --window ...)",
            field="window",
        )
    return model_window


def run(args: argparse.Namespace) -> int:
    """Backfill, store (or send to a running collector), and optionally write the rows."""
    from sightline.analysis.rows import MetricRow, rows_format, write_rows
    from sightline.cli.progress import progress_bar
    from sightline.scheduler import backfill as bf

    if args.out:
        rows_format(args.out)  # refused before anything is written
    files = bf.parquet_files(args.data)
    with _target(args) as target:
        reference, window = target.spec()
        window = check_window(args.window, window, args.model)
        spec = bf.BackfillSpec(args.model, args.version, reference, args.timestamp, window)
        with dask_client(args.dask) as client, progress_bar("profiling files") as update:
            merged = bf.backfill(
                files, spec, client=client, progress=lambda done: update(done, len(files))
            )
        computed_at = datetime.now(UTC).replace(tzinfo=None)
        written: list[MetricRow] = []
        for w, payload in sorted(merged.items()):
            key = f"backfill/{args.model}/{args.version}/{window}/{w}"
            written += target.put(spec, key, w, payload, computed_at)
    where = "sent to the collector" if args.url else "stored"
    print(
        f"backfill: {len(files)} files, {len(merged)} windows {where}, {len(written)} metric rows"
    )
    if args.out:
        write_rows(written, args.out)
    return 0


class _Store:
    """Backfill into a store this process opens (the collector must not hold its lock)."""

    def __init__(self, args: argparse.Namespace) -> None:
        from sightline.cli.collector import DEFAULT_DATA
        from sightline.store import open_store

        self.args = args
        self.store = open_store(args.store or args.data_dir or DEFAULT_DATA)

    def spec(self) -> tuple[bytes, int]:
        args = self.args
        found = self.store.get_version(args.project, args.model, args.version)
        window = self.store.model_settings(args.project, args.model).window
        return _referenced(found.reference, args), window

    def put(self, spec: Any, key: str, w: int, payload: bytes, now: datetime) -> list[Any]:
        from sightline.profile import Profile
        from sightline.scheduler import backfill as bf
        from sightline.scheduler import jobs as j
        from sightline.store import Idempotency
        from sightline.store.records import profile_record

        project = self.args.project
        row = profile_record(project, Profile.from_bytes(payload), payload, key, now)
        self.store.ingest(project, Idempotency(key, key, "profiles"), "profiles", row)
        rows = []
        for job, found in bf.window_rows(project, spec, w, payload):
            j.write(self.store, job, found, now)
            rows += found
        return rows

    def close(self) -> None:
        self.store.close()


class _Collector:
    """Backfill through a running collector's API: it stores the window profiles (one
    idempotency key per window, so a second backfill is a no-op) and its scheduler
    computes their rows; the rows for ``--out`` are computed here, the same way."""

    def __init__(self, args: argparse.Namespace) -> None:
        from sightline.client import Client

        self.args = args
        self.client = Client(args.url, args.key)
        self.kept = 0  # windows backfilled before: their profiles stay

    def spec(self) -> tuple[bytes, int]:
        from sightline.scheduler.windows import parse_duration

        args = self.args
        reference = self.client.reference_profile(args.model, args.version)
        window = parse_duration(self.client.settings(args.model)["window"])
        return _referenced(reference, args), window

    def put(self, spec: Any, key: str, w: int, payload: bytes, now: datetime) -> list[Any]:
        from sightline.client import CollectorError
        from sightline.scheduler import backfill as bf

        try:
            self.client.send_profile(self.args.model, self.args.version, payload, key)
        except CollectorError as exc:
            if exc.status != 409:
                raise
            self.kept += 1  # the window's key holds an earlier backfill: one series, kept
        if not self.args.out:
            return []
        return [r for _, found in bf.window_rows("", spec, w, payload) for r in found]

    def close(self) -> None:
        self.client.close()
        if self.kept:
            print(
                f"backfill: {self.kept} windows were backfilled before; the collector keeps "
                "those profiles (a stored profile is never replaced or doubled)"
            )


@contextlib.contextmanager
def _target(args: argparse.Namespace) -> Iterator[_Store | _Collector]:
    target: _Store | _Collector = _Collector(args) if args.url else _Store(args)
    try:
        yield target
    finally:
        target.close()


def _referenced(reference: bytes | None, args: argparse.Namespace) -> bytes:
    if reference is None:
        raise InvalidInputError(
            f"model {args.model!r} version {args.version!r} has no reference; upload one first",
            field="version",
        )
    return reference
