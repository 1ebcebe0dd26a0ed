"""Group commit: ingest requests that arrive together commit in one transaction.

The first request to arrive while no group commits leads: it commits at once, alone or
with whatever queued before it. Requests that arrive while a group commits queue up, and
the next leader (the first of them to wake) takes them all. Each request is answered only
after the transaction that holds it committed, and is all or nothing: when a group's
transaction fails, its requests are committed again one by one, so that a bad request
fails alone. A commit costs a WAL write and an fsync whatever its size, so under load a
group costs about what one request would, and an idle store waits for no timer.

>>> commits = GroupCommit(lambda items: [item * 2 for item in items])
>>> commits.submit(21)
42
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sightline.errors import StoreError

T = TypeVar("T")
R = TypeVar("R")


@dataclass(eq=False)
class _Queued(Generic[T, R]):
    """A request waiting for its group's commit, then its outcome."""

    item: T
    done: bool = False
    outcome: R | BaseException | None = None


class GroupCommit(Generic[T, R]):
    """Commits submitted items in groups with ``commit`` (one transaction for a list of
    items, returning one outcome per item, an exception instance for one that failed by
    itself; raising when the transaction failed)."""

    def __init__(self, commit: Callable[[list[T]], Sequence[R | BaseException]]) -> None:
        self._commit = commit
        self._queue: list[_Queued[T, R]] = []
        self._changed = threading.Condition()
        self.committing = False  # a group's transaction is running
        self.groups = 0  # transactions committed or tried, for tests and benchmarks

    @property
    def queued(self) -> int:
        """How many requests wait for the next group."""
        return len(self._queue)

    def submit(self, item: T) -> R:
        """Commit ``item`` (with the requests that arrive meanwhile); its outcome, or
        raise its error."""
        mine: _Queued[T, R] = _Queued(item)
        with self._changed:
            self._queue.append(mine)
            while self.committing and not mine.done:
                self._changed.wait()
            lead = not mine.done
            if lead:  # commit every request queued so far
                self.committing = True
                group, self._queue = self._queue, []
        if lead:
            try:
                self._run(group)
            finally:
                with self._changed:
                    for queued in group:
                        if not queued.done:
                            queued.outcome = StoreError("the ingest transaction was interrupted")
                            queued.done = True
                    self.committing = False
                    self._changed.notify_all()
        if isinstance(mine.outcome, BaseException):
            raise mine.outcome
        return mine.outcome  # type: ignore[return-value]

    def _run(self, group: list[_Queued[T, R]]) -> None:
        """Commit ``group`` in one transaction; if it fails, each request alone."""
        self.groups += 1
        outcomes: Sequence[R | BaseException]
        try:
            outcomes = self._commit([q.item for q in group])
        except Exception as exc:
            if len(group) > 1:
                for queued in group:
                    self._run([queued])
                return
            outcomes = [exc]
        for queued, outcome in zip(group, outcomes, strict=True):
            queued.outcome, queued.done = outcome, True
