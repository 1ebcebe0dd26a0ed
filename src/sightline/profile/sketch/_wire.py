"""Checks of the DataSketches wire formats (KLL floats, frequent strings) before the C++
library reads them.

Bytes handed to a sketch's ``from_bytes`` are checked field by field in Python, so a
truncated or corrupted payload raises :class:`~sightline.errors.UnsupportedFormatError`
instead of crashing inside C++.
"""

from __future__ import annotations

import itertools
import math
import struct
from typing import Final

import numpy as np

from sightline.errors import InvalidInputError, UnsupportedFormatError

KLL_FAMILY: Final = 15
KLL_M: Final = 8
KLL_MIN_K: Final = 8
FI_FAMILY: Final = 10
FI_MIN_LG: Final = 3
FI_MAX_LG: Final = 26


def as_bytes(data: object, what: str) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidInputError(f"{what} must be bytes, got {type(data).__name__}", field="data")
    return bytes(data)


def corrupt(what: str, detail: str) -> UnsupportedFormatError:
    return UnsupportedFormatError(f"{what}: {detail}; the data is truncated or corrupted")


def check_kll_bytes(b: bytes) -> None:
    """Validate a serialized ``kll_floats_sketch`` completely before DataSketches reads it."""
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
    elif flags & 4:  # a single item
        if pre != 2 or ser != 2 or len(b) != 12:
            raise corrupt(what, f"single-item sketch of {len(b)} bytes")
        if not np.isfinite(np.frombuffer(b, dtype="<f4", offset=8)).all():
            raise corrupt(what, "its item is not finite")
    elif pre != 5 or ser != 1 or len(b) < 20:
        raise corrupt(what, f"invalid preamble ({pre}, version {ser}, {len(b)} bytes)")
    else:
        _check_kll_levels(b, k)


def _check_kll_levels(b: bytes, k: int) -> None:
    """Validate the levels and items of a full KLL sketch: sizes, total weight, order."""
    what = "KLL sketch"
    n, min_k, num_levels = struct.unpack_from("<QHB", b, 8)
    if not 1 <= num_levels <= 61 or not KLL_MIN_K <= min_k <= k:
        raise corrupt(what, f"invalid levels ({num_levels}) or min_k ({min_k})")
    start = 20 + 4 * num_levels + 8
    n_items, rest = divmod(len(b) - start, 4)
    if n_items < 1 or rest:
        raise corrupt(what, f"{len(b)} bytes do not match {num_levels} levels")
    bounds = [*struct.unpack_from(f"<{num_levels}I", b, 20), 0]
    bounds[-1] = bounds[0] + n_items
    sizes = [hi - lo for lo, hi in itertools.pairwise(bounds)]
    if min(sizes) < 0:
        raise corrupt(what, "its level boundaries are not ascending")
    weight = sum(size << lvl for lvl, size in enumerate(sizes))
    if weight != n:
        raise corrupt(what, f"its items weigh {weight} but it claims n = {n}")
    low, high = struct.unpack_from("<ff", b, start - 8)
    items = np.frombuffer(b, dtype="<f4", count=n_items, offset=start)
    smallest, largest = float(items.min()), float(items.max())  # NaN propagates
    if not (math.isfinite(smallest) and math.isfinite(largest) and math.isfinite(low)):
        raise corrupt(what, "it holds non-finite items")
    if not math.isfinite(high) or low > smallest or high < largest:
        raise corrupt(what, "its items lie outside its minimum and maximum")
    # Levels above 0 are sorted: no descent inside one of them (level 0 is unsorted).
    first = bounds[1] - bounds[0]
    descent = np.diff(items[first:]) < 0
    edges = [hi - bounds[1] - 1 for hi in bounds[2:-1]]  # between two levels: allowed
    descent[[i for i in edges if 0 <= i < descent.size]] = False
    if descent.any():
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
    weights = np.frombuffer(b, dtype="<u8", count=num_items, offset=32)
    if (weights == 0).any() or int(weights.sum(dtype=np.uint64)) > total or offset > total:
        raise corrupt(what, "its weights are inconsistent with its total weight")
    _check_fi_items(b, 32 + 8 * num_items, num_items)
    return int(lg_max)


def _check_fi_items(b: bytes, pos: int, num_items: int) -> None:
    """Each item is a uint32 length and that many UTF-8 bytes, ending exactly at the end."""
    what = "frequent-items sketch"
    for _ in range(num_items):
        if pos + 4 > len(b):
            raise corrupt(what, "an item is cut off")
        (length,) = struct.unpack_from("<I", b, pos)
        end = pos + 4 + length
        if end > len(b):
            raise corrupt(what, "an item is cut off")
        try:
            b[pos + 4 : end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise corrupt(what, "an item is not valid UTF-8") from exc
        pos = end
    if pos != len(b):
        raise corrupt(what, f"{len(b) - pos} bytes follow its last item")
