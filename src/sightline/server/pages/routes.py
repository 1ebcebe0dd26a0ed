"""The dashboard's HTML pages, the login and the logout.

Every page is a template with no data in it but the names in its URL (escaped); its
script reads the JSON endpoints. Without a session (or with one whose key was revoked) a
page redirects to ``/login?next=<the page>``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from sightline.report.html import _plotly_bundle
from sightline.server.bodies import ApiError
from sightline.server.ingest import ModelName
from sightline.server.pages.middleware import session_id
from sightline.server.pages.session import COOKIE, LIFETIME_SECONDS, Sessions
from sightline.server.schemas import NO_NUL
from sightline.server.state import state_of
from sightline.store import ApiKey

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).parent
STATIC = HERE / "static"
_MAX_FORM = 4096


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def sessions_of(request: Request) -> Sessions:
    """The app's dashboard sessions."""
    found: Sessions = request.app.state.sessions
    return found


async def viewer(request: Request) -> ApiKey | None:
    """The key of the request's session when it is valid and may read, else None (and a
    session whose key is refused is ended)."""
    state = state_of(request)
    if not state.settings.auth:
        return ApiKey("anonymous", state.settings.default_project, "admin")
    sessions = sessions_of(request)
    sid = session_id(request.scope)
    token = sessions.token(sid)
    if token is None:
        return None
    key = await state.keys.lookup(token)
    if key is None or not key.allows("read"):
        sessions.close(sid)
        return None
    return key


def _render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_environment().get_template(name).render(**context), status)


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", 303)


def _local(target: str | None) -> str:
    """``target`` when it is a path on this collector, else ``/`` (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def _page(request: Request, template: str, **context: Any) -> Response:
    key = await viewer(request)
    if key is None:
        return _to_login(request)
    auth = state_of(request).settings.auth
    return _render(template, key_scope=key.scope, auth=auth, **context)


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    if await viewer(request) is not None:
        return RedirectResponse(_local(next), 303)
    return _render("login.html", message=None, next=_local(next))


@router.post("/login")
async def login(request: Request) -> Response:
    body = await request.body()
    if len(body) > _MAX_FORM:
        raise ApiError(413, f"the login form may be at most {_MAX_FORM} bytes", "key")
    form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=4)
    token = (form.get("key") or [""])[0].strip()
    target = _local((form.get("next") or ["/"])[0])
    state = state_of(request)
    key = await state.keys.lookup(token) if token else None
    if key is None or not key.allows("read"):
        message = (
            "Enter an API key."
            if not token
            else "This key cannot read: use a read or admin key."
            if key is not None
            else "Unknown or revoked key."
        )
        return _render("login.html", 401, message=message, next=target)
    response = RedirectResponse(target, 303)
    response.set_cookie(
        COOKIE,
        sessions_of(request).open(token),
        max_age=LIFETIME_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.api_route("/logout", methods=["GET", "POST"])
async def logout(request: Request) -> Response:
    sessions_of(request).close(session_id(request.scope))
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/")
async def overview_page(request: Request) -> Response:
    return await _page(request, "overview.html", page="overview")


@router.get("/alerts")
async def alerts_page(request: Request) -> Response:
    return await _page(request, "alerts.html", page="alerts")


@router.get("/models/{model}/versions/{version}")
async def model_page(request: Request, model: ModelName, version: ModelName) -> Response:
    return await _page(request, "model.html", page="model", model=model, version=version)


@router.get("/models/{model}/versions/{version}/column")
async def column_page(
    request: Request,
    model: ModelName,
    version: ModelName,
    name: Annotated[str, Query(min_length=1, max_length=200, pattern=NO_NUL)],
) -> Response:
    return await _page(
        request, "column.html", page="column", model=model, version=version, column=name
    )


@router.get("/static/plotly.min.js")
async def plotly_bundle() -> Response:
    """Plotly's bundle from the installed ``plotly`` package (no CDN)."""
    bundle = _plotly_bundle()
    if bundle is None:
        raise ApiError(404, "the plotly package is not installed (pip install plotly)", None)
    return FileResponse(bundle, media_type="text/javascript", headers=_CACHE)


_CACHE = {"Cache-Control": "public, max-age=86400"}
