"""What the demo's parts share while it is built: the plan in memory and the new ids."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from fiberdesk.domain.tickets import DEFAULT_SLA_HOURS, TicketPriority
from fiberdesk.services.demo import addresses
from fiberdesk.services.demo.addresses import Site
from fiberdesk.services.demo.calendar import Calendar, Crew, local_dt
from fiberdesk.services.demo.coverage import Coverage
from fiberdesk.services.demo.layout import NapPlan, NetworkPlan
from fiberdesk.services.demo.lives import Life


def stream(seed: int, part: str) -> random.Random:
    """An independent random stream per part, so one part's draws never shift another's."""
    return random.Random(f"fiberdesk-demo:{seed}:{part}")


@dataclass
class DemoContext:
    seed: int
    today: date
    rows: list[dict[str, str]]
    sites: list[Site]
    net: NetworkPlan
    cov: Coverage
    crew: list[Crew]
    calendar: Calendar
    standard_drop_m: int = 150
    #: ticket resolution target and alert hours by priority
    sla_hours: dict[TicketPriority, tuple[int, int]] = field(
        default_factory=lambda: dict(DEFAULT_SLA_HOURS)
    )
    lives: list[Life] = field(default_factory=list)
    #: ids in the database, by the index of the planned thing
    premises_ids: dict[str, int] = field(default_factory=dict)
    pon_ids: list[int] = field(default_factory=list)
    splitter_ids: list[int] = field(default_factory=list)
    nap_ids: list[int] = field(default_factory=list)
    customer_ids: list[int] = field(default_factory=list)
    tech_ids: list[int] = field(default_factory=list)
    plan_ids: dict[str, int] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    #: the ONT serial each customer has (or had), by life index
    ont_serials: dict[int, str] = field(default_factory=dict)

    @property
    def now(self) -> datetime:
        return local_dt(self.today, time(12, 0))

    def rng(self, part: str) -> random.Random:
        return stream(self.seed, part)

    def premises_id(self, site: int) -> int:
        return self.premises_ids[self.sites[site].source_id]

    def label(self, site: int, unit: str | None = None) -> str:
        return addresses.label(self.rows[self.sites[site].row], unit)

    def nap_of(self, life: Life) -> NapPlan:
        return self.net.naps[life.seat.nap]

    def pon_label(self, life: Life) -> str:
        splitter = self.net.splitters[self.nap_of(life).splitter]
        pon = self.net.pons[splitter.pon]
        return f"{self.net.olts[pon.olt].name} {pon.slot}/{pon.port}"

    def rx(self, life: Life) -> Decimal:
        rx = self.cov.rx_dbm[life.seat.site]
        return rx if rx is not None else Decimal("-20.00")

    def tech_name(self, tech: int) -> str:
        return self.crew[tech].username
