"""Versioned binary envelope of a :class:`~sightline.profile.dataset.Profile`.

Layout (all integers little-endian)::

    offset  size  field
    0       4     magic b"SLPF"
    4       2     format version (uint16), currently 1
    6       2     flags (uint16), 0
    8       4     length of the compressed body in bytes (uint32)
    12      4     length of the uncompressed body in bytes (uint32)
    16      4     CRC32 of the compressed body (uint32)
    20      ...   the body, zlib-compressed

The uncompressed body of format 1 is a JSON document (uint32 length, then UTF-8) followed
by four groups of length-prefixed blobs (uint32 count, then per blob a uint32 length and
its bytes): HyperLogLog sketches, KLL sketches, frequent-items sketches and integer or
float arrays. The JSON holds every scalar (floats are written with ``repr``, so they
round-trip exactly) and refers to blobs as ``[group, index]``. Blobs of one kind sit
together so that zlib adapts to each kind; KLL blobs are byte-shuffled (the four bytes
of every float32 split into four planes, as the HDF5/Blosc shuffle filter does), which
lets zlib compress their sign and exponent bytes.

:func:`decode` checks the magic, the version, the lengths and the CRC before it
decompresses, and checks every sketch blob before DataSketches reads it, so a truncated,
corrupted or foreign payload raises :class:`~sightline.errors.UnsupportedFormatError`.
"""

from __future__ import annotations

import copy
import functools
import json
import struct
import zlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import numpy as np

from sightline._types import FloatArray, IntArray
from sightline.errors import InvalidInputError, UnsupportedFormatError
from sightline.profile.column import (
    CategoricalColumnProfile,
    NumericColumnProfile,
    check_edges,
    check_vocabulary,
)
from sightline.profile.dataset import LATENCY_BUCKETS_MS, SCHEMA_VERSION, ColumnProfile, Profile
from sightline.profile.embedding import MAX_CAPACITY, MAX_DIM, EmbeddingColumnProfile
from sightline.profile.schema import Schema
from sightline.profile.sketch import KLL, FrequentItems, HyperLogLog
from sightline.profile.text import (
    MAX_SAMPLE_CHARS,
    SAMPLE_CAPACITY,
    TextColumnProfile,
    descriptor_names,
)
from sightline.stats.moments import Moments

MAGIC: Final = b"SLPF"
FORMAT_VERSION: Final = 1
_HEADER: Final = struct.Struct("<4sHHIII")
_U32: Final = struct.Struct("<I")
_MAX_BODY: Final = 1 << 30  # 1 GiB uncompressed: far above any profile, below a zip bomb
_HLL, _KLL, _FI, _ARRAY = range(4)
_N_GROUPS: Final = 4


def _shuffle(b: bytes) -> bytes:
    """Byte planes of consecutive 4-byte words (len(b) is a multiple of 4)."""
    return np.frombuffer(b, dtype=np.uint8).reshape(-1, 4).T.tobytes()


def _unshuffle(b: bytes) -> bytes:
    return np.frombuffer(b, dtype=np.uint8).reshape(4, -1).T.tobytes()


class _Writer:
    def __init__(self) -> None:
        self.groups: list[list[bytes]] = [[] for _ in range(_N_GROUPS)]

    def add(self, group: int, blob: bytes) -> list[int]:
        self.groups[group].append(blob)
        return [group, len(self.groups[group]) - 1]

    def kll(self, sketch: KLL) -> list[int]:
        return self.add(_KLL, _shuffle(sketch.to_bytes()))

    def array(self, arr: IntArray | FloatArray | None) -> list[int] | None:
        if arr is None:
            return None
        return self.add(_ARRAY, arr.astype(arr.dtype.newbyteorder("<")).tobytes())


def encode(profile: Profile) -> bytes:
    """Serialize a profile into the versioned envelope.

    Examples
    --------
    >>> from sightline.profile.schema import Column, Schema
    >>> data = encode(Profile.zero(Schema((Column("x"),))))
    >>> data[:4], len(data) < 1000
    (b'SLPF', True)
    """
    if not isinstance(profile, Profile):
        raise InvalidInputError(
            f"encode takes a Profile, got {type(profile).__name__}", field="profile"
        )
    w = _Writer()
    meta = {
        "schema_version": profile.schema_version,
        "schema": profile.schema.to_dict(),
        "model": profile.model,
        "version": profile.version,
        "instance_ids": list(profile.instance_ids),
        "window_start": _time(profile.window_start),
        "window_end": _time(profile.window_end),
        "n_rows": profile.n_rows,
        "n_predictions": profile.n_predictions,
        "n_errors": profile.n_errors,
        "latency": w.kll(profile.latency),
        "latency_buckets": w.array(profile.latency_buckets),
        "first_byte_buckets": w.array(profile.first_byte_buckets),
        "columns": [_column_meta(c, w) for c in profile.columns.values()],
    }
    text = json.dumps(meta, separators=(",", ":")).encode("utf-8")
    parts = [struct.pack("<I", len(text)), text]
    for group in w.groups:
        parts.append(struct.pack("<I", len(group)))
        for blob in group:
            parts += [struct.pack("<I", len(blob)), blob]
    raw = b"".join(parts)
    body = zlib.compress(raw, 9)
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, 0, len(body), len(raw), zlib.crc32(body))
    return header + body


def _time(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def _column_meta(c: ColumnProfile, w: _Writer) -> dict[str, Any]:
    if isinstance(c, EmbeddingColumnProfile):
        return _embedding_meta(c, w)
    if isinstance(c, TextColumnProfile):
        return {
            "name": c.name,
            "kind": "text",
            "count": c.count,
            "n_missing": c.n_missing,
            "vocabulary": None if c.vocabulary is None else list(c.vocabulary),
            "descriptors": {d: _column_meta(p, w) for d, p in c.descriptors.items()},
            "words": w.add(_FI, c.words.to_bytes()),
            **_text_sample_meta(c, w),
        }
    if isinstance(c, NumericColumnProfile):
        return {
            "name": c.name,
            "kind": "numeric",
            "count": c.count,
            "n_missing": c.n_missing,
            "n_inf": c.n_inf,
            "n_invalid": c.n_invalid,
            "moments": [int(c.moments.n), float(c.moments.mean), float(c.moments.m2)],
            "min": c.min,
            "max": c.max,
            "kll": w.kll(c.kll),
            "hll": w.add(_HLL, c.hll.to_bytes()),
            "edges": w.array(c.edges),
            "bins": w.array(c.bins),
        }
    return {
        "name": c.name,
        "kind": "categorical",
        "count": c.count,
        "n_missing": c.n_missing,
        "vocabulary": None if c.vocabulary is None else list(c.vocabulary),
        "counts": w.array(c.counts),
        "frequent": w.add(_FI, c.frequent.to_bytes()),
        "hll": w.add(_HLL, c.hll.to_bytes()),
    }


def decode(data: bytes) -> Profile:
    """Deserialize a profile written by :func:`encode`.

    Raises
    ------
    UnsupportedFormatError
        If the payload does not start with ``b"SLPF"``, has a format version this
        sightline does not read (newer or unknown), is truncated or extended, fails its
        CRC32, or holds an invalid body.
    InvalidInputError
        If ``data`` is not bytes.

    Examples
    --------
    >>> from sightline.profile.schema import Column, Schema
    >>> p = Profile.zero(Schema((Column("x"),))).update({"x": np.array([0.5, 1.5])})
    >>> decode(encode(p)) == p
    True
    >>> decode(b"SLPF\\x09\\x00" + bytes(14))
    Traceback (most recent call last):
    ...
    sightline.errors.UnsupportedFormatError: profile format version 9 is newer than ...
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidInputError(
            f"a profile payload must be bytes, got {type(data).__name__}", field="data"
        )
    payload = bytes(data)
    raw = _open_envelope(payload)
    try:
        return _read_body(raw)
    except UnsupportedFormatError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, RecursionError, struct.error) as exc:
        raise UnsupportedFormatError(f"invalid profile body: {exc}") from exc


def _open_envelope(payload: bytes) -> bytes:
    """Check the header, lengths and CRC; return the decompressed body."""
    if len(payload) < _HEADER.size:
        raise UnsupportedFormatError(
            f"not a sightline profile: {len(payload)} bytes is shorter than the "
            f"{_HEADER.size}-byte header"
        )
    magic, version, flags, body_len, raw_len, crc = _HEADER.unpack_from(payload)
    if magic != MAGIC:
        raise UnsupportedFormatError(
            f"not a sightline profile: expected magic {MAGIC!r}, got {magic!r}"
        )
    if version > FORMAT_VERSION:
        raise UnsupportedFormatError(
            f"profile format version {version} is newer than this sightline reads "
            f"(version {FORMAT_VERSION}); upgrade sightline to read it"
        )
    if version != FORMAT_VERSION:
        raise UnsupportedFormatError(
            f"unknown profile format version {version} (this sightline reads version "
            f"{FORMAT_VERSION})"
        )
    if flags != 0:
        raise UnsupportedFormatError(f"profile flags {flags:#06x} are not supported (0 expected)")
    got = len(payload) - _HEADER.size
    if got != body_len:
        what = "truncated" if got < body_len else "has trailing bytes"
        raise UnsupportedFormatError(
            f"profile payload {what}: the header announces {body_len} body bytes, got {got}"
        )
    body = payload[_HEADER.size :]
    if zlib.crc32(body) != crc:
        raise UnsupportedFormatError(
            f"profile payload is corrupted: CRC32 {zlib.crc32(body):#010x} does not match "
            f"{crc:#010x} from the header"
        )
    if raw_len > _MAX_BODY:
        raise UnsupportedFormatError(
            f"profile body of {raw_len} bytes exceeds the limit of {_MAX_BODY} bytes"
        )
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(body, raw_len)
    except zlib.error as exc:
        raise UnsupportedFormatError(f"profile body does not decompress: {exc}") from exc
    if len(raw) != raw_len or not inflater.eof or inflater.unconsumed_tail or inflater.unused_data:
        raise UnsupportedFormatError(
            f"profile body does not decompress to the announced {raw_len} bytes"
        )
    return raw


class _Reader:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n > len(self.raw) - self.pos:
            raise UnsupportedFormatError("invalid profile body: a section is cut off")
        out = self.raw[self.pos : self.pos + n]
        self.pos += n
        return out

    def u32(self) -> int:
        (value,) = struct.unpack("<I", self.take(4))
        return int(value)

    def group(self) -> list[bytes]:
        """A group of blobs: their count, then each one's length and bytes."""
        raw, out = self.raw, []
        for _ in range(self.u32()):
            start = self.pos + 4
            end = start + _U32.unpack_from(raw, self.pos)[0] if start <= len(raw) else -1
            if not start <= end <= len(raw):
                raise UnsupportedFormatError("invalid profile body: a section is cut off")
            out.append(raw[start:end])
            self.pos = end
        return out


class _Blobs:
    def __init__(self, groups: list[list[bytes]]) -> None:
        self.groups = groups
        if any(len(blob) % 4 for blob in groups[_KLL]):
            raise UnsupportedFormatError("invalid profile body: a KLL blob is cut off")
        # Every KLL sketch of the body read at once (their checks are one numpy pass).
        self.klls = KLL.from_blobs([_unshuffle(blob) for blob in groups[_KLL]])
        self.used: set[int] = set()

    def get(self, ref: Any, group: int) -> bytes:
        if (
            not isinstance(ref, list)
            or len(ref) != 2
            or ref[0] != group
            or not isinstance(ref[1], int)
            or not 0 <= ref[1] < len(self.groups[group])
        ):
            raise UnsupportedFormatError(f"invalid profile body: bad blob reference {ref!r}")
        return self.groups[group][ref[1]]

    def kll(self, ref: Any) -> KLL:
        self.get(ref, _KLL)
        index: int = ref[1]
        sketch = self.klls[index]
        if index in self.used:  # a body naming one sketch twice: its columns do not share it
            return copy.copy(sketch)
        self.used.add(index)
        return sketch

    def ints(self, ref: Any, size: int, what: str) -> IntArray:
        arr = np.frombuffer(self.get(ref, _ARRAY), dtype="<i8").astype(np.int64)
        if arr.shape != (size,) or (arr < 0).any():
            raise UnsupportedFormatError(
                f"invalid profile body: {what} must hold {size} counts >= 0"
            )
        return arr


def _read_body(raw: bytes) -> Profile:
    r = _Reader(raw)
    meta = json.loads(r.take(r.u32()).decode("utf-8"))
    groups = [r.group() for _ in range(_N_GROUPS)]
    if r.pos != len(raw):
        raise UnsupportedFormatError("invalid profile body: bytes follow the last section")
    if not isinstance(meta, dict):
        raise UnsupportedFormatError("invalid profile body: the metadata is not an object")
    schema_version = meta["schema_version"]
    if not isinstance(schema_version, int) or schema_version > SCHEMA_VERSION:
        raise UnsupportedFormatError(
            f"profile schema version {schema_version!r} is newer than this sightline reads "
            f"(version {SCHEMA_VERSION}); upgrade sightline to read it"
        )
    blobs = _Blobs(groups)
    schema = _schema(json.dumps(meta["schema"], separators=(",", ":")))
    columns = [_read_column(c, blobs, schema) for c in meta["columns"]]
    return Profile(
        schema=schema,
        columns={c.name: c for c in columns},
        model=meta["model"],
        version=meta["version"],
        instance_ids=meta["instance_ids"],
        window_start=_read_time(meta["window_start"]),
        window_end=_read_time(meta["window_end"]),
        n_rows=meta["n_rows"],
        n_predictions=meta["n_predictions"],
        n_errors=meta["n_errors"],
        latency=blobs.kll(meta["latency"]),
        latency_buckets=blobs.ints(
            meta["latency_buckets"], len(LATENCY_BUCKETS_MS) + 1, "latency_buckets"
        ),
        schema_version=schema_version,
        first_byte_buckets=(  # absent from profiles written before it existed
            blobs.ints(
                meta["first_byte_buckets"], len(LATENCY_BUCKETS_MS) + 1, "first_byte_buckets"
            )
            if meta.get("first_byte_buckets") is not None
            else None
        ),
    )


def _read_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise UnsupportedFormatError(f"invalid profile body: bad window bound {value!r}")
    return datetime.fromisoformat(value)


def _count(meta: Mapping[str, Any], key: str) -> int:
    value = meta[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UnsupportedFormatError(f"invalid profile body: {key} = {value!r}")
    return value


def _real(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UnsupportedFormatError(f"invalid profile body: {value!r} is not a number")
    return float(value)


@functools.lru_cache(maxsize=1024)
def _schema(text: str) -> Schema:
    """The schema of its JSON text; cached, since the profiles of one version share it
    (a :class:`Schema` is immutable), and building one costs ten times its JSON."""
    return Schema.from_dict(json.loads(text))


@functools.lru_cache(maxsize=4096)
def _edges(name: str, blob: bytes) -> FloatArray | None:
    """Checked, read-only bin edges; cached, since the profiles of one model share them."""
    if len(blob) % 8:
        raise UnsupportedFormatError("invalid profile body: a float array is cut off")
    return check_edges(name, np.frombuffer(blob, dtype="<f8").astype(np.float64))


@functools.lru_cache(maxsize=4096)
def _vocabulary(name: str, words: tuple[Any, ...]) -> tuple[str, ...] | None:
    """A checked vocabulary; cached like :func:`_edges`."""
    return check_vocabulary(name, words)


def _read_column(
    meta: Mapping[str, Any], blobs: _Blobs, schema: Schema | None = None
) -> ColumnProfile:
    name = meta["name"]
    if not isinstance(name, str):
        raise UnsupportedFormatError(f"invalid profile body: column name {name!r}")
    if meta["kind"] == "embedding":
        return _read_embedding(name, meta, blobs)
    if meta["kind"] == "text":
        if schema is None or name not in schema:
            raise UnsupportedFormatError(f"invalid profile body: text column {name!r} unknown")
        return _read_text(name, meta, blobs, dict(schema[name].patterns))
    hll = HyperLogLog.from_bytes(blobs.get(meta["hll"], _HLL))
    if meta["kind"] == "numeric":
        edges = None if meta["edges"] is None else _edges(name, blobs.get(meta["edges"], _ARRAY))
        n, mean, m2 = meta["moments"]
        bins = None
        if edges is not None:
            bins = blobs.ints(meta["bins"], edges.size + 1, f"column {name!r}: bins")
        elif meta["bins"] is not None:
            raise UnsupportedFormatError(
                f"invalid profile body: column {name!r} has bins but no edges"
            )
        return NumericColumnProfile(
            name=name,
            edges=edges,
            count=_count(meta, "count"),
            n_missing=_count(meta, "n_missing"),
            n_inf=_count(meta, "n_inf"),
            n_invalid=_count(meta, "n_invalid"),
            moments=Moments(_count({"n": n}, "n"), _real(mean), _real(m2)),
            min=_real(meta["min"]),
            max=_real(meta["max"]),
            kll=blobs.kll(meta["kll"]),
            hll=hll,
            bins=bins,
        )
    if meta["kind"] != "categorical":
        raise UnsupportedFormatError(f"invalid profile body: column kind {meta['kind']!r}")
    words = meta["vocabulary"]
    vocabulary = None if words is None else _vocabulary(name, tuple(words))
    counts = None
    if vocabulary is not None:
        counts = blobs.ints(meta["counts"], len(vocabulary) + 1, f"column {name!r}: counts")
    elif meta["counts"] is not None:
        raise UnsupportedFormatError(
            f"invalid profile body: column {name!r} has counts but no vocabulary"
        )
    return CategoricalColumnProfile(
        name=name,
        vocabulary=vocabulary,
        count=_count(meta, "count"),
        n_missing=_count(meta, "n_missing"),
        counts=counts,
        frequent=FrequentItems.from_bytes(blobs.get(meta["frequent"], _FI)),
        hll=hll,
    )


def _embedding_meta(c: EmbeddingColumnProfile, w: _Writer) -> dict[str, Any]:
    """An embedding column: counts and sizes in the JSON; the sum (float64), the sample's
    keys (uint64) and vectors (float32, row-major) as arrays."""
    return {
        "name": c.name,
        "kind": "embedding",
        "count": c.count,
        "n_missing": c.n_missing,
        "n_invalid": c.n_invalid,
        "dim": c.dim,
        "capacity": c.capacity,
        "total": w.add(_ARRAY, c.total.astype("<f8").tobytes()),
        "keys": w.add(_ARRAY, c.keys.astype("<u8").tobytes()),
        "vectors": w.add(_ARRAY, c.vectors.astype("<f4").tobytes()),
    }


def _read_embedding(name: str, meta: Mapping[str, Any], blobs: _Blobs) -> EmbeddingColumnProfile:
    dim, capacity = _count(meta, "dim"), _count(meta, "capacity")
    if dim > MAX_DIM or not 1 <= capacity <= MAX_CAPACITY:
        raise UnsupportedFormatError(
            f"invalid profile body: column {name!r} has {dim} dimensions (at most {MAX_DIM}) "
            f"and a sample capacity of {capacity} (1 to {MAX_CAPACITY})"
        )
    total = _typed(blobs.get(meta["total"], _ARRAY), "<f8", np.float64)
    keys = _typed(blobs.get(meta["keys"], _ARRAY), "<u8", np.uint64)
    flat = _typed(blobs.get(meta["vectors"], _ARRAY), "<f4", np.float32)
    if (
        total.size != dim
        or keys.size > capacity
        or flat.size != keys.size * dim
        or (keys.size and not dim)
        or bool((keys[1:] <= keys[:-1]).any())
        or not (np.isfinite(total).all() and np.isfinite(flat).all())
    ):
        raise UnsupportedFormatError(
            f"invalid profile body: column {name!r}: the embedding sum, keys or vectors do "
            f"not fit {dim} dimensions and a capacity of {capacity} (keys ascending, values "
            "finite)"
        )
    profile = EmbeddingColumnProfile(
        name=name,
        dim=dim,
        count=_count(meta, "count"),
        n_missing=_count(meta, "n_missing"),
        n_invalid=_count(meta, "n_invalid"),
        total=total,
        capacity=capacity,
        keys=keys,
        vectors=flat.reshape(keys.size, dim),
    )
    if profile.n_valid < 0 or keys.size > profile.n_valid:
        raise UnsupportedFormatError(
            f"invalid profile body: column {name!r}: counts do not add up "
            f"({profile.count} rows, {profile.n_missing} missing, {profile.n_invalid} invalid, "
            f"{keys.size} sampled)"
        )
    return profile


def _text_sample_meta(c: TextColumnProfile, w: _Writer) -> dict[str, Any]:
    """A text column's sample: its capacity in the JSON; the keys (uint64), the texts'
    UTF-8 byte lengths (uint32) and their bytes, concatenated, as arrays."""
    encoded = [t.encode("utf-8") for t in c.texts]
    return {
        "capacity": c.capacity,
        "sample_keys": w.add(_ARRAY, c.keys.astype("<u8").tobytes()),
        "sample_lengths": w.add(_ARRAY, np.array([len(b) for b in encoded], "<u4").tobytes()),
        "sample_texts": w.add(_ARRAY, b"".join(encoded)),
    }


def _read_text_sample(
    name: str, meta: Mapping[str, Any], blobs: _Blobs
) -> tuple[int, Any, tuple[str, ...]]:
    """Capacity, keys and texts of a text column's sample (empty in profiles written
    before text columns had one)."""
    if "capacity" not in meta:
        return SAMPLE_CAPACITY, np.zeros(0, dtype=np.uint64), ()
    capacity = _count(meta, "capacity")
    keys = _typed(blobs.get(meta["sample_keys"], _ARRAY), "<u8", np.uint64)
    lengths = _typed(blobs.get(meta["sample_lengths"], _ARRAY), "<u4", np.int64)
    data = blobs.get(meta["sample_texts"], _ARRAY)
    bad = (
        not 1 <= capacity <= MAX_CAPACITY
        or keys.size > capacity
        or lengths.size != keys.size
        or int(lengths.sum()) != len(data)
        or bool((keys[1:] <= keys[:-1]).any())
    )
    texts: tuple[str, ...] = ()
    if not bad:
        ends = np.cumsum(lengths).tolist()
        starts = [0, *ends][: len(ends)]
        try:
            texts = tuple(data[a:b].decode("utf-8") for a, b in zip(starts, ends, strict=True))
        except UnicodeDecodeError:
            bad = True
    if bad or any(len(t) > MAX_SAMPLE_CHARS for t in texts):
        raise UnsupportedFormatError(
            f"invalid profile body: column {name!r}: the text sample does not fit a capacity "
            f"of {capacity} (keys ascending, UTF-8 texts of at most {MAX_SAMPLE_CHARS} "
            "characters)"
        )
    return capacity, keys, texts


def _read_text(
    name: str, meta: Mapping[str, Any], blobs: _Blobs, patterns: Mapping[str, str]
) -> TextColumnProfile:
    found = meta["descriptors"]
    names = descriptor_names(list(patterns))
    if not isinstance(found, dict) or sorted(found) != sorted(names):
        raise UnsupportedFormatError(
            f"invalid profile body: text column {name!r} must have the descriptors "
            f"{list(names)}, got {sorted(found) if isinstance(found, dict) else found!r:.200}"
        )
    descriptors: dict[str, NumericColumnProfile] = {}
    for d in names:
        p = _read_column(found[d], blobs)
        if not isinstance(p, NumericColumnProfile) or p.name != f"{name}.{d}":
            raise UnsupportedFormatError(
                f"invalid profile body: descriptor {d!r} of {name!r} must be the numeric "
                f"column {name}.{d}"
            )
        descriptors[d] = p
    words = meta["vocabulary"]
    capacity, keys, texts = _read_text_sample(name, meta, blobs)
    profile = TextColumnProfile(
        name=name,
        count=_count(meta, "count"),
        n_missing=_count(meta, "n_missing"),
        vocabulary=None if words is None else _vocabulary(name, tuple(words)),
        descriptors=descriptors,
        words=FrequentItems.from_bytes(blobs.get(meta["words"], _FI)),
        patterns=tuple(patterns.items()),
        capacity=capacity,
        keys=keys,
        texts=texts,
    )
    if (
        profile.n_missing > profile.count
        or any(p.count != profile.count for p in descriptors.values())
        or keys.size > profile.n_valid
    ):
        raise UnsupportedFormatError(
            f"invalid profile body: text column {name!r}: the counts of its descriptors "
            f"or its {keys.size} sampled texts do not fit its {profile.count} rows"
        )
    return profile


def _typed(blob: bytes, wire: str, dtype: type[np.generic]) -> Any:
    size = np.dtype(wire).itemsize
    if len(blob) % size:
        raise UnsupportedFormatError("invalid profile body: an array is cut off")
    return np.frombuffer(blob, dtype=wire).astype(dtype)


__all__ = ["FORMAT_VERSION", "MAGIC", "decode", "encode"]
