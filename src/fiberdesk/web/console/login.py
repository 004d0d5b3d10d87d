"""Sign in, sign out, and the console's home page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import Unauthorized
from fiberdesk.services import sessions
from fiberdesk.web.console.auth import COOKIE, CheckedForm, Staff, policy, safe_next
from fiberdesk.web.console.nav import HOME
from fiberdesk.web.console.pages import page, redirect
from fiberdesk.web.deps import get_app
from fiberdesk.web.forms import sign, verify

router = APIRouter(include_in_schema=False)
#: the sign-in form is good for this long
LOGIN_FORM_SECONDS = 3600


def _login_page(
    request: Request,
    app: Fiberdesk,
    *,
    next_url: str,
    username: str = "",
    reason: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        None,
        "console/login.html",
        status_code=status_code,
        next_url=next_url,
        username=username,
        reason=reason,
        error=error,
        form_token=sign(app.settings.secret_key, "login"),
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request,
    app: Annotated[Fiberdesk, Depends(get_app)],
    next: str | None = Query(None, max_length=4000),
    reason: str | None = Query(None, max_length=200),
) -> HTMLResponse:
    return _login_page(request, app, next_url=safe_next(next) or "", reason=reason)


@router.post("/login", response_model=None)
def login(
    request: Request,
    app: Annotated[Fiberdesk, Depends(get_app)],
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next_url: Annotated[str, Form(alias="next", max_length=4000)] = "",
    form_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    next_url = safe_next(next_url) or ""
    if not verify(app.settings.secret_key, "login", form_token, max_age_s=LOGIN_FORM_SECONDS):
        return _login_page(
            request,
            app,
            next_url=next_url,
            username=username,
            error="The sign-in form had expired; please try again.",
            status_code=400,
        )
    try:
        with app.uow() as uow:
            started = sessions.sign_in(
                uow, username=username, password=password, policy=policy(app)
            )
    except Unauthorized as exc:
        return _login_page(
            request,
            app,
            next_url=next_url,
            username=username,
            error=exc.reason[:1].upper() + exc.reason[1:] + ".",
            status_code=401,
        )
    response = redirect(next_url or HOME[started.actor.role])
    response.set_cookie(
        COOKIE,
        started.secret,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
def logout(
    request: Request, app: Annotated[Fiberdesk, Depends(get_app)], user: Staff, form: CheckedForm
) -> Response:
    with app.uow() as uow:
        sessions.sign_out(uow, secret=request.cookies.get(COOKIE, ""))
    response = redirect("/login?reason=You+have+signed+out.")
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/console", response_class=HTMLResponse, response_model=None)
def home(request: Request, user: Staff) -> Response:
    landing = HOME[user.actor.role]
    if landing != "/console":
        return redirect(landing)
    return page(request, user, "console/home.html", area=None)
