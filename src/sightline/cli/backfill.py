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
    p.add_argument("--timestamp", default="timestamp", help="time column (default timestamp)")
    p.add_argument("--window", default=None, help="window size, e.g. 1h (default: the model's)")
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


def run(args: argparse.Namespace) -> int:
    """Backfill, store, and optionally write the rows."""
    from sightline.analysis.rows import MetricRow, rows_format, write_rows
    from sightline.cli.collector import DEFAULT_DATA
    from sightline.cli.progress import progress_bar
    from sightline.profile import Profile
    from sightline.scheduler import backfill as bf
    from sightline.scheduler import jobs as j
    from sightline.scheduler.windows import parse_duration
    from sightline.store import Idempotency, open_store
    from sightline.store.records import profile_record

    if args.out:
        rows_format(args.out)  # refused before anything is written
    store = open_store(args.store or args.data_dir or DEFAULT_DATA)
    try:
        found = store.get_version(args.project, args.model, args.version)
        if found.reference is None:
            raise InvalidInputError(
                f"model {args.model!r} version {args.version!r} has no reference; upload one first",
                field="version",
            )
        settings = store.model_settings(args.project, args.model)
        window = parse_duration(args.window) if args.window else settings.window
        spec = bf.BackfillSpec(args.model, args.version, found.reference, args.timestamp, window)
        files = bf.parquet_files(args.data)
        with dask_client(args.dask) as client, progress_bar("profiling files") as update:
            merged = bf.backfill(
                files, spec, client=client, progress=lambda done: update(done, len(files))
            )
        computed_at = datetime.now(UTC).replace(tzinfo=None)
        written: list[MetricRow] = []
        for w, payload in sorted(merged.items()):
            key = f"backfill/{args.model}/{args.version}/{window}/{w}"
            request = Idempotency(key, key, "profiles")
            row = profile_record(
                args.project, Profile.from_bytes(payload), payload, key, computed_at
            )
            store.ingest(args.project, request, "profiles", row)
            for job, rows in bf.window_rows(args.project, spec, w, payload):
                j.write(store, job, rows, computed_at)
                written += rows
        print(f"backfill: {len(files)} files, {len(merged)} windows, {len(written)} metric rows")
        if args.out:
            write_rows(written, args.out)
    finally:
        store.close()
    return 0
