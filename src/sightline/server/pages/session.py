"""Dashboard sessions: an opaque random id in an HttpOnly, SameSite=Strict cookie that
maps to the API key the viewer logged in with.

The key itself never leaves the server after the login form; the map lives in this
collector's memory (a restart, or another replica, asks for the key again). Every use of a
session re-checks its key through the key cache, so a revoked key ends its sessions within
:data:`~sightline.server.auth.CACHE_SECONDS`.

>>> sessions = Sessions()
>>> sid = sessions.open("sl_abc_def")
>>> sessions.token(sid)
'sl_abc_def'
>>> sessions.close(sid); sessions.token(sid) is None
True
"""

from __future__ import annotations

import secrets
import threading
import time

#: The session cookie's name.
COOKIE = "sightline_session"
#: How long a session lasts without a new login.
LIFETIME_SECONDS = 12 * 3600
_MAX_SESSIONS = 10_000


class Sessions:
    """Session id to API key, each for :data:`LIFETIME_SECONDS`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}

    def open(self, token: str) -> str:
        """A new session for ``token`` (an API key already verified); returns its id."""
        sid = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            if len(self._tokens) >= _MAX_SESSIONS:
                self._tokens = {s: v for s, v in self._tokens.items() if v[1] > now}
                if len(self._tokens) >= _MAX_SESSIONS:  # still full: the oldest goes
                    self._tokens.pop(next(iter(self._tokens)))
            self._tokens[sid] = (token, now + LIFETIME_SECONDS)
        return sid

    def token(self, sid: str | None) -> str | None:
        """The API key of session ``sid`` while it lasts, else None."""
        if not sid:
            return None
        hit = self._tokens.get(sid)
        if hit is None or hit[1] <= time.monotonic():
            return None
        return hit[0]

    def close(self, sid: str | None) -> None:
        """End session ``sid`` (logout, or its key was refused)."""
        with self._lock:
            self._tokens.pop(sid or "", None)
