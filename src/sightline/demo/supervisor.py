"""The demo's child processes: started, killed, restarted, and all stopped at the end.

Each child runs in its own session (the terminal's Ctrl-C reaches the demo alone, which then
stops the children in order: the services first, so that they ship what they hold, then
the collector). On Linux each child also asks the kernel for SIGTERM when the demo dies
(``PR_SET_PDEATHSIG``), so even a SIGKILL of the demo leaves no orphan.

>>> with Supervisor(Path("/tmp")) as children:
...     child = children.start("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"])
...     child.poll() is None
True
>>> child.poll() is not None
True
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

# Run in the child before the program: die with the parent, unless it is already gone.
_GUARD = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))\n"
    "if os.getppid() != int(sys.argv[1]): sys.exit(1)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


class Supervisor:
    """Children by name; their output goes to ``NAME.log`` in ``log_dir``."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()

    def start(
        self, name: str, argv: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` as child ``name`` (replacing a dead child of that name), with
        ``env`` added to the environment."""
        command = argv
        if sys.platform.startswith("linux"):
            command = [sys.executable, "-c", _GUARD, str(os.getpid()), *argv]
        with (self.log_dir / f"{name}.log").open("ab") as log:
            child = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        self.children[name] = child
        return child

    def kill(self, name: str) -> None:
        """SIGKILL child ``name`` (a crash: it gets no chance to say goodbye)."""
        child = self.children[name]
        child.kill()
        child.wait()

    def stop_all(self, timeout: float = 15.0) -> None:
        """SIGTERM every child, the collector last; SIGKILL any still running after
        ``timeout`` seconds. A second Ctrl-C or SIGTERM meanwhile does not interrupt it."""
        held = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self._stop(timeout)
        finally:
            for signum, handler in held.items():
                signal.signal(signum, handler)

    def _stop(self, timeout: float) -> None:
        services = [name for name in self.children if name != "collector"]
        for group in (services, ["collector"]):
            running = [self.children[n] for n in group if n in self.children]
            for child in running:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            for child in running:
                try:
                    child.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()


__all__ = ["Supervisor"]
