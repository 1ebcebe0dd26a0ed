"""The README's Alerts section: its three examples are valid rules files, and the first,
the minimal file, works as written end to end (issue 14's loopback test).

A real ``sightline serve --rules`` process with the minimal file (its receiver's URL
pointing at a local receiver instead of port 9000, which another program may hold),
10-second windows, and drifted data logged through ``sightline.Monitor``: the receiver
gets exactly one signed firing notification whose evidence names the drifted column,
then, once the data is back to normal, exactly one resolved notification.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from sightline.alerts import parse_rules
from sightline.profile import Column, Schema
from sightline.sdk import Monitor
from sightline.store import open_store
from support.live import free_port, wait_ready
from support.receiver import Receiver, receiver

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Schema((Column("x"), Column("z"), Column("y", role="prediction")))
BASE = "/api/v1/models/churn/versions/1"
#: Rows per second logged: enough that an unchanged column's sampling noise stays far
#: below the drift thresholds.
RATE = 1000


def alert_examples() -> list[str]:
    """The YAML blocks of the README's Alerts section, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Alerts\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", section, re.S)


def test_the_three_examples_are_valid_rules_files() -> None:
    drift, estimated, latency = (parse_rules(block) for block in alert_examples())
    assert [r.match.metric for r in drift.rules] == ["jensen_shannon"]
    assert drift.receivers[0].url == "http://127.0.0.1:9000/hook"
    assert [r.match.metric for r in estimated.rules] == ["estimated_accuracy"]
    assert [(s.kind, s.threshold_ms) for s in latency.slos] == [("latency", 50.0)]
    assert latency.rules[0].match.metric == "slo_burn"


def _columns(n: int, rng: np.random.Generator, shift: float = 0.0) -> dict[str, np.ndarray]:
    return {"x": rng.normal(shift, 1, n), "z": rng.normal(0, 1, n), "y": rng.uniform(0, 1, n)}


def _register(url: str, key: str) -> None:
    import httpx

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as c:
        assert c.put(BASE, json=SCHEMA.to_dict()).status_code == 200
        out = io.BytesIO()
        pacsv.write_csv(pa.table(_columns(20_000, np.random.default_rng(0))), out)
        put = c.put(
            f"{BASE}/reference", content=out.getvalue(), headers={"content-type": "text/csv"}
        )
        assert put.status_code == 200, put.text
        window = {"window": "10s", "lateness": "2s"}
        assert c.put("/api/v1/models/churn/settings", json=window).status_code == 200


def _log_until(m: Monitor, rng: np.random.Generator, shift: float, done: object) -> None:
    """Log ``RATE`` rows a second (x shifted by ``shift``) until ``done()``, at most 60 s."""
    deadline = time.monotonic() + 60
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, "no notification after 60 s"
        batch = _columns(RATE // 10, rng, shift)
        m.log_batch({"x": batch["x"], "z": batch["z"]}, predictions=batch["y"].tolist())
        time.sleep(0.1)


def test_the_minimal_file_as_written_fires_once_and_resolves_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = open_store(str(data))
    admin = store.create_key("default", "admin")
    ingest = store.create_key("default", "ingest")
    store.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with receiver() as hook:
        rules = tmp_path / "rules.yaml"
        rules.write_text(alert_examples()[0].replace("http://127.0.0.1:9000/hook", hook.url))
        log = tmp_path / "serve.log"
        command = [sys.executable, "-m", "sightline", "serve", "--data", str(data)]
        command += ["--port", str(port), "--schedule-every", "0.5", "--rules", str(rules)]
        with log.open("wb") as out:
            collector = subprocess.Popen(
                [*command, "--log-level", "warning"], stdout=out, stderr=subprocess.STDOUT
            )
        try:
            wait_ready(url, collector, log)
            _register(url, admin)
            _run(url, ingest, hook, tmp_path)
        finally:
            collector.terminate()
            assert collector.wait(timeout=30) == 0, log.read_text()[-3000:]


def _run(url: str, key: str, hook: Receiver, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    # Start in the first half of a window, so that the first one holds thousands of rows
    # (a window of a few rows would be noisy enough to flag an unchanged column).
    into = time.time() % 10
    if into > 5:
        time.sleep(10 - into)
    started = time.monotonic()
    with Monitor(
        "churn", "1", url=url, api_key=key, window=10, spool_dir=tmp_path / "spool", tick=0.1
    ) as m:
        _log_until(m, rng, 3.0, lambda: len(hook.got) >= 1)  # drifted x
        fired = time.monotonic() - started
        _log_until(m, rng, 0.0, lambda: len(hook.got) >= 2)  # back to normal
        resolved = time.monotonic() - started
    time.sleep(1.5)  # several scheduler passes: nothing else is sent
    firing, back = hook.got
    assert len(hook.got) == 2
    for got in (firing, back):
        signed = hmac.new(b"change-me", got.raw, hashlib.sha256).hexdigest()
        assert got.headers["X-Sightline-Signature"] == f"sha256={signed}"
    assert firing.body["status"] == "firing" and back.body["status"] == "resolved"
    assert firing.body["groupLabels"] == {"model": "churn"}
    (alert,) = firing.body["alerts"]
    assert alert["labels"]["column"] == "x" and alert["evidence"]["column"] == "x"
    assert alert["evidence"]["metric"] == "jensen_shannon"
    assert alert["evidence"]["moved"][0]["change"] > 0.5  # the top bins took the shift
    (ended,) = back.body["alerts"]
    assert ended["fingerprint"] == alert["fingerprint"] and ended["status"] == "resolved"
    # the route's group_interval (30 s) spaces the resolution from the firing
    assert resolved - fired >= 29, (fired, resolved)
    print(f"\nfiring after {fired:.1f} s, resolved after {resolved:.1f} s")
