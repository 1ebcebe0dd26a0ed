"""A real collector on 127.0.0.1: uvicorn in a thread, and clients that carry a key."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn

from sightline.store import Store


@dataclass
class Collector:
    """A running collector: its URL, its store, and an admin key of project ``default``."""

    url: str
    store: Store
    admin_key: str
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, key: str | None = None) -> httpx.Client:
        """An HTTP client that sends ``key`` (the admin key by default)."""
        token = self.admin_key if key is None else key
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        c = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        self.clients.append(c)
        return c


def start_server(app: object, port: int = 0) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Serve ``app`` on loopback (a free port by default) in a thread; return the server,
    the thread and the URL."""
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


def stop_server(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(timeout=20)


def free_port() -> int:
    """A loopback port that nothing listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    """Wait until the collector process ``proc`` answers ``url/readyz``; fail with its log
    (``log``) if it exits first or is not ready within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, f"the collector exited: {log.read_text()[-3000:]}"
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"not ready in {timeout} s: {log.read_text()[-3000:]}"
        time.sleep(0.05)


@contextlib.contextmanager
def silent_listener(port: int) -> Iterator[None]:
    """A socket on loopback ``port`` that accepts connections and never answers (a
    hanging collector)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(256)
    try:
        yield
    finally:
        sock.close()


def windowed_model(
    collector: Collector, schema: dict[str, object], window: str, reference_windows: int
) -> str:
    """Register model ``m`` version 1 with ``schema``, windows of ``window`` (lateness 1 s)
    and a rolling reference of ``reference_windows``; return an ingest key."""
    admin = collector.client()
    assert admin.put("/api/v1/models/m/versions/1", json=schema).status_code == 200
    put = admin.put(
        "/api/v1/models/m/settings",
        json={"window": window, "lateness": "1s", "reference_windows": reference_windows},
    )
    assert put.status_code == 200, put.text
    return collector.store.create_key("default", "ingest")
