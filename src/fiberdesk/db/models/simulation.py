"""State of the simulated OLT (the default network adapter): its ONT table and faults.

A vendor OLT keeps this itself; the simulator keeps it in fiberdesk's database so that
several fiberdesk processes see the same simulated network.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fiberdesk.db.base import Base, utcnow

Db = sa.Numeric(6, 2, asdecimal=True)


class SimOnt(Base):
    __tablename__ = "sim_onts"
    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(sa.String(16), unique=True)
    pon_port_id: Mapped[int] = mapped_column(sa.ForeignKey("pon_ports.id"), index=True)
    nap_id: Mapped[int | None] = mapped_column(sa.ForeignKey("naps.id"), index=True)
    #: ONU id on its PON port
    onu_id: Mapped[int]
    profile: Mapped[str] = mapped_column(sa.String(40))
    down_mbps: Mapped[int]
    up_mbps: Mapped[int]
    #: ACTIVE or SUSPENDED
    admin_state: Mapped[str] = mapped_column(sa.String(10), default="ACTIVE")
    #: receive power the plant gives this ONT when nothing is wrong
    base_rx_dbm: Mapped[Decimal] = mapped_column(Db)
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]


class SimFault(Base):
    """An injected fault: FIBER_CUT (splitter or PON port), POWER_LOSS (an ONT),
    DEGRADED_DROP (an ONT, extra loss in dB)."""

    __tablename__ = "sim_faults"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16), index=True)
    #: splitter, pon_port or ont
    target_type: Mapped[str] = mapped_column(sa.String(10))
    target: Mapped[str] = mapped_column(sa.String(32))
    extra_loss_db: Mapped[Decimal | None] = mapped_column(Db)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(index=True)
