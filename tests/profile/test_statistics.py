"""Statistics from sketches (sightline.profile.statistics): the KS distance of two KLLs
against its exact value (METHODS.md T14) and scipy within the sketches' rank errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sightline.errors import InvalidInputError
from sightline.profile.sketch import KLL
from sightline.profile.statistics import ks_distance


def _f32(x: np.ndarray) -> np.ndarray:
    """The values as the float sketch stores them."""
    return x.astype(np.float32).astype(np.float64)


def test_ks_distance_t14_exact_mode() -> None:
    a = KLL().update(np.arange(0.0, 150.0))
    b = KLL().update(np.arange(30.0, 180.0))
    assert ks_distance(a, b) == pytest.approx(0.2, abs=1e-12)
    assert ks_distance(b, a) == ks_distance(a, b)
    assert ks_distance(a, a) == 0.0


@pytest.mark.parametrize(
    ("ref", "cur"),
    [
        (("normal", 0.0, 1.0), ("normal", 0.0, 1.0)),
        (("normal", 0.0, 1.0), ("normal", 0.1, 1.0)),
        (("normal", 0.0, 1.0), ("normal", 0.0, 1.5)),
        (("lognormal", 0.0, 1.0), ("lognormal", 0.3, 1.0)),
        (("uniform", 0.0, 1.0), ("uniform", 0.5, 1.5)),
    ],
)
@pytest.mark.parametrize("sizes", [(30_000, 20_000), (5_000, 150)])
def test_ks_distance_within_bound_of_scipy(
    ref: tuple[str, float, float], cur: tuple[str, float, float], sizes: tuple[int, int]
) -> None:
    rng = np.random.default_rng(11)
    x = getattr(rng, ref[0])(ref[1], ref[2], sizes[0])
    y = getattr(rng, cur[0])(cur[1], cur[2], sizes[1])
    a, b = KLL().update(x), KLL().update(y)
    exact = stats.ks_2samp(_f32(x), _f32(y)).statistic
    assert abs(ks_distance(a, b) - exact) <= a.rank_error + b.rank_error


def test_ks_distance_empty_and_errors() -> None:
    assert np.isnan(ks_distance(KLL(), KLL().update(np.ones(3))))
    with pytest.raises(InvalidInputError, match="b must be a KLL sketch, got list"):
        ks_distance(KLL(), [1.0])  # type: ignore[arg-type]
