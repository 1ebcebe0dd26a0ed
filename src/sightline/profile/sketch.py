"""Mergeable sketches: KLL quantiles, HyperLogLog distinct counts, frequent items.

:class:`KLL` and :class:`FrequentItems` wrap Apache DataSketches (``datasketches``);
:class:`HyperLogLog` is implemented here with numpy because DataSketches' HLL takes one
Python call per value, far too slow for columns of a million rows. Every sketch has a
batch ``update`` returning itself, a ``merge`` returning a new sketch (its inputs are
untouched), ``to_bytes``/``from_bytes``, and an error bound stated in its docstring
(METHODS.md sections 8.1-8.4).

Bytes handed to ``from_bytes`` are checked field by field in Python before the sketch
library sees them, so a truncated or corrupted payload raises
:class:`~sightline.errors.UnsupportedFormatError` instead of crashing inside C++.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import math
import struct
from collections.abc import Sequence
from typing import Any, Final, Self, TypeAlias

import numpy as np
import numpy.typing as npt
from datasketches import frequent_items_error_type, frequent_strings_sketch, kll_floats_sketch

from sightline._types import FloatArray, IntArray
from sightline._validate import check_int
from sightline.errors import IncompatibleProfilesError, InvalidInputError, UnsupportedFormatError

UInt64Array: TypeAlias = npt.NDArray[np.uint64]

DEFAULT_K: Final = 200
DEFAULT_LG_K: Final = 10
DEFAULT_LG_MAX_MAP_SIZE: Final = 7

_F32_MAX: Final = float(np.finfo(np.float32).max)
_KLL_FAMILY: Final = 15
_KLL_M: Final = 8
_KLL_MIN_K: Final = 8
_KLL_MAX_K: Final = 65535
_FI_FAMILY: Final = 10
_FI_MIN_LG: Final = 3
_FI_MAX_LG: Final = 26
_HLL_MAGIC: Final = b"SLHL"
_HLL_VERSION: Final = 1
_HLL_MIN_LG: Final = 4
_HLL_MAX_LG: Final = 18
_HASH_BLOCK: Final = 1 << 16  # values hashed per block: the buffers stay in cache
#: A KLL batch of ``2**(_KLL_SAMPLED_LG + h)`` values or more is sampled on ``h`` levels.
_KLL_SAMPLED_LG: Final = 17


def _as_bytes(data: object, what: str) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidInputError(f"{what} must be bytes, got {type(data).__name__}", field="data")
    return bytes(data)


# ---------------------------------------------------------------------------------------
# KLL


class KLL:
    """KLL quantile sketch of a stream of finite numbers (Apache DataSketches).

    Items are stored as 32-bit floats (``kll_floats_sketch``): every value is rounded to
    the nearest float32 (a relative precision of about 6e-8) and values beyond the float32
    range (+-3.4e38) are clipped to it. While at most ``k`` values were seen the sketch is
    exact; beyond, every rank, quantile and CDF answer is within :attr:`rank_error` of the
    exact normalized rank with 99 % confidence (single-sided error ``2.296 / k**0.9723``,
    0.0133 at ``k = 200``; METHODS.md section 8.1). Compaction is randomised, so sketches
    of the same data are not bit-identical once they left exact mode.

    A batch of ``n >= 2**18`` values first passes KLL's sampler (Karnin, Lang and Liberty,
    FOCS 2016), which stands for the ``h`` lowest compactors: of each block of ``2**h``
    consecutive values one, picked at random, enters with weight ``2**h``, where ``2**h``
    is the largest power of two with ``n / 2**h >= 2**17``. Its rank error has mean zero
    and a standard deviation of at most ``sqrt(n * 2**h) / 2`` (0.1 % of a million values),
    small beside the sketch's own (measured over 300 sketches of a million values, the mean
    of the largest rank error grew by 2 %, from 0.0078 to 0.0079), and DataSketches, which
    costs about 30 ns a value, takes only the sampled ones (a quarter at a million).

    Parameters
    ----------
    k
        Accuracy parameter in ``[8, 65535]``; the serialized size grows about linearly with
        it (about 2.5 KB at ``k = 200`` for a million values).

    Examples
    --------
    >>> s = KLL().update(np.arange(1.0, 101.0))
    >>> s.n, s.quantiles([0.0, 0.5, 1.0]).tolist(), s.cdf([10.0]).tolist()
    (100, [1.0, 50.0, 100.0], [0.1])
    >>> round(s.rank_error, 4)
    0.0133
    """

    __slots__ = ("_sketch", "k")

    def __init__(self, k: int = DEFAULT_K) -> None:
        self.k = check_int("k", k, _KLL_MIN_K, _KLL_MAX_K)
        self._sketch = kll_floats_sketch(self.k)

    @classmethod
    def _wrap(cls, sketch: Any) -> Self:
        obj = cls.__new__(cls)
        obj.k = int(sketch.k)
        obj._sketch = sketch
        return obj

    def update(self, values: npt.ArrayLike) -> Self:
        """Add a batch of finite values (the caller filters NaN and infinity).

        Parameters
        ----------
        values
            1-D array of finite numbers.

        Returns
        -------
        The sketch itself.
        """
        arr = np.asarray(values)
        if arr.dtype != np.float32:
            try:
                arr = np.asarray(arr, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InvalidInputError(
                    f"values must be numeric, got {exc}", field="values"
                ) from exc
        if arr.ndim != 1:
            raise InvalidInputError(
                f"values must be 1-D, got {arr.ndim} dimensions", field="values"
            )
        if arr.size == 0:
            return self
        if not np.isfinite(arr).all():
            raise InvalidInputError(
                "values must be finite: filter NaN and infinity before updating a KLL sketch",
                field="values",
            )
        self._update_finite(arr, float(arr.min()), float(arr.max()))
        return self

    def _update_finite(self, arr: npt.NDArray[np.floating[Any]], low: float, high: float) -> None:
        """Add finite values whose minimum and maximum the caller already knows."""
        levels = arr.size.bit_length() - 1 - _KLL_SAMPLED_LG
        if levels > 0:
            sampled = _sampled_sketch(arr, levels, self.k, low, high)
            if self.is_empty:
                self._sketch = sampled
            else:
                self._sketch.merge(sampled)
            return
        if arr.dtype == np.float32:
            self._sketch.update(arr)
            return
        clip = low < -_F32_MAX or high > _F32_MAX
        buf = np.empty(min(arr.size, _HASH_BLOCK), dtype=np.float32)
        for start in range(0, arr.size, _HASH_BLOCK):  # a float32 copy that stays in cache
            block = arr[start : start + _HASH_BLOCK]
            out = buf[: block.size]
            if clip:
                np.clip(block, -_F32_MAX, _F32_MAX, out=out, casting="same_kind")
            else:
                out[...] = block
            self._sketch.update(out)

    def merge(self, other: KLL) -> KLL:
        """A new sketch of both streams; ``self`` and ``other`` are unchanged.

        Raises
        ------
        IncompatibleProfilesError
            If the two sketches have different ``k``.
        """
        out = copy.copy(self)
        out._merge_into(other)
        return out

    def _merge_into(self, other: KLL) -> None:
        if not isinstance(other, KLL):
            raise InvalidInputError(
                f"can only merge a KLL with a KLL, got {type(other).__name__}", field="other"
            )
        if other.k != self.k:
            raise IncompatibleProfilesError(
                f"KLL sketches with different k cannot merge: {self.k} and {other.k}",
                field="k",
            )
        if other.is_empty:  # the empty sketch is the identity, exactly
            return
        if self.is_empty:
            self._sketch = copy.copy(other._sketch)
            return
        self._sketch.merge(other._sketch)

    @property
    def n(self) -> int:
        """Number of values seen."""
        return int(self._sketch.n)

    @property
    def is_empty(self) -> bool:
        """True while no value was seen."""
        return bool(self._sketch.is_empty())

    @property
    def num_retained(self) -> int:
        """Number of values the sketch keeps (all of them while ``n <= k``)."""
        return int(self._sketch.num_retained)

    @property
    def rank_error(self) -> float:
        """Single-sided normalized rank error at 99 % confidence (0.0133 for ``k = 200``)."""
        return float(kll_floats_sketch.get_normalized_rank_error(self.k, False))

    def quantiles(self, qs: npt.ArrayLike) -> FloatArray:
        """Approximate quantiles: the smallest retained value whose rank reaches each ``q``.

        Parameters
        ----------
        qs
            Normalized ranks in ``[0, 1]`` (any shape); ``0`` gives the minimum and ``1``
            the maximum.

        Returns
        -------
        Array of the shape of ``qs``; all NaN when the sketch is empty. The exact CDF at the
        returned value is within :attr:`rank_error` of ``q`` (inverted-CDF definition,
        numpy's ``method="inverted_cdf"``).

        Examples
        --------
        >>> KLL().update(np.array([3.0, 1.0, 2.0, 4.0])).quantiles([0.25, 0.5]).tolist()
        [1.0, 2.0]
        """
        q = np.asarray(qs, dtype=np.float64)
        if np.isnan(q).any() or (q < 0).any() or (q > 1).any():
            raise InvalidInputError("qs must be ranks in [0, 1]", field="qs")
        if self.is_empty or q.size == 0:
            return np.full(q.shape, np.nan)
        out = np.asarray(self._sketch.get_quantiles(q.ravel(), True), dtype=np.float64)
        return out.reshape(q.shape)

    def cdf(self, points: npt.ArrayLike) -> FloatArray:
        """Approximate fraction of the values ``<= point`` for each point.

        Points are compared with the stored float32 values exactly (a point is rounded
        down to a float32), so a value equal to a point counts as below it.

        Parameters
        ----------
        points
            Any shape, no NaN; infinities are allowed.

        Returns
        -------
        Array of the shape of ``points``, within :attr:`rank_error` of the exact empirical
        CDF; all NaN when the sketch is empty.

        Examples
        --------
        >>> KLL().update(np.array([1.0, 2.0, 3.0, 4.0])).cdf([2.0, 0.0, 2.5]).tolist()
        [0.5, 0.0, 0.5]
        """
        p = np.asarray(points, dtype=np.float64)
        if np.isnan(p).any():
            raise InvalidInputError("points must not contain NaN", field="points")
        if self.is_empty or p.size == 0:
            return np.full(p.shape, np.nan)
        down = _round_down_f32(p.ravel())
        uniq, inverse = np.unique(down, return_inverse=True)
        cdf = np.asarray(self._sketch.get_cdf(uniq, True), dtype=np.float64)[:-1]
        return cdf[inverse].reshape(p.shape)

    def _retained(self) -> FloatArray:
        """The retained values (each item once, whatever its weight), as float64."""
        return np.array([item for item, _ in self._sketch], dtype=np.float64)

    def to_bytes(self) -> bytes:
        """DataSketches' compact serialization of the sketch."""
        return bytes(self._sketch.serialize())

    @classmethod
    def from_bytes(cls, data: bytes) -> KLL:
        """Rebuild a sketch from :meth:`to_bytes`, checking the bytes first.

        Raises
        ------
        UnsupportedFormatError
            If the bytes are not a complete, consistent KLL float sketch.

        Examples
        --------
        >>> s = KLL().update(np.arange(500.0))
        >>> KLL.from_bytes(s.to_bytes()) == s
        True
        >>> KLL.from_bytes(b"garbage")
        Traceback (most recent call last):
        ...
        sightline.errors.UnsupportedFormatError: KLL sketch: 7 bytes is too short ...
        """
        raw = _as_bytes(data, "KLL sketch data")
        _check_kll_bytes(raw)
        try:
            sketch = kll_floats_sketch.deserialize(raw)
        except (RuntimeError, ValueError, IndexError, MemoryError) as exc:
            raise UnsupportedFormatError(f"KLL sketch: cannot deserialize: {exc}") from exc
        return cls._wrap(sketch)

    def __eq__(self, other: object) -> bool:
        """Same k, count and weighted items (queries reorder a sketch's bytes, not its data)."""
        if not isinstance(other, KLL):
            return NotImplemented
        return self.k == other.k and self.n == other.n and self._items() == other._items()

    def _items(self) -> list[tuple[float, int]]:
        """The retained (item, weight) pairs in a canonical order."""
        return sorted((float(item), int(weight)) for item, weight in self._sketch)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"KLL(k={self.k}, n={self.n})"

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return (KLL.from_bytes, (self.to_bytes(),))

    def __copy__(self) -> KLL:
        return KLL._wrap(copy.copy(self._sketch))


def _sampled_sketch(
    arr: npt.NDArray[np.floating[Any]], levels: int, k: int, low: float, high: float
) -> Any:
    """A ``kll_floats_sketch`` of ``arr`` whose ``levels`` lowest levels are a sampler.

    One random value of each full block of ``2**levels`` enters a sketch of its own, whose
    levels then move up by ``levels`` (weights times ``2**levels``). The values after the
    last full block are sampled in blocks of the powers of two that sum to their number,
    one item on each lower level, so that the weights add up to ``arr.size`` exactly. The
    minimum and maximum are those of the whole batch (``low``, ``high``).
    """
    rng = np.random.default_rng()
    n_blocks = arr.size >> levels
    picks = np.arange(0, n_blocks << levels, 1 << levels) + rng.integers(0, 1 << levels, n_blocks)
    sub = kll_floats_sketch(k)
    sub.update(_as_f32(arr[picks], clip=low < -_F32_MAX or high > _F32_MAX))
    # n_blocks >= 2**17 > k values: a full serialization with two levels or more.
    raw = bytes(sub.serialize())
    (n_sub_levels,) = struct.unpack_from("<B", raw, 18)
    starts = struct.unpack_from(f"<{n_sub_levels}I", raw, 20)
    sub_items = np.frombuffer(raw, dtype="<f4", offset=20 + 4 * n_sub_levels + 8)
    level_zero = starts[1] - starts[0]
    sub_levels = [np.sort(sub_items[:level_zero]), sub_items[level_zero:]]  # 0 moves up
    sub_sizes = [b - a for a, b in itertools.pairwise(starts)]
    lower: list[npt.NDArray[np.float32]] = []
    start = n_blocks << levels
    for level in reversed(range(levels)):
        width = 1 << level
        if arr.size - start >= width:
            pick = start + int(rng.integers(0, width))
            lower.insert(0, _as_f32(arr[pick : pick + 1]))
            start += width
        else:
            lower.insert(0, np.empty(0, dtype=np.float32))
    items = np.concatenate([*lower, *sub_levels])
    n_levels = levels + n_sub_levels
    sizes = [part.size for part in lower] + sub_sizes  # all but the top level's
    level_starts = _kll_capacity(k, n_levels) - items.size + np.cumsum([0, *sizes])
    header = struct.pack(
        "<BBBBHBBQHBB", 5, 1, _KLL_FAMILY, 0, k, _KLL_M, 0, arr.size, k, n_levels, 0
    )
    return kll_floats_sketch.deserialize(
        header
        + level_starts.astype("<u4").tobytes()
        + _as_f32(np.array([low, high])).astype("<f4").tobytes()
        + items.astype("<f4").tobytes()
    )


def _as_f32(values: npt.NDArray[np.floating[Any]], clip: bool = True) -> npt.NDArray[np.float32]:
    """Finite values as float32, clipped to its range (unless ``clip`` is False)."""
    out: npt.NDArray[np.float32] = (
        np.clip(values, -_F32_MAX, _F32_MAX) if clip else values
    ).astype(np.float32)
    return out


def _kll_capacity(k: int, n_levels: int) -> int:
    """Items a DataSketches KLL sketch of ``n_levels`` levels holds (``levels[n_levels]``).

    Level capacities as DataSketches' ``kll_helper`` computes them: about
    ``k * (2/3)**depth`` at ``depth`` levels below the top, and at least ``m = 8``.
    """

    def shrink(width: int, depth: int) -> int:  # int_cap_aux_aux: rounded integer math
        return int(((2 * width) << depth) // 3**depth + 1) >> 1

    def level(depth: int) -> int:  # int_cap_aux: two steps beyond depth 30
        if depth > 30:
            return shrink(shrink(k, depth // 2), depth - depth // 2)
        return shrink(k, depth)

    return sum(max(_KLL_M, level(depth)) for depth in range(n_levels))


def _round_down_f32(p: FloatArray) -> npt.NDArray[np.float32]:
    """The largest float32 <= each point (-inf below the float32 range)."""
    f = np.clip(p, -_F32_MAX, _F32_MAX).astype(np.float32)
    f[p < -_F32_MAX] = -np.inf
    above = f.astype(np.float64) > p
    if above.any():
        f[above] = np.nextafter(f[above], np.float32(-np.inf))
    return f


def _fail(what: str, detail: str) -> UnsupportedFormatError:
    return UnsupportedFormatError(f"{what}: {detail}; the data is truncated or corrupted")


def _check_kll_bytes(b: bytes) -> None:
    """Validate a serialized ``kll_floats_sketch`` completely before DataSketches reads it."""
    what = "KLL sketch"
    if len(b) < 8:
        raise _fail(what, f"{len(b)} bytes is too short (at least 8 expected)")
    pre, ser, family, flags, k, m = struct.unpack_from("<BBBBHB", b)
    if family != _KLL_FAMILY:
        raise _fail(what, f"family id {family} is not KLL ({_KLL_FAMILY})")
    if m != _KLL_M or k < _KLL_MIN_K or flags & ~0b111:
        raise _fail(what, f"invalid header (k={k}, m={m}, flags={flags})")
    if flags & 1:  # empty
        if pre != 2 or len(b) != 8:
            raise _fail(what, f"empty sketch of {len(b)} bytes")
    elif flags & 4:  # a single item
        if pre != 2 or ser != 2 or len(b) != 12:
            raise _fail(what, f"single-item sketch of {len(b)} bytes")
        if not np.isfinite(np.frombuffer(b, dtype="<f4", offset=8)).all():
            raise _fail(what, "its item is not finite")
    elif pre != 5 or ser != 1 or len(b) < 20:
        raise _fail(what, f"invalid preamble ({pre}, version {ser}, {len(b)} bytes)")
    else:
        _check_kll_levels(b, k)


def _check_kll_levels(b: bytes, k: int) -> None:
    """Validate the levels and items of a full KLL sketch: sizes, total weight, order."""
    what = "KLL sketch"
    n, min_k, num_levels = struct.unpack_from("<QHB", b, 8)
    if not 1 <= num_levels <= 61 or not _KLL_MIN_K <= min_k <= k:
        raise _fail(what, f"invalid levels ({num_levels}) or min_k ({min_k})")
    start = 20 + 4 * num_levels + 8
    n_items, rest = divmod(len(b) - start, 4)
    if n_items < 1 or rest:
        raise _fail(what, f"{len(b)} bytes do not match {num_levels} levels")
    bounds = [*struct.unpack_from(f"<{num_levels}I", b, 20), 0]
    bounds[-1] = bounds[0] + n_items
    sizes = [hi - lo for lo, hi in itertools.pairwise(bounds)]
    if min(sizes) < 0:
        raise _fail(what, "its level boundaries are not ascending")
    weight = sum(size << lvl for lvl, size in enumerate(sizes))
    if weight != n:
        raise _fail(what, f"its items weigh {weight} but it claims n = {n}")
    low, high = struct.unpack_from("<ff", b, start - 8)
    items = np.frombuffer(b, dtype="<f4", count=n_items, offset=start)
    smallest, largest = float(items.min()), float(items.max())  # NaN propagates
    if not (math.isfinite(smallest) and math.isfinite(largest) and math.isfinite(low)):
        raise _fail(what, "it holds non-finite items")
    if not math.isfinite(high) or low > smallest or high < largest:
        raise _fail(what, "its items lie outside its minimum and maximum")
    # Levels above 0 are sorted: no descent inside one of them (level 0 is unsorted).
    first = bounds[1] - bounds[0]
    descent = np.diff(items[first:]) < 0
    edges = [hi - bounds[1] - 1 for hi in bounds[2:-1]]  # between two levels: allowed
    descent[[i for i in edges if 0 <= i < descent.size]] = False
    if descent.any():
        raise _fail(what, "a level above 0 is not sorted")


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
    points = np.unique(np.concatenate([a._retained(), b._retained()]))
    fa = np.asarray(a._sketch.get_cdf(points, True), dtype=np.float64)[:-1]
    fb = np.asarray(b._sketch.get_cdf(points, True), dtype=np.float64)[:-1]
    return float(np.max(np.abs(fa - fb)))


# ---------------------------------------------------------------------------------------
# HyperLogLog

_GOLDEN: Final = np.uint64(0x9E3779B97F4A7C15)
_MIX1: Final = np.uint64(0xBF58476D1CE4E5B9)
_MIX2: Final = np.uint64(0x94D049BB133111EB)


def _splitmix64(z: UInt64Array, tmp: UInt64Array) -> None:
    """In place: the splitmix64 finalizer of ``z + golden`` (Steele, Lea and Flood 2014)."""
    z += _GOLDEN
    np.right_shift(z, np.uint64(30), out=tmp)
    z ^= tmp
    z *= _MIX1
    np.right_shift(z, np.uint64(27), out=tmp)
    z ^= tmp
    z *= _MIX2
    np.right_shift(z, np.uint64(31), out=tmp)
    z ^= tmp


class HyperLogLog:
    """HyperLogLog distinct-count sketch, in numpy.

    A value's 64-bit hash picks a register with its top ``lg_k`` bits; the register keeps
    the maximum over its values of one plus the number of trailing zero bits of the
    remaining bits. Merging takes the register-wise maximum, which is exact: the sketch
    of a union equals the merge of the sketches, register for register.

    Hashes: numbers are hashed by the splitmix64 finalizer of their float64 bit pattern
    (``-0.0`` counts as ``0.0``, NaN is skipped, ``1`` and ``1.0`` are the same value);
    strings by an 8-byte BLAKE2b digest of their UTF-8 bytes, computed once per distinct
    string.

    The estimate is the classic one of Flajolet et al. with the linear-counting
    correction for small cardinalities; with 64-bit hashes no large-range correction is
    needed. Its relative standard error is ``1.04 / sqrt(2**lg_k)``.

    Parameters
    ----------
    lg_k
        Log2 of the number of registers, in ``[4, 18]``. The default 10 (1024 one-byte
        registers) gives a standard error of ``1.04 / sqrt(1024)`` = 3.25 %. Serialized,
        the registers are stored one byte each and zlib-compressed by the profile codec,
        to about 450 bytes for a column of a million distinct values (each +1 of ``lg_k``
        doubles that): the choice that keeps a 25-column profile under 64 KiB next to its
        KLL sketches (about 2 KB each, compressed).

    References
    ----------
    P. Flajolet, E. Fusy, O. Gandouet and F. Meunier, "HyperLogLog: the analysis of a
    near-optimal cardinality estimation algorithm", AofA 2007. METHODS.md section 8.3.

    Examples
    --------
    >>> h = HyperLogLog().update_numbers(np.arange(1000.0))
    >>> abs(h.estimate() - 1000) < 3 * h.relative_error * 1000
    True
    >>> HyperLogLog().update_strings(["a", "b", "a"]).estimate()
    2.0...
    """

    __slots__ = ("lg_k", "registers")

    def __init__(self, lg_k: int = DEFAULT_LG_K) -> None:
        self.lg_k = check_int("lg_k", lg_k, _HLL_MIN_LG, _HLL_MAX_LG)
        self.registers = np.zeros(1 << self.lg_k, dtype=np.uint8)

    def update_numbers(self, values: npt.ArrayLike) -> Self:
        """Add numbers (NaN skipped; the caller decides about infinities).

        Parameters
        ----------
        values
            1-D array of numbers.

        Returns
        -------
        The sketch itself.
        """
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim != 1:
            raise InvalidInputError(
                f"values must be 1-D, got {arr.ndim} dimensions", field="values"
            )
        nan = np.isnan(arr)
        if nan.any():
            arr = arr[~nan]
        self._update_floats(arr)
        return self

    def _update_floats(self, arr: FloatArray) -> None:
        """Hash NaN-free float64 values block by block and raise the registers."""
        size = min(arr.size, _HASH_BLOCK)
        z, t1, t2 = (np.empty(size, dtype=np.uint64) for _ in range(3))
        for start in range(0, arr.size, _HASH_BLOCK):
            block = arr[start : start + _HASH_BLOCK]
            zz = z[: block.size]
            np.add(block, 0.0, out=zz.view(np.float64))  # -0.0 + 0.0 == +0.0
            _splitmix64(zz, t1[: block.size])
            self._absorb(zz, t1[: block.size], t2[: block.size])

    def update_strings(self, values: Sequence[str]) -> Self:
        """Add strings; pass each distinct string once (repeats change nothing but time).

        Parameters
        ----------
        values
            Distinct strings, e.g. the categories of a batch.

        Returns
        -------
        The sketch itself.
        """
        for value in values:
            if not isinstance(value, str):
                raise InvalidInputError(
                    f"values must be str, got {type(value).__name__}", field="values"
                )
        hashes = np.fromiter((_string_hash(v) for v in values), dtype=np.uint64, count=len(values))
        if hashes.size:
            tmp = np.empty_like(hashes), np.empty_like(hashes)
            self._absorb(hashes, *tmp)
        return self

    def _absorb(self, z: UInt64Array, t1: UInt64Array, t2: UInt64Array) -> None:
        """Raise the registers with 64-bit hashes ``z`` (destroyed; t1, t2 are scratch)."""
        q = 64 - self.lg_k
        floor = int(self.registers.min())  # only a higher rank can raise a register
        if floor > q:
            return
        if floor:
            np.bitwise_and(z, np.uint64((1 << floor) - 1), out=t1)
            z = z[t1 == 0]  # rank > floor: the low `floor` bits are zero
            t1, t2 = t1[: z.size], t2[: z.size]
        # Low q bits plus a sentinel bit q, so the rank is at most q + 1.
        np.bitwise_and(z, np.uint64((1 << q) - 1), out=t1)
        t1 |= np.uint64(1 << q)
        np.invert(t1, out=t2)
        t2 += np.uint64(1)
        t1 &= t2  # the lowest set bit alone: an exact power of two
        exponent = t1.astype(np.float64).view(np.int64) >> 52  # biased exponent = tz + 1023
        rank = (exponent - 1022).astype(np.uint8)  # trailing zeros + 1
        np.right_shift(z, np.uint64(q), out=z)
        np.maximum.at(self.registers, z.view(np.int64), rank)

    def merge(self, other: HyperLogLog) -> HyperLogLog:
        """A new sketch of the union; inputs unchanged.

        Raises
        ------
        IncompatibleProfilesError
            If ``lg_k`` differs.
        """
        out = copy.copy(self)
        out._merge_into(other)
        return out

    def _merge_into(self, other: HyperLogLog) -> None:
        if not isinstance(other, HyperLogLog):
            raise InvalidInputError(
                f"can only merge a HyperLogLog with a HyperLogLog, got {type(other).__name__}",
                field="other",
            )
        if other.lg_k != self.lg_k:
            raise IncompatibleProfilesError(
                f"HyperLogLog sketches with different lg_k cannot merge: {self.lg_k} and "
                f"{other.lg_k}",
                field="lg_k",
            )
        np.maximum(self.registers, other.registers, out=self.registers)

    @property
    def is_empty(self) -> bool:
        """True while no value was added."""
        return not self.registers.any()

    @property
    def relative_error(self) -> float:
        """Relative standard error ``1.04 / sqrt(2**lg_k)`` of :meth:`estimate`."""
        return 1.04 / math.sqrt(1 << self.lg_k)

    def estimate(self, at_most: int | None = None) -> float:
        """Estimated number of distinct values, capped at ``at_most`` (the number of
        values added, when the caller knows it: there cannot be more distinct ones).

        Returns
        -------
        ``alpha_m m**2 / sum(2**-M_j)``, or ``m ln(m / V)`` (linear counting) when that
        is at most ``2.5 m`` and ``V`` registers are still zero; ``0.0`` when empty.

        >>> h = HyperLogLog().update_numbers(np.random.default_rng(0).normal(size=7500))
        >>> round(h.estimate()), h.estimate(at_most=7500)
        (7584, 7500.0)
        """
        m = 1 << self.lg_k
        alpha = {16: 0.673, 32: 0.697, 64: 0.709}.get(m, 0.7213 / (1.0 + 1.079 / m))
        raw = alpha * m * m / float(np.ldexp(1.0, -self.registers.astype(np.int64)).sum())
        zeros = int(np.count_nonzero(self.registers == 0))
        if raw <= 2.5 * m and zeros:
            raw = m * math.log(m / zeros)
        return raw if at_most is None else min(raw, float(at_most))

    def bounds(self, at_most: int | None = None, sigmas: float = 3.0) -> tuple[float, float]:
        """``(lower, upper)``: the estimate ``± sigmas`` relative standard errors (3: 99.7 %
        under the normal approximation), within ``[1, at_most]`` once a value was added.

        >>> h = HyperLogLog().update_numbers(np.random.default_rng(0).normal(size=7500))
        >>> [round(b) for b in h.bounds(at_most=7500)]
        [6844, 7500]
        """
        if self.is_empty:
            return (0.0, 0.0)
        raw = self.estimate()
        spread = sigmas * self.relative_error * raw
        low, high = max(raw - spread, 1.0), raw + spread
        if at_most is not None:
            low, high = min(low, float(at_most)), min(high, float(at_most))
        return (low, high)

    def to_bytes(self) -> bytes:
        """``b"SLHL"``, a format byte, ``lg_k``, then the ``2**lg_k`` one-byte registers."""
        return _HLL_MAGIC + bytes((_HLL_VERSION, self.lg_k)) + self.registers.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> HyperLogLog:
        """Rebuild a sketch from :meth:`to_bytes`.

        Raises
        ------
        UnsupportedFormatError
            On a wrong header, an unknown format byte, a wrong length or impossible
            register values.

        Examples
        --------
        >>> h = HyperLogLog(lg_k=4).update_numbers(np.array([1.0, 2.0]))
        >>> HyperLogLog.from_bytes(h.to_bytes()) == h
        True
        """
        raw = _as_bytes(data, "HyperLogLog data")
        what = "HyperLogLog sketch"
        if len(raw) < 6 or raw[:4] != _HLL_MAGIC:
            raise _fail(what, "missing its b'SLHL' header")
        if raw[4] != _HLL_VERSION:
            raise UnsupportedFormatError(
                f"HyperLogLog sketch format {raw[4]} is not supported (this sightline reads "
                f"format {_HLL_VERSION})"
            )
        lg_k = raw[5]
        if not _HLL_MIN_LG <= lg_k <= _HLL_MAX_LG or len(raw) != 6 + (1 << lg_k):
            raise _fail(what, f"lg_k = {lg_k} with {len(raw) - 6} register bytes")
        registers = np.frombuffer(raw, dtype=np.uint8, offset=6).copy()
        if registers.max() > 65 - lg_k:
            raise _fail(what, f"a register exceeds its maximum {65 - lg_k}")
        out = cls.__new__(cls)
        out.lg_k = lg_k
        out.registers = registers
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HyperLogLog):
            return NotImplemented
        return self.lg_k == other.lg_k and bool(np.array_equal(self.registers, other.registers))

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"HyperLogLog(lg_k={self.lg_k}, estimate={self.estimate():.1f})"

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return (HyperLogLog.from_bytes, (self.to_bytes(),))

    def __copy__(self) -> HyperLogLog:
        out = HyperLogLog.__new__(HyperLogLog)
        out.lg_k = self.lg_k
        out.registers = self.registers.copy()
        return out


def _string_hash(value: str) -> int:
    digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


# ---------------------------------------------------------------------------------------
# Frequent items


class FrequentItems:
    """Frequent-items sketch of weighted strings (DataSketches, Misra-Gries family).

    While fewer than ``0.75 * 2**lg_max_map_size`` distinct items were seen every count is
    exact. Beyond, each estimate is within ``epsilon * total_weight`` of the true count,
    ``epsilon = 3.5 / 2**lg_max_map_size`` (METHODS.md section 8.4), and each item's
    reported lower and upper bounds bracket its true count.

    Parameters
    ----------
    lg_max_map_size
        Log2 of the maximum hash-map size, in ``[3, 26]``. The default 7 tracks up to 96
        items exactly (``epsilon = 0.027``); the serialized size grows with the number of
        items tracked (about 12 bytes plus the string per item), which keeps the sketch of a
        high-cardinality column near 2 KB.

    Examples
    --------
    >>> fi = FrequentItems().update(["a", "b"], np.array([5, 2]))
    >>> fi.top(1)
    [('a', 5, 5, 5)]
    """

    __slots__ = ("_sketch", "lg_max_map_size")

    def __init__(self, lg_max_map_size: int = DEFAULT_LG_MAX_MAP_SIZE) -> None:
        self.lg_max_map_size = check_int("lg_max_map_size", lg_max_map_size, _FI_MIN_LG, _FI_MAX_LG)
        self._sketch = frequent_strings_sketch(self.lg_max_map_size)

    @classmethod
    def _wrap(cls, sketch: Any, lg_max_map_size: int) -> Self:
        obj = cls.__new__(cls)
        obj.lg_max_map_size = lg_max_map_size
        obj._sketch = sketch
        return obj

    def update(self, values: Sequence[str], counts: npt.ArrayLike) -> Self:
        """Add distinct values with their counts (weights); zero counts are skipped.

        Parameters
        ----------
        values
            Strings, usually distinct.
        counts
            Non-negative integers, one per value.

        Returns
        -------
        The sketch itself.
        """
        weights = _check_counts(values, counts)
        for value in values:
            if not isinstance(value, str):
                raise InvalidInputError(
                    f"frequent-items values must be str, got {type(value).__name__}",
                    field="values",
                )
        self._update_checked(values, weights)
        return self

    def _update_checked(self, values: Sequence[str], weights: IntArray) -> None:
        update = self._sketch.update
        for value, weight in zip(values, weights.tolist(), strict=True):
            if weight:
                update(value, weight)

    def merge(self, other: FrequentItems) -> FrequentItems:
        """A new sketch of both streams; inputs unchanged.

        Raises
        ------
        IncompatibleProfilesError
            If ``lg_max_map_size`` differs.
        """
        out = copy.copy(self)
        out._merge_into(other)
        return out

    def _merge_into(self, other: FrequentItems) -> None:
        if not isinstance(other, FrequentItems):
            raise InvalidInputError(
                f"can only merge FrequentItems with FrequentItems, got {type(other).__name__}",
                field="other",
            )
        if other.lg_max_map_size != self.lg_max_map_size:
            raise IncompatibleProfilesError(
                "frequent-items sketches with different lg_max_map_size cannot merge: "
                f"{self.lg_max_map_size} and {other.lg_max_map_size}",
                field="lg_max_map_size",
            )
        if other.is_empty:  # the empty sketch is the identity, exactly
            return
        if self.is_empty:
            self._sketch = copy.copy(other)._sketch
            return
        self._sketch.merge(other._sketch)

    @property
    def total_weight(self) -> int:
        """Sum of all counts added."""
        return int(self._sketch.total_weight)

    @property
    def is_empty(self) -> bool:
        """True while nothing was added."""
        return bool(self._sketch.is_empty())

    @property
    def epsilon(self) -> float:
        """A-priori error factor ``3.5 / 2**lg_max_map_size`` of the estimates."""
        return float(self._sketch.epsilon)

    def top(self, n: int | None = None) -> list[tuple[str, int, int, int]]:
        """The tracked items by decreasing estimate (ties by item).

        Parameters
        ----------
        n
            How many items to return; all tracked items when None.

        Returns
        -------
        ``(item, estimate, lower_bound, upper_bound)`` tuples; the true count of each item
        lies within its bounds.
        """
        if n is not None:
            n = check_int("n", n, 0, 2**62)
        rows = self._sketch.get_frequent_items(frequent_items_error_type.NO_FALSE_NEGATIVES)
        out = sorted(
            ((str(i), int(e), int(lo), int(hi)) for i, e, lo, hi in rows),
            key=lambda r: (-r[1], r[0]),
        )
        return out if n is None else out[:n]

    def to_bytes(self) -> bytes:
        """DataSketches' serialization of the sketch."""
        return bytes(self._sketch.serialize())

    @classmethod
    def from_bytes(cls, data: bytes) -> FrequentItems:
        """Rebuild a sketch from :meth:`to_bytes`, checking the bytes first.

        Raises
        ------
        UnsupportedFormatError
            If the bytes are not a complete frequent-strings sketch.

        Examples
        --------
        >>> fi = FrequentItems().update(["x"], np.array([3]))
        >>> FrequentItems.from_bytes(fi.to_bytes()).top()
        [('x', 3, 3, 3)]
        """
        raw = _as_bytes(data, "frequent-items data")
        lg_max = _check_fi_bytes(raw)
        try:
            sketch = frequent_strings_sketch.deserialize(raw)
        except (RuntimeError, ValueError, IndexError, MemoryError) as exc:
            raise UnsupportedFormatError(
                f"frequent-items sketch: cannot deserialize: {exc}"
            ) from exc
        return cls._wrap(sketch, lg_max)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FrequentItems):
            return NotImplemented
        return (
            self.lg_max_map_size == other.lg_max_map_size
            and self.total_weight == other.total_weight
            and self.top() == other.top()
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return (
            f"FrequentItems(lg_max_map_size={self.lg_max_map_size}, "
            f"total_weight={self.total_weight})"
        )

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return (FrequentItems.from_bytes, (self.to_bytes(),))

    def __copy__(self) -> FrequentItems:
        sketch = frequent_strings_sketch.deserialize(self._sketch.serialize())
        return FrequentItems._wrap(sketch, self.lg_max_map_size)


def _check_counts(values: Sequence[object], counts: npt.ArrayLike) -> IntArray:
    """Counts as int64, one per value, each >= 0."""
    arr = np.asarray(counts)
    if arr.dtype.kind not in "iu" and not (arr.size == 0 and arr.dtype.kind == "f"):
        raise InvalidInputError(f"counts must be integers, got dtype {arr.dtype}", field="counts")
    arr = arr.astype(np.int64).reshape(-1)
    if arr.size != len(values):
        raise InvalidInputError(
            f"counts must hold one count per value: got {arr.size} counts for {len(values)} values",
            field="counts",
        )
    if (arr < 0).any():
        raise InvalidInputError("counts must be >= 0", field="counts")
    return arr


def _check_fi_bytes(b: bytes) -> int:
    """Validate a serialized ``frequent_strings_sketch``; return its lg_max_map_size."""
    what = "frequent-items sketch"
    if len(b) < 8:
        raise _fail(what, f"{len(b)} bytes is too short (at least 8 expected)")
    pre, ser, family, lg_max, lg_cur, flags = struct.unpack_from("<6B", b)
    if family != _FI_FAMILY or ser != 1:
        raise _fail(what, f"family id {family} / version {ser} is not frequent items")
    if not _FI_MIN_LG <= lg_cur <= lg_max <= _FI_MAX_LG:
        raise _fail(what, f"invalid map sizes (lg_cur={lg_cur}, lg_max={lg_max})")
    if flags == 5:  # empty
        if pre != 1 or len(b) != 8:
            raise _fail(what, f"empty sketch of {len(b)} bytes")
        return int(lg_max)
    if flags != 0 or pre != 4 or len(b) < 32:
        raise _fail(what, f"invalid preamble ({pre}, flags {flags}, {len(b)} bytes)")
    num_items, _, total, offset = struct.unpack_from("<IIQQ", b, 8)
    if not 1 <= num_items <= 3 * (1 << lg_max) // 4 or len(b) < 32 + 8 * num_items:
        raise _fail(what, f"{num_items} items do not fit in {len(b)} bytes")
    weights = np.frombuffer(b, dtype="<u8", count=num_items, offset=32)
    if (weights == 0).any() or int(weights.sum(dtype=np.uint64)) > total or offset > total:
        raise _fail(what, "its weights are inconsistent with its total weight")
    _check_fi_items(b, 32 + 8 * num_items, num_items)
    return int(lg_max)


def _check_fi_items(b: bytes, pos: int, num_items: int) -> None:
    """Each item is a uint32 length and that many UTF-8 bytes, ending exactly at the end."""
    what = "frequent-items sketch"
    for _ in range(num_items):
        if pos + 4 > len(b):
            raise _fail(what, "an item is cut off")
        (length,) = struct.unpack_from("<I", b, pos)
        end = pos + 4 + length
        if end > len(b):
            raise _fail(what, "an item is cut off")
        try:
            b[pos + 4 : end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(what, "an item is not valid UTF-8") from exc
        pos = end
    if pos != len(b):
        raise _fail(what, f"{len(b) - pos} bytes follow its last item")


__all__ = [
    "DEFAULT_K",
    "DEFAULT_LG_K",
    "DEFAULT_LG_MAX_MAP_SIZE",
    "KLL",
    "FrequentItems",
    "HyperLogLog",
    "ks_distance",
]
