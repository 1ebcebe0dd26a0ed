"""Evidence of a firing alert, from the store: the bins or categories that moved most
(the window's and the reference's profiles), the onset by the rule's condition, and the
estimated performance of the window; on both stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from sightline.alerts import Alerting, parse_rules
from sightline.alerts.engine import evaluate_project
from sightline.alerts.evidence import moved_items
from sightline.analysis.columns import SchemaOptions
from sightline.analysis.profiling import profile_data
from sightline.analysis.rows import MetricRow
from sightline.profile import Column, Profile, Schema
from sightline.profile.column import CategoricalColumnProfile
from sightline.scheduler import Scheduler
from sightline.store import Idempotency, Store, open_store
from sightline.store import alerts as stored
from sightline.store.records import profile_record
from support.metric_rows import put_rows

SCHEMA = Schema((Column("x"), Column("c", kind="categorical"), Column("y", role="prediction")))
T0 = datetime(2026, 3, 1)
HOUR = timedelta(hours=1)
RULES = parse_rules(
    """
rules:
  - {name: drift, match: {metric: jensen_shannon, column: "*"}, when: alert}
  - {name: band, match: {metric: psi, column: "*"}, when: outside bounds}
"""
)


def _data(n: int, seed: int, shifted: bool = False) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(3.0 if shifted else 0.0, 1, n)
    p = [0.8, 0.1, 0.1] if shifted else [1 / 3, 1 / 3, 1 / 3]
    return pa.table({"x": x, "c": rng.choice(["a", "b", "c"], n, p=p), "y": rng.uniform(0, 1, n)})


def _drifted_window(store: Store) -> Profile:
    """Version 1 of ``m`` with a reference and one window (hour 1) whose ``x`` moved up
    by three standard deviations and whose ``c`` moved to ``a``; its reference."""
    reference = profile_data(
        _data(3000, 0), columns=SchemaOptions(schema=SCHEMA), model="m", version="1"
    )
    store.register_version("default", "m", "1", SCHEMA.to_dict())
    store.set_reference("default", "m", "1", reference.to_bytes())
    window = profile_data(
        _data(1000, 1, shifted=True),
        reference=reference,
        model="m",
        version="1",
        instance_id="i1",
        window_start=(T0 + HOUR).replace(tzinfo=UTC),
        window_end=(T0 + 2 * HOUR).replace(tzinfo=UTC),
    )
    body = window.to_bytes()
    rows = profile_record("default", window, body, "w1", T0)
    store.ingest("default", Idempotency("w1", "w1", "profiles"), "profiles", rows)
    return reference


def test_the_bins_and_categories_that_moved_most_come_from_the_profiles(
    store_location: str,
) -> None:
    store = open_store(store_location)
    store.create_key("default", "read")  # makes the project
    reference = _drifted_window(store)
    Scheduler(store, alerts=Alerting(RULES)).run_once(T0 + 4 * HOUR)
    alerts = {a.subject: a for a in stored.alert_states(store, "default") if a.state == "firing"}
    details = [json.loads(a.detail_json) for a in alerts.values()]
    evidence = {d["labels"]["column"]: d["evidence"] for d in details}
    assert set(evidence) == {"x", "c"}
    # c: a gained about 0.8 - 1/3 of the share, b and c lost about half of that each
    c = evidence["c"]["moved"]
    assert c[0]["bin"] == "a" and abs(c[0]["change"] - (0.8 - 1 / 3)) < 0.05
    assert {m["bin"] for m in c[1:]} == {"b", "c"}
    assert all(m["change"] < 0 for m in c[1:])
    # x: its reference's quantile bins; the top bin (above the reference's 90th percentile)
    # gained most, and every listed share matches the profiles' own counts
    x = evidence["x"]["moved"]
    edges = reference.columns["x"].edges
    assert x[0]["bin"] == f">= {edges[-1]:.4g}" and x[0]["change"] > 0.8
    ref_bins = reference.columns["x"].bins
    assert x[0]["reference"] == ref_bins[-1] / ref_bins.sum()
    assert len(x) == 3 and abs(x[0]["change"]) >= abs(x[1]["change"]) >= abs(x[2]["change"])
    assert evidence["x"]["onset"] == "2026-03-01T01:00:00Z"
    store.close()


def test_categories_without_a_vocabulary_move_by_their_frequent_items() -> None:
    ref = CategoricalColumnProfile.zero("city").update(np.array(["a"] * 50 + ["b"] * 50))
    cur = CategoricalColumnProfile.zero("city").update(np.array(["a"] * 10 + ["z"] * 90))
    moved = moved_items(ref, cur)
    assert [(m["bin"], m["change"]) for m in moved] == [("z", 0.9), ("b", -0.5), ("a", -0.4)]


def test_the_onset_is_the_first_window_of_the_run_where_the_rule_held(
    store_location: str,
) -> None:
    store = open_store(store_location)
    store.create_key("default", "read")
    # psi of one column per window: in band, out (its own alert flag says nothing), out
    # again, back in, then out for three windows: the onset is the first of the three
    values = [0.1, 0.5, 0.6, 0.1, 0.4, 0.5, 0.6]
    for i, v in enumerate(values):
        row = MetricRow(metric="psi", value=v, upper=0.2, alert=False, column="age")
        put_rows(store, T0 + i * HOUR, [row], size=HOUR)
    # the window's estimated accuracy, below its reference band by 0.07
    estimate = MetricRow(metric="estimated_accuracy", value=0.78, lower=0.85, upper=0.95)
    put_rows(store, T0 + 6 * HOUR, [estimate], size=HOUR, kind="performance")
    put_rows(store, T0 + 5 * HOUR, [estimate], size=HOUR, kind="performance")  # older
    result = evaluate_project(store, "default", RULES, T0 + 8 * HOUR)
    (alert,) = result.snapshot.alerts.values()
    assert alert.state == "firing"
    assert alert.evidence["onset"] == "2026-03-01T04:00:00Z"
    assert abs(alert.evidence["effect"] - 0.4) < 1e-9
    (impact,) = alert.evidence["estimated_performance"]
    assert impact["metric"] == "estimated_accuracy" and impact["window_start"].startswith(
        "2026-03-01T06:00:00"
    )
    assert abs(impact["effect"] - (0.78 - 0.85)) < 1e-9
    assert alert.evidence["moved"] == []  # no profiles behind these rows
    store.close()
