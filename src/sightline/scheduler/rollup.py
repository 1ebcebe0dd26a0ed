"""Rollup jobs: one per (version, tier window, job kind), once the tier window has closed
and every base job of its kind inside it is done.

A tier is a window size (seconds, a multiple of the model's window and larger than it; a
model whose window is as large skips the tier). Its rollup job's fingerprint is that of
the base jobs' records it rolls, so a late profile that reruns a base job reruns the
rollup of its tier windows, and a rerun on the same inputs gives the same rows. Rollup
jobs are jobs like the others (planned by :func:`~sightline.scheduler.plan.plan`, leased,
recorded in ``jobs_done``) of kind ``rollup:<tier seconds>:<base kind>``.

>>> rollup_kind(3600, "drift"), parse_rollup("rollup:3600:drift"), parse_rollup("drift")
('rollup:3600:drift', (3600, 'drift'), None)
>>> parse_tiers("1h:90d,1d:400d")
{3600: datetime.timedelta(days=90), 86400: datetime.timedelta(days=400)}
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

from sightline._time import parse_duration, window_of
from sightline.errors import InvalidInputError
from sightline.scheduler.plan import Job

#: The default tiers (seconds) and how long each is kept; base rows are kept 7 days.
DEFAULT_TIERS: dict[int, timedelta] = {3600: timedelta(days=90), 86400: timedelta(days=400)}
DEFAULT_KEEP_BASE = timedelta(days=7)
#: Kinds whose rollups are computed again from the tier window's merged profiles (exact),
#: through the base jobs' own compute path; the other kinds' rows are averaged.
EXACT_KINDS = ("drift", "quality", "health")
ROLLED_KINDS = (*EXACT_KINDS, "performance", "matrix")


def parse_tiers(text: str) -> dict[int, timedelta]:
    """Tiers written ``size:kept,...`` (``"1h:90d,1d:400d"``; ``""`` for none) as
    {seconds: age}; :class:`InvalidInputError` naming ``tiers`` otherwise."""
    tiers: dict[int, timedelta] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        size, sep, kept = part.partition(":")
        if not sep:
            raise InvalidInputError(
                f"a tier is size:kept (e.g. 1h:90d), got {part!r}", field="tiers"
            )
        seconds = parse_duration(size, field="tiers")
        tiers[seconds] = timedelta(seconds=parse_duration(kept, field="tiers"))
    return tiers


def rollup_kind(tier: int, kind: str) -> str:
    """The job kind of the rollups of ``kind`` into ``tier`` seconds."""
    return f"rollup:{int(tier)}:{kind}"


def parse_rollup(kind: str) -> tuple[int, str] | None:
    """(tier seconds, base kind) of a rollup job kind, None for another kind."""
    head, _, rest = kind.partition(":")
    if head != "rollup":
        return None
    tier, _, base = rest.partition(":")
    return int(tier), base


def rollup_jobs(
    versioned: tuple[str, str, str],
    window: int,
    tiers: Sequence[int],
    *,
    done: Mapping[tuple[datetime, str], str],
    pending: Collection[tuple[datetime, str]],
    waiting: Collection[tuple[datetime, str, str]],
    closed: datetime,
) -> list[Job]:
    """The rollup jobs due of one version (``versioned``: project, model, version) whose
    base jobs are ``done`` (fingerprint by (start, kind)), none of their kind ``pending``
    in the tier window, and the tier window closed by ``closed``."""
    project, model, version = versioned
    jobs = []
    for tier in tiers:
        if tier <= window or tier % window:
            continue
        groups: dict[tuple[datetime, str], list[str]] = {}
        for (start, kind), fingerprint in sorted(done.items()):
            if kind in ROLLED_KINDS:
                tier_start = window_of(start, tier)[0]
                groups.setdefault((tier_start, kind), []).append(f"{start:%H%M%S}={fingerprint}")
        busy = {(window_of(s, tier)[0], k) for s, k in pending}
        for (start, kind), parts in groups.items():
            end = start + timedelta(seconds=tier)
            if end > closed or (start, kind) in busy:
                continue
            fingerprint = hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]
            name = rollup_kind(tier, kind)
            if done.get((start, name)) == fingerprint or (start, name, fingerprint) in waiting:
                continue
            jobs.append(Job(start, project, model, version, name, end, fingerprint))
    return jobs
