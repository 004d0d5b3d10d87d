"""Rendering console pages: the shared layout context, form errors, HTML error pages."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fiberdesk.domain.errors import FiberdeskError
from fiberdesk.services.sessions import SignedIn
from fiberdesk.web.console.auth import SignInRequired
from fiberdesk.web.console.nav import menu
from fiberdesk.web.render import render


def page(
    request: Request,
    user: SignedIn | None,
    template: str,
    *,
    area: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` inside the console layout: menu, search box, the user, the
    CSRF token for forms, and the active area highlighted."""
    settings = request.app.state.fiberdesk.settings
    return render(
        template,
        status_code=status_code,
        user=user,
        menu=menu(user.actor.role) if user else [],
        csrf=user.csrf_token if user else "",
        area=area,
        company=settings.company_name,
        path=request.url.path,
        query=request.query_params,
        **context,
    )


def form_errors(exc: FiberdeskError) -> dict[str, str]:
    """A service error as ``{field: reason}``; ``_`` holds an error of the whole form."""
    return {exc.field or "_": exc.reason}


def redirect(url: str) -> RedirectResponse:
    """After a successful POST: see the result with a GET (303)."""
    return RedirectResponse(url, status_code=303)


def sign_in_redirect(request: Request, exc: SignInRequired) -> Response:
    from urllib.parse import urlencode

    return redirect("/login?" + urlencode({"next": exc.next_url, "reason": exc.reason}))


def error_page(request: Request, status: int, reason: str) -> HTMLResponse:
    user = getattr(request.state, "user", None)
    titles = {
        403: "Not for your role",
        404: "Not found",
        409: "Cannot do that now",
        422: "Check the input",
        429: "Too many requests",
    }
    return page(
        request,
        user,
        "console/error.html",
        status_code=status,
        title=titles.get(status, "Something went wrong"),
        reason=reason,
        status=status,
    )
