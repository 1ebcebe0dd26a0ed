"""The Monitor: log predictions in microseconds; profile and ship them in the background.

``log`` only adds the row's six values to a bounded list. A daemon thread wakes every
``tick`` seconds, turns the buffered rows into column arrays, updates the profile of each window,
and hands payloads to :class:`~sightline.sdk.transport.Delivery`, which retries and spools
them: prediction records and labels every tick (in batches of at most
:data:`~sightline.sdk.window.MAX_RECORDS`), the profile of each window every
``ship_interval`` seconds and when the window ends, samples when it ends, heartbeats.

Nothing logged is lost silently: :class:`~sightline.sdk.ledger.Ledger` counts where every
row, prediction record and label went (:meth:`Monitor.stats`).
"""

from __future__ import annotations

import atexit
import itertools
import json
import logging
import math
import os
import secrets
import socket
import sys
import threading
import time
import weakref
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import httpx
import numpy as np
import numpy.typing as npt

from sightline._time import align, parse_duration
from sightline._types import ColumnKind
from sightline.errors import InvalidInputError, SightlineError
from sightline.profile import Column, Profile, Schema
from sightline.sdk import columns as cols
from sightline.sdk import entries as e
from sightline.sdk.generation import GenerationLogging, failed
from sightline.sdk.ledger import Ledger
from sightline.sdk.spool import kind_of
from sightline.sdk.transport import Delivery, Payload, is_retryable, tls_context
from sightline.sdk.watch import current_id, watch
from sightline.sdk.window import MAX_RECORDS, Spec, Window

log = logging.getLogger("sightline.sdk")
P = ParamSpec("P")
R = TypeVar("R")

JSON = "application/json"
PROFILE = "application/x-sightline-profile"
_LIVE: weakref.WeakSet[Monitor] = weakref.WeakSet()
#: Seconds a read of the model version from the collector waits, at most (it runs in the
#: thread that profiles the logged rows).
_SPEC_TIMEOUT = 2.0
#: The ledger's kind of what each kind of payload holds.
_LEDGER_KIND = {"profiles": "rows", "records": "records", "labels": "labels"}
_now = time.time


class MonitorClosedError(SightlineError):
    """``log`` was called on a closed monitor."""


class _Unreachable(Exception):
    """The collector did not answer (or answered a retryable status)."""


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"SIGHTLINE_{name}", default)


def _new_instance() -> str:
    return f"{socket.gethostname()[:80]}-{os.getpid()}-{secrets.token_hex(3)}"


def _window_seconds(value: float | str | None) -> int:
    """The window size in seconds: a duration (``"1m"``) or a whole number of seconds."""
    given: Any = value if value is not None else _env("WINDOW", "60")
    if isinstance(given, float) and given.is_integer():
        given = int(given)
    return parse_duration(given, field="window")


class Monitor(GenerationLogging):
    """Logs the predictions of one model version and ships them to a collector.

    Every argument may come from the environment instead: ``SIGHTLINE_MODEL``,
    ``SIGHTLINE_VERSION``, ``SIGHTLINE_URL``, ``SIGHTLINE_API_KEY``, ``SIGHTLINE_WINDOW``,
    ``SIGHTLINE_SPOOL_DIR``, ``SIGHTLINE_SAMPLE_ROWS``.

    The model version's schema and reference come from ``reference`` (a profile or a
    profile file) or from the collector (``GET`` the version; registered from ``schema``,
    or from the first rows, when the collector does not know it). Until then rows wait in
    the buffer; when the collector cannot be reached, the version is registered from
    ``schema`` or the first rows through the delivery queue (so it waits in the spool
    with the data) at ``close`` or once ``buffer_rows`` rows wait.

    ``window`` is a duration (``"1m"``, ``"5m"``, or seconds). At most ``buffer_rows``
    calls wait in the buffer; beyond it new ones are dropped and counted.

    Examples
    --------
    >>> m = Monitor("churn", "1", url=None, schema=Schema((Column("age"),)))
    >>> pid = m.log({"age": 31.0}, prediction=1.0)
    >>> m.flush(); m.stats()["rows"]
    True
    1
    >>> m.close()
    """

    def __init__(
        self,
        model: str | None = None,
        version: str | None = None,
        *,
        url: str | None = "",
        api_key: str | None = None,
        window: float | str | None = None,
        spool_dir: str | Path | None = None,
        sample_rows: int | None = None,
        schema: Schema | None = None,
        reference: Profile | str | Path | None = None,
        buffer_rows: int = 100_000,
        tick: float = 0.5,
        ship_interval: float = 5.0,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.model = model or _env("MODEL") or ""
        self.version = version or _env("VERSION") or ""
        if not self.model or not self.version:
            raise InvalidInputError("Monitor needs a model and a version", field="model")
        self.url = (url if url != "" else _env("URL")) or None
        self.api_key = api_key or _env("API_KEY")
        self.window = _window_seconds(window)
        for name, value in (("buffer_rows", buffer_rows), ("tick", tick)):
            if not value > 0:
                raise InvalidInputError(f"{name} must be > 0, got {value!r}", field=name)
        spool = spool_dir or _env("SPOOL_DIR")
        self.sample_rows = int(
            sample_rows if sample_rows is not None else _env("SAMPLE_ROWS", "1000") or 0
        )
        self.buffer_rows = buffer_rows
        self.ship_interval = ship_interval
        self._schema = schema
        self._reference = _load(reference) if reference is not None else None
        self._spec = Spec.of_reference(self._reference) if self._reference is not None else None
        if self._spec is None and schema is not None and self.url is None:
            self._spec = Spec(schema)
        self._tick, self._timeout = tick, timeout
        self._transport = transport
        self._spool = Path(spool) if spool else None
        self.closed = False
        _LIVE.add(self)
        self._start()
        atexit.register(_close_quietly, weakref.ref(self))

    # -- lifecycle ---------------------------------------------------------------------

    def _start(self) -> None:
        """(Re)create everything a process owns: ids, buffers, threads, connections."""
        self.instance = _new_instance()
        self.started_at = time.time()
        self._ids = itertools.count()
        self._prefix = f"{self.instance}-"
        self._seq = itertools.count()
        self._cells: list[Any] = []  # the rows of ``log``, ROW_FIELDS after ROW_FIELDS
        self._max_cells = self.buffer_rows * e.ROW_WIDTH
        self._others: deque[e.BatchEntry | e.LabelsEntry | e.RequestEntry] = deque()
        self._waiting_rows: list[Any] = []  # cells of rows waiting for the model version
        self._waiting: list[e.BatchEntry | e.RequestEntry] = []
        self._windows: dict[float, Window] = {}
        self._labels: list[dict[str, Any]] = []
        self._ledger = Ledger()
        self._counts: Counter[str] = Counter()
        self._unknown: Counter[str] = Counter()
        self._refusal: str | None = None  # the collector refused the model version
        self._unreachable = False
        self._last_beat = 0.0
        self._last_ship = time.monotonic()
        self._said_goodbye = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._flushes: list[threading.Event] = []
        self._lock = threading.Lock()
        self._client = (
            httpx.Client(
                base_url=self.url,
                headers=self._headers(),
                timeout=self._timeout,
                transport=self._transport,
                verify=tls_context(self.url),
            )
            if self.url
            else None
        )
        self._delivery = (
            Delivery(
                self.url,
                self.api_key,
                spool_dir=self._spool,
                instance_id=self.instance,
                timeout=self._timeout,
                transport=self._transport,
                on_lost=self._payload_lost,
            )
            if self.url
            else None
        )
        if self._delivery is not None:
            self.instance = self._delivery.instance_id
            self._prefix = f"{self.instance}-"
            if self._spec is not None:
                self._register(self._spec)
        self._thread = threading.Thread(target=self._run, name="sightline-monitor", daemon=True)
        self._thread.start()

    def _register(self, spec: Spec) -> None:
        """Register the version (and the local reference) first in the delivery queue, so
        that the collector knows it before any data (even after an outage)."""
        schema = json.dumps(spec.schema.to_dict()).encode()
        self._submit(self._base(), schema, JSON, None, method="PUT")
        if self._reference is not None:
            body = self._reference.to_bytes()
            self._submit(f"{self._base()}/reference", body, PROFILE, None, method="PUT")

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _after_fork(self) -> None:
        """In a forked child: a fresh monitor of its own (the parent's rows stay the
        parent's), closed by ``multiprocessing``'s exit finalizers when it runs the child
        (it ends children with ``os._exit``, which skips ``atexit``)."""
        if self.closed:
            return
        self._start()
        mp_util = sys.modules.get("multiprocessing.util")
        if mp_util is not None:
            mp_util.register_after_fork(self, _finalize_in_child)

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the hot path --------------------------------------------------------------------

    def log(
        self,
        features: Mapping[str, Any],
        prediction: Any = None,
        probability: float | Mapping[str, float] | None = None,
        id: str | None = None,
        latency_ms: float | None = None,
        timestamp: float | datetime | None = None,
    ) -> str:
        """Record one prediction; return its id (generated when not given).

        Costs well under a microsecond: the row is appended to a buffer and processed
        later. A row whose ``timestamp`` or ``latency_ms`` is not a number is counted
        invalid there (``stats()["invalid"]``); the others are not affected.
        """
        if id is None:
            id = f"{self._prefix}{next(self._ids)}"
        cells = self._cells
        if len(cells) < self._max_cells:  # 0 once closed: one test for both
            # Six cells, not a tuple: nothing is left for the garbage collector to track
            # (a tuple per row waiting in the buffer made its full collections run often).
            cells += (
                features,
                prediction,
                probability,
                id,
                latency_ms,
                _now() if timestamp is None else timestamp,
            )
        elif self.closed:
            raise MonitorClosedError(
                f"log() on a closed Monitor of {self.model!r} {self.version!r}"
            )
        else:
            self._overflow(rows=1)
        return id

    def log_batch(
        self,
        data: Any,
        predictions: Sequence[Any] | None = None,
        probabilities: Sequence[float | Mapping[str, float]] | None = None,
        ids: Sequence[str] | None = None,
        latency_ms: Sequence[float] | None = None,
        timestamp: float | datetime | None = None,
    ) -> list[str]:
        """Record a batch given column-wise (a dict of arrays or a data frame) or as a 2-D
        array whose columns are the schema's features in order (mapped to their names once
        the schema is known, so it may be logged before the collector answered)."""
        if self.closed:
            raise MonitorClosedError(f"log_batch() on a closed Monitor of {self.model!r}")
        arrays = _as_arrays(data)
        n = _batch_length(arrays, predictions)
        given = {
            "predictions": predictions,
            "probabilities": probabilities,
            "ids": ids,
            "latency_ms": latency_ms,
        }
        for name, values in given.items():
            if values is not None and len(values) != n:
                raise InvalidInputError(
                    f"log_batch: {name} has {len(values)} values for {n} rows", field=name
                )
        if ids is None:
            ids = [f"{self._prefix}{next(self._ids)}" for _ in range(n)]
        ts = time.time() if timestamp is None else timestamp
        entry = e.BatchEntry(arrays, predictions, probabilities, list(ids), latency_ms, ts, n)
        self._put(entry, rows=n)
        return list(ids)

    def log_label(self, id: str, label: Any) -> None:
        """Record the true outcome of prediction ``id`` (it may arrive much later)."""
        self.log_labels([id], [label])

    def log_labels(self, ids: Sequence[str], labels: Sequence[Any]) -> None:
        """Record true outcomes of several predictions (for one id, the newest wins)."""
        if self.closed:
            raise MonitorClosedError("log_labels() on a closed Monitor")
        if len(ids) != len(labels):
            raise InvalidInputError(
                f"log_labels: {len(labels)} labels for {len(ids)} ids", field="labels"
            )
        self._put(e.LabelsEntry(list(ids), list(labels), time.time()), labels=len(ids))

    def log_error(self, exc: BaseException | None = None, latency_ms: float | None = None) -> None:
        """Count a failed prediction (and its latency) in the current window."""
        self.log_request(latency_ms, error=True)

    def log_request(
        self, latency_ms: float | None, *, error: bool = False, first_byte_ms: float | None = None
    ) -> None:
        """Count one served request and its latency, without a row of features
        (what the ASGI middleware records); ``first_byte_ms``: the time to the first byte
        of a streamed response."""
        if not self.closed:
            self._put(e.RequestEntry(latency_ms, time.time(), error, first_byte_ms))

    def _put(self, entry: e.BatchEntry | e.LabelsEntry | e.RequestEntry, **n: int) -> None:
        if len(self._others) < self.buffer_rows:
            self._others.append(entry)
        else:
            self._overflow(**n)

    def _overflow(self, rows: int = 0, labels: int = 0) -> None:
        """Count what a full buffer refused (``buffer_rows`` calls were waiting)."""
        reason = f"the buffer was full ({self.buffer_rows} calls waiting)"
        self._ledger.refuse({"rows": rows, "records": rows, "labels": labels}, reason)
        if not rows and not labels:
            self._counts["requests_dropped"] += 1

    @property
    def last_id(self) -> str | None:
        """The id of the latest call of a :meth:`watch`-ed function in this thread or task."""
        return current_id.get()

    @property
    def feature_names(self) -> list[str] | None:
        """The schema's features in order, once the schema is known."""
        return self._spec.schema.names(role="feature") if self._spec is not None else None

    def watch(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Decorate a predict function (plain, ``async def``, or an async generator): time
        it, log its input and output, count its errors (:mod:`sightline.sdk.watch`).

        The first argument is taken as the features (a mapping, or a sequence of values in
        the schema's feature order); each call's id is :attr:`last_id`.
        """
        return watch(self, fn)

    def count_watch_error(self, exc: Exception) -> None:
        """A watched call (or forward pass) that could not be logged: counted, the first
        one logged at WARNING, the others at DEBUG."""
        self._counts["watch_errors"] += 1
        first = self._counts["watch_errors"] == 1
        level = logging.WARNING if first else logging.DEBUG
        log.log(level, "sightline: a watched call could not be logged: %r", exc)

    # -- flushing and closing ------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Process everything logged so far, send it, and wait for the collector's
        acknowledgement (at most ``timeout`` seconds). True when everything was delivered
        (or, without a collector, processed); False on timeout, or when the collector
        refused the model version."""
        limit = self._timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        done = threading.Event()
        with self._lock:
            self._flushes.append(done)
        self._wake.set()
        if not done.wait(limit) or not self._thread.is_alive() or self._refusal is not None:
            return False
        if self._delivery is None:
            return True
        return self._delivery.flush(max(0.0, deadline - time.monotonic()))

    def close(self, timeout: float | None = None) -> None:
        """Flush, say goodbye (a last heartbeat with ``closed: true``), then stop. With the
        collector down, what is unsent stays in the spool."""
        if self.closed:
            return
        limit = self._timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        self.closed = True  # from now on log() raises: nothing logged after the last flush
        self._max_cells = 0
        self.flush(limit)
        self._stop.set()
        self._wake.set()
        self._thread.join(max(0.1, deadline - time.monotonic()))
        if self._delivery is not None:
            self._delivery.close(max(0.1, deadline - time.monotonic()))
        if self._client is not None:
            self._client.close()
        _LIVE.discard(self)

    def stats(self) -> dict[str, Any]:
        """Where everything logged went, and what the monitor did.

        - ``logged``, ``rows``, ``invalid``, ``dropped``, ``pending``: rows given to
          ``log``/``log_batch``; profiled and handed to the delivery; refused (a timestamp
          or latency that is not a number); lost (buffer full, payload refused or not
          kept); still waiting. ``rows + invalid + dropped + pending == logged`` always;
          ``pending`` is 0 after a successful :meth:`flush`.
        - ``records`` and ``labels``: the same counters (``kept`` for ``rows``) for the
          prediction records (one per row, for label joins) and the labels.
        - ``requests``, ``errors``: requests counted without features, failed ones;
          ``requests_dropped``: of those, refused by a full buffer.
        - ``watch_errors``: watched calls that could not be logged; ``spec_failures``:
          failed reads of the model version; ``spec_<status>``: refusals by status.
        - ``unknown_columns``: keys the schema lacks, with how many rows had them.
        - ``delivery``: the :class:`~sightline.sdk.transport.DeliveryStats` (payloads).
        """
        with self._ledger.lock:
            others = list(self._others)
            buffered_rows = len(self._cells) // e.ROW_WIDTH + sum(
                x.n for x in others if isinstance(x, e.BatchEntry)
            )
            buffered_labels = sum(len(x.ids) for x in others if isinstance(x, e.LabelsEntry))
            snap = self._ledger.snapshot(
                {"rows": buffered_rows, "records": buffered_rows, "labels": buffered_labels}
            )
        out: dict[str, Any] = dict(self._counts)
        rows = snap["rows"]
        out.update(
            logged=rows["logged"],
            rows=rows["kept"],
            invalid=rows["invalid"],
            dropped=rows["dropped"],
            pending=rows["pending"],
            records=snap["records"],
            labels=snap["labels"],
            unknown_columns=dict(self._unknown),
        )
        for name in ("requests", "errors"):
            out.setdefault(name, 0)
        if self._delivery is not None:
            out["delivery"] = self._delivery.stats
        return out

    def _payload_lost(self, payload: Payload) -> None:
        """The delivery lost ``payload`` (refused, no room to keep it, or deleted by the full
        spool): count what it held."""
        kind = _LEDGER_KIND.get(kind_of(payload.path))
        if kind is not None and payload.count:
            reason = f"a payload was not delivered ({payload.method} {payload.path})"
            self._ledger.lose(kind, payload.count, reason, was_kept=True)  # type: ignore[arg-type]

    # -- the background thread -----------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self._tick)
            self._wake.clear()
            with self._lock:
                waiting, self._flushes = self._flushes, []
            try:
                self._process(final=bool(waiting) or self._stop.is_set())
            except Exception:  # the thread must survive anything
                log.exception("sightline monitor: processing failed")
            for event in waiting:
                event.set()
            if self._stop.is_set():
                return

    def _drain(self) -> None:
        """Take everything buffered, counting it as logged (under the ledger's lock, so
        that :meth:`stats` never counts a call twice or not at all)."""
        with self._ledger.lock:
            cells = _take_cells(self._cells)
            others = _take_all(self._others)
            n_rows = len(cells) // e.ROW_WIDTH
            n_rows += sum(x.n for x in others if isinstance(x, e.BatchEntry))
            self._ledger.add("rows", logged=n_rows)
            self._ledger.add("records", logged=n_rows)
        if self._waiting_rows:
            self._waiting_rows += cells
        else:  # the common case: no copy of what was just taken
            self._waiting_rows = cells
        for entry in others:
            if isinstance(entry, e.LabelsEntry):
                labels, invalid = e.label_records(entry)
                self._ledger.add("labels", logged=len(entry.ids), invalid=invalid)
                self._labels.extend(labels)
            else:
                self._waiting.append(entry)

    def _process(self, *, final: bool) -> None:
        self._drain()
        if self._spec is None:
            self._spec = self._resolve_spec(final=final)
        if self._refusal is not None:
            self._drop_waiting(f"refused: {self._refusal}")
        elif self._spec is None:
            self._bound_waiting()
        else:
            rows, self._waiting_rows = self._waiting_rows, []
            others, self._waiting = self._waiting, []
            self._absorb(self._spec, rows, others)
        self._ship(final=final)
        self._ship_labels()
        now = time.time()
        if self.closed and final and not self._said_goodbye:
            self._said_goodbye = True
            self._heartbeat(now, closed=True)
        elif (final and not self.closed) or now - self._last_beat >= min(self.window, 30.0):
            self._heartbeat(now)

    def _bound_waiting(self) -> None:
        """Rows waiting for the model version beyond ``buffer_rows``: the oldest go."""
        excess = len(self._waiting_rows) // e.ROW_WIDTH - self.buffer_rows
        if excess > 0:
            del self._waiting_rows[: excess * e.ROW_WIDTH]
            reason = "the buffer was full while waiting for the model version"
            self._ledger.lose("rows", excess, reason)
            self._ledger.lose("records", excess, reason)

    def _drop_waiting(self, reason: str) -> None:
        n = len(self._waiting_rows) // e.ROW_WIDTH
        n += sum(x.n for x in self._waiting if isinstance(x, e.BatchEntry))
        self._waiting_rows, self._waiting = [], []
        self._ledger.lose("rows", n, reason)
        self._ledger.lose("records", n, reason)

    def _absorb(
        self,
        spec: Spec,
        rows: list[Any],
        others: list[e.BatchEntry | e.RequestEntry],
    ) -> None:
        if rows:
            self._absorb_rows(spec, rows)
        for entry in others:
            if isinstance(entry, e.RequestEntry):
                self._absorb_request(entry)
            else:
                self._absorb_batch(spec, entry)

    def _absorb_request(self, entry: e.RequestEntry) -> None:
        lat, bad = e.latencies([entry.latency_ms])
        seconds = e.epoch(entry.timestamp)
        w = self._window(align(seconds, self.window))
        w.add(cols.Columns(), lat[~bad & np.isfinite(lat)], served=1, errors=int(entry.error))
        if entry.first_byte_ms is not None:
            first, wrong = e.latencies([entry.first_byte_ms])
            w.profile.record_first_byte(first[~wrong & np.isfinite(first) & (first >= 0)])
        self._counts["errors" if entry.error else "requests"] += 1

    def _absorb_rows(self, spec: Spec, cells: list[Any]) -> None:
        """Rows of ``log`` (their cells), column by column, split by window; unreadable
        ones counted."""
        features, predictions, probabilities, ids, latencies, stamps = e.row_columns(cells)
        group = _RowGroup(features, predictions, probabilities, ids, *_times(stamps, latencies))
        bad = np.isnan(group.seconds) | group.bad_latency
        if bad.any():
            self._ledger.add("rows", invalid=int(bad.sum()))
            self._ledger.add("records", invalid=int(bad.sum()))
            group = group.take(np.flatnonzero(~bad))
            if not len(group):
                return
        starts = align(group.seconds, self.window)
        if starts[0] == starts[-1] and (starts == starts[0]).all():
            self._absorb_group(spec, float(starts[0]), group)
            return
        for start in np.unique(starts):
            self._absorb_group(spec, float(start), group.take(np.flatnonzero(starts == start)))

    def _absorb_group(self, spec: Spec, start: float, group: _RowGroup) -> None:
        """The rows of one window into its profile and records; rows that cannot be
        turned into columns are found by halving and counted invalid."""
        try:
            columns = self._columns(spec, group)
        except Exception as exc:
            if len(group) == 1:
                log.debug("sightline: a row could not be profiled: %s", exc)
                self._ledger.add("rows", invalid=1)
                self._ledger.add("records", invalid=1)
                return
            half = len(group) // 2
            self._absorb_group(spec, start, group.take(np.arange(half)))
            self._absorb_group(spec, start, group.take(np.arange(half, len(group))))
            return
        self._unknown.update(columns.unknown)
        w = self._window(start)
        lat = group.latency[np.isfinite(group.latency)]
        errors = failed(spec, columns)
        w.add(columns, lat, served=len(group), rows=len(group), ids=group.ids, errors=errors)
        w.add_records(group.ids, group.seconds, group.predictions, group.probabilities)
        if self.sample_rows:
            w.add_samples(group.features)

    def _columns(self, spec: Spec, group: _RowGroup) -> cols.Columns:
        extra: dict[str, Sequence[Any]] = {}
        if spec.prediction:
            extra[spec.prediction] = group.predictions
        extra.update(cols.probability_columns(spec.probabilities, group.probabilities))
        return cols.from_rows(spec.schema, group.features, extra)

    def _absorb_batch(self, spec: Spec, entry: e.BatchEntry) -> None:
        seconds = e.epoch(entry.timestamp)
        n = entry.n
        try:
            if math.isnan(seconds):
                raise InvalidInputError("timestamp is not a time", field="timestamp")
            columns = self._batch_columns(spec, entry)
            lat, bad = e.latencies(list(entry.latency_ms or ()))
            if bad.any():
                raise InvalidInputError("latency_ms holds a value that is not a number")
        except Exception as exc:
            log.debug("sightline: a batch could not be profiled: %s", exc)
            self._ledger.add("rows", invalid=n)
            self._ledger.add("records", invalid=n)
            return
        self._unknown.update(columns.unknown)
        w = self._window(align(seconds, self.window))
        errors = failed(spec, columns)
        w.add(columns, lat[np.isfinite(lat)], served=n, rows=n, ids=entry.ids, errors=errors)
        none = [None] * n
        w.add_records(
            entry.ids,
            np.full(n, seconds),
            none if entry.predictions is None else list(entry.predictions),
            none if entry.probabilities is None else list(entry.probabilities),
        )

    def _batch_columns(self, spec: Spec, entry: e.BatchEntry) -> cols.Columns:
        arrays = _named(entry.data, spec.schema.names(role="feature"))
        if spec.prediction and entry.predictions is not None:
            arrays[spec.prediction] = entry.predictions
        if entry.probabilities is not None:
            arrays.update(cols.probability_columns(spec.probabilities, entry.probabilities))
        return cols.from_arrays(spec.schema, arrays, entry.n)

    def _window(self, start: float) -> Window:
        w = self._windows.get(start)
        if w is None:
            self._take_reference_bins()
            assert self._spec is not None
            w = Window(
                self._spec,
                start,
                self.window,
                model=self.model,
                version=self.version,
                instance=self.instance,
                sample_rows=self.sample_rows,
            )
            self._windows[start] = w
        return w

    # -- payloads ------------------------------------------------------------------------

    def _base(self) -> str:
        return f"/api/v1/models/{self.model}/versions/{self.version}"

    def _submit(
        self,
        path: str,
        body: bytes,
        content_type: str,
        items: str | None,
        method: str = "POST",
        count: int = 0,
    ) -> None:
        """Queue a payload; with a full queue (and no spool), wait for room while the
        collector answers, at most ``timeout`` seconds (log() is not slowed: its rows wait
        in the buffer)."""
        if self._delivery is None:
            return
        key = f"{self.instance}-{next(self._seq)}"
        payload = Payload(path, key, body, content_type, items, method, count)
        self._delivery.submit(payload, wait=self._timeout)

    def _ship(self, *, final: bool) -> None:
        """Records of every window now; a window's profile every ``ship_interval``
        seconds and when it ends; its samples when it ends."""
        now, clock = time.time(), time.monotonic()
        partial = clock - self._last_ship >= self.ship_interval
        if partial:
            self._last_ship = clock
        for start in sorted(self._windows):
            w = self._windows[start]
            for body, n in w.take_records():
                self._submit(f"{self._base()}/predictions", body, JSON, "records", count=n)
                self._ledger.add("records", kept=n)
            ended = final or w.end <= now
            if ended or partial:
                part = w.take_profile()
                if part is not None:
                    body, rows = part
                    self._submit(f"{self._base()}/profiles", body, PROFILE, None, count=rows)
                    self._ledger.add("rows", kept=rows)
            if ended:
                del self._windows[start]
                assert self._spec is not None
                samples = w.sample_body(set(self._spec.schema.names()))
                if samples is not None:
                    self._submit(f"{self._base()}/samples", samples, JSON, "rows")

    def _ship_labels(self) -> None:
        """The labels of this tick, the newest per id (the others it supersedes count as
        kept: the collector would join the newest anyway)."""
        labels = e.newest_label_per_id(self._labels)
        if len(labels) < len(self._labels):
            self._ledger.add("labels", kept=len(self._labels) - len(labels))
        self._labels = []
        for i in range(0, len(labels), MAX_RECORDS):
            chunk = labels[i : i + MAX_RECORDS]
            body = json.dumps({"labels": chunk}).encode()
            path = f"/api/v1/models/{self.model}/labels"
            self._submit(path, body, JSON, "labels", count=len(chunk))
            self._ledger.add("labels", kept=len(chunk))

    def _heartbeat(self, now: float, *, closed: bool = False) -> None:
        self._last_beat = now
        beat = {
            "instance": self.instance,
            "host": socket.gethostname()[:200] or "unknown",
            "pid": os.getpid(),
            "started_at": _iso(self.started_at),
            "dropped": self._ledger.total_dropped(),
            "closed": closed,
        }
        self._submit(f"{self._base()}/heartbeats", json.dumps(beat).encode(), JSON, None)

    # -- the model version ---------------------------------------------------------------

    def _resolve_spec(self, *, final: bool) -> Spec | None:
        """The spec from the collector (registering the version when it does not know
        it), or from ``schema`` or the first rows when there is no collector. With the
        collector unreachable, at ``close`` or once ``buffer_rows`` rows wait: the local
        spec, registered through the delivery queue (spooled with the data)."""
        if self._client is None:
            return self._local_spec()
        if self._refusal is not None:
            return None
        if not (final and self._unreachable):
            try:
                spec = self._spec_from_collector(self._client)
                self._unreachable = False
                return spec
            except (httpx.TransportError, _Unreachable) as exc:
                self._unreachable = True
                self._counts["spec_failures"] += 1
                log.debug("sightline: cannot reach the collector for the version: %s", exc)
            except (httpx.HTTPError, SightlineError, ValueError, KeyError) as exc:
                self._counts["spec_failures"] += 1
                log.debug("sightline: cannot read the model version yet: %s", exc)
                return None
        if not (final or len(self._waiting_rows) >= self._max_cells):
            return None
        spec = self._local_spec()
        if spec is not None:
            log.warning(
                "sightline: the collector %s is unreachable; %s %s is registered from %s "
                "through the delivery queue, which keeps the data until it answers",
                self.url,
                self.model,
                self.version,
                "the given schema" if self._schema is not None else "the first rows",
            )
            self._register(spec)
        return spec

    def _take_reference_bins(self) -> None:
        """Without bins yet (no reference when the spec was resolved), ask the collector
        again as each window opens: once a reference is uploaded, new windows bin on it.
        (Windows without bins still arrive: the collector keeps them for health.)"""
        spec = self._spec
        if self._client is None or spec is None or spec.edges or spec.vocabularies:
            return
        if self._unreachable:
            return
        try:
            fresh = self._spec_from_collector(self._client, register=False)
        except (httpx.HTTPError, SightlineError, ValueError, KeyError, _Unreachable) as exc:
            log.debug("sightline: cannot read the model version: %s", exc)
            return
        if (
            fresh is not None
            and fresh.schema == spec.schema
            and (fresh.edges or fresh.vocabularies)
        ):
            self._spec = fresh

    def _local_spec(self) -> Spec | None:
        schema = self._schema or _infer(self._waiting_rows, self._waiting)
        return Spec(schema) if schema is not None else None

    def _spec_from_collector(self, client: httpx.Client, *, register: bool = True) -> Spec | None:
        r = client.get(self._base(), timeout=_SPEC_TIMEOUT)
        if r.status_code == 404 and register:
            spec = self._local_spec()
            if spec is None:
                return None
            put = client.put(self._base(), json=spec.schema.to_dict(), timeout=_SPEC_TIMEOUT)
            return spec if put.status_code == 200 else self._refused(put)
        if r.status_code != 200:
            return self._refused(r) if register else None
        body = r.json()
        schema = Schema.from_dict({"columns": body["columns"]})
        if not body["has_reference"]:
            return Spec(schema)
        ref = client.get(f"{self._base()}/reference", timeout=_SPEC_TIMEOUT)
        if ref.status_code != 200:
            return self._refused(ref)
        return Spec.of_reference(Profile.from_bytes(ref.content))

    def _refused(self, response: httpx.Response) -> Spec | None:
        """A retryable answer: unreachable for now. Any other: the collector refused the
        model version for good; what waits for it is dropped and counted, once logged."""
        status = response.status_code
        self._counts[f"spec_{status}"] += 1
        if is_retryable(status):
            raise _Unreachable(f"HTTP {status}")
        self._refusal = f"HTTP {status} for {self.model} {self.version}: {response.text[:300]}"
        log.error(
            "sightline: the collector refused the model version (%s); the rows logged "
            "are dropped and counted in stats()['dropped']",
            self._refusal,
        )
        return None


def _take_cells(cells: list[Any]) -> list[Any]:
    """The cells of the rows in ``cells``, removed (other threads may go on appending: what
    they append now stays for the next call; each ``+=`` of a row is atomic)."""
    n = len(cells)
    taken = cells[:n]
    del cells[:n]
    return taken


def _take_all(buffer: deque[Any]) -> list[Any]:
    """The items of ``buffer``, oldest first, removed one by one (other threads may go on
    appending: what they append now stays for the next call). Only this thread takes."""
    return list(itertools.starmap(buffer.popleft, itertools.repeat((), len(buffer))))


def _close_quietly(ref: weakref.ref[Monitor]) -> None:
    monitor = ref()
    if monitor is not None:
        try:
            monitor.close()
        except Exception:  # interpreter exit: never fail here
            log.debug("sightline: close at exit failed", exc_info=True)


def _finalize_in_child(monitor: Monitor) -> None:
    """In a ``multiprocessing`` child: close the monitor in its exit finalizers."""
    mp_util = sys.modules["multiprocessing.util"]
    mp_util.Finalize(monitor, _close_quietly, args=(weakref.ref(monitor),), exitpriority=10)


def _after_fork_in_child() -> None:
    for monitor in list(_LIVE):
        monitor._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _load(reference: Profile | str | Path) -> Profile:
    return reference if isinstance(reference, Profile) else Profile.load(reference)


def _iso(ts: float) -> str:
    """An ISO 8601 UTC time (the collector reads times as ISO strings only)."""
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _times(
    stamps: Sequence[Any], latencies: Sequence[Any]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    lat, bad = e.latencies(latencies)
    return e.seconds(stamps), lat, bad


@dataclass(frozen=True, slots=True)
class _RowGroup:
    """Rows of ``log``, column by column."""

    features: Sequence[Any]
    predictions: Sequence[Any]
    probabilities: Sequence[Any]
    ids: Sequence[str]
    seconds: npt.NDArray[np.float64]
    latency: npt.NDArray[np.float64]
    bad_latency: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: npt.NDArray[np.intp]) -> _RowGroup:
        """The rows at ``index``."""

        def pick(values: Sequence[Any]) -> list[Any]:
            return [values[i] for i in index]

        return _RowGroup(
            pick(self.features),
            pick(self.predictions),
            pick(self.probabilities),
            pick(self.ids),
            self.seconds[index],
            self.latency[index],
            self.bad_latency[index],
        )


def _batch_length(arrays: dict[str, Any] | np.ndarray, predictions: Any) -> int:
    if isinstance(arrays, np.ndarray):
        return int(arrays.shape[0])
    lengths = {name: len(values) for name, values in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise InvalidInputError(
            f"log_batch: the columns have different lengths {lengths}", field="data"
        )
    return next(iter(lengths.values())) if lengths else len(predictions or ())


def _as_arrays(data: Any) -> dict[str, Any] | np.ndarray:
    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise InvalidInputError(
                f"a log_batch array must be 2-D (rows x features), got {data.ndim} dimensions",
                field="data",
            )
        return data.copy()  # the caller may reuse its buffer
    if isinstance(data, Mapping):
        return dict(data)
    if hasattr(data, "columns") and hasattr(data, "__getitem__"):
        return {
            str(c): data[c].to_numpy() if hasattr(data[c], "to_numpy") else data[c]
            for c in data.columns
        }
    raise InvalidInputError("log_batch takes a dict of arrays or a data frame", field="data")


def _named(data: dict[str, Any] | np.ndarray, features: list[str]) -> dict[str, Any]:
    """Column-wise data by name; a matrix's columns are ``features`` in order (columns
    beyond them are named by position, and counted as unknown)."""
    if not isinstance(data, np.ndarray):
        return dict(data)
    names = features + [f"column {i}" for i in range(len(features), data.shape[1])]
    return {name: data[:, i] for i, name in enumerate(names[: data.shape[1]])}


def _infer(cells: list[Any], others: Sequence[e.BatchEntry | e.RequestEntry]) -> Schema | None:
    """A schema from the first logged row (or batch): numbers numeric, anything else
    categorical; a matrix's columns are ``x0``, ``x1``, ..."""
    each_features, predictions, probabilities, *_ = e.row_columns(cells)
    for features, prediction, probability in zip(
        each_features, predictions, probabilities, strict=True
    ):
        if isinstance(features, Mapping):
            kinds = {str(k): cols.kind_of(v) for k, v in features.items()}
            return _schema(kinds, prediction, probability is not None)
    for entry in others:
        if not isinstance(entry, e.BatchEntry) or entry.n == 0:
            continue
        if isinstance(entry.data, np.ndarray):
            kind: ColumnKind = "numeric" if entry.data.dtype.kind in "iufb" else "categorical"
            kinds = {f"x{j}": kind for j in range(entry.data.shape[1])}
        else:
            kinds = {str(k): cols.kind_of(v[0]) for k, v in entry.data.items()}
        first = entry.predictions[0] if entry.predictions is not None else None
        return _schema(kinds, first, entry.probabilities is not None)
    return None


def _schema(kinds: dict[str, ColumnKind], prediction: Any, has_probability: bool) -> Schema:
    columns = [Column(k, kind=kind) for k, kind in kinds.items()]
    if prediction is not None:
        numeric = e.is_number(prediction)
        columns.append(
            Column("prediction", role="prediction", kind="numeric")
            if numeric
            else Column("prediction", role="prediction", kind="categorical")
        )
    if has_probability:
        columns.append(Column("probability", role="probability"))
    return Schema(tuple(columns))
