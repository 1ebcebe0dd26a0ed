"""One simulated serving process of ``credit-scoring``: it scores requests at a steady rate
and logs them through :class:`sightline.Monitor`, with latencies, a few errors and the true
outcomes a little later (``log_labels``), as a real service would.

Run by the demo as ``python -m sightline.demo.service --url URL --instance N --t0 EPOCH
[--fast]`` with an ingest key in ``$SIGHTLINE_API_KEY``; it stops on SIGTERM or SIGINT
(closing its monitor, which ships what it holds) and when the demo that started it is gone.

>>> traffic = Traffic(instance=1, rate=20.0, label_delay=2.0, start=0.0)
>>> len(traffic.due(1.0)), len(traffic.due(1.0))
(20, 0)
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sightline.demo.data import MODEL, VERSION, Phase, Stream
from sightline.demo.timeline import FAST, NORMAL, Timeline
from sightline.sdk.monitor import Monitor

RATE = 30.0  # predictions per second per instance
ERROR_SHARE = 0.0005  # requests that fail (kept under the availability SLO's budget)
LABEL_SHARE = 0.8  # predictions whose outcome becomes known


@dataclass
class Traffic:
    """The requests of one instance: how many are due, their latencies and outcomes."""

    instance: int
    rate: float
    label_delay: float
    start: float
    stream: Stream = field(init=False)
    sent: int = 0
    labels: deque[tuple[float, str, int]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.stream = Stream(seed=1000 + self.instance)
        self._rng = np.random.default_rng(self.instance)

    def due(self, now: float) -> list[int]:
        """Indices of the requests due by ``now`` since the last call (a steady rate)."""
        target = math.floor((now - self.start) * self.rate)
        first, self.sent = self.sent, max(self.sent, target)
        return list(range(first, self.sent))

    def latencies(self, n: int) -> np.ndarray:
        """Milliseconds: a lognormal body (median 12 ms) and a few slow requests."""
        body = self._rng.lognormal(math.log(12.0), 0.45, n)
        slow = self._rng.random(n) < 0.003
        return np.where(slow, self._rng.uniform(60.0, 150.0, n), body)

    def failures(self, n: int) -> np.ndarray:
        """Which of ``n`` requests fail."""
        return self._rng.random(n) < ERROR_SHARE

    def known(self, n: int) -> np.ndarray:
        """Which of ``n`` predictions get their label."""
        return self._rng.random(n) < LABEL_SHARE


def serve(monitor: Monitor, timeline: Timeline, traffic: Traffic, t0: float) -> None:
    """Score and log requests until asked to stop (SIGTERM, SIGINT)."""
    while not STOP.is_set():
        now = time.time()
        n = len(traffic.due(now))
        if n:
            _log(monitor, traffic, timeline.phase(now - t0), n, now)
        _send_labels(monitor, traffic, now)
        time.sleep(0.1)


def _log(monitor: Monitor, traffic: Traffic, phase: Phase, n: int, now: float) -> None:
    rows = traffic.stream.draw(n, phase)
    latency, failed, known = traffic.latencies(n), traffic.failures(n), traffic.known(n)
    for i in range(n):
        if failed[i]:
            monitor.log_error(latency_ms=float(latency[i]))
            continue
        pid = monitor.log(
            rows.feature_row(i),
            prediction=int(rows.prediction[i]),
            probability=float(rows.probability[i]),
            latency_ms=float(latency[i]),
        )
        if known[i]:
            traffic.labels.append((now + traffic.label_delay, pid, int(rows.labels[i])))


def _send_labels(monitor: Monitor, traffic: Traffic, now: float) -> None:
    ids, labels = [], []
    while traffic.labels and traffic.labels[0][0] <= now:
        _, pid, label = traffic.labels.popleft()
        ids.append(pid)
        labels.append(label)
    if ids:
        monitor.log_labels(ids, labels)


#: Set by SIGTERM or SIGINT once :func:`stop_on_signals` ran: the serving loop ends.
STOP = threading.Event()


def stop_on_signals() -> None:
    """Make SIGTERM and SIGINT set :data:`STOP` (a serving process's way to stop)."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, frame: STOP.set())


def demo_monitor(model: str, version: str, url: str, timeline: Timeline) -> Monitor:
    """The Monitor of a demo serving process: the API key from ``SIGHTLINE_API_KEY`` (not
    on the command line, which ps shows) and a window's profile shipped in parts.

    >>> demo_monitor  # doctest: +ELLIPSIS
    <function demo_monitor at ...>
    """
    return Monitor(
        model,
        version,
        url=url,
        api_key=os.environ["SIGHTLINE_API_KEY"],
        window=timeline.window,
        ship_interval=min(5.0, timeline.window / 5),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one instance until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m sightline.demo.service")
    parser.add_argument("--url", required=True)
    parser.add_argument("--instance", type=int, required=True)
    parser.add_argument("--t0", type=float, required=True, help="the timeline's start (epoch)")
    parser.add_argument("--fast", action="store_true")
    args = parser.parse_args(argv)
    stop_on_signals()
    timeline = FAST if args.fast else NORMAL
    monitor = demo_monitor(MODEL, VERSION, args.url, timeline)
    traffic = Traffic(args.instance, RATE, timeline.label_delay, start=time.time())
    print(f"instance {args.instance} serving (pid {os.getpid()})", flush=True)
    try:
        serve(monitor, timeline, traffic, args.t0)
    finally:
        monitor.close(timeout=5.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
