"""Embedding column profiles: count, sum of vectors and a bottom-k sample of vectors.

The sample keeps the ``capacity`` rows with the smallest 64-bit key, where a row's key is
the BLAKE2b hash of its row id (or, for rows logged without one, of the vector's bytes).
Because the key depends on the row alone, the bottom-k of a union is the bottom-k of the
parts' bottom-k samples: merging the profiles of any number of processes gives exactly
the sample a single process would have kept (associative, commutative, deterministic),
and the sample is a uniform random sample of the distinct rows, which is what the drift
test (MMD) needs. Of two rows with the same key the lexicographically smaller vector stays.

The vectors are kept as float32 (what sentence encoders emit); the sum is float64.
A 384-dimension column with the default capacity of 256 costs at most
``256 * (384 * 4 + 8) + 384 * 8 = 398,336`` bytes of profile (zlib gains little on
floats); see :func:`wire_bytes`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final, NamedTuple, Self

import numpy as np
import numpy.typing as npt

from sightline._types import FloatArray
from sightline._validate import check_int
from sightline.errors import InvalidInputError
from sightline.profile.column import _ColumnMerge, _sketch_size_differences

#: Rows kept in the sample by default.
DEFAULT_CAPACITY: Final = 256
#: Largest sample and largest dimension a profile may hold (the codec refuses more).
MAX_CAPACITY: Final = 4096
MAX_DIM: Final = 4096

U64Array = npt.NDArray[np.uint64]
F32Array = npt.NDArray[np.float32]


def wire_bytes(dim: int, capacity: int = DEFAULT_CAPACITY) -> int:
    """Upper bound of the bytes an embedding column adds to a profile, before zlib.

    >>> wire_bytes(384)
    398336
    """
    return capacity * (dim * 4 + 8) + dim * 8


def row_keys(ids: Sequence[str]) -> U64Array:
    """The 64-bit sampling key of each row id (BLAKE2b, little-endian).

    >>> row_keys(["a"]).tolist() == row_keys(["a"]).tolist()
    True
    """
    digests = b"".join(hashlib.blake2b(str(i).encode(), digest_size=8).digest() for i in ids)
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


def _content_keys(vectors: F32Array) -> U64Array:
    digests = b"".join(hashlib.blake2b(v.tobytes(), digest_size=8).digest() for v in vectors)
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


class _EmbeddingBatch(NamedTuple):
    vectors: F32Array  # the finite vectors, float32
    total: FloatArray  # their float64 sum
    keys: U64Array
    n_rows: int
    n_missing: int
    n_invalid: int


def bottom_k(keys: U64Array, vectors: F32Array, capacity: int) -> tuple[U64Array, F32Array]:
    """The ``capacity`` rows of smallest key, by ascending key, one row per key.

    >>> k, v = bottom_k(np.array([5, 1, 5], np.uint64), np.array([[2], [0], [1]], np.float32), 2)
    >>> k.tolist(), v.ravel().tolist()
    ([1, 5], [0.0, 1.0])
    """
    order = np.argsort(keys, kind="stable")
    keys, vectors = keys[order], vectors[order]
    dup = np.flatnonzero(keys[1:] == keys[:-1]) + 1
    if dup.size:  # rare: equal keys keep the lexicographically smallest vector
        keep = np.ones(keys.size, dtype=np.bool_)
        starts = np.unique(np.concatenate([dup - 1, dup]))
        for key in np.unique(keys[dup]):
            group = starts[keys[starts] == key]
            best = min(group.tolist(), key=lambda i: vectors[i].tolist())
            keep[group] = False
            keep[best] = True
        keys, vectors = keys[keep], vectors[keep]
    return keys[:capacity].copy(), np.ascontiguousarray(vectors[:capacity])


@dataclass(slots=True, eq=False, repr=False)
class EmbeddingColumnProfile(_ColumnMerge):
    """Mergeable summary of one embedding column (one vector per row).

    Attributes
    ----------
    name
        Column name.
    dim
        Dimension of the vectors (0 until the first vector).
    count, n_missing, n_invalid
        Rows seen; rows without a vector (None, or absent); rows whose vector was not
        finite (counted, left out of the sum and the sample).
    total
        Sum of the valid vectors (float64, ``dim`` values).
    capacity
        Most rows the sample keeps.
    keys, vectors
        The sample: ascending row keys and their vectors (float32, ``len(keys) x dim``).

    Examples
    --------
    >>> p = EmbeddingColumnProfile.zero("emb", capacity=2)
    >>> _ = p.update(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), ids=["a", "b", "c"])
    >>> q = EmbeddingColumnProfile.zero("emb", capacity=2).update([None, [3.0, 3.0]])
    >>> both = p + q
    >>> both.count, both.n_missing, both.mean.tolist(), len(both.keys)
    (5, 1, [1.25, 1.25], 2)
    """

    kind: ClassVar[str] = "embedding"
    name: str
    dim: int
    count: int
    n_missing: int
    n_invalid: int
    total: FloatArray
    capacity: int
    keys: U64Array
    vectors: F32Array

    @classmethod
    def zero(cls, name: str, *, capacity: int = DEFAULT_CAPACITY) -> Self:
        """The empty profile (the identity of :meth:`merge`)."""
        capacity = check_int("capacity", capacity, 1, MAX_CAPACITY)
        return cls(
            name=name,
            dim=0,
            count=0,
            n_missing=0,
            n_invalid=0,
            total=np.zeros(0, dtype=np.float64),
            capacity=capacity,
            keys=np.zeros(0, dtype=np.uint64),
            vectors=np.zeros((0, 0), dtype=np.float32),
        )

    # -- updating -------------------------------------------------------------------------

    def update(self, values: Any, *, ids: Sequence[str] | None = None) -> Self:
        """Add a batch: a 2-D array (one row per vector), or a sequence of vectors (lists
        or arrays) and None for missing rows.

        ``ids`` (one per row) choose the sampled rows; without them a row's key is the
        hash of its vector.

        Raises
        ------
        InvalidInputError
            If the vectors differ in length, from the column's dimension, or are not
            numbers, or ``ids`` does not have one id per row; nothing is changed then.
        """
        self._apply(self._prepare(values, ids=ids))
        return self

    def _prepare(self, values: Any, *, ids: Sequence[str] | None = None) -> _EmbeddingBatch:
        present, rows, n_rows = self._matrix(values)
        if ids is not None and len(ids) != n_rows:
            raise InvalidInputError(
                f"column {self.name!r}: {len(ids)} ids for {n_rows} rows", field=self.name
            )
        dim = present.shape[1]
        if present.shape[0] and not 1 <= dim <= MAX_DIM:
            raise InvalidInputError(
                f"column {self.name!r}: vectors must have 1 to {MAX_DIM} dimensions, got {dim}",
                field=self.name,
            )
        if present.shape[0] and self.dim and dim != self.dim:
            raise InvalidInputError(
                f"column {self.name!r}: vectors of {dim} dimensions, the column has {self.dim}",
                field=self.name,
            )
        finite = np.isfinite(present).all(axis=1)
        valid = present[finite]
        vectors = valid.astype(np.float32)
        if ids is not None:
            keep = rows[finite]
            keys = row_keys([ids[i] for i in keep.tolist()])
        else:
            keys = _content_keys(vectors)
        return _EmbeddingBatch(
            vectors=vectors,
            total=valid.sum(axis=0, dtype=np.float64),
            keys=keys,
            n_rows=n_rows,
            n_missing=n_rows - present.shape[0],
            n_invalid=int((~finite).sum()),
        )

    def _matrix(self, values: Any) -> tuple[FloatArray, npt.NDArray[np.intp], int]:
        """The present vectors as a float64 matrix, their row numbers, and the row count."""
        if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
            if values.ndim != 2:
                raise InvalidInputError(
                    f"column {self.name!r}: an embedding batch must be 2-D (rows x "
                    f"dimensions), got {values.ndim} dimensions",
                    field=self.name,
                )
            n = values.shape[0]
            return values.astype(np.float64, copy=False), np.arange(n), n
        if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
            raise InvalidInputError(
                f"column {self.name!r}: embedding values must be a 2-D array or a sequence "
                f"of vectors, got {type(values).__name__}",
                field=self.name,
            )
        cells = list(values)
        rows = np.array(
            [i for i, v in enumerate(cells) if not _is_missing(v)], dtype=np.intp
        ).reshape(-1)
        if rows.size == 0:
            return np.zeros((0, self.dim), dtype=np.float64), rows, len(cells)
        try:
            present = np.array([cells[i] for i in rows.tolist()], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"column {self.name!r}: embedding vectors must be numbers of one length ({exc})",
                field=self.name,
            ) from exc
        if present.ndim != 2:
            raise InvalidInputError(
                f"column {self.name!r}: each embedding must be a 1-D vector of numbers",
                field=self.name,
            )
        return present, rows, len(cells)

    def _apply(self, batch: _EmbeddingBatch) -> None:
        self.count += batch.n_rows
        self.n_missing += batch.n_missing
        self.n_invalid += batch.n_invalid
        if not batch.vectors.shape[0]:
            return
        if not self.dim:
            self.dim = batch.vectors.shape[1]
            self.total = np.zeros(self.dim, dtype=np.float64)
            self.vectors = np.zeros((0, self.dim), dtype=np.float32)
        self.total = self.total + batch.total
        self._fold(batch.keys, batch.vectors)

    def _fold(self, keys: U64Array, vectors: F32Array) -> None:
        if len(self.keys) >= self.capacity:  # only rows below the current threshold can enter
            below = keys < self.keys[-1]
            keys, vectors = keys[below], vectors[below]
            if not keys.size:
                return
        self.keys, self.vectors = bottom_k(
            np.concatenate([self.keys, keys]),
            np.concatenate([self.vectors, vectors]),
            self.capacity,
        )

    # -- merging --------------------------------------------------------------------------

    def _differences(self, other: EmbeddingColumnProfile) -> list[str]:
        differs = _sketch_size_differences(self.capacity, other.capacity, "capacity")
        if self.dim and other.dim and self.dim != other.dim:
            differs.append(f"dimensions differ ({self.dim} vs {other.dim})")
        return differs

    def _copy(self) -> EmbeddingColumnProfile:
        return EmbeddingColumnProfile(
            name=self.name,
            dim=self.dim,
            count=self.count,
            n_missing=self.n_missing,
            n_invalid=self.n_invalid,
            total=self.total.copy(),
            capacity=self.capacity,
            keys=self.keys.copy(),
            vectors=self.vectors.copy(),
        )

    def _merge_unchecked(self, other: EmbeddingColumnProfile) -> None:
        self.count += other.count
        self.n_missing += other.n_missing
        self.n_invalid += other.n_invalid
        if not other.dim:
            return
        if not self.dim:
            self.dim = other.dim
            self.total = other.total.copy()
            self.keys, self.vectors = other.keys.copy(), other.vectors.copy()
            return
        self.total = self.total + other.total
        self._fold(other.keys, other.vectors)

    # -- reading --------------------------------------------------------------------------

    @property
    def n_valid(self) -> int:
        """Rows with a finite vector: ``count - n_missing - n_invalid``."""
        return self.count - self.n_missing - self.n_invalid

    @property
    def mean(self) -> FloatArray:
        """Mean vector of the valid rows (NaN when there is none)."""
        if not self.n_valid:
            return np.full(self.dim, math.nan)
        out: FloatArray = self.total / self.n_valid
        return out

    @property
    def missing_share(self) -> float:
        """``n_missing / count`` (NaN when no row was seen)."""
        return self.n_missing / self.count if self.count else math.nan

    def to_dict(self) -> dict[str, Any]:
        """Counts, dimension, sample size and mean vector norm, JSON-ready.

        >>> EmbeddingColumnProfile.zero("e").update([[3.0, 4.0]]).to_dict()["mean_norm"]
        5.0
        """
        return {
            "name": self.name,
            "kind": "embedding",
            "count": self.count,
            "n_missing": self.n_missing,
            "n_invalid": self.n_invalid,
            "n_valid": self.n_valid,
            "dim": self.dim,
            "sample": len(self.keys),
            "capacity": self.capacity,
            "mean_norm": float(np.linalg.norm(self.mean)) if self.n_valid else None,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EmbeddingColumnProfile):
            return NotImplemented
        return (
            (self.name, self.dim, self.capacity) == (other.name, other.dim, other.capacity)
            and (self.count, self.n_missing, self.n_invalid)
            == (other.count, other.n_missing, other.n_invalid)
            and bool(np.array_equal(self.total, other.total))
            and bool(np.array_equal(self.keys, other.keys))
            and bool(np.array_equal(self.vectors, other.vectors))
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return (
            f"EmbeddingColumnProfile(name={self.name!r}, count={self.count}, dim={self.dim}, "
            f"sample={len(self.keys)})"
        )


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


__all__ = [
    "DEFAULT_CAPACITY",
    "MAX_CAPACITY",
    "MAX_DIM",
    "EmbeddingColumnProfile",
    "bottom_k",
    "row_keys",
    "wire_bytes",
]
