"""The decoded-reference cache of the window jobs is keyed by the reference's bytes: the
same (project, model, version) with another reference (another store, or a re-registered
version) gets its own, and the rows are those computed without the cache."""

from __future__ import annotations

from pathlib import Path

from scheduler.test_scheduler import EVENTS, NOW, PAYLOADS, REFERENCE, all_rows, data, ingest
from sightline.analysis.profiling import profile_data
from sightline.scheduler import Scheduler
from sightline.scheduler.jobs import comparison, decoded, decoded_reference
from sightline.store import Store, open_store


def drift(store: Store) -> float:
    """The largest drift statistic of column ``x`` in the newest window."""
    rows = store.latest_metric_rows("p", "m", "drift")
    return max(r.value for r in rows if r.column == "x")


def test_another_reference_of_the_same_version_is_seen_by_the_next_job(tmp_path: Path) -> None:
    first, second = open_store(tmp_path / "a"), open_store(tmp_path / "b")
    try:
        ingest(first, EVENTS)
        Scheduler(first).run_once(NOW)
        shifted = profile_data(  # binned as the first reference, so the windows compare
            data(2000, 5, shift=2.0), reference=REFERENCE, model="m", version="1"
        )
        PAYLOADS["reference"], saved = shifted.to_bytes(), PAYLOADS["reference"]
        try:
            ingest(second, EVENTS)
        finally:
            PAYLOADS["reference"] = saved
        Scheduler(second).run_once(NOW)
        assert drift(second) > drift(first) + 0.1
        cached = all_rows(second)
        decoded.cache_clear()  # without the caches: the same rows
        decoded_reference.cache_clear()
        comparison.cache_clear()
        with second._write() as tx:
            tx.execute("DELETE FROM jobs_done")
        Scheduler(second).run_once(NOW)
        assert all_rows(second) == cached
    finally:
        first.close()
        second.close()
