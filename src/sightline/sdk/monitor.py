"""The Monitor: log predictions in microseconds; profile and ship them in the background.

``log`` only appends a tuple to a bounded deque. A daemon thread wakes every ``tick``
seconds, turns the buffered rows into column arrays, updates the profile of each window,
and hands payloads (profiles, prediction records, samples, labels, heartbeats) to
:class:`~sightline.sdk.transport.Delivery`, which retries and spools them.
"""

from __future__ import annotations

import atexit
import contextvars
import functools
import itertools
import json
import logging
import os
import secrets
import socket
import threading
import time
import weakref
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import httpx
import numpy as np
import numpy.typing as npt

from sightline.errors import InvalidInputError, SightlineError
from sightline.profile import Column, Profile, Schema
from sightline.sdk import columns as cols
from sightline.sdk.transport import Delivery, Payload
from sightline.sdk.window import MAX_RECORDS, Spec, Window, window_start

log = logging.getLogger("sightline.sdk")
P = ParamSpec("P")
R = TypeVar("R")

JSON = "application/json"
PROFILE = "application/x-sightline-profile"
_current_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "sightline_prediction_id", default=None
)
_LIVE: weakref.WeakSet[Monitor] = weakref.WeakSet()


class MonitorClosedError(SightlineError):
    """``log`` was called on a closed monitor."""


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"SIGHTLINE_{name}", default)


def _new_instance() -> str:
    return f"{socket.gethostname()[:80]}-{os.getpid()}-{secrets.token_hex(3)}"


class Monitor:
    """Logs the predictions of one model version and ships them to a collector.

    Every argument may come from the environment instead: ``SIGHTLINE_MODEL``,
    ``SIGHTLINE_VERSION``, ``SIGHTLINE_URL``, ``SIGHTLINE_API_KEY``, ``SIGHTLINE_WINDOW``,
    ``SIGHTLINE_SPOOL_DIR``, ``SIGHTLINE_SAMPLE_ROWS``.

    The model version's schema and reference come from ``reference`` (a profile or a
    profile file) or from the collector (``GET`` the version; registered from ``schema``,
    or from the first rows, when the collector does not know it). Until then rows wait in
    the buffer (``buffer_rows``; beyond it the oldest are dropped and counted).

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
        window: float | None = None,
        spool_dir: str | Path | None = None,
        sample_rows: int | None = None,
        schema: Schema | None = None,
        reference: Profile | str | Path | None = None,
        buffer_rows: int = 100_000,
        tick: float = 0.5,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.model = model or _env("MODEL") or ""
        self.version = version or _env("VERSION") or ""
        if not self.model or not self.version:
            raise InvalidInputError("Monitor needs a model and a version", field="model")
        self.url = (url if url != "" else _env("URL")) or None
        self.api_key = api_key or _env("API_KEY")
        self.window = float(window or _env("WINDOW", "60") or 60)
        if not self.window > 0:
            raise InvalidInputError(
                f"window must be > 0 seconds, got {self.window}", field="window"
            )
        spool = spool_dir or _env("SPOOL_DIR")
        self.sample_rows = int(
            sample_rows if sample_rows is not None else _env("SAMPLE_ROWS", "1000") or 0
        )
        self._schema = schema
        self._reference = _load(reference) if reference is not None else None
        self._spec = Spec.of_reference(self._reference) if self._reference is not None else None
        if self._spec is None and schema is not None and self.url is None:
            self._spec = Spec(schema)
        self._tick, self._timeout = tick, timeout
        self._transport = transport
        self._spool = Path(spool) if spool else None
        self._buffer: deque[tuple[Any, ...]] = deque(maxlen=buffer_rows)
        self._pending: list[tuple[Any, ...]] = []
        self._closed = False
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
        self._buffer.clear()
        self._pending = []
        self._windows: dict[float, Window] = {}
        self._labels: list[dict[str, Any]] = []
        self._counts: Counter[str] = Counter()
        self._unknown: Counter[str] = Counter()
        self._last_beat = 0.0
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
            )
            if self.url
            else None
        )
        if self._delivery is not None:
            self.instance = self._delivery.instance_id
            self._prefix = f"{self.instance}-"
            self._register_local_spec()
        self._thread = threading.Thread(target=self._run, name="sightline-monitor", daemon=True)
        self._thread.start()

    def _register_local_spec(self) -> None:
        """With a local reference or schema, register them first in the delivery queue, so
        that the collector knows the version before any data (even after an outage)."""
        if self._spec is None:
            return
        schema = json.dumps(self._spec.schema.to_dict()).encode()
        self._submit(self._base(), schema, JSON, None, method="PUT")
        if self._reference is not None:
            body = self._reference.to_bytes()
            self._submit(f"{self._base()}/reference", body, PROFILE, None, method="PUT")

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _after_fork(self) -> None:
        """In a forked child: a fresh monitor of its own (the parent's rows stay the parent's)."""
        if not self._closed:
            self._start()

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

        Costs about a microsecond: the row is appended to a buffer and processed later.
        """
        if self._closed:
            raise MonitorClosedError(
                f"log() on a closed Monitor of {self.model!r} {self.version!r}"
            )
        if id is None:
            id = f"{self._prefix}{next(self._ids)}"
        ts = time.time() if timestamp is None else timestamp
        self._buffer.append(("row", features, prediction, probability, id, latency_ms, ts))
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
        if self._closed:
            raise MonitorClosedError(f"log_batch() on a closed Monitor of {self.model!r}")
        arrays = _as_arrays(data)
        if isinstance(arrays, np.ndarray):
            n = arrays.shape[0]
        else:
            n = len(next(iter(arrays.values()))) if arrays else len(predictions or ())
        if ids is None:
            ids = [f"{self._prefix}{next(self._ids)}" for _ in range(n)]
        ts = time.time() if timestamp is None else timestamp
        self._buffer.append(
            ("batch", arrays, predictions, probabilities, list(ids), latency_ms, ts, n)
        )
        return list(ids)

    def log_label(self, id: str, label: Any) -> None:
        """Record the true outcome of prediction ``id`` (it may arrive much later)."""
        self.log_labels([id], [label])

    def log_labels(self, ids: Sequence[str], labels: Sequence[Any]) -> None:
        """Record true outcomes of several predictions."""
        if self._closed:
            raise MonitorClosedError("log_labels() on a closed Monitor")
        self._buffer.append(("labels", list(ids), list(labels), time.time()))

    def log_error(self, exc: BaseException | None = None, latency_ms: float | None = None) -> None:
        """Count a failed prediction (and its latency) in the current window."""
        self.log_request(latency_ms, error=True)

    def log_request(self, latency_ms: float | None, *, error: bool = False) -> None:
        """Count one served request and its latency, without a row of features
        (what the ASGI middleware records)."""
        if not self._closed:
            self._buffer.append(("request", latency_ms, time.time(), error))

    @property
    def last_id(self) -> str | None:
        """The id of the latest call of a :meth:`watch`-ed function in this thread or task."""
        return _current_id.get()

    def watch(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Decorate a predict function: time it, log its input and output, count its errors.

        The first argument is taken as the features (a mapping, or a sequence of values in
        the schema's feature order); each call's id is :attr:`last_id`.
        """

        @functools.wraps(fn)
        def watched(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                out = fn(*args, **kwargs)
            except Exception as exc:
                self.log_error(exc, (time.perf_counter() - started) * 1000)
                raise
            elapsed = (time.perf_counter() - started) * 1000
            try:
                features = args[0] if args else next(iter(kwargs.values()), {})
                _current_id.set(
                    self.log(_features(features, self._spec), prediction=out, latency_ms=elapsed)
                )
            except MonitorClosedError:
                raise
            except Exception as exc:  # monitoring trouble never reaches the caller
                self._counts["watch_errors"] += 1
                log.debug("watch could not log a call: %s", exc)
            return out

        return watched

    # -- flushing and closing ------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Process everything logged so far, send it, and wait for the collector's
        acknowledgement (at most ``timeout`` seconds). True when everything was delivered
        (or, without a collector, processed)."""
        limit = self._timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        done = threading.Event()
        with self._lock:
            self._flushes.append(done)
        self._wake.set()
        if not done.wait(limit) or not self._thread.is_alive():
            return False
        if self._delivery is None:
            return True
        return self._delivery.flush(max(0.0, deadline - time.monotonic()))

    def close(self, timeout: float | None = None) -> None:
        """Flush, then stop. With the collector down, what is unsent stays in the spool."""
        if self._closed:
            return
        limit = self._timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        self.flush(limit)
        self._closed = True
        self._stop.set()
        self._wake.set()
        self._thread.join(max(0.1, deadline - time.monotonic()))
        if self._delivery is not None:
            self._delivery.close(max(0.1, deadline - time.monotonic()))
        if self._client is not None:
            self._client.close()
        _LIVE.discard(self)

    def stats(self) -> dict[str, Any]:
        """Counters: rows, batches, errors, labels, dropped rows, unknown columns, delivery."""
        out: dict[str, Any] = dict(self._counts)
        out["rows"] = out.get("rows", 0)
        out["dropped"] = self._dropped()
        out["unknown_columns"] = dict(self._unknown)
        if self._delivery is not None:
            out["delivery"] = self._delivery.stats
        return out

    def _dropped(self) -> int:
        delivered = self._delivery.stats.dropped if self._delivery is not None else 0
        return self._counts["buffer_dropped"] + delivered

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

    def _drain(self) -> list[tuple[Any, ...]]:
        items = []
        buf = self._buffer
        while True:
            try:
                items.append(buf.popleft())
            except IndexError:
                return items

    def _process(self, *, final: bool) -> None:
        self._pending.extend(self._drain())
        if self._spec is None:
            self._spec = self._resolve_spec(self._pending)
            if self._spec is None:
                self._bound_pending()
                return
        items, self._pending = self._pending, []
        self._absorb(items)
        now = time.time()
        for start in sorted(self._windows):
            if final or self._windows[start].end <= now:
                self._ship(self._windows.pop(start))  # popped first: never shipped twice
        self._ship_labels()
        if final or now - self._last_beat >= min(self.window, 30.0):
            self._heartbeat(now)

    def _bound_pending(self) -> None:
        limit = self._buffer.maxlen or len(self._pending)
        excess = len(self._pending) - limit
        if excess > 0:
            self._counts["buffer_dropped"] += excess
            del self._pending[:excess]

    def _absorb(self, items: list[tuple[Any, ...]]) -> None:
        spec = self._spec
        assert spec is not None
        rows: list[tuple[Any, ...]] = []
        for item in items:
            kind = item[0]
            if kind == "row":
                rows.append(item)
            elif kind == "labels":
                self._labels.extend(_labels(item))
            elif kind == "request":
                start = window_start(item[2], self.window)
                self._window(start).add(
                    cols.Columns(), _latency([item[1]]), served=1, errors=int(item[3])
                )
                self._counts["errors" if item[3] else "requests"] += 1
            else:
                self._absorb_batch(spec, item)
        if rows:
            self._absorb_rows(spec, rows)

    def _absorb_rows(self, spec: Spec, rows: list[tuple[Any, ...]]) -> None:
        """Rows of ``log``, column by column, split by window."""
        _, features, predictions, probabilities, ids, latencies, stamps = zip(*rows, strict=True)
        seconds = _seconds(stamps)
        starts = np.floor(seconds / self.window) * self.window
        for start in np.unique(starts):
            take = None if starts[0] == starts[-1] == start else np.flatnonzero(starts == start)
            group = _RowGroup(
                features=_pick(features, take),
                predictions=_pick(predictions, take),
                probabilities=_pick(probabilities, take),
                ids=_pick(ids, take),
                latencies=_pick(latencies, take),
                seconds=seconds if take is None else seconds[take],
            )
            self._absorb_group(spec, float(start), group)

    def _absorb_group(self, spec: Spec, start: float, group: _RowGroup) -> None:
        extra: dict[str, Sequence[Any]] = {}
        if spec.prediction:
            extra[spec.prediction] = group.predictions
        extra.update(cols.probability_columns(spec.probabilities, group.probabilities))
        columns = cols.from_rows(spec.schema, group.features, extra)
        self._unknown.update(columns.unknown)
        w = self._window(start)
        w.add(columns, _latency(group.latencies), served=len(group.ids))
        w.add_records(group.ids, group.seconds, group.predictions, group.probabilities)
        if self.sample_rows:
            w.add_samples([f for f in group.features if isinstance(f, Mapping)])
        self._counts["rows"] += len(group.ids)

    def _absorb_batch(self, spec: Spec, item: tuple[Any, ...]) -> None:
        _, data, predictions, probabilities, ids, latencies, ts, n = item
        arrays = _named(data, spec.schema.names(role="feature"))
        if spec.prediction and predictions is not None:
            arrays[spec.prediction] = predictions
        if probabilities is not None:
            arrays.update(cols.probability_columns(spec.probabilities, probabilities))
        columns = cols.from_arrays(spec.schema, arrays, n)
        self._unknown.update(columns.unknown)
        w = self._window(window_start(_epoch(ts), self.window))
        w.add(columns, _latency(latencies or ()), served=n)
        none = [None] * n
        w.add_records(
            ids,
            np.full(n, _epoch(ts)),
            none if predictions is None else list(predictions),
            none if probabilities is None else list(probabilities),
        )
        self._counts["rows"] += n

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
        self, path: str, body: bytes, content_type: str, items: str | None, method: str = "POST"
    ) -> None:
        if self._delivery is None:
            return
        key = f"{self.instance}-{next(self._seq)}"
        self._delivery.submit(Payload(path, key, body, content_type, items, method))

    def _ship(self, w: Window) -> None:
        for body in w.take_records():
            self._submit(f"{self._base()}/predictions", body, JSON, "records")
        if w.touched:
            self._submit(f"{self._base()}/profiles", w.profile.to_bytes(), PROFILE, None)
        assert self._spec is not None
        samples = w.sample_body(set(self._spec.schema.names()))
        if samples is not None:
            self._submit(f"{self._base()}/samples", samples, JSON, "rows")

    def _ship_labels(self) -> None:
        for i in range(0, len(self._labels), MAX_RECORDS):
            body = json.dumps({"labels": self._labels[i : i + MAX_RECORDS]}).encode()
            self._submit(f"/api/v1/models/{self.model}/labels", body, JSON, "labels")
        self._labels = []

    def _heartbeat(self, now: float) -> None:
        self._last_beat = now
        beat = {
            "instance": self.instance,
            "host": socket.gethostname()[:200] or "unknown",
            "pid": os.getpid(),
            "started_at": _iso(self.started_at),
            "dropped": self._dropped(),
        }
        self._submit(f"{self._base()}/heartbeats", json.dumps(beat).encode(), JSON, None)

    # -- the model version ---------------------------------------------------------------

    def _resolve_spec(self, items: list[tuple[Any, ...]]) -> Spec | None:
        """The spec from the collector (registering the version when it does not know
        it), or from ``schema`` or the first rows when there is no collector."""
        if self._client is None:
            return self._local_spec(items)
        try:
            return self._spec_from_collector(self._client, items)
        except (httpx.HTTPError, SightlineError, ValueError, KeyError) as exc:
            self._counts["spec_failures"] += 1
            log.debug("sightline: cannot read the model version yet: %s", exc)
            return None

    def _take_reference_bins(self) -> None:
        """Without bins yet (no reference when the spec was resolved), ask the collector
        again as each window opens: once a reference is uploaded, new windows bin on it.
        (Windows without bins still arrive: the collector keeps them for health.)"""
        spec = self._spec
        if self._client is None or spec is None or spec.edges or spec.vocabularies:
            return
        try:  # a short wait: this runs in the thread that profiles the logged rows
            fresh = self._spec_from_collector(self._client, [], timeout=_BINS_CHECK_TIMEOUT)
        except (httpx.HTTPError, SightlineError, ValueError, KeyError) as exc:
            log.debug("sightline: cannot read the model version: %s", exc)
            return
        if (
            fresh is not None
            and fresh.schema == spec.schema
            and (fresh.edges or fresh.vocabularies)
        ):
            self._spec = fresh

    def _local_spec(self, items: list[tuple[Any, ...]]) -> Spec | None:
        schema = self._schema or _infer(items)
        return Spec(schema) if schema is not None else None

    def _spec_from_collector(
        self,
        client: httpx.Client,
        items: list[tuple[Any, ...]],
        timeout: float | Any = httpx.USE_CLIENT_DEFAULT,
    ) -> Spec | None:
        r = client.get(self._base(), timeout=timeout)
        if r.status_code == 404:
            spec = self._local_spec(items)
            if spec is None:
                return None
            put = client.put(self._base(), json=spec.schema.to_dict(), timeout=timeout)
            return spec if put.status_code == 200 else self._refused(put)
        if r.status_code != 200:
            return self._refused(r)
        body = r.json()
        schema = Schema.from_dict({"columns": body["columns"]})
        if not body["has_reference"]:
            return Spec(schema)
        ref = client.get(f"{self._base()}/reference", timeout=timeout)
        if ref.status_code != 200:
            return self._refused(ref)
        return Spec.of_reference(Profile.from_bytes(ref.content))

    def _refused(self, response: httpx.Response) -> Spec | None:
        """Log the collector's refusal once per status; no spec yet (retried next tick)."""
        if self._counts[f"spec_{response.status_code}"] == 0:
            log.warning(
                "sightline: the collector answered %s for %s %s: %s",
                response.status_code,
                self.model,
                self.version,
                response.text[:200],
            )
        self._counts[f"spec_{response.status_code}"] += 1
        return None


#: Seconds a window's opening waits for the collector's reference, at most.
_BINS_CHECK_TIMEOUT = 2.0


def _close_quietly(ref: weakref.ref[Monitor]) -> None:
    monitor = ref()
    if monitor is not None:
        try:
            monitor.close()
        except Exception:  # interpreter exit: never fail here
            log.debug("sightline: close at exit failed", exc_info=True)


def _after_fork_in_child() -> None:
    for monitor in list(_LIVE):
        monitor._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _load(reference: Profile | str | Path) -> Profile:
    return reference if isinstance(reference, Profile) else Profile.load(reference)


def _epoch(ts: float | datetime) -> float:
    return ts.timestamp() if isinstance(ts, datetime) else float(ts)


def _iso(ts: float | datetime) -> str:
    """An ISO 8601 UTC time (the collector reads times as ISO strings only)."""
    moment = ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, UTC)
    return moment.isoformat()


def _seconds(stamps: Sequence[float | datetime]) -> npt.NDArray[np.float64]:
    """Timestamps (epoch seconds or datetimes) as epoch seconds."""
    try:
        return np.array(stamps, dtype=np.float64)
    except TypeError:
        return np.array([_epoch(t) for t in stamps], dtype=np.float64)


def _pick(values: Sequence[Any], take: npt.NDArray[np.intp] | None) -> Sequence[Any]:
    """``values`` at the positions ``take`` (all of them for None)."""
    return values if take is None else [values[i] for i in take]


@dataclass(frozen=True, slots=True)
class _RowGroup:
    """The rows of one window, column by column."""

    features: Sequence[Any]
    predictions: Sequence[Any]
    probabilities: Sequence[Any]
    ids: Sequence[str]
    latencies: Sequence[float | None]
    seconds: npt.NDArray[np.float64]


def _latency(values: Iterable[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None]


def _labels(item: tuple[Any, ...]) -> list[dict[str, Any]]:
    _, ids, labels, ts = item
    out = []
    for i, label in zip(ids, labels, strict=False):
        if isinstance(label, bool):
            label = float(label)
        if isinstance(label, int | float | str):
            out.append({"id": str(i), "label": label, "timestamp": _iso(ts)})
    return out


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


def _features(value: Any, spec: Spec | None) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    if spec is not None and isinstance(value, Sequence | Iterable) and not isinstance(value, str):
        names = spec.schema.names(role="feature")
        return dict(zip(names, list(value), strict=False))
    return {}


def _infer(items: list[tuple[Any, ...]]) -> Schema | None:
    """A schema from the first logged row: numbers numeric, anything else categorical."""
    for item in items:
        if item[0] != "row" or not isinstance(item[1], Mapping):
            continue
        columns = [
            Column(str(k), kind="numeric" if _is_number(v) else "categorical")
            for k, v in item[1].items()
        ]
        if item[2] is not None:
            columns.append(
                Column(
                    "prediction",
                    role="prediction",
                    kind="numeric" if _is_number(item[2]) else "categorical",
                )
            )
        if item[3] is not None:
            columns.append(Column("probability", role="probability"))
        return Schema(tuple(columns))
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
