"""Statistics computed from sketches: the Kolmogorov-Smirnov distance of two KLL sketches
(METHODS.md section 8.2)."""

from __future__ import annotations

import math

import numpy as np

from sightline.errors import InvalidInputError
from sightline.profile.sketch.kll import KLL


def ks_distance(a: KLL, b: KLL) -> float:
    """Kolmogorov-Smirnov distance between the streams of two KLL sketches.

    ``D = sup_t |F_a(t) - F_b(t)|`` where ``F`` is each sketch's estimated CDF
    (fraction ``<= t``). Both estimates are step functions that change only at retained
    values, so the supremum is the maximum over the union of both sketches' retained
    values.

    Parameters
    ----------
    a, b
        Two sketches; their ``k`` may differ.

    Returns
    -------
    The distance in ``[0, 1]``; NaN if either sketch is empty. With 99 % confidence
    ``|D_sketch - D_exact| <= a.rank_error + b.rank_error`` (0.0266 for two ``k = 200``
    sketches), where ``D_exact`` is the two-sample KS statistic of the streams
    (METHODS.md section 8.2). Sketches in exact mode (``n <= k``) give ``D_exact``.

    References
    ----------
    METHODS.md section 8.2; DataSketches ``kll/include/kolmogorov_smirnov_impl.hpp``
    (``delta``), which walks the same sorted views.

    Examples
    --------
    >>> a = KLL().update(np.arange(0.0, 150.0))
    >>> b = KLL().update(np.arange(30.0, 180.0))
    >>> ks_distance(a, b)
    0.2
    """
    for name, s in (("a", a), ("b", b)):
        if not isinstance(s, KLL):
            raise InvalidInputError(
                f"{name} must be a KLL sketch, got {type(s).__name__}", field=name
            )
    if a.is_empty or b.is_empty:
        return math.nan
    points = np.unique(np.concatenate([a.retained(), b.retained()]))
    return float(np.max(np.abs(a.cdf(points) - b.cdf(points))))


__all__ = ["ks_distance"]
