"""The binary envelope: exact round trips, clear errors on every kind of damage, size budget."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from sightline.errors import InvalidInputError, UnsupportedFormatError
from sightline.profile import (
    FORMAT_VERSION,
    Column,
    NumericColumnProfile,
    Profile,
    Schema,
    decode,
    encode,
    merge_profiles,
)
from sightline.profile.codec import MAGIC

SCHEMA = Schema(
    (
        Column("x"),
        Column("y", role="prediction"),
        Column("c", kind="categorical"),
        Column("t", role="target", kind="categorical"),
        Column("ts", role="timestamp"),
    )
)
T0 = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def rich_profile() -> Profile:
    rng = np.random.default_rng(0)
    n = 5_000
    p = Profile.zero(
        SCHEMA,
        edges={"x": np.array([-1.0, 0.1, 1 / 3])},
        vocabularies={"c": ("a", "b", "ü")},
        model="m",
        version="v1",
        instance_id="pod-7",
        window_start=T0,
        window_end=T0 + timedelta(minutes=5),
    )
    x = rng.normal(size=n)
    x[:5] = [np.nan, np.inf, -np.inf, np.nan, 1e300]
    p.update(
        {
            "x": x,
            "y": np.full(n, np.nan),
            "c": np.array(["a", "b", "ü", "zz", None], dtype=object)[rng.integers(0, 5, n)],
        },
        n_invalid={"x": 1},
    )
    p.update_counts("t", ["yes", "no"], np.array([7, 3]))
    p.record_latency(rng.lognormal(3, 1, 900), n_errors=4)
    return p


def _header(version: int = FORMAT_VERSION, body: bytes = b"", raw_len: int = 0) -> bytes:
    return struct.pack("<4sHHIII", MAGIC, version, 0, len(body), raw_len, zlib.crc32(body))


def _with_body(raw: bytes) -> bytes:
    body = zlib.compress(raw)
    return _header(body=body, raw_len=len(raw)) + body


def test_round_trip_is_exact_for_every_field() -> None:
    p = rich_profile()
    q = decode(encode(p))
    assert q == p
    assert q.to_dict() == p.to_dict()
    assert encode(q) == encode(p)
    x = q.columns["x"]
    assert isinstance(x, NumericColumnProfile)
    assert x.moments == p.columns["x"].moments  # floats exactly # type: ignore[union-attr]
    assert x.edges is not None and x.edges.tolist() == [-1.0, 0.1, 1 / 3]
    assert (x.min, x.max, x.n_inf, x.n_invalid) == (p.columns["x"].min, 1e300, 2, 1)  # type: ignore[union-attr]
    assert np.isinf(q.columns["y"].min)  # type: ignore[union-attr]
    assert q.window_start == T0 and q.window_start.tzinfo is not None
    assert q.instance_ids == ("pod-7",)
    assert q.latency_buckets.tolist() == p.latency_buckets.tolist()
    # The decoded profile keeps merging like the original.
    assert_same_merge = q.merge(p)
    assert assert_same_merge.n_rows == 2 * p.n_rows


def _small_sketches() -> Profile:
    p = Profile.zero(SCHEMA, k=8, lg_k=4, lg_max_map_size=3)
    return p.update({"x": np.arange(100.0), "c": [str(i) for i in range(100)]})


# Factories, not profiles: sketches held by pytest until exit would outlive DataSketches.
@pytest.mark.parametrize(
    "make",
    [lambda: Profile.zero(SCHEMA), lambda: Profile.zero(Schema(())), _small_sketches],
    ids=["empty", "no columns", "small sketches"],
)
def test_round_trip_edge_cases(make: Callable[[], Profile]) -> None:
    profile = make()
    assert decode(encode(profile)) == profile
    assert Profile.from_bytes(profile.to_bytes()) == profile


def test_wrong_magic_garbage_and_types() -> None:
    data = encode(rich_profile())
    with pytest.raises(
        UnsupportedFormatError, match=r"expected magic b'SLPF', got b'PK\\x03\\x04'"
    ):
        decode(b"PK\x03\x04" + data[4:])
    with pytest.raises(UnsupportedFormatError, match="shorter than the 20-byte header"):
        decode(b"")
    with pytest.raises(UnsupportedFormatError, match="not a sightline profile"):
        decode(bytes(range(256)) * 4)
    with pytest.raises(InvalidInputError, match="payload must be bytes, got str"):
        decode("SLPF")  # type: ignore[arg-type]
    assert decode(bytearray(data)) == decode(memoryview(data))


def test_unknown_versions_name_both_versions() -> None:
    data = bytearray(encode(rich_profile()))
    data[4:6] = struct.pack("<H", FORMAT_VERSION + 1)
    with pytest.raises(
        UnsupportedFormatError,
        match=r"profile format version 2 is newer than this sightline reads \(version 1\); upgrade",
    ):
        decode(bytes(data))
    data[4:6] = struct.pack("<H", 0)
    with pytest.raises(UnsupportedFormatError, match=r"unknown profile format version 0 \(this"):
        decode(bytes(data))
    data[4:6] = struct.pack("<H", FORMAT_VERSION)
    data[6:8] = b"\x01\x00"
    with pytest.raises(UnsupportedFormatError, match="flags 0x0001 are not supported"):
        decode(bytes(data))


def test_truncated_at_every_offset() -> None:
    data = encode(rich_profile())
    for cut in range(len(data)):
        with pytest.raises(UnsupportedFormatError, match=r"shorter than|truncated"):
            decode(data[:cut])
    with pytest.raises(UnsupportedFormatError, match="has trailing bytes"):
        decode(data + b"\x00")


def test_flipped_bytes_fail_the_crc() -> None:
    data = encode(rich_profile())
    rng = np.random.default_rng(1)
    for pos in rng.choice(np.arange(20, len(data)), 300, replace=False):
        bad = bytearray(data)
        bad[pos] ^= 1 << int(rng.integers(0, 8))
        with pytest.raises(UnsupportedFormatError, match=r"CRC32 .* does not match"):
            decode(bytes(bad))


def test_valid_envelope_with_a_broken_body() -> None:
    body = b"not zlib"
    with pytest.raises(UnsupportedFormatError, match="does not decompress"):
        decode(_header(body=body, raw_len=10) + body)
    good = encode(rich_profile())
    raw = zlib.decompress(good[20:])
    body = zlib.compress(raw)
    with pytest.raises(UnsupportedFormatError, match="announced 5 bytes"):
        decode(_header(body=body, raw_len=5) + body)
    with pytest.raises(UnsupportedFormatError, match="a section is cut off"):
        decode(_with_body(raw[:-3]))
    with pytest.raises(UnsupportedFormatError, match="bytes follow the last section"):
        decode(_with_body(raw + b"\x00"))
    with pytest.raises(UnsupportedFormatError, match="invalid profile body"):
        decode(_with_body(struct.pack("<I", 4) + b"{no}" + bytes(16)))
    # A damaged sketch blob that passes the CRC (a faulty writer) is caught before DataSketches.
    (json_len,) = struct.unpack_from("<I", raw)
    meta = json.loads(raw[4 : 4 + json_len])
    meta["schema_version"] = 99
    text = json.dumps(meta).encode()
    with pytest.raises(UnsupportedFormatError, match="schema version 99 is newer"):
        decode(_with_body(struct.pack("<I", len(text)) + text + raw[4 + json_len :]))
    meta["schema_version"] = 1
    meta["columns"][0]["kind"] = "image"
    text = json.dumps(meta).encode()
    with pytest.raises(UnsupportedFormatError, match="column kind 'image'"):
        decode(_with_body(struct.pack("<I", len(text)) + text + raw[4 + json_len :]))


def test_a_sketch_named_twice_is_not_shared() -> None:
    """A body whose latency names a column's KLL blob (no writer does) decodes to two
    sketches: merging into one leaves the other alone."""
    raw = zlib.decompress(encode(rich_profile())[20:])
    (json_len,) = struct.unpack_from("<I", raw)
    meta = json.loads(raw[4 : 4 + json_len])
    column = next(c for c in meta["columns"] if c["kind"] == "numeric")
    meta["latency"] = column["kll"]
    text = json.dumps(meta).encode()
    p = decode(_with_body(struct.pack("<I", len(text)) + text + raw[4 + json_len :]))
    kll = p.columns[column["name"]].kll  # type: ignore[attr-defined]
    assert p.latency == kll and p.latency is not kll


def test_damaged_blobs_behind_a_valid_crc_never_crash() -> None:
    good = encode(rich_profile())
    raw = zlib.decompress(good[20:])
    (json_len,) = struct.unpack_from("<I", raw)
    rng = np.random.default_rng(2)
    start = 4 + json_len
    for _ in range(300):
        bad = bytearray(raw)
        pos = int(rng.integers(start, len(raw)))
        bad[pos] = int(rng.integers(0, 256))
        try:
            p = decode(_with_body(bytes(bad)))
        except UnsupportedFormatError:
            continue
        p.to_dict()  # whatever decoded must be usable


def _budget_profile(n: int) -> Profile:
    rng = np.random.default_rng(0)
    schema = Schema(
        tuple(Column(f"x{i}") for i in range(20))
        + tuple(Column(f"c{i}", kind="categorical") for i in range(5))
    )
    numeric = {f"x{i}": rng.normal(i, 1 + i, n) for i in range(20)}
    counted = {}
    for i in range(5):
        k = 10 + 10 * i
        counted[f"c{i}"] = (
            [f"category-{i}-{j}" for j in range(k)],
            rng.multinomial(n, [1 / k] * k),
        )
    edges = {
        name: np.unique(np.quantile(v[:10_000], np.arange(1, 10) / 10))
        for name, v in numeric.items()
    }
    vocabularies = {name: tuple(values) for name, (values, _) in counted.items()}
    p = Profile.zero(schema, edges=edges, vocabularies=vocabularies, model="m", version="1")
    p.update(numeric, counted=counted)
    p.record_latency(rng.lognormal(3, 1, n))
    return p


@pytest.mark.slow
def test_size_budget_at_default_settings() -> None:
    p = _budget_profile(1_000_000)
    assert len(p.to_bytes()) <= 64 * 1024
    # The KLL sketches keep growing slowly with n: a billion rows still fit.
    big = merge_profiles([p] * 1000)
    assert big.n_rows == 10**9
    assert len(big.to_bytes()) <= 64 * 1024
