"""Who is at the console: the session cookie, the CSRF check on every form, area guards.

A page declares what it needs with the annotated types at the bottom::

    def page(user: Staff, ...)                      # any signed-in user
    def page(user: AreaUser("tickets"), ...)         # 403 for roles outside the area
    def post(user: AreaUser("tickets"), form: CheckedForm, ...)  # plus the CSRF check

A missing or expired session, or a form whose CSRF token is stale, sends the browser to
the sign-in page with ``next`` set to the page it came from; the form's ordinary fields
ride along in ``next`` so nothing the user typed (but secrets) is lost.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import Forbidden, Unauthorized
from fiberdesk.services import sessions
from fiberdesk.services.sessions import SessionPolicy, SignedIn
from fiberdesk.web.console.nav import AREAS, may_open
from fiberdesk.web.deps import get_app

COOKIE = "fd_session"
CSRF_FIELD = "csrf_token"
#: form fields never carried through a sign-in redirect
_SECRET_PARTS = (
    "password", "card", "cvc", "cvv", "ssn", "code", "token", "secret", "document", "birth",
)  # fmt: skip


class SignInRequired(Exception):
    """Send the browser to the sign-in page, then back to ``next_url``."""

    def __init__(self, reason: str, next_url: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.next_url = next_url


def policy(app: Fiberdesk) -> SessionPolicy:
    return SessionPolicy(
        idle=timedelta(minutes=app.settings.session_idle_minutes),
        max_age=timedelta(hours=app.settings.session_max_hours),
    )


def safe_next(url: str | None) -> str | None:
    """A local path to return to, or None: never another site (``//host`` or a scheme)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return None
    return url


def kept_fields(form: FormData | None) -> dict[str, str]:
    if form is None:
        return {}
    return {
        k: v
        for k, v in form.items()
        if isinstance(v, str) and k != CSRF_FIELD and not any(p in k.lower() for p in _SECRET_PARTS)
    }


def return_url(request: Request, form: FormData | None = None) -> str:
    """Where to come back to after signing in: the page itself for a GET; for a form, the
    page that showed it (same site only) with the form's ordinary fields in the query."""
    if request.method == "GET":
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    same_site = referer.netloc in ("", request.url.netloc)
    path = referer.path if referer.path and same_site else request.url.path
    query = referer.query if same_site else ""
    kept = kept_fields(form)
    if kept:
        query = "&".join(q for q in (query, urlencode(kept)) if q)
    return safe_next(path + (f"?{query}" if query else "")) or "/console"


async def console_user(request: Request, app: Annotated[Fiberdesk, Depends(get_app)]) -> SignedIn:
    secret = request.cookies.get(COOKIE)
    try:
        if not secret:
            raise Unauthorized("please sign in")
        user = await run_in_threadpool(sessions.current, app.uow, secret=secret, policy=policy(app))
    except Unauthorized as exc:
        form = await request.form() if request.method == "POST" else None
        reason = exc.reason[:1].upper() + exc.reason[1:] + "."
        raise SignInRequired(reason, return_url(request, form)) from None
    request.state.user = user
    return user


Staff = Annotated[SignedIn, Depends(console_user)]


def area(key: str) -> Callable[[SignedIn], SignedIn]:
    """The dependency that lets in the roles of ``key``'s area (nav.AREAS), 403 for others."""
    label = AREAS[key].label

    def guard(user: Staff) -> SignedIn:
        if not may_open(user.actor.role, key):
            raise Forbidden(f"the {user.actor.role.label.lower()} role may not open {label}")
        return user

    return guard


# one annotated type per area: ``def page(user: TicketsUser)``
CustomersUser = Annotated[SignedIn, Depends(area("customers"))]
SignupUser = Annotated[SignedIn, Depends(area("signup"))]
TicketsUser = Annotated[SignedIn, Depends(area("tickets"))]
TroubleshootUser = Annotated[SignedIn, Depends(area("troubleshoot"))]
OutagesUser = Annotated[SignedIn, Depends(area("outages"))]
NetworkUser = Annotated[SignedIn, Depends(area("network"))]
DispatchUser = Annotated[SignedIn, Depends(area("dispatch"))]
ChangesUser = Annotated[SignedIn, Depends(area("changes"))]
BillingUser = Annotated[SignedIn, Depends(area("billing"))]
FieldUser = Annotated[SignedIn, Depends(area("field"))]
KpisUser = Annotated[SignedIn, Depends(area("kpis"))]
AdminUser = Annotated[SignedIn, Depends(area("admin"))]


def AreaUser(key: str) -> Any:
    return Annotated[SignedIn, Depends(area(key))]


async def checked_form(request: Request, user: Staff) -> FormData:
    """The posted form, once its CSRF token matches the session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, user.csrf_token):
        raise SignInRequired(
            "That form had expired. Please sign in again; what you typed has been kept.",
            return_url(request, form),
        )
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def text(form: FormData, name: str, default: str = "") -> str:
    """A form field as stripped text ('' when absent or a file)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else default
