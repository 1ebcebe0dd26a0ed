"""One HTTP exchange with a collector, and the error that carries its answer.

Every refusal of the collector is ``{"error": ..., "field": ...}`` (see
``docs/collector.md``); :class:`CollectorError` keeps both, and the status.
"""

from __future__ import annotations

from typing import Any

import httpx

from sightline.errors import SightlineError


class CollectorError(SightlineError):
    """The collector refused a request (``status`` 4xx or 5xx), or could not be reached
    (``status`` None). ``error`` is the collector's message, ``field`` the field at fault.

    Examples
    --------
    >>> e = CollectorError(404, "model 'x' is not registered", "model")
    >>> str(e), e.field
    ("model 'x' is not registered (HTTP 404, field 'model')", 'model')
    """

    def __init__(self, status: int | None, error: str, field: str | None = None) -> None:
        where = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"{error} ({where}" + (f", field {field!r})" if field else ")"))
        self.status = status
        self.error = error
        self.field = field


def call(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Send one request; the answer when it is a 2xx, else :class:`CollectorError`."""
    try:
        response = http.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise CollectorError(
            None, f"cannot reach the collector at {http.base_url}: {exc}"
        ) from None
    if response.is_success:
        return response
    try:
        body = response.json()
        error, field = str(body["error"]), body.get("field")
    except (ValueError, KeyError, TypeError):
        error, field = response.text[:200] or response.reason_phrase, None
    raise CollectorError(response.status_code, error, field)
