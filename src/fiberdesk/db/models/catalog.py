"""The plan catalog (the spec's service tiers)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fiberdesk.db.base import Base


class Plan(Base):
    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(24), unique=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    download_mbps: Mapped[int]
    upload_mbps: Mapped[int]
    monthly_price: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD")
    use_case: Mapped[str] = mapped_column(sa.String(80))
    #: comma-separated PON technologies that can carry it, e.g. "GPON,XGS_PON"
    technologies: Mapped[str] = mapped_column(sa.String(40))
    static_ip: Mapped[bool] = mapped_column(default=False)
    install_fee: Mapped[Decimal] = mapped_column(default=Decimal("99.00"))
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)


class ContractTermRow(Base):
    """A contract term customers can sign: its length, discount and early-exit fee."""

    __tablename__ = "contract_terms"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    months: Mapped[int]
    monthly_discount: Mapped[Decimal]
    early_termination_fee: Mapped[Decimal]
    waive_install_fee: Mapped[bool] = mapped_column(default=False)
    #: the version of the written terms a customer accepts
    terms_version: Mapped[str] = mapped_column(sa.String(20), default="2026-01")
    active: Mapped[bool] = mapped_column(default=True)


class PromotionRow(Base):
    __tablename__ = "promotions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(24), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    monthly_discount: Mapped[Decimal]
    months: Mapped[int]
    waive_install_fee: Mapped[bool] = mapped_column(default=False)
    #: plan codes it applies to; empty means every plan
    plan_codes: Mapped[list[str]] = mapped_column(default=list)
    valid_until: Mapped[date | None]
    active: Mapped[bool] = mapped_column(default=True)
