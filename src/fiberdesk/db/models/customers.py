"""Customers and their notes (the spec's ``customers`` and ``customerNotes``)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fiberdesk.db.base import Base, enum_column, utcnow
from fiberdesk.domain.customers import OCCUPYING_STATUSES, NoteType, ServiceStatus


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_number: Mapped[str] = mapped_column(sa.String(10), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120), index=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    #: E.164, e.g. +14105550123
    phone: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    service_address: Mapped[str] = mapped_column(sa.String(200))
    premises_id: Mapped[int | None] = mapped_column(sa.ForeignKey("premises.id"), index=True)
    nap_id: Mapped[int | None] = mapped_column(sa.ForeignKey("naps.id"), index=True)
    port_number: Mapped[int | None]
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plans.id"), index=True)
    status: Mapped[ServiceStatus] = mapped_column(
        enum_column(ServiceStatus, 16), default=ServiceStatus.PENDING, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    activated_at: Mapped[datetime | None]
    disconnected_at: Mapped[datetime | None]
    churn_reason: Mapped[str | None] = mapped_column(sa.String(200))
    #: apartment or suite at the premises, if any
    unit: Mapped[str | None] = mapped_column(sa.String(16))
    #: site access notes for technicians (gate code, dog, where to park)
    access_notes: Mapped[str | None] = mapped_column(sa.Text)
    #: when billing started (the activation date)
    billing_start: Mapped[date | None]

    notes: Mapped[list[CustomerNote]] = relationship(
        back_populates="customer", order_by="CustomerNote.created_at"
    )


class CustomerNote(Base):
    __tablename__ = "customer_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    type: Mapped[NoteType] = mapped_column(enum_column(NoteType, 16), default=NoteType.GENERAL)
    content: Mapped[str] = mapped_column(sa.Text)
    #: username of the author (a person, a token's user, or "system")
    created_by: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    customer: Mapped[Customer] = relationship(back_populates="notes")


def occupying() -> sa.ColumnElement[bool]:
    """A customer in ``OCCUPYING_STATUSES`` (service there, or on its way), the statuses
    written into the SQL: a list of parameters would be expanded on every execution."""
    values = sorted(s.value for s in OCCUPYING_STATUSES)
    return Customer.status.in_([sa.literal_column(f"'{v}'") for v in values])
