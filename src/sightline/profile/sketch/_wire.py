"""Checks of the DataSketches wire formats (KLL floats, frequent strings) before the C++
library reads them.

Bytes handed to a sketch's ``from_bytes`` are checked field by field in Python, so a
truncated or corrupted payload raises :class:`~sightline.errors.UnsupportedFormatError`
instead of crashing inside C++.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Final, NamedTuple

import numpy as np

from sightline.errors import InvalidInputError, UnsupportedFormatError

KLL_FAMILY: Final = 15
KLL_M: Final = 8
KLL_MIN_K: Final = 8
FI_FAMILY: Final = 10
FI_MIN_LG: Final = 3
FI_MAX_LG: Final = 26
_U32: Final = struct.Struct("<I")


def as_bytes(data: object, what: str) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidInputError(f"{what} must be bytes, got {type(data).__name__}", field="data")
    return bytes(data)


def corrupt(what: str, detail: str) -> UnsupportedFormatError:
    return UnsupportedFormatError(f"{what}: {detail}; the data is truncated or corrupted")


def check_kll_blobs(blobs: Sequence[bytes]) -> None:
    """Validate serialized ``kll_floats_sketch`` blobs completely: each header alone, then
    the items of all the full sketches in one numpy pass (a profile holds dozens)."""
    full = [levels for i, b in enumerate(blobs) if (levels := _check_kll_header(b, i)) is not None]
    if full:
        _check_kll_items(blobs, full)


class _Levels(NamedTuple):
    """Where a full KLL sketch keeps its items, and what its header says of them."""

    blob: int
    start: int
    sizes: list[int]
    low: float
    high: float


def _check_kll_header(b: bytes, index: int) -> _Levels | None:
    """Check a KLL sketch's header (and an empty or one-item sketch whole); return the
    levels of a full sketch, whose items :func:`_check_kll_items` checks."""
    what = "KLL sketch"
    if len(b) < 8:
        raise corrupt(what, f"{len(b)} bytes is too short (at least 8 expected)")
    pre, ser, family, flags, k, m = struct.unpack_from("<BBBBHB", b)
    if family != KLL_FAMILY:
        raise corrupt(what, f"family id {family} is not KLL ({KLL_FAMILY})")
    if m != KLL_M or k < KLL_MIN_K or flags & ~0b111:
        raise corrupt(what, f"invalid header (k={k}, m={m}, flags={flags})")
    if flags & 1:  # empty
        if pre != 2 or len(b) != 8:
            raise corrupt(what, f"empty sketch of {len(b)} bytes")
        return None
    if flags & 4:  # a single item
        if pre != 2 or ser != 2 or len(b) != 12:
            raise corrupt(what, f"single-item sketch of {len(b)} bytes")
        if not math.isfinite(struct.unpack_from("<f", b, 8)[0]):
            raise corrupt(what, "its item is not finite")
        return None
    if pre != 5 or ser != 1 or len(b) < 20:
        raise corrupt(what, f"invalid preamble ({pre}, version {ser}, {len(b)} bytes)")
    return _kll_levels(b, k, index)


def _kll_levels(b: bytes, k: int, index: int) -> _Levels:
    """The levels of a full KLL sketch: their sizes and total weight checked."""
    what = "KLL sketch"
    n, min_k, num_levels = struct.unpack_from("<QHB", b, 8)
    if not 1 <= num_levels <= 61 or not KLL_MIN_K <= min_k <= k:
        raise corrupt(what, f"invalid levels ({num_levels}) or min_k ({min_k})")
    start = 20 + 4 * num_levels + 8
    n_items, rest = divmod(len(b) - start, 4)
    if n_items < 1 or rest:
        raise corrupt(what, f"{len(b)} bytes do not match {num_levels} levels")
    bounds = struct.unpack_from(f"<{num_levels}I", b, 20)
    ends = (*bounds[1:], bounds[0] + n_items)
    sizes = [hi - lo for lo, hi in zip(bounds, ends, strict=True)]
    if min(sizes) < 0:
        raise corrupt(what, "its level boundaries are not ascending")
    weight = sum(size << lvl for lvl, size in enumerate(sizes))
    if weight != n:
        raise corrupt(what, f"its items weigh {weight} but it claims n = {n}")
    low, high = struct.unpack_from("<ff", b, start - 8)
    return _Levels(index, start, sizes, low, high)


def _check_kll_items(blobs: Sequence[bytes], full: list[_Levels]) -> None:
    """The items of full KLL sketches, all at once: finite, within each sketch's minimum
    and maximum, and sorted inside every level above 0 (level 0 is unsorted)."""
    what = "KLL sketch"
    items = np.frombuffer(b"".join(blobs[s.blob][s.start :] for s in full), dtype="<f4")
    sizes = [sum(s.sizes) for s in full]
    firsts = np.cumsum([0, *sizes[:-1]])
    smallest = np.minimum.reduceat(items, firsts)  # NaN propagates
    largest = np.maximum.reduceat(items, firsts)
    lows = np.array([s.low for s in full], dtype=np.float32)
    highs = np.array([s.high for s in full], dtype=np.float32)
    if not (np.isfinite(smallest).all() and np.isfinite(largest).all() and np.isfinite(lows).all()):
        raise corrupt(what, "it holds non-finite items")
    if not np.isfinite(highs).all() or (lows > smallest).any() or (highs < largest).any():
        raise corrupt(what, "its items lie outside its minimum and maximum")
    # A descent is allowed into the first item of a level, and anywhere inside level 0.
    levels = [size for s in full for size in s.sizes]
    unsorted = [lvl == 0 for s in full for lvl in range(len(s.sizes))]
    allowed = np.repeat(unsorted, levels)
    starts = np.cumsum([0, *levels[:-1]])
    allowed[starts[starts < items.size]] = True
    if (np.less(items[1:], items[:-1]) & ~allowed[1:]).any():
        raise corrupt(what, "a level above 0 is not sorted")


def check_fi_bytes(b: bytes) -> int:
    """Validate a serialized ``frequent_strings_sketch``; return its lg_max_map_size."""
    what = "frequent-items sketch"
    if len(b) < 8:
        raise corrupt(what, f"{len(b)} bytes is too short (at least 8 expected)")
    pre, ser, family, lg_max, lg_cur, flags = struct.unpack_from("<6B", b)
    if family != FI_FAMILY or ser != 1:
        raise corrupt(what, f"family id {family} / version {ser} is not frequent items")
    if not FI_MIN_LG <= lg_cur <= lg_max <= FI_MAX_LG:
        raise corrupt(what, f"invalid map sizes (lg_cur={lg_cur}, lg_max={lg_max})")
    if flags == 5:  # empty
        if pre != 1 or len(b) != 8:
            raise corrupt(what, f"empty sketch of {len(b)} bytes")
        return int(lg_max)
    if flags != 0 or pre != 4 or len(b) < 32:
        raise corrupt(what, f"invalid preamble ({pre}, flags {flags}, {len(b)} bytes)")
    num_items, _, total, offset = struct.unpack_from("<IIQQ", b, 8)
    if not 1 <= num_items <= 3 * (1 << lg_max) // 4 or len(b) < 32 + 8 * num_items:
        raise corrupt(what, f"{num_items} items do not fit in {len(b)} bytes")
    weights = struct.unpack_from(f"<{num_items}Q", b, 32)  # exact sums, no uint64 wrap
    if 0 in weights or sum(weights) > total or offset > total:
        raise corrupt(what, "its weights are inconsistent with its total weight")
    _check_fi_items(b, 32 + 8 * num_items, num_items)
    return int(lg_max)


def _check_fi_items(b: bytes, pos: int, num_items: int) -> None:
    """Each item is a uint32 length and that many UTF-8 bytes, ending exactly at the end."""
    what = "frequent-items sketch"
    size, length_at = len(b), _U32.unpack_from
    for _ in range(num_items):
        if pos + 4 > size:
            raise corrupt(what, "an item is cut off")
        start = pos + 4
        pos = start + length_at(b, pos)[0]
        if pos > size:
            raise corrupt(what, "an item is cut off")
        try:
            str(b[start:pos], "utf-8")
        except UnicodeDecodeError as exc:
            raise corrupt(what, "an item is not valid UTF-8") from exc
    if pos != size:
        raise corrupt(what, f"{size - pos} bytes follow its last item")
