"""API keys on requests: ``Authorization: Bearer sl_<id>_<secret>``, checked against scopes.

A key belongs to one project and every query is filtered by it, so a key never reads or
writes another project's data. Lookups are cached for :data:`CACHE_SECONDS` (the secret is
still compared in constant time by the store on a miss), so a key revoked on any replica is
refused by every replica within that time. Rate limits count a request against its key
only when the key is in that cache (verified); otherwise against the client address.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import Scope as StarletteScope

from sightline.server.bodies import ApiError
from sightline.server.limits import bearer_token
from sightline.store import ApiKey, Scope, Store

#: How long a verified key is trusted without asking the store: the most a revocation waits.
CACHE_SECONDS = 4.0
_CACHE_SIZE = 10_000


class KeyCache:
    """Authenticated keys by token for a short time; unknown tokens are not cached."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._keys: dict[str, tuple[ApiKey, float]] = {}

    def verified_id(self, scope: StarletteScope) -> str | None:
        """The id of the request's API key when it is in the cache (verified lately), else
        None (no store access: the rate limiter calls it before the request is read)."""
        token = bearer_token(scope)
        hit = self._keys.get(token) if token is not None else None
        return hit[0].key_id if hit is not None and hit[1] > time.monotonic() else None

    async def lookup(self, token: str) -> ApiKey | None:
        hit = self._keys.get(token)
        now = time.monotonic()
        if hit is not None and hit[1] > now:
            return hit[0]
        key = await run_in_threadpool(self._store.authenticate, token)
        if key is not None:
            if len(self._keys) >= _CACHE_SIZE:
                self._keys.clear()
            self._keys[token] = (key, now + CACHE_SECONDS)
        return key

    def forget(self, key_id: str) -> None:
        """Drop the cached tokens of ``key_id`` (revoked here: refused at once)."""
        for token in [t for t, (k, _) in self._keys.items() if k.key_id == key_id]:
            self._keys.pop(token, None)


def require(*scopes: Scope) -> Callable[[Request], Awaitable[ApiKey]]:
    """A FastAPI dependency: the request's key, when its scope is one of ``scopes``
    (an admin key passes every check); else 401 or 403."""

    async def check(request: Request) -> ApiKey:
        state = request.app.state.sightline
        if not state.settings.auth:
            return ApiKey("anonymous", state.settings.default_project, "admin")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401, "missing API key: send 'Authorization: Bearer <key>'", "Authorization"
            )
        key: ApiKey | None = await state.keys.lookup(token.strip())
        if key is None:
            raise ApiError(401, "invalid API key", "Authorization")
        if not any(key.allows(s) for s in scopes):
            raise ApiError(
                403,
                f"a key of scope {key.scope!r} cannot do this; it needs {' or '.join(scopes)}",
                "Authorization",
            )
        return key

    return check


#: The key of a request, by the scope its route needs (FastAPI dependencies).
Ingest = Annotated[ApiKey, Depends(require("ingest"))]
Reader = Annotated[ApiKey, Depends(require("read"))]
ReaderOrIngest = Annotated[ApiKey, Depends(require("read", "ingest"))]
Admin = Annotated[ApiKey, Depends(require("admin"))]
