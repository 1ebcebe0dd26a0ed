"""The rolling reference over a real store and scheduler: late and replayed profiles,
readiness, the guard against drift inside the reference, and edges fixed by the collector."""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from conftest import running_collector
from sightline.analysis.columns import SchemaOptions
from sightline.analysis.profiling import profile_data
from sightline.analysis.rows import MetricRow
from sightline.profile import Column, Profile, Schema
from sightline.scheduler import Scheduler
from sightline.sdk import Monitor
from sightline.server.state import Settings
from sightline.store import Idempotency, Store, open_store
from sightline.store.records import profile_record
from sightline.store.scheduling import ModelSettings
from support.live import windowed_model

SCHEMA = Schema((Column("x"), Column("y", role="prediction")))
T0 = datetime(2026, 3, 1)
SIZE = timedelta(seconds=10)
NOW = T0 + 100 * SIZE


def table(n: int, seed: int, shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({"x": rng.normal(shift, 1, n), "y": rng.uniform(0, 1, n)})


REFERENCE = profile_data(
    table(3000, 0), columns=SchemaOptions(schema=SCHEMA), model="m", version="1"
)


@pytest.fixture
def store(store_location: str) -> Iterator[Store]:
    s = open_store(store_location)
    s.register_version("p", "m", "1", SCHEMA.to_dict())
    yield s
    s.close()


def send(
    store: Store,
    window: int,
    n: int,
    key: str,
    *,
    shift: float = 0.0,
    reference: Profile | None = REFERENCE,
) -> None:
    """One SDK flush of ``n`` rows into ``window`` (10-second windows after T0)."""
    start = (T0 + window * SIZE).replace(tzinfo=UTC)
    p = profile_data(
        table(n, seed=zlib.crc32(key.encode()), shift=shift),
        reference=reference,
        columns=SchemaOptions(schema=SCHEMA),
        model="m",
        version="1",
        instance_id="i1",
        window_start=start,
        window_end=start + SIZE,
    )
    body = p.to_bytes()
    rows = profile_record("p", p, body, key, T0)
    store.ingest("p", Idempotency(key, key, "profiles"), "profiles", rows)


def rolling(store: Store, windows: int = 3, **extra: object) -> None:
    store.set_model_settings(
        "p", "m", ModelSettings(window=10, lateness=1, reference_windows=windows, **extra)
    )


def drift(store: Store, column: str = "x", metric: str = "jensen_shannon") -> list[MetricRow]:
    return store.metric_rows("p", "m", since=T0, until=NOW, column=column, metric=metric)


def test_a_late_profile_reruns_every_window_whose_reference_holds_it(store: Store) -> None:
    store.set_reference("p", "m", "1", REFERENCE.to_bytes())
    rolling(store)
    for w in range(6):
        send(store, w, 148, f"w{w}")
    Scheduler(store).run_once(NOW)
    assert [r.n_ref for r in drift(store)] == [444, 444, 444]  # windows 3, 4 and 5
    send(store, 1, 40, "late")  # 40 more rows for window 1, after it was computed
    report = Scheduler(store).run_once(NOW)
    assert report.failed == []
    assert [r.n_ref for r in drift(store)] == [484, 484, 444]  # 3 and 4 hold window 1
    assert Scheduler(store).run_once(NOW).planned == 0


def test_profiles_replayed_out_of_order_give_the_rows_of_in_order(
    store: Store, store_location: str
) -> None:
    store.set_reference("p", "m", "1", REFERENCE.to_bytes())
    rolling(store)
    for w in (3, 4, 5):  # a spool replays the newest windows first
        send(store, w, 148, f"w{w}")
    Scheduler(store).run_once(NOW)
    for w in (0, 1, 2):
        send(store, w, 148, f"w{w}")
    Scheduler(store).run_once(NOW)
    replayed = [(r.window_start, r.value, r.n_ref, r.n_cur) for r in drift(store)]
    with store._write() as tx:  # everything again, from scratch
        tx.execute("DELETE FROM metric_rows")
        tx.execute("DELETE FROM jobs_done")
    Scheduler(store).run_once(NOW)
    assert [(r.window_start, r.value, r.n_ref, r.n_cur) for r in drift(store)] == replayed
    assert [r[2] for r in replayed] == [444, 444, 444]


def test_no_verdict_before_the_reference_has_its_windows(store: Store) -> None:
    store.set_reference("p", "m", "1", REFERENCE.to_bytes())
    rolling(store)
    for w, n in enumerate((46, 245, 300, 300)):  # two partial windows first, undrifted
        send(store, w, n, f"w{w}")
    Scheduler(store).run_once(NOW)
    shares = drift(store, column="", metric="drift_share")
    assert [r.is_computed for r in shares] == [False, False, False, True]
    assert all(r.method.startswith("not computed: reference not ready") for r in shares[:3])
    assert "2 of its 3 windows" in shares[2].method
    alerts = store._read("SELECT count(*) FROM metric_rows WHERE alert AND kind = 'drift'")
    assert alerts[0][0] == 0
    assert drift(store)[0].n_ref == 46 + 245 + 300  # window 3 against windows 0-2


def test_a_step_logged_through_the_sdk_is_flagged_without_an_uploaded_reference(
    tmp_path: Path,
) -> None:
    settings = Settings(schedule_every=timedelta(0))  # the test runs the scheduler itself
    with running_collector(str(tmp_path / "data"), settings=settings) as collector:
        admin = collector.client()
        key = windowed_model(collector, SCHEMA.to_dict(), "10s", 3)
        now = time.time()
        base = (now // 10 - 20) * 10  # 8 windows of 10 s, all closed by now
        rng = np.random.default_rng(4)
        scheduler = Scheduler(collector.store)
        with Monitor(
            "m", "1", url=collector.url, api_key=key, window="10s", spool_dir=tmp_path / "spool"
        ) as m:

            def log(window: int, shift: float = 0.0) -> None:
                for x in rng.normal(shift, 1.0, 200):
                    m.log({"x": float(x)}, prediction=0.5, timestamp=base + 10 * window + 1)
                assert m.flush(timeout=20)

            for w in range(3):  # no reference: profiles without bins
                log(w)
            assert scheduler.run_once().failed == []
            # Bins fixed from the first 3 windows; the collector's cache of the version
            # holds for 5 s, and then the Monitor's next window takes them.
            deadline = time.monotonic() + 20
            while not admin.get("/api/v1/models/m/versions/1").json()["has_reference"]:
                assert time.monotonic() < deadline
                time.sleep(0.2)
            for w in range(3, 7):
                log(w)
            log(7, shift=3.0)  # a +3 sd step
            assert scheduler.run_once().failed == []
        rows = collector.store.metric_rows(
            "default", "m", since=datetime(2026, 1, 1), until=datetime(2100, 1, 1)
        )
        share = {r.window_start.timestamp(): r for r in rows if r.metric == "drift_share"}
        x = {
            r.window_start.timestamp(): r
            for r in rows
            if r.column == "x" and r.metric == "jensen_shannon"
        }
        starts = [base + 10 * w for w in range(8)]
        assert all(
            share[s].method.startswith("not computed: profiles without bins") for s in starts[:3]
        )
        assert all("reference not ready" in share[s].method for s in starts[3:6])
        assert [x[s].alert for s in starts[6:]] == [False, True]  # the step, and only it
        assert x[starts[7]].n_ref == 600


def drift_verdicts(store: Store, guard: bool) -> list[bool]:
    """Windows 0-2 steady, 3-7 drifted by 1 sd (a drift that goes on), 8-10 steady again;
    each window is computed once it closed, as a running collector does."""
    store.set_reference("p", "m", "1", REFERENCE.to_bytes())
    rolling(store, reference_exclude_alerted=guard)
    for w in range(11):
        send(store, w, 300, f"w{w}", shift=1.0 if 3 <= w <= 7 else 0.0)
        assert Scheduler(store).run_once(T0 + (w + 1) * SIZE + timedelta(seconds=2)).failed == []
    for _ in range(12):  # the alert flags the guard reads are settled: nothing left to rerun
        if Scheduler(store).run_once(NOW).planned == 0:
            break
    else:
        raise AssertionError("the guarded reference never settled")
    return [r.alert for r in drift(store)]


def test_the_guard_keeps_an_ongoing_drift_out_of_the_reference(store: Store) -> None:
    unguarded = open_store(":memory:")
    unguarded.register_version("p", "m", "1", SCHEMA.to_dict())
    try:
        hidden = drift_verdicts(unguarded, guard=False)
    finally:
        unguarded.close()
    # Windows 3 to 10. Without the guard the drift enters the reference and hides itself
    # (its windows widen the thresholds), and the return to normal looks like a drift.
    assert hidden[0] and not all(hidden[:5])
    guarded = drift_verdicts(store, guard=True)
    # The whole drift is flagged, and the first window back to normal is not. (Later
    # steady windows may still false-alarm: a threshold from the spread of 3 windows of
    # 300 rows is a noisy one.)
    assert guarded[:6] == [True] * 5 + [False]
    assert store.model_settings("p", "m").reference_exclude_alerted


def test_a_rolling_reference_bins_text_descriptors_and_fixes_their_vocabulary() -> None:
    """The bins a collector fixes for a rolling reference cover a text column too: its
    descriptors get decile edges from their KLL sketches and the column the vocabulary of
    its frequent words (the rule of the library's reference vocabulary), so the windows
    binned on them give descriptor drift rows as an uploaded reference would (but
    ``oov_share``, which the unbinned windows could not measure without a vocabulary)."""
    import sightline
    from sightline.analysis.text import reference_vocabulary
    from sightline.scheduler.edges import edges_from_sketches

    rng = np.random.default_rng(5)
    calm = ["tea", "cup", "leaf", "green", "pot", "brew"]
    busy = ["deploy", "server", "https://ops.example/x", "500", "PYTHON", "crash"]

    def texts(words: list[str], n: int) -> list[str]:
        return [" ".join(rng.choice(words, int(rng.integers(3, 12)))) + "." for _ in range(n)]

    schema = Schema((Column("review", kind="text"),))
    seen = texts(calm, 2_000)
    edges, vocabularies = edges_from_sketches(
        Profile.zero(schema).update({"review": seen})
    ).reference_spec()
    assert {"review.length", "review.words", "review.non_letter_share"} <= set(edges)
    assert "review.oov_share" not in edges  # no vocabulary yet, no share: unbinned
    assert vocabularies["review"] == reference_vocabulary(pa.array(seen))

    def binned(rows: list[str]) -> Profile:
        return Profile.zero(schema, edges=edges, vocabularies=vocabularies).update({"review": rows})

    reference = binned(seen)
    found = {}
    for label, window in (("same", texts(calm, 1_000)), ("moved", texts(busy, 1_000))):
        rows = sightline.compare(reference, binned(window)).rows
        found[label] = {r.column: r for r in rows if r.metric == "jensen_shannon"}
    assert not any(r.alert for r in found["same"].values()), found["same"]
    assert found["moved"]["review.non_letter_share"].alert
