"""Service changes for one customer (/console/changes/{customer_id}/...): tier changes,
relocation, suspension, resume and disconnection.

A costly change is shown before it is made: the tier form previews the proration and the
PON port check, the disconnection form previews the final bill; each preview carries the
service's token, and only the confirm button (which posts the token back) changes
anything. A stale or different token is refused with nothing changed and a fresh preview
shown. Every page calls the same services as the REST API (web/api/changes.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.services import change_views, changes, holds
from fiberdesk.services.sessions import SignedIn
from fiberdesk.web.console import changes_moves
from fiberdesk.web.console.auth import CheckedForm, text
from fiberdesk.web.console.changes_support import (
    FORM_ERRORS,
    App,
    User,
    load_card,
    may_change,
    may_suspend,
    parse_date,
    show,
    show_refused,
    stale_confirmation,
)
from fiberdesk.web.console.pages import form_errors, redirect

router = APIRouter(prefix="/console/changes", include_in_schema=False)


DONE = {
    "tier": "The tier change is done.",
    "downgrade": "The downgrade is booked for the start of the next billing cycle.",
    "hold": "Service is suspended.",
    "resume": "Service is back on.",
    "relocate": "The move is started: a port is held at the new address.",
    "disconnect": "The account is closed.",
}

# ----- tier --------------------------------------------------------------------------


def _tier_form(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    customer_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    card = load_card(app, user, customer_id)
    with app.uow(write=False) as uow:
        options = change_views.tier_options(
            uow, actor=user.actor, customer_id=customer_id, rules=app.rules
        )
    return show(
        request,
        user,
        "tier.html",
        card,
        status_code=status_code,
        options=options,
        values=values or {},
        errors=errors or {},
    )


@router.get("/{customer_id}/tier", response_class=HTMLResponse)
def tier_form(customer_id: int, request: Request, user: User, app: App) -> HTMLResponse:
    may_change(user)
    return _tier_form(request, app, user, customer_id, values=dict(request.query_params))


def _tier_preview(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    customer_id: int,
    plan: str,
    *,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    try:
        preview = changes.preview_change(
            app.uow,
            actor=user.actor,
            customer_id=customer_id,
            plan_code=plan,
            rules=app.rules,
            secret_key=app.settings.secret_key,
        )
    except FORM_ERRORS as exc:
        found = form_errors(exc)
        if "_" in found:  # a refusal of the whole change shows beside the tier choice
            found = {"plan": found.pop("_"), **found}
        return _tier_form(
            request,
            app,
            user,
            customer_id,
            values={"plan": plan},
            errors=found,
            status_code=422,
        )
    card = load_card(app, user, customer_id)
    with app.uow(write=False) as uow:
        options = {
            o.code: o
            for o in change_views.tier_options(
                uow, actor=user.actor, customer_id=customer_id, rules=app.rules
            )
        }
    new, old = options.get(preview.to_plan), options.get(preview.from_plan)
    after = None
    if card.pon is not None and new is not None and old is not None:
        after = card.pon.sold_peak_mbps - old.download_mbps + new.download_mbps
    return show(
        request,
        user,
        "tier_preview.html",
        card,
        status_code=422 if errors else 200,
        preview=preview,
        new=new,
        old=old,
        sold_after=after,
        ceiling=_ceiling(app, card),
        errors=errors or {},
    )


def _ceiling(app: Fiberdesk, card: change_views.CustomerCard) -> int | None:
    if card.pon is None:
        return None
    return int(card.pon.ceiling_mbps * app.rules.oversubscription_limit)


@router.post("/{customer_id}/tier/preview", response_class=HTMLResponse)
def tier_preview(
    customer_id: int, request: Request, user: User, form: CheckedForm, app: App
) -> HTMLResponse:
    may_change(user)
    plan = text(form, "plan")
    if not plan:
        return _tier_form(
            request,
            app,
            user,
            customer_id,
            errors={"plan": "choose the new tier"},
            status_code=422,
        )
    return _tier_preview(request, app, user, customer_id, plan)


@router.post("/{customer_id}/tier", response_model=None)
def tier_confirm(
    customer_id: int, request: Request, user: User, form: CheckedForm, app: App
) -> Response:
    may_change(user)
    plan = text(form, "plan")
    try:
        done = changes.change_tier(
            app.uow,
            actor=user.actor,
            network=app.network,
            customer_id=customer_id,
            plan_code=plan,
            confirm=text(form, "confirm"),
            rules=app.rules,
            secret_key=app.settings.secret_key,
        )
    except FORM_ERRORS as exc:
        if exc.field == "confirm":
            # what was confirmed is not what would be done now: show the fresh figures
            return _tier_preview(
                request,
                app,
                user,
                customer_id,
                plan,
                errors=stale_confirmation(exc, "figures"),
            )
        return _tier_form(
            request,
            app,
            user,
            customer_id,
            values={"plan": plan},
            errors=form_errors(exc),
            status_code=422,
        )
    action = "tier" if done.direction == "UPGRADE" else "downgrade"
    return redirect(f"/console/changes/{customer_id}/done?action={action}")


# ----- suspension and resume -----------------------------------------------------------


@router.get("/{customer_id}/suspend", response_class=HTMLResponse)
def suspend_form(customer_id: int, request: Request, user: User, app: App) -> HTMLResponse:
    may_suspend(user)
    card = load_card(app, user, customer_id)
    return show(request, user, "suspend.html", card, settings=app.hold_settings)


@router.post("/{customer_id}/suspend", response_model=None)
def suspend(
    customer_id: int, request: Request, user: User, form: CheckedForm, app: App
) -> Response:
    may_suspend(user)
    kind = text(form, "kind")
    try:
        if kind == "vacation":
            holds.vacation_hold(
                app.uow,
                actor=user.actor,
                network=app.network,
                customer_id=customer_id,
                ends_on=parse_date(form, "ends_on", "last day of the hold"),
                settings=app.hold_settings,
            )
        elif kind == "non_payment":
            holds.suspend_for_non_payment(
                app.uow,
                actor=user.actor,
                network=app.network,
                customer_id=customer_id,
                settings=app.hold_settings,
                note=text(form, "note")[:150],
            )
        else:
            raise InvalidInput("choose why service is suspended", field="kind")
    except FORM_ERRORS as exc:
        return show_refused(
            request, app, user, customer_id, "suspend.html", form, exc, settings=app.hold_settings
        )
    return redirect(f"/console/changes/{customer_id}/done?action=hold")


@router.get("/{customer_id}/resume", response_class=HTMLResponse)
def resume_form(customer_id: int, request: Request, user: User, app: App) -> HTMLResponse:
    may_change(user)
    card = load_card(app, user, customer_id)
    return show(request, user, "resume.html", card, values={"reason": "on request"})


@router.post("/{customer_id}/resume", response_model=None)
def resume(customer_id: int, request: Request, user: User, form: CheckedForm, app: App) -> Response:
    may_change(user)
    try:
        reason = text(form, "reason")
        if not reason:
            raise InvalidInput("say why service is resumed", field="reason")
        holds.resume(
            app.uow,
            actor=user.actor,
            network=app.network,
            customer_id=customer_id,
            settings=app.hold_settings,
            reason=reason[:200],
        )
    except FORM_ERRORS as exc:
        return show_refused(request, app, user, customer_id, "resume.html", form, exc)
    return redirect(f"/console/changes/{customer_id}/done?action=resume")


# ----- after a change ---------------------------------------------------------------------


@router.get("/{customer_id}/done", response_class=HTMLResponse)
def done(customer_id: int, request: Request, user: User, app: App) -> HTMLResponse:
    action = request.query_params.get("action", "")
    card = load_card(app, user, customer_id)
    closed = None
    if action == "disconnect":
        with app.uow(write=False) as uow:
            closed = change_views.closure(uow, actor=user.actor, customer_id=customer_id)
    return show(
        request,
        user,
        "done.html",
        card,
        action=action,
        message=DONE.get(action, "Done."),
        closed=closed,
        order=request.query_params.get("order", ""),
        move_on=request.query_params.get("move_on", ""),
        support_phone=app.settings.support_phone,
        days_to_return=app.return_settings.days_to_return,
    )


# relocation and disconnection live in their own module, under the same prefix
router.include_router(changes_moves.router)
