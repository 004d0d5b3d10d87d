"""Communications: delivery attempts, customer preferences, webhooks, the fake SMS
gateway's log, satisfaction surveys, KPI alert state."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fiberdesk.db.base import Base, utcnow


class DeliveryAttempt(Base):
    """One try at delivering an outbox message: the delivery log per customer."""

    __tablename__ = "delivery_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox_messages.id"), index=True)
    attempt: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: sent, failed (will retry), dead (given up), skipped (opted out)
    outcome: Mapped[str] = mapped_column(sa.String(10))
    detail: Mapped[str | None] = mapped_column(sa.String(500))
    #: which worker process delivered it
    worker: Mapped[str | None] = mapped_column(sa.String(80))


class MessagePreference(Base):
    """A customer's choice for one kind of message: which channel, or none."""

    __tablename__ = "message_preferences"
    __table_args__ = (sa.UniqueConstraint("customer_id", "kind", name="uq_message_pref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    #: a template name, or "*" for every kind
    kind: Mapped[str] = mapped_column(sa.String(40))
    #: email or sms; none opts out (essential messages go out regardless)
    channel: Mapped[str] = mapped_column(sa.String(8))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(500))
    #: signs each delivery (HMAC-SHA256 of the body); shown once at creation
    secret: Mapped[str] = mapped_column(sa.String(80))
    #: comma-separated event kinds, or "*"
    kinds: Mapped[str] = mapped_column(sa.String(500), default="*")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FakeSms(Base):
    """What the fake SMS gateway 'sent' (the default SMS adapter records, never sends)."""

    __tablename__ = "fake_sms"
    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(sa.String(20), index=True)
    body: Mapped[str] = mapped_column(sa.Text)
    key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class Survey(Base):
    """A satisfaction survey sent after an installation or a resolved ticket."""

    __tablename__ = "surveys"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    #: INSTALLATION or TICKET
    kind: Mapped[str] = mapped_column(sa.String(12))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_orders.id"))
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"))
    #: the staff member and team the answer is credited to
    agent: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    team: Mapped[str | None] = mapped_column(sa.String(12))
    area: Mapped[str | None] = mapped_column(sa.String(5))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None] = mapped_column(index=True)
    score: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (sa.CheckConstraint("score IS NULL OR score BETWEEN 1 AND 5", name="score"),)


class KpiAlert(Base):
    """A KPI's alert state, so each crossing of the threshold alerts once."""

    __tablename__ = "kpi_alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(sa.String(40), index=True)
    #: the scope the KPI was computed for: "all", "team:CSR", "area:21204"
    scope: Mapped[str] = mapped_column(sa.String(40), default="all")
    crossed_at: Mapped[datetime] = mapped_column(default=utcnow)
    value: Mapped[float]
    threshold: Mapped[float]
    cleared_at: Mapped[datetime | None]
