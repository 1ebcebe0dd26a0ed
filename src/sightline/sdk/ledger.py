"""Where every logged row, prediction record and label went: the Monitor's loss accounting.

For each kind (``rows``, ``records``, ``labels``) the ledger holds four counters, and at
every moment ``kept + invalid + dropped + pending == logged``:

- ``logged``: given to the Monitor;
- ``kept``: profiled (rows) or turned into a payload (records, labels) and handed to the
  delivery, which stores it at the collector or keeps it in its queue or spool;
- ``invalid``: refused because a value could not be read (a timestamp or a latency that is
  not a number, a label that is neither a number nor a text);
- ``dropped``: lost, because a buffer was full, a payload was refused by the collector or
  could not be kept (no spool, spool unwritable);
- ``pending`` (computed): still in the buffer or in a window not shipped yet.

The first loss of each kind is logged at WARNING with what to change.

>>> ledger = Ledger()
>>> ledger.add("rows", logged=3, kept=2)
>>> ledger.lose("rows", 1, "the buffer was full")
>>> ledger.snapshot()["rows"]
{'logged': 3, 'kept': 2, 'invalid': 0, 'dropped': 1, 'pending': 0}
"""

from __future__ import annotations

import logging
import threading
from typing import Literal

log = logging.getLogger("sightline.sdk")

Kind = Literal["rows", "records", "labels"]
KINDS: tuple[Kind, ...] = ("rows", "records", "labels")
_FIELDS = ("logged", "kept", "invalid", "dropped")
_FIX = {
    "buffer": "log less at once, raise buffer_rows, or check that the collector answers",
    "delivery": "set spool_dir (payloads then wait on disk), or check the collector",
    "refused": "fix what the collector named (see the ERROR above)",
    "invalid": "pass numbers (or datetimes) for timestamp and latency_ms, "
    "and numbers or texts as labels",
}


class Ledger:
    """Thread-safe counters of what happened to each logged thing (see the module)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()  # held by the Monitor while it drains its buffers
        self._counts = {kind: dict.fromkeys(_FIELDS, 0) for kind in KINDS}
        self._warned: set[str] = set()

    def add(self, kind: Kind, *, logged: int = 0, kept: int = 0, invalid: int = 0) -> None:
        """Count ``logged`` new ones, ``kept`` or ``invalid`` ones of those logged."""
        with self.lock:
            c = self._counts[kind]
            c["logged"] += logged
            c["kept"] += kept
            c["invalid"] += invalid
        if invalid:
            self._warn_once(f"invalid-{kind}", f"{invalid} {kind} were invalid", "invalid")

    def lose(self, kind: Kind, n: int, reason: str, *, was_kept: bool = False) -> None:
        """Count ``n`` lost (moved out of ``kept`` when ``was_kept``); warn the first time."""
        if n <= 0:
            return
        with self.lock:
            c = self._counts[kind]
            c["dropped"] += n
            if was_kept:
                c["kept"] -= n
        fix = "buffer" if "buffer" in reason else "refused" if "refused" in reason else "delivery"
        self._warn_once(f"lost-{kind}", f"{n} {kind} dropped: {reason}", fix)

    def refuse(self, counts: dict[Kind, int], reason: str) -> None:
        """Count ``counts`` logged and dropped at once (a full buffer: one lock, no
        logging after the first time, so that an overloaded caller is not slowed)."""
        with self.lock:
            for kind, n in counts.items():
                c = self._counts[kind]
                c["logged"] += n
                c["dropped"] += n
            first = [k for k, n in counts.items() if n and f"lost-{k}" not in self._warned]
        for kind in first:
            self._warn_once(f"lost-{kind}", f"{counts[kind]} {kind} dropped: {reason}", "buffer")

    def _warn_once(self, what: str, message: str, fix: str) -> None:
        with self.lock:
            if what in self._warned:
                return
            self._warned.add(what)
        log.warning(
            "sightline: %s; to avoid it, %s. Monitor.stats() counts every loss "
            "(further ones are not logged)",
            message,
            _FIX[fix],
        )

    def total_dropped(self) -> int:
        """Rows and labels lost so far (what a heartbeat reports)."""
        with self.lock:
            return self._counts["rows"]["dropped"] + self._counts["labels"]["dropped"]

    def snapshot(self, pending_logged: dict[Kind, int] | None = None) -> dict[str, dict[str, int]]:
        """The counters of each kind, with ``pending_logged`` more logged (still in the
        caller's buffer), and ``pending`` computed from the others."""
        extra = pending_logged or {}
        with self.lock:
            out: dict[str, dict[str, int]] = {k: dict(c) for k, c in self._counts.items()}
        for kind in KINDS:
            c = out[kind]
            c["logged"] += extra.get(kind, 0)
            c["pending"] = c["logged"] - c["kept"] - c["invalid"] - c["dropped"]
        return out
