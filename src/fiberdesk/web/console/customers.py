"""Console pages: customers.

    GET  /console/customers                 the list: status and name filters, paging
    GET  /console/customers/{id}            the customer page: everything in one view
    POST /console/customers/{id}/notes      add a note (re-shows the page on a bad note)

The customer page reads ``services.customer_context`` (with the ONT's live status from the
network adapter); notes go through ``services.tickets.add_note`` as in the REST API.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.customers import NoteType, ServiceStatus
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.users import Role
from fiberdesk.services import customers, tickets
from fiberdesk.services.customer_context import CustomerContext, customer_context
from fiberdesk.services.pagination import PageRequest
from fiberdesk.services.sessions import SignedIn
from fiberdesk.web.console.auth import CheckedForm, CustomersUser, text
from fiberdesk.web.console.nav import may_open
from fiberdesk.web.console.pages import form_errors, page, redirect
from fiberdesk.web.deps import get_app

router = APIRouter(tags=["console"], include_in_schema=False)
App = Annotated[Fiberdesk, Depends(get_app)]
User = CustomersUser
PER_PAGE = 25
#: troubleshooting flows offered on the customer page (services/flows.py codes)
FLOWS = (("no_internet", "No internet"), ("slow_internet", "Slow internet"))
EQUIPMENT_LABELS = {
    "ONT": "ONT",
    "ROUTER": "Router",
    "MESH_NODE": "Mesh node",
    "POWER_SUPPLY": "Power supply",
}


@router.get("/console/customers", response_class=HTMLResponse)
def customer_list(
    request: Request,
    app: App,
    user: User,
    status: Annotated[str, Query(max_length=16)] = "",
    q: Annotated[str, Query(max_length=120)] = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    errors: dict[str, str] = {}
    chosen: ServiceStatus | None = None
    if status:
        try:
            chosen = ServiceStatus(status)
        except ValueError:
            errors["status"] = "Choose a status from the list."
    result = None
    if not errors:
        with app.uow(write=False) as uow:
            result = customers.list_customers(
                uow,
                actor=user.actor,
                page=PageRequest(page_no, PER_PAGE),
                status=chosen,
                name=q.strip() or None,
            )
    filters = {k: v for k, v in (("status", status), ("q", q.strip())) if v}
    return page(
        request,
        user,
        "console/customers/list.html",
        area="customers",
        status_code=422 if errors else 200,
        result=result,
        values={"status": status, "q": q},
        errors=errors,
        statuses=[(s.value, s.label + " · " + s.value.title()) for s in ServiceStatus],
        filters=urlencode(filters),
    )


def _actions(user: SignedIn, c: CustomerContext) -> list[dict[str, Any]]:
    """The links to other areas this user may open, for this customer's state."""
    role = user.actor.role
    out: list[dict[str, Any]] = []

    def add(area: str, label: str, url: str, style: str = "secondary") -> None:
        if may_open(role, area):
            out.append({"label": label, "url": url, "style": style})

    live = c.status is not ServiceStatus.DISCONNECTED
    add("tickets", "New ticket", f"/console/tickets/new?customer_id={c.id}", "")
    if live:
        for code, label in FLOWS:
            url = f"/console/troubleshoot/start?customer_id={c.id}&flow={code}"
            add("troubleshoot", f"Troubleshoot: {label.lower()}", url)
    if c.status in (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED):
        add("changes", "Change tier", f"/console/changes/{c.id}/tier")
        add("changes", "Relocate", f"/console/changes/{c.id}/relocate")
    if c.status is ServiceStatus.ACTIVE:
        add("changes", "Suspend", f"/console/changes/{c.id}/suspend")
    if c.status is ServiceStatus.SUSPENDED:
        add("changes", "Resume", f"/console/changes/{c.id}/resume")
    if live:
        add("changes", "Disconnect", f"/console/changes/{c.id}/disconnect", "danger")
    add("billing", "Billing account", f"/console/billing/accounts/{c.id}")
    return out


def _customer_page(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    customer_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    c = customer_context(app.uow, actor=user.actor, customer_id=customer_id, network=app.network)
    role = user.actor.role
    return page(
        request,
        user,
        "console/customers/detail.html",
        area="customers",
        status_code=status_code,
        c=c,
        actions=_actions(user, c),
        note_types=[(t.value, t.label) for t in NoteType],
        equipment_labels=EQUIPMENT_LABELS,
        errors=errors or {},
        values=values or {"type": NoteType.GENERAL.value},
        noted=request.query_params.get("noted") == "1",
        may_dispatch=may_open(role, "dispatch"),
        may_tickets=may_open(role, "tickets"),
        may_network=may_open(role, "network"),
        may_billing=may_open(role, "billing"),
        is_admin=role in (Role.ADMIN, Role.SUPERVISOR),
    )


@router.get("/console/customers/{customer_id}", response_class=HTMLResponse)
def customer_detail(request: Request, app: App, user: User, customer_id: int) -> HTMLResponse:
    return _customer_page(request, app, user, customer_id)


@router.post("/console/customers/{customer_id}/notes", response_model=None)
def add_note(
    request: Request, app: App, user: User, form: CheckedForm, customer_id: int
) -> Response:
    values = {"type": text(form, "type"), "content": text(form, "content")}
    try:
        try:
            kind = NoteType(values["type"])
        except ValueError:
            raise InvalidInput("choose what kind of note this is", field="type") from None
        with app.uow() as uow:
            tickets.add_note(
                uow,
                actor=user.actor,
                customer_id=customer_id,
                type=kind,
                content=values["content"],
            )
    except InvalidInput as exc:
        errors = {k: _sentence(v) for k, v in form_errors(exc).items()}
        return _customer_page(
            request, app, user, customer_id, errors=errors, values=values, status_code=422
        )
    return redirect(f"/console/customers/{customer_id}?noted=1#notes")


def _sentence(reason: str) -> str:
    return reason[:1].upper() + reason[1:] + ("" if reason.endswith(".") else ".")
