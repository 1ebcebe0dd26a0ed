"""The web dashboard, served by the collector at ``/``: login, overview, model, column and
alerts pages, and the JSON endpoints they read (:mod:`.api`).

Jinja2 templates hold no data but the (escaped) names in their URL; plain JavaScript
modules in ``static/`` read ``/api/v1`` and draw with the Plotly bundle of the installed
``plotly`` package, so the pages work offline. No page has an inline script: every answer
carries a Content-Security-Policy that forbids them (:mod:`.middleware`).

>>> from sightline.store import open_store
>>> from sightline.server.app import create_app
>>> app = create_app(open_store(":memory:"))
>>> "/api/v1/overview" in app.openapi()["paths"]
True
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from sightline.server.pages import api, routes
from sightline.server.pages.cache import TtlCache
from sightline.server.pages.middleware import PagesMiddleware
from sightline.server.pages.session import Sessions


def install(app: FastAPI) -> None:
    """Serve the dashboard from ``app``: add it after the app's other middleware, so that
    a session stands for its key before the rate limits see the request."""
    app.state.sessions = Sessions()
    app.state.profiles = TtlCache(api.PROFILE_SECONDS, api.PROFILE_ENTRIES)
    app.include_router(api.router)
    app.include_router(routes.router)
    app.mount("/static", StaticFiles(directory=routes.STATIC), name="static")
    app.add_middleware(PagesMiddleware, sessions=app.state.sessions)


__all__ = ["install"]
