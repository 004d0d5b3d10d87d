"""Service tickets (the spec's ``tickets``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fiberdesk.db.base import Base, enum_column, utcnow
from fiberdesk.domain.tickets import Team, TicketCategory, TicketPriority, TicketStatus


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # lets the KPI pass over resolved tickets read the index alone
        sa.Index(
            "ix_tickets_resolved_kpi",
            "resolved_at",
            "created_at",
            "first_contact_resolution",
            "team",
            "customer_id",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    category: Mapped[TicketCategory] = mapped_column(enum_column(TicketCategory, 16), index=True)
    priority: Mapped[TicketPriority] = mapped_column(
        enum_column(TicketPriority, 10), default=TicketPriority.NORMAL
    )
    status: Mapped[TicketStatus] = mapped_column(
        enum_column(TicketStatus, 20), default=TicketStatus.OPEN, index=True
    )
    description: Mapped[str] = mapped_column(sa.Text)
    resolution: Mapped[str | None] = mapped_column(sa.Text)
    resolution_code: Mapped[str | None] = mapped_column(sa.String(40))
    team: Mapped[Team] = mapped_column(enum_column(Team, 10), default=Team.CSR)
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    first_contact_resolution: Mapped[bool | None]
    escalated: Mapped[bool] = mapped_column(default=False)
    visit_booked: Mapped[bool] = mapped_column(default=False)
    #: contacts with the customer about this ticket; first-contact resolution needs one
    contacts: Mapped[int] = mapped_column(default=1)
    outage_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outages.id"), index=True)
    #: when the resolution target and the alert threshold fall (from the priority's SLA)
    sla_due_at: Mapped[datetime | None]
    sla_alert_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    resolved_at: Mapped[datetime | None]
    #: every step taken, in order: [{"at", "by", "kind", "text"}]
    transcript: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
