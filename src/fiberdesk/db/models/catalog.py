"""The plan catalog (the spec's service tiers)."""

from __future__ import annotations

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
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)
