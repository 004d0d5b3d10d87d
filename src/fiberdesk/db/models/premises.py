"""Premises: serviceable address points with coordinates, their NAP and drop length."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fiberdesk.db.base import Base


class Premises(Base):
    __tablename__ = "premises"
    __table_args__ = (
        sa.Index("ix_premises_street_number", "street_name", "number"),
        sa.Index("ix_premises_zip_street", "zip", "street_name"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the id of the point in its source data set (e.g. the county's address_id)
    source_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    number: Mapped[str] = mapped_column(sa.String(12))
    number_suffix: Mapped[str | None] = mapped_column(sa.String(8))
    predir: Mapped[str | None] = mapped_column(sa.String(2))
    street_name: Mapped[str] = mapped_column(sa.String(80))
    street_type: Mapped[str | None] = mapped_column(sa.String(8))
    sufdir: Mapped[str | None] = mapped_column(sa.String(2))
    #: the assembled street ("N POINT BLVD"), as the source publishes it
    street: Mapped[str] = mapped_column(sa.String(100))
    unit: Mapped[str | None] = mapped_column(sa.String(16))
    city: Mapped[str | None] = mapped_column(sa.String(60))
    community: Mapped[str | None] = mapped_column(sa.String(60))
    state: Mapped[str] = mapped_column(sa.String(2))
    zip: Mapped[str] = mapped_column(sa.String(5))
    zip4: Mapped[str | None] = mapped_column(sa.String(4))
    lat: Mapped[float] = mapped_column(index=True)
    lon: Mapped[float]
    #: e.g. RESIDENTIAL LOW DENSITY; RESIDENTIAL HIGH DENSITY marks multi-dwelling buildings
    address_use: Mapped[str | None] = mapped_column(sa.String(40))
    multi_dwelling: Mapped[bool] = mapped_column(default=False)
    nap_id: Mapped[int | None] = mapped_column(sa.ForeignKey("naps.id"), index=True)
    #: estimated drop cable length from the NAP, metres
    drop_m: Mapped[int | None]

    @property
    def label(self) -> str:
        return address_label(self)


def address_label(row: Any) -> str:
    """The one-line address of a premises, or of a row with the same columns (``number``,
    ``number_suffix``, ``street``, ``unit``, ``city``, ``community``, ``state``, ``zip``)."""
    number = row.number + (f" {row.number_suffix}" if row.number_suffix else "")
    place = row.city or row.community or ""
    unit = f" UNIT {row.unit}" if row.unit else ""
    return f"{number} {row.street}{unit}, {place}, {row.state} {row.zip}".replace(" ,", ",")
