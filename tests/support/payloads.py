"""Hostile payloads shared by the limits and hostile-request tests."""

from __future__ import annotations

import struct
import zlib
from functools import cache

MiB = 1 << 20


@cache
def gzip_zeros(mebibytes: int) -> bytes:
    """A valid gzip file of ``mebibytes`` MiB of zeros, about 1 KiB per MiB.

    One deflate segment is compressed with a window already full of zeros, then repeated:
    nothing near the inflated size is ever allocated, and it takes 0.3 s for 1 GiB where
    compressing 1 GiB of zeros chunk by chunk takes 3 s.
    """
    zeros = bytes(MiB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(zeros) + deflate.flush(zlib.Z_SYNC_FLUSH)
    steady = deflate.compress(zeros) + deflate.flush(zlib.Z_SYNC_FLUSH)
    end = deflate.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(mebibytes):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (mebibytes * MiB) & 0xFFFFFFFF)
    return header + first + steady * (mebibytes - 1) + end + trailer
