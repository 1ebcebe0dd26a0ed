"""The HyperLogLog distinct-count sketch, in numpy (DataSketches' HLL takes one Python
call per value, far too slow for columns of a million rows; METHODS.md section 8.3)."""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Sequence
from typing import Any, Final, Self, TypeAlias

import numpy as np
import numpy.typing as npt

from sightline._types import FloatArray
from sightline._validate import check_int
from sightline.errors import IncompatibleProfilesError, InvalidInputError, UnsupportedFormatError
from sightline.profile.sketch._wire import as_bytes, corrupt

UInt64Array: TypeAlias = npt.NDArray[np.uint64]
DEFAULT_LG_K: Final = 10
_HLL_MAGIC: Final = b"SLHL"
_HLL_VERSION: Final = 1
_HLL_MIN_LG: Final = 4
_HLL_MAX_LG: Final = 18
_HASH_BLOCK: Final = 1 << 16  # values hashed per block: the buffers stay in cache


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
        raw = as_bytes(data, "HyperLogLog data")
        what = "HyperLogLog sketch"
        if len(raw) < 6 or raw[:4] != _HLL_MAGIC:
            raise corrupt(what, "missing its b'SLHL' header")
        if raw[4] != _HLL_VERSION:
            raise UnsupportedFormatError(
                f"HyperLogLog sketch format {raw[4]} is not supported (this sightline reads "
                f"format {_HLL_VERSION})"
            )
        lg_k = raw[5]
        if not _HLL_MIN_LG <= lg_k <= _HLL_MAX_LG or len(raw) != 6 + (1 << lg_k):
            raise corrupt(what, f"lg_k = {lg_k} with {len(raw) - 6} register bytes")
        registers = np.frombuffer(raw, dtype=np.uint8, offset=6).copy()
        if registers.max() > 65 - lg_k:
            raise corrupt(what, f"a register exceeds its maximum {65 - lg_k}")
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


__all__ = ["DEFAULT_LG_K", "HyperLogLog"]
