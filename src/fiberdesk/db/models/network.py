"""Network inventory: central offices, OLTs, PON ports, splitters, NAPs and their ports."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fiberdesk.db.base import Base, enum_column
from fiberdesk.domain.network import NapPortStatus, PonTechnology

Db = sa.Numeric(6, 2, asdecimal=True)


class CentralOffice(Base):
    __tablename__ = "central_offices"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    lat: Mapped[float]
    lon: Mapped[float]
    olts: Mapped[list[Olt]] = relationship(back_populates="central_office")


class Olt(Base):
    __tablename__ = "olts"
    id: Mapped[int] = mapped_column(primary_key=True)
    central_office_id: Mapped[int] = mapped_column(sa.ForeignKey("central_offices.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    vendor: Mapped[str] = mapped_column(sa.String(40))
    model: Mapped[str] = mapped_column(sa.String(40))
    tx_power_dbm: Mapped[Decimal] = mapped_column(Db)
    central_office: Mapped[CentralOffice] = relationship(back_populates="olts")
    pon_ports: Mapped[list[PonPort]] = relationship(back_populates="olt")


class PonPort(Base):
    __tablename__ = "pon_ports"
    __table_args__ = (sa.UniqueConstraint("olt_id", "slot", "port", name="uq_pon_ports_position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    olt_id: Mapped[int] = mapped_column(sa.ForeignKey("olts.id"), index=True)
    slot: Mapped[int]
    port: Mapped[int]
    technology: Mapped[PonTechnology] = mapped_column(enum_column(PonTechnology, 8))
    max_split: Mapped[int]
    olt: Mapped[Olt] = relationship(back_populates="pon_ports")
    splitters: Mapped[list[Splitter]] = relationship(back_populates="pon_port")

    @property
    def label(self) -> str:
        return f"{self.olt.name} {self.slot}/{self.port}"


class Splitter(Base):
    """A splitter in a local convergence point (LCP/FDH) fed by one PON port."""

    __tablename__ = "splitters"
    id: Mapped[int] = mapped_column(primary_key=True)
    pon_port_id: Mapped[int] = mapped_column(sa.ForeignKey("pon_ports.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    ratio: Mapped[int]
    lat: Mapped[float]
    lon: Mapped[float]
    #: feeder fiber from the central office to this LCP, metres
    feeder_m: Mapped[int]
    connectors: Mapped[int] = mapped_column(default=2)
    splices: Mapped[int] = mapped_column(default=4)
    pon_port: Mapped[PonPort] = relationship(back_populates="splitters")
    naps: Mapped[list[Nap]] = relationship(back_populates="splitter")


class Nap(Base):
    """A network access point (NAP/FAT) with 8 or 16 drop ports."""

    __tablename__ = "naps"
    id: Mapped[int] = mapped_column(primary_key=True)
    splitter_id: Mapped[int] = mapped_column(sa.ForeignKey("splitters.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    lat: Mapped[float] = mapped_column(index=True)
    lon: Mapped[float] = mapped_column(index=True)
    port_count: Mapped[int]
    #: distribution fiber from the LCP to this NAP, metres
    distribution_m: Mapped[int]
    connectors: Mapped[int] = mapped_column(default=2)
    splices: Mapped[int] = mapped_column(default=2)
    splitter: Mapped[Splitter] = relationship(back_populates="naps")
    ports: Mapped[list[NapPort]] = relationship(back_populates="nap", order_by="NapPort.number")

    __table_args__ = (sa.CheckConstraint("port_count IN (8, 16)", name="port_count"),)


class NapPort(Base):
    __tablename__ = "nap_ports"
    __table_args__ = (sa.UniqueConstraint("nap_id", "number", name="uq_nap_ports_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    nap_id: Mapped[int] = mapped_column(sa.ForeignKey("naps.id"), index=True)
    number: Mapped[int]
    status: Mapped[NapPortStatus] = mapped_column(
        enum_column(NapPortStatus, 12), default=NapPortStatus.FREE, index=True
    )
    #: for a RESERVED port: when the hold lapses (None for an order's reservation)
    hold_expires_at: Mapped[datetime | None]
    #: who holds or uses it: a quote reference (Q-...), an account number, or RELOC:<account>
    held_by: Mapped[str | None] = mapped_column(sa.String(64))
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    nap: Mapped[Nap] = relationship(back_populates="ports")
