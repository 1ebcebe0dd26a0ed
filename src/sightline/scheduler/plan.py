"""Job planning: a pure function of the stored state and the clock.

One job per (project, model, version, window, kind), kinds ``drift``, ``quality``,
``health`` (from profiles), ``performance`` (from labelled predictions, and from
unlabelled ones when the version has a performance estimator) and ``matrix`` (from the
rows of the others: planned with them, run after them, and due again when its performance
rows change; it waits while one of its window's jobs waits for a retry). A job is due
when its window has closed (plus the model's lateness) and the fingerprint of its inputs
differs from the one recorded when it last ran: new windows, catch-up after downtime, late
profiles and, within the label horizon, late labels. A job that failed on the same inputs
waits before its next try (1 minute, doubling up to a day). Jobs come oldest first; replicas
share them through leases in the store (:mod:`sightline.scheduler.leasing`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sightline.scheduler.windows import closed_before
from sightline.store import Store

PROFILE_KINDS = ("drift", "quality", "health")


@dataclass(frozen=True, order=True)
class Job:
    """One unit of work; ``fingerprint`` identifies the inputs it will see."""

    window_start: datetime
    project: str
    model: str
    version: str
    kind: str
    window_end: datetime
    fingerprint: str

    @property
    def key(self) -> str:
        """A stable name of the job (not of its inputs)."""
        start = self.window_start.isoformat()
        return f"{self.project}/{self.model}/{self.version}/{start}/{self.kind}"


def plan(store: Store, now: datetime, tiers: Sequence[int] = ()) -> list[Job]:
    """Every job due at ``now`` (naive UTC), oldest window first; with the rollup jobs
    of ``tiers`` (seconds, :mod:`sightline.scheduler.rollup`)."""
    from sightline.scheduler.rollup import rollup_jobs

    jobs: list[Job] = []
    for (project, model, version), state in store.scheduling_state().items():
        first = len(jobs)
        settings, done = state.settings, state.done
        size = timedelta(seconds=settings.window)
        closed = closed_before(now, settings.window, settings.lateness)
        # Jobs that failed on these very inputs and are not yet due for another try.
        waiting = {
            (start, kind, fingerprint)
            for (start, kind), (fingerprint, retry_at) in state.failed.items()
            if retry_at > now
        }

        profiles = state.profiles
        horizon = closed - timedelta(seconds=settings.label_horizon)
        performance: dict[datetime, str] = {}  # each window's performance inputs after this run
        for start, fingerprint in state.labels.items():
            performance[start] = done.get((start, "performance"), "")
            due = start + size <= closed and (
                start >= horizon or (start, "performance") not in done
            )
            if (
                due
                and done.get((start, "performance")) != fingerprint
                and (start, "performance", fingerprint) not in waiting
            ):
                jobs.append(
                    Job(start, project, model, version, "performance", start + size, fingerprint)
                )
                performance[start] = fingerprint
        rolling = state.rolling
        guard = bool(rolling) and settings.reference_exclude_alerted
        alerted = store.alerted_windows(project, model, version) if guard else set()
        for start, own in profiles.items():
            if start + size > closed:
                continue
            starts = reference_starts(
                start, size, rolling, guard=guard, windows=profiles, alerted=alerted
            )
            compared = with_reference(own, starts, profiles)
            prints = {"health": own, "drift": compared, "quality": compared}
            held = False  # a stale job waits for its retry: the matrix waits with it
            for kind in PROFILE_KINDS:
                fingerprint = prints[kind]
                if done.get((start, kind)) == fingerprint:
                    continue
                if (start, kind, fingerprint) in waiting:
                    held = True
                else:
                    jobs.append(
                        Job(start, project, model, version, kind, start + size, fingerprint)
                    )
            matrix = f"{compared}|{performance.get(start, done.get((start, 'performance'), ''))}"
            if (
                not held
                and done.get((start, "matrix")) != matrix
                and (start, "matrix", matrix) not in waiting
            ):
                jobs.append(Job(start, project, model, version, "matrix", start + size, matrix))
        pending = {(job.window_start, job.kind) for job in jobs[first:]}
        pending |= {(start, kind) for start, kind, _ in waiting}
        jobs += rollup_jobs(
            (project, model, version),
            settings.window,
            tiers,
            done=done,
            pending=pending,
            waiting=waiting,
            closed=closed,
        )
    return sorted(jobs)


#: How far a guarded rolling reference looks back for windows that did not alert, in
#: multiples of ``reference_windows``.
REFERENCE_LOOKBACK = 4


def reference_starts(
    start: datetime,
    size: timedelta,
    rolling: int,
    *,
    guard: bool = False,
    windows: Collection[datetime] = (),
    alerted: Collection[datetime] = (),
) -> list[datetime]:
    """The starts of the windows of the rolling reference of the window at ``start``: the
    ``rolling`` windows before it; with ``guard`` (``reference_exclude_alerted``) the
    ``rolling`` newest of the earlier ``windows`` (those with profiles) whose drift did not
    alert, among the ``REFERENCE_LOOKBACK * rolling`` windows before it.

    >>> t, h = datetime(2026, 1, 1, 10), timedelta(hours=1)
    >>> [s.hour for s in reference_starts(t, h, 2)]
    [9, 8]
    >>> seen = [t - k * h for k in range(1, 9)]
    >>> [s.hour for s in reference_starts(t, h, 2, guard=True, windows=seen, alerted=seen[:3])]
    [6, 5]
    """
    if not guard:
        return [start - k * size for k in range(1, rolling + 1)]
    since = start - REFERENCE_LOOKBACK * rolling * size
    kept = sorted((w for w in windows if since <= w < start and w not in alerted), reverse=True)
    return kept[:rolling]


def with_reference(own: str, starts: Sequence[datetime], profiles: dict[datetime, str]) -> str:
    """The fingerprint of a window's drift and quality inputs: its own profiles', and those
    of each window of its rolling reference (``starts``), so that a late or replayed
    profile reruns every window whose reference holds it.

    >>> t, h = datetime(2026, 1, 1), timedelta(hours=1)
    >>> with_reference("2:10:10", [t + h, t], {t: "1:5:5", t + 2 * h: "2:10:10"})
    '2:10:10|20260101T010000=-;20260101T000000=1:5:5'
    """
    if not starts:
        return own
    before = [f"{w:%Y%m%dT%H%M%S}={profiles.get(w, '-')}" for w in starts]
    return f"{own}|{';'.join(before)}"
