"""The README's first section, run as written: a collector, a registered model, a process
that logs predictions, and the drift it shows.

The commands run in a fresh directory holding the repository's ``examples``, with this
environment's ``sightline`` and ``python`` first on ``PATH``. The first command (``pip
install``) is what made this environment; the test checks that it names the ``server``
extra instead of running it. The collector listens on a free port (``$SIGHTLINE_PORT``,
which ``serve`` reads, and ``$SIGHTLINE_URL``, which the CLI and the example read), not
on 8000, which another program may hold.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from support.live import free_port, wait_ready

ROOT = Path(__file__).resolve().parents[2]


def first_section_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## ", 2)[1]
    assert section.startswith("From install to a monitored service")
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_first_section_is_five_commands_that_install_serve_register_log_and_show() -> None:
    commands = first_section_commands()
    assert len(commands) == 5
    install, serve, register, log, drift = commands
    assert install == 'pip install -e ".[server]"'
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "server" in extras["optional-dependencies"]
    assert serve.startswith("sightline serve") and serve.endswith("&")
    assert register.startswith("sightline models register")
    assert log.startswith("python ") and drift.startswith("sightline drift")


def test_the_first_section_runs_as_written(tmp_path: Path) -> None:
    _, serve, register, log, drift = first_section_commands()
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    port = free_port()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "SIGHTLINE_PORT": str(port),
        "SIGHTLINE_URL": f"http://127.0.0.1:{port}",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("SIGHTLINE_API_KEY", "SIGHTLINE_DATA"):
        env.pop(name, None)

    def run(command: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            shlex.split(command), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{command}: {done.stderr[-3000:]}"
        return done

    with (tmp_path / "serve.log").open("wb") as out:
        collector = subprocess.Popen(
            shlex.split(serve.rstrip("& ")),
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_ready(env["SIGHTLINE_URL"], collector, tmp_path / "serve.log")
        assert "loans" in run(register).stdout
        assert "logged 2000 predictions" in run(log).stdout
        deadline = time.monotonic() + 60  # the scheduler looks every 5 s
        while True:
            rows = json.loads(run(f"{drift} --format json").stdout)
            if any(r["metric"] == "jensen_shannon" for r in rows):
                break
            assert time.monotonic() < deadline, "no drift rows after 60 s"
            time.sleep(0.5)
        shown = run(drift).stdout  # as written: a table
        drifted = {r["column"] for r in rows if r["alert"] and r["metric"] == "jensen_shannon"}
        assert {"income", "purpose"} <= drifted, drifted
        assert not drifted & {"age", "loan_amount", "region", "term"}, drifted  # unchanged
        assert "jensen_shannon" in shown and "income" in shown
    finally:
        collector.terminate()
        assert collector.wait(timeout=30) == 0
    assert "scheduler pass:" in (tmp_path / "serve.log").read_text()
