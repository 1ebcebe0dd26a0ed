"""Sketch wrappers tested by their published error bounds, merges and byte checks."""

from __future__ import annotations

import contextlib
import copy

import numpy as np
import pytest

from sightline.errors import IncompatibleProfilesError, InvalidInputError, UnsupportedFormatError
from sightline.profile.sketch import KLL, FrequentItems, HyperLogLog
from sightline.profile.sketch.hll import _splitmix64

# METHODS.md T14 (datasketches 5.2.0)
KLL_200_EPS = 0.013294757464848584


def _ecdf(sorted_x: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.searchsorted(sorted_x, points, side="right") / sorted_x.size


def _f32(x: np.ndarray) -> np.ndarray:
    """The values as the float sketch stores them."""
    return x.astype(np.float32).astype(np.float64)


# -- KLL -------------------------------------------------------------------------------------


def test_kll_rank_error_is_the_published_constant() -> None:
    assert KLL().rank_error == pytest.approx(KLL_200_EPS, rel=1e-12)
    assert KLL(100).rank_error > KLL().rank_error


def test_kll_exact_mode() -> None:
    s = KLL().update(np.arange(1.0, 101.0))
    assert (s.n, s.is_empty, s.num_retained) == (100, False, 100)
    assert s.quantiles([0.0, 0.01, 0.5, 1.0]).tolist() == [1.0, 1.0, 50.0, 100.0]
    assert s.cdf([0.5, 1.0, 50.0, 50.5, 1e9, np.inf, -np.inf]).tolist() == [
        0.0,
        0.01,
        0.5,
        0.5,
        1.0,
        1.0,
        0.0,
    ]
    assert s.quantiles(np.array([[0.5]])).shape == (1, 1)


def test_kll_cdf_counts_a_value_equal_to_the_point() -> None:
    # 0.1 is not a float32: the stored value is float32(0.1) > 0.1, so it is above 0.1...
    s = KLL().update(np.array([0.1, 0.3]))
    assert s.cdf([0.1]).tolist() == [0.0]
    # ...and at or below its own float32 value.
    assert s.cdf([float(np.float32(0.1))]).tolist() == [0.5]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dist", ["normal", "lognormal", "ties"])
def test_kll_estimation_mode_within_rank_error(seed: int, dist: str) -> None:
    rng = np.random.default_rng(seed)
    n = 50_000
    x = {
        "normal": rng.normal(size=n),
        "lognormal": rng.lognormal(0, 2, size=n),
        "ties": rng.integers(0, 20, size=n).astype(float),
    }[dist]
    s = KLL()
    for chunk in np.array_split(x, 7):
        s.update(chunk)
    assert s.n == n
    xs = np.sort(_f32(x))
    points = np.quantile(xs, np.linspace(0.0, 1.0, 41))
    assert np.abs(s.cdf(points) - _ecdf(xs, points)).max() <= s.rank_error
    qs = np.linspace(0.01, 0.99, 25)
    got = s.quantiles(qs)
    # The exact rank of each answer brackets q within the bound.
    below = np.searchsorted(xs, got, side="left") / n
    upto = np.searchsorted(xs, got, side="right") / n
    assert (below <= qs + s.rank_error).all()
    assert (upto >= qs - s.rank_error).all()


def test_kll_merge_is_within_bound_and_leaves_inputs() -> None:
    rng = np.random.default_rng(3)
    parts = [rng.normal(i, 1.0, 20_000) for i in range(3)]
    sketches = [KLL().update(p) for p in parts]
    before = [s.to_bytes() for s in sketches]
    merged = sketches[0].merge(sketches[1]).merge(sketches[2])
    assert [s.to_bytes() for s in sketches] == before
    assert merged.n == 60_000
    xs = np.sort(_f32(np.concatenate(parts)))
    points = np.quantile(xs, np.linspace(0, 1, 33))
    assert np.abs(merged.cdf(points) - _ecdf(xs, points)).max() <= merged.rank_error
    assert KLL().merge(sketches[0]) == sketches[0]  # zero is the identity (exact here)


@pytest.mark.parametrize(
    ("n", "order"),
    [(2**18, "random"), (2**18 + 2**17 + 5, "sorted"), (600_003, "ties"), (1_000_000, "random")],
)
def test_kll_large_batch_sampler_stays_within_rank_error(n: int, order: str) -> None:
    rng = np.random.default_rng(n)
    x = rng.lognormal(0, 2, n) if order != "ties" else rng.integers(0, 30, n).astype(float)
    if order == "sorted":
        x.sort()
    s = KLL().update(x)
    assert s.n == n
    assert KLL.from_bytes(s.to_bytes()) == s  # the sketch passes every byte check
    xs = np.sort(_f32(x))
    assert (s._sketch.get_min_value(), s._sketch.get_max_value()) == (xs[0], xs[-1])
    points = np.quantile(xs, np.linspace(0.0, 1.0, 101))
    assert np.abs(s.cdf(points) - _ecdf(xs, points)).max() <= s.rank_error
    # It merges and grows like any sketch.
    more = rng.normal(size=5_000)
    both = KLL().update(more).merge(s).update(more)
    assert both.n == n + 10_000
    xs = np.sort(_f32(np.concatenate([x, more, more])))
    assert np.abs(both.cdf(points) - _ecdf(xs, points)).max() <= both.rank_error


def test_kll_empty() -> None:
    s = KLL()
    assert s.is_empty and s.n == 0
    assert np.isnan(s.quantiles([0.5])).all()
    assert np.isnan(s.cdf([0.0])).all()
    assert s.update(np.array([])) is s


def test_kll_clips_beyond_float32_without_warning() -> None:
    s = KLL().update(np.array([1e300, -1e300, 1.0]))
    assert s.quantiles([0.0, 1.0]).tolist() == [
        -float(np.finfo(np.float32).max),
        float(np.finfo(np.float32).max),
    ]
    assert s.cdf([-1e300, 1e300]).tolist() == [0.0, 1.0]


def test_kll_errors() -> None:
    with pytest.raises(InvalidInputError, match=r"k must be an integer in \[8, 65535\], got 4"):
        KLL(4)
    with pytest.raises(InvalidInputError, match="values must be finite"):
        KLL().update(np.array([1.0, np.nan]))
    with pytest.raises(InvalidInputError, match="values must be 1-D"):
        KLL().update(np.zeros((2, 2)))
    with pytest.raises(InvalidInputError, match=r"qs must be ranks in \[0, 1\]"):
        KLL().quantiles([1.5])
    with pytest.raises(InvalidInputError, match="points must not contain NaN"):
        KLL().cdf([np.nan])
    with pytest.raises(IncompatibleProfilesError, match="different k cannot merge: 200 and 100"):
        KLL().merge(KLL(100))


def test_kll_copy_is_independent() -> None:
    # Round trips through bytes, pickle and copy: tests/contracts/test_mergeable.py.
    s = KLL().update(np.random.default_rng(0).normal(size=5000))
    c = copy.copy(s)
    c.update(np.array([1.0]))
    assert c.n == s.n + 1
    assert repr(s) == "KLL(k=200, n=5000)"


def _corruptions(blob: bytes, rng: np.random.Generator, n_flips: int = 300) -> list[bytes]:
    out = [blob[:i] for i in range(len(blob))]  # every truncation
    for _ in range(n_flips):
        b = bytearray(blob)
        for pos in rng.integers(0, len(b), rng.integers(1, 4)):
            b[pos] = int(rng.integers(0, 256))
        out.append(bytes(b))
    return out


@pytest.mark.parametrize(
    "blob",
    [
        KLL().to_bytes(),
        KLL().update(np.array([2.0])).to_bytes(),
        KLL().update(np.arange(100.0)).to_bytes(),
        KLL(8).update(np.random.default_rng(1).normal(size=3000)).to_bytes(),
    ],
    ids=["empty", "single", "exact", "estimation"],
)
def test_kll_from_bad_bytes_raises_never_crashes(blob: bytes) -> None:
    rng = np.random.default_rng(len(blob))
    for bad in _corruptions(blob, rng):
        try:
            s = KLL.from_bytes(bad)
        except UnsupportedFormatError:
            continue
        # A corruption that keeps the sketch consistent must still behave.
        s.quantiles([0.5])
        s.merge(KLL(s.k))


def _refused(blobs: list[bytes]) -> bool:
    try:
        KLL.from_blobs(blobs)
    except UnsupportedFormatError:
        return True
    return False


def test_kll_blobs_checked_together_as_each_alone() -> None:
    """One numpy pass over many sketches' items refuses exactly what each check alone does,
    wherever the bad blob sits among good ones (empty, one-item and full sketches)."""
    rng = np.random.default_rng(7)
    good = [
        KLL().update(rng.normal(size=5000)).to_bytes(),
        KLL().to_bytes(),
        KLL(8).update(rng.normal(size=3000)).to_bytes(),
        KLL().update(np.array([2.0])).to_bytes(),
    ]
    assert [s.n for s in KLL.from_blobs(good)] == [5000, 0, 3000, 1]
    for bad in _corruptions(good[2], rng, n_flips=300)[::3]:
        alone = _refused([bad])
        assert _refused([good[0], bad, *good[1:]]) == alone
        assert _refused([*good, bad]) == alone


def test_kll_from_bytes_messages() -> None:
    with pytest.raises(UnsupportedFormatError, match="7 bytes is too short"):
        KLL.from_bytes(b"garbage")
    with pytest.raises(UnsupportedFormatError, match="family id 10 is not KLL"):
        KLL.from_bytes(FrequentItems().to_bytes())
    with pytest.raises(InvalidInputError, match="KLL sketch data must be bytes, got str"):
        KLL.from_bytes("abc")  # type: ignore[arg-type]


# -- HyperLogLog -----------------------------------------------------------------------------


@pytest.mark.parametrize("lg_k", [8, 10, 12])
def test_hll_within_three_standard_errors(lg_k: int) -> None:
    rng = np.random.default_rng(lg_k)
    m = 1 << lg_k
    for seed, n in enumerate([10, 100, m // 2, m, 2 * m, 3 * m, 5 * m, 20 * m, 200 * m]):
        for rep in range(4):
            x = np.random.default_rng(seed * 100 + rep).normal(size=n)
            x = np.concatenate([x, x[: n // 3]])  # repeats change nothing
            rng.shuffle(x)
            h = HyperLogLog(lg_k).update_numbers(x)
            assert abs(h.estimate() - n) <= 3 * h.relative_error * n + 1e-9, (lg_k, n, rep)


def test_hll_strings_and_values_of_equal_meaning() -> None:
    h = HyperLogLog().update_strings([f"user-{i}" for i in range(5000)])
    assert abs(h.estimate() - 5000) <= 3 * h.relative_error * 5000
    a = HyperLogLog().update_numbers(np.array([0.0, 1.0, 2.0, np.nan]))
    b = HyperLogLog().update_numbers(np.array([-0.0, 1, 2]))  # -0.0 is 0.0, ints are floats
    assert a == b
    assert HyperLogLog().estimate() == 0.0
    assert HyperLogLog().update_numbers(np.array([np.nan])).is_empty


def test_hll_registers_are_the_maximum_rank_of_each_register() -> None:
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.normal(size=300_000), rng.integers(0, 9, 1000).astype(float)])
    q = 64 - 10
    z = (x + 0.0).view(np.uint64).copy()
    _splitmix64(z, np.empty_like(z))
    low = (z & np.uint64((1 << q) - 1)) | np.uint64(1 << q)
    rank = np.ones(z.size, dtype=np.uint8)
    for bit in range(q):  # trailing zeros + 1, bit by bit
        rank += ((low & np.uint64((1 << (bit + 1)) - 1)) == 0).astype(np.uint8)
    expected = np.zeros(1 << 10, dtype=np.uint8)
    np.maximum.at(expected, (z >> np.uint64(q)).astype(np.intp), rank)
    assert np.array_equal(HyperLogLog().update_numbers(x).registers, expected)
    chunked = HyperLogLog()
    for part in np.array_split(x, 9):
        chunked.update_numbers(part)
    assert np.array_equal(chunked.registers, expected)


def test_hll_bytes_and_errors() -> None:
    h = HyperLogLog(6).update_numbers(np.arange(100.0))
    assert len(h.to_bytes()) == 6 + 64
    with pytest.raises(UnsupportedFormatError, match="missing its b'SLHL' header"):
        HyperLogLog.from_bytes(b"nope")
    with pytest.raises(UnsupportedFormatError, match="format 9 is not supported"):
        HyperLogLog.from_bytes(b"SLHL\x09\x06" + bytes(64))
    with pytest.raises(UnsupportedFormatError, match="lg_k = 6 with 63 register bytes"):
        HyperLogLog.from_bytes(h.to_bytes()[:-1])
    with pytest.raises(UnsupportedFormatError, match="a register exceeds its maximum 59"):
        HyperLogLog.from_bytes(b"SLHL\x01\x06" + bytes([60]) + bytes(63))
    with pytest.raises(InvalidInputError, match=r"lg_k must be an integer in \[4, 18\], got 3"):
        HyperLogLog(3)
    with pytest.raises(IncompatibleProfilesError, match="different lg_k cannot merge: 10 and 6"):
        HyperLogLog().merge(h)
    with pytest.raises(InvalidInputError, match="values must be str, got int"):
        HyperLogLog().update_strings([1])  # type: ignore[list-item]


# -- frequent items --------------------------------------------------------------------------


def _zipf_counts(seed: int, n_items: int, total: int) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_items + 1)
    counts = rng.multinomial(total, p / p.sum())
    return [f"item{i}" for i in range(n_items)], counts


def test_frequent_items_exact_below_capacity() -> None:
    values, counts = _zipf_counts(0, 50, 10_000)
    fi = FrequentItems().update(values, counts)
    top = fi.top()
    assert len(top) == np.count_nonzero(counts)
    truth = dict(zip(values, counts.tolist(), strict=True))
    assert all(est == lo == hi == truth[v] for v, est, lo, hi in top)
    assert [t[1] for t in top] == sorted((t[1] for t in top), reverse=True)
    assert fi.top(3) == top[:3]
    assert fi.total_weight == 10_000


@pytest.mark.parametrize("seed", range(3))
def test_frequent_items_bounds_hold_beyond_capacity(seed: int) -> None:
    values, counts = _zipf_counts(seed, 2000, 200_000)
    parts = [FrequentItems(), FrequentItems(), FrequentItems()]
    cut = np.random.default_rng(seed).multinomial(1, [1 / 3] * 3, size=len(values)).argmax(1)
    for j, part in enumerate(parts):
        part.update([v for v, c in zip(values, cut, strict=True) if c == j], counts[cut == j])
    merged = parts[0].merge(parts[1]).merge(parts[2])
    truth = dict(zip(values, counts.tolist(), strict=True))
    eps = merged.epsilon * merged.total_weight
    for v, est, lo, hi in merged.top():
        assert lo <= truth[v] <= hi
        assert abs(est - truth[v]) <= eps
    # Every item heavier than the error is reported (no false negatives).
    reported = {t[0] for t in merged.top()}
    assert {v for v, c in truth.items() if c > eps} <= reported


def test_frequent_items_bytes_and_errors() -> None:
    fi = FrequentItems().update(["a", "é", "b"], np.array([3, 2, 0]))
    assert FrequentItems.from_bytes(fi.to_bytes()).top() == [("a", 3, 3, 3), ("é", 2, 2, 2)]
    assert FrequentItems.from_bytes(FrequentItems().to_bytes()).is_empty
    rng = np.random.default_rng(0)
    for bad in _corruptions(fi.to_bytes(), rng):
        with contextlib.suppress(UnsupportedFormatError):
            FrequentItems.from_bytes(bad).top()
    with pytest.raises(UnsupportedFormatError, match="family id 15 / version 1"):
        FrequentItems.from_bytes(KLL().to_bytes())
    with pytest.raises(InvalidInputError, match="got 1 counts for 2 values"):
        FrequentItems().update(["a", "b"], np.array([1]))
    with pytest.raises(InvalidInputError, match="counts must be >= 0"):
        FrequentItems().update(["a"], np.array([-1]))
    with pytest.raises(InvalidInputError, match="counts must be integers, got dtype float64"):
        FrequentItems().update(["a"], np.array([1.5]))
    with pytest.raises(InvalidInputError, match="values must be str, got NoneType"):
        FrequentItems().update([None], np.array([1]))  # type: ignore[list-item]
    with pytest.raises(IncompatibleProfilesError, match="lg_max_map_size cannot merge: 7 and 8"):
        FrequentItems().merge(FrequentItems(8))
