"""The verdict over kinds of alert: which row is which kind, which gate fails, the headline."""

from __future__ import annotations

import pytest

from sightline.analysis.rows import MetricRow
from sightline.analysis.verdict import GATES, parse_gates, row_kind, verdict
from sightline.errors import InvalidInputError

SHARE = MetricRow(metric="drift_share", value=0.2, upper=0.5)
DRIFTED = MetricRow(metric="drift_share", value=0.6, upper=0.5, alert=True)


def col(metric: str, column: str = "a", alert: bool = True) -> MetricRow:
    return MetricRow(metric=metric, value=1.0, column=column, alert=alert)


@pytest.mark.parametrize(
    ("row", "kind"),
    [
        (col("psi"), "drift"),
        (col("missing_share"), "quality"),
        (col("label_coverage", "target"), "performance"),
        (MetricRow(metric="accuracy", value=0.9), "performance"),
        (SHARE, "dataset"),
        (MetricRow(metric="reconstruction_error", value=0.1), "dataset"),
        (MetricRow(metric="confusion[1,0]", value=3.0), "confusion"),
        (col("whatever"), "other"),
        (MetricRow(metric="psi", value=0.1), "other"),
    ],
)
def test_row_kind(row: MetricRow, kind: str) -> None:
    assert row_kind(row) == kind


def test_each_gate_fails_on_its_own_kind_only() -> None:
    quality = col("missing_share")
    accuracy = MetricRow(metric="accuracy", value=0.8, lower=0.9, alert=True)
    drifting_column = col("psi")  # one column drifted, the data set did not
    rows = [SHARE, drifting_column, quality, accuracy]
    assert verdict(rows).failed == ("performance", "quality")
    assert verdict(rows, ["drift"]).passed
    assert verdict([DRIFTED, drifting_column], ["drift"]).failed == ("drift",)
    not_computed = MetricRow(metric="accuracy", value=0.0, alert=True, method="not computed: x")
    assert verdict([SHARE, not_computed]).passed


def test_headline_names_every_kind_of_alert() -> None:
    rows = [DRIFTED, col("psi", "a"), col("psi", "b"), col("missing_share", "a")]
    rows.append(MetricRow(metric="accuracy", value=0.8, lower=0.9, alert=True))
    assert verdict(rows).headline == (
        "Data set drifted: 60.0% of columns (limit 50.0%); drifted: a, b; "
        "Performance dropped: 1 alert (accuracy); Data quality: 1 alert (a: missing_share)"
    )
    assert verdict([SHARE]).headline == "Data set not drifted: 20.0% of columns (limit 50.0%)"
    many = [col("unseen_share", f"c{i:02d}") for i in range(12)]
    assert verdict(many, ["quality"]).headline.endswith("c07: unseen_share and 4 more)")


def test_parse_gates_names_the_field() -> None:
    assert parse_gates(" performance , drift") == ("drift", "performance")
    assert parse_gates(",".join(GATES)) == GATES
    for bad in ("", "drift,speed"):
        with pytest.raises(InvalidInputError, match="fail-on takes") as info:
            parse_gates(bad)
        assert info.value.field == "fail-on"
