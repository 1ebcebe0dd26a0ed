"""Estimated performance before labels: sightline's CBPE/DLE vs NannyML's, on NannyML's data.

Run with the peers' environment (``bash benchmarks/setup.sh`` builds ``benchmarks/.venv``)::

    benchmarks/.venv/bin/python benchmarks/estimation.py 2>/dev/null

Data: NannyML's bundled synthetic sets (reference, analysis, analysis targets joined on
``id``), cut into 10 consecutive analysis chunks (5,000 rows; 6,000 for the 60,000-row
sets). Each tool is fitted on the reference and estimates every analysis chunk; the error
is the mean absolute difference between the estimate and the realized metric of the chunk
(computed with the labels by ``sightline.stats.performance``, equal to scikit-learn).
"in band" counts the chunks whose realized value lies within the tool's own band
(estimate +- 3 standard errors). Wall time covers fit + estimate (data in memory, imports
done), median of 3 runs.

- binary (the goal of issue 6): ``load_synthetic_binary_classification_dataset``, ROC AUC
  and F1; NannyML ``CBPE(problem_type="classification_binary", chunk_size=5000)``.
- multiclass: ``load_synthetic_multiclass_classification_dataset``, ROC AUC and macro F1.
- regression: ``load_synthetic_car_price_dataset``, MAE and RMSE; NannyML ``DLE`` (LightGBM)
  against sightline's ``DLE`` with its default k-nearest-neighbour loss model (the two
  categorical features ordinal-encoded on the reference's categories), and sightline's
  ``DLE`` with a LightGBM loss model (default parameters, as NannyML's).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

RUNS = 3

#: Per metric, one (value, lower, upper) per chunk.
Estimates = dict[str, list[tuple[float, float, float]]]


class Row(NamedTuple):
    data: str
    metric: str
    mae: tuple[float, float]  # sightline, NannyML
    in_band: tuple[int, int]
    seconds: tuple[float, float]
    n_chunks: int


def _timed(call: Callable[[], Estimates]) -> tuple[Estimates, float]:
    """Result of the last of ``RUNS`` calls and their median wall time."""
    times: list[float] = []
    result: Estimates = {}
    for _ in range(RUNS):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def _chunks(n: int, size: int) -> list[slice]:
    return [slice(i, i + size) for i in range(0, n - size + 1, size)]


def _nannyml_estimates(result: Any, metrics: dict[str, str]) -> Estimates:
    """NannyML's analysis chunks, keyed by our metric names (``metrics``: ours -> theirs)."""
    frame = result.filter(period="analysis").to_df()
    out: Estimates = {}
    for ours, theirs in metrics.items():
        m = frame[theirs]
        bounds = (m["value"], m["lower_confidence_boundary"], m["upper_confidence_boundary"])
        out[ours] = list(zip(*bounds, strict=True))
    return out


def _sightline_estimates(
    est: Any, chunks: list[slice], metrics: dict[str, str], *inputs: Any
) -> Estimates:
    """Our estimator on every chunk (``metrics``: benchmark name -> sightline name)."""
    out: Estimates = {m: [] for m in metrics}
    for c in chunks:
        got = est.estimate(*(x[c] if x is not None else None for x in inputs))
        for name, ours in metrics.items():
            e = got[ours]
            out[name].append((e.value, e.lower, e.upper))
    return out


def binary() -> list[Row]:
    import nannyml as nml

    from sightline.stats import performance as perf
    from sightline.stats.estimation import CBPE

    ref, ana, tgt = nml.load_synthetic_binary_classification_dataset()
    ana = ana.merge(tgt, on="id")
    y = "work_home_actual"
    names = {"roc_auc": "roc_auc", "f1": "f1"}
    chunks = _chunks(len(ana), 5_000)
    proba, pred, truth = (ana[c].to_numpy() for c in ("y_pred_proba", "y_pred", y))

    def run_nannyml() -> Estimates:
        est = nml.CBPE(
            problem_type="classification_binary",
            y_pred_proba="y_pred_proba",
            y_pred="y_pred",
            y_true=y,
            metrics=list(names),
            chunk_size=5_000,
        )
        est.fit(ref)
        return _nannyml_estimates(est.estimate(ana.drop(columns=[y])), names)

    def run_sightline() -> Estimates:
        est = CBPE().fit(ref[y].to_numpy(), ref["y_pred"].to_numpy(), ref["y_pred_proba"])
        return _sightline_estimates(est, chunks, names, pred, proba)

    realized = {
        "roc_auc": [perf.roc_auc(truth[c], proba[c]) for c in chunks],
        "f1": [perf.f1(truth[c], pred[c]) for c in chunks],
    }
    return _compare("binary", realized, run_sightline, run_nannyml)


def multiclass() -> list[Row]:
    import nannyml as nml
    import numpy as np

    from sightline.stats import performance as perf
    from sightline.stats.estimation import CBPE

    ref, ana, tgt = nml.load_synthetic_multiclass_classification_dataset()
    ana = ana.merge(tgt, on="id")
    classes = sorted(ref["y_true"].unique())
    cols = {c: f"y_pred_proba_{c}" for c in classes}
    size = len(ana) // 10
    chunks = _chunks(len(ana), size)
    proba = ana[[cols[c] for c in classes]].to_numpy()
    pred, truth = ana["y_pred"].to_numpy(), ana["y_true"].to_numpy()

    def run_nannyml() -> Estimates:
        est = nml.CBPE(
            problem_type="classification_multiclass",
            y_pred_proba=cols,
            y_pred="y_pred",
            y_true="y_true",
            metrics=["roc_auc", "f1"],
            chunk_size=size,
        )
        est.fit(ref)
        return _nannyml_estimates(
            est.estimate(ana.drop(columns=["y_true"])), {"roc_auc": "roc_auc", "f1_macro": "f1"}
        )

    def run_sightline() -> Estimates:
        est = CBPE().fit(
            ref["y_true"].to_numpy(),
            ref["y_pred"].to_numpy(),
            ref[[cols[c] for c in classes]].to_numpy(),
            classes=np.array(classes),
        )
        names = {"roc_auc": "roc_auc", "f1_macro": "f1_macro"}
        return _sightline_estimates(est, chunks, names, pred, proba)

    realized = {
        "roc_auc": [perf.roc_auc_ovr(truth[c], proba[c], classes) for c in chunks],
        "f1_macro": [perf.f1(truth[c], pred[c], average="macro") for c in chunks],
    }
    return _compare("multiclass", realized, run_sightline, run_nannyml)


class _LightGBM:
    """LightGBM with its default parameters through its native API (``LGBMRegressor.fit``
    of lightgbm 4.5 calls a scikit-learn 1.9 check with a removed keyword)."""

    def fit(self, X: Any, y: Any) -> _LightGBM:
        import lightgbm

        params = {"objective": "regression", "verbosity": -1}
        self.booster = lightgbm.train(params, lightgbm.Dataset(X, y))
        return self

    def predict(self, X: Any) -> Any:
        return self.booster.predict(X)


def regression(*, lightgbm: bool = False) -> list[Row]:
    import nannyml as nml
    import numpy as np

    from sightline.stats import performance as perf
    from sightline.stats.estimation import DLE

    ref, ana, tgt = nml.load_synthetic_car_price_dataset()
    ana = ana.merge(tgt, on="id")
    features = ["car_age", "km_driven", "price_new", "accident_count", "door_count"]
    categorical = ["fuel", "transmission"]
    names = {"mae": "mae", "rmse": "rmse"}
    size = len(ana) // 10
    chunks = _chunks(len(ana), size)

    def encode(frame: Any) -> Any:
        codes = [
            frame[c].map({v: i for i, v in enumerate(sorted(ref[c].unique()))}).fillna(-1)
            for c in categorical
        ]
        return np.column_stack([frame[features].to_numpy(float), *codes])

    x_ana, pred, truth = encode(ana), ana["y_pred"].to_numpy(float), ana["y_true"].to_numpy(float)

    def run_nannyml() -> Estimates:
        est = nml.DLE(
            feature_column_names=features + categorical,
            y_pred="y_pred",
            y_true="y_true",
            metrics=list(names),
            chunk_size=size,
        )
        est.fit(ref)
        return _nannyml_estimates(est.estimate(ana.drop(columns=["y_true"])), names)

    def run_sightline() -> Estimates:
        est = DLE(model=_LightGBM() if lightgbm else None)
        est.fit(encode(ref), ref["y_true"].to_numpy(float), ref["y_pred"].to_numpy(float))
        return _sightline_estimates(est, chunks, names, x_ana, pred)

    realized = {
        "mae": [perf.mae(truth[c], pred[c]) for c in chunks],
        "rmse": [perf.rmse(truth[c], pred[c]) for c in chunks],
    }
    name = "regression (sightline with LightGBM)" if lightgbm else "regression"
    return _compare(name, realized, run_sightline, run_nannyml)


def _compare(
    name: str,
    realized: dict[str, list[float]],
    run_sightline: Callable[[], Estimates],
    run_nannyml: Callable[[], Estimates],
) -> list[Row]:
    import numpy as np

    ours, t_ours = _timed(run_sightline)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, t_theirs = _timed(run_nannyml)
    rows = []
    for metric, real in realized.items():
        r = np.asarray(real)
        maes, inside = [], []
        for tool, got in (("sightline", ours[metric]), ("nannyml", theirs[metric])):
            if len(got) != r.size:
                raise RuntimeError(f"{name}: {tool} made {len(got)} chunks, not {r.size}")
            value, lower, upper = (np.asarray(v, dtype=float) for v in zip(*got, strict=True))
            maes.append(float(np.mean(np.abs(value - r))))
            inside.append(int(np.sum((lower <= r) & (r <= upper))))
            print(f"{name} {metric} {tool}: {np.round(value, 4).tolist()}", file=sys.stderr)
        print(f"{name} {metric} realized: {np.round(r, 4).tolist()}", file=sys.stderr)
        rows.append(
            Row(
                name, metric, (maes[0], maes[1]), (inside[0], inside[1]), (t_ours, t_theirs), r.size
            )
        )
    return rows


def main() -> None:
    import nannyml

    rows = binary() + multiclass() + regression() + regression(lightgbm=True)
    print(f"\nnannyml {nannyml.__version__}; 10 analysis chunks per data set\n")
    print(
        "| data set | metric | sightline MAE | NannyML MAE | sightline / NannyML "
        "| in band: sightline | in band: NannyML | sightline s | NannyML s |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        digits = 1 if row.data.startswith("regression") else 6
        ours, theirs = row.mae
        print(
            f"| {row.data} | {row.metric} | {ours:.{digits}f} | {theirs:.{digits}f} "
            f"| {ours / theirs:.3f} | {row.in_band[0]}/{row.n_chunks} "
            f"| {row.in_band[1]}/{row.n_chunks} | {row.seconds[0]:.2f} | {row.seconds[1]:.2f} |"
        )


if __name__ == "__main__":
    main()
