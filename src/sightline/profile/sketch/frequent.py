"""The frequent-items sketch (Apache DataSketches' ``frequent_strings_sketch``; METHODS.md
section 8.4)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, Final, Self

import numpy as np
import numpy.typing as npt
from datasketches import frequent_items_error_type, frequent_strings_sketch

from sightline._types import IntArray
from sightline._validate import check_int
from sightline.errors import IncompatibleProfilesError, InvalidInputError, UnsupportedFormatError
from sightline.profile.sketch._wire import FI_MAX_LG, FI_MIN_LG, as_bytes, check_fi_bytes

DEFAULT_LG_MAX_MAP_SIZE: Final = 7


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
        self.lg_max_map_size = check_int("lg_max_map_size", lg_max_map_size, FI_MIN_LG, FI_MAX_LG)
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
        weights = check_counts(values, counts)
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
        raw = as_bytes(data, "frequent-items data")
        lg_max = check_fi_bytes(raw)
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


def check_counts(values: Sequence[object], counts: npt.ArrayLike) -> IntArray:
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


__all__ = ["DEFAULT_LG_MAX_MAP_SIZE", "FrequentItems"]
