"""One contract for everything mergeable (river's ``check_estimator`` style): every sketch
and profile type passes :func:`check_mergeable` on random data (hypothesis).

The contract: merging is associative and commutative, the empty value is its identity,
the merge of the parts is the value of the whole, a merge leaves its inputs unchanged, and
the value survives its codec (bytes) and pickling. Equality is exact except for the float
moments of numeric columns, whose last bits depend on the merge order (compared to 1e-9).
"""

from __future__ import annotations

import copy
import inspect
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import sightline.profile
from sightline.profile import (
    KLL,
    CategoricalColumnProfile,
    Column,
    EmbeddingColumnProfile,
    FrequentItems,
    HyperLogLog,
    NumericColumnProfile,
    Profile,
    Schema,
    TextColumnProfile,
)

EDGES = np.array([-10.0, 0.0, 0.5, 100.0])
VOCAB = ("a", "b", "c")
SCHEMA = Schema(
    (
        Column("x"),
        Column("c", kind="categorical"),
        Column("t", kind="text"),
        Column("e", kind="embedding"),
    )
)


@dataclass(frozen=True)
class Data:
    """One random batch: rows of a number (NaN and infinities among them) and a string or
    None, and latencies."""

    x: np.ndarray
    c: list[str | None]
    latency: np.ndarray

    def part(self, lo: float, hi: float) -> Data:
        """The rows between the fractions ``lo`` and ``hi`` of each field."""

        def cut(n: int) -> slice:
            return slice(round(lo * n), round(hi * n))

        return Data(
            self.x[cut(self.x.size)], self.c[cut(len(self.c))], self.latency[cut(self.latency.size)]
        )


def _finite(d: Data) -> np.ndarray:
    return d.x[np.isfinite(d.x)]


def _counted(d: Data) -> tuple[list[str], np.ndarray]:
    values, counts = np.unique([v for v in d.c if v is not None], return_counts=True)
    return [str(v) for v in values], counts.astype(np.int64)


def _vectors(d: Data) -> list[list[float] | None]:
    """An embedding per row (None where ``c`` is missing; not finite where ``x`` is not)."""
    return [None if c is None else [x, x / 3.0, 1.0] for x, c in zip(d.x, d.c, strict=False)]


def _texts(d: Data) -> list[str | None]:
    return [
        None if c is None else f"{c} {c}{c}. Hello {x:.3g}!" for x, c in zip(d.x, d.c, strict=False)
    ]


def _text_of(d: Data) -> TextColumnProfile:
    return TextColumnProfile.zero("t", vocabulary=("a", "hello")).update(_texts(d))


def _text_same(a: TextColumnProfile, b: TextColumnProfile) -> None:
    aligned = copy.copy(a)
    aligned.descriptors = {}
    for name, column in a.descriptors.items():
        _moments_close(column, b.descriptors[name])
        aligned.descriptors[name] = copy.copy(column)
        aligned.descriptors[name].moments = b.descriptors[name].moments
    assert aligned == b


def _embedding_of(d: Data) -> EmbeddingColumnProfile:
    # A small sample, so that the bottom-k evicts rows; keys are hashes of the vectors.
    return EmbeddingColumnProfile.zero("e", capacity=8).update(_vectors(d))


def _embedding_same(a: EmbeddingColumnProfile, b: EmbeddingColumnProfile) -> None:
    # The float64 sums depend on the merge order in their last bits, like the moments.
    assert a.total.shape == b.total.shape
    assert a.total == pytest.approx(b.total, rel=1e-9, abs=1e-6)
    aligned = copy.copy(a)
    aligned.total = b.total
    assert aligned == b


def _moments_close(a: NumericColumnProfile, b: NumericColumnProfile) -> None:
    scale = max(abs(a.min), abs(a.max), 1.0) if a.n_valid else 1.0
    assert a.moments.n == b.moments.n
    assert float(a.moments.mean) == pytest.approx(float(b.moments.mean), rel=1e-9, abs=1e-9 * scale)
    assert float(a.moments.m2) == pytest.approx(
        float(b.moments.m2), rel=1e-9, abs=1e-9 * scale**2 * max(a.n_valid, 1)
    )


def _numeric_same(a: NumericColumnProfile, b: NumericColumnProfile) -> None:
    _moments_close(a, b)
    aligned = copy.copy(a)
    aligned.moments = b.moments
    assert aligned == b


def _profile_same(a: Profile, b: Profile) -> None:
    aligned = Profile.from_bytes(a.to_bytes())
    for name, column in a.columns.items():
        if isinstance(column, NumericColumnProfile):
            other = b.columns[name]
            assert isinstance(other, NumericColumnProfile)
            _moments_close(column, other)
            aligned.columns[name].moments = other.moments  # type: ignore[union-attr]
        if isinstance(column, TextColumnProfile):
            other_t = b.columns[name]
            assert isinstance(other_t, TextColumnProfile)
            _text_same(column, other_t)
            for d, p in aligned.columns[name].descriptors.items():  # type: ignore[union-attr]
                p.moments = other_t.descriptors[d].moments
        if isinstance(column, EmbeddingColumnProfile):
            other_e = b.columns[name]
            assert isinstance(other_e, EmbeddingColumnProfile)
            _embedding_same(column, other_e)
            aligned.columns[name].total = other_e.total  # type: ignore[union-attr]
    assert aligned == b


def _exact(a: Any, b: Any) -> None:
    assert a == b


@dataclass(frozen=True)
class Mergeable:
    """How the contract builds, compares and serializes one type."""

    kind: type
    zero: Callable[[], Any]
    of: Callable[[Data], Any]
    same: Callable[[Any, Any], None] = _exact
    to_bytes: Callable[[Any], bytes] | None = None
    from_bytes: Callable[[bytes], Any] | None = None


def _profile_of(d: Data) -> Profile:
    p = Profile.zero(SCHEMA, edges={"x": EDGES}, vocabularies={"c": VOCAB}, model="m", version="1")
    p = p.update({"x": d.x, "c": d.c, "t": _texts(d), "e": _vectors(d)})
    p = p.record_first_byte(d.latency)
    return p.record_latency(d.latency, n_errors=d.c.count(None))


SPECS = {
    "KLL": Mergeable(
        KLL,
        KLL,
        lambda d: KLL().update(_finite(d)),
        to_bytes=KLL.to_bytes,
        from_bytes=KLL.from_bytes,
    ),
    "HyperLogLog": Mergeable(
        HyperLogLog,
        HyperLogLog,
        lambda d: HyperLogLog().update_numbers(_finite(d)).update_strings([v for v in d.c if v]),
        to_bytes=HyperLogLog.to_bytes,
        from_bytes=HyperLogLog.from_bytes,
    ),
    "FrequentItems": Mergeable(
        FrequentItems,
        FrequentItems,
        lambda d: FrequentItems().update(*_counted(d)),
        to_bytes=FrequentItems.to_bytes,
        from_bytes=FrequentItems.from_bytes,
    ),
    # Column profiles have no codec of their own: they travel inside a Profile (below).
    "NumericColumnProfile": Mergeable(
        NumericColumnProfile,
        lambda: NumericColumnProfile.zero("x", edges=EDGES),
        lambda d: NumericColumnProfile.zero("x", edges=EDGES).update(d.x),
        same=_numeric_same,
    ),
    "CategoricalColumnProfile": Mergeable(
        CategoricalColumnProfile,
        lambda: CategoricalColumnProfile.zero("c", vocabulary=VOCAB),
        lambda d: CategoricalColumnProfile.zero("c", vocabulary=VOCAB).update(d.c),
    ),
    "TextColumnProfile": Mergeable(
        TextColumnProfile,
        lambda: TextColumnProfile.zero("t", vocabulary=("a", "hello")),
        _text_of,
        same=_text_same,
    ),
    "EmbeddingColumnProfile": Mergeable(
        EmbeddingColumnProfile,
        lambda: EmbeddingColumnProfile.zero("e", capacity=8),
        _embedding_of,
        same=_embedding_same,
    ),
    "Profile": Mergeable(
        Profile,
        lambda: _profile_of(Data(np.zeros(0), [], np.zeros(0))),
        _profile_of,
        same=_profile_same,
        to_bytes=Profile.to_bytes,
        from_bytes=Profile.from_bytes,
    ),
}


def check_mergeable(spec: Mergeable, data: Data, cuts: tuple[float, float]) -> None:
    """Every property of the contract, for one type on one batch split in three."""
    i, j = sorted(cuts)
    a, b, c = spec.of(data.part(0, i)), spec.of(data.part(i, j)), spec.of(data.part(j, 1))
    frozen = [pickle.dumps(v) for v in (a, b, c)]
    whole = spec.of(data)
    spec.same(a.merge(b).merge(c), a.merge(b.merge(c)))  # associative
    spec.same(a.merge(b), b.merge(a))  # commutative
    spec.same(spec.zero().merge(a), a)  # identity, on both sides
    spec.same(a.merge(spec.zero()), a)
    spec.same(a.merge(b).merge(c), whole)  # the merge of the parts is the whole
    assert [pickle.dumps(v) for v in (a, b, c)] == frozen  # inputs left as they were
    merged = a.merge(b).merge(c)
    spec.same(pickle.loads(pickle.dumps(merged)), merged)
    spec.same(copy.copy(merged), merged)
    if spec.to_bytes is not None and spec.from_bytes is not None:
        spec.same(spec.from_bytes(spec.to_bytes(merged)), merged)
        spec.same(spec.from_bytes(spec.to_bytes(spec.zero())), spec.zero())


numbers = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, -10.0, 100.0]),
)
batches = st.integers(0, 120).flatmap(
    lambda n: st.builds(
        Data,
        x=hnp.arrays(np.float64, n, elements=numbers),
        c=st.lists(st.sampled_from(["a", "b", "c", "d", "e", None]), min_size=n, max_size=n),
        latency=hnp.arrays(np.float64, st.integers(0, 60), elements=st.floats(0, 20_000)),
    )
)
fractions = st.tuples(st.floats(0, 1), st.floats(0, 1))


@pytest.mark.parametrize("name", sorted(SPECS))
@settings(max_examples=40, deadline=None)
@given(data=batches, cuts=fractions)
def test_check_mergeable(name: str, data: Data, cuts: tuple[float, float]) -> None:
    check_mergeable(SPECS[name], data, cuts)


def test_every_mergeable_type_is_under_contract() -> None:
    mergeable = {
        name
        for name, value in vars(sightline.profile).items()
        if inspect.isclass(value) and callable(getattr(value, "merge", None))
    }
    assert mergeable == set(SPECS)
    assert all(SPECS[name].kind is getattr(sightline.profile, name) for name in SPECS)


def check_round_trips(spec: Mergeable, value: Any) -> None:
    """Codec, pickling and copying give back an equal, independent value."""
    spec.same(pickle.loads(pickle.dumps(value)), value)
    clone = copy.copy(value)
    spec.same(clone, value)
    assert clone is not value
    if spec.to_bytes is not None and spec.from_bytes is not None:
        spec.same(spec.from_bytes(spec.to_bytes(value)), value)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_large_values_round_trip(name: str) -> None:
    # Beyond the sketches' exact modes: KLL compacts, frequent items sees 5,000 distinct.
    rng = np.random.default_rng(7)
    n = 20_000
    data = Data(
        rng.normal(size=n),
        [f"v{i}" for i in rng.zipf(1.3, n) % 5000],
        rng.exponential(20, 3000),
    )
    check_round_trips(SPECS[name], SPECS[name].of(data))
