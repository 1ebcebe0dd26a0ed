"""Ctrl-C (SIGINT) and SIGTERM stop every process the demo started, and so does the
kernel when the demo itself is killed (``PR_SET_PDEATHSIG``): no orphans."""

from __future__ import annotations

import signal
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc; PR_SET_PDEATHSIG is Linux's"
)


def test_sigterm_stops_every_process(start_demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """(Ctrl-C is tested on the shared demo of test_live.py.)"""
    demo = start_demo("--fast", "--data", str(tmp_path / "data"))
    demo.wait_for(r"^article-writer started \(pid \d+\)$", timeout=90)
    assert len(demo.pids()) == 5 and demo.left_running(timeout=0) == demo.pids()
    demo.proc.send_signal(signal.SIGTERM)
    assert demo.finish(timeout=40) == 0, demo.output()
    assert demo.left_running(timeout=0) == []
    assert demo.lines[-1] == "stopped: every process of the demo ended"


def test_the_duration_stops_every_process(start_demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    demo = start_demo("--fast", "--duration", "1", "--data", str(tmp_path / "data"))
    assert demo.finish(timeout=120) == 0, demo.output()
    assert len(demo.pids()) == 5, demo.output()
    assert demo.left_running(timeout=0) == []
    assert demo.lines[-1] == "stopped: every process of the demo ended"


def test_a_killed_demo_takes_its_children_along(start_demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    demo = start_demo("--fast", "--data", str(tmp_path / "data"))
    demo.wait_for(r"^article-writer started \(pid \d+\)$", timeout=90)
    demo.proc.kill()
    demo.finish(timeout=10)
    assert demo.left_running(timeout=30) == []
