"""Service orders and appointments (the spec's ``serviceOrders``)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fiberdesk.db.base import Base, enum_column, utcnow
from fiberdesk.domain.orders import AppointmentStatus, OrderStatus, OrderType


class ServiceOrder(Base):
    __tablename__ = "service_orders"
    __table_args__ = (
        # lets the install lead time KPI read the index alone
        sa.Index(
            "ix_service_orders_completed_kpi",
            "completed_date",
            "created_at",
            "type",
            "status",
            "customer_id",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    type: Mapped[OrderType] = mapped_column(enum_column(OrderType, 16), index=True)
    status: Mapped[OrderStatus] = mapped_column(
        enum_column(OrderStatus, 16), default=OrderStatus.OPEN, index=True
    )
    scheduled_date: Mapped[date | None]
    completed_date: Mapped[datetime | None]
    technician_id: Mapped[int | None] = mapped_column(sa.ForeignKey("technicians.id"), index=True)
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plans.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: order-specific facts: the quote, the premises, a tier change, the churn reason
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: each step taken and each refusal, in order: [{"at", "step", "outcome", "by"}]
    steps: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (sa.Index("ix_appointments_tech_day", "technician_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("service_orders.id"), index=True)
    technician_id: Mapped[int] = mapped_column(sa.ForeignKey("technicians.id"))
    day: Mapped[date]
    window_code: Mapped[str] = mapped_column(sa.String(16))
    window_start: Mapped[time]
    window_end: Mapped[time]
    status: Mapped[AppointmentStatus] = mapped_column(
        enum_column(AppointmentStatus, 12), default=AppointmentStatus.BOOKED, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
