"""Customer equipment and stock (the spec's ``customerEquipment``) and IP address pools."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fiberdesk.db.base import Base, enum_column, utcnow
from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType


class Equipment(Base):
    """One unit: in stock (no customer) or a customer's."""

    __tablename__ = "customer_equipment"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    type: Mapped[EquipmentType] = mapped_column(enum_column(EquipmentType, 16), index=True)
    serial_number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    mac_address: Mapped[str | None] = mapped_column(sa.String(17), unique=True)
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    status: Mapped[EquipmentStatus] = mapped_column(
        enum_column(EquipmentStatus, 12), default=EquipmentStatus.IN_STOCK, index=True
    )
    vendor: Mapped[str | None] = mapped_column(sa.String(40))
    model: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IpPool(Base):
    __tablename__ = "ip_pools"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60), unique=True)
    cidr: Mapped[str] = mapped_column(sa.String(43), unique=True)
    gateway: Mapped[str] = mapped_column(sa.String(45))


class IpAddress(Base):
    __tablename__ = "ip_addresses"
    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(sa.ForeignKey("ip_pools.id"), index=True)
    address: Mapped[str] = mapped_column(sa.String(45), unique=True)
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    assigned_at: Mapped[datetime | None]
