"""``GET /api/v1/jobs`` and ``sightline jobs``: who ran which job, and what fails."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from conftest import running_collector
from scale.backlog import HOUR, PROJECT, T0, junk_window, seed
from sightline.cli.main import main
from sightline.scheduler import Replica, Scheduler
from sightline.server.state import Settings
from sightline.store import utcnow


def test_job_runs_through_the_api_and_the_cli(
    store_location: str, capsys: pytest.CaptureFixture[str]
) -> None:
    quiet = Settings(schedule_every=timedelta(0))  # this test runs the scheduler itself
    with running_collector(store_location, settings=quiet) as live:
        seed(live.store, 2)
        live.store.insert_rows("profiles", junk_window("m1", 9))
        Scheduler(live.store, replica=Replica(live.store, "here")).run_once()

        admin = live.client()
        runs = admin.get("/api/v1/jobs").json()
        assert len(runs["jobs"]) == 2 * 8 * 4 + 3
        assert {r["replica"] for r in runs["jobs"]} == {"here"}
        assert [r["replica"] for r in runs["replicas"]] == ["here"]
        # Runs leased together share started_at, so their order is by run_id: pick by state.
        ok = [r for r in runs["jobs"] if r["state"] == "ok"]
        assert len(ok) == len(runs["jobs"]) - 3
        assert all(r["duration_s"] >= 0 and r["fingerprint"] for r in ok)
        failed = admin.get("/api/v1/jobs", params={"state": "failed"}).json()["jobs"]
        assert sorted(r["kind"] for r in failed) == ["drift", "health", "quality"]
        assert {(r["model"], r["window_start"]) for r in failed} == {
            ("m1", (T0 + 9 * HOUR).isoformat() + "Z")
        }
        assert all("Error" in r["error"] for r in failed)
        one = admin.get("/api/v1/jobs", params={"model": "m0"}).json()["jobs"]
        assert len(one) == 8 * 4 and {r["model"] for r in one} == {"m0"}
        future = (utcnow() + timedelta(hours=1)).isoformat()
        assert admin.get("/api/v1/jobs", params={"since": future}).json()["jobs"] == []
        assert len(admin.get("/api/v1/jobs", params={"limit": 5}).json()["jobs"]) == 5
        bad = admin.get("/api/v1/jobs", params={"state": "done"})
        assert bad.status_code == 422 and bad.json()["field"] == "state"
        reader = live.client(live.store.create_key(PROJECT, "read"))
        assert reader.get("/api/v1/jobs").status_code == 403

        remote = ["--url", live.url, "--key", live.admin_key]
        assert main(["jobs", *remote, "--state", "failed", "--format", "json"]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert sorted(r["kind"] for r in printed) == ["drift", "health", "quality"]
        assert main(["jobs", *remote, "--model", "m0", "--format", "csv"]) == 0
        table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
        assert len(table) == 8 * 4 and table[0]["state"] == "ok"
        assert main(["jobs", *remote, "--state", "failed"]) == 0
        shown = capsys.readouterr().out
        assert "failed" in shown and "m1" in shown and "Traceback" not in shown
        assert main(["jobs", *remote, "--replicas", "--format", "json"]) == 0
        assert [r["replica"] for r in json.loads(capsys.readouterr().out)] == ["here"]
