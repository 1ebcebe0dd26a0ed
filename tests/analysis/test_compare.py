"""compare(): the rows it emits, cross-checked against scipy on the same columns."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats

import sightline
from sightline import Column, Schema
from sightline.analysis.methods import ALL_METHODS
from sightline.analysis.rows import ROW_FIELDS
from sightline.errors import InvalidInputError, SchemaError


def _pair(n_ref: int = 2000, n_cur: int = 2000, shift: float = 0.0, seed: int = 1):
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame(
        {
            "x": rng.normal(0, 1, n_ref),
            "y": rng.exponential(1.0, n_ref),
            "c": rng.choice(["a", "b", "c"], n_ref, p=[0.5, 0.3, 0.2]),
        }
    )
    cur = pd.DataFrame(
        {
            "x": rng.normal(shift, 1, n_cur),
            "y": rng.exponential(1.0, n_cur),
            "c": rng.choice(["a", "b", "c"], n_cur, p=[0.5, 0.3, 0.2]),
        }
    )
    return ref, cur


def _drift(result: sightline.Result) -> dict[str, sightline.MetricRow]:
    return {r.column: r for r in result.rows if r.metric in ALL_METHODS}


def _decile_counts(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both sides counted on the reference's deciles (numpy's linear quantiles)."""
    edges = np.unique(np.quantile(ref, np.arange(1, 10) / 10))
    return (
        np.bincount(np.searchsorted(edges, ref, side="right"), minlength=edges.size + 1),
        np.bincount(np.searchsorted(edges, cur, side="right"), minlength=edges.size + 1),
    )


def _chi2_p(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    table = np.vstack([ref_counts, cur_counts])
    return float(stats.chi2_contingency(table[:, table.sum(axis=0) > 0]).pvalue)


def test_the_default_is_jensen_shannon_with_the_chi_square_test_on_the_same_bins() -> None:
    from scipy.spatial.distance import jensenshannon

    ref, cur = _pair(shift=0.5)
    rows = _drift(sightline.compare(ref, cur))
    assert {r.metric for r in rows.values()} == {"jensen_shannon"}
    raw = []
    for column in ("x", "y"):
        a, b = _decile_counts(ref[column].to_numpy(), cur[column].to_numpy())
        assert rows[column].value == pytest.approx(jensenshannon(a, b, base=2), rel=1e-9)
        raw.append(_chi2_p(a, b))
    a, b = (pd.Series(side["c"]).value_counts().sort_index().to_numpy() for side in (ref, cur))
    assert rows["c"].value == pytest.approx(jensenshannon(a, b, base=2), rel=1e-9)
    raw.append(_chi2_p(a, b))
    adjusted = stats.false_discovery_control(raw, method="bh")
    got = [rows[c].p_value for c in ("x", "y", "c")]
    np.testing.assert_allclose(got, adjusted, rtol=1e-6)
    assert rows["x"].alert and not rows["y"].alert and not rows["c"].alert
    assert rows["x"].upper == 0.05 and rows["c"].upper == 0.1
    assert rows["x"].n_ref == 2000 and rows["x"].n_cur == 2000


def test_large_samples_flag_only_changes_large_enough_to_matter() -> None:
    ref, cur = _pair(n_ref=20_000, n_cur=10_000, shift=0.25)
    rows = _drift(sightline.compare(ref, cur))
    assert rows["x"].value >= 0.05 and rows["x"].alert
    assert not rows["y"].alert and not rows["c"].alert
    share = sightline.compare(ref, cur).select(metric="drift_share")[0]
    assert share.value == pytest.approx(1 / 3) and not share.alert
    # A 0.05 SD shift is significant at this size, and too small to matter.
    ref, cur = _pair(n_ref=200_000, n_cur=200_000, shift=0.05)
    row = _drift(sightline.compare(ref, cur))["x"]
    assert row.p_value < 1e-6 and row.value < 0.05 and not row.alert


def test_small_windows_do_not_cry_wolf_on_their_noise() -> None:
    """A 100-row window of unchanged data has a Jensen-Shannon distance above the fixed
    0.1 of a distance-only rule; the test on the same bins keeps it quiet."""
    flagged = distances = 0
    for seed in range(20):
        ref, cur = _pair(n_ref=5000, n_cur=100, seed=seed)
        rows = _drift(sightline.compare(ref, cur))
        distances += sum(r.value >= 0.1 for c, r in rows.items() if c != "c")
        flagged += sum(r.alert for r in rows.values())
    assert distances >= 20  # the noise alone passes 0.1 in most windows
    assert flagged <= 3  # 60 columns at a 5 % false-discovery rate


def test_method_and_threshold_override_per_column() -> None:
    ref, cur = _pair()
    result = sightline.compare(
        ref, cur, methods={"x": "psi", "c": "hellinger"}, thresholds={"x": 0.0}
    )
    rows = _drift(result)
    assert rows["x"].metric == "psi" and rows["x"].upper == 0.0 and rows["x"].alert
    assert rows["c"].metric == "hellinger"
    with pytest.raises(InvalidInputError, match="unknown drift method 'nope'"):
        sightline.compare(ref, cur, methods={"x": "nope"})
    with pytest.raises(InvalidInputError, match="column 'c' is categorical"):
        sightline.compare(ref, cur, methods={"c": "ks"})
    with pytest.raises(SchemaError, match=r"not in the reference: \['zzz'\]"):
        sightline.compare(ref, cur, methods={"zzz": "ks"})


def test_inputs_of_every_kind_give_the_same_rows(tmp_path) -> None:
    ref, cur = _pair(n_ref=300, n_cur=200)
    want = sightline.compare(ref, cur).to_dict()["rows"]
    ref.to_csv(tmp_path / "ref.csv", index=False)
    pq.write_table(pa.Table.from_pandas(cur, preserve_index=False), tmp_path / "cur.parquet")
    inputs = [
        (pl.from_pandas(ref), pl.from_pandas(cur)),
        (pa.Table.from_pandas(ref), pa.Table.from_pandas(cur)),
        (tmp_path / "ref.csv", str(tmp_path / "cur.parquet")),
        (ref.to_dict("list"), cur.to_dict("list")),
    ]
    for r, c in inputs:
        got = sightline.compare(r, c).to_dict()["rows"]
        assert [(g["column"], g["metric"]) for g in got] == [
            (w["column"], w["metric"]) for w in want
        ]
        np.testing.assert_allclose(
            [g["value"] if g["value"] is not None else np.nan for g in got],
            [w["value"] if w["value"] is not None else np.nan for w in want],
            rtol=1e-12,
        )


def test_bad_input_names_the_column() -> None:
    ref, cur = _pair(n_ref=100, n_cur=100)
    with pytest.raises(SchemaError, match=r"missing columns in current: \['y'\]"):
        sightline.compare(ref, cur.drop(columns=["y"]))
    with pytest.raises(SchemaError, match="current is empty"):
        sightline.compare(ref, cur.iloc[:0])
    with pytest.raises(SchemaError, match="reference is empty"):
        sightline.compare(ref.iloc[:0], cur)
    with pytest.raises(InvalidInputError, match="current must be a pandas"):
        sightline.compare(ref, 42)
    with pytest.raises(InvalidInputError, match="file not found"):
        sightline.compare(ref, "/nonexistent/cur.csv")


def test_all_nan_infinite_and_mixed_columns_become_rows_not_crashes() -> None:
    ref, cur = _pair(n_ref=500, n_cur=500)
    cur = cur.astype({"y": object})
    cur["x"] = np.nan
    cur.loc[:9, "y"] = "oops"
    cur.loc[10:14, "y"] = np.inf
    result = sightline.compare(ref, cur)
    x_drift = _drift(result)["x"]
    assert not x_drift.is_computed and "no values in current" in x_drift.method
    assert math.isnan(x_drift.value)
    missing = {r.column: r for r in result.select(metric="missing_share")}
    assert missing["x"].value == 1.0 and missing["x"].alert
    violations = {r.column: r for r in result.select(metric="type_violation_share")}
    assert violations["y"].value == pytest.approx(10 / 500) and violations["y"].alert
    inf = {r.column: r for r in result.select(metric="inf_share")}
    assert inf["y"].value == pytest.approx(5 / 500) and inf["y"].alert
    assert _drift(result)["y"].n_cur == 485
    json.loads(result.to_json())  # NaN never leaks into JSON


def test_single_row_and_unseen_categories() -> None:
    ref, cur = _pair(n_ref=500, n_cur=1)
    result = sightline.compare(ref, cur)
    assert _drift(result)["x"].n_cur == 1
    cur = pd.DataFrame(
        {"x": [0.1, 0.2, 0.3, 0.4], "y": [1.0, 2.0, 1.0, 2.0], "c": ["a", "new", "new", None]}
    )
    result = sightline.compare(ref, cur)
    unseen = result.select(metric="unseen_share", column="c")[0]
    assert unseen.value == pytest.approx(2 / 3) and unseen.alert


def test_quality_out_of_range_and_constant() -> None:
    ref = pd.DataFrame({"x": np.linspace(0, 1, 200), "k": np.r_[np.zeros(100), np.ones(100)]})
    cur = pd.DataFrame({"x": np.r_[np.linspace(0, 1, 90), np.full(10, 5.0)], "k": np.zeros(100)})
    result = sightline.compare(ref, cur, numeric=["k"])
    oor = result.select(metric="out_of_range_share", column="x")[0]
    assert oor.value == pytest.approx(0.1) and oor.alert
    constant = result.select(metric="constant", column="k")[0]
    assert constant.value == 1.0 and constant.alert


def test_performance_rows_match_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)

    def frame(n: int, noise: float) -> pd.DataFrame:
        p = rng.random(n)
        y = (rng.random(n) < np.clip(p + rng.normal(0, noise, n), 0, 1)).astype(int)
        return pd.DataFrame(
            {
                "f": rng.normal(size=n),
                "probability": p,
                "prediction": (p >= 0.5).astype(int),
                "target": y,
            }
        )

    ref, cur = frame(3000, 0.0), frame(500, 0.4)
    result = sightline.compare(ref, cur)
    got = {r.metric: r for r in result.rows if r.column == ""}
    assert got["accuracy"].value == pytest.approx(
        metrics.accuracy_score(cur.target, cur.prediction)
    )
    assert got["f1"].value == pytest.approx(metrics.f1_score(cur.target, cur.prediction))
    assert got["roc_auc"].value == pytest.approx(metrics.roc_auc_score(cur.target, cur.probability))
    assert got["log_loss"].value == pytest.approx(metrics.log_loss(cur.target, cur.probability))
    assert got["accuracy"].lower < got["accuracy"].upper  # bounds from 6 reference chunks
    cells = {r.metric: r.value for r in result.rows if r.metric.startswith("confusion[")}
    cm = metrics.confusion_matrix(cur.target, cur.prediction)
    assert cells["confusion[1,0]"] == cm[1, 0]
    assert result.select(metric="label_coverage")[0].value == 1.0


def test_scores_given_as_the_prediction_of_a_classifier_are_refused() -> None:
    rng = np.random.default_rng(5)

    def frame(n: int) -> pd.DataFrame:
        p = rng.random(n)
        return pd.DataFrame({"f": rng.normal(size=n), "pred": p, "y": (rng.random(n) < p) * 1})

    # Each score would be a class: a 20,000-class confusion matrix (this hung before).
    with pytest.raises(InvalidInputError, match="role 'probability'") as caught:
        sightline.compare(frame(20_000), frame(20_000), target="y", prediction="pred")
    assert caught.value.field == "pred"
    # A few predicted classes the target lacks are still classes.
    ref = pd.DataFrame(
        {"f": rng.normal(size=300), "pred": list("abcd") * 75, "y": ["a", "b"] * 150}
    )
    result = sightline.compare(ref, ref, target="y", prediction="pred")
    assert result.select(metric="accuracy")[0].value == pytest.approx(0.5)


def test_regression_performance() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(4)
    y = rng.normal(10, 2, 400)
    ref = pd.DataFrame(
        {"f": rng.normal(size=400), "target": y, "prediction": y + rng.normal(0, 1, 400)}
    )
    cur = ref.copy()
    cur.loc[::7, "target"] = np.nan  # labels not yet arrived
    result = sightline.compare(ref, cur)
    ok = cur.target.notna()
    mae = result.select(metric="mae")[0]
    assert mae.value == pytest.approx(
        metrics.mean_absolute_error(cur.target[ok], cur.prediction[ok])
    )
    assert result.select(metric="label_coverage")[0].value == pytest.approx(ok.mean())


def test_explicit_schema_and_result_shapes(tmp_path) -> None:
    ref, cur = _pair(n_ref=300, n_cur=300)
    schema = Schema((Column("x"), Column("c", kind="categorical")))
    result = sightline.compare(ref, cur, schema=schema, model="m", version="2")
    assert {r.column for r in result.rows} == {"x", "c", ""}
    table = result.table
    assert list(table.columns) == list(ROW_FIELDS)  # DESIGN.md's order
    assert set(table.model) == {"m"}
    data = json.loads(result.to_json(tmp_path / "r.json"))
    assert len(data["rows"]) == len(result.rows)
    assert json.loads((tmp_path / "r.json").read_text())["title"] == result.title
