"""``sightline demo``: a collector, the serving processes of two services and the timeline,
live.

The demo drives the system through its real interfaces only: ``sightline serve`` in a
child process (DuckDB in a fresh data directory, the default alert rules plus the demo's
rules file), :class:`sightline.Client` for keys, registration and settings, and
:class:`sightline.Monitor` in each serving process. It prints the dashboard's address and
an admin key first, then what happens.

Stopping: after ``duration`` seconds, or on Ctrl-C (SIGINT) or SIGTERM, every child is
stopped (:mod:`sightline.demo.supervisor`).

The services: ``credit-scoring`` (three processes of :mod:`~sightline.demo.service`, data
in :mod:`~sightline.demo.data`) and ``article-writer`` (one process of
:mod:`~sightline.demo.writer`, data in :mod:`~sightline.demo.articles`).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from sightline.client.client import Client
from sightline.demo import articles, data
from sightline.demo.progress import generation_line, snapshot
from sightline.demo.receiver import SECRET, Alert, Receiver
from sightline.demo.rules import INSTANCES, rules_yaml
from sightline.demo.supervisor import Supervisor
from sightline.demo.timeline import FAST, NORMAL, Timeline
from sightline.errors import SightlineError

#: The simulated services, each with a progress line.
SERVICES = (data.MODEL, articles.MODEL)
_PRINT = threading.Lock()


@dataclass(frozen=True)
class Options:
    """``sightline demo``'s flags."""

    fast: bool = False
    duration: float | None = None
    port: int | None = None
    data: str | None = None


class _Stopped(Exception):
    """SIGTERM arrived: stop like Ctrl-C."""


def say(text: str) -> None:
    """Print one line now (flushed: the demo's output is read while it runs)."""
    with _PRINT:
        print(text, flush=True)


def run(options: Options) -> int:
    """Run the demo until ``options.duration`` passed or a signal; return the exit code."""
    started = time.monotonic()
    timeline = FAST if options.fast else NORMAL
    where = Path(options.data or tempfile.mkdtemp(prefix="sightline-demo-"))
    where.mkdir(parents=True, exist_ok=True)
    port = options.port or _free_port()
    url = f"http://127.0.0.1:{port}"
    # Ctrl-C stops the demo even when it was started with SIGINT ignored (`demo &` in a script).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    previous_term = signal.signal(signal.SIGTERM, _terminated)
    try:
        admin = _admin_key(where)
        with Receiver(SECRET, _AlertLines()) as hook, Supervisor(where) as children:
            rules = where / "rules.yaml"
            rules.write_text(rules_yaml(hook.url, timeline), encoding="utf-8")
            collector = _start_collector(children, where, port, rules, timeline)
            say(f"dashboard: {url}/")
            say(f"admin key: {admin}")
            say(f"collector running (pid {collector}); data and logs in {where}")
            with Client(url, api_key=admin) as client:
                _timeline(client, children, url, timeline, options, started)
    except (KeyboardInterrupt, _Stopped):
        say("stopping")
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
    say("stopped: every process of the demo ended")
    return 0


def _terminated(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one stop at a time
    raise _Stopped


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _admin_key(where: Path) -> str:
    """An admin key, created on the store before the collector opens it."""
    from sightline.store import open_store

    store = open_store(where)
    try:
        return store.create_key("default", "admin")
    finally:
        store.close()


def _start_collector(
    children: Supervisor, where: Path, port: int, rules: Path, timeline: Timeline
) -> int:
    """Start ``sightline serve`` and wait until it is ready; return its pid."""
    argv = [sys.executable, "-m", "sightline", "serve", "--data", str(where)]
    argv += ["--port", str(port), "--rules", str(rules), "--log-level", "warning"]
    argv += ["--schedule-every", str(timeline.schedule_every)]
    argv += ["--heartbeat-timeout", str(timeline.heartbeat_timeout)]
    argv += ["--external-url", f"http://127.0.0.1:{port}"]
    collector = children.start("collector", argv)
    deadline = time.monotonic() + 60
    while True:
        if collector.poll() is not None:
            log = (where / "collector.log").read_text(encoding="utf-8", errors="replace")
            raise SightlineError(f"the collector did not start:\n{log[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return collector.pid
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SightlineError(f"the collector was not ready in 60 s (see {where})")
        time.sleep(0.1)


def _register(client: Client, timeline: Timeline) -> str:
    """Register ``credit-scoring`` with its labelled reference and the timeline's windows;
    return an ingest key for the services."""
    import pyarrow as pa

    info = client.register(
        data.MODEL,
        data.VERSION,
        reference=pa.table(data.reference()),
        target="target",
        prediction="prediction",
        probability=["probability"],
    )
    client.settings(
        data.MODEL,
        window=f"{timeline.window}s",
        lateness=f"{timeline.lateness}s",
        label_horizon="1d",
    )
    say(
        f"registered {data.MODEL} {data.VERSION}: {len(info['columns'])} columns, "
        f"estimator {info['fitted']['estimator']}"
    )
    os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bar of the model's loading
    name, embed = articles.embedder()
    info = client.register(
        articles.MODEL,
        articles.VERSION,
        schema=articles.SCHEMA,
        reference=pa.table(articles.reference(embed)),
    )
    client.settings(articles.MODEL, window=f"{timeline.window}s", lateness=f"{timeline.lateness}s")
    say(
        f"registered {articles.MODEL} {articles.VERSION}: {len(info['columns'])} columns, "
        f"prompt embedding {name}"
    )
    return str(client.keys.create("ingest")["key"])


def _timeline(
    client: Client,
    children: Supervisor,
    url: str,
    timeline: Timeline,
    options: Options,
    started: float,
) -> None:
    read = client.keys.create("read")["key"]
    say(f"read key: {read}")
    ingest = _register(client, timeline)
    t0 = time.time()

    def start(instance: int) -> None:
        argv = [sys.executable, "-m", "sightline.demo.service", "--url", url]
        argv += ["--instance", str(instance), "--t0", repr(t0)] + (["--fast"] * options.fast)
        child = children.start(f"instance-{instance}", argv, {"SIGHTLINE_API_KEY": ingest})
        say(f"instance {instance} started (pid {child.pid})")

    for instance in range(1, INSTANCES + 1):
        start(instance)
    argv = [sys.executable, "-m", "sightline.demo.writer", "--url", url, "--t0", repr(t0)]
    writer = children.start(
        "writer", argv + ["--fast"] * options.fast, {"SIGHTLINE_API_KEY": ingest}
    )
    say(f"{articles.MODEL} started (pid {writer.pid})")
    say(f"[    0 s] serving, {time.monotonic() - started:.0f} s after the start (times from here)")
    actions: dict[str, Callable[[], None]] = {
        "drift": lambda: None,  # the services read the phase from the clock
        "kill": lambda: children.kill(f"instance-{INSTANCES}"),
        "restart": lambda: start(INSTANCES),
    }
    events = list(timeline.events())
    next_line = timeline.progress_every
    while options.duration is None or time.monotonic() - started < options.duration:
        elapsed = time.time() - t0
        while events and events[0][0] <= elapsed:
            _, kind, what = events.pop(0)
            say(f"[{elapsed:5.0f} s] {what}")
            actions[kind]()
        if elapsed >= next_line:
            next_line += timeline.progress_every
            line = snapshot(client, data.MODEL, timeline.window).line()
            say(f"[{elapsed:5.0f} s] {data.MODEL}: {line}")
            line = generation_line(client, articles.MODEL, timeline.window)
            say(f"[{elapsed:5.0f} s] {articles.MODEL}: {line}")
        if children.children["collector"].poll() is not None:
            raise SightlineError("the collector stopped (see collector.log)")
        time.sleep(0.2)


class _AlertLines:
    """Prints an alert when it first fires and when it resolves (the webhook repeats the
    whole group at every change)."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def __call__(self, alert: Alert) -> None:
        status = str(alert.get("status"))
        if self.seen.get(str(alert.get("fingerprint"))) == status:
            return
        self.seen[str(alert.get("fingerprint"))] = status
        labels = alert.get("labels", {})
        summary = alert.get("annotations", {}).get("summary", "")
        say(f"alert {status}: {labels.get('alertname')}: {summary}")


__all__ = ["SERVICES", "Options", "run", "say"]
