"""The ``credit-scoring`` service of the demo: its features, its model, its drifts.

Rows are drawn from a Kronecker sequence (``k * sqrt(prime)`` modulo 1, one prime per
column) through each column's inverse distribution function rather than from a random
generator: any run of consecutive rows covers every distribution evenly, so a window of the
untouched columns matches the reference closely and stays quiet, while the columns the demo
drifts move clearly. (An i.i.d. stream would show the chi-square test's few false alarms:
correct, but a distraction in a demo.)

* covariate drift: ``credit_score`` falls and narrows (mean 680 to 645, sd 60 to 20), so
  the model's scores move towards 0.5 and its estimated accuracy drops (0.84 to 0.71), and
  ``purpose`` moves towards ``debt_consolidation``; ``age``, ``income``, ``loan_amount``,
  ``term`` and ``region`` do not change;
* concept drift: the outcomes follow the opposite of the model's relation, so the labels
  disagree with the predictions and the realized accuracy falls while the estimate does not.

>>> stream = Stream(seed=1)
>>> rows = stream.draw(4, Phase())
>>> sorted(rows.features), len(rows.labels)
(['age', 'credit_score', 'income', 'loan_amount', 'purpose', 'region', 'term'], 4)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

MODEL = "credit-scoring"
VERSION = "1"
#: The features the covariate drift moves; the others keep their reference distribution.
DRIFTED = ("credit_score", "purpose")
FEATURES = ("age", "income", "loan_amount", "credit_score", "term", "purpose", "region")
PURPOSES = ("car", "debt_consolidation", "education", "home", "medical", "other")
REGIONS = ("north", "south", "east", "west")
_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19)  # one per feature, the last for the outcome
_ALPHA = np.sqrt(np.asarray(_PRIMES, dtype=np.float64)) % 1.0
_SHARES = np.asarray([0.2, 0.3, 0.1, 0.2, 0.1, 0.1])
_DRIFTED_SHARES = np.asarray([0.1, 0.55, 0.05, 0.15, 0.05, 0.1])

Array = npt.NDArray[Any]


@dataclass(frozen=True)
class Phase:
    """Which drifts are in force."""

    covariate: bool = False
    concept: bool = False


@dataclass(frozen=True)
class Rows:
    """Rows column-wise: the features, the model's outputs, the true outcomes."""

    features: dict[str, Array]
    probability: Array
    prediction: Array
    labels: Array

    def feature_row(self, i: int) -> dict[str, Any]:
        """Row ``i``'s features as plain Python values (what a service would log)."""
        return {name: values[i].item() for name, values in self.features.items()}


class Stream:
    """The rows one serving instance sees, in order; ``seed`` sets where its sequence
    starts, so that instances do not send the same rows."""

    def __init__(self, seed: int) -> None:
        self._offset = np.random.default_rng(seed).random(len(_PRIMES))
        self._k = 0

    def draw(self, n: int, phase: Phase) -> Rows:
        """The next ``n`` rows under ``phase``."""
        k = np.arange(self._k, self._k + n, dtype=np.float64)[:, None]
        self._k += n
        u = np.clip((self._offset + k * _ALPHA) % 1.0, 1e-9, 1 - 1e-9)
        return _rows(u, phase)


def _rows(u: Array, phase: Phase) -> Rows:
    z_credit = special.ndtri(u[:, 3]) * (20.0 if phase.covariate else 60.0)
    credit = np.clip((645.0 if phase.covariate else 680.0) + z_credit, 300, 850).round()
    shares = _DRIFTED_SHARES if phase.covariate else _SHARES
    features = {
        "age": np.clip(41.0 + 12.0 * special.ndtri(u[:, 0]), 18, 90).round(),
        "income": np.exp(10.9 + 0.5 * special.ndtri(u[:, 1])).round(-2),
        "loan_amount": (6000.0 * special.gammaincinv(2.0, u[:, 2])).round(-1),
        "credit_score": credit,
        "term": np.where(u[:, 4] < 0.3, 60, 36),
        "purpose": np.asarray(PURPOSES)[np.searchsorted(np.cumsum(shares), u[:, 5])],
        "region": np.asarray(REGIONS)[(u[:, 6] * len(REGIONS)).astype(np.int64)],
    }
    probability = score(features)
    truth = 1.0 - probability if phase.concept else probability
    return Rows(
        features=features,
        probability=probability.round(4),
        prediction=(probability >= 0.5).astype(np.int64),
        labels=(u[:, 7] < truth).astype(np.int64),
    )


def score(features: dict[str, Array]) -> Array:
    """The model: the probability of default, from credit score, income, loan and term.

    >>> float(score({"credit_score": np.array([680.0]), "income": np.array([54000.0]),
    ...              "loan_amount": np.array([12000.0]), "term": np.array([36])})[0].round(3))
    0.183
    """
    logit = (
        -1.5
        - 2.5 * (features["credit_score"] - 680.0) / 60.0
        - 0.8 * (np.log(features["income"]) - 10.9) / 0.5
        + 0.8 * (features["loan_amount"] / 12000.0 - 1.0)
        + 0.4 * (features["term"] == 60)
    )
    return np.asarray(special.expit(logit))


def reference(n: int = 5000, seed: int = 7) -> dict[str, Array]:
    """The labelled reference of ``credit-scoring`` (features, ``prediction``,
    ``probability``, ``target``), column-wise, the same for a given ``seed``."""
    rows = Stream(seed).draw(n, Phase())
    return {
        **rows.features,
        "probability": rows.probability,
        "prediction": rows.prediction,
        "target": rows.labels,
    }


__all__ = ["DRIFTED", "FEATURES", "MODEL", "VERSION", "Phase", "Rows", "Stream", "reference"]
