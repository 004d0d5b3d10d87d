"""The network view's data: the PON tree (OLT, PON port, splitter, NAP, customers) with the
health of every ONT and element, from the network's live alarms and the open outages.

The network is asked once per page (``live_state``: one ``alarms`` call for every ONT, made
outside any transaction); when it does not answer, the alarms last received and not cleared
stand in, and the page says so. ``overview`` sums the ONTs of each PON port with a few
aggregate queries (the alarmed ONTs are looked up by serial, in chunks), so it costs the same
whatever the number of customers; ``pon_tree`` draws one PON port down to its customers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.adapters.network.base import NetworkAdapter, NetworkError
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import Alarm, Customer, Equipment, Nap, Olt, Outage, PonPort, Splitter
from fiberdesk.db.unit_of_work import UnitOfWork, UowFactory
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType
from fiberdesk.domain.errors import NotFound
from fiberdesk.domain.network_health import (
    ElementHealth,
    OntHealth,
    element_health,
    ont_health,
    rank,
)
from fiberdesk.domain.outages import OutageStatus, Scope
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services.alarms import chunks

OPEN_OUTAGES = (OutageStatus.DETECTED, OutageStatus.CONFIRMED)
#: customers drawn on the network: everyone with a NAP port but the disconnected
_ON_NETWORK = Customer.status != ServiceStatus.DISCONNECTED


@dataclass(frozen=True, slots=True)
class LiveState:
    """Active alarm kinds by ONT serial, and where they came from."""

    alarms: dict[str, frozenset[str]]
    #: "live" (asked the network now) or "stored" (the alarms last received)
    source: str
    at: datetime
    #: why the network was not asked or did not answer
    note: str | None = None


@dataclass(frozen=True, slots=True)
class OutageMark:
    """An open outage on or above an element."""

    id: int
    kind: str
    scope: Scope
    label: str


@dataclass(slots=True)
class PonSummary:
    id: int
    olt_id: int
    label: str
    slot: int
    port: int
    technology: str
    counts: Counter[OntHealth] = field(default_factory=Counter)
    health: ElementHealth = ElementHealth.IDLE
    #: open outages on it or its OLT, and on elements below it
    outages: list[OutageMark] = field(default_factory=list)

    @property
    def problems(self) -> int:
        return sum(
            self.counts[h] for h in (OntHealth.LOS, OntHealth.DYING_GASP, OntHealth.DEGRADED)
        )


@dataclass(slots=True)
class OltSummary:
    id: int
    name: str
    pons: list[PonSummary]
    counts: Counter[OntHealth]
    health: ElementHealth
    outages: list[OutageMark]


@dataclass(frozen=True, slots=True)
class CustomerInfo:
    account_number: str
    name: str
    address: str
    status: ServiceStatus
    serial: str | None
    port_number: int | None
    alarms: tuple[str, ...]


@dataclass(slots=True)
class Node:
    """One element of the PON tree; a customer is a leaf with ``customer`` set."""

    kind: str  # olt, pon, splitter, nap, customer
    id: int
    label: str
    health: ElementHealth | OntHealth
    detail: str = ""
    counts: Counter[OntHealth] = field(default_factory=Counter)
    outages: list[OutageMark] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    customer: CustomerInfo | None = None


# -- the network's state ---------------------------------------------------------------


def stored_alarms(session: Session) -> dict[str, frozenset[str]]:
    """Matched alarms received and not cleared, by ONT serial."""
    found: dict[str, set[str]] = defaultdict(set)
    for serial, kind in session.execute(
        sa.select(Alarm.ont_serial, Alarm.kind).where(
            Alarm.cleared_at.is_(None), Alarm.matched.is_(True), Alarm.ont_serial.is_not(None)
        )
    ):
        if serial:
            found[serial].add(kind)
    return {s: frozenset(k) for s, k in found.items()}


def live_state(
    uows: UowFactory, *, actor: Actor, network: NetworkAdapter, now: datetime | None = None
) -> LiveState:
    """Ask the network once for every ONT's active alarms (outside any transaction); when
    it does not answer, fall back on the alarms stored and not cleared."""
    actor.require(Permission.NETWORK_READ)
    now = now or utcnow()
    try:
        reported = network.alarms(since=now)
    except NetworkError as exc:
        with uows(write=False) as uow:
            stored = stored_alarms(uow.session)
        note = f"the network did not answer ({exc.reason}); showing the alarms last received"
        return LiveState(stored, "stored", now, note)
    found: dict[str, set[str]] = defaultdict(set)
    for a in reported:
        if a.serial and (a.cleared_at is None or a.cleared_at > now):
            found[a.serial].add(a.kind.value)
    return LiveState({s: frozenset(k) for s, k in found.items()}, "live", now)


def _open_outages(s: Session) -> list[tuple[Outage, OutageMark]]:
    return [
        (o, OutageMark(o.id, o.kind.value, o.scope, o.scope_label))
        for o in s.scalars(
            sa.select(Outage).where(Outage.status.in_(OPEN_OUTAGES)).order_by(Outage.id)
        )
    ]


def pon_of(s: Session, scope: Scope, scope_id: int) -> int | None:
    """The PON port above a splitter, NAP or ONT (by equipment id)."""
    if scope is Scope.SPLITTER:
        return s.scalar(sa.select(Splitter.pon_port_id).where(Splitter.id == scope_id))
    if scope is Scope.NAP:
        return s.scalar(
            sa.select(Splitter.pon_port_id)
            .join(Nap, Nap.splitter_id == Splitter.id)
            .where(Nap.id == scope_id)
        )
    if scope is Scope.ONT:
        return s.scalar(
            sa.select(Splitter.pon_port_id)
            .join(Nap, Nap.splitter_id == Splitter.id)
            .join(Customer, Customer.nap_id == Nap.id)
            .join(Equipment, Equipment.customer_id == Customer.id)
            .where(Equipment.id == scope_id)
        )
    return scope_id if scope is Scope.PON_PORT else None


# -- the overview: OLTs and their PON ports ----------------------------------------------


def overview(
    uow: UnitOfWork, *, actor: Actor, state: LiveState, olt_id: int | None = None
) -> list[OltSummary]:
    """Every OLT (or one) with its PON ports, each with its ONTs counted by health; the PON
    ports with problems first."""
    actor.require(Permission.NETWORK_READ)
    s = uow.session
    olt_query = sa.select(Olt.id, Olt.name).order_by(Olt.name)
    pon_query = sa.select(
        PonPort.id, PonPort.olt_id, Olt.name, PonPort.slot, PonPort.port, PonPort.technology
    ).join(Olt, Olt.id == PonPort.olt_id)
    if olt_id is not None:
        olt_query = olt_query.where(Olt.id == olt_id)
        pon_query = pon_query.where(PonPort.olt_id == olt_id)
    olts = s.execute(olt_query).all()
    if olt_id is not None and not olts:
        raise NotFound(f"no OLT {olt_id}")
    pons = {
        pid: PonSummary(pid, oid, f"{name} {slot}/{port}", slot, port, tech.value)
        for pid, oid, name, slot, port, tech in s.execute(pon_query)
    }
    _count_pons(s, pons, state, olt_id)
    by_olt: dict[int, list[PonSummary]] = defaultdict(list)
    for p in pons.values():
        by_olt[p.olt_id].append(p)
    olt_marks: dict[int, list[OutageMark]] = defaultdict(list)
    for outage, mark in _open_outages(s):
        if outage.scope is Scope.OLT:
            olt_marks[outage.scope_id].append(mark)
            for p in by_olt.get(outage.scope_id, ()):
                p.outages.append(mark)
        else:
            pon_id = pon_of(s, outage.scope, outage.scope_id)
            if pon_id in pons:
                pons[pon_id].outages.append(mark)
    result = []
    for oid, name in olts:
        members = by_olt.get(oid, [])
        for p in members:
            p.health = _health(p.counts, p.outages, {Scope.OLT, Scope.PON_PORT})
        members.sort(key=lambda p: (rank(p.health), -p.problems, p.slot, p.port))
        total: Counter[OntHealth] = Counter()
        for p in members:
            total.update(p.counts)
        health = _health(total, olt_marks[oid], {Scope.OLT})
        if health is ElementHealth.OK and any(
            p.health is not ElementHealth.OK and p.health is not ElementHealth.IDLE for p in members
        ):
            health = ElementHealth.WARNING
        result.append(OltSummary(oid, name, members, total, health, olt_marks[oid]))
    return sorted(result, key=lambda o: (rank(o.health), o.name))


def _health(
    counts: Counter[OntHealth], marks: list[OutageMark], covering: set[Scope]
) -> ElementHealth:
    """Health from the counts and the outages: those on ``covering`` scopes cover the whole
    element; an outage further down makes it show problems at least."""
    over = [m for m in marks if m.scope in covering]
    kind = "FIBER" if any(m.kind == "FIBER" for m in over) else (over[0].kind if over else None)
    health = element_health(counts, kind)
    if marks and health in (ElementHealth.OK, ElementHealth.IDLE):
        return ElementHealth.WARNING
    return health


def _count_pons(
    s: Session, pons: dict[int, PonSummary], state: LiveState, olt_id: int | None
) -> None:
    ont = sa.and_(
        Equipment.customer_id == Customer.id,
        Equipment.type == EquipmentType.ONT,
        Equipment.status == EquipmentStatus.INSTALLED,
    )
    query = (
        sa.select(
            PonPort.id, Customer.status, sa.func.count(Customer.id), sa.func.count(Equipment.id)
        )
        .join(Nap, Nap.id == Customer.nap_id)
        .join(Splitter, Splitter.id == Nap.splitter_id)
        .join(PonPort, PonPort.id == Splitter.pon_port_id)
        .outerjoin(Equipment, ont)
        .where(_ON_NETWORK)
        .group_by(PonPort.id, Customer.status)
    )
    if olt_id is not None:
        query = query.where(PonPort.olt_id == olt_id)
    for pon_id, status, everyone, with_ont in s.execute(query):
        counts = pons[pon_id].counts
        base = OntHealth.OFFLINE if status is ServiceStatus.SUSPENDED else OntHealth.ONLINE
        counts[base] += with_ont
        counts[OntHealth.NOT_INSTALLED] += everyone - with_ont
    serials = sorted(state.alarms)
    for chunk in chunks(serials):
        alarmed = (
            sa.select(Equipment.serial_number, Customer.status, PonPort.id)
            .join(Customer, Customer.id == Equipment.customer_id)
            .join(Nap, Nap.id == Customer.nap_id)
            .join(Splitter, Splitter.id == Nap.splitter_id)
            .join(PonPort, PonPort.id == Splitter.pon_port_id)
            .where(
                Equipment.type == EquipmentType.ONT,
                Equipment.status == EquipmentStatus.INSTALLED,
                Equipment.serial_number.in_(chunk),
                _ON_NETWORK,
            )
        )
        if olt_id is not None:
            alarmed = alarmed.where(PonPort.olt_id == olt_id)
        for serial, status, pon_id in s.execute(alarmed):
            in_service = status is not ServiceStatus.SUSPENDED
            base = OntHealth.ONLINE if in_service else OntHealth.OFFLINE
            health = ont_health(state.alarms[serial], installed=True, in_service=in_service)
            if health is not base and pon_id in pons:
                pons[pon_id].counts[base] -= 1
                pons[pon_id].counts[health] += 1


# -- one PON port down to its customers --------------------------------------------------


def pon_tree(uow: UnitOfWork, *, actor: Actor, state: LiveState, pon_id: int) -> Node:
    """The OLT above one PON port and the port's splitters, NAPs and customers, each with
    its health; a NAP or splitter under an open fiber outage is down with all below it."""
    actor.require(Permission.CUSTOMERS_READ)
    s = uow.session
    port = s.get(PonPort, pon_id)
    if port is None:
        raise NotFound(f"no PON port {pon_id}")
    olt = s.get_one(Olt, port.olt_id)
    splitters = s.scalars(
        sa.select(Splitter).where(Splitter.pon_port_id == pon_id).order_by(Splitter.code)
    ).all()
    naps = s.scalars(
        sa.select(Nap).where(Nap.splitter_id.in_([sp.id for sp in splitters])).order_by(Nap.code)
    ).all()
    ont = sa.and_(
        Equipment.customer_id == Customer.id,
        Equipment.type == EquipmentType.ONT,
        Equipment.status == EquipmentStatus.INSTALLED,
    )
    customers = s.execute(
        sa.select(Customer, Equipment.serial_number)
        .outerjoin(Equipment, ont)
        .where(Customer.nap_id.in_([n.id for n in naps]), _ON_NETWORK)
        .order_by(Customer.port_number, Customer.account_number)
    ).all()
    marks: dict[tuple[Scope, int], list[OutageMark]] = defaultdict(list)
    for outage, mark in _open_outages(s):
        marks[(outage.scope, outage.scope_id)].append(mark)

    by_nap: dict[int, list[Node]] = defaultdict(list)
    for cust, serial in customers:
        in_service = cust.status is not ServiceStatus.SUSPENDED
        kinds = state.alarms.get(serial, frozenset()) if serial else frozenset()
        health = ont_health(kinds, installed=serial is not None, in_service=in_service)
        info = CustomerInfo(
            cust.account_number,
            cust.name,
            cust.service_address,
            cust.status,
            serial,
            cust.port_number,
            tuple(sorted(kinds)),
        )
        assert cust.nap_id is not None
        by_nap[cust.nap_id].append(
            Node("customer", cust.id, cust.name, health, cust.service_address, customer=info)
        )

    above = marks[(Scope.OLT, olt.id)] + marks[(Scope.PON_PORT, port.id)]
    nap_nodes: dict[int, list[Node]] = defaultdict(list)
    for n in naps:
        leaves = by_nap[n.id]
        node = Node(
            "nap",
            n.id,
            n.code,
            ElementHealth.IDLE,
            f"NAP, {n.port_count} ports, {len(leaves)} in use",
            children=leaves,
            outages=above + marks[(Scope.SPLITTER, n.splitter_id)] + marks[(Scope.NAP, n.id)],
        )
        node.counts.update(leaf.health for leaf in leaves if isinstance(leaf.health, OntHealth))
        node.health = _health(
            node.counts, node.outages, {Scope.OLT, Scope.PON_PORT, Scope.SPLITTER, Scope.NAP}
        )
        nap_nodes[n.splitter_id].append(node)
    splitter_nodes = []
    for sp in splitters:
        children = nap_nodes[sp.id]
        own = above + marks[(Scope.SPLITTER, sp.id)]
        below = [m for c in children for m in c.outages if m not in own]
        node = Node(
            "splitter",
            sp.id,
            sp.code,
            ElementHealth.IDLE,
            f"1:{sp.ratio} splitter, {len(children)} NAPs",
            children=children,
            outages=own + list(dict.fromkeys(below)),
        )
        for c in children:
            node.counts.update(c.counts)
        node.health = _health(
            node.counts, node.outages, {Scope.OLT, Scope.PON_PORT, Scope.SPLITTER}
        )
        splitter_nodes.append(node)
    pon = Node(
        "pon",
        port.id,
        f"{olt.name} {port.slot}/{port.port}",
        ElementHealth.IDLE,
        f"{port.technology.value} port, up to 1:{port.max_split}",
        children=splitter_nodes,
    )
    pon_below = [m for c in splitter_nodes for m in c.outages if m not in above]
    pon.outages = above + list(dict.fromkeys(pon_below))
    for c in splitter_nodes:
        pon.counts.update(c.counts)
    pon.health = _health(pon.counts, pon.outages, {Scope.OLT, Scope.PON_PORT})
    root = Node(
        "olt",
        olt.id,
        olt.name,
        ElementHealth.IDLE,
        f"{olt.vendor} {olt.model}",
        children=[pon],
        outages=list(marks[(Scope.OLT, olt.id)]),
    )
    root.counts.update(pon.counts)
    # the OLT's other ports are not drawn: only its own outage makes it down
    root.health = _health(Counter(), root.outages, {Scope.OLT})
    if root.health is ElementHealth.IDLE:
        working = pon.health in (ElementHealth.OK, ElementHealth.IDLE)
        root.health = pon.health if working else ElementHealth.WARNING
    return root


def walk(node: Node, depth: int = 0) -> list[tuple[int, Node]]:
    """The tree in reading order with each node's depth (for the table view)."""
    found = [(depth, node)]
    for child in node.children:
        found.extend(walk(child, depth + 1))
    return found
