"""This collector among the replicas of one store: which of the due jobs it runs.

A pass offers its due jobs, oldest first, to :meth:`Replica.claims`, which leases them a
batch at a time (:meth:`~sightline.store.leases.LeaseQueries.claim_jobs`), so replicas on
one PostgreSQL database interleave their batches and each job runs once. While the pass
runs, a thread renews the replica's heartbeat and leases every third of the timeout
(:meth:`Replica.holding`); a replica that dies stops renewing, and another takes its jobs
once their leases expire. On DuckDB (one process) the first claim takes every job.

>>> from datetime import datetime
>>> from sightline.store import open_store
>>> from sightline.store.leases import JobKey
>>> store = open_store(":memory:")
>>> replica = Replica(store, "r1")
>>> job = JobKey("p", "m", "1", datetime(2026, 1, 1), datetime(2026, 1, 1, 1), "drift", "1:5:5")
>>> with replica.holding():
...     batches = list(replica.claims([job], due_at=datetime(2026, 1, 2)))
>>> [[lease.job.kind for lease in batch] for batch in batches]
[['drift']]
>>> store.close()
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime

from sightline.store import Store, utcnow
from sightline.store.leases import J, Lease

log = logging.getLogger("sightline.scheduler")

#: Seconds a lease lasts without renewal (a dead replica's jobs move after this).
LEASE_TIMEOUT = 60.0
#: Jobs leased at a time on a store shared by replicas.
BATCH = 16


class Replica:
    """This process's name among the replicas (default ``host:pid:random``), its lease
    ``timeout`` in seconds and the ``batch`` of jobs it leases at a time."""

    def __init__(
        self,
        store: Store,
        name: str | None = None,
        *,
        timeout: float = LEASE_TIMEOUT,
        batch: int = BATCH,
    ) -> None:
        if timeout <= 0 or batch < 1:
            raise ValueError("the lease timeout must be positive and the batch at least 1")
        self.store = store
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.name = name or f"{self.host}:{self.pid}:{secrets.token_hex(2)}"
        self.timeout = timeout
        self.batch = batch
        self.started_at = utcnow()

    def beat(self) -> None:
        """Say this replica is alive and extend its leases."""
        self.store.beat(self.name, self.timeout, self.host, self.pid, self.started_at)

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Beat now, and every third of the timeout until the block ends."""
        self.beat()
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(self.timeout / 3):
                try:
                    self.beat()
                except Exception:  # the store is away: the leases may expire, nothing else
                    log.exception("replica %s could not renew its leases", self.name)

        thread = threading.Thread(target=renew, name="sightline-leases", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def claims(self, jobs: Sequence[J], due_at: datetime) -> Iterator[list[Lease[J]]]:
        """Batches of ``jobs`` (in their order) leased to this replica, until none is
        left that another replica does not hold or has not done."""
        pending = list(jobs)
        window = 4 * self.batch if self.store.shares_jobs else len(pending)
        while pending:
            offered = pending[:window]
            leases = self.store.claim_jobs(
                offered, self.name, timeout=self.timeout, due_at=due_at, limit=self.batch
            )
            if not leases:
                del pending[:window]
                continue
            last = max(offered.index(lease.job) for lease in leases)
            del pending[: last + 1]
            yield leases
