"""Quotes (with their port holds) and the waitlist of unserved demand."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fiberdesk.db.base import Base, enum_column, utcnow
from fiberdesk.domain.qualification import Decision, QuoteStatus, Reason


class Quote(Base):
    __tablename__ = "quotes"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: what the customer is told, e.g. Q-7KX2M9PD
    reference: Mapped[str] = mapped_column(sa.String(12), unique=True)
    premises_id: Mapped[int] = mapped_column(sa.ForeignKey("premises.id"), index=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id"))
    term_code: Mapped[str] = mapped_column(sa.String(16))
    promotion_code: Mapped[str | None] = mapped_column(sa.String(24))
    decision: Mapped[Decision] = mapped_column(enum_column(Decision, 16))
    nap_id: Mapped[int | None] = mapped_column(sa.ForeignKey("naps.id"))
    #: the port held once the quote is accepted
    nap_port_id: Mapped[int | None] = mapped_column(sa.ForeignKey("nap_ports.id"), index=True)
    predicted_rx_dbm: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    monthly_total: Mapped[Decimal]
    monthly_total_after_promotion: Mapped[Decimal | None]
    one_time_total: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(sa.String(3))
    #: the priced lines, subtotals and taxes, and the qualification reasons
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[QuoteStatus] = mapped_column(
        enum_column(QuoteStatus, 12), default=QuoteStatus.OPEN, index=True
    )
    contact_name: Mapped[str | None] = mapped_column(sa.String(120))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    hold_expires_at: Mapped[datetime | None]


class WaitlistEntry(Base):
    """Someone who asked for fiber where it cannot be had yet."""

    __tablename__ = "waitlist_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    premises_id: Mapped[int | None] = mapped_column(sa.ForeignKey("premises.id"), index=True)
    address_text: Mapped[str] = mapped_column(sa.String(200))
    zip: Mapped[str | None] = mapped_column(sa.String(5), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    plan_code: Mapped[str | None] = mapped_column(sa.String(24))
    reason: Mapped[Reason] = mapped_column(enum_column(Reason, 20), index=True)
    #: the NAP that was full, for build planning
    nap_id: Mapped[int | None] = mapped_column(sa.ForeignKey("naps.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None]
