"""Billing: accounts, the ledger, invoices and their lines, payments, holds, returns."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fiberdesk.db.base import Base, enum_column, utcnow
from fiberdesk.domain.billing import EntryKind, HoldKind, InvoiceStatus, Standing


class BillingAccount(Base):
    __tablename__ = "billing_accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), unique=True)
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD")
    #: the day of the month a cycle starts (1 to 28)
    cycle_day: Mapped[int]
    standing: Mapped[Standing] = mapped_column(
        enum_column(Standing, 12), default=Standing.CURRENT, index=True
    )
    #: how many dunning steps were taken for the current overdue invoice
    dunning_level: Mapped[int] = mapped_column(default=0)
    #: the first day not yet billed for recurring service
    billed_through: Mapped[date | None]
    #: monthly discount of the contract term, for its whole length
    term_discount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    promotion_code: Mapped[str | None] = mapped_column(sa.String(24))
    promotion_discount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    #: the promotion applies to periods starting before this day
    promotion_ends_on: Mapped[date | None]
    #: a security deposit taken at sign-up, held until the account closes
    deposit_held: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerEntry(Base):
    """One movement on an account; the balance is always the sum of the entries."""

    __tablename__ = "ledger_entries"
    __table_args__ = (sa.Index("ix_ledger_entries_unbilled", "account_id", "invoice_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("billing_accounts.id"), index=True)
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind, 12))
    #: positive raises what the customer owes, negative lowers it
    amount: Mapped[Decimal]
    description: Mapped[str] = mapped_column(sa.String(200))
    #: a charge is billed on one invoice; payments and credits carry none
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))
    #: unique purpose of the entry, so a retried action never posts it twice
    reference: Mapped[str] = mapped_column(sa.String(120), unique=True)
    effective_on: Mapped[date]
    created_by: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        sa.UniqueConstraint(
            "account_id", "period_start", "kind", name="uq_invoices_account_period"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("billing_accounts.id"), index=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    issued_on: Mapped[date] = mapped_column(index=True)
    due_on: Mapped[date] = mapped_column(index=True)
    subtotal: Mapped[Decimal]
    tax: Mapped[Decimal]
    total: Mapped[Decimal]
    status: Mapped[InvoiceStatus] = mapped_column(
        enum_column(InvoiceStatus, 8), default=InvoiceStatus.OPEN, index=True
    )
    #: FINAL for the bill at disconnection
    kind: Mapped[str] = mapped_column(sa.String(8), default="REGULAR")
    paid_at: Mapped[datetime | None]
    lines: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("billing_accounts.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))
    amount: Mapped[Decimal]
    #: autopay, card, cash, check
    method: Mapped[str] = mapped_column(sa.String(10))
    #: SUCCEEDED, DECLINED, FAILED (processor error, to retry)
    status: Mapped[str] = mapped_column(sa.String(10), index=True)
    gateway_charge_id: Mapped[str | None] = mapped_column(sa.String(40))
    failure_code: Mapped[str | None] = mapped_column(sa.String(40))
    attempt: Mapped[int] = mapped_column(default=1)
    key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    created_by: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ServiceHold(Base):
    """A suspension: a customer's vacation hold or dunning's non-payment suspension."""

    __tablename__ = "service_holds"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    kind: Mapped[HoldKind] = mapped_column(enum_column(HoldKind, 12))
    starts_on: Mapped[date]
    #: a vacation hold's planned end; none for non-payment
    ends_on: Mapped[date | None]
    ended_on: Mapped[date | None]
    reason: Mapped[str] = mapped_column(sa.String(200))
    created_by: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EquipmentReturn(Base):
    __tablename__ = "equipment_returns"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    equipment_id: Mapped[int] = mapped_column(sa.ForeignKey("customer_equipment.id"))
    expected_by: Mapped[date]
    received_on: Mapped[date | None]
    fee: Mapped[Decimal]
    fee_charged_on: Mapped[date | None]
    reminded_on: Mapped[date | None]
