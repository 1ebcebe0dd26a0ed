"""A notification receiver on 127.0.0.1: records every request, answers as told."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


@dataclass
class Receiver:
    """``answers``: what to answer next, in order (a status, a ``("sleep", seconds)``, or
    a ``("redirect", url)``); 200 once they are used up."""

    url: str
    got: list[Received] = field(default_factory=list)
    answers: list[Any] = field(default_factory=list)

    def wait_for(self, n: int, timeout: float = 30.0) -> list[Received]:
        """The requests once there are at least ``n`` (fails after ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        while len(self.got) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.got)} requests after {timeout} s, wanted {n}")
            time.sleep(0.05)
        return list(self.got)


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A running receiver; its URL ends in ``/hook``."""
    live = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            answer = live.answers.pop(0) if live.answers else 200
            live.got.append(Received(self.path, dict(self.headers), raw))
            if isinstance(answer, tuple) and answer[0] == "sleep":
                time.sleep(answer[1])
                answer = 200
            if isinstance(answer, tuple) and answer[0] == "redirect":
                self.send_response(307)
                self.send_header("Location", answer[1])
            else:
                self.send_response(int(answer))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    live.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield live
    finally:
        server.shutdown()
        server.server_close()
