"""State of the fake payment gateway: the processor's side of tokens, charges and refunds.

A real processor keeps these in its own systems; the fake keeps them in fiberdesk's
database so that they survive restarts and every process sees the same ledger. A card
number is never stored here: a token row keeps what the processor shows (brand, last four,
expiry) and how the fake should behave for that card (set by the magic test numbers).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fiberdesk.db.base import Base, utcnow


class FakeGatewayToken(Base):
    __tablename__ = "fake_gateway_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(40), unique=True)
    brand: Mapped[str] = mapped_column(sa.String(20))
    last4: Mapped[str] = mapped_column(sa.String(4))
    exp_month: Mapped[int]
    exp_year: Mapped[int]
    #: how charges and verifications of this card turn out (see adapters/payments/fake.py)
    behaviour: Mapped[str] = mapped_column(sa.String(24))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FakeGatewayCharge(Base):
    """A charge attempt; a declined one is kept too, so a retry with its key declines again."""

    __tablename__ = "fake_gateway_charges"
    id: Mapped[int] = mapped_column(primary_key=True)
    charge_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    token: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("fake_gateway_tokens.token"), index=True
    )
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(sa.String(3))
    #: the caller's idempotency key: one charge per key
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    #: None when the charge succeeded, else the decline code
    decline_code: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FakeGatewayRefund(Base):
    __tablename__ = "fake_gateway_refunds"
    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    charge_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("fake_gateway_charges.charge_id"), index=True
    )
    amount: Mapped[Decimal]
    #: the caller's idempotency key: one refund per key
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
