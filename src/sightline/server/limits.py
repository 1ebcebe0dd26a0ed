"""Request limits of the collector: body size (also after gzip), concurrency, rate per client.

:class:`LimitsMiddleware` is a pure ASGI middleware (no ``BaseHTTPMiddleware``: no extra task
or memory stream per request). It refuses before the application runs, so nothing is stored:

=====  ==========================================================================
413    body over ``max_body_bytes``: declared, received, or after gzip decompression
400    a ``Content-Encoding: gzip`` body that is not valid gzip
415    a content coding other than ``gzip`` or ``identity``
503    ``max_inflight`` requests already in progress (``Retry-After``)
429    the client's token bucket is empty (``Retry-After``)
=====  ==========================================================================

Every refusal is JSON: ``{"error": "<message naming the limit and value>", "field": ...}``
with ``field`` one of ``"body"``, ``"Content-Encoding"`` or null. Admitted requests reach the
application with the whole (decompressed) body in one ``http.request`` message. Exempt paths
(health checks, metrics) skip admission and rate limits but not the body limits.
"""

from __future__ import annotations

import json
import math
import re
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sightline._validate import check_int
from sightline.errors import InvalidInputError

_BEARER = re.compile(rb"(?i:bearer)[ \t]+(sl_[A-Za-z0-9-]{1,64}_\S+)")
_GZIP_WBITS = 31  # zlib: gzip header and trailer, 32 KiB window
_ACCEPTED_CODINGS = b"gzip, identity"


@dataclass(frozen=True)
class RequestLimits:
    """What the collector admits; every size is in bytes.

    ``max_body_bytes`` bounds the body as received and again after decompression.
    A ``PUT`` to a path ending in one of ``upload_suffixes`` (the reference data set) may
    carry up to ``max_upload_bytes``, with at most ``max_uploads`` such bodies in progress.
    ``max_clients`` bounds the token buckets kept (least recently used dropped first).

    >>> RequestLimits(max_body_bytes=1024).max_inflight
    64
    >>> RequestLimits(burst=0)
    Traceback (most recent call last):
    ...
    sightline.errors.InvalidInputError: burst must be an integer >= 1, got 0
    """

    max_body_bytes: int = 8 * 1024 * 1024
    max_inflight: int = 64
    rate_per_second: float = 200.0
    burst: int = 400
    retry_after_seconds: int = 1
    exempt_paths: tuple[str, ...] = ("/healthz", "/readyz", "/metrics")
    max_clients: int = 10_000
    max_upload_bytes: int = 128 * 1024 * 1024
    max_uploads: int = 2
    upload_suffixes: tuple[str, ...] = ("/reference",)

    def __post_init__(self) -> None:
        names = ("max_body_bytes", "max_inflight", "burst", "max_clients")
        for name in (*names, "max_upload_bytes", "max_uploads"):
            check_int(name, getattr(self, name), 1)
        check_int("retry_after_seconds", self.retry_after_seconds, 0)
        rate = self.rate_per_second
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < math.inf:
            raise InvalidInputError(
                f"rate_per_second must be a finite number > 0, got {rate!r}",
                field="rate_per_second",
            )
        for field_name in ("exempt_paths", "upload_suffixes"):
            paths = getattr(self, field_name)
            if not isinstance(paths, tuple) or not all(isinstance(p, str) for p in paths):
                raise InvalidInputError(
                    f"{field_name} must be a tuple of paths, got {paths!r}", field=field_name
                )


@dataclass(slots=True)
class LimitStats:
    """Counters of one middleware, for ``/metrics``: refusals by cause and requests in progress.

    >>> stats = LimitStats()
    >>> stats.record(429)
    >>> stats.rejected_rate, stats.inflight
    (1, 0)
    """

    rejected_too_large: int = 0
    rejected_malformed: int = 0
    rejected_encoding: int = 0
    rejected_rate: int = 0
    rejected_overload: int = 0
    inflight: int = 0
    uploads: int = 0

    def record(self, status: int) -> None:
        """Count one refusal with HTTP ``status`` (413, 400, 415, 429 or 503)."""
        if status == 413:
            self.rejected_too_large += 1
        elif status == 400:
            self.rejected_malformed += 1
        elif status == 415:
            self.rejected_encoding += 1
        elif status == 429:
            self.rejected_rate += 1
        elif status == 503:
            self.rejected_overload += 1


class TokenBuckets:
    """One token bucket per key: ``burst`` tokens, refilled at ``rate`` per second.

    At most ``max_keys`` buckets are kept; the least recently used is dropped first (a
    dropped key comes back with a full bucket).

    >>> clock = iter([0.0, 0.0, 0.0, 1.0]).__next__
    >>> buckets = TokenBuckets(rate=1.0, burst=2, clock=clock)
    >>> [buckets.take("a") for _ in range(3)]  # seconds to wait: 0.0 means taken
    [0.0, 0.0, 1.0]
    >>> buckets.take("a")  # a second later, one token is back
    0.0
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[Hashable, list[float]] = OrderedDict()  # [tokens, time]

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: Hashable) -> float:
        """Take a token for ``key``: 0.0 if taken, else the seconds until one is available."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = [float(self.burst), now]
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket[0] = min(float(self.burst), bucket[0] + (now - bucket[1]) * self.rate)
            bucket[1] = now
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            return 0.0
        return (1.0 - bucket[0]) / self.rate


def bearer_token(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer sl_<keyid>_<secret>`` header, else None.

    >>> bearer_token({"type": "http", "headers": [(b"authorization", b"Bearer sl_k1_s_3")]})
    'sl_k1_s_3'
    >>> bearer_token({"type": "http", "headers": [(b"authorization", b"Basic dTpw")]}) is None
    True
    """
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            match = _BEARER.fullmatch(value.strip())
            return match.group(1).decode("ascii", "replace") if match else None
    return None


def _by_address(scope: Scope) -> str | None:
    return None


class _Refused(Exception):
    """A refusal, raised before the application runs and sent as JSON."""

    def __init__(
        self,
        status: int,
        error: str,
        field: str | None,
        *,
        retry_after: int | None = None,
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.field = field
        self.retry_after = retry_after
        self.headers = headers


def _too_large(cap: int, what: str) -> _Refused:
    return _Refused(413, f"{what} exceeds the limit of {cap} bytes", "body")


def _check_head(headers: list[tuple[bytes, bytes]], cap: int) -> bool:
    """Refuse a declared length over ``cap`` or an unknown coding; return whether it is gzip."""
    codings: list[bytes] = []
    for name, value in headers:
        if name == b"content-length":
            declared = _parse_length(value)
            if declared > cap:
                raise _too_large(cap, f"request body (Content-Length {declared})")
        elif name == b"content-encoding":
            codings.extend(c.strip().lower() for c in value.split(b","))
    codings = [c for c in codings if c and c != b"identity"]
    if not codings:
        return False
    if codings in ([b"gzip"], [b"x-gzip"]):
        return True
    shown = b", ".join(codings).decode("latin-1")[:100]
    raise _Refused(
        415,
        f"Content-Encoding {shown!r} is not supported; send gzip or identity",
        "Content-Encoding",
        headers=((b"accept-encoding", _ACCEPTED_CODINGS),),
    )


def _parse_length(value: bytes) -> int:
    """The Content-Length value, or -1 if unreadable (the HTTP server enforces the framing)."""
    try:
        return int(value)
    except ValueError:
        return -1


class _Gunzip:
    """Decompress gzip (one or more members) as it arrives, never past ``cap`` (+1) bytes."""

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._inflate = zlib.decompressobj(wbits=_GZIP_WBITS)
        self._pending = False  # input fed into a member that has not ended yet
        self._parts: list[bytes] = []
        self._size = 0

    def feed(self, data: bytes) -> None:
        """Decompress ``data``; raise 413 past the cap, 400 on corrupt gzip."""
        while data:
            self._pending = True
            try:
                # max_length >= 1 always: the size check below raises once over the cap.
                out = self._inflate.decompress(data, self._cap - self._size + 1)
            except zlib.error as exc:
                raise _Refused(400, f"body is not valid gzip ({exc})", "body") from None
            self._size += len(out)
            if self._size > self._cap:
                raise _too_large(self._cap, "request body after decompression")
            self._parts.append(out)
            if self._inflate.eof:  # a member ended: what follows is the next member
                data = self._inflate.unused_data
                self._inflate = zlib.decompressobj(wbits=_GZIP_WBITS)
                self._pending = False
            else:
                data = self._inflate.unconsumed_tail

    def finish(self) -> bytes:
        """The decompressed body; raise 400 if the last member is cut short."""
        if self._pending:
            raise _Refused(400, "body is not valid gzip (truncated stream)", "body")
        return b"".join(self._parts)


class _BodyReader:
    """Collect the request body up to ``cap`` bytes, gunzipping on the way if asked."""

    def __init__(self, cap: int, gzip: bool) -> None:
        self._cap = cap
        self._gunzip = _Gunzip(cap) if gzip else None
        self._parts: list[bytes] = []
        self._size = 0

    def feed(self, chunk: bytes) -> None:
        """Add one received chunk; raise 413 (or 400) at once when it breaks a limit."""
        self._size += len(chunk)
        if self._size > self._cap:
            raise _too_large(self._cap, "request body")
        if self._gunzip is not None:
            self._gunzip.feed(chunk)
        elif chunk:
            self._parts.append(chunk)

    def finish(self) -> bytes:
        """The whole body (decompressed if gzip)."""
        if self._gunzip is not None:
            return self._gunzip.finish()
        return self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)


def _decoded_scope(scope: Scope, size: int) -> Scope:
    """A copy of ``scope`` whose headers describe a decompressed body of ``size`` bytes."""
    dropped = (b"content-encoding", b"content-length", b"transfer-encoding")
    headers = [(n, v) for n, v in scope["headers"] if n not in dropped]
    headers.append((b"content-length", str(size).encode("ascii")))
    return {**scope, "headers": headers}


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive callable that yields ``body`` in one message, then defers to ``receive``."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class LimitsMiddleware:
    """Refuse oversized, undecodable, excessive or too frequent HTTP requests before ``app``.

    ``client_key(scope)`` names the rate-limited client; None keys by client IP (the
    default: the collector passes the id of an API key already verified, so that a
    request cannot spend the budget of a key whose secret it does not hold). ``stats``
    counts refusals and requests in progress (pass one in to read it when Starlette builds
    the middleware, as with ``app.add_middleware``).

    >>> from starlette.applications import Starlette
    >>> stats = LimitStats()
    >>> app = LimitsMiddleware(Starlette(), RequestLimits(max_body_bytes=1 << 20), stats=stats)
    >>> app.stats is stats, app.stats.inflight
    (True, 0)
    """

    def __init__(
        self,
        app: ASGIApp,
        limits: RequestLimits = RequestLimits(),  # frozen: safe to share
        client_key: Callable[[Scope], str | None] = _by_address,
        *,
        stats: LimitStats | None = None,
    ) -> None:
        self.app = app
        self.limits = limits
        self.client_key = client_key
        self.stats = LimitStats() if stats is None else stats
        self.buckets = TokenBuckets(
            limits.rate_per_second, limits.burst, max_keys=limits.max_clients
        )
        self._exempt = frozenset(limits.exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope.get("method") == "PUT" and scope["path"].endswith(
            self.limits.upload_suffixes
        )
        cap = self.limits.max_upload_bytes if upload else self.limits.max_body_bytes
        try:
            gzip = _check_head(scope["headers"], cap)
            exempt = scope["path"] in self._exempt
            if not exempt:
                self._admit(scope, upload)
        except _Refused as refused:
            await self._refuse(send, refused)
            return
        if exempt:
            await self._forward(scope, receive, send, gzip, cap)
            return
        try:
            await self._forward(scope, receive, send, gzip, cap)
        finally:
            self.stats.inflight -= 1
            self.stats.uploads -= upload

    def _admit(self, scope: Scope, upload: bool) -> None:
        """Take an in-flight slot (and an upload slot) and a token, or raise 503 / 429 (no
        await: atomic)."""
        limits = self.limits
        wait = limits.retry_after_seconds
        if self.stats.inflight >= limits.max_inflight:
            raise _Refused(
                503,
                f"server busy: the limit of {limits.max_inflight} requests in progress "
                f"is reached; retry after {wait} s",
                None,
                retry_after=wait,
            )
        if upload and self.stats.uploads >= limits.max_uploads:
            raise _Refused(
                503,
                f"server busy: the limit of {limits.max_uploads} large uploads in progress "
                f"is reached; retry after {wait} s",
                None,
                retry_after=wait,
            )
        seconds = self.buckets.take(self._bucket_key(scope))
        if seconds > 0.0:
            wait = max(limits.retry_after_seconds, math.ceil(seconds))
            raise _Refused(
                429,
                f"rate limit exceeded: {limits.rate_per_second:g} requests/s per client "
                f"(burst {limits.burst}); retry after {wait} s",
                None,
                retry_after=wait,
            )
        self.stats.inflight += 1
        self.stats.uploads += upload

    def _bucket_key(self, scope: Scope) -> tuple[str, str]:
        key = self.client_key(scope)
        if key is not None:
            return ("key", key)
        client = scope.get("client")
        return ("ip", str(client[0]) if client else "")

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, gzip: bool, cap: int
    ) -> None:
        """Read the whole body within ``cap`` bytes, then run the application on it."""
        reader = _BodyReader(cap, gzip)
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # the client is gone: nobody to answer
                reader.feed(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            body = reader.finish()
        except _Refused as refused:
            await self._refuse(send, refused)
            return
        if gzip:
            scope = _decoded_scope(scope, len(body))
        await self.app(scope, _replay(body, receive), send)

    async def _refuse(self, send: Send, refused: _Refused) -> None:
        """Count the refusal and send it as a JSON response."""
        self.stats.record(refused.status)
        body = json.dumps({"error": refused.error, "field": refused.field}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
            *refused.headers,
        ]
        if refused.retry_after is not None:
            headers.append((b"retry-after", str(refused.retry_after).encode("ascii")))
        await send({"type": "http.response.start", "status": refused.status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


__all__ = ["LimitStats", "LimitsMiddleware", "RequestLimits", "TokenBuckets", "bearer_token"]
