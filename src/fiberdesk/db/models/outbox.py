"""The transactional outbox: messages written with the change that caused them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fiberdesk.db.base import Base, utcnow


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (sa.Index("ix_outbox_messages_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: template name, e.g. installation_confirmation
    kind: Mapped[str] = mapped_column(sa.String(40))
    #: email, sms or webhook
    channel: Mapped[str] = mapped_column(sa.String(10))
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    context: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    idempotency_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    #: pending, sent, failed (dead letter)
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    #: essential messages (outage, suspension, final bill) ignore opt-outs
    essential: Mapped[bool] = mapped_column(default=False)
    #: a worker's claim: who took it and until when (a crashed worker's claim lapses)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(80))
    claimed_until: Mapped[datetime | None]
