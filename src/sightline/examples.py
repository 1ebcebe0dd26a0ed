"""A bundled example: a loan-default model's reference data and a drifted month.

Generated from a fixed seed, so the demo and the tests see the same data everywhere and
nothing is downloaded. What changed in the current month (the demo report should show it):

* ``income`` shifted down by about 0.4 reference standard deviations;
* ``purpose`` moved towards ``"debt_consolidation"`` and gained a new category ``"crypto"``;
* ``credit_score`` lost 8 % of its values (missing) and has a few values of the wrong type;
* the model's accuracy fell, because the relation between income and default changed.
``age``, ``loan_amount``, ``term`` and ``region`` did not change.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

PURPOSES = ("car", "debt_consolidation", "education", "home", "medical", "other")
REGIONS = ("north", "south", "east", "west")


def loan_data(n_rows: int = 20_000, *, seed: int = 7) -> tuple[pa.Table, pa.Table]:
    """Reference and drifted current tables of the loan-default example.

    Examples
    --------
    >>> reference, current = loan_data(1000)
    >>> reference.num_rows, current.num_rows, "income" in current.column_names
    (1000, 1000, True)
    """
    rng = np.random.default_rng(seed)
    reference = _month(rng, n_rows, drifted=False)
    current = _month(rng, n_rows, drifted=True)
    return reference, current


def _month(rng: np.random.Generator, n: int, *, drifted: bool) -> pa.Table:
    age = np.clip(rng.normal(41, 12, n), 18, 90).round()
    income = rng.lognormal(10.9 - (0.2 if drifted else 0.0), 0.5, n).round(-2)
    loan_amount = rng.gamma(2.0, 6000.0, n).round(-1)
    credit_score = np.clip(rng.normal(680, 60, n), 300, 850).round()
    term = rng.choice([36, 60], n, p=[0.7, 0.3])
    shares = [0.15, 0.45, 0.1, 0.15, 0.05, 0.1] if drifted else [0.2, 0.3, 0.1, 0.2, 0.1, 0.1]
    purpose = rng.choice(PURPOSES, n, p=shares).astype(object)
    region = rng.choice(REGIONS, n)
    weight = -0.3 if drifted else 1.2
    logit = (
        -1.0
        - weight * (np.log(income) - 10.9) / 0.5
        + 0.8 * (loan_amount / 12000 - 1)
        - 1.5 * (credit_score - 680) / 60
        + 0.4 * (term == 60)
    )
    p_true = 1 / (1 + np.exp(-logit))
    target = (rng.random(n) < p_true).astype(np.int64)
    # The model learned the reference relation; it scores every month the same way.
    model_logit = -1.0 - 1.2 * (np.log(income) - 10.9) / 0.5 + 0.8 * (loan_amount / 12000 - 1)
    model_logit += -1.5 * (credit_score - 680) / 60 + 0.4 * (term == 60)
    probability = 1 / (1 + np.exp(-model_logit))
    score_text: list[object] = [float(v) for v in credit_score]
    if drifted:
        purpose[rng.random(n) < 0.03] = "crypto"
        for i in np.flatnonzero(rng.random(n) < 0.08):
            score_text[i] = None
        for i in np.flatnonzero(rng.random(n) < 0.002):
            score_text[i] = "unknown"
    return pa.table(
        {
            "age": age,
            "income": income,
            "loan_amount": loan_amount,
            "credit_score": pa.array([None if v is None else str(v) for v in score_text])
            if drifted
            else credit_score,
            "term": term,
            "purpose": purpose.astype(str),
            "region": region,
            "probability": probability.round(4),
            "prediction": (probability >= 0.5).astype(np.int64),
            "target": target,
        }
    )


__all__ = ["PURPOSES", "REGIONS", "loan_data"]
