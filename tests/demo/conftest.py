"""``sightline demo`` as a child process of the tests (its output read line by line), and
the check that the processes it started are gone."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


class DemoProcess:
    """``python -m sightline demo ARGS``; ``lines`` fills as it prints."""

    def __init__(self, *args: str) -> None:
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sightline", "demo", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """The first line matching ``pattern`` (fails with the output after ``timeout``)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                found = regex.search(line)
                if found:
                    return found
            assert self.proc.poll() is None or self._reader.is_alive(), self.output()
            time.sleep(0.1)
        raise AssertionError(f"no line matching {pattern!r} in {timeout} s:\n{self.output()}")

    def pids(self) -> list[int]:
        """Every child process the demo said it started."""
        return [int(p) for line in self.lines for p in re.findall(r"\(pid (\d+)\)", line)]

    def left_running(self, timeout: float) -> list[int]:
        """The children still alive after waiting up to ``timeout`` seconds for them."""
        deadline = time.monotonic() + timeout
        while True:
            left = [p for p in self.pids() if alive(p)]
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.1)

    def output(self) -> str:
        return "\n".join(self.lines[-80:])

    def finish(self, timeout: float) -> int:
        """Wait for the exit (killing it after ``timeout``); return the exit code."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(
                f"the demo did not stop in {timeout} s:\n{self.output()}"
            ) from None
        finally:
            self._reader.join(timeout=10)
            assert self.proc.stdout is not None
            self.proc.stdout.close()


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def start_demo() -> Iterator[Callable[..., DemoProcess]]:
    """Start ``sightline demo ARGS``; whatever is still running is killed after the tests
    of the module."""
    started: list[DemoProcess] = []

    def start(*args: str) -> DemoProcess:
        started.append(DemoProcess(*args))
        return started[-1]

    yield start
    for demo in started:
        if demo.proc.poll() is None:
            demo.proc.kill()
        demo.finish(30)
        for pid in demo.pids():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
