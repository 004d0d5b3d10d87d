"""Console pages: the tickets queue with SLA timers, one ticket, and opening a ticket.

    GET  /console/tickets                 the queue: filters, paging, most urgent first
    GET  /console/tickets/new             open a ticket (?customer_id=)
    POST /console/tickets/new
    GET  /console/tickets/{id}            customer, history, outage, SLA and the forms
    POST /console/tickets/{id}/update     status, a note, the customer got in touch again
    POST /console/tickets/{id}/assign     team and person
    POST /console/tickets/{id}/escalate   to another team with the reason
    POST /console/tickets/{id}/resolve    resolution code and what was done

The same services as the REST API (``web/api/tickets.py``): ``services.tickets``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.domain.errors import (
    FiberdeskError,
    Forbidden,
    InvalidInput,
    NotFound,
    TransitionRefused,
)
from fiberdesk.domain.tickets import (
    TICKET_TRANSITIONS,
    Team,
    TicketCategory,
    TicketPriority,
    TicketStatus,
)
from fiberdesk.domain.troubleshooting import OutcomeKind
from fiberdesk.domain.users import Permission, has_permission
from fiberdesk.services import auth, customers, flows, tickets
from fiberdesk.services.outages import lifecycle as outage_lifecycle
from fiberdesk.services.pagination import PageRequest
from fiberdesk.services.sessions import SignedIn
from fiberdesk.web.console.auth import CheckedForm, TicketsUser
from fiberdesk.web.console.forms import (
    attempt,
    enum_options,
    enum_value,
    form_values,
    whole_number,
)
from fiberdesk.web.console.pages import form_errors, page, redirect
from fiberdesk.web.deps import get_app

router = APIRouter(tags=["console"], include_in_schema=False)
App = Annotated[Fiberdesk, Depends(get_app)]
User = TicketsUser
PER_PAGE = 25
#: resolution codes for work done outside a flow (a flow's own outcomes add theirs)
GENERAL_CODES = {
    "FIXED_ON_CALL": "Fixed while on the call",
    "NO_FAULT_FOUND": "No fault found",
    "CUSTOMER_EQUIPMENT": "Customer's own equipment",
    "BILLING_EXPLAINED": "Billing question answered",
    "INFORMATION_GIVEN": "Information given",
    "DUPLICATE": "Duplicate of another ticket",
    "NO_RESPONSE": "Customer did not respond",
    "OUTAGE_RESTORED": "Outage repaired, service back",
    "VISIT_COMPLETED": "Technician visit fixed it",
}
#: troubleshooting's check readings and branches: on the session's page, not the history
ROUTINE_STEPS = frozenset({"check", "branch"})
STATUS_FILTERS = [
    ("open", "Open (any)"),
    ("all", "All"),
    *((s.value, s.label) for s in TicketStatus),
]


# --- SLA timers -------------------------------------------------------------------------


def _span(delta: timedelta) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins:02d} min"
    return f"{mins} min"


@dataclass(frozen=True, slots=True)
class SlaTimer:
    text: str
    colour: str
    #: for screen readers and the title attribute
    detail: str


SLA_COLOURS = {"on_track": "green", "due_soon": "amber", "breached": "red", "alert": "alert"}


def sla_timer(v: tickets.TicketView, now: datetime) -> SlaTimer:
    """Time left or overdue against the ticket's target (finished tickets: met or missed)."""
    colour = SLA_COLOURS.get(v.sla_state, "grey")
    if v.sla_due_at is None:
        return SlaTimer("no target", "grey", "this ticket has no SLA target")
    due = f"target {v.sla_due_at:%Y-%m-%d %H:%M} UTC"
    if v.resolved_at is not None or v.status not in tickets.OPEN_STATUSES:
        end = v.resolved_at or now
        if end <= v.sla_due_at:
            return SlaTimer("met", "green", f"resolved within the target ({due})")
        return SlaTimer(
            f"missed by {_span(end - v.sla_due_at)}", "grey", f"resolved after the target ({due})"
        )
    left = v.sla_due_at - now
    if left >= timedelta(0):
        return SlaTimer(f"{_span(left)} left", colour, due)
    alert = ""
    if v.sla_alert_at is not None and now > v.sla_alert_at:
        alert = f"; past the alert threshold {v.sla_alert_at:%Y-%m-%d %H:%M} UTC"
    return SlaTimer(f"overdue {_span(left)}", colour, due + alert)


def sla_targets(app: Fiberdesk) -> list[tuple[TicketPriority, int, int]]:
    hours = app.ticket_settings.sla_hours
    return [(p, *hours[p]) for p in TicketPriority]


# --- parsing ----------------------------------------------------------------------------


def ticket_workers(app: Fiberdesk) -> list[auth.UserView]:
    """Active users who may work tickets (the assign form and the assignee filter)."""
    with app.uow(write=False) as uow:
        users = auth.list_users(uow)
    return [u for u in users if u.active and has_permission(u.role, Permission.TICKETS_WRITE)]


def worker_options(app: Fiberdesk) -> list[tuple[str, str]]:
    """(username, "Full Name (username)") for each user who may work tickets."""
    return [(u.username, f"{u.full_name} ({u.username})") for u in ticket_workers(app)]


# --- the queue --------------------------------------------------------------------------


@router.get("/console/tickets", response_class=HTMLResponse)
def queue(
    request: Request,
    app: App,
    user: User,
    status: Annotated[str, Query(max_length=30)] = "open",
    priority: Annotated[str | None, Query(max_length=20)] = None,
    team: Annotated[str | None, Query(max_length=20)] = None,
    assignee: Annotated[str | None, Query(max_length=64)] = None,
    customer: Annotated[str | None, Query(max_length=100)] = None,
    customer_id: Annotated[str | None, Query(max_length=12)] = None,
    overdue: Annotated[str | None, Query(max_length=5)] = None,
    page_no: Annotated[str | None, Query(alias="page", max_length=6)] = None,
) -> HTMLResponse:
    actor = user.actor
    values = {k: v for k, v in request.query_params.items() if v}
    values.setdefault("status", "open")
    errors: dict[str, str] = {}
    now = utcnow()
    result = None
    try:
        status_value = None if status in ("open", "all", "") else status
        filters: dict[str, Any] = {
            "status": enum_value(TicketStatus, status_value, "status", "ticket status"),
            "open_only": status in ("open", ""),
            "priority": enum_value(TicketPriority, priority, "priority", "priority"),
            "team": enum_value(Team, team, "team", "team"),
            "assignee": assignee or None,
            "customer_id": whole_number(customer_id, "customer_id", "The customer number"),
            "customer": customer or None,
            "overdue": bool(overdue),
        }
        number = whole_number(page_no, "page", "The page") or 1
        with app.uow(write=False) as uow:
            result = tickets.ticket_queue(
                uow, actor=actor, page=PageRequest(number, PER_PAGE), now=now, **filters
            )
            counts = tickets.queue_counts(uow, actor=actor, now=now)
    except FiberdeskError as exc:
        errors = form_errors(exc)
        with app.uow(write=False) as uow:
            counts = tickets.queue_counts(uow, actor=actor, now=now)
    rows = [(v, sla_timer(v, now)) for v in (result.items if result else [])]
    kept = {k: v for k, v in values.items() if k != "page"}

    def page_url(n: int) -> str:
        return "/console/tickets?" + urlencode({**kept, "page": n})

    return page(
        request,
        user,
        "console/tickets/queue.html",
        area="tickets",
        status_code=422 if errors else 200,
        rows=rows,
        result=result,
        counts=counts,
        values=values,
        errors=errors,
        page_url=page_url,
        filtered=bool(set(kept) - {"status"}) or kept.get("status") != "open",
        status_options=STATUS_FILTERS,
        priority_options=enum_options(TicketPriority),
        team_options=enum_options(Team),
        assignee_options=[(tickets.UNASSIGNED, "Nobody yet"), *worker_options(app)],
        targets=sla_targets(app),
        me=actor.name,
    )


# --- opening a ticket -------------------------------------------------------------------


def _customer_or_none(app: Fiberdesk, user: SignedIn, customer_id: int | None) -> Any:
    if customer_id is None:
        return None
    with app.uow(write=False) as uow:
        return customers.get_customer(uow, actor=user.actor, customer_id=customer_id)


def _new_form(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    customer = None
    try:
        customer = _customer_or_none(
            app, user, whole_number(values.get("customer_id"), "customer_id", "The customer number")
        )
    except (InvalidInput, NotFound) as exc:
        errors = {"customer_id": exc.reason, **errors}
        status_code = 422 if status_code == 200 and values.get("customer_id") else status_code
    return page(
        request,
        user,
        "console/tickets/new.html",
        area="tickets",
        status_code=status_code,
        customer=customer,
        values=values,
        errors=errors,
        category_options=enum_options(TicketCategory),
        priority_options=enum_options(TicketPriority),
        team_options=enum_options(Team),
        targets=sla_targets(app),
    )


@router.get("/console/tickets/new", response_class=HTMLResponse)
def new_ticket(
    request: Request,
    app: App,
    user: User,
    customer_id: Annotated[str | None, Query(max_length=12)] = None,
    category: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    values = {
        "customer_id": customer_id or "",
        "category": (category or "").upper(),
        "priority": TicketPriority.NORMAL.value,
        "team": Team.CSR.value,
    }
    return _new_form(request, app, user, values, {})


@router.post("/console/tickets/new", response_class=HTMLResponse)
def create_ticket(request: Request, app: App, user: User, form: CheckedForm) -> Response:
    values = form_values(form)
    try:
        customer_id = whole_number(values.get("customer_id"), "customer_id", "The customer number")
        if customer_id is None:
            raise InvalidInput("find the customer first", field="customer_id")
        category = enum_value(TicketCategory, values.get("category"), "category", "category")
        if category is None:
            raise InvalidInput("choose what the problem is about", field="category")
        with app.uow() as uow:
            view = tickets.open_ticket(
                uow,
                actor=user.actor,
                customer_id=customer_id,
                category=category,
                description=values.get("description", ""),
                priority=enum_value(TicketPriority, values.get("priority"), "priority", "priority")
                or TicketPriority.NORMAL,
                team=enum_value(Team, values.get("team"), "team", "team") or Team.CSR,
                settings=app.ticket_settings,
            )
    except Forbidden:
        raise
    except FiberdeskError as exc:
        return _new_form(request, app, user, values, form_errors(exc), status_code=422)
    return redirect(f"/console/tickets/{view.id}")


# --- one ticket -------------------------------------------------------------------------


def resolution_codes(app: Fiberdesk, user: SignedIn) -> list[tuple[str, str]]:
    """The codes a ticket is resolved with: each flow's RESOLVED outcomes, then the
    general ones; (code, description)."""
    found: dict[str, str] = {}
    with app.uow(write=False) as uow:
        for flow in flows.list_flows(uow, actor=user.actor):
            for node in flow.definition.get("nodes", []):
                if (
                    node.get("kind") == "outcome"
                    and node.get("outcome") == OutcomeKind.RESOLVED.value
                    and node.get("code") not in found
                ):
                    found[node["code"]] = node.get("text", node["code"])
    for code, label in GENERAL_CODES.items():
        found.setdefault(code, label)
    return sorted(found.items())


def history_entry(e: dict[str, Any]) -> dict[str, Any]:
    """A transcript entry for a page: ``at`` as a datetime (None when unreadable) and
    ``data`` always a dict."""
    try:
        at: datetime | None = datetime.fromisoformat(e.get("at", ""))
    except ValueError:
        at = None
    return {**e, "at": at, "data": e.get("data") or {}}


def _history(transcript: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [history_entry(e) for e in transcript]


def _sessions_of(transcript: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The troubleshooting sessions run on this ticket, from its transcript."""
    seen: dict[int, dict[str, Any]] = {}
    for e in transcript:
        data = e.get("data") or {}
        sid = data.get("session")
        if e.get("kind") == "flow" and isinstance(sid, int):
            seen.setdefault(sid, {"id": sid, "started": e.get("text", ""), "last": ""})
            seen[sid]["last"] = e.get("text", "")
    return list(seen.values())


def _detail(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    ticket_id: int,
    *,
    form_name: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    every_step: bool = False,
) -> HTMLResponse:
    actor = user.actor
    now = utcnow()
    with app.uow(write=False) as uow:
        v = tickets.get_ticket_view(uow, actor=actor, ticket_id=ticket_id)
        customer = customers.get_customer(uow, actor=actor, customer_id=v.customer_id)
        others = tickets.ticket_queue(
            uow,
            actor=actor,
            page=PageRequest(1, 6),
            open_only=True,
            customer_id=v.customer_id,
            now=now,
        ).items
        outage = (
            outage_lifecycle.outage_detail(uow, actor=actor, outage_id=v.outage_id).outage
            if v.outage_id and actor.can(Permission.CUSTOMERS_READ)
            else None
        )
    is_open = v.status in tickets.OPEN_STATUSES
    moves = sorted(
        TICKET_TRANSITIONS.targets(v.status) - {TicketStatus.RESOLVED, TicketStatus.ESCALATED},
        key=lambda s: list(TicketStatus).index(s),
    )
    history = _history(v.transcript)
    if not every_step:
        history = [e for e in history if e["kind"] not in ROUTINE_STEPS]
    values = values or {}
    defaults = {
        "team": v.team.value,
        "assignee": v.assignee or "",
        "escalate_team": Team.NOC.value if v.team is not Team.NOC else Team.DISPATCH.value,
    }
    return page(
        request,
        user,
        "console/tickets/detail.html",
        area="tickets",
        status_code=422 if errors else 200,
        t=v,
        timer=sla_timer(v, now),
        customer=customer,
        others=[(o, sla_timer(o, now)) for o in others if o.id != v.id],
        outage=outage,
        history=history,
        hidden_steps=len(v.transcript) - len(history),
        runs=_sessions_of(v.transcript),
        is_open=is_open,
        may_write=actor.can(Permission.TICKETS_WRITE),
        form_name=form_name,
        values={**defaults, **values},
        errors=errors or {},
        status_moves=[(s.value, s.label) for s in moves],
        team_options=enum_options(Team),
        worker_options=worker_options(app),
        codes=resolution_codes(app, user) if is_open else [],
        targets=sla_targets(app),
    )


@router.get("/console/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(
    request: Request,
    ticket_id: int,
    app: App,
    user: User,
    steps: Annotated[str | None, Query(max_length=5)] = None,
) -> HTMLResponse:
    return _detail(request, app, user, ticket_id, every_step=steps == "all")


def _run(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    ticket_id: int,
    form: FormData,
    form_name: str,
    action: Any,
    rename: dict[str, str] | None = None,
    default_field: str | None = None,
) -> Response:
    """Carry out one form's action; on a refusal show the page again with the input and
    the error beside its field."""
    values, exc = attempt(form, action)
    if exc is not None:
        errors = form_errors(exc)
        if isinstance(exc, TransitionRefused) and default_field and "_" in errors:
            errors = {default_field: errors.pop("_")}
        for old, new in (rename or {}).items():
            if old in errors:
                errors[new] = errors.pop(old)
        return _detail(
            request, app, user, ticket_id, form_name=form_name, values=values, errors=errors
        )
    return redirect(f"/console/tickets/{ticket_id}#history")


@router.post("/console/tickets/{ticket_id}/update", response_class=HTMLResponse)
def update(request: Request, ticket_id: int, app: App, user: User, form: CheckedForm) -> Response:
    def act(values: dict[str, str]) -> None:
        status = enum_value(TicketStatus, values.get("status"), "status", "ticket status")
        note = values.get("note") or None
        contact = values.get("contact") == "yes"
        if status is None and not note and not contact:
            raise InvalidInput("write a note, or choose a new status", field="note")
        with app.uow() as uow:
            tickets.update_ticket(
                uow,
                actor=user.actor,
                ticket_id=ticket_id,
                status=status,
                note=note,
                customer_contact=contact,
                settings=app.ticket_settings,
            )

    return _run(request, app, user, ticket_id, form, "update", act, default_field="status")


@router.post("/console/tickets/{ticket_id}/assign", response_class=HTMLResponse)
def assign(request: Request, ticket_id: int, app: App, user: User, form: CheckedForm) -> Response:
    def act(values: dict[str, str]) -> None:
        team = enum_value(Team, values.get("team"), "team", "team")
        assignee = values.get("assignee") or None
        if team is None and assignee is None:
            raise InvalidInput("choose a team or a person", field="assignee")
        with app.uow() as uow:
            tickets.update_ticket(
                uow,
                actor=user.actor,
                ticket_id=ticket_id,
                team=team,
                assignee=assignee,
                settings=app.ticket_settings,
            )

    return _run(request, app, user, ticket_id, form, "assign", act)


@router.post("/console/tickets/{ticket_id}/escalate", response_class=HTMLResponse)
def escalate(request: Request, ticket_id: int, app: App, user: User, form: CheckedForm) -> Response:
    def act(values: dict[str, str]) -> None:
        team = enum_value(Team, values.get("escalate_team"), "escalate_team", "team")
        reason = values.get("reason", "")
        if team is None:
            raise InvalidInput("choose the team that takes it over", field="escalate_team")
        if not reason:
            raise InvalidInput("say why it is escalated and what was tried", field="reason")
        with app.uow() as uow:
            tickets.update_ticket(
                uow,
                actor=user.actor,
                ticket_id=ticket_id,
                status=TicketStatus.ESCALATED,
                team=team,
                note=f"Escalated to {team.label}: {reason}",
                settings=app.ticket_settings,
            )

    return _run(
        request,
        app,
        user,
        ticket_id,
        form,
        "escalate",
        act,
        rename={"note": "reason", "status": "reason", "team": "escalate_team"},
        default_field="reason",
    )


@router.post("/console/tickets/{ticket_id}/resolve", response_class=HTMLResponse)
def resolve(request: Request, ticket_id: int, app: App, user: User, form: CheckedForm) -> Response:
    def act(values: dict[str, str]) -> None:
        code = values.get("code", "").upper()
        if not code:
            raise InvalidInput("choose a resolution code", field="code")
        if code not in dict(resolution_codes(app, user)):
            raise InvalidInput(f"{code!r} is not one of the resolution codes", field="code")
        if not values.get("text"):
            raise InvalidInput("say what fixed it, in a sentence or two", field="text")
        with app.uow() as uow:
            tickets.resolve_ticket(
                uow,
                actor=user.actor,
                ticket_id=ticket_id,
                code=code,
                text=values["text"],
                settings=app.ticket_settings,
            )

    return _run(
        request,
        app,
        user,
        ticket_id,
        form,
        "resolve",
        act,
        rename={"resolution": "text", "status": "code"},
        default_field="code",
    )
