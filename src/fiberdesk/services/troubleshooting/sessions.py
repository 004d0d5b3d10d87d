"""Troubleshooting sessions: start, answer, pause, resume, get.

Each action reads, calls the network outside any transaction (the flow's checks are
taken when a session starts and re-read on every answer and on resume), then writes
once: the session, the ticket's transcript (every check, skip, advice, question, answer
and outcome) and the audit log. A visit an outcome asks for is booked after that commit.

Re-reading: fresh check values apply from the last answer onwards. The part of the path
the customer already answered is history and never changes; the automatic steps after
it follow the new values, so a resumed session may land on another question (the ONT
came back) or go straight to an outcome (an outage was declared meanwhile).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.adapters.network.base import NetworkAdapter
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import Ticket, TroubleshootingSession
from fiberdesk.db.unit_of_work import UnitOfWork, UowFactory
from fiberdesk.domain.errors import Conflict, NotFound, Refused
from fiberdesk.domain.tickets import TicketStatus
from fiberdesk.domain.troubleshooting import Position, check_answer, parse_flow
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit, flows
from fiberdesk.services.scheduling import SchedulingSettings
from fiberdesk.services.tickets import OPEN_STATUSES, get_ticket, log, ticket_number
from fiberdesk.services.troubleshooting.journal import (
    advance,
    log_readings,
    ticket_working,
)
from fiberdesk.services.troubleshooting.outcomes import book_visit, record_visit
from fiberdesk.services.troubleshooting.readings import take_readings
from fiberdesk.services.troubleshooting.state import (
    ACTIVE,
    COMPLETED,
    PAUSED,
    SessionView,
    load,
    position,
    view,
)

EXCLUDE = frozenset({"checks", "answers"})


def _live_session(session: Session, ticket_id: int) -> int | None:
    return session.scalar(
        sa.select(TroubleshootingSession.id).where(
            TroubleshootingSession.ticket_id == ticket_id,
            TroubleshootingSession.status.in_((ACTIVE, PAUSED)),
        )
    )


def _can_start(session: Session, ticket: Ticket) -> None:
    if ticket.status not in OPEN_STATUSES:
        raise Refused(
            f"ticket {ticket_number(ticket.id)} is {ticket.status.label.lower()}: "
            "reopen it before troubleshooting",
            field="ticket_id",
        )
    live = _live_session(session, ticket.id)
    if live is not None:
        raise Conflict(
            f"ticket {ticket_number(ticket.id)} already has troubleshooting session {live} "
            "in progress: answer, resume or finish it",
            extra={"session_id": live},
        )


def _finish(
    uows: UowFactory, *, actor: Actor, session_id: int, settings: SchedulingSettings | None
) -> SessionView:
    """Book a visit the outcome asked for (after the commit), then show the session."""
    with uows(write=False) as uow:
        ts, _row, _flow, _ticket = load(uow.session, session_id)
        outcome = ts.answers.get("outcome") or {}
    if outcome.get("booking_pending"):
        order_id = int(outcome["order_id"])
        visit = book_visit(uows, actor=actor, order_id=order_id, settings=settings)
        record_visit(uows, actor=actor, session_id=session_id, order_id=order_id, visit=visit)
    with uows(write=False) as uow:
        return view(*load(uow.session, session_id))


def start_session(
    uows: UowFactory,
    *,
    actor: Actor,
    network: NetworkAdapter,
    ticket_id: int,
    flow_code: str,
    scheduling: SchedulingSettings | None = None,
    now: datetime | None = None,
) -> SessionView:
    """Run the flow's checks for the ticket's customer and walk to the first question that
    still needs the customer (or to an outcome). One live session per ticket."""
    actor.require(Permission.TICKETS_WRITE)
    now = now or utcnow()
    with uows(write=False) as uow:
        ticket = get_ticket(uow.session, ticket_id)
        _can_start(uow.session, ticket)
        stored = flows.active_row(uow.session, flow_code)
        if stored is None and flow_code not in flows.BUNDLED:
            raise NotFound(f"no troubleshooting flow {flow_code!r}", field="flow")
        definition = stored.definition if stored else flows.bundled_definition(flow_code)
        names = parse_flow(definition).checks_used()
        customer_id = ticket.customer_id
    readings = take_readings(
        uows, actor=actor, network=network, customer_id=customer_id, names=names, now=now
    )
    with uows() as uow:
        session = uow.session
        flows.seed(session, actor=actor)
        ticket = get_ticket(session, ticket_id, for_update=True)
        _can_start(session, ticket)
        row, flow = flows.load_active(session, flow_code)
        missing = [n for n in flow.checks_used() if n not in readings]
        if missing:
            raise Conflict(f"flow {flow_code} changed while starting: run it again")
        ts = TroubleshootingSession(
            ticket_id=ticket.id,
            flow_id=row.id,
            status=ACTIVE,
            started_by=actor.name,
            started_at=now,
            updated_at=now,
            answers={"given": []},
            checks={"start": {n: r["value"] for n, r in readings.items()}, "results": readings},
        )
        session.add(ts)
        session.flush()
        ticket_working(ticket, actor=actor, now=now)
        log(
            ticket,
            actor=actor,
            kind="flow",
            at=now,
            session=ts.id,
            text=f"troubleshooting session {ts.id} started: {row.name} (version {row.version})",
        )
        log_readings(ticket, ts, flow.checks_used(), actor=actor, now=now)
        advance(session, ts, flow, ticket, None, actor=actor, now=now)
        audit.record(
            session,
            actor=actor,
            action="troubleshooting.start",
            entity_type="troubleshooting_session",
            entity_id=ts.id,
            after=audit.snapshot(ts),
        )
        session_id = ts.id
        uow.commit()
    return _finish(uows, actor=actor, session_id=session_id, settings=scheduling)


def _require(
    ts: TroubleshootingSession, ticket: Ticket, status: str, *, pausing: bool = False
) -> None:
    name = f"troubleshooting session {ts.id}"
    if ts.status != COMPLETED and ticket.status not in OPEN_STATUSES:
        raise Refused(
            f"ticket {ticket_number(ticket.id)} is {ticket.status.label.lower()}: reopen it "
            f"to go on with {name}"
        )
    if ts.status == status:
        return
    if ts.status == COMPLETED:
        raise Refused(f"{name} is finished ({ts.outcome})")
    if ts.status == PAUSED:
        raise Refused(
            f"{name} is already paused" if pausing else f"{name} is paused: resume it first"
        )
    raise Refused(f"{name} is in progress, not paused")


def _reread(
    ts: TroubleshootingSession, readings: dict[str, dict[str, Any]], pos: Position
) -> dict[str, str]:
    """Store the new readings; returns the values that differ from those in force."""
    ts.checks = {**ts.checks, "results": readings}
    return {n: r["value"] for n, r in readings.items() if pos.checks.get(n) != r["value"]}


def answer(
    uows: UowFactory,
    *,
    actor: Actor,
    network: NetworkAdapter,
    session_id: int,
    node_id: str,
    option: str,
    scheduling: SchedulingSettings | None = None,
    now: datetime | None = None,
) -> SessionView:
    """Answer the open question; the checks are re-read and the walk goes on to the next
    question or an outcome. Any other node, or an option it does not have, is refused
    with nothing changed."""
    actor.require(Permission.TICKETS_WRITE)
    now = now or utcnow()
    with uows(write=False) as uow:
        ts, _row, flow, ticket = load(uow.session, session_id)
        _require(ts, ticket, ACTIVE)
        check_answer(flow, position(flow, ts), node_id, option)
        given = len(ts.answers.get("given", []))
        customer_id = ticket.customer_id
    readings = take_readings(
        uows,
        actor=actor,
        network=network,
        customer_id=customer_id,
        names=flow.checks_used(),
        now=now,
    )
    with uows() as uow:
        session = uow.session
        ts, _row, flow, ticket = load(session, session_id, for_update=True)
        _require(ts, ticket, ACTIVE)
        if len(ts.answers.get("given", [])) != given:
            raise Conflict(f"session {session_id} moved on meanwhile: reload it and answer again")
        old = position(flow, ts)
        before = audit.snapshot(ts, exclude=EXCLUDE)
        changed = _reread(ts, readings, old)
        log_readings(ticket, ts, sorted(changed), actor=actor, now=now, before=dict(old.checks))
        entry = {
            "node": node_id,
            "option": option,
            "at": now.isoformat(),
            "by": actor.name,
            "refreshed": changed,
        }
        ts.answers = {**ts.answers, "given": [*ts.answers.get("given", []), entry]}
        advance(session, ts, flow, ticket, old, actor=actor, now=now)
        audit.record(
            session,
            actor=actor,
            action="troubleshooting.answer",
            entity_type="troubleshooting_session",
            entity_id=ts.id,
            before=before,
            after={**audit.snapshot(ts, exclude=EXCLUDE), "answer": entry},
        )
        uow.commit()
    return _finish(uows, actor=actor, session_id=session_id, settings=scheduling)


def pause(
    uows: UowFactory, *, actor: Actor, session_id: int, now: datetime | None = None
) -> SessionView:
    """Pause an active session (the customer will call back); the ticket waits on them."""
    actor.require(Permission.TICKETS_WRITE)
    now = now or utcnow()
    with uows() as uow:
        session = uow.session
        ts, row, flow, ticket = load(session, session_id, for_update=True)
        _require(ts, ticket, ACTIVE, pausing=True)
        before = audit.snapshot(ts, exclude=EXCLUDE)
        ts.status, ts.updated_at = PAUSED, now
        if ticket.status is TicketStatus.IN_PROGRESS:
            log(
                ticket,
                actor=actor,
                kind="status",
                at=now,
                text=f"{ticket.status.label} → {TicketStatus.WAITING_ON_CUSTOMER.label}",
            )
            ticket.status = TicketStatus.WAITING_ON_CUSTOMER
        log(
            ticket,
            actor=actor,
            kind="flow",
            at=now,
            session=ts.id,
            text=f"troubleshooting session {ts.id} paused at {ts.current_node}",
        )
        audit.record(
            session,
            actor=actor,
            action="troubleshooting.pause",
            entity_type="troubleshooting_session",
            entity_id=ts.id,
            before=before,
            after=audit.snapshot(ts, exclude=EXCLUDE),
        )
        result = view(ts, row, flow, ticket)
        uow.commit()
        return result


def resume(
    uows: UowFactory,
    *,
    actor: Actor,
    network: NetworkAdapter,
    session_id: int,
    scheduling: SchedulingSettings | None = None,
    now: datetime | None = None,
) -> SessionView:
    """Resume a paused session: every check is re-read (anything may have changed while
    it was paused) and the new values apply from the last answer on."""
    actor.require(Permission.TICKETS_WRITE)
    now = now or utcnow()
    with uows(write=False) as uow:
        ts, _row, flow, ticket = load(uow.session, session_id)
        _require(ts, ticket, PAUSED)
        customer_id = ticket.customer_id
    readings = take_readings(
        uows,
        actor=actor,
        network=network,
        customer_id=customer_id,
        names=flow.checks_used(),
        now=now,
    )
    with uows() as uow:
        session = uow.session
        ts, _row, flow, ticket = load(session, session_id, for_update=True)
        _require(ts, ticket, PAUSED)
        old = position(flow, ts)
        before = audit.snapshot(ts, exclude=EXCLUDE)
        changed = _reread(ts, readings, old)
        given = list(ts.answers.get("given", []))
        if given:
            given[-1] = {**given[-1], "refreshed": {**given[-1].get("refreshed", {}), **changed}}
            ts.answers = {**ts.answers, "given": given}
        else:
            ts.checks = {**ts.checks, "start": {**ts.checks["start"], **changed}}
        ts.status = ACTIVE
        ticket_working(ticket, actor=actor, now=now)
        log(
            ticket,
            actor=actor,
            kind="flow",
            at=now,
            session=ts.id,
            text=f"troubleshooting session {ts.id} resumed; checks re-read, {len(changed)} changed",
        )
        log_readings(ticket, ts, sorted(changed), actor=actor, now=now, before=dict(old.checks))
        advance(session, ts, flow, ticket, old, actor=actor, now=now)
        audit.record(
            session,
            actor=actor,
            action="troubleshooting.resume",
            entity_type="troubleshooting_session",
            entity_id=ts.id,
            before=before,
            after={**audit.snapshot(ts, exclude=EXCLUDE), "changed": changed},
        )
        uow.commit()
    return _finish(uows, actor=actor, session_id=session_id, settings=scheduling)


def get_session(uow: UnitOfWork, *, actor: Actor, session_id: int) -> SessionView:
    actor.require(Permission.CUSTOMERS_READ)
    return view(*load(uow.session, session_id))
