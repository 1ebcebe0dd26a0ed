"""``client.keys``: create, list and revoke the API keys of the caller's project."""

from __future__ import annotations

from typing import Any

import httpx

from sightline.client._http import call


class Keys:
    """The keys of the project of the client's (admin) key."""

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def create(self, scope: str) -> dict[str, Any]:
        """A new key of ``scope`` (``ingest``, ``read`` or ``admin``): ``key`` (shown once),
        ``id``, ``project``, ``scope``."""
        created: dict[str, Any] = call(
            self._http, "POST", "/api/v1/keys", json={"scope": scope}
        ).json()
        return created

    def list(self) -> list[dict[str, Any]]:
        """The project's keys: ``id``, ``scope``, ``created_at`` (never the secret)."""
        keys: list[dict[str, Any]] = call(self._http, "GET", "/api/v1/keys").json()["keys"]
        return keys

    def revoke(self, key_id: str) -> None:
        """Revoke the key ``key_id`` (or a whole key ``sl_<id>_<secret>``); every collector
        refuses it within seconds."""
        call(self._http, "DELETE", f"/api/v1/keys/{key_id_of(key_id)}")


def key_id_of(key: str) -> str:
    """The id of a key, given the id or the whole key.

    >>> key_id_of("sl_0a1b_secret"), key_id_of("0a1b")
    ('0a1b', '0a1b')
    """
    parts = key.split("_", 2)
    return parts[1] if len(parts) == 3 and parts[0] == "sl" else key
