"""Deliver payloads to the collector: in order, retried, spooled to disk while it is away.

:class:`Delivery` owns one daemon thread that sends the payloads given to
:meth:`Delivery.submit`, oldest first:

- bodies of at least ``gzip_min_bytes`` go out gzipped (``Content-Encoding: gzip``, level 1:
  half the CPU of level 6 for 14x instead of 15x on prediction records);
- 2xx acknowledges (``{"duplicate": true}`` means an earlier try had stored it);
- 408, 429, 5xx except 501, connection errors and timeouts are retried forever with
  exponential backoff and full jitter (a uniform wait in ``[0, min(backoff_max,
  backoff_base * 2**attempt)]``), never sooner than the answer's ``Retry-After`` (seconds or
  an HTTP date, at most :data:`RETRY_AFTER_MAX`); when :meth:`Delivery.close` begins, the
  payload being retried gets one try at once (Retry-After permitting) and the ladder restarts;
- 413 halves a splittable JSON payload into ``<key>.1`` and ``<key>.2`` (the same halves on
  every replay, so the collector's idempotency still holds), recursively;
- any other answer (400, 401, 403, 404, 409, 422, 501, a 413 that cannot be split, ...)
  refuses the payload for good: it is dropped, counted in ``stats.rejected[status]`` and
  logged once per status.

Payloads wait in memory up to ``queue_max_bytes``; beyond it the oldest move to the spool
(:mod:`sightline.sdk.spool`), itself bounded by ``spool_max_bytes`` (the oldest files are
dropped and counted). Without a spool directory the oldest queued payloads are dropped
instead. On start a Delivery replays what dead processes left in the same spool directory.

Nothing here raises into the caller: trouble is counted in :class:`DeliveryStats` and
logged on the ``sightline.sdk`` logger.

>>> d = Delivery("http://127.0.0.1:9", None, spool_dir=None, timeout=0.2)
>>> d.submit(Payload("/api/v1/models/m/labels", "k1", b'{"labels": []}'))
>>> d.close(0.0)
>>> d.stats.dropped, d.stats.sent
(1, 0)
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import enum
import functools
import gzip
import json
import logging
import math
import os
import random
import secrets
import ssl
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from sightline.errors import InvalidInputError
from sightline.sdk.spool import CorruptSpoolFile, Evicted, Payload, Spool, kind_of

__all__ = [
    "RETRY_AFTER_MAX",
    "Delivery",
    "DeliveryStats",
    "Payload",
    "backoff_delay",
    "is_retryable",
    "retry_after_seconds",
    "split_payload",
]

logger = logging.getLogger("sightline.sdk")

JSON = "application/json"
#: The longest ``Retry-After`` honoured, in seconds (a longer one waits this long).
RETRY_AFTER_MAX = 600.0
#: How long :meth:`Delivery.close` waits for the sender beyond its deadline.
_JOIN_GRACE = 0.5
_USER_AGENT = "sightline-sdk/0.1"


# -- policies ------------------------------------------------------------------------------


def is_retryable(status: int) -> bool:
    """Whether an answer with HTTP ``status`` is worth retrying: 408, 429, 5xx but 501.

    >>> [s for s in (400, 408, 413, 429, 500, 501, 503) if is_retryable(s)]
    [408, 429, 500, 503]
    """
    return status in (408, 429) or (500 <= status < 600 and status != 501)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """The wait a ``Retry-After`` header asks for, in seconds (None when absent or bad).

    >>> retry_after_seconds("2"), retry_after_seconds("0.5"), retry_after_seconds("soon")
    (2.0, 0.5, None)
    >>> now = datetime(2024, 1, 1, tzinfo=UTC)
    >>> retry_after_seconds("Mon, 01 Jan 2024 00:00:03 GMT", now)
    3.0
    >>> retry_after_seconds("Sun, 31 Dec 2023 00:00:00 GMT", now)
    0.0
    """
    if not value:
        return None
    text = value.strip()
    seconds: float | None
    try:
        seconds = float(text)
    except ValueError:
        seconds = _seconds_until(text, now or datetime.now(UTC))
    if seconds is None or not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


def _seconds_until(http_date: str, now: datetime) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - now).total_seconds()


def backoff_delay(attempt: int, *, base: float, cap: float, retry_after: float | None) -> float:
    """The wait before retry number ``attempt + 1``: full jitter, at least ``retry_after``.

    >>> 0.0 <= backoff_delay(3, base=0.5, cap=30.0, retry_after=None) <= 4.0
    True
    >>> backoff_delay(0, base=0.5, cap=30.0, retry_after=2.0) >= 2.0
    True
    """
    ceiling = min(cap, base * 2.0 ** min(attempt, 60))
    return max(random.uniform(0.0, ceiling), retry_after or 0.0)


def split_payload(payload: Payload) -> tuple[Payload, Payload] | None:
    """The two halves of a JSON payload's ``items_field`` list (None when it cannot split).

    The halves keep the body's other fields and take the keys ``<key>.1`` and ``<key>.2``;
    splitting the same payload again gives the same bytes, so replays stay idempotent.

    >>> p = Payload("/p", "k", b'{"labels": [1, 2, 3]}', items_field="labels")
    >>> [(h.key, h.body) for h in split_payload(p)]
    [('k.1', b'{"labels":[1]}'), ('k.2', b'{"labels":[2,3]}')]
    >>> split_payload(Payload("/p", "k", b'{"labels": [1]}', items_field="labels")) is None
    True
    """
    name = payload.items_field
    if name is None or payload.content_type.split(";")[0].strip() != JSON:
        return None
    try:
        doc = json.loads(payload.body)
    except ValueError:
        return None
    items = doc.get(name) if isinstance(doc, dict) else None
    if not isinstance(items, list) or len(items) < 2:
        return None
    mid = len(items) // 2

    def half(i: int, part: list[object]) -> Payload:
        body = json.dumps({**doc, name: part}, separators=(",", ":")).encode()
        count = len(part) if payload.count else 0
        return dataclasses.replace(payload, key=f"{payload.key}.{i}", body=body, count=count)

    return half(1, items[:mid]), half(2, items[mid:])


# -- counters ------------------------------------------------------------------------------


@dataclass
class DeliveryStats:
    """What a :class:`Delivery` did so far (plain counters; the Monitor reads them).

    ``sent`` counts payloads acknowledged with 2xx (the halves of a split payload count
    each), ``duplicates`` those of them the collector had already stored. ``attempts``
    counts HTTP requests, ``retried`` the requests that repeated an earlier one.
    ``rejected`` counts payloads refused for good, by status. ``spooled`` counts payloads
    written to disk, ``adopted`` those found in dead processes' spools at start and
    ``replayed`` the adopted ones acknowledged. ``dropped`` and ``dropped_bytes`` count
    payloads lost: spool (or queue) full, unwritable or corrupt spool files, or submitted
    after :meth:`Delivery.close`; ``evicted`` those of them the full spool deleted, oldest
    first, by kind (``profiles``, ``records``, ``labels``, ``other``: samples, heartbeats,
    the version's schema). ``split`` counts 413 answers that halved a payload.
    """

    sent: int = 0
    duplicates: int = 0
    attempts: int = 0
    retried: int = 0
    rejected: dict[int, int] = field(default_factory=dict)
    spooled: int = 0
    dropped: int = 0
    dropped_bytes: int = 0
    evicted: dict[str, int] = field(default_factory=dict)
    adopted: int = 0
    replayed: int = 0
    split: int = 0

    def copy(self) -> DeliveryStats:
        """A snapshot (``rejected`` and ``evicted`` copied too)."""
        return dataclasses.replace(self, rejected=dict(self.rejected), evicted=dict(self.evicted))


class _Outcome(enum.Enum):
    DONE = "acknowledged or refused for good"
    ABORTED = "closing: left for the spool"


@dataclass
class _Work:
    """A payload in the queue (``payload``) or in the spool (``spool_name``)."""

    ordinal: int
    payload: Payload | None
    spool_name: str | None = None


class _Wake(enum.Enum):
    SLEPT = "waited the whole delay"
    CLOSING = "closing began: retry now"
    ABORT = "closing: no time left for this wait"


@dataclass
class _Backoff:
    """Where one payload is on the retry ladder."""

    tries: int = 0  # requests made so far
    level: int = 0  # the exponent of the next backoff
    closing: bool = False  # the ladder restarted for close


@dataclass(frozen=True)
class _Answer:
    status: int | None  # None: no answer (connection error, timeout)
    retry_after: float | None = None
    duplicate: bool = False
    detail: str = ""  # the start of a refusal's body (the collector names the problem)


#: Every Delivery of this process, so that a forked child can detach from its parent's.
_LIVE: weakref.WeakSet[Delivery] = weakref.WeakSet()
#: Clients a forked child inherited: never used, never closed (their locks may be held).
_ABANDONED: list[httpx.Client] = []


_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def tls_context(url: str) -> ssl.SSLContext:
    """The TLS context of the SDK's clients of ``url``: httpx's default one (certifi's
    CAs, ``SSL_CERT_FILE``), built once per process (loading the CAs costs about 50 ms of
    CPU); for a plain ``http://`` collector without a proxy in the environment, a context
    that trusts no CA (nothing is encrypted, and any TLS connection would fail
    verification rather than go unchecked).

    >>> tls_context("http://127.0.0.1:8000").verify_mode == ssl.CERT_REQUIRED
    True
    """
    env = {k.upper() for k in os.environ}
    if url.lower().startswith("https:") or env.intersection(_PROXY_VARIABLES):
        return _verifying_context()
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


@functools.cache
def _verifying_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def _new_instance_id() -> str:
    return f"{os.getpid()}-{secrets.token_hex(6)}"


# -- delivery ------------------------------------------------------------------------------


class Delivery:
    """Sends payloads to the collector at ``url`` from a background thread.

    ``submit`` never blocks for long and never raises. ``flush(timeout)`` waits until
    everything submitted (and replayed) is acknowledged or refused for good. ``close``
    drains within ``timeout``; what is still unsent then goes to the spool (with
    ``spool_dir``) for the next process on that directory to replay, or is dropped and
    counted. A ``submit`` after ``close`` is dropped and counted in ``stats.dropped``.

    Invalid options raise :class:`~sightline.errors.InvalidInputError`; an unusable spool
    directory is logged and the Delivery runs without a spool.

    Fork: an ``os.register_at_fork`` hook makes every Delivery a forked child inherits let
    go of the parent's (queue, spool directory and lock stay the parent's; nothing of it is
    sent by the child). :meth:`after_fork_in_child` then starts the child's own, empty one;
    the first ``submit`` or ``flush`` in the child calls it when nobody did.
    """

    def __init__(
        self,
        url: str,
        api_key: str | None,
        *,
        spool_dir: str | Path | None,
        spool_max_bytes: int = 256 * 2**20,
        queue_max_bytes: int = 16 * 2**20,
        timeout: float = 10.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        gzip_min_bytes: int = 1024,
        instance_id: str | None = None,
        transport: httpx.BaseTransport | None = None,
        on_lost: Callable[[Payload], None] | None = None,
    ) -> None:
        _check_options(
            spool_max_bytes=spool_max_bytes,
            queue_max_bytes=queue_max_bytes,
            timeout=timeout,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            gzip_min_bytes=gzip_min_bytes,
        )
        self.url = url
        self._api_key = api_key
        self._spool_dir = None if spool_dir is None else Path(spool_dir)
        self._spool_max_bytes = spool_max_bytes
        self._queue_max_bytes = queue_max_bytes
        self._timeout = timeout
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._gzip_min_bytes = gzip_min_bytes
        self._transport = transport
        self._on_lost = on_lost
        self._detached_in: int | None = None  # the pid of a forked child that let go
        self._start(instance_id or _new_instance_id())
        _LIVE.add(self)

    def _start(self, instance_id: str) -> None:
        """Fresh state, spool directory, client and sender thread (at init and after fork)."""
        self.stats = DeliveryStats()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._memory: deque[_Work] = deque()
        self._memory_bytes = 0
        self._inflight: _Work | None = None
        self._deadline: float | None = None
        self._closed = False
        self._last_ordinal = 0
        self._warned: set[str] = set()
        self._unreachable = False
        self._pid = os.getpid()
        self._spool = self._open_spool(instance_id)
        self.instance_id = self._spool.instance_id if self._spool else instance_id
        self._client = httpx.Client(
            base_url=self.url,
            headers=self._headers(),
            timeout=self._timeout,
            transport=self._transport,
            verify=tls_context(self.url),
        )
        self._thread = threading.Thread(
            target=self._run, name=f"sightline-delivery-{self.instance_id}", daemon=True
        )
        self._thread.start()

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": _USER_AGENT}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _open_spool(self, instance_id: str) -> Spool | None:
        if self._spool_dir is None:
            return None
        try:
            spool = Spool(self._spool_dir, instance_id, max_bytes=self._spool_max_bytes)
        except OSError as exc:
            logger.warning(
                "sightline: spool directory %s is unusable (%s); running without a spool",
                self._spool_dir,
                exc,
            )
            return None
        try:
            adopted, dropped = spool.adopt()
        except OSError as exc:
            logger.warning("sightline: could not replay the spool %s: %s", self._spool_dir, exc)
            adopted, dropped = 0, []
        self.stats.adopted = adopted
        self._count_evicted(dropped)
        return spool

    # -- the caller's side -----------------------------------------------------------------

    def submit(self, payload: Payload, *, wait: float = 0.0) -> None:
        """Queue ``payload`` for sending (spilling the oldest queued payloads to the spool
        past ``queue_max_bytes``). Never raises.

        Without a spool, ``wait`` seconds at most are spent waiting for room in the queue
        while the collector answers (back-pressure on the caller's thread instead of a
        loss); past them, or with the collector unreachable, the oldest are dropped.
        """
        try:
            self._restart_if_forked()
            with self._cond:
                if self._closed:
                    self._lost(payload, "submitted after close")
                    return
                self._wait_for_room_locked(len(payload.body), wait)
                self._memory.append(_Work(self._next_ordinal(), payload))
                self._memory_bytes += len(payload.body)
                self._spill_locked()
                self._cond.notify_all()
        except Exception:
            logger.exception("sightline: could not queue a payload")

    def _wait_for_room_locked(self, size: int, wait: float) -> None:
        if wait <= 0 or self._spool is not None:
            return
        deadline = time.monotonic() + wait
        while (
            self._memory
            and self._memory_bytes + size > self._queue_max_bytes
            and not (self._unreachable or self._closed)
            and self._thread.is_alive()
        ):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._cond.wait(remaining)

    def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until every queued and spooled payload is
        acknowledged or refused for good; True when so."""
        try:
            self._restart_if_forked()
            deadline = time.monotonic() + max(timeout, 0.0)
            with self._cond:
                while not self._idle_locked():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not self._thread.is_alive():
                        return False
                    self._cond.wait(remaining)
                return True
        except Exception:
            logger.exception("sightline: flush failed")
            return False

    def close(self, timeout: float) -> None:
        """Send what is queued within ``timeout`` seconds, then stop the sender; what is
        still unsent goes to the spool (or is dropped and counted without one)."""
        if self._pid != os.getpid():  # a forked child that never used it: nothing of its own
            self._detach_after_fork()
            self._closed = True
            return
        try:
            with self._cond:
                if self._closed:
                    return
                self._closed = True
                self._deadline = time.monotonic() + max(timeout, 0.0)
                self._cond.notify_all()
            self._thread.join(max(self._deadline - time.monotonic(), 0.0) + _JOIN_GRACE)
            self._persist_leftovers()
        except Exception:
            logger.exception("sightline: close failed")
        finally:
            self._release()

    def _release(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()
        if self._spool is not None:
            with contextlib.suppress(Exception):
                self._spool.close()

    def _persist_leftovers(self) -> None:
        with self._cond:
            left = list(self._memory)
            if self._inflight is not None and self._inflight.spool_name is None:
                left.insert(0, self._inflight)
            self._memory.clear()
            self._memory_bytes = 0
            for work in left:
                self._to_spool(work)
            if left and self._spool is not None:
                logger.info("sightline: %d unsent payloads left in the spool", len(left))

    def _idle_locked(self) -> bool:
        spooled = self._spool.pending if self._spool is not None else 0
        return not self._memory and self._inflight is None and spooled == 0

    def _next_ordinal(self) -> int:
        self._last_ordinal = max(time.time_ns(), self._last_ordinal + 1)
        return self._last_ordinal

    def _spill_locked(self) -> None:
        """Move the oldest queued payloads to the spool while over ``queue_max_bytes``, or
        all of them while the collector is unreachable (so that a crash loses nothing
        queued)."""
        limit = 0 if self._should_spool() else self._queue_max_bytes
        while self._memory and self._memory_bytes > limit:
            work = self._memory.popleft()
            assert work.payload is not None
            self._memory_bytes -= len(work.payload.body)
            self._to_spool(work)

    def _to_spool(self, work: _Work) -> None:
        assert work.payload is not None
        if self._spool is None:
            self._lost(work.payload, "unsent, and no spool directory")
            return
        try:
            dropped = self._spool.write(work.ordinal, work.payload)
        except OSError as exc:
            self._lost(work.payload, f"cannot write the spool: {exc}")
            return
        self.stats.spooled += 1
        self._count_evicted(dropped)

    def _lost(self, payload: Payload, reason: str) -> None:
        """Count ``payload`` lost (caller holds the lock) and tell ``on_lost``."""
        self._count_dropped([len(payload.body)], reason)
        if self._on_lost is not None:
            self._on_lost(payload)

    def _count_evicted(self, evicted: list[Evicted]) -> None:
        """Count the payloads the full spool deleted (caller holds the lock), by kind, and
        tell ``on_lost`` of this process's own (what they held was counted as kept)."""
        self._count_dropped([e.size for e in evicted], "spool full: the oldest go")
        for e in evicted:
            kind = kind_of(e.path)
            self.stats.evicted[kind] = self.stats.evicted.get(kind, 0) + 1
            if not e.adopted and self._on_lost is not None:
                self._on_lost(Payload(e.path, "", b"", method=e.method, count=e.held))

    def _count_dropped(self, sizes: list[int], reason: str) -> None:
        """Count lost payloads (caller holds the lock); warn once per kind of reason."""
        if not sizes:
            return
        self.stats.dropped += len(sizes)
        self.stats.dropped_bytes += sum(sizes)
        self._warn_once(
            reason.split(":")[0],
            f"sightline: dropping payloads ({reason}); stats.dropped counts them",
        )

    def _warn_once(self, what: str, message: str) -> None:
        if what not in self._warned:
            self._warned.add(what)
            logger.warning(message)

    # -- fork ------------------------------------------------------------------------------

    def after_fork_in_child(self, instance_id: str | None = None) -> None:
        """In a forked child: an empty queue, a new spool directory and lock, a new client
        and sender thread. The parent's payloads stay the parent's. A no-op in the process
        that started this Delivery (or restarted it already)."""
        if self._pid == os.getpid():
            return
        try:
            self._detach_after_fork()
            self._start(instance_id or _new_instance_id())
        except Exception:
            logger.exception("sightline: could not restart delivery after fork")

    def _detach_after_fork(self) -> None:
        """Forget the parent's state without taking any lock (one may be held forever)."""
        if self._detached_in == os.getpid():
            return
        self._detached_in = os.getpid()
        if self._spool is not None:
            self._spool.abandon_after_fork()
            self._spool = None
        _ABANDONED.append(self._client)
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._memory = deque()
        self._memory_bytes = 0
        self._inflight = None

    def _restart_if_forked(self) -> None:
        if self._pid != os.getpid() and not self._closed:
            self.after_fork_in_child()

    # -- the sender thread -----------------------------------------------------------------

    def _run(self) -> None:
        while True:
            work = self._take()
            if work is None:
                return
            try:
                outcome = self._deliver_work(work)
            except Exception:
                logger.exception("sightline: unexpected error delivering a payload; dropped")
                with self._cond:
                    if work.payload is None:
                        self._count_dropped([0], "unexpected error")
                    else:
                        self._lost(work.payload, "unexpected error")
                outcome = _Outcome.DONE
            self._finish(work, outcome)
            if outcome is _Outcome.ABORTED:
                return

    def _take(self) -> _Work | None:
        """The oldest payload (queue or spool), or None when closing and done."""
        with self._cond:
            while True:
                if self._deadline is not None and time.monotonic() >= self._deadline:
                    return None
                work = self._pick_locked()
                if work is not None:
                    self._inflight = work
                    return work
                if self._closed:
                    return None
                self._cond.wait()

    def _pick_locked(self) -> _Work | None:
        head = self._spool.oldest() if self._spool is not None else None
        if head is not None and (not self._memory or head[0] < self._memory[0].ordinal):
            return _Work(head[0], None, spool_name=head[1])
        if self._memory:
            work = self._memory.popleft()
            assert work.payload is not None
            self._memory_bytes -= len(work.payload.body)
            return work
        return None

    def _finish(self, work: _Work, outcome: _Outcome) -> None:
        with self._cond:
            if outcome is _Outcome.DONE or work.spool_name is not None:
                self._inflight = None
            if outcome is _Outcome.DONE and work.spool_name is not None and self._spool:
                self._spool.remove(work.spool_name)
            self._cond.notify_all()

    def _deliver_work(self, work: _Work) -> _Outcome:
        if work.spool_name is None:
            assert work.payload is not None
            outcome = self._deliver(work.payload, self._should_spool)
            if outcome is _Outcome.DONE and self._should_spool():
                with self._cond:  # unreachable: on disk, so that a crash cannot lose it
                    self._to_spool(work)
            return outcome
        spool, name = self._spool, work.spool_name
        assert spool is not None
        try:
            payload = spool.read(name)
        except FileNotFoundError:
            return _Outcome.DONE  # dropped while waiting (already counted)
        except CorruptSpoolFile as exc:
            with self._cond:
                self._count_dropped([exc.size], str(exc))
            return _Outcome.DONE
        adopted = spool.was_adopted(name)
        outcome = self._deliver(payload, lambda: not spool.contains(name))
        if outcome is _Outcome.DONE and adopted:
            with self._cond:
                self.stats.replayed += 1
        return outcome

    def _deliver(self, payload: Payload, cancelled: Callable[[], bool]) -> _Outcome:
        """Send ``payload`` until acknowledged or refused for good (DONE), or until closing
        leaves no time for another try (ABORTED). ``cancelled()`` true: dropped meanwhile."""
        body, headers = self._encode(payload)
        backoff = _Backoff()
        while not cancelled():
            answer = self._attempt(payload, body, headers, backoff.tries)
            status = answer.status
            if status is not None and 200 <= status < 300:
                self._acknowledged(answer)
                return _Outcome.DONE
            if status == 413 and (halves := split_payload(payload)) is not None:
                return self._deliver_halves(halves, cancelled)
            if status is not None and not is_retryable(status):
                self._rejected(payload, answer)
                return _Outcome.DONE
            if not self._wait_to_retry(backoff, answer.retry_after or 0.0):
                return _Outcome.ABORTED
        return _Outcome.DONE

    def _wait_to_retry(self, backoff: _Backoff, retry_after: float) -> bool:
        """Back off before the next try; False when closing leaves no time for it.

        When closing begins, the next try comes at once (a sleep is cut short) and the
        ladder restarts, so that ``close`` drains a collector that came back during a long
        backoff; ``Retry-After`` still holds.
        """
        backoff.tries += 1
        if self._deadline is not None and not backoff.closing:
            backoff.closing, backoff.level = True, 0
            delay = retry_after  # closing began: one try as soon as allowed
        else:
            delay = backoff_delay(
                backoff.level,
                base=self._backoff_base,
                cap=self._backoff_max,
                retry_after=retry_after,
            )
            backoff.level += 1
        woke = self._sleep(delay, retry_after)
        if woke is _Wake.CLOSING:
            backoff.closing, backoff.level = True, 0
        return woke is not _Wake.ABORT

    def _deliver_halves(
        self, halves: tuple[Payload, Payload], cancelled: Callable[[], bool]
    ) -> _Outcome:
        with self._cond:
            self.stats.split += 1
        for half in halves:
            if self._deliver(half, cancelled) is _Outcome.ABORTED:
                return _Outcome.ABORTED
        return _Outcome.DONE

    def _encode(self, payload: Payload) -> tuple[bytes, dict[str, str]]:
        headers = {"Idempotency-Key": payload.key, "Content-Type": payload.content_type}
        if len(payload.body) >= self._gzip_min_bytes:
            headers["Content-Encoding"] = "gzip"
            return gzip.compress(payload.body, compresslevel=1, mtime=0), headers
        return payload.body, headers

    def _attempt(
        self, payload: Payload, body: bytes, headers: dict[str, str], tries: int
    ) -> _Answer:
        with self._cond:
            self.stats.attempts += 1
            self.stats.retried += int(tries > 0)
        try:
            response = self._client.request(
                payload.method,
                payload.path,
                content=body,
                headers=headers,
                timeout=self._request_timeout(),
            )
        except Exception as exc:  # httpx.TransportError, or the client closed under us
            self._went_unreachable(exc)
            return _Answer(None)
        self._reachable()
        status = response.status_code
        if is_retryable(status):
            self._warn_once(
                f"retry-{status}", f"sightline: collector answered {status}; retrying with backoff"
            )
            return _Answer(status, retry_after_seconds(response.headers.get("Retry-After")))
        if 200 <= status < 300:
            return _Answer(status, duplicate=_is_duplicate(response))
        return _Answer(status, detail=response.text[:300])

    def _request_timeout(self) -> float:
        deadline = self._deadline
        if deadline is None:
            return self._timeout
        return max(0.05, min(self._timeout, deadline - time.monotonic()))

    def _should_spool(self) -> bool:
        """While the collector is unreachable, queued payloads wait on disk."""
        return self._unreachable and self._spool is not None

    def _went_unreachable(self, exc: Exception) -> None:
        if not self._unreachable:
            self._unreachable = True
            with self._cond:
                self._spill_locked()
            logger.warning(
                "sightline: collector %s unreachable (%s: %s); payloads are kept and retried",
                self.url,
                type(exc).__name__,
                exc,
            )

    def _reachable(self) -> None:
        if self._unreachable:
            self._unreachable = False
            logger.info("sightline: collector %s reachable again", self.url)

    def _acknowledged(self, answer: _Answer) -> None:
        with self._cond:
            self.stats.sent += 1
            self.stats.duplicates += answer.duplicate

    def _rejected(self, payload: Payload, answer: _Answer) -> None:
        status = answer.status or 0
        with self._cond:
            self.stats.rejected[status] = self.stats.rejected.get(status, 0) + 1
        if self._on_lost is not None:
            self._on_lost(payload)
        self._warn_once(
            f"reject-{status}",
            f"sightline: collector refused a payload with HTTP {status} "
            f"({payload.method} {payload.path}, key {payload.key}): "
            f"{answer.detail or '(no body)'}; "
            f"dropped. Further {status} answers are only counted in the delivery stats",
        )

    def _sleep(self, delay: float, floor: float) -> _Wake:
        """Wait ``delay`` seconds, never less than ``floor`` (a ``Retry-After``). When
        closing begins meanwhile, wake at ``floor``; ABORT (at once) when the wait would end
        past the closing deadline."""
        start = time.monotonic()
        end, earliest = start + delay, start + floor
        woke = _Wake.SLEPT
        with self._cond:
            closing = self._deadline is not None
            while True:
                deadline = self._deadline
                if deadline is not None and not closing:
                    closing, woke = True, _Wake.CLOSING
                    end = min(end, max(earliest, time.monotonic()))
                if deadline is not None and end > deadline:
                    return _Wake.ABORT
                remaining = end - time.monotonic()
                if remaining <= 0:
                    return woke
                self._cond.wait(remaining)


def _is_duplicate(response: httpx.Response) -> bool:
    try:
        doc = response.json()
    except ValueError:
        return False
    return isinstance(doc, dict) and doc.get("duplicate") is True


def _check_options(**options: float) -> None:
    for name, value in options.items():
        if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise InvalidInputError(
                f"{name} must be a finite number >= 0, got {value!r}", field=name
            )
    for name in ("timeout", "spool_max_bytes"):
        if options[name] <= 0:
            raise InvalidInputError(f"{name} must be > 0, got {options[name]!r}", field=name)


def _detach_all_after_fork() -> None:
    """At-fork hook of the child: every inherited Delivery lets go of the parent's spool."""
    for delivery in list(_LIVE):
        with contextlib.suppress(Exception):
            delivery._detach_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_detach_all_after_fork)
