"""Answered satisfaction surveys for the demo's history, so the CSAT KPI has data.

A share of the completed installations and resolved tickets got a survey, credited as the
product credits live ones (services/surveys.py): the installer or the ticket's assignee,
the team, the premises' ZIP. About two in three were answered, mostly with 4 or 5.
Written as rows, not through ``surveys.send_*``: the demo's past messages were sent long
ago and must not be queued now.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.models import (
    Customer,
    Premises,
    ServiceOrder,
    Survey,
    Technician,
    Ticket,
    User,
)
from fiberdesk.domain.kpis import FIELD_TEAM
from fiberdesk.domain.orders import OrderStatus, OrderType
from fiberdesk.services.demo.context import DemoContext
from fiberdesk.services.demo.database import insert_all

#: surveys are only for the last months, as the dashboard shows six
HISTORY_DAYS = 190
SENT_SHARE = 0.8
ANSWERED_SHARE = 0.65
LINK_DAYS = 14
SCORES = (5, 4, 3, 2, 1)
WEIGHTS = (0.55, 0.27, 0.1, 0.05, 0.03)
COMMENTS = {
    5: ("Quick and friendly, thank you.", "Everything worked first time.", ""),
    4: ("Good, the visit ran a little late.", "Fine overall.", ""),
    3: ("It took two calls to sort out.", ""),
    2: ("I had to explain the problem three times.", "The window was missed."),
    1: ("Nobody came in the booked window.", "Still not fixed properly."),
}


def insert_surveys(session: Session, ctx: DemoContext) -> int:
    rng = random.Random(ctx.seed * 31 + 5)
    now = ctx.now
    since = now - timedelta(days=HISTORY_DAYS)
    zip_of = sa.select(Premises.zip).where(Premises.id == Customer.premises_id).scalar_subquery()
    installs = session.execute(
        sa.select(ServiceOrder.id, ServiceOrder.customer_id, ServiceOrder.completed_date,
                  User.username, zip_of)
        .join(Customer, Customer.id == ServiceOrder.customer_id)
        .outerjoin(Technician, Technician.id == ServiceOrder.technician_id)
        .outerjoin(User, User.id == Technician.user_id)
        .where(ServiceOrder.type == OrderType.NEW_INSTALL,
               ServiceOrder.status == OrderStatus.COMPLETED,
               ServiceOrder.completed_date >= since)
        .order_by(ServiceOrder.id)
    ).all()  # fmt: skip
    tickets = session.execute(
        sa.select(Ticket.id, Ticket.customer_id, Ticket.resolved_at, Ticket.team,
                  sa.func.coalesce(User.username, Ticket.created_by), zip_of)
        .join(Customer, Customer.id == Ticket.customer_id)
        .outerjoin(User, User.id == Ticket.assignee_id)
        .where(Ticket.resolved_at.is_not(None), Ticket.resolved_at >= since)
        .order_by(Ticket.id)
    ).all()  # fmt: skip
    rows: list[dict[str, Any]] = []

    def add(customer_id: int, kind: str, done: Any, agent: str | None, team: str,
            area: str | None, order_id: int | None, ticket_id: int | None) -> None:  # fmt: skip
        if done is None or rng.random() > SENT_SHARE:
            return
        sent = done + timedelta(hours=rng.randint(1, 20))
        if sent >= now:
            return
        answered = rng.random() < ANSWERED_SHARE
        answered_at = sent + timedelta(hours=rng.randint(1, 72)) if answered else None
        if answered_at is not None and answered_at >= now:
            answered_at = None
        score = rng.choices(SCORES, WEIGHTS)[0] if answered_at else None
        rows.append(
            {
                "customer_id": customer_id,
                "kind": kind,
                "order_id": order_id,
                "ticket_id": ticket_id,
                "agent": agent[:80] if agent else None,
                "team": team,
                "area": area,
                "sent_at": sent,
                "expires_at": sent + timedelta(days=LINK_DAYS),
                "answered_at": answered_at,
                "score": score,
                "comment": (rng.choice(COMMENTS[score]) or None) if score else None,
            }
        )

    for order_id, customer_id, completed, username, area in installs:
        add(customer_id, "INSTALLATION", completed, username, FIELD_TEAM, area, order_id, None)
    for ticket_id, customer_id, resolved, team, agent, area in tickets:
        add(customer_id, "TICKET", resolved, agent, team.value, area, None, ticket_id)
    insert_all(session, Survey, rows)
    return len(rows)
