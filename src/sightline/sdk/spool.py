"""The on-disk spool: payloads the collector has not acknowledged yet, kept across processes.

Layout under ``spool_dir``::

    spool_dir/
      <instance_id>/                 one directory per live Delivery
        .lock                        fcntl.flock(LOCK_EX) held by the owner while it lives
        <ordinal>-<instance_id>.slp  one payload: written to a temporary file, fsynced, renamed
      .<instance_id>.<hex>.tmp/      a directory being created (others leave it alone)

A payload file holds :data:`MAGIC`, one JSON line with the payload's fields, then the body.
File names start with the payload's ordinal (nanoseconds since the epoch when it was
submitted, zero-padded), so sorting names replays oldest first.

On start a :class:`Spool` adopts the payloads of every other instance directory whose lock
it can take (its owner crashed or exited): they move into its own directory (one rename
each, so every file lives in exactly one place) and the orphan directory is removed. The
spool is bounded by ``max_bytes``: past it the oldest files are deleted and reported
(:class:`Evicted`: what each held, by kind).

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as root:
...     spool = Spool(root, "web-1", max_bytes=1 << 20)
...     dropped = spool.write(1, Payload("/api/v1/models/m/labels", "k1", b'{"labels": []}'))
...     name = spool.oldest()
...     (dropped, spool.pending, spool.read(name[1]).key)
...     spool.remove(name[1])
...     spool.close()
([], 1, 'k1')
True
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import json
import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

logger = logging.getLogger("sightline.sdk")

#: The first bytes of every payload file (format version 1).
MAGIC = b"SLSPOOL1\n"
SUFFIX = ".slp"
LOCK_NAME = ".lock"
_TMP_PREFIX = ".tmp-"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.:\-]")
_MAX_ID = 120
_HEAD_BYTES = 4096  # a payload file's header line fits in this (its path and key are short)
#: What a payload holds, by the end of its path.
KINDS = {"/profiles": "profiles", "/predictions": "records", "/labels": "labels"}


def kind_of(path: str) -> str:
    """``profiles``, ``records``, ``labels``, or ``other`` (samples, heartbeats, the
    version's schema and reference) for a payload's path.

    >>> kind_of("/api/v1/models/m/versions/1/predictions"), kind_of("/api/v1/x/heartbeats")
    ('records', 'other')
    """
    return next((kind for end, kind in KINDS.items() if path.endswith(end)), "other")


class Evicted(NamedTuple):
    """A payload file the spool deleted to stay within its size: its size, its ``path`` and
    ``method``, how many things it ``held`` (its payload's ``count``; "", "", 0 when its
    header could not be read) and whether it came from a dead instance's directory (what
    it held was logged by that process)."""

    size: int
    path: str
    method: str
    held: int
    adopted: bool


class CorruptSpoolFile(ValueError):
    """A spool file that holds no payload; ``size`` is its length in bytes."""

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


@dataclass(frozen=True)
class Payload:
    """One request for the collector: where, under which idempotency key, and the body.

    ``items_field`` names the JSON list (``"records"``, ``"labels"``, ``"rows"``) that may be
    halved when the collector answers 413; ``None`` means the payload cannot be split.
    ``method`` is ``POST`` for data and ``PUT`` for registering a version or its reference.
    ``count`` is how many logged things the payload carries (rows of a profile, prediction
    records, labels), so that a payload lost is counted as what it held.

    >>> Payload("/api/v1/models/m/labels", "k1", b'{"labels": []}', items_field="labels").key
    'k1'
    """

    path: str
    key: str
    body: bytes
    content_type: str = "application/json"
    items_field: str | None = None
    method: str = "POST"
    count: int = 0


def encode_payload(payload: Payload) -> bytes:
    """The bytes of a spool file holding ``payload``.

    >>> decode_payload(encode_payload(Payload("/p", "k", b"x"))) == Payload("/p", "k", b"x")
    True
    """
    head = {
        "path": payload.path,
        "key": payload.key,
        "content_type": payload.content_type,
        "items_field": payload.items_field,
        "method": payload.method,
        "count": payload.count,
    }
    line = json.dumps(head, separators=(",", ":"), ensure_ascii=True).encode()
    return MAGIC + line + b"\n" + payload.body


def decode_payload(data: bytes) -> Payload:
    """The payload of a spool file; ``ValueError`` when it is not one."""
    if not data.startswith(MAGIC):
        raise ValueError("not a sightline spool file (bad magic)")
    end = data.find(b"\n", len(MAGIC))
    if end < 0:
        raise ValueError("truncated spool file (no header line)")
    head = json.loads(data[len(MAGIC) : end])
    if not isinstance(head, dict):
        raise ValueError("spool header is not an object")
    field = head.get("items_field")
    return Payload(
        path=str(head["path"]),
        key=str(head["key"]),
        body=data[end + 1 :],
        content_type=str(head["content_type"]),
        items_field=None if field is None else str(field),
        method=str(head.get("method", "POST")),
        count=int(head.get("count", 0)),
    )


def safe_instance_id(instance_id: str) -> str:
    """``instance_id`` made safe as a directory name (no ``/``, no leading dot, bounded).

    >>> safe_instance_id("web/1 a")
    'web_1_a'
    >>> safe_instance_id(".hidden")
    '_hidden'
    """
    text = _UNSAFE.sub("_", instance_id)[:_MAX_ID] or "instance"
    return "_" + text[1:] if text.startswith(".") else text


def ordinal_of(name: str) -> int:
    """The ordinal a payload file name starts with (``-1`` when it has none)."""
    head = name.split("-", 1)[0]
    return int(head) if head.isdigit() else -1


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _try_lock(path: Path) -> int | None:
    """An fd holding an exclusive flock on ``path`` (created if missing), or None if held."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _remove_locked_dir(directory: Path, fd: int) -> None:
    """Remove an empty instance directory whose lock ``fd`` we hold, then close ``fd``."""
    try:
        for leftover in directory.iterdir():
            if leftover.name.startswith(_TMP_PREFIX):
                leftover.unlink(missing_ok=True)
        (directory / LOCK_NAME).unlink(missing_ok=True)
        directory.rmdir()
    except OSError as exc:
        logger.debug("sightline: could not remove spool directory %s: %s", directory, exc)
    finally:
        os.close(fd)


class Spool:
    """Payload files in ``root/<instance_id>/``, oldest first, at most ``max_bytes`` in all.

    Thread-safe. Creating one makes and locks the instance directory (another name is
    chosen when a live process already owns ``instance_id``); :meth:`adopt` takes over the
    directories of dead owners. ``OSError`` from the file system reaches the caller.
    """

    def __init__(self, root: str | Path, instance_id: str, *, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._names: list[str] = []
        self._sizes: dict[str, int] = {}
        self._heads: dict[str, tuple[str, str, int]] = {}  # path, method, count; own files
        self._total = 0
        self._adopted: set[str] = set()
        self._closed = False
        self.root.mkdir(parents=True, exist_ok=True)
        self.instance_id, fd = self._create(safe_instance_id(instance_id))
        self._fd: int | None = fd
        self.directory = self.root / self.instance_id

    # -- the instance directory ------------------------------------------------------------

    def _create(self, instance_id: str) -> tuple[str, int]:
        """Make ``root/<id>`` atomically with its lock already held: mkdir a hidden
        temporary directory, lock it, rename it into place."""
        tmp = self.root / f".{instance_id}.{secrets.token_hex(4)}.tmp"
        tmp.mkdir()
        fd = _try_lock(tmp / LOCK_NAME)
        if fd is None:  # pragma: no cover - nobody else knows this directory
            raise OSError(f"cannot lock {tmp / LOCK_NAME}")
        name = instance_id
        for _ in range(3):
            try:
                tmp.rename(self.root / name)
                return name, fd
            except OSError:  # taken: a live owner, or an orphan that adopt() will take
                name = f"{instance_id}-{secrets.token_hex(4)}"
        _remove_locked_dir(tmp, fd)
        raise OSError(f"cannot create an instance directory under {self.root}")

    def adopt(self) -> tuple[int, list[Evicted]]:
        """Take over the payload files of every instance directory whose owner is gone.

        Returns how many files were adopted and those dropped to stay within ``max_bytes``
        (oldest first).
        """
        adopted = 0
        for entry in sorted(self.root.iterdir()):
            if entry.name == self.instance_id or not entry.is_dir():
                continue
            if entry.name.startswith("."):
                if entry.name.endswith(".tmp"):
                    self._clear_stale_tmp(entry)
                continue
            adopted += self._adopt_dir(entry)
        with self._lock:
            return adopted, self._evict_locked()

    def _adopt_dir(self, directory: Path) -> int:
        fd = _try_lock(directory / LOCK_NAME)
        if fd is None:
            return 0  # alive
        moved = 0
        try:
            for path in sorted(directory.iterdir()):
                if path.name.endswith(SUFFIX) and not path.name.startswith("."):
                    moved += self._take_file(path)
        finally:
            _remove_locked_dir(directory, fd)
        if moved:
            logger.info("sightline: adopted %d unsent payloads of %s", moved, directory.name)
        return moved

    def _take_file(self, path: Path) -> int:
        target = self.directory / path.name
        try:
            os.rename(path, target)
            size = target.stat().st_size
        except OSError as exc:
            logger.warning("sightline: could not adopt spool file %s: %s", path, exc)
            return 0
        with self._lock:
            self._add_locked(path.name, size)
            self._adopted.add(path.name)
        return 1

    def _clear_stale_tmp(self, directory: Path) -> None:
        fd = _try_lock(directory / LOCK_NAME)
        if fd is not None:
            _remove_locked_dir(directory, fd)

    # -- payload files ---------------------------------------------------------------------

    def write(self, ordinal: int, payload: Payload) -> list[Evicted]:
        """Store ``payload`` durably under ``ordinal``; return the files dropped to stay
        within ``max_bytes`` (possibly this one, when it is the oldest or too big)."""
        data = encode_payload(payload)
        head = (payload.path, payload.method, payload.count)
        if len(data) > self.max_bytes:
            return [Evicted(len(data), *head, adopted=False)]
        name = f"{ordinal:020d}-{self.instance_id}{SUFFIX}"
        tmp = self.directory / f"{_TMP_PREFIX}{name}"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, self.directory / name)
        _fsync_dir(self.directory)
        with self._lock:
            if self._closed:
                return []
            self._add_locked(name, len(data))
            self._heads[name] = head
            return self._evict_locked()

    def _add_locked(self, name: str, size: int) -> None:
        if name not in self._sizes:
            bisect.insort(self._names, name)
        self._total += size - self._sizes.get(name, 0)
        self._sizes[name] = size

    def _evict_locked(self) -> list[Evicted]:
        dropped: list[Evicted] = []
        while self._total > self.max_bytes and self._names:
            name = self._names.pop(0)
            size = self._sizes.pop(name)
            adopted = name in self._adopted
            self._adopted.discard(name)
            self._total -= size
            head = self._heads.pop(name, None) or self._read_head(name)
            dropped.append(Evicted(size, *head, adopted=adopted))
            with contextlib.suppress(OSError):
                (self.directory / name).unlink()
        return dropped

    def _read_head(self, name: str) -> tuple[str, str, int]:
        """The path, method and count of an adopted file ("", "", 0 when unreadable)."""
        try:
            with open(self.directory / name, "rb") as f:
                start = f.read(_HEAD_BYTES)
            payload = decode_payload(start[: start.index(b"\n", len(MAGIC)) + 1])
        except (OSError, ValueError, KeyError, TypeError):
            return "", "", 0
        return payload.path, payload.method, payload.count

    def oldest(self) -> tuple[int, str] | None:
        """The ordinal and name of the oldest payload file, or None when empty."""
        with self._lock:
            return (ordinal_of(self._names[0]), self._names[0]) if self._names else None

    def read(self, name: str) -> Payload:
        """The payload in file ``name``: ``FileNotFoundError`` once dropped,
        :class:`CorruptSpoolFile` when it cannot be read or is not a payload (then it is
        deleted)."""
        try:
            data = (self.directory / name).read_bytes()
        except FileNotFoundError:
            raise
        except OSError as exc:
            with self._lock:
                size = self._sizes.get(name, 0)
            self.remove(name)
            raise CorruptSpoolFile(f"unreadable spool file {name}: {exc}", size) from None
        try:
            return decode_payload(data)
        except (ValueError, KeyError) as exc:
            self.remove(name)
            raise CorruptSpoolFile(f"corrupt spool file {name}: {exc}", len(data)) from None

    def contains(self, name: str) -> bool:
        """Whether ``name`` is still spooled (not acknowledged, not dropped)."""
        with self._lock:
            return name in self._sizes

    def was_adopted(self, name: str) -> bool:
        """Whether ``name`` came from another (dead) instance's directory."""
        with self._lock:
            return name in self._adopted

    def remove(self, name: str) -> bool:
        """Delete file ``name`` (acknowledged or refused for good); False if already gone."""
        with self._lock:
            if self._closed or name not in self._sizes:
                return False
            self._total -= self._sizes.pop(name)
            self._heads.pop(name, None)
            self._names.remove(name)
            self._adopted.discard(name)
            with contextlib.suppress(OSError):
                (self.directory / name).unlink()
            return True

    @property
    def pending(self) -> int:
        """How many payload files are spooled."""
        with self._lock:
            return len(self._names)

    @property
    def pending_bytes(self) -> int:
        """The size of the spooled payload files."""
        with self._lock:
            return self._total

    # -- ending ----------------------------------------------------------------------------

    def close(self) -> None:
        """Release the lock; the directory is removed when empty, else left for a later
        process to adopt."""
        with self._lock:
            fd, self._fd = self._fd, None
            self._closed = True
            empty = not self._names
        if fd is None:
            return
        if empty:
            _remove_locked_dir(self.directory, fd)
        else:
            os.close(fd)

    def abandon_after_fork(self) -> None:
        """In a forked child: forget this (the parent's) spool without touching its files.

        Closes the child's copy of the lock fd, without unlocking (the lock belongs to the
        open file, shared with the parent), so the directory is the parent's alone.
        """
        self._lock = threading.Lock()
        self._closed = True
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
