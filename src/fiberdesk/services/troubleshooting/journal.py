"""The session's steps into the ticket's transcript, and moving a session on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from fiberdesk.db.models import Ticket, TroubleshootingSession
from fiberdesk.domain.errors import Conflict
from fiberdesk.domain.tickets import TICKET_TRANSITIONS, TicketStatus
from fiberdesk.domain.troubleshooting import (
    CHECKS,
    Advice,
    Flow,
    Outcome,
    Position,
    Question,
    Step,
    render,
)
from fiberdesk.domain.users import Actor
from fiberdesk.services.tickets import log
from fiberdesk.services.troubleshooting.outcomes import apply_outcome
from fiberdesk.services.troubleshooting.state import COMPLETED, facts_of, position


def describe(flow: Flow, step: Step, facts: dict[str, str]) -> tuple[str, str]:
    """(transcript kind, text) of one step of the walk."""
    node = flow.node(step.node)
    if isinstance(node, Question):
        question = render(node.text, facts)
        if step.kind == "ask":
            return "question", question
        option = node.option(step.value or "")
        label = render(option.label, facts) if option else step.value
        if step.kind == "skip":
            return (
                "skipped",
                f"not asked, the checks answer it: {question} → {label} ({step.reason})",
            )
        return "answer", f"{question} → {label}"
    if isinstance(node, Advice):
        return "advice", f"{node.title}: " + " ".join(render(s, facts) for s in node.steps)
    if isinstance(node, Outcome):
        return "outcome", f"{node.outcome.label} ({node.code}): {render(node.text, facts)}"
    return "branch", f"{node.text} {step.value}"


def log_steps(
    ticket: Ticket,
    ts: TroubleshootingSession,
    flow: Flow,
    steps: list[Step],
    *,
    actor: Actor,
    now: datetime,
) -> None:
    facts = facts_of(ts)
    for step in steps:
        kind, text = describe(flow, step, facts)
        log(
            ticket,
            actor=actor,
            kind=kind,
            text=text,
            at=now,
            session=ts.id,
            node=step.node,
            **({"value": step.value} if step.value else {}),
        )


def log_readings(
    ticket: Ticket,
    ts: TroubleshootingSession,
    names: list[str],
    *,
    actor: Actor,
    now: datetime,
    before: dict[str, str] | None = None,
) -> None:
    results = ts.checks["results"]
    for name in names:
        r = results[name]
        label = CHECKS[name].label
        if before is None:
            text = f"{label}: {r['value']} ({r['detail']})"
        else:
            text = f"{label} now {r['value']}, was {before.get(name)} ({r['detail']})"
        log(
            ticket,
            actor=actor,
            kind="check",
            text=text,
            at=now,
            session=ts.id,
            check=name,
            value=r["value"],
        )


def advance(
    session: Session,
    ts: TroubleshootingSession,
    flow: Flow,
    ticket: Ticket,
    old: Position | None,
    *,
    actor: Actor,
    now: datetime,
) -> Position:
    """Walk with the session's inputs, log the new steps, apply an outcome reached."""
    pos = position(flow, ts)
    if pos.unused:
        raise Conflict(f"session {ts.id}: recorded answers no longer fit its flow")
    earlier = old.steps if old else ()
    same = 0
    while same < min(len(earlier), len(pos.steps)) and earlier[same] == pos.steps[same]:
        same += 1
    log_steps(ticket, ts, flow, list(pos.steps[same:]), actor=actor, now=now)
    ts.current_node = pos.node
    ts.updated_at = now
    if pos.finished:
        node = flow.node(pos.node)
        assert isinstance(node, Outcome)
        result = apply_outcome(
            session,
            ticket,
            actor=actor,
            outcome=node,
            session_id=ts.id,
            text=render(node.text, facts_of(ts)),
            now=now,
        )
        ts.status = COMPLETED
        ts.outcome = node.outcome.value
        ts.answers = {**ts.answers, "outcome": result}
        log(
            ticket,
            actor=actor,
            kind="flow",
            at=now,
            session=ts.id,
            text=f"troubleshooting session {ts.id} finished: {node.outcome.label}",
        )
    return pos


def ticket_working(ticket: Ticket, *, actor: Actor, now: datetime) -> None:
    if ticket.status in (
        TicketStatus.OPEN,
        TicketStatus.REOPENED,
        TicketStatus.WAITING_ON_CUSTOMER,
    ):
        TICKET_TRANSITIONS.check(ticket.status, TicketStatus.IN_PROGRESS)
        log(
            ticket,
            actor=actor,
            kind="status",
            at=now,
            text=f"{ticket.status.label} → {TicketStatus.IN_PROGRESS.label}",
        )
        ticket.status = TicketStatus.IN_PROGRESS
