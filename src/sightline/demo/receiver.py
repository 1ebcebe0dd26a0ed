"""The demo's alert receiver: a webhook on 127.0.0.1 that checks each notification's
signature and hands its alerts to a callback (the demo prints them).

>>> got = []
>>> with Receiver(SECRET, got.append) as hook:
...     hook.url.startswith("http://127.0.0.1:") and hook.url.endswith("/hook")
True
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

SECRET = "sightline-demo"
Alert = dict[str, Any]


def signed(body: bytes, secret: str, signature: str) -> bool:
    """Whether ``signature`` (``X-Sightline-Signature``) is ``body``'s HMAC-SHA256.

    >>> sig = "sha256=" + hmac.new(b"s", b"{}", hashlib.sha256).hexdigest()
    >>> signed(b"{}", "s", sig), signed(b"{ }", "s", sig)
    (True, False)
    """
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


class Receiver:
    """A running webhook; ``on_alert`` gets each alert of each verified notification."""

    def __init__(self, secret: str, on_alert: Callable[[Alert], None]) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = signed(raw, secret, self.headers.get("X-Sightline-Signature", ""))
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if ok:
                    for alert in json.loads(raw).get("alerts", []):
                        owner.on_alert(alert)

            def log_message(self, *args: object) -> None:
                pass

        self.on_alert = on_alert
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


__all__ = ["SECRET", "Receiver", "signed"]
