"""What a troubleshooting session stores, where it stands, and how it is shown.

A session stores its inputs only: ``checks`` holds ``start`` (the values the walk starts
from) and ``results`` (the latest reading of each check: value, detail, facts, time);
``answers`` holds ``given`` (each answer in order, with the check values that changed
when it was given) and ``outcome`` once one is reached. Where it stands is replayed by
the domain's ``walk``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.models import Ticket, TroubleshootingFlow, TroubleshootingSession
from fiberdesk.domain.errors import NotFound
from fiberdesk.domain.troubleshooting import (
    CHECKS,
    Advice,
    Answer,
    Flow,
    Position,
    Question,
    parse_flow,
    render,
    walk,
)
from fiberdesk.services.tickets import get_ticket, ticket_number

ACTIVE, PAUSED, COMPLETED = "ACTIVE", "PAUSED", "COMPLETED"


@dataclass(frozen=True, slots=True)
class SessionView:
    id: int
    ticket_id: int
    ticket_number: str
    customer_id: int
    flow_code: str
    flow_name: str
    flow_version: int
    status: str
    current_node: str | None
    #: the open question: node, text, help, options [{id, label}]
    prompt: dict[str, Any] | None
    #: advice to read out before the question (or the outcome): node, title, steps
    guidance: list[dict[str, Any]]
    #: kind, code, text, and what was done (order, booking, first-contact resolution)
    outcome: dict[str, Any] | None
    checks: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    answers: list[dict[str, Any]]
    started_by: str
    started_at: datetime
    updated_at: datetime


def answers_of(ts: TroubleshootingSession) -> list[Answer]:
    return [
        Answer(a["node"], a["option"], a.get("refreshed") or {})
        for a in ts.answers.get("given", [])
    ]


def position(flow: Flow, ts: TroubleshootingSession) -> Position:
    return walk(flow, ts.checks.get("start", {}), answers_of(ts))


def facts_of(ts: TroubleshootingSession) -> dict[str, str]:
    facts: dict[str, str] = {}
    for result in ts.checks.get("results", {}).values():
        facts.update(result.get("facts") or {})
    return facts


def load(
    session: Session, session_id: int, *, for_update: bool = False
) -> tuple[TroubleshootingSession, TroubleshootingFlow, Flow, Ticket]:
    query = sa.select(TroubleshootingSession).where(TroubleshootingSession.id == session_id)
    ts = session.scalar(query.with_for_update() if for_update else query)
    if ts is None:
        raise NotFound(f"no troubleshooting session {session_id}")
    row = session.get(TroubleshootingFlow, ts.flow_id)
    assert row is not None  # a foreign key
    ticket = get_ticket(session, ts.ticket_id, for_update=for_update)
    return ts, row, parse_flow(row.definition), ticket


def view(
    ts: TroubleshootingSession, row: TroubleshootingFlow, flow: Flow, ticket: Ticket
) -> SessionView:
    pos = position(flow, ts)
    facts = facts_of(ts)
    prompt = None
    node = flow.node(pos.node)
    if isinstance(node, Question) and ts.status != COMPLETED:
        prompt = {
            "node": node.id,
            "text": render(node.text, facts),
            "help": render(node.help, facts),
            "options": [{"id": o.id, "label": render(o.label, facts)} for o in node.options],
        }
    guidance = []
    for advice_id in pos.guidance():
        advice = flow.node(advice_id)
        assert isinstance(advice, Advice)
        guidance.append(
            {
                "node": advice.id,
                "title": advice.title,
                "steps": [render(s, facts) for s in advice.steps],
            }
        )
    checks = [
        {"check": name, "label": CHECKS[name].label, **r}
        for name, r in ts.checks.get("results", {}).items()
    ]
    skipped = []
    for step in pos.skipped:
        question = flow.node(step.node)
        assert isinstance(question, Question)
        skipped.append(
            {
                "node": step.node,
                "question": render(question.text, facts),
                "option": step.value,
                "reason": step.reason,
            }
        )
    return SessionView(
        ts.id,
        ticket.id,
        ticket_number(ticket.id),
        ticket.customer_id,
        row.code,
        row.name,
        row.version,
        ts.status,
        ts.current_node,
        prompt,
        guidance,
        ts.answers.get("outcome"),
        checks,
        skipped,
        [asdict(s) for s in pos.steps],
        list(ts.answers.get("given", [])),
        ts.started_by,
        ts.started_at,
        ts.updated_at,
    )
