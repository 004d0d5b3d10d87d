"""Sign-up records: identity checks, one-time codes, credit checks, payment methods,
contracts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fiberdesk.db.base import Base, enum_column, utcnow
from fiberdesk.domain.signup import CreditOutcome, IdentityMethod


class IdentityVerification(Base):
    """How and by whom a customer's identity was verified. An ID number is never kept:
    only its last four characters and a keyed hash (to recognise the same document)."""

    __tablename__ = "identity_verifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    method: Mapped[IdentityMethod] = mapped_column(enum_column(IdentityMethod, 16))
    verified_by: Mapped[str] = mapped_column(sa.String(80))
    channel: Mapped[str] = mapped_column(sa.String(16))
    document_type: Mapped[str | None] = mapped_column(sa.String(30))
    document_last4: Mapped[str | None] = mapped_column(sa.String(4))
    document_hash: Mapped[str | None] = mapped_column(sa.String(64))
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)


class OneTimeCode(Base):
    __tablename__ = "one_time_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    #: sms or email
    channel: Mapped[str] = mapped_column(sa.String(8))
    destination: Mapped[str] = mapped_column(sa.String(254))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class CreditCheck(Base):
    __tablename__ = "credit_checks"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    bureau: Mapped[str] = mapped_column(sa.String(40))
    reference: Mapped[str] = mapped_column(sa.String(64))
    score: Mapped[int | None]
    outcome: Mapped[CreditOutcome] = mapped_column(enum_column(CreditOutcome, 24))
    deposit: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    checked_by: Mapped[str] = mapped_column(sa.String(80))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class PaymentMethod(Base):
    """A payment method by its gateway token only; the card number never reaches us."""

    __tablename__ = "payment_methods"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    gateway: Mapped[str] = mapped_column(sa.String(40))
    token: Mapped[str] = mapped_column(sa.String(120), unique=True)
    brand: Mapped[str] = mapped_column(sa.String(20))
    last4: Mapped[str] = mapped_column(sa.String(4))
    exp_month: Mapped[int]
    exp_year: Mapped[int]
    autopay: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Contract(Base):
    __tablename__ = "contracts"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    term_code: Mapped[str] = mapped_column(sa.String(16))
    months: Mapped[int]
    terms_version: Mapped[str] = mapped_column(sa.String(20))
    monthly_price: Mapped[Decimal]
    early_termination_fee: Mapped[Decimal]
    accepted_name: Mapped[str] = mapped_column(sa.String(120))
    accepted_at: Mapped[datetime]
    #: where the customer accepted: console, phone (a CSR read the terms), web, agent
    channel: Mapped[str] = mapped_column(sa.String(16))
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
