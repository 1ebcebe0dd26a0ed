"""The dashboard's ASGI middleware: a session cookie stands for its API key, and every
answer carries the security headers (a Content-Security-Policy without inline scripts).

A request with a live session cookie and no ``Authorization`` header is served as if it
sent ``Authorization: Bearer <the session's key>``, so the API's own scope checks apply to
the pages' calls unchanged. Only reads (GET, HEAD) go through on the cookie alone; any
other method also needs the :data:`PAGE_HEADER` header, which a cross-site form cannot
send (on top of SameSite=Strict).
"""

from __future__ import annotations

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sightline.server.pages.session import COOKIE, Sessions

#: The header the dashboard's scripts send with every call that changes something.
PAGE_HEADER = "x-sightline-page"

#: Scripts only from the collector itself (no inline script, no eval); no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)
_SAFE = ("GET", "HEAD")


def session_id(scope: Scope) -> str | None:
    """The session id in the request's cookie, if any."""
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            return cookie_parser(value.decode("latin-1")).get(COOKIE)
    return None


class PagesMiddleware:
    """Session cookie to bearer key, and the security headers on every answer."""

    def __init__(self, app: ASGIApp, sessions: Sessions) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = list(scope.get("headers", ()))
        names = {name for name, _ in headers}
        token = self.sessions.token(session_id(scope))
        allowed = scope["method"] in _SAFE or PAGE_HEADER.encode() in names
        if token is not None and b"authorization" not in names and allowed:
            headers.append((b"authorization", f"Bearer {token}".encode()))
            scope = {**scope, "headers": headers}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
