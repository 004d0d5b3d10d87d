"""Public self-service pages (no login, rate limited): the availability check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import FiberdeskError
from fiberdesk.domain.users import PUBLIC_ACTOR
from fiberdesk.services import waitlist
from fiberdesk.services.qualification import (
    Qualification,
    qualify_address,
    qualify_premises,
)
from fiberdesk.web.deps import get_app
from fiberdesk.web.forms import sign, verify
from fiberdesk.web.ratelimit import client_key
from fiberdesk.web.render import render

router = APIRouter(tags=["self-service"], include_in_schema=False)

PUBLIC_TEXT = {
    "SERVICEABLE": "Good news: fiber is available at this address.",
    "SITE_SURVEY": "Fiber can reach this address; a technician will survey the site first.",
    "NOT_SERVICEABLE": "Fiber is not available at this address yet.",
    "ALREADY_SERVED": "This address already has our fiber service.",
}


def _limit(request: Request, app: Annotated[Fiberdesk, Depends(get_app)]) -> None:
    request.app.state.public_limiter.check(client_key(request))


def _page(
    app: Fiberdesk,
    *,
    address: str = "",
    q: Qualification | None = None,
    error: str | None = None,
    joined: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    token = None
    if q is not None and q.premises is not None:
        token = sign(app.settings.secret_key, f"waitlist:{q.premises.premises_id}")
    return render(
        "public/availability.html",
        status_code=status_code,
        address=address,
        q=q,
        error=error,
        joined=joined,
        token=token,
        settings=app.settings,
        company=app.settings.company_name,
        public_text=PUBLIC_TEXT,
    )


@router.get("/availability", response_class=HTMLResponse, dependencies=[Depends(_limit)])
def availability(
    app: Annotated[Fiberdesk, Depends(get_app)],
    address: str | None = Query(None, max_length=20_000),
    premises: int | None = Query(None, ge=1),
) -> HTMLResponse:
    if address is None and premises is None:
        return _page(app)
    try:
        with app.uow(write=False) as uow:
            if premises is not None:
                q = qualify_premises(uow, actor=PUBLIC_ACTOR, premises_id=premises, rules=app.rules)
            else:
                q = qualify_address(uow, actor=PUBLIC_ACTOR, address=address or "", rules=app.rules)
    except FiberdeskError as exc:
        return _page(app, address=address or "", error=exc.reason, status_code=422)
    return _page(app, address=address or (q.premises.label if q.premises else ""), q=q)


@router.post("/availability/waitlist", response_class=HTMLResponse, dependencies=[Depends(_limit)])
def join_waitlist(
    app: Annotated[Fiberdesk, Depends(get_app)],
    premises_id: Annotated[int, Form(ge=1)],
    token: Annotated[str, Form(max_length=200)],
    name: Annotated[str, Form(max_length=120)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    phone: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    if not verify(app.settings.secret_key, f"waitlist:{premises_id}", token, max_age_s=3600):
        return _page(
            app, error="This form has expired; please check the address again.", status_code=400
        )
    try:
        with app.uow() as uow:
            waitlist.join_waitlist(
                uow,
                actor=PUBLIC_ACTOR,
                premises_id=premises_id,
                name=name,
                email=email or None,
                phone=phone or None,
                rules=app.rules,
            )
        with app.uow(write=False) as uow:
            q = qualify_premises(uow, actor=PUBLIC_ACTOR, premises_id=premises_id, rules=app.rules)
    except FiberdeskError as exc:
        with app.uow(write=False) as uow:
            q = qualify_premises(uow, actor=PUBLIC_ACTOR, premises_id=premises_id, rules=app.rules)
        return _page(
            app,
            q=q,
            address=q.premises.label if q.premises else "",
            error=exc.reason,
            status_code=422,
        )
    return _page(app, q=q, address=q.premises.label if q.premises else "", joined=name.strip())
