"""Support: alarms, outages, maintenance windows, troubleshooting flows and sessions, usage."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fiberdesk.db.base import Base, enum_column, utcnow
from fiberdesk.domain.outages import OutageKind, OutageStatus, Scope


class Alarm(Base):
    """An alarm as received; matched to the network and customers, or kept unmatched with
    the reason (never dropped)."""

    __tablename__ = "alarms"
    __table_args__ = (
        sa.UniqueConstraint("source", "dedupe_key", name="uq_alarms_source_key"),
        sa.Index("ix_alarms_kind_raised", "kind", "raised_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    #: where it came from: an OLT's name, "simulator", "api"
    source: Mapped[str] = mapped_column(sa.String(40))
    #: the sender's own id for the alarm, or one derived from its content
    dedupe_key: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[str] = mapped_column(sa.String(20))
    raised_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    ont_serial: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    pon_port_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pon_ports.id"), index=True)
    splitter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("splitters.id"))
    olt_id: Mapped[int | None] = mapped_column(sa.ForeignKey("olts.id"))
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    matched: Mapped[bool] = mapped_column(default=True)
    unmatched_reason: Mapped[str | None] = mapped_column(sa.String(200))
    suppressed_by: Mapped[int | None] = mapped_column(sa.ForeignKey("maintenance_windows.id"))
    outage_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outages.id"), index=True)
    detail: Mapped[str | None] = mapped_column(sa.String(500))


class Outage(Base):
    __tablename__ = "outages"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[OutageStatus] = mapped_column(
        enum_column(OutageStatus, 12), default=OutageStatus.DETECTED, index=True
    )
    kind: Mapped[OutageKind] = mapped_column(enum_column(OutageKind, 8))
    scope: Mapped[Scope] = mapped_column(enum_column(Scope, 10))
    scope_id: Mapped[int]
    scope_label: Mapped[str] = mapped_column(sa.String(80))
    #: the places affected, for people: towns and ZIPs
    area: Mapped[str] = mapped_column(sa.String(200))
    detected_at: Mapped[datetime] = mapped_column(index=True)
    confirmed_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    estimated_resolution: Mapped[datetime | None]
    cause: Mapped[str | None] = mapped_column(sa.Text)
    affected_onts: Mapped[int] = mapped_column(default=0)
    affected_customers: Mapped[int] = mapped_column(default=0)


class OutageCustomer(Base):
    __tablename__ = "outage_customers"
    outage_id: Mapped[int] = mapped_column(sa.ForeignKey("outages.id"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id"), primary_key=True, index=True
    )
    notified_at: Mapped[datetime | None]
    restored_at: Mapped[datetime | None]


class MaintenanceWindow(Base):
    """Planned work: alarms inside it are suppressed; the flows and customers know."""

    __tablename__ = "maintenance_windows"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    scope: Mapped[Scope] = mapped_column(enum_column(Scope, 10))
    scope_id: Mapped[int]
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TroubleshootingFlow(Base):
    """A decision graph of questions, automatic checks and outcomes, as data."""

    __tablename__ = "troubleshooting_flows"
    __table_args__ = (sa.UniqueConstraint("code", "version", name="uq_flows_code_version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(120))
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    active: Mapped[bool] = mapped_column(default=True)
    updated_by: Mapped[str] = mapped_column(sa.String(80))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TroubleshootingSession(Base):
    __tablename__ = "troubleshooting_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    flow_id: Mapped[int] = mapped_column(sa.ForeignKey("troubleshooting_flows.id"))
    #: ACTIVE, PAUSED or COMPLETED
    status: Mapped[str] = mapped_column(sa.String(10), default="ACTIVE")
    current_node: Mapped[str | None] = mapped_column(sa.String(60))
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    checks: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    outcome: Mapped[str | None] = mapped_column(sa.String(40))
    started_by: Mapped[str] = mapped_column(sa.String(80))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsageDaily(Base):
    __tablename__ = "usage_daily"
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    rx_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    tx_bytes: Mapped[int] = mapped_column(sa.BigInteger)
