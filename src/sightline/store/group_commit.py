"""Group commit: ingest requests that arrive together commit in one transaction.

A committer thread takes the requests as they arrive: the first to arrive while no
group commits is committed at once, alone or with whatever queued before it; requests
that arrive while a group commits queue up, and the next group takes them all. Each
request is answered only after the transaction that holds it committed, and is all or
nothing: when a group's transaction fails, its requests are committed again one by one,
so that a bad request fails alone. A commit costs a WAL write and an fsync whatever its
size, so under load a group costs about what one request would, and an idle store waits
for no timer.

>>> commits = GroupCommit(lambda items: [item * 2 for item in items])
>>> commits.submit(21)
42
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

from sightline.errors import StoreError

T = TypeVar("T")
R = TypeVar("R")

#: Seconds the committer thread waits for a request before it ends.
IDLE_SECONDS = 5.0


@dataclass(eq=False)
class _Queued(Generic[T, R]):
    """A request waiting for its group's commit, and the future of its outcome."""

    item: T
    outcome: Future[R]


class GroupCommit(Generic[T, R]):
    """Commits submitted items in groups with ``commit`` (one transaction for a list of
    items, returning one outcome per item, an exception instance for one that failed by
    itself; raising when the transaction failed), on a thread of its own that starts
    with the first item: a caller on an event loop awaits its item's future
    (:meth:`future`) and needs no thread of its own while the group commits."""

    def __init__(self, commit: Callable[[list[T]], Sequence[R | BaseException]]) -> None:
        self._commit = commit
        self._queue: list[_Queued[T, R]] = []
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self.committing = False  # a group's transaction is running
        self.groups = 0  # transactions committed or tried, for tests and benchmarks

    @property
    def queued(self) -> int:
        """How many requests wait for the next group."""
        return len(self._queue)

    def submit(self, item: T) -> R:
        """Commit ``item`` (with the requests that arrive meanwhile); its outcome, or
        raise its error."""
        return self.future(item).result()

    def future(self, item: T) -> Future[R]:
        """Queue ``item`` for the next group: the future of its outcome, set once the
        transaction that holds it committed (``asyncio.wrap_future`` awaits it)."""
        mine: _Queued[T, R] = _Queued(item, Future())
        with self._changed:
            self._queue.append(mine)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="sightline-group-commit", daemon=True
                )
                self._thread.start()
            self._changed.notify()
        return mine.outcome

    def _loop(self) -> None:
        """Commit every request queued so far, until none came for :data:`IDLE_SECONDS`."""
        while True:
            with self._changed:
                if not self._queue:
                    self._changed.wait(IDLE_SECONDS)
                if not self._queue:  # idle: the next request starts another thread
                    self._thread = None
                    return
                self.committing = True
                group, self._queue = self._queue, []
            try:
                self._run(group)
            except BaseException as exc:  # answer every request; the thread goes on
                for queued in group:
                    if not queued.outcome.done():
                        queued.outcome.set_exception(exc)
            finally:
                for queued in group:
                    if not queued.outcome.done():
                        queued.outcome.set_exception(
                            StoreError("the ingest transaction was interrupted")
                        )
                with self._changed:
                    self.committing = False

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
            if isinstance(outcome, BaseException):
                queued.outcome.set_exception(outcome)
            else:
                queued.outcome.set_result(outcome)
