"""The staff console: server-rendered pages behind a session cookie.

``install`` adds every console router, sends a browser without a live session to the
sign-in page, and shows errors on console pages as HTML pages (the API keeps problem+json).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from fiberdesk.web.console import (
    admin,
    billing,
    changes,
    customers,
    dispatch,
    field,
    kpis,
    login,
    network,
    outages,
    search,
    signup,
    tickets,
    troubleshoot,
)
from fiberdesk.web.console.auth import SignInRequired
from fiberdesk.web.console.pages import error_page, sign_in_redirect

ROUTERS = (
    login.router,
    search.router,
    customers.router,
    signup.router,
    tickets.router,
    troubleshoot.router,
    outages.router,
    network.router,
    changes.router,
    billing.router,
    dispatch.router,
    field.router,
    kpis.router,
    admin.router,
)
#: paths whose errors are shown as pages, not problem+json
HTML_PREFIXES = ("/console", "/login", "/logout")


def html_error(request: Request, status: int, reason: str) -> Response | None:
    """The console's error page for a console path; None for the API's paths."""
    if not request.url.path.startswith(HTML_PREFIXES):
        return None
    return error_page(request, status, reason)


def install(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        return sign_in_redirect(request, exc)
