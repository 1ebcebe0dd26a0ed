"""Column profiles: the mergeable summary of one column over one window.

Each profile is a monoid: ``zero`` is the identity, ``update`` adds a batch (vectorized,
returns the profile itself), ``merge`` returns a new profile and is associative and
commutative. The exact parts (counts, bin counts, minimum, maximum, HLL registers) merge
exactly; moments merge with Chan et al.'s formula (equal up to rounding); the KLL and
frequent-items sketches stay within their stated error bounds.
"""

from __future__ import annotations

import collections
import copy
import hashlib
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, NamedTuple, Self

import numpy as np
import numpy.typing as npt

from sightline._types import BoolArray, FloatArray, IntArray
from sightline._validate import finite_or_none
from sightline.errors import IncompatibleProfilesError, InvalidInputError
from sightline.profile.sketch import (
    DEFAULT_K,
    DEFAULT_LG_K,
    DEFAULT_LG_MAX_MAP_SIZE,
    KLL,
    FrequentItems,
    HyperLogLog,
)
from sightline.profile.sketch.frequent import check_counts
from sightline.stats._binning import bin_counts
from sightline.stats.moments import Moments, merge_moments, variance

#: The quantiles reported by ``to_dict``, keyed by name.
QUANTILES: Final[dict[str, float]] = {
    "p01": 0.01,
    "p05": 0.05,
    "p10": 0.10,
    "p25": 0.25,
    "p50": 0.50,
    "p75": 0.75,
    "p90": 0.90,
    "p95": 0.95,
    "p99": 0.99,
}
_TOP_ITEMS: Final = 10  # frequent items listed by to_dict
_BLOCK: Final = 1 << 16  # values per block of the squared deviations: they stay in cache
#: Batches smaller than this reach KLL sorted (larger ones are sampled: sorting costs more).
_SORT_BELOW: Final = 1 << 18


def _digest(arr: FloatArray | tuple[str, ...] | None) -> str:
    if arr is None:
        return "none"
    raw = np.asarray(arr).tobytes() if isinstance(arr, np.ndarray) else "\0".join(arr).encode()
    return f"{len(arr)} values, {hashlib.blake2b(raw, digest_size=4).hexdigest()}"


def check_edges(name: str, edges: npt.ArrayLike | None) -> FloatArray | None:
    """Return bin edges as a read-only float64 array, or raise naming the column.

    Edges must be 1-D, finite and strictly ascending (deduplicate reference quantiles
    with ``np.unique`` first).

    Examples
    --------
    >>> check_edges("age", [1, 2.5]).tolist()
    [1.0, 2.5]
    """
    if edges is None:
        return None
    try:
        arr = np.array(edges, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"column {name!r}: edges must be numbers ({exc})", field=name
        ) from exc
    if arr.ndim != 1 or not np.isfinite(arr).all() or (np.diff(arr) <= 0).any():
        raise InvalidInputError(
            f"column {name!r}: edges must be a 1-D array of finite numbers in strictly "
            f"ascending order, got {arr.tolist()!r:.200}",
            field=name,
        )
    arr.flags.writeable = False
    return arr


def check_vocabulary(name: str, vocabulary: Sequence[str] | None) -> tuple[str, ...] | None:
    """Return a vocabulary as a tuple of distinct strings, or raise naming the column.

    Examples
    --------
    >>> check_vocabulary("color", ["red", "blue"])
    ('red', 'blue')
    """
    if vocabulary is None:
        return None
    if isinstance(vocabulary, str):
        raise InvalidInputError(
            f"column {name!r}: vocabulary must be a sequence of strings, not one string",
            field=name,
        )
    vocab = tuple(vocabulary)
    bad = [v for v in vocab if not isinstance(v, str)]
    if bad:
        raise InvalidInputError(
            f"column {name!r}: vocabulary must hold strings, got {bad[:3]!r}", field=name
        )
    if len(set(vocab)) != len(vocab):
        dup = sorted({v for v in vocab if vocab.count(v) > 1})
        raise InvalidInputError(
            f"column {name!r}: vocabulary values must be distinct, repeated: {dup[:5]!r}",
            field=name,
        )
    return vocab


class _NumericBatch(NamedTuple):
    """A validated numeric batch, ready to be applied without further checks."""

    values: FloatArray
    finite: BoolArray | None  # None when every value is finite
    n_rows: int
    n_nan: int
    n_inf: int
    n_invalid: int


class _ColumnMerge(ABC):
    """What both column profiles share: counting absent rows and merging.

    ``merge`` checks compatibility (``_check_compatible``: the same class, and nothing that
    ``_differences`` lists), copies ``self`` (``_copy``) and folds ``other`` into the copy
    (``_merge_unchecked``), so both inputs stay unchanged.
    """

    kind: ClassVar[str]
    name: str
    count: int
    n_missing: int

    def add_missing(self, n_rows: int) -> Self:
        """Count ``n_rows`` rows in which the column is absent as missing; returns self."""
        n = _check_n_rows(self.name, n_rows)
        self.count += n
        self.n_missing += n
        return self

    def merge(self, other: Self) -> Self:
        """A new profile of both batches of data; ``self`` and ``other`` are unchanged.

        Raises
        ------
        IncompatibleProfilesError
            If the names, bin edges or vocabularies, or the sketch sizes differ.
        """
        self._check_compatible(other)
        out = self._copy()
        out._merge_unchecked(other)
        return out

    def __add__(self, other: Self) -> Self:
        return self.merge(other)

    def _check_compatible(self, other: object) -> Self:
        """``other`` if it can be merged into ``self``, else IncompatibleProfilesError."""
        if not isinstance(other, type(self)):
            raise IncompatibleProfilesError(
                f"column {self.name!r}: cannot merge a {self.kind} profile with "
                f"{type(other).__name__}",
                field=self.name,
            )
        differs = _name_differences(self.name, other.name) + self._differences(other)
        if differs:
            raise IncompatibleProfilesError(
                f"column {self.name!r}: " + "; ".join(differs), field=self.name
            )
        return other

    @abstractmethod
    def _differences(self, other: Self) -> list[str]:
        """Why the sketches, bin edges or vocabularies of ``other`` do not fit ``self``."""

    @abstractmethod
    def _copy(self) -> Self:
        """An independent copy (sketches and arrays copied)."""

    @abstractmethod
    def _merge_unchecked(self, other: Self) -> None:
        """Fold a compatible ``other`` into ``self``."""


@dataclass(slots=True, eq=False, repr=False)
class NumericColumnProfile(_ColumnMerge):
    """Mergeable summary of one numeric column.

    Build it with :meth:`zero`, feed it with :meth:`update`, combine with :meth:`merge`
    (or ``+``).

    Attributes
    ----------
    name
        Column name.
    edges
        Fixed inner bin edges (from the reference), or None. Bin ``i`` holds
        ``edges[i-1] <= v < edges[i]``, i.e. ``np.searchsorted(edges, v, side="right")``;
        the two outer bins are open.
    count
        Rows seen, whatever their value.
    n_missing
        Missing values (NaN, or rows where the column was absent).
    n_inf
        Values of +-infinity: counted, but excluded from the moments, sketches and bins.
    n_invalid
        Values of the wrong type, counted by the caller (see :meth:`update`).
    moments
        Count, mean and sum of squared deviations of the finite values.
    min, max
        Smallest and largest finite value (``inf`` and ``-inf`` while there is none).
    kll
        Quantile sketch of the finite values.
    hll
        Distinct-count sketch of the finite values.
    bins
        Exact counts of the finite values on ``edges`` (``len(edges) + 1`` bins), or None.

    Examples
    --------
    >>> p = NumericColumnProfile.zero("age", edges=[30.0, 50.0])
    >>> _ = p.update(np.array([25.0, 41.0, np.nan, 70.0, 35.0]))
    >>> p.count, p.n_missing, p.bins.tolist(), p.mean, p.min, p.max
    (5, 1, [1, 2, 1], 42.75, 25.0, 70.0)
    >>> q = NumericColumnProfile.zero("age", edges=[30.0, 50.0]).update(np.array([np.inf]))
    >>> (p + q).count, (p + q).n_inf
    (6, 1)
    """

    kind: ClassVar[str] = "numeric"
    name: str
    edges: FloatArray | None
    count: int
    n_missing: int
    n_inf: int
    n_invalid: int
    moments: Moments
    min: float
    max: float
    kll: KLL
    hll: HyperLogLog
    bins: IntArray | None

    @classmethod
    def zero(
        cls,
        name: str,
        *,
        edges: npt.ArrayLike | None = None,
        k: int = DEFAULT_K,
        lg_k: int = DEFAULT_LG_K,
    ) -> Self:
        """The empty profile (the identity of :meth:`merge`).

        Parameters
        ----------
        name
            Column name.
        edges
            Inner bin edges fixed by the reference (strictly ascending, finite), or None
            for no histogram.
        k
            KLL accuracy parameter (see :class:`~sightline.profile.sketch.KLL`).
        lg_k
            HyperLogLog size (see :class:`~sightline.profile.sketch.HyperLogLog`).
        """
        checked = check_edges(name, edges)
        return cls(
            name=name,
            edges=checked,
            count=0,
            n_missing=0,
            n_inf=0,
            n_invalid=0,
            moments=Moments(0, 0.0, 0.0),
            min=math.inf,
            max=-math.inf,
            kll=KLL(k),
            hll=HyperLogLog(lg_k),
            bins=None if checked is None else np.zeros(checked.size + 1, dtype=np.int64),
        )

    # -- updating -------------------------------------------------------------------------

    def update(self, values: npt.ArrayLike, *, n_invalid: int = 0) -> Self:
        """Add a batch of values.

        Parameters
        ----------
        values
            1-D numbers. NaN means missing; +-infinity is counted in ``n_inf`` and left out
            of the moments, sketches and bins.
        n_invalid
            How many of the NaNs in ``values`` stand for values of the wrong type (text in
            a numeric column, say): the caller puts NaN in their place and counts them
            here, so they are counted as invalid rather than missing.

        Returns
        -------
        The profile itself.

        Raises
        ------
        InvalidInputError
            If the values are not numeric or not 1-D, or ``n_invalid`` is negative or
            exceeds the number of NaNs. Nothing is changed then.
        """
        self._apply(self._prepare(values, n_invalid=n_invalid))
        return self

    def _prepare(self, values: npt.ArrayLike, *, n_invalid: int = 0) -> _NumericBatch:
        arr = _as_float_column(self.name, values)
        if (
            isinstance(n_invalid, bool)
            or not isinstance(n_invalid, int | np.integer)
            or n_invalid < 0
        ):
            raise InvalidInputError(
                f"column {self.name!r}: n_invalid must be an integer >= 0, got {n_invalid!r}",
                field=self.name,
            )
        finite = np.isfinite(arr)
        mask: BoolArray | None = None
        n_nan = n_inf = 0
        if not finite.all():
            mask = finite
            bad = arr[~finite]
            n_nan = int(np.count_nonzero(np.isnan(bad)))
            n_inf = bad.size - n_nan
        if n_invalid > n_nan:
            raise InvalidInputError(
                f"column {self.name!r}: n_invalid is {n_invalid} but values hold only {n_nan} "
                "NaNs; put NaN in place of each invalid value",
                field=self.name,
            )
        return _NumericBatch(arr, mask, arr.size, n_nan, n_inf, int(n_invalid))

    def _apply(self, batch: _NumericBatch) -> None:
        self.count += batch.n_rows
        self.n_missing += batch.n_nan - batch.n_invalid
        self.n_inf += batch.n_inf
        self.n_invalid += batch.n_invalid
        values = batch.values if batch.finite is None else batch.values[batch.finite]
        if values.size == 0:
            return
        low, high = float(values.min()) + 0.0, float(values.max()) + 0.0  # -0.0 is 0.0
        self.moments = merge_moments(self.moments, _finite_moments(values))
        self.min = min(self.min, low)
        self.max = max(self.max, high)
        if self.edges is not None and self.bins is not None:
            self.bins += bin_counts(values[:, None], [self.edges])[:, 0]
        if self.kll.n + values.size <= self.kll.k or values.size >= _SORT_BELOW:
            self.kll._update_finite(values, low, high)
            self.hll._update_floats(values)
            return
        # Beyond its exact mode KLL takes a sorted batch in half the time (its compactions
        # sort), with the same error bound (it holds for any order of the stream); the
        # sketch is random from then on anyway. HLL needs each distinct value once.
        ordered = np.sort(values)
        self.kll._update_finite(ordered, low, high)
        self.hll._update_floats(ordered[_starts_of_runs(ordered)])

    # -- merging --------------------------------------------------------------------------

    def _differences(self, other: NumericColumnProfile) -> list[str]:
        differs = _sketch_size_differences(self.kll.k, other.kll.k, "KLL k")
        differs += _sketch_size_differences(self.hll.lg_k, other.hll.lg_k, "lg_k")
        if not _same_edges(self.edges, other.edges):
            differs.append(f"bin edges differ ({_digest(self.edges)} vs {_digest(other.edges)})")
        return differs

    def _copy(self) -> NumericColumnProfile:
        return NumericColumnProfile(
            name=self.name,
            edges=self.edges,
            count=self.count,
            n_missing=self.n_missing,
            n_inf=self.n_inf,
            n_invalid=self.n_invalid,
            moments=self.moments,
            min=self.min,
            max=self.max,
            kll=copy.copy(self.kll),
            hll=copy.copy(self.hll),
            bins=None if self.bins is None else self.bins.copy(),
        )

    def _merge_unchecked(self, other: NumericColumnProfile) -> None:
        self.count += other.count
        self.n_missing += other.n_missing
        self.n_inf += other.n_inf
        self.n_invalid += other.n_invalid
        self.moments = merge_moments(self.moments, other.moments)
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        self.kll._merge_into(other.kll)
        self.hll._merge_into(other.hll)
        if self.bins is not None and other.bins is not None:
            self.bins += other.bins

    # -- reading --------------------------------------------------------------------------

    @property
    def n_valid(self) -> int:
        """Finite values seen: ``count - n_missing - n_inf - n_invalid``."""
        return self.count - self.n_missing - self.n_inf - self.n_invalid

    @property
    def mean(self) -> float:
        """Mean of the finite values (NaN when there is none)."""
        return float(self.moments.mean) if self.n_valid else math.nan

    @property
    def std(self) -> float:
        """Sample standard deviation (``ddof=1``) of the finite values; NaN below 2."""
        return math.sqrt(float(variance(self.moments, ddof=1)))

    @property
    def distinct(self) -> float:
        """Estimated number of distinct finite values (HyperLogLog), at most ``n_valid``."""
        return self.hll.estimate(at_most=self.n_valid)

    @property
    def distinct_bounds(self) -> tuple[float, float]:
        """``(lower, upper)`` of :attr:`distinct` (3 standard errors, at most ``n_valid``)."""
        return self.hll.bounds(at_most=self.n_valid)

    @property
    def missing_share(self) -> float:
        """``n_missing / count`` (NaN when no row was seen)."""
        return self.n_missing / self.count if self.count else math.nan

    def quantiles(self, qs: npt.ArrayLike) -> FloatArray:
        """Approximate quantiles of the finite values (KLL; see its rank-error bound)."""
        return self.kll.quantiles(qs)

    def to_dict(self) -> dict[str, Any]:
        """Counts, moments, extremes, quantiles, distinct count and bins, JSON-ready.

        Undefined statistics (the mean of no value, say) are None.

        Examples
        --------
        >>> d = NumericColumnProfile.zero("x").update(np.array([1.0, 2.0, 3.0])).to_dict()
        >>> d["count"], d["mean"], d["std"], d["quantiles"]["p50"], d["bins"]
        (3, 2.0, 1.0, 2.0, None)
        """
        qs = self.quantiles(np.array(list(QUANTILES.values())))
        return {
            "name": self.name,
            "kind": "numeric",
            "count": self.count,
            "n_missing": self.n_missing,
            "n_inf": self.n_inf,
            "n_invalid": self.n_invalid,
            "n_valid": self.n_valid,
            "missing_share": finite_or_none(self.missing_share),
            "mean": finite_or_none(self.mean),
            "std": finite_or_none(self.std),
            "min": self.min if self.n_valid else None,
            "max": self.max if self.n_valid else None,
            "distinct": self.distinct,
            "distinct_bounds": list(self.distinct_bounds),
            "quantiles": {
                key: finite_or_none(float(v)) for key, v in zip(QUANTILES, qs, strict=True)
            },
            "edges": None if self.edges is None else self.edges.tolist(),
            "bins": None if self.bins is None else self.bins.tolist(),
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NumericColumnProfile):
            return NotImplemented
        return (
            self.name == other.name
            and _same_edges(self.edges, other.edges)
            and (self.count, self.n_missing, self.n_inf, self.n_invalid)
            == (other.count, other.n_missing, other.n_inf, other.n_invalid)
            and _same_moments(self.moments, other.moments)
            and (self.min, self.max) == (other.min, other.max)
            and self.kll == other.kll
            and self.hll == other.hll
            and _same_ints(self.bins, other.bins)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return (
            f"NumericColumnProfile(name={self.name!r}, count={self.count}, "
            f"n_valid={self.n_valid}, bins={'none' if self.edges is None else self.edges.size + 1})"
        )


class _CategoricalBatch(NamedTuple):
    """Distinct present values with their counts, and the missing count."""

    values: list[str]
    counts: IntArray
    n_missing: int


@dataclass(slots=True, eq=False, repr=False)
class CategoricalColumnProfile(_ColumnMerge):
    """Mergeable summary of one categorical column.

    Attributes
    ----------
    name
        Column name.
    vocabulary
        Categories fixed by the reference, or None.
    count
        Rows seen.
    n_missing
        Missing values (None, float NaN, or rows where the column was absent).
    counts
        Exact counts over ``vocabulary`` plus one last bucket for every other value
        (``len(vocabulary) + 1`` entries), or None without a vocabulary.
    frequent
        Frequent-items sketch of the present values.
    hll
        Distinct-count sketch of the present values.

    Examples
    --------
    >>> p = CategoricalColumnProfile.zero("color", vocabulary=("red", "blue"))
    >>> _ = p.update(np.array(["red", "red", None, "green"], dtype=object))
    >>> p.count, p.n_missing, p.counts.tolist(), p.frequent.top(1)
    (4, 1, [2, 0, 1], [('red', 2, 2, 2)])
    """

    kind: ClassVar[str] = "categorical"
    name: str
    vocabulary: tuple[str, ...] | None
    count: int
    n_missing: int
    counts: IntArray | None
    frequent: FrequentItems
    hll: HyperLogLog
    _lookup: dict[str, int] | None = field(default=None, compare=False)

    @classmethod
    def zero(
        cls,
        name: str,
        *,
        vocabulary: Sequence[str] | None = None,
        lg_k: int = DEFAULT_LG_K,
        lg_max_map_size: int = DEFAULT_LG_MAX_MAP_SIZE,
    ) -> Self:
        """The empty profile (the identity of :meth:`merge`).

        Parameters
        ----------
        name
            Column name.
        vocabulary
            Distinct categories fixed by the reference, or None for no exact counts.
        lg_k
            HyperLogLog size (see :class:`~sightline.profile.sketch.HyperLogLog`).
        lg_max_map_size
            Frequent-items size (see :class:`~sightline.profile.sketch.FrequentItems`).
        """
        vocab = check_vocabulary(name, vocabulary)
        return cls(
            name=name,
            vocabulary=vocab,
            count=0,
            n_missing=0,
            counts=None if vocab is None else np.zeros(len(vocab) + 1, dtype=np.int64),
            frequent=FrequentItems(lg_max_map_size),
            hll=HyperLogLog(lg_k),
        )

    # -- updating -------------------------------------------------------------------------

    def update(self, values: Sequence[str | None] | npt.NDArray[Any]) -> Self:
        """Add a batch of raw values (str, or None / float NaN for missing).

        The distinct values and their counts are found with a C-level hash count
        (``collections.Counter``), about ten times faster than ``np.unique`` on object
        arrays; the per-value work is then a loop over the distinct values only.

        Returns
        -------
        The profile itself.

        Raises
        ------
        InvalidInputError
            If a value is neither a string nor missing; nothing is changed then.
        """
        self._apply(self._prepare_values(values))
        return self

    def update_counts(
        self, values: Sequence[str | None] | npt.NDArray[Any], counts: npt.ArrayLike
    ) -> Self:
        """Add distinct values with their counts (None counts as missing).

        Parameters
        ----------
        values
            Values (usually distinct), str or None.
        counts
            Non-negative integer count of each value.

        Returns
        -------
        The profile itself.

        Examples
        --------
        >>> p = CategoricalColumnProfile.zero("c", vocabulary=("a",))
        >>> p.update_counts(["a", "b", None], np.array([3, 2, 1])).counts.tolist()
        [3, 2]
        """
        self._apply(self._prepare_counts(values, counts))
        return self

    def _prepare_values(self, values: Sequence[str | None] | npt.NDArray[Any]) -> _CategoricalBatch:
        if isinstance(values, np.ndarray):
            if values.ndim != 1:
                raise InvalidInputError(
                    f"column {self.name!r}: values must be 1-D, got {values.ndim} dimensions",
                    field=self.name,
                )
            items: Sequence[object] = values.tolist()
        elif isinstance(values, str):
            raise InvalidInputError(
                f"column {self.name!r}: values must be a sequence of strings, not one string",
                field=self.name,
            )
        else:
            items = values
        tally = collections.Counter(items)
        return self._split(list(tally.keys()), np.fromiter(tally.values(), np.int64, len(tally)))

    def _prepare_counts(
        self, values: Sequence[str | None] | npt.NDArray[Any], counts: npt.ArrayLike
    ) -> _CategoricalBatch:
        items = values.tolist() if isinstance(values, np.ndarray) else list(values)
        return self._split(items, check_counts(items, counts))

    def _split(self, items: list[Any], counts: IntArray) -> _CategoricalBatch:
        present: list[str] = []
        keep = np.ones(len(items), dtype=np.bool_)
        for i, item in enumerate(items):
            if isinstance(item, str):
                present.append(item)
            elif item is None or (isinstance(item, float) and math.isnan(item)):
                keep[i] = False
            else:
                raise InvalidInputError(
                    f"column {self.name!r}: categorical values must be str or None, got "
                    f"{type(item).__name__} {item!r:.40}; convert the column to strings",
                    field=self.name,
                )
        n_missing = int(counts[~keep].sum())
        return _CategoricalBatch(present, counts[keep], n_missing)

    def _apply(self, batch: _CategoricalBatch) -> None:
        self.count += int(batch.counts.sum()) + batch.n_missing
        self.n_missing += batch.n_missing
        seen = [v for v, c in zip(batch.values, batch.counts.tolist(), strict=True) if c]
        if self.counts is not None and self.vocabulary is not None and batch.values:
            if self._lookup is None:
                self._lookup = {v: i for i, v in enumerate(self.vocabulary)}
            other = len(self.vocabulary)
            idx = np.fromiter(
                (self._lookup.get(v, other) for v in batch.values), np.intp, len(batch.values)
            )
            self.counts += np.bincount(idx, weights=batch.counts, minlength=other + 1).astype(
                np.int64
            )
        self.frequent._update_checked(batch.values, batch.counts)
        self.hll.update_strings(seen)

    # -- merging --------------------------------------------------------------------------

    def _differences(self, other: CategoricalColumnProfile) -> list[str]:
        differs = _sketch_size_differences(self.hll.lg_k, other.hll.lg_k, "lg_k")
        differs += _sketch_size_differences(
            self.frequent.lg_max_map_size, other.frequent.lg_max_map_size, "lg_max_map_size"
        )
        if self.vocabulary != other.vocabulary:
            differs.append(
                f"vocabularies differ ({_digest(self.vocabulary)} vs {_digest(other.vocabulary)})"
            )
        return differs

    def _copy(self) -> CategoricalColumnProfile:
        return CategoricalColumnProfile(
            name=self.name,
            vocabulary=self.vocabulary,
            count=self.count,
            n_missing=self.n_missing,
            counts=None if self.counts is None else self.counts.copy(),
            frequent=copy.copy(self.frequent),
            hll=copy.copy(self.hll),
            _lookup=self._lookup,
        )

    def _merge_unchecked(self, other: CategoricalColumnProfile) -> None:
        self.count += other.count
        self.n_missing += other.n_missing
        if self.counts is not None and other.counts is not None:
            self.counts += other.counts
        self.frequent._merge_into(other.frequent)
        self.hll._merge_into(other.hll)

    # -- reading --------------------------------------------------------------------------

    @property
    def n_valid(self) -> int:
        """Present (non-missing) values: ``count - n_missing``."""
        return self.count - self.n_missing

    @property
    def distinct(self) -> float:
        """Estimated number of distinct present values (HyperLogLog), at most ``n_valid``."""
        return self.hll.estimate(at_most=self.n_valid)

    @property
    def distinct_bounds(self) -> tuple[float, float]:
        """``(lower, upper)`` of :attr:`distinct` (3 standard errors, at most ``n_valid``)."""
        return self.hll.bounds(at_most=self.n_valid)

    @property
    def missing_share(self) -> float:
        """``n_missing / count`` (NaN when no row was seen)."""
        return self.n_missing / self.count if self.count else math.nan

    def to_dict(self) -> dict[str, Any]:
        """Counts, distinct count, top items and vocabulary counts, JSON-ready.

        Examples
        --------
        >>> d = CategoricalColumnProfile.zero("c").update(["a", "a", "b", None]).to_dict()
        >>> d["count"], d["missing_share"], d["top"][0]
        (4, 0.25, {'value': 'a', 'count': 2, 'lower': 2, 'upper': 2})
        """
        return {
            "name": self.name,
            "kind": "categorical",
            "count": self.count,
            "n_missing": self.n_missing,
            "n_valid": self.n_valid,
            "missing_share": finite_or_none(self.missing_share),
            "distinct": self.distinct,
            "distinct_bounds": list(self.distinct_bounds),
            "top": [
                {"value": v, "count": e, "lower": lo, "upper": hi}
                for v, e, lo, hi in self.frequent.top(_TOP_ITEMS)
            ],
            "vocabulary": None if self.vocabulary is None else list(self.vocabulary),
            "counts": None if self.counts is None else self.counts.tolist(),
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CategoricalColumnProfile):
            return NotImplemented
        return (
            self.name == other.name
            and self.vocabulary == other.vocabulary
            and (self.count, self.n_missing) == (other.count, other.n_missing)
            and _same_ints(self.counts, other.counts)
            and self.frequent == other.frequent
            and self.hll == other.hll
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        size = "none" if self.vocabulary is None else len(self.vocabulary)
        return (
            f"CategoricalColumnProfile(name={self.name!r}, count={self.count}, "
            f"n_valid={self.n_valid}, vocabulary={size})"
        )


def _as_float_column(name: str, values: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "fiub":
        if arr.dtype.kind != "O":
            raise InvalidInputError(
                f"column {name!r}: expected numeric values, got dtype {arr.dtype}", field=name
            )
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"column {name!r}: expected numeric values, got dtype object ({exc}); put NaN "
                "for missing and invalid values and count the invalid ones in n_invalid",
                field=name,
            ) from exc
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim != 1:
        raise InvalidInputError(
            f"column {name!r}: values must be 1-D, got {arr.ndim} dimensions", field=name
        )
    return arr


def _finite_moments(values: FloatArray) -> Moments:
    """Moments of finite values: their mean, then their squared deviations block by block.

    Values beyond about 1e154 give an infinite ``m2``, without a warning (as ``moments_of``).
    """
    buffer = np.empty(min(values.size, _BLOCK))
    m2 = 0.0
    with np.errstate(over="ignore"):
        mean = float(values.mean())
        for start in range(0, values.size, _BLOCK):
            block = values[start : start + _BLOCK]
            dev = np.subtract(block, mean, out=buffer[: block.size])
            m2 += float(np.multiply(dev, dev, out=dev).sum())
    return Moments(values.size, mean, m2)


def _starts_of_runs(ordered: FloatArray) -> BoolArray:
    """Where each run of equal values of a sorted array starts.

    >>> _starts_of_runs(np.array([1.0, 1.0, 2.0, 3.0, 3.0])).tolist()
    [True, False, True, True, False]
    """
    starts = np.empty(ordered.size, dtype=np.bool_)
    starts[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    return starts


def _check_n_rows(name: str, n_rows: int) -> int:
    if isinstance(n_rows, bool) or not isinstance(n_rows, int | np.integer) or n_rows < 0:
        raise InvalidInputError(
            f"column {name!r}: n_rows must be an integer >= 0, got {n_rows!r}", field=name
        )
    return int(n_rows)


def _name_differences(name: str, other_name: str) -> list[str]:
    return [] if name == other_name else [f"names differ ({name!r} vs {other_name!r})"]


def _sketch_size_differences(a: int, b: int, what: str) -> list[str]:
    return [] if a == b else [f"{what} differs ({a} vs {b})"]


def _same_edges(a: FloatArray | None, b: FloatArray | None) -> bool:
    if a is None or b is None:
        return a is b
    return a is b or bool(np.array_equal(a, b))


def _same_ints(a: IntArray | None, b: IntArray | None) -> bool:
    if a is None or b is None:
        return a is b
    return bool(np.array_equal(a, b))


def _same_moments(a: Moments, b: Moments) -> bool:
    return int(a.n) == int(b.n) and float(a.mean) == float(b.mean) and float(a.m2) == float(b.m2)


__all__ = [
    "QUANTILES",
    "CategoricalColumnProfile",
    "NumericColumnProfile",
    "check_edges",
    "check_vocabulary",
]
