"""Text content drift: can a classifier tell the current texts from the reference texts?

A TF-IDF + logistic-regression domain classifier is cross-validated on the pooled texts
(label 1 = current); its out-of-fold ROC AUC is 0.5 when the two sides are alike. The
threshold is calibrated against label permutations: the same cross-validation on randomly
relabelled texts gives ``permutations`` null AUCs, and the threshold is the upper bound of a
``1 - level`` one-sided prediction interval for one more null AUC,
``mean + t(1 - level, K - 1) * sd * sqrt(1 + 1/K)``; the p-value is the matching
t-probability. The evidence is the words with the largest coefficients of the classifier fit
on all texts, towards each side. scikit-learn is needed (the ``[text]`` extra) and imported
only here, on first use.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from sightline._types import FloatArray
from sightline.errors import InvalidInputError

#: Texts per side used at most (a seeded random sample of larger sides).
MAX_TEXTS = 2_000
#: Folds of the cross-validation and label permutations of the calibration.
FOLDS = 3
PERMUTATIONS = 10
#: One-sided level of the calibrated threshold (false-alarm rate under exchangeable sides).
LEVEL = 0.01
#: Words reported per side as evidence.
EVIDENCE_WORDS = 5
_STREAM = 0x7E47


@dataclass(frozen=True, slots=True)
class ContentDrift:
    """The outcome of :func:`content_drift`; NaN AUC when a side has fewer than 2*FOLDS texts.

    ``toward_current``/``toward_reference`` are the words that most separate the sides.
    """

    auc: float
    threshold: float
    p_value: float
    n_reference: int
    n_current: int
    toward_current: tuple[str, ...] = ()
    toward_reference: tuple[str, ...] = ()

    @property
    def drifted(self) -> bool:
        """True when the AUC exceeds the calibrated threshold."""
        return bool(self.auc > self.threshold)


def sklearn() -> Any:
    """The scikit-learn modules used here, or a clear error when the extra is missing."""
    try:
        return {
            name: importlib.import_module(f"sklearn.{name}")
            for name in ("feature_extraction.text", "linear_model", "metrics", "model_selection")
        }
    except ImportError as exc:
        raise ImportError(
            "text content drift needs scikit-learn: pip install 'sightline[text]'"
        ) from exc


def content_drift(
    reference: Sequence[str],
    current: Sequence[str],
    *,
    seed: int = 0,
    permutations: int = PERMUTATIONS,
    max_texts: int = MAX_TEXTS,
) -> ContentDrift:
    """Cross-validated domain-classifier AUC of ``current`` vs ``reference`` texts.

    Examples
    --------
    >>> ref = [f"the cat sat on mat number {i}" for i in range(60)]
    >>> cur = [f"stock prices fell in market {i}" for i in range(60)]
    >>> result = content_drift(ref, cur)
    >>> result.drifted, set(result.toward_current) <= {"stock", "prices", "fell", "in", "market"}
    (True, True)
    """
    if permutations < 2:
        raise InvalidInputError("permutations must be at least 2", field="permutations")
    rng = np.random.default_rng((seed, _STREAM))  # not the stream of a caller's seed
    ref = _sample(list(reference), max_texts, rng)
    cur = _sample(list(current), max_texts, rng)
    if min(len(ref), len(cur)) < 2 * FOLDS:
        return ContentDrift(math.nan, math.nan, math.nan, len(ref), len(cur))
    sk = sklearn()
    vectorizer = sk["feature_extraction.text"].TfidfVectorizer(
        sublinear_tf=True, min_df=2, max_features=20_000, dtype=np.float64
    )
    features = vectorizer.fit_transform(ref + cur)  # unsupervised: the same for every labelling
    labels: FloatArray = np.r_[np.zeros(len(ref)), np.ones(len(cur))]
    auc = _cv_auc(sk, features, labels, seed)
    null = np.array(
        [_cv_auc(sk, features, rng.permutation(labels), seed) for _ in range(permutations)]
    )
    threshold, p_value = _calibrate(auc, null)
    model = _classifier(sk).fit(features, labels)
    order = np.argsort(model.coef_[0])
    names = vectorizer.get_feature_names_out()
    return ContentDrift(
        auc,
        threshold,
        p_value,
        len(ref),
        len(cur),
        tuple(str(names[i]) for i in order[::-1][:EVIDENCE_WORDS]),
        tuple(str(names[i]) for i in order[:EVIDENCE_WORDS]),
    )


def _sample(texts: list[str], size: int, rng: np.random.Generator) -> list[str]:
    if len(texts) <= size:
        return texts
    return [texts[i] for i in np.sort(rng.choice(len(texts), size=size, replace=False))]


def _classifier(sk: Any) -> Any:
    return sk["linear_model"].LogisticRegression(C=1.0, solver="liblinear")


def _cv_auc(sk: Any, features: Any, labels: FloatArray, seed: int) -> float:
    folds = sk["model_selection"].StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    scores = sk["model_selection"].cross_val_predict(
        _classifier(sk), features, labels, cv=folds, method="decision_function"
    )
    return float(sk["metrics"].roc_auc_score(labels, scores))


def _calibrate(auc: float, null: FloatArray) -> tuple[float, float]:
    """Threshold and p-value of ``auc`` from the null AUCs (one-sided prediction interval)."""
    k = null.size
    spread = float(np.std(null, ddof=1)) * math.sqrt(1.0 + 1.0 / k)
    centre = float(np.mean(null))
    threshold = centre + float(stats.t.ppf(1.0 - LEVEL, k - 1)) * spread
    p_value = (
        float(stats.t.sf((auc - centre) / spread, k - 1)) if spread > 0 else float(auc <= centre)
    )
    return threshold, p_value


__all__ = [
    "EVIDENCE_WORDS",
    "FOLDS",
    "LEVEL",
    "MAX_TEXTS",
    "PERMUTATIONS",
    "ContentDrift",
    "content_drift",
    "sklearn",
]
