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

from sightline.profile.sketch.frequent import DEFAULT_LG_MAX_MAP_SIZE, FrequentItems
from sightline.profile.sketch.hll import DEFAULT_LG_K, HyperLogLog
from sightline.profile.sketch.kll import DEFAULT_K, KLL
from sightline.profile.statistics import ks_distance

__all__ = [
    "DEFAULT_K",
    "DEFAULT_LG_K",
    "DEFAULT_LG_MAX_MAP_SIZE",
    "KLL",
    "FrequentItems",
    "HyperLogLog",
    "ks_distance",
]
