"""Equipment and addresses: ONTs and routers (in stock, assigned, installed, returned,
defective) and the static IP pools of the Business tier.

ONT serials follow ITU-T G.984: a four-letter vendor id and eight hex digits. The vendors
and their ids are invented; MAC addresses are locally administered (``02:...``), so they can
never collide with a real device's. The IP pools are the three documentation ranges.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fiberdesk.db.models import Equipment, IpAddress, IpPool, SimOnt
from fiberdesk.domain.catalog import DEFAULT_TIERS
from fiberdesk.domain.customers import OCCUPYING_STATUSES, ServiceStatus
from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType
from fiberdesk.domain.network import PonTechnology
from fiberdesk.services.demo.context import DemoContext
from fiberdesk.services.demo.database import insert_all, insert_ids

S = ServiceStatus
E = EquipmentStatus
TIERS = {t.code: t for t in DEFAULT_TIERS}


@dataclass(frozen=True, slots=True)
class Make:
    vendor_id: str
    vendor: str
    model: str
    mac_prefix: str


ONT_MAKES: dict[PonTechnology, tuple[Make, ...]] = {
    PonTechnology.GPON: (
        Make("LMNR", "Lumenar Networks", "LN-G240W", "02:4C:4E"),
        Make("TDWP", "Tidewater Photonics", "TW-2426G", "02:54:44"),
    ),
    PonTechnology.XGS_PON: (Make("CRVN", "Corvane Optical", "CX-X10", "02:43:52"),),
}
HOME_ROUTER = Make("BWRT", "Brightwave", "BW-AX3000", "02:42:57")
BUSINESS_ROUTER = Make("BWRT", "Brightwave", "BW-AX6000 Pro", "02:42:58")
ROUTER_PLANS = frozenset({"PLUS", "PREMIUM", "GIGABIT"})
IP_POOLS = (
    ("business-static-a", "192.0.2.0/24"),
    ("business-static-b", "198.51.100.0/24"),
    ("business-static-c", "203.0.113.0/24"),
)


@dataclass(slots=True)
class Unit:
    life: int | None
    type: EquipmentType
    serial: str
    mac: str
    status: EquipmentStatus
    make: Make
    created_at: datetime
    ip: str | None = None


class _Numbers:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.serials: set[str] = set()
        self.macs: dict[str, int] = {}

    def serial(self, make: Make, router: bool) -> str:
        while True:
            tail = (
                f"{self.rng.randrange(10**9, 10**10)}"
                if router
                else f"{self.rng.getrandbits(32):08X}"
            )
            serial = make.vendor_id + tail
            if serial not in self.serials:
                self.serials.add(serial)
                return serial

    def mac(self, make: Make) -> str:
        last = self.macs.get(make.mac_prefix, self.rng.randrange(0x100000))
        value = last + self.rng.randint(1, 7)
        self.macs[make.mac_prefix] = value
        tail = f"{value:06X}"
        return f"{make.mac_prefix}:{tail[0:2]}:{tail[2:4]}:{tail[4:6]}"


class Stockroom:
    """Plans every unit: the customers' by status, then the warehouse's."""

    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rng = ctx.rng("stock")
        self.numbers = _Numbers(self.rng)
        self.units: list[Unit] = []

    def _add(
        self, life: int | None, make: Make, kind: EquipmentType, status: E, at: datetime
    ) -> Unit:
        router = kind is EquipmentType.ROUTER
        serial, mac = self.numbers.serial(make, router), self.numbers.mac(make)
        unit = Unit(life, kind, serial, mac, status, make, at)
        self.units.append(unit)
        return unit

    def _make(self, life: int) -> Make:
        ctx = self.ctx
        splitter = ctx.net.splitters[ctx.nap_of(ctx.lives[life]).splitter]
        return self.rng.choice(ONT_MAKES[ctx.net.pons[splitter.pon].technology])

    def plan(self) -> None:
        """Customers' units (filling ``ctx.ont_serials``), then the stock on the shelves."""
        ctx, rng = self.ctx, self.rng
        for i, life in enumerate(ctx.lives):
            if life.status is S.PENDING or life.cancelled:
                continue
            make = self._make(i)
            started = life.activated_at or life.created_at
            received = started - timedelta(days=rng.randint(7, 60))
            if life.status in (S.SCHEDULED, S.INSTALLING):
                status = E.ASSIGNED
            elif life.status is S.DISCONNECTED:
                status = E.DEFECTIVE if rng.random() < 0.15 else E.RETURNED
            else:
                status = E.INSTALLED
            ctx.ont_serials[i] = self._add(i, make, EquipmentType.ONT, status, received).serial
            if status is E.INSTALLED:
                if life.business:
                    self._add(i, BUSINESS_ROUTER, EquipmentType.ROUTER, status, received)
                elif life.plan in ROUTER_PLANS and rng.random() < 0.6:
                    self._add(i, HOME_ROUTER, EquipmentType.ROUTER, status, received)
        for n in range(max(300, len(ctx.lives) // 8)):
            technology = PonTechnology.XGS_PON if n % 5 == 0 else PonTechnology.GPON
            received = ctx.now - timedelta(days=rng.randint(3, 120))
            status = E.DEFECTIVE if n % 40 == 7 else E.IN_STOCK
            self._add(None, rng.choice(ONT_MAKES[technology]), EquipmentType.ONT, status, received)
        for _ in range(max(120, len(ctx.lives) // 20)):
            received = ctx.now - timedelta(days=rng.randint(3, 120))
            self._add(None, HOME_ROUTER, EquipmentType.ROUTER, E.IN_STOCK, received)

    def add_replaced(self, replaced: set[int]) -> None:
        """The faulty ONTs that repair visits took out, kept as DEFECTIVE."""
        for i in sorted(replaced):
            life = self.ctx.lives[i]
            received = (life.activated_at or life.created_at) - timedelta(days=30)
            self._add(i, self._make(i), EquipmentType.ONT, E.DEFECTIVE, received)


def insert_ip_pools(session: Session, ctx: DemoContext, units: list[Unit]) -> tuple[int, int]:
    """The pools and every address in them; Business customers in service get one each,
    shown on their router. Returns (assigned, total)."""
    pool_ids = insert_ids(
        session,
        IpPool,
        [
            {"name": name, "cidr": cidr, "gateway": str(next(ipaddress.ip_network(cidr).hosts()))}
            for name, cidr in IP_POOLS
        ],
    )
    holders = [
        i for i, life in enumerate(ctx.lives) if life.business and life.status in OCCUPYING_STATUSES
    ]
    routers = {u.life: u for u in units if u.type is EquipmentType.ROUTER and u.life is not None}
    rows = []
    for pool_id, (_, cidr) in zip(pool_ids, IP_POOLS, strict=True):
        for host in list(ipaddress.ip_network(cidr).hosts())[1:]:  # .1 is the gateway
            life = holders.pop(0) if holders else None
            assigned = None
            if life is not None:
                at = ctx.lives[life].activated_at or ctx.lives[life].created_at
                assigned = at
                if life in routers:
                    routers[life].ip = str(host)
            rows.append(
                {
                    "pool_id": pool_id,
                    "address": str(host),
                    "customer_id": None if life is None else ctx.customer_ids[life],
                    "assigned_at": assigned,
                }
            )
    insert_all(session, IpAddress, rows)
    return sum(1 for r in rows if r["customer_id"] is not None), len(rows)


def insert_equipment(session: Session, ctx: DemoContext, units: list[Unit]) -> None:
    insert_all(
        session,
        Equipment,
        [
            {
                "customer_id": None if u.life is None else ctx.customer_ids[u.life],
                "type": u.type,
                "serial_number": u.serial,
                "mac_address": u.mac,
                "ip_address": u.ip,
                "status": u.status,
                "vendor": u.make.vendor,
                "model": u.make.model,
                "created_at": u.created_at,
            }
            for u in units
        ],
    )


def insert_sim_onts(session: Session, ctx: DemoContext) -> int:
    """Registers the installed ONTs on the simulated OLT (its ONT table), each on its PON
    port with its plan's profile and the receive power its path gives; returns how many."""
    onu_ids: dict[int, int] = {}
    rows = []
    lives = sorted(range(len(ctx.lives)), key=lambda i: (ctx.lives[i].activated_at or ctx.now, i))
    for i in lives:
        life = ctx.lives[i]
        if life.status not in (S.ACTIVE, S.SUSPENDED, S.RELOCATING) or life.activated_at is None:
            continue
        nap = ctx.nap_of(life)
        pon = ctx.net.splitters[nap.splitter].pon
        onu_ids[pon] = onu_ids.get(pon, 0) + 1
        tier = TIERS[life.plan]
        rows.append(
            {
                "serial": ctx.ont_serials[i],
                "pon_port_id": ctx.pon_ids[pon],
                "nap_id": ctx.nap_ids[life.seat.nap],
                "onu_id": onu_ids[pon],
                "profile": life.plan,
                "down_mbps": tier.download_mbps,
                "up_mbps": tier.upload_mbps,
                "admin_state": "SUSPENDED" if life.status is S.SUSPENDED else "ACTIVE",
                "base_rx_dbm": ctx.rx(life),
                "registered_at": life.activated_at,
                "last_seen_at": ctx.now,
            }
        )
    insert_all(session, SimOnt, rows)
    return len(rows)
