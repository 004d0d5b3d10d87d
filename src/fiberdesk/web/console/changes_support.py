"""What the service-change pages share: the area guard, the customer card on top of
every form, the permission checks beyond the area, and reading a date field."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import Conflict, FiberdeskError, Forbidden, InvalidInput, Refused
from fiberdesk.domain.users import Permission
from fiberdesk.services import change_views
from fiberdesk.services.sessions import SignedIn
from fiberdesk.web.console.auth import ChangesUser, text
from fiberdesk.web.console.pages import form_errors, page
from fiberdesk.web.deps import get_app

App = Annotated[Fiberdesk, Depends(get_app)]
User = ChangesUser
#: errors shown on the form; Forbidden and NotFound become the 403 and 404 pages
FORM_ERRORS = (InvalidInput, Conflict, Refused)


def parse_date(form: FormData, name: str, label: str, *, default: date | None = None) -> date:
    raw = text(form, name)
    if not raw:
        if default is not None:
            return default
        raise InvalidInput(f"enter the {label}", field=name)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"the {label} is not a date (YYYY-MM-DD)", field=name) from None


def may_change(user: SignedIn) -> None:
    """Tier changes, moves, resumes and disconnections change the customer's service."""
    user.actor.require(Permission.CUSTOMERS_WRITE)


def may_suspend(user: SignedIn) -> None:
    """A vacation hold is a service change; a non-payment suspension is billing's."""
    actor = user.actor
    if not (actor.can(Permission.CUSTOMERS_WRITE) or actor.can(Permission.BILLING_WRITE)):
        raise Forbidden(f"the {actor.role.label.lower()} role may not suspend service")


def load_card(app: Fiberdesk, user: SignedIn, customer_id: int) -> change_views.CustomerCard:
    with app.uow(write=False) as uow:
        return change_views.customer_card(uow, actor=user.actor, customer_id=customer_id)


def show(
    request: Request,
    user: SignedIn,
    template: str,
    card: change_views.CustomerCard,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return page(
        request,
        user,
        f"console/changes/{template}",
        area="changes",
        status_code=status_code,
        card=card,
        can_change=user.actor.can(Permission.CUSTOMERS_WRITE),
        can_bill=user.actor.can(Permission.BILLING_WRITE),
        **context,
    )


def show_refused(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    customer_id: int,
    template: str,
    form: FormData,
    exc: FiberdeskError,
    **context: Any,
) -> HTMLResponse:
    """The form again (422) with what was typed and the service's reason beside its field."""
    card = load_card(app, user, customer_id)
    return show(
        request,
        user,
        template,
        card,
        status_code=422,
        values=dict(form),
        errors=form_errors(exc),
        **context,
    )


def stale_confirmation(exc: FiberdeskError, what: str) -> dict[str, str]:
    """The error beside the confirm button when what was confirmed is no longer what would
    be done: ``what`` (the figures, the final bill) is shown again, fresh."""
    return {
        "confirm": exc.reason + f". Nothing was changed; check the {what} below and confirm again."
    }
