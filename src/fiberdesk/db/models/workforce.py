"""Technicians and their shifts."""

from __future__ import annotations

from datetime import time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fiberdesk.db.base import Base


class Technician(Base):
    __tablename__ = "technicians"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    #: e.g. ["install", "repair", "splicing", "survey", "business"]
    skills: Mapped[list[str]] = mapped_column(default=list)
    #: ZIP codes the technician covers
    zones: Mapped[list[str]] = mapped_column(default=list)
    #: installation jobs per window
    capacity_per_window: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)
    shifts: Mapped[list[TechnicianShift]] = relationship(
        back_populates="technician", order_by="TechnicianShift.weekday"
    )


class TechnicianShift(Base):
    __tablename__ = "technician_shifts"
    __table_args__ = (
        sa.UniqueConstraint("technician_id", "weekday", name="uq_technician_shifts_day"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(sa.ForeignKey("technicians.id"), index=True)
    #: Monday is 0
    weekday: Mapped[int]
    start: Mapped[time]
    end: Mapped[time]
    technician: Mapped[Technician] = relationship(back_populates="shifts")
