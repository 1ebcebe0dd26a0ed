"""The KLL quantile sketch (Apache DataSketches' ``kll_floats_sketch``), with a batch
update that samples very large batches (METHODS.md section 8.1)."""

from __future__ import annotations

import copy
import itertools
import struct
from collections.abc import Sequence
from typing import Any, Final, Self

import numpy as np
import numpy.typing as npt
from datasketches import kll_floats_sketch

from sightline._types import FloatArray
from sightline._validate import check_int
from sightline.errors import IncompatibleProfilesError, InvalidInputError, UnsupportedFormatError
from sightline.profile.sketch._wire import (
    KLL_FAMILY,
    KLL_M,
    KLL_MIN_K,
    as_bytes,
    check_kll_blobs,
)

DEFAULT_K: Final = 200
_F32_MAX: Final = float(np.finfo(np.float32).max)
_KLL_MAX_K: Final = 65535
_F32_BLOCK: Final = 1 << 16  # values copied to float32 per block: the copy stays in cache
#: A KLL batch of ``2**(_KLL_SAMPLED_LG + h)`` values or more is sampled on ``h`` levels.
_KLL_SAMPLED_LG: Final = 17


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
        self.k = check_int("k", k, KLL_MIN_K, _KLL_MAX_K)
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
        buf = np.empty(min(arr.size, _F32_BLOCK), dtype=np.float32)
        for start in range(0, arr.size, _F32_BLOCK):  # a float32 copy that stays in cache
            block = arr[start : start + _F32_BLOCK]
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

    def retained(self) -> FloatArray:
        """The retained values (each item once, whatever its weight, in no set order), as
        float64: the points where :meth:`cdf` steps.

        >>> sorted(KLL().update(np.array([2.0, 1.0, 2.0])).retained().tolist())
        [1.0, 2.0, 2.0]
        """
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
        return cls.from_blobs([as_bytes(data, "KLL sketch data")])[0]

    @classmethod
    def from_blobs(cls, blobs: Sequence[bytes]) -> list[KLL]:
        """The sketches of several :meth:`to_bytes` blobs, checked together (one numpy
        pass over all their items: how a profile's dozens of sketches are read).

        Raises
        ------
        UnsupportedFormatError
            If any of the blobs is not a complete, consistent KLL float sketch.

        Examples
        --------
        >>> blobs = [KLL().update(np.arange(n, dtype=float)).to_bytes() for n in (0, 1, 900)]
        >>> [s.n for s in KLL.from_blobs(blobs)]
        [0, 1, 900]
        """
        check_kll_blobs(blobs)
        try:
            return [cls._wrap(kll_floats_sketch.deserialize(b)) for b in blobs]
        except (RuntimeError, ValueError, IndexError, MemoryError) as exc:
            raise UnsupportedFormatError(f"KLL sketch: cannot deserialize: {exc}") from exc

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
    header = struct.pack("<BBBBHBBQHBB", 5, 1, KLL_FAMILY, 0, k, KLL_M, 0, arr.size, k, n_levels, 0)
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

    return sum(max(KLL_M, level(depth)) for depth in range(n_levels))


def _round_down_f32(p: FloatArray) -> npt.NDArray[np.float32]:
    """The largest float32 <= each point (-inf below the float32 range)."""
    f = np.clip(p, -_F32_MAX, _F32_MAX).astype(np.float32)
    f[p < -_F32_MAX] = -np.inf
    above = f.astype(np.float64) > p
    if above.any():
        f[above] = np.nextafter(f[above], np.float32(-np.inf))
    return f


__all__ = ["DEFAULT_K", "KLL"]
