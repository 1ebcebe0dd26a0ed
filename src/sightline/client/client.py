"""``sightline.Client``: everything the collector's HTTP API does, from Python.

>>> client = Client("http://127.0.0.1:9", api_key="sl_x_y")
>>> client.url
'http://127.0.0.1:9'
>>> client.close()
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from sightline.client._http import call
from sightline.client.keys import Keys
from sightline.client.reference import upload_of
from sightline.errors import InvalidInputError

if TYPE_CHECKING:
    from sightline.analysis.rows import Result
    from sightline.profile import Schema

#: Where ``sightline serve`` listens by default.
DEFAULT_URL = "http://127.0.0.1:8000"


class Client:
    """A collector at ``url`` (default ``$SIGHTLINE_URL``, else :data:`DEFAULT_URL`),
    called with ``api_key`` (default ``$SIGHTLINE_API_KEY``; none for ``--no-auth``).

    Every refusal raises :class:`~sightline.client.CollectorError` with the collector's
    ``error`` and ``field``. Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self, url: str | None = None, api_key: str | None = None, *, timeout_s: float = 60.0
    ) -> None:
        self.url = (url or os.environ.get("SIGHTLINE_URL") or DEFAULT_URL).rstrip("/")
        key = api_key or os.environ.get("SIGHTLINE_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout_s)
        self.keys = Keys(self._http)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def models(self) -> list[dict[str, Any]]:
        """Every registered version: ``model``, ``version``, ``created_at``,
        ``has_reference`` and ``columns``."""
        versions: list[dict[str, Any]] = call(self._http, "GET", "/api/v1/models").json()[
            "versions"
        ]
        return versions

    def register(
        self,
        model: str,
        version: str,
        schema: Schema | Mapping[str, Any] | None = None,
        reference: Any = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Register ``model`` ``version`` and upload its ``reference`` (a data frame, a CSV
        or Parquet file, or a profile). The schema is ``schema``, else the reference's:
        inferred as ``compare`` infers it, ``options`` (``target=``, ``categorical=``, ...)
        overriding. Returns the version, with what the reference fitted (``fitted``).
        Registering the same again changes nothing."""
        given = _schema(schema)
        if reference is None:
            if given is None:
                raise InvalidInputError(
                    "register needs a schema, a reference, or both", field="reference"
                )
            return self._put_schema(model, version, given)
        upload = upload_of(reference, given, **options)
        self._put_schema(model, version, upload.schema)
        return self._put_reference(model, version, upload.body, upload.content_type)

    def reference(self, model: str, version: str, reference: Any) -> dict[str, Any]:
        """Upload the reference of a registered version, in its registered schema."""
        from sightline.profile import Schema

        found = call(self._http, "GET", _path(model, version)).json()
        upload = upload_of(reference, Schema.from_dict({"columns": found["columns"]}))
        return self._put_reference(model, version, upload.body, upload.content_type)

    def reference_profile(self, model: str, version: str) -> bytes | None:
        """The bytes of the version's reference profile (None: it has none yet)."""
        found = call(self._http, "GET", _path(model, version)).json()
        if not found["has_reference"]:
            return None
        return call(self._http, "GET", f"{_path(model, version)}/reference").content

    def send_profile(self, model: str, version: str, profile: bytes, key: str) -> bool:
        """Send one profile (its bytes) under the idempotency key ``key``; True when stored,
        False when the same key and body were stored before."""
        headers = {"Idempotency-Key": key, "Content-Type": "application/x-sightline-profile"}
        path = f"{_path(model, version)}/profiles"
        answer = call(self._http, "POST", path, content=profile, headers=headers).json()
        return not bool(answer.get("duplicate", False))

    def _put_schema(self, model: str, version: str, schema: Schema) -> dict[str, Any]:
        info: dict[str, Any] = call(
            self._http, "PUT", _path(model, version), json=schema.to_dict()
        ).json()
        return info

    def _put_reference(
        self, model: str, version: str, body: bytes, content_type: str
    ) -> dict[str, Any]:
        path = f"{_path(model, version)}/reference"
        headers = {"Content-Type": content_type}
        info: dict[str, Any] = call(self._http, "PUT", path, content=body, headers=headers).json()
        return info

    def settings(self, model: str, *, version: str | None = None, **changes: Any) -> dict[str, Any]:
        """The model's scheduling settings (``window``, ``lateness``, ``reference_windows``,
        ``label_horizon``), after applying ``changes`` when given; with ``version``, that
        version's own ``reference_windows`` (None: the model's) and its ``source``."""
        path = f"/api/v1/models/{model}" + (f"/versions/{version}" if version else "")
        path += "/settings"
        if version is not None and set(changes) - {"reference_windows"}:
            odd = sorted(set(changes) - {"reference_windows"})
            raise InvalidInputError(
                f"a version's only setting is reference_windows, got {odd}", field=odd[0]
            )
        if not changes:
            current: dict[str, Any] = call(self._http, "GET", path).json()
            return current
        if version is None:  # the other settings stay as they are
            changes = {**call(self._http, "GET", path).json(), **changes}
        updated: dict[str, Any] = call(self._http, "PUT", path, json=changes).json()
        return updated

    def metrics(
        self,
        model: str,
        *,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        version: str | None = None,
        column: str | None = None,
        metric: str | None = None,
        max_points: int | None = None,
    ) -> Result:
        """The model's metric rows in ``[since, until)`` (default: the last 24 hours), as
        the same :class:`~sightline.Result` that ``compare`` returns."""
        params = _params(
            since=since,
            until=until,
            version=version,
            column=column,
            metric=metric,
            max_points=max_points,
        )
        answer = call(self._http, "GET", f"/api/v1/models/{model}/metrics", params=params)
        return _result(model, answer.json()["rows"], f"{model}: metric rows")

    def drift(self, model: str, *, version: str | None = None) -> Result:
        """The newest drift row of every column of ``model``."""
        params = _params(version=version)
        answer = call(self._http, "GET", f"/api/v1/models/{model}/drift/latest", params=params)
        return _result(model, answer.json()["rows"], f"{model}: latest drift")

    def health(
        self,
        model: str,
        *,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
    ) -> dict[str, Any]:
        """Live instances, uptime, predictions, errors and latency of ``model``."""
        params = _params(since=since, until=until)
        overview: dict[str, Any] = call(
            self._http, "GET", f"/api/v1/models/{model}/health", params=params
        ).json()
        return overview

    def alerts(self, *, state: str | None = None, model: str | None = None) -> list[dict[str, Any]]:
        """The collector's alerts (``pending``, ``firing``, ``resolved``), newest first, with
        their ``rule``, ``labels``, ``annotations``, times and ``evidence``."""
        params = _params(state=state, model=model)
        found: list[dict[str, Any]] = call(
            self._http, "GET", "/api/v1/alerts", params=params
        ).json()["alerts"]
        return found

    def rules(self) -> dict[str, Any]:
        """The alert rules, receivers and SLOs in force (secrets left out)."""
        in_force: dict[str, Any] = call(self._http, "GET", "/api/v1/rules").json()
        return in_force

    def silence(
        self, matchers: Mapping[str, str], *, duration: str = "1h", comment: str = ""
    ) -> dict[str, Any]:
        """Mute the alerts whose labels match ``matchers`` (label: glob) for ``duration``;
        the silence made (its ``id`` and ``ends_at``). Needs an admin key."""
        body = {"matchers": dict(matchers), "duration": duration, "comment": comment}
        made: dict[str, Any] = call(self._http, "POST", "/api/v1/silences", json=body).json()
        return made

    def jobs(
        self,
        *,
        model: str | None = None,
        since: datetime | str | None = None,
        state: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """The scheduler's job runs, newest first (``jobs``: replica, model, version,
        window, kind, fingerprint, times, ``duration_s``, ``state``, ``rows``, ``error``)
        and the ``replicas`` seen in the last hour. Needs an admin key."""
        params = _params(model=model, since=since, state=state, limit=limit)
        found: dict[str, Any] = call(self._http, "GET", "/api/v1/jobs", params=params).json()
        return found


def _path(model: str, version: str) -> str:
    return f"/api/v1/models/{model}/versions/{version}"


def _schema(schema: Schema | Mapping[str, Any] | None) -> Schema | None:
    from sightline.profile import Schema

    if schema is None or isinstance(schema, Schema):
        return schema
    return Schema.from_dict(schema)


def _params(**given: Any) -> dict[str, Any]:
    """Query parameters: the given ones, times as ISO 8601 (a naive time is UTC)."""
    out: dict[str, Any] = {}
    for name, value in given.items():
        if value is None:
            continue
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _result(model: str, records: list[dict[str, Any]], title: str) -> Result:
    """The API's rows as a :class:`Result`, decoded by the one row codec (rows without
    ``model`` are the model's)."""
    from sightline.analysis.rows import Result, decode_row

    rows = tuple(decode_row({"model": model, **r}) for r in records)
    return Result(rows=rows, title=title)
