"""A small time-to-live cache for decoded profiles (keyed by what they were decoded from).

>>> cache = TtlCache(60.0)
>>> cache.get("k", lambda: 1), cache.get("k", lambda: 2)
(1, 1)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any


class TtlCache:
    """Values by key, each computed at most once per ``seconds``; at most ``max_entries``
    kept (all dropped when full)."""

    def __init__(self, seconds: float, max_entries: int = 10_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._values: dict[Hashable, tuple[Any, float]] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The value of ``key``: cached while fresh, else ``compute()`` (and cached)."""
        now = time.monotonic()
        hit = self._values.get(key)
        if hit is not None and hit[1] > now:
            return hit[0]
        value = compute()
        with self._lock:
            if len(self._values) >= self.max_entries:
                self._values.clear()
            self._values[key] = (value, now + self.seconds)
        return value
