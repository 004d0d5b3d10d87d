"""Console pages: the troubleshooting wizard.

    GET  /console/troubleshoot/start?customer_id=&flow=&ticket_id=   choose the flow
    POST /console/troubleshoot/start                   open the ticket if needed, start
    GET  /console/troubleshoot/{run_id}                the session, one question at a time
    POST /console/troubleshoot/{run_id}/answer         the customer's answer
    POST /console/troubleshoot/{run_id}/pause | resume
    POST /console/troubleshoot/{run_id}/visit          book or move the technician visit

A run is a troubleshooting session on a ticket. The same services as the REST API
(``web/api/troubleshooting.py``): ``services.troubleshooting`` for the session,
``services.diagnostics`` for the live line, ``services.scheduling`` for the visit.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.domain.errors import (
    Conflict,
    FiberdeskError,
    Forbidden,
    InvalidInput,
    NotFound,
)
from fiberdesk.domain.tickets import TicketCategory, TicketPriority
from fiberdesk.domain.troubleshooting import OutcomeKind, render
from fiberdesk.domain.users import Permission
from fiberdesk.services import customers, diagnostics, flows, scheduling, tickets, troubleshooting
from fiberdesk.services.pagination import PageRequest
from fiberdesk.services.sessions import SignedIn
from fiberdesk.services.troubleshooting.outcomes import VisitResult, record_visit
from fiberdesk.web.console.auth import CheckedForm, TroubleshootUser
from fiberdesk.web.console.forms import attempt, enum_options, form_values, whole_number
from fiberdesk.web.console.pages import form_errors, page, redirect
from fiberdesk.web.console.tickets import ROUTINE_STEPS, history_entry, sla_timer
from fiberdesk.web.deps import get_app
from fiberdesk.web.signup_steps import parse_slot

router = APIRouter(tags=["console"], include_in_schema=False)
App = Annotated[Fiberdesk, Depends(get_app)]
User = TroubleshootUser

#: how a check's value reads: good (green), warn (amber); anything else is bad (red)
GOOD = {
    "account_standing": {"good"},
    "account_suspended": {"no"},
    "maintenance_active": {"no"},
    "area_outage": {"no"},
    "ont_registered": {"yes"},
    "ont_online": {"yes"},
    "ont_los": {"no"},
    "dying_gasp": {"no"},
    "signal_class": {"excellent", "good"},
    "ping": {"ok"},
    "recent_alarms": {"none"},
    "alarm_kind": {"none"},
    "pon_congestion": {"no"},
    "plan_on_account": {"known"},
}
WARN = {
    "signal_class": {"acceptable"},
    "ping": {"loss"},
    "recent_alarms": {"some"},
    "pon_congestion": {"unknown"},
}
STATUS_TEXT = {"ACTIVE": "In progress", "PAUSED": "Paused", "COMPLETED": "Finished"}
STATUS_COLOUR = {"ACTIVE": "blue", "PAUSED": "slate", "COMPLETED": "green"}
WINDOW_OFFERS = 12
#: the engine's note of which check node answered, for people editing flows, not CSRs
_CHECK_NOTE = re.compile(r"\s*\(check [a-z0-9_]+\)$")


def tone(check: str, value: str) -> str:
    if value in GOOD.get(check, set()):
        return "good"
    if value in WARN.get(check, set()):
        return "warn"
    return "bad"


def _line(app: Fiberdesk, user: SignedIn, customer_id: int) -> tuple[Any, str | None]:
    """The live line (diagnostics without a ping) or why it cannot be read."""
    try:
        return (
            diagnostics.run_diagnostics(
                app.uow, actor=user.actor, customer_id=customer_id, network=app.network, ping=False
            ),
            None,
        )
    except Forbidden:
        raise
    except FiberdeskError as exc:
        return None, exc.reason


# --- choosing the flow ------------------------------------------------------------------


def _start_page(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    actor = user.actor
    customer = line = why_not = None
    open_tickets: list[Any] = []
    try:
        customer_id = whole_number(values.get("customer_id"), "customer_id", "The customer number")
    except InvalidInput as exc:
        customer_id, errors = None, {"customer_id": exc.reason, **errors}
        status_code = 422
    with app.uow(write=False) as uow:
        available = flows.list_flows(uow, actor=actor)
        if customer_id is not None:
            try:
                customer = customers.get_customer(uow, actor=actor, customer_id=customer_id)
            except NotFound as exc:
                errors = {"customer_id": exc.reason, **errors}
                status_code = 422
            else:
                open_tickets = tickets.ticket_queue(
                    uow, actor=actor, page=PageRequest(1, 20), open_only=True,
                    customer_id=customer_id,
                ).items  # fmt: skip
    if customer is not None:
        line, why_not = _line(app, user, customer.id)
    if not values.get("flow"):
        wanted = next(
            (t.category.value for t in open_tickets if str(t.id) == values.get("ticket_id")), None
        )
        match = next((f.code for f in available if wanted and f.category == wanted), None)
        values = {**values, "flow": match or (available[0].code if available else "")}
    now = utcnow()
    return page(
        request,
        user,
        "console/troubleshoot/start.html",
        area="troubleshoot",
        status_code=status_code,
        customer=customer,
        flows=available,
        open_tickets=[(t, sla_timer(t, now)) for t in open_tickets],
        line=line,
        why_not=why_not,
        values=values,
        errors=errors,
        priority_options=enum_options(TicketPriority),
    )


@router.get("/console/troubleshoot", response_class=HTMLResponse)
@router.get("/console/troubleshoot/start", response_class=HTMLResponse)
def start_page(
    request: Request,
    app: App,
    user: User,
    customer_id: Annotated[str | None, Query(max_length=12)] = None,
    flow: Annotated[str | None, Query(max_length=40)] = None,
    ticket_id: Annotated[str | None, Query(max_length=12)] = None,
) -> HTMLResponse:
    values = {
        "customer_id": customer_id or "",
        "flow": flow or "",
        "ticket_id": ticket_id or "",
        "priority": TicketPriority.NORMAL.value,
    }
    return _start_page(request, app, user, values, {})


@router.post("/console/troubleshoot/start", response_class=HTMLResponse)
def start(request: Request, app: App, user: User, form: CheckedForm) -> Response:
    actor = user.actor
    values = form_values(form)
    try:
        customer_id = whole_number(values.get("customer_id"), "customer_id", "The customer number")
        if customer_id is None:
            raise InvalidInput("find the customer first", field="customer_id")
        with app.uow(write=False) as uow:
            known = {f.code: f for f in flows.list_flows(uow, actor=actor)}
        chosen = known.get(values.get("flow", ""))
        if chosen is None:
            raise InvalidInput("choose what the customer is calling about", field="flow")
        ticket_id = whole_number(values.get("ticket_id"), "ticket_id", "The ticket number")
        if ticket_id is None:
            description = values.get("description", "")
            if not description:
                raise InvalidInput(
                    "say in a few words what the customer reports", field="description"
                )
            # no installed ONT, nothing to diagnose: say so before a ticket is opened
            diagnostics.run_diagnostics(
                app.uow, actor=actor, customer_id=customer_id, network=app.network, ping=False
            )
            try:
                priority = TicketPriority(values.get("priority") or TicketPriority.NORMAL.value)
            except ValueError:
                raise InvalidInput("choose a priority from the list", field="priority") from None
            category = (
                TicketCategory(chosen.category)
                if chosen.category in {c.value for c in TicketCategory}
                else TicketCategory.OTHER
            )
            with app.uow() as uow:
                ticket_id = tickets.open_ticket(
                    uow,
                    actor=actor,
                    customer_id=customer_id,
                    category=category,
                    description=description,
                    priority=priority,
                    settings=app.ticket_settings,
                ).id
        else:
            with app.uow(write=False) as uow:
                ticket = tickets.get_ticket_view(uow, actor=actor, ticket_id=ticket_id)
            if ticket.customer_id != customer_id:
                raise InvalidInput(
                    f"ticket {ticket.number} belongs to another customer", field="ticket_id"
                )
        try:
            run = troubleshooting.start_session(
                app.uow,
                actor=actor,
                network=app.network,
                ticket_id=ticket_id,
                flow_code=chosen.code,
                scheduling=app.scheduling,
            )
        except Conflict as exc:
            live = exc.extra.get("session_id")
            if isinstance(live, int):  # one is already running on the ticket: go on with it
                return redirect(f"/console/troubleshoot/{live}")
            raise
    except Forbidden:
        raise
    except FiberdeskError as exc:
        errors = form_errors(exc)
        if "ticket" in errors:
            errors["ticket_id"] = errors.pop("ticket")
        return _start_page(request, app, user, values, errors, status_code=422)
    return redirect(f"/console/troubleshoot/{run.id}")


# --- a run ------------------------------------------------------------------------------


def _path(transcript: list[dict[str, Any]], run_id: int) -> list[dict[str, Any]]:
    out = []
    for e in transcript:
        data = e.get("data") or {}
        if e.get("kind") in ROUTINE_STEPS:
            continue
        if data.get("session") != run_id and not (
            data.get("order_id") and e.get("kind") in ("visit_booked", "visit_pending", "order")
        ):
            continue
        out.append(history_entry(e))
    return out


def _windows(
    app: Fiberdesk, user: SignedIn, outcome: dict[str, Any] | None
) -> tuple[list[scheduling.Slot], str | None]:
    """Windows to book or move the visit to, or why there are none to offer."""
    if not outcome or outcome.get("kind") != OutcomeKind.TECH_VISIT.value:
        return [], None
    if not user.actor.can(Permission.DISPATCH):
        return [], "Dispatch books this visit."
    try:
        slots = scheduling.find_windows(
            app.uow,
            actor=user.actor,
            order_id=int(outcome["order_id"]),
            settings=app.scheduling,
            limit=WINDOW_OFFERS + 1,
        )
    except Forbidden:
        raise
    except FiberdeskError as exc:
        return [], exc.reason
    booking = outcome.get("booking") or {}
    current = (booking.get("day"), booking.get("window"))
    slots = [s for s in slots if (s.day.isoformat(), s.window) != current][:WINDOW_OFFERS]
    return slots, None if slots else "No other window is free in the scheduling horizon."


def _run_page(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    run_id: int,
    *,
    form_name: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    actor = user.actor
    with app.uow(write=False) as uow:
        run = troubleshooting.get_session(uow, actor=actor, session_id=run_id)
        ticket = tickets.get_ticket_view(uow, actor=actor, ticket_id=run.ticket_id)
        customer = customers.get_customer(uow, actor=actor, customer_id=run.customer_id)
        flow = flows.get_flow(uow, actor=actor, code=run.flow_code, version=run.flow_version)
    line, why_not = _line(app, user, run.customer_id)
    slots, no_slots = _windows(app, user, run.outcome)
    outage_id = ticket.outage_id or (line.outages[0]["id"] if line and line.outages else None)
    outcome_colour = OutcomeKind(run.outcome["kind"]).colour if run.outcome else "grey"
    facts: dict[str, str] = {}
    for c in run.checks:
        facts.update(c.get("facts") or {})
    labels = {
        (node["id"], o["id"]): render(o["label"], facts)
        for node in flow.definition.get("nodes", [])
        for o in node.get("options", [])
    }
    skipped = [
        {
            **s,
            "label": labels.get((s["node"], s["option"]), s["option"]),
            "reason": _CHECK_NOTE.sub("", s["reason"]),
        }
        for s in run.skipped
    ]
    booking = (run.outcome or {}).get("booking") or {}
    booking_day = f"{date.fromisoformat(booking['day']):%a %b %d, %Y}" if booking.get("day") else ""
    return page(
        request,
        user,
        "console/troubleshoot/run.html",
        area="troubleshoot",
        status_code=422 if errors else 200,
        run=run,
        skipped=skipped,
        booking_day=booking_day,
        ticket=ticket,
        timer=sla_timer(ticket, utcnow()),
        customer=customer,
        line=line,
        why_not=why_not,
        slots=slots,
        no_slots=no_slots,
        outage_id=outage_id,
        outcome_colour=outcome_colour,
        steps=_path(ticket.transcript, run.id),
        tone=tone,
        status_text=STATUS_TEXT.get(run.status, run.status),
        status_colour=STATUS_COLOUR.get(run.status, "grey"),
        form_name=form_name,
        values=values or {},
        errors=errors or {},
        may_write=actor.can(Permission.TICKETS_WRITE),
    )


@router.get("/console/troubleshoot/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: int, app: App, user: User) -> HTMLResponse:
    return _run_page(request, app, user, run_id)


def _act(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    run_id: int,
    form: FormData,
    form_name: str,
    action: Any,
    anchor: str = "",
) -> Response:
    values, exc = attempt(form, action)
    if exc is not None:
        return _run_page(
            request, app, user, run_id, form_name=form_name, values=values, errors=form_errors(exc)
        )
    return redirect(f"/console/troubleshoot/{run_id}{anchor}")


@router.post("/console/troubleshoot/{run_id}/answer", response_class=HTMLResponse)
def answer(request: Request, run_id: int, app: App, user: User, form: CheckedForm) -> Response:
    def act(values: dict[str, str]) -> None:
        if not values.get("option"):
            raise InvalidInput("choose the customer's answer", field="option")
        troubleshooting.answer(
            app.uow,
            actor=user.actor,
            network=app.network,
            session_id=run_id,
            node_id=values.get("node", ""),
            option=values["option"],
            scheduling=app.scheduling,
        )

    return _act(request, app, user, run_id, form, "answer", act)


@router.post("/console/troubleshoot/{run_id}/pause", response_class=HTMLResponse)
def pause(request: Request, run_id: int, app: App, user: User, form: CheckedForm) -> Response:
    def act(values: dict[str, str]) -> None:
        troubleshooting.pause(app.uow, actor=user.actor, session_id=run_id)

    return _act(request, app, user, run_id, form, "pause", act)


@router.post("/console/troubleshoot/{run_id}/resume", response_class=HTMLResponse)
def resume(request: Request, run_id: int, app: App, user: User, form: CheckedForm) -> Response:
    def act(values: dict[str, str]) -> None:
        troubleshooting.resume(
            app.uow,
            actor=user.actor,
            network=app.network,
            session_id=run_id,
            scheduling=app.scheduling,
        )

    return _act(request, app, user, run_id, form, "resume", act)


@router.post("/console/troubleshoot/{run_id}/visit", response_class=HTMLResponse)
def visit(request: Request, run_id: int, app: App, user: User, form: CheckedForm) -> Response:
    """Book the repair visit in the window the customer chose, or move it there."""

    def act(values: dict[str, str]) -> None:
        if not values.get("slot"):
            raise InvalidInput("choose a window that suits the customer", field="slot")
        day, window = parse_slot(values["slot"], "choose one of the windows offered")
        with app.uow(write=False) as uow:
            run = troubleshooting.get_session(uow, actor=user.actor, session_id=run_id)
        outcome = run.outcome or {}
        if outcome.get("kind") != OutcomeKind.TECH_VISIT.value or not outcome.get("order_id"):
            raise InvalidInput("this session did not end in a technician visit", field="slot")
        order_id = int(outcome["order_id"])
        booking = outcome.get("booking") or {}
        try:
            if booking.get("appointment_id"):
                done = scheduling.reschedule(
                    app.uow,
                    actor=user.actor,
                    appointment_id=int(booking["appointment_id"]),
                    day=day,
                    window=window,
                    settings=app.scheduling,
                )
                note = f"visit moved to {done.day:%Y-%m-%d} {done.window} ({done.label})"
            else:
                done = scheduling.book(
                    app.uow,
                    actor=user.actor,
                    order_id=order_id,
                    day=day,
                    window=window,
                    settings=app.scheduling,
                )
                note = f"visit booked {done.day:%Y-%m-%d} {done.window} ({done.label})"
        except (Forbidden, NotFound):
            raise
        except FiberdeskError as exc:
            if exc.field in (None, "day", "window"):
                raise InvalidInput(exc.reason, field="slot") from None
            raise
        record_visit(
            app.uow,
            actor=user.actor,
            session_id=run_id,
            order_id=order_id,
            visit=VisitResult(
                True,
                {
                    "appointment_id": done.appointment_id,
                    "day": done.day.isoformat(),
                    "window": done.window,
                    "label": done.label,
                    "technician": done.technician_name,
                },
                note,
            ),
        )

    return _act(request, app, user, run_id, form, "visit", act, anchor="#outcome")
