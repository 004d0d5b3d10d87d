"""Moving and disconnecting a customer (/console/changes/{customer_id}/relocate and
/disconnect): the new address is qualified and the final bill previewed before anything
changes; the disconnection is confirmed with the final bill's token."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.users import Permission
from fiberdesk.services import disconnect, qualification, relocation
from fiberdesk.services.sessions import SignedIn
from fiberdesk.web.console.auth import CheckedForm, text
from fiberdesk.web.console.changes_support import (
    FORM_ERRORS,
    App,
    User,
    load_card,
    may_change,
    parse_date,
    show,
    show_refused,
    stale_confirmation,
)
from fiberdesk.web.console.pages import form_errors, redirect

#: included in changes.router, which gives the /console/changes prefix
router = APIRouter()

CHURN_LABELS = {
    "moving_out_of_area": "Moving out of our area",
    "price": "Price",
    "service_quality": "Service quality",
    "competitor": "Going to a competitor",
    "non_payment": "Non-payment",
    "deceased": "Account holder deceased",
    "business_closed": "Business closed",
    "other": "Other",
}


# ----- relocation ------------------------------------------------------------------------


@router.get("/{customer_id}/relocate", response_class=HTMLResponse)
def relocate_form(customer_id: int, request: Request, user: User, app: App) -> HTMLResponse:
    may_change(user)
    card = load_card(app, user, customer_id)
    return show(request, user, "relocate.html", card, values=dict(request.query_params))


@router.post("/{customer_id}/relocate/check", response_class=HTMLResponse)
def relocate_check(
    customer_id: int, request: Request, user: User, form: CheckedForm, app: App
) -> HTMLResponse:
    """Qualify the new address and show what the move would be; nothing changes."""
    may_change(user)
    card = load_card(app, user, customer_id)
    values = dict(form)
    try:
        move_on = parse_date(form, "move_on", "move date")
        if move_on < utcnow().date():
            raise InvalidInput("the move date is in the past", field="move_on")
        address, premises = text(form, "address"), text(form, "premises_id")
        with app.uow(write=False) as uow:
            if premises.isdigit():
                q = qualification.qualify_premises(
                    uow, actor=user.actor, premises_id=int(premises), rules=app.rules
                )
            elif address:
                q = qualification.qualify_address(
                    uow, actor=user.actor, address=address, rules=app.rules
                )
            else:
                raise InvalidInput("enter the new address", field="address")
    except FORM_ERRORS as exc:
        return show(
            request,
            user,
            "relocate.html",
            card,
            status_code=422,
            values=values,
            errors=form_errors(exc),
        )
    if q.decision is None:
        candidates = q.match.candidates if q.match else []
        return show(
            request,
            user,
            "relocate.html",
            card,
            status_code=422,
            values=values,
            candidates=candidates,
            errors={"address": " ".join(q.messages) or "no address matched"},
        )
    plan = text(form, "plan") or (card.plan_code or "")
    tier = next((t for t in q.tiers if t.code == plan), None)
    return show(
        request,
        user,
        "relocate_preview.html",
        card,
        q=q,
        plan=plan,
        tier=tier,
        move_on=move_on,
        values=values,
    )


@router.post("/{customer_id}/relocate", response_model=None)
def relocate(
    customer_id: int, request: Request, user: User, form: CheckedForm, app: App
) -> Response:
    may_change(user)
    premises = text(form, "premises_id")
    try:
        if not premises.isdigit():
            raise InvalidInput("check the new address first", field="address")
        order = relocation.start_relocation(
            app.uow,
            actor=user.actor,
            customer_id=customer_id,
            new_premises_id=int(premises),
            rules=app.rules,
            plan_code=text(form, "plan") or None,
        )
    except FORM_ERRORS as exc:
        return show_refused(request, app, user, customer_id, "relocate.html", form, exc)
    query = urlencode({"action": "relocate", "order": order.id, "move_on": text(form, "move_on")})
    return redirect(f"/console/changes/{customer_id}/done?{query}")


# ----- disconnection -------------------------------------------------------------------


def _disconnect_form(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    customer_id: int,
    *,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    card = load_card(app, user, customer_id)
    return show(
        request,
        user,
        "disconnect.html",
        card,
        status_code=status_code,
        values=values,
        errors=errors or {},
        reasons=CHURN_LABELS,
        days_to_return=app.return_settings.days_to_return,
    )


@router.get("/{customer_id}/disconnect", response_class=HTMLResponse)
def disconnect_form(customer_id: int, request: Request, user: User, app: App) -> HTMLResponse:
    may_change(user)
    values = {"on": utcnow().date().isoformat(), **dict(request.query_params)}
    return _disconnect_form(request, app, user, customer_id, values=values)


def _final_bill(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    customer_id: int,
    form: FormData,
    *,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    values = dict(form)
    try:
        reason = text(form, "churn_reason")
        if reason not in CHURN_LABELS:
            raise InvalidInput("choose why the customer is leaving", field="churn_reason")
        bill = disconnect.preview_disconnect(
            app.uow,
            actor=user.actor,
            customer_id=customer_id,
            on=parse_date(form, "on", "disconnect date"),
            settings=app.return_settings,
            secret_key=app.settings.secret_key,
        )
    except FORM_ERRORS as exc:
        return _disconnect_form(
            request,
            app,
            user,
            customer_id,
            values=values,
            errors=form_errors(exc),
            status_code=422,
        )
    card = load_card(app, user, customer_id)
    return show(
        request,
        user,
        "final_bill.html",
        card,
        status_code=422 if errors else 200,
        bill=bill,
        reason=reason,
        reason_label=CHURN_LABELS[reason],
        errors=errors or {},
    )


@router.post("/{customer_id}/disconnect/preview", response_class=HTMLResponse)
def disconnect_preview(
    customer_id: int, request: Request, user: User, form: CheckedForm, app: App
) -> HTMLResponse:
    may_change(user)
    return _final_bill(request, app, user, customer_id, form)


@router.post("/{customer_id}/disconnect", response_model=None)
def disconnect_confirm(
    customer_id: int, request: Request, user: User, form: CheckedForm, app: App
) -> Response:
    may_change(user)
    try:
        disconnect.disconnect(
            app.uow,
            actor=user.actor,
            network=app.network,
            # a refund of a credit balance is billing's to give: without billing:write the
            # service would close the account and then refuse the refund
            gateway=app.gateway if user.actor.can(Permission.BILLING_WRITE) else None,
            customer_id=customer_id,
            on=parse_date(form, "on", "disconnect date"),
            churn_reason=text(form, "churn_reason"),
            confirm=text(form, "confirm"),
            settings=app.return_settings,
            secret_key=app.settings.secret_key,
        )
    except FORM_ERRORS as exc:
        if exc.field == "confirm":
            return _final_bill(
                request,
                app,
                user,
                customer_id,
                form,
                errors=stale_confirmation(exc, "final bill"),
            )
        return _disconnect_form(
            request,
            app,
            user,
            customer_id,
            values=dict(form),
            errors=form_errors(exc),
            status_code=422,
        )
    return redirect(f"/console/changes/{customer_id}/done?action=disconnect")
