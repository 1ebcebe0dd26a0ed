"""Request limits on a real uvicorn server: body sizes, gzip, admission, rate, JSON refusals."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sightline.errors import InvalidInputError
from sightline.server.limits import (
    LimitsMiddleware,
    LimitStats,
    RequestLimits,
    TokenBuckets,
    bearer_token,
)
from support.payloads import MiB, gzip_zeros


class Echo:
    """A Starlette app that counts calls and echoes the body size, its digest and the headers."""

    def __init__(self) -> None:
        self.calls = 0
        self.entered = 0
        self.lifespan_ran = False
        self.gate = asyncio.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        routes = [
            Route("/echo", self.echo, methods=["GET", "POST"]),
            Route("/healthz", self.echo, methods=["GET", "POST"]),
            Route("/block", self.block, methods=["POST"]),
            Route("/boom", self.boom, methods=["POST"]),
            Route("/m/reference", self.echo, methods=["PUT", "POST"]),
            Route("/slow/reference", self.block, methods=["PUT"]),
        ]
        self.app = Starlette(routes=routes, lifespan=self.lifespan)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette):
        self.lifespan_ran = True
        yield

    async def echo(self, request: Request) -> JSONResponse:
        self.calls += 1
        body = await request.body()
        return JSONResponse(
            {
                "size": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
                "headers": dict(request.headers),
            }
        )

    async def block(self, request: Request) -> JSONResponse:
        self.calls += 1
        self.loop = asyncio.get_running_loop()
        self.entered += 1
        await self.gate.wait()
        return JSONResponse({"released": True})

    async def boom(self, request: Request) -> JSONResponse:
        self.calls += 1
        raise RuntimeError("the application failed")

    def release(self) -> None:
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self.gate.set)


class Served:
    """One running server: its base URL, the middleware and the app behind it."""

    def __init__(self, url: str, middleware: LimitsMiddleware, echo: Echo) -> None:
        self.url = url
        self.middleware = middleware
        self.echo = echo

    def post(self, path: str, **kwargs) -> httpx.Response:
        return httpx.post(self.url + path, timeout=10, **kwargs)


def wait_until(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


def start_server(limits: RequestLimits) -> tuple[Served, uvicorn.Server, threading.Thread]:
    """Start uvicorn on a free port with the middleware in front of :class:`Echo`."""
    echo = Echo()
    middleware = LimitsMiddleware(echo.app, limits, client_key=bearer_token)  # unverified here
    config = uvicorn.Config(middleware, host="127.0.0.1", port=0, lifespan="on", log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive())
    if not server.started:
        stop_servers([(server, thread)])
        raise AssertionError("uvicorn did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    return Served(f"http://127.0.0.1:{port}", middleware, echo), server, thread


def stop_servers(running: list[tuple[uvicorn.Server, threading.Thread]]) -> None:
    for server, _ in running:
        server.should_exit = True
    for server, thread in running:
        thread.join(timeout=5)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5)


@pytest.fixture(scope="module")
def default_server():
    """One server with the default limits, shared by the tests that need nothing else."""
    served, server, thread = start_server(RequestLimits())
    yield served
    stop_servers([(server, thread)])


@pytest.fixture
def served(default_server):
    """The shared default server, its counters reset."""
    default_server.echo.calls = 0
    default_server.middleware.stats = LimitStats()
    return default_server


@pytest.fixture
def serve():
    """Start a server with given limits; stopped after the test."""
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(limits: RequestLimits) -> Served:
        served, server, thread = start_server(limits)
        running.append((server, thread))
        return served

    yield start
    stop_servers(running)


def assert_refusal(response: httpx.Response, status: int, field: str | None) -> str:
    """Check a refusal's status and JSON shape; return its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    payload = response.json()
    assert set(payload) == {"error", "field"}
    assert payload["field"] == field
    return payload["error"]


def batch(events: int = 1000) -> bytes:
    rows = [{"id": i, "x": i * 0.5, "label": "ab"[i % 2]} for i in range(events)]
    return json.dumps({"events": rows}).encode()


# -- body size -------------------------------------------------------------------------------


def test_small_body_reaches_the_app_whole(served) -> None:
    body = batch()
    response = served.post("/echo", content=body)
    assert response.status_code == 200
    assert response.json()["size"] == len(body)
    assert response.json()["sha256"] == hashlib.sha256(body).hexdigest()
    assert served.echo.calls == 1
    assert served.echo.lifespan_ran  # lifespan passes through the middleware
    assert served.middleware.stats == LimitStats()


def test_declared_body_over_the_limit_is_refused_unread(served) -> None:
    response = served.post("/echo", content=bytes(20 * MiB))
    error = assert_refusal(response, 413, "body")
    assert str(20 * MiB) in error and str(8 * MiB) in error
    assert served.echo.calls == 0
    assert served.middleware.stats.rejected_too_large == 1
    # The connection stays usable: the server discards the rest of the refused body.
    assert served.post("/echo", content=b"ok").status_code == 200


def test_streamed_body_over_the_limit_is_refused(served) -> None:

    def chunks():
        for _ in range(20):
            yield bytes(MiB)

    response = served.post("/echo", content=chunks())  # chunked: no length declared
    assert "transfer-encoding" in response.request.headers
    assert str(8 * MiB) in assert_refusal(response, 413, "body")
    assert served.echo.calls == 0


def test_understated_content_length_is_caught_by_the_running_cap() -> None:
    # An HTTP/1.1 server frames the body by its Content-Length, so a lie cannot reach the
    # middleware over uvicorn; it must still never trust the header. Called as plain ASGI.
    middleware, called = recording_middleware(RequestLimits(max_body_bytes=2048))
    messages = [{"type": "http.request", "body": bytes(1024), "more_body": True}] * 5
    sent, received = call_asgi(middleware, messages, headers=[(b"content-length", b"10")])
    assert sent[0]["status"] == 413
    assert received == 3  # stopped at the chunk that crossed the limit
    assert called == []
    assert middleware.stats.inflight == 0


def test_client_gone_mid_body_runs_nothing() -> None:
    middleware, called = recording_middleware(RequestLimits())
    messages = [
        {"type": "http.request", "body": b"x", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent, _ = call_asgi(middleware, messages)
    assert sent == []
    assert called == []
    assert middleware.stats.inflight == 0


# -- gzip ------------------------------------------------------------------------------------


def test_gzip_bomb_is_refused_without_inflating_it(served) -> None:
    bomb = gzip_zeros(1024)  # 1 GiB of zeros
    assert len(bomb) < 2 * MiB
    response = served.post("/echo", content=bomb, headers={"Content-Encoding": "gzip"})
    error = assert_refusal(response, 413, "body")
    assert "after decompression" in error and str(8 * MiB) in error
    assert served.echo.calls == 0


def test_gzip_bomb_builder_is_valid_gzip() -> None:
    assert gzip.decompress(gzip_zeros(3)) == bytes(3 * MiB)


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "GZIP", "identity, gzip"])
@pytest.mark.parametrize("members", [1, 2])
def test_gzip_body_reaches_the_app_decompressed(served, coding: str, members: int) -> None:
    raw = batch()
    cut = len(raw) // members
    parts = [raw[:cut], raw[cut:]] if members == 2 else [raw]
    compressed = b"".join(gzip.compress(part) for part in parts)
    response = served.post("/echo", content=compressed, headers={"Content-Encoding": coding})
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["size"] == len(raw)
    assert seen["sha256"] == hashlib.sha256(raw).hexdigest()
    assert "content-encoding" not in seen["headers"]
    assert seen["headers"]["content-length"] == str(len(raw))


@pytest.mark.parametrize(
    "body",
    [
        b"this is not gzip at all",
        gzip.compress(b'{"events": []}' * 100)[:-12],  # truncated
        gzip.compress(b"{}") + b"trailing garbage",
    ],
    ids=["garbage", "truncated", "trailing-garbage"],
)
def test_corrupt_gzip_is_a_bad_request(served, body: bytes) -> None:
    response = served.post("/echo", content=body, headers={"Content-Encoding": "gzip"})
    assert "not valid gzip" in assert_refusal(response, 400, "body")
    assert served.echo.calls == 0
    assert served.middleware.stats.rejected_malformed == 1


@pytest.mark.parametrize("coding", ["br", "deflate", "gzip, gzip", "zstd"])
def test_other_content_encodings_are_unsupported(served, coding: str) -> None:
    response = served.post("/echo", content=b"{}", headers={"Content-Encoding": coding})
    assert coding in assert_refusal(response, 415, "Content-Encoding")
    assert response.headers["accept-encoding"] == "gzip, identity"
    assert served.echo.calls == 0


def test_identity_encoding_passes(served) -> None:
    response = served.post("/echo", content=b"{}", headers={"Content-Encoding": "identity"})
    assert response.status_code == 200
    assert response.json()["size"] == 2


# -- admission and rate ----------------------------------------------------------------------


def test_requests_past_max_inflight_are_turned_away(serve) -> None:
    served = serve(RequestLimits(max_inflight=2))
    with ThreadPoolExecutor(2) as pool:
        blocked = [pool.submit(served.post, "/block", content=b"{}") for _ in range(2)]
        try:
            wait_until(lambda: served.echo.entered == 2)
            response = served.post("/echo", content=b"{}")
            assert "limit of 2 requests in progress" in assert_refusal(response, 503, None)
            assert response.headers["retry-after"] == "1"
            assert served.post("/healthz").status_code == 200  # exempt from admission
        finally:
            served.echo.release()
        assert [future.result().status_code for future in blocked] == [200, 200]
    wait_until(lambda: served.middleware.stats.inflight == 0)
    assert served.post("/echo", content=b"{}").status_code == 200
    assert served.middleware.stats.rejected_overload == 1
    assert served.echo.calls == 4  # two blocked, one health check, one after release


def test_a_reference_upload_may_be_larger_and_few_run_at_once(serve) -> None:
    served = serve(RequestLimits(max_body_bytes=1024, max_upload_bytes=8192, max_uploads=1))
    body = bytes(5000)
    assert_refusal(served.post("/echo", content=body), 413, "body")
    assert_refusal(served.post("/m/reference", content=body), 413, "body")  # PUT only
    put = httpx.put(served.url + "/m/reference", content=body, timeout=10)
    assert put.status_code == 200 and put.json()["size"] == 5000
    too_big = httpx.put(served.url + "/m/reference", content=bytes(9000), timeout=10)
    assert_refusal(too_big, 413, "body")
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(httpx.put, served.url + "/slow/reference", content=b"x", timeout=10)
        try:
            wait_until(lambda: served.echo.entered == 1)
            busy = httpx.put(served.url + "/m/reference", content=body, timeout=10)
            assert "1 large uploads in progress" in assert_refusal(busy, 503, None)
            assert served.post("/echo", content=b"{}").status_code == 200  # others go on
        finally:
            served.echo.release()
        assert slow.result().status_code == 200
    wait_until(lambda: served.middleware.stats.uploads == 0)
    assert httpx.put(served.url + "/m/reference", content=body, timeout=10).status_code == 200


def test_rate_limit_is_per_key(serve) -> None:
    served = serve(RequestLimits(rate_per_second=1, burst=3, max_body_bytes=1024))
    key_a = {"Authorization": "Bearer sl_aaaa_secret"}
    key_b = {"Authorization": "Bearer sl_bbbb_secret"}
    assert [served.post("/echo", headers=key_a).status_code for _ in range(3)] == [200] * 3
    response = served.post("/echo", headers=key_a)
    assert "1 requests/s" in assert_refusal(response, 429, None)
    assert int(response.headers["retry-after"]) >= 1
    assert served.post("/echo", headers=key_b).status_code == 200  # another key
    assert served.post("/echo").status_code == 200  # no key: by client IP
    assert served.post("/healthz", headers=key_a).status_code == 200  # exempt from rate
    # Exempt paths keep the body limits.
    assert_refusal(served.post("/healthz", headers=key_a, content=bytes(2048)), 413, "body")
    assert served.middleware.stats.rejected_rate == 1
    assert served.echo.calls == 6


def test_inflight_returns_to_zero_when_the_app_raises(served) -> None:
    assert served.post("/boom", content=b"{}").status_code == 500
    wait_until(lambda: served.middleware.stats.inflight == 0)
    assert served.echo.calls == 1
    assert served.post("/echo", content=b"{}").status_code == 200


def test_inflight_is_released_when_the_app_raises_in_process() -> None:
    async def failing(scope, receive, send) -> None:
        raise RuntimeError("boom")

    middleware = LimitsMiddleware(failing, RequestLimits())
    with pytest.raises(RuntimeError, match="boom"):
        call_asgi(middleware, [{"type": "http.request", "body": b"", "more_body": False}])
    assert middleware.stats.inflight == 0


def test_token_buckets_keep_at_most_max_keys() -> None:
    buckets = TokenBuckets(rate=1.0, burst=1, max_keys=3, clock=lambda: 0.0)
    assert [buckets.take(key) for key in "abcde"] == [0.0] * 5
    assert len(buckets) == 3
    assert buckets.take("e") == 1.0  # recent: kept, and empty
    assert buckets.take("a") == 0.0  # dropped: back with a full bucket


def test_non_http_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope, receive, send) -> None:
        seen.append(scope["type"])

    middleware = LimitsMiddleware(app, RequestLimits(max_inflight=1))
    for kind in ("lifespan", "websocket"):
        asyncio.run(middleware({"type": kind}, _never, _discard))
    assert seen == ["lifespan", "websocket"]


# -- configuration and keys ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"Bearer sl_0123abcd_s3cr_et-", "sl_0123abcd_s3cr_et-"),
        (b"bearer   sl_k1_x", "sl_k1_x"),
        (b"Bearer sl__secret", None),
        (b"Bearer sl_k1_", None),
        (b"Bearer other_k1_secret", None),
        (b"Basic dXNlcjpwYXNz", None),
        (b"Bearer sl_" + b"k" * 65 + b"_secret", None),
    ],
)
def test_bearer_token(header: bytes, expected: str | None) -> None:
    assert bearer_token({"type": "http", "headers": [(b"authorization", header)]}) == expected


def test_no_authorization_header_has_no_key() -> None:
    assert bearer_token({"type": "http", "headers": []}) is None


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("max_body_bytes", 0),
        ("max_inflight", 1.5),
        ("burst", True),
        ("retry_after_seconds", -1),
        ("rate_per_second", 0),
        ("rate_per_second", float("inf")),
        ("rate_per_second", float("nan")),
        ("exempt_paths", ["/healthz"]),
    ],
)
def test_invalid_limits_are_refused(option: str, value: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        RequestLimits(**{option: value})
    assert info.value.field == option


# -- plain ASGI helpers ----------------------------------------------------------------------


def recording_middleware(limits: RequestLimits) -> tuple[LimitsMiddleware, list[bytes]]:
    called: list[bytes] = []

    async def app(scope, receive, send) -> None:
        called.append((await receive())["body"])

    return LimitsMiddleware(app, limits), called


def call_asgi(middleware: LimitsMiddleware, messages: list[dict], headers=()) -> tuple[list, int]:
    """Run one POST through ``middleware``; return the messages it sent and receive calls."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/echo",
        "headers": list(headers),
        "client": ("192.0.2.1", 5000),
    }
    pending = iter(messages)
    sent: list[dict] = []
    received = 0

    async def receive() -> dict:
        nonlocal received
        received += 1
        return next(pending)

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    return sent, received


async def _never() -> dict:
    raise AssertionError("receive must not be called")


async def _discard(message: dict) -> None:
    raise AssertionError("send must not be called")
