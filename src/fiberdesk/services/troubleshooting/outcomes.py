"""What each outcome of a flow does to the ticket (and the orders).

RESOLVED      the ticket is resolved with the outcome's code and text; first-contact
              resolution follows the ticket's own rule
ESCALATE_NOC  the ticket goes to ESCALATED, team NOC (linked to an open outage)
TECH_VISIT    a REPAIR order; after the commit it is booked in the earliest free window
              (``book_visit``); without one it stays OPEN for dispatch and says so
OTDR_TEST     a REPAIR order marked {"otdr": true} for the NOC, and the ticket escalated
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fiberdesk.db.models import ServiceOrder, Ticket, TroubleshootingSession
from fiberdesk.db.unit_of_work import UowFactory
from fiberdesk.domain.errors import FiberdeskError
from fiberdesk.domain.orders import OrderStatus, OrderType
from fiberdesk.domain.tickets import TICKET_TRANSITIONS, Team, TicketStatus
from fiberdesk.domain.troubleshooting import Outcome, OutcomeKind
from fiberdesk.domain.users import Actor
from fiberdesk.services import audit, scheduling
from fiberdesk.services.diagnostics import outages_on_path, path_of
from fiberdesk.services.orders import get_customer, record_step
from fiberdesk.services.tickets import get_ticket, log, resolve, ticket_number

TICKET_EXCLUDE = frozenset({"transcript"})


def _escalate(session: Session, ticket: Ticket, *, actor: Actor, why: str, now: datetime) -> None:
    if ticket.status is not TicketStatus.ESCALATED:
        TICKET_TRANSITIONS.check(ticket.status, TicketStatus.ESCALATED)
        log(
            ticket,
            actor=actor,
            kind="status",
            at=now,
            text=f"{ticket.status.label} → {TicketStatus.ESCALATED.label}: {why}",
        )
        ticket.status = TicketStatus.ESCALATED
    ticket.escalated = True
    if ticket.team is not Team.NOC:
        log(
            ticket,
            actor=actor,
            kind="assign",
            at=now,
            text=f"team {ticket.team.label} → {Team.NOC.label}",
        )
        ticket.team = Team.NOC
    if ticket.outage_id is None:
        customer = get_customer(session, ticket.customer_id)
        outages = outages_on_path(session, path_of(session, customer.nap_id))
        if outages:
            ticket.outage_id = outages[0].id
            log(
                ticket,
                actor=actor,
                kind="outage",
                at=now,
                text=f"linked to outage #{outages[0].id} ({outages[0].scope_label})",
            )


def _repair_order(
    session: Session,
    ticket: Ticket,
    *,
    actor: Actor,
    outcome: Outcome,
    text: str,
    session_id: int,
    now: datetime,
    otdr: bool,
) -> ServiceOrder:
    customer = get_customer(session, ticket.customer_id)
    details: dict[str, Any] = {
        "ticket_id": ticket.id,
        "troubleshooting_session": session_id,
        "reason": outcome.code,
        "symptom": text,
    }
    if otdr:
        details |= {"otdr": True, "assigned_team": Team.NOC.value}
    order = ServiceOrder(
        customer_id=customer.id,
        type=OrderType.REPAIR,
        status=OrderStatus.OPEN,
        plan_id=customer.plan_id,
        created_at=now,
        details=details,
        steps=[],
    )
    what = "OTDR test of the fiber" if otdr else "repair visit"
    record_step(
        order,
        step="requested",
        outcome="done",
        actor=actor,
        at=now,
        detail=f"{what} from {ticket_number(ticket.id)}: {outcome.code}",
    )
    session.add(order)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="order.create",
        entity_type="service_order",
        entity_id=order.id,
        after=audit.snapshot(order),
    )
    log(
        ticket,
        actor=actor,
        kind="order",
        at=now,
        text=f"REPAIR order #{order.id} opened ({what})",
        order_id=order.id,
    )
    return order


def apply_outcome(
    session: Session,
    ticket: Ticket,
    *,
    actor: Actor,
    outcome: Outcome,
    text: str,
    session_id: int,
    now: datetime,
) -> dict[str, Any]:
    """Carry out an outcome inside the caller's transaction; returns what was done."""
    before = audit.snapshot(ticket, exclude=TICKET_EXCLUDE)
    result: dict[str, Any] = {
        "node": outcome.id,
        "kind": outcome.outcome.value,
        "label": outcome.outcome.label,
        "code": outcome.code,
        "text": text,
    }
    if outcome.outcome is OutcomeKind.RESOLVED:
        resolve(session, ticket, actor=actor, code=outcome.code, text=text, now=now)
        result["first_contact_resolution"] = ticket.first_contact_resolution
    elif outcome.outcome is OutcomeKind.ESCALATE_NOC:
        _escalate(session, ticket, actor=actor, why=f"{outcome.code}: {text}", now=now)
        result["team"] = Team.NOC.value
    else:
        otdr = outcome.outcome is OutcomeKind.OTDR_TEST
        order = _repair_order(
            session,
            ticket,
            actor=actor,
            outcome=outcome,
            text=text,
            session_id=session_id,
            now=now,
            otdr=otdr,
        )
        result["order_id"] = order.id
        if otdr:
            _escalate(session, ticket, actor=actor, why=f"OTDR test ordered: {text}", now=now)
            result["team"] = Team.NOC.value
        else:
            result |= {"booked": False, "booking": None, "booking_pending": True}
    audit.record(
        session,
        actor=actor,
        action="ticket.update",
        entity_type="ticket",
        entity_id=ticket.id,
        before=before,
        after=audit.snapshot(ticket, exclude=TICKET_EXCLUDE),
    )
    return result


@dataclass(frozen=True, slots=True)
class VisitResult:
    booked: bool
    booking: dict[str, Any] | None
    note: str


def book_visit(
    uows: UowFactory,
    *,
    actor: Actor,
    order_id: int,
    settings: scheduling.SchedulingSettings | None,
    attempts: int = 5,
) -> VisitResult:
    """Book the REPAIR order in the earliest free window (after its transaction committed).
    A window taken meanwhile is skipped for the next; nothing free leaves it OPEN."""
    if settings is None:
        return VisitResult(False, None, "no scheduling settings: the order waits for dispatch")
    try:
        slots = scheduling.find_windows(
            uows, actor=actor, order_id=order_id, settings=settings, limit=attempts
        )
    except FiberdeskError as exc:
        return VisitResult(False, None, f"not booked ({exc.reason}): the order waits for dispatch")
    last = "no technician has a free window in the scheduling horizon"
    for slot in slots:
        try:
            b = scheduling.book(
                uows,
                actor=actor,
                order_id=order_id,
                day=slot.day,
                window=slot.window,
                settings=settings,
            )
        except FiberdeskError as exc:
            last = exc.reason
            continue
        booking = {
            "appointment_id": b.appointment_id,
            "day": b.day.isoformat(),
            "window": b.window,
            "label": b.label,
            "technician": b.technician_name,
        }
        return VisitResult(True, booking, f"visit booked {b.day:%Y-%m-%d} {b.window} ({b.label})")
    return VisitResult(False, None, f"not booked: {last}; the REPAIR order stays OPEN")


def record_visit(
    uows: UowFactory, *, actor: Actor, session_id: int, order_id: int, visit: VisitResult
) -> None:
    """Write the booking's result on the session and the ticket (one short transaction)."""
    with uows() as uow:
        ts = uow.session.get(TroubleshootingSession, session_id, with_for_update=True)
        assert ts is not None
        outcome = dict(ts.answers.get("outcome") or {})
        outcome |= {
            "booked": visit.booked,
            "booking": visit.booking,
            "booking_pending": False,
            "note": visit.note,
        }
        ts.answers = {**ts.answers, "outcome": outcome}
        ticket = get_ticket(uow.session, ts.ticket_id, for_update=True)
        before = audit.snapshot(ticket, exclude=TICKET_EXCLUDE)
        if visit.booked:
            ticket.visit_booked = True
        log(
            ticket,
            actor=actor,
            kind="visit_booked" if visit.booked else "visit_pending",
            text=f"REPAIR order #{order_id}: {visit.note}",
            order_id=order_id,
        )
        audit.record(
            uow.session,
            actor=actor,
            action="ticket.update",
            entity_type="ticket",
            entity_id=ticket.id,
            before=before,
            after=audit.snapshot(ticket, exclude=TICKET_EXCLUDE),
        )
        uow.commit()
