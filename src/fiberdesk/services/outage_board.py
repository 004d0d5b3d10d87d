"""The NOC's outage board: open and recently restored outages with their tickets and alarms,
one outage's page (customers, tickets, alarms, the notices sent), and what the NOC does by
hand: update an open outage's estimate or notes, declare an outage no alarm has shown.

Detection, confirmation and resolution stay in ``services.outages``; this module reads for
the pages and adds the two hand actions, through the same notices and audit log.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Alarm,
    Customer,
    Equipment,
    Nap,
    Olt,
    Outage,
    OutageCustomer,
    OutboxMessage,
    PonPort,
    Premises,
    Splitter,
    Ticket,
)
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType, normalise_ont_serial
from fiberdesk.domain.errors import Conflict, InvalidInput, NotFound, TransitionRefused
from fiberdesk.domain.outages import OutageKind, OutageStatus, Scope
from fiberdesk.domain.tickets import TicketStatus
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import alarms, audit, maintenance, tickets
from fiberdesk.services.alarms import AlarmView, chunks
from fiberdesk.services.maintenance import MaintenanceView
from fiberdesk.services.network_map import pon_of
from fiberdesk.services.outages import OPEN, OutageDetail, OutageView, outage_detail
from fiberdesk.services.outages.lifecycle import text_field
from fiberdesk.services.outages.notices import customers_by_id, notify
from fiberdesk.services.outages.settings import DEFAULT_SETTINGS, OutageSettings

#: the messages an outage sends its customers
NOTICE_KINDS = ("outage_notification", "restoration_notice")
RESTORED_DAYS = 7


@dataclass(frozen=True, slots=True)
class BoardOutage:
    outage: OutageView
    #: linked tickets, and how many of them are still open
    tickets: int
    open_tickets: int
    #: the alarms that make it up, by kind (``{"LOS": 11}``)
    alarm_kinds: dict[str, int]


@dataclass(frozen=True, slots=True)
class Board:
    open: list[BoardOutage]
    restored: list[BoardOutage]
    maintenance: list[MaintenanceView]
    alarms: list[AlarmView]
    #: matched alarms not cleared, and those of them in no outage
    active_alarms: int
    loose_alarms: int
    #: names of the alarms' customers
    names: dict[int, str]


@dataclass(frozen=True, slots=True)
class TicketLine:
    id: int
    customer_id: int
    customer_name: str
    category: str
    status: TicketStatus
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NoticeLine:
    kind: str
    customer_id: int | None
    recipient: str
    channel: str
    status: str
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class OutagePage:
    detail: OutageDetail
    tickets: list[TicketLine]
    notices: list[NoticeLine]
    #: (kind, delivery status) -> messages
    notice_counts: dict[tuple[str, str], int]
    alarms: list[AlarmView]
    alarm_kinds: dict[str, int]
    #: the PON port the outage is on or under (None for an OLT)
    pon_id: int | None
    #: names of the alarms' customers
    names: dict[int, str]


def _per_outage(
    s: Session, ids: list[int]
) -> tuple[dict[int, Counter[str]], dict[int, Counter[str]]]:
    """Alarm kinds and tickets (``open``/``all``) of each outage."""
    kinds: dict[int, Counter[str]] = defaultdict(Counter)
    ticket_counts: dict[int, Counter[str]] = defaultdict(Counter)
    for chunk in chunks(ids):
        for outage_id, kind, n in s.execute(
            sa.select(Alarm.outage_id, Alarm.kind, sa.func.count())
            .where(Alarm.outage_id.in_(chunk))
            .group_by(Alarm.outage_id, Alarm.kind)
        ):
            if outage_id is not None:
                kinds[outage_id][kind] += n
        for outage_id, status, n in s.execute(
            sa.select(Ticket.outage_id, Ticket.status, sa.func.count())
            .where(Ticket.outage_id.in_(chunk))
            .group_by(Ticket.outage_id, Ticket.status)
        ):
            if outage_id is not None:
                ticket_counts[outage_id]["all"] += n
                if status in tickets.OPEN_STATUSES:
                    ticket_counts[outage_id]["open"] += n
    return kinds, ticket_counts


def _view(o: Outage) -> OutageView:
    return OutageView(
        o.id,
        o.status,
        o.kind,
        o.scope,
        o.scope_id,
        o.scope_label,
        o.area,
        o.detected_at,
        o.confirmed_at,
        o.resolved_at,
        o.estimated_resolution,
        o.cause,
        o.affected_onts,
        o.affected_customers,
    )


def board(
    uow: UnitOfWork,
    *,
    actor: Actor,
    now: datetime | None = None,
    restored_days: int = RESTORED_DAYS,
    alarm_limit: int = 50,
) -> Board:
    """Open outages (oldest first), those restored in the last ``restored_days`` (latest
    first), current and coming maintenance, and the latest alarms."""
    actor.require(Permission.NETWORK_READ)
    s, now = uow.session, now or utcnow()
    open_rows = list(
        s.scalars(sa.select(Outage).where(Outage.status.in_(OPEN)).order_by(Outage.detected_at))
    )
    restored_rows = list(
        s.scalars(
            sa.select(Outage)
            .where(
                Outage.status == OutageStatus.RESOLVED,
                Outage.resolved_at >= now - timedelta(days=restored_days),
            )
            .order_by(Outage.resolved_at.desc(), Outage.id.desc())
            .limit(50)
        )
    )
    kinds, counts = _per_outage(s, [o.id for o in open_rows + restored_rows])

    def line(o: Outage) -> BoardOutage:
        return BoardOutage(
            _view(o), counts[o.id]["all"], counts[o.id]["open"], dict(kinds[o.id].most_common())
        )

    active = sa.and_(Alarm.cleared_at.is_(None), Alarm.matched.is_(True))
    active_count = s.scalar(sa.select(sa.func.count()).where(active)) or 0
    loose = (
        s.scalar(
            sa.select(sa.func.count()).where(
                active, Alarm.outage_id.is_(None), Alarm.suppressed_by.is_(None)
            )
        )
        or 0
    )
    latest = alarms.list_alarms(uow, actor=actor, limit=alarm_limit)
    # the active ones first, then the latest cleared
    latest.sort(key=lambda a: (a.cleared_at is not None, -a.raised_at.timestamp(), -a.id))
    return Board(
        [line(o) for o in open_rows],
        [line(o) for o in restored_rows],
        maintenance.list_maintenance(uow, actor=actor, now=now),
        latest,
        active_count,
        loose,
        _names(s, [a.customer_id for a in latest if a.customer_id]),
    )


def outage_page(uow: UnitOfWork, *, actor: Actor, outage_id: int) -> OutagePage:
    """One outage with its customers, linked tickets, alarms and the notices it sent."""
    actor.require(Permission.NETWORK_READ)
    detail = outage_detail(uow, actor=actor, outage_id=outage_id)
    s = uow.session
    ticket_lines = [
        TicketLine(t.id, t.customer_id, name, t.category.label, t.status, t.created_at)
        for t, name in s.execute(
            sa.select(Ticket, Customer.name)
            .join(Customer, Customer.id == Ticket.customer_id)
            .where(Ticket.outage_id == outage_id)
            .order_by(Ticket.id)
        )
    ]
    keys = sa.or_(
        *(OutboxMessage.idempotency_key.like(f"{kind}:{outage_id}:%") for kind in NOTICE_KINDS)
    )
    notices = [
        NoticeLine(m.kind, m.customer_id, m.recipient, m.channel, m.status, m.created_at, m.sent_at)
        for m in s.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.kind.in_(NOTICE_KINDS), keys)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(500)
        )
    ]
    notice_counts: Counter[tuple[str, str]] = Counter()
    for kind, status, n in s.execute(
        sa.select(OutboxMessage.kind, OutboxMessage.status, sa.func.count())
        .where(OutboxMessage.kind.in_(NOTICE_KINDS), keys)
        .group_by(OutboxMessage.kind, OutboxMessage.status)
    ):
        notice_counts[(kind, status)] += n
    alarm_views = alarms.list_alarms(uow, actor=actor, outage_id=outage_id, limit=200)
    kinds, _ = _per_outage(s, [outage_id])
    o = detail.outage
    return OutagePage(
        detail,
        ticket_lines,
        notices,
        dict(notice_counts),
        alarm_views,
        dict(kinds[outage_id].most_common()),
        pon_of(s, o.scope, o.scope_id),
        _names(s, [a.customer_id for a in alarm_views if a.customer_id]),
    )


def _names(s: Session, ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in chunks(sorted(set(ids))):
        query = sa.select(Customer.id, Customer.name).where(Customer.id.in_(chunk))
        found.update((customer_id, name) for customer_id, name in s.execute(query))
    return found


# -- network elements by the names people use ------------------------------------------

_PON = re.compile(r"^\s*(\S+)\s+(\d{1,3})\s*/\s*(\d{1,3})\s*$")
EXAMPLES = {
    Scope.NAP: "a NAP code, e.g. NAP-21286-0008",
    Scope.SPLITTER: "a splitter code, e.g. LCP-TWSN-0071",
    Scope.PON_PORT: "an OLT name and slot/port, e.g. TWSN-OLT01 5/7",
    Scope.OLT: "an OLT name, e.g. TWSN-OLT01",
    Scope.ONT: "an ONT serial, e.g. HWTC1A2B3C4D",
}


def find_element(session: Session, scope: Scope, text: str) -> tuple[int, str]:
    """The id and name of the element called ``text`` (a NAP or splitter code, an OLT name,
    ``OLT slot/port`` for a PON port, an ONT serial); refused on the ``element`` field."""
    name = text.strip().upper()
    found: tuple[int, str] | None = None
    if not name:
        raise InvalidInput(f"give {EXAMPLES[scope]}", field="element")
    if scope is Scope.PON_PORT:
        match = _PON.match(name)
        if match:
            row = session.execute(
                sa.select(PonPort.id, Olt.name)
                .join(Olt, Olt.id == PonPort.olt_id)
                .where(
                    Olt.name == match.group(1),
                    PonPort.slot == int(match.group(2)),
                    PonPort.port == int(match.group(3)),
                )
            ).first()
            if row is not None:
                found = (row[0], f"{row[1]} {int(match.group(2))}/{int(match.group(3))}")
    elif scope is Scope.ONT:
        try:
            serial = normalise_ont_serial(name)
        except InvalidInput:
            serial = None
        if serial:
            equipment_id = session.scalar(
                sa.select(Equipment.id).where(
                    Equipment.type == EquipmentType.ONT, Equipment.serial_number == serial
                )
            )
            found = (equipment_id, serial) if equipment_id is not None else None
    else:
        column = {Scope.NAP: Nap.code, Scope.SPLITTER: Splitter.code, Scope.OLT: Olt.name}[scope]
        row_id = session.scalar(sa.select(column.table.c.id).where(column == name))
        found = (row_id, name) if row_id is not None else None
    if found is None:
        raise InvalidInput(
            f"{text.strip()[:40]} is not a known {scope.label}: give {EXAMPLES[scope]}",
            field="element",
        )
    return found


def _area(s: Session, customer_ids: list[int], fallback: str) -> str:
    towns: dict[str, set[str]] = defaultdict(set)
    for chunk in chunks(sorted(customer_ids)):
        for city, zip_code in s.execute(
            sa.select(Premises.city, Premises.zip)
            .join(Customer, Customer.premises_id == Premises.id)
            .where(Customer.id.in_(chunk))
            .distinct()
        ):
            towns[(city or "").title()].add(zip_code)
    text = "; ".join(f"{t} {', '.join(sorted(z))}".strip() for t, z in sorted(towns.items()))
    if len(text) > 200:
        text = text[:160].rsplit(";", 1)[0] + f" and more ({len(towns)} towns)"
    return text or f"the area served by {fallback}"


def _eta(eta: datetime | None, now: datetime) -> datetime | None:
    if eta is not None and (eta.tzinfo is None or eta <= now):
        raise InvalidInput("the estimate must be a time in the future", field="eta")
    return eta


# -- the NOC's hand actions --------------------------------------------------------------


def update_outage(
    uow: UnitOfWork,
    *,
    actor: Actor,
    outage_id: int,
    eta: datetime | None = None,
    note: str = "",
    now: datetime | None = None,
) -> OutageView:
    """A new repair estimate and/or a note on an open outage (the note is added to its
    cause, as resolving does)."""
    actor.require(Permission.NETWORK_WRITE)
    s, now = uow.session, now or utcnow()
    outage = s.get(Outage, outage_id, with_for_update=True)
    if outage is None:
        raise NotFound(f"no outage {outage_id}")
    if outage.status not in OPEN:
        raise TransitionRefused(f"outage #{outage.id} is {outage.status.label.lower()}")
    note = note.strip()
    if eta is None and not note:
        raise InvalidInput("give a new estimate, a note, or both", field="note")
    before = audit.snapshot(outage)
    if eta is not None:
        outage.estimated_resolution = _eta(eta, now)
    if note:
        note = text_field(note, "note")
        outage.cause = f"{outage.cause}\n{note}" if outage.cause else note
    audit.record(
        s,
        actor=actor,
        action="outage.update",
        entity_type="outage",
        entity_id=outage.id,
        before=before,
        after=audit.snapshot(outage),
    )
    result = _view(outage)
    uow.commit()
    return result


def declare_outage(
    uow: UnitOfWork,
    *,
    actor: Actor,
    scope: Scope,
    element: str,
    kind: OutageKind,
    cause: str,
    eta: datetime | None = None,
    settings: OutageSettings = DEFAULT_SETTINGS,
    now: datetime | None = None,
) -> OutageView:
    """An outage the NOC knows of before (or without) alarms: confirmed at once, with every
    active customer under the element in it, told, and their open tickets linked."""
    actor.require(Permission.NETWORK_WRITE)
    s, now = uow.session, now or utcnow()
    cause = text_field(cause, "cause")
    eta = _eta(eta, now)
    scope_id, label = find_element(s, scope, element)
    standing = s.scalar(
        sa.select(Outage.id).where(
            Outage.status.in_(OPEN),
            Outage.scope == scope,
            Outage.scope_id == scope_id,
            Outage.kind == kind,
        )
    )
    if standing is not None:
        raise Conflict(f"outage #{standing} is already open on {label}", field="element")
    people = list(s.scalars(maintenance.customers_under(scope, scope_id)))
    ids = [c.id for c in people]
    onts = 0
    for chunk in chunks(ids):
        onts += (
            s.scalar(
                sa.select(sa.func.count()).where(
                    Equipment.customer_id.in_(chunk),
                    Equipment.type == EquipmentType.ONT,
                    Equipment.status == EquipmentStatus.INSTALLED,
                )
            )
            or 0
        )
    outage = Outage(
        status=OutageStatus.CONFIRMED,
        kind=kind,
        scope=scope,
        scope_id=scope_id,
        scope_label=label[:80],
        area=_area(s, ids, label),
        detected_at=now,
        confirmed_at=now,
        estimated_resolution=eta or now + settings.eta(kind, scope),
        cause=cause,
        affected_onts=onts,
        affected_customers=len(ids),
    )
    s.add(outage)
    s.flush()
    told = notify(s, outage, customers_by_id(s, ids).values(), "outage_notification", settings, now)
    if ids:
        s.execute(
            sa.insert(OutageCustomer),
            [
                {
                    "outage_id": outage.id,
                    "customer_id": cid,
                    "restored_at": None,
                    "notified_at": now if cid in told else None,
                }
                for cid in ids
            ],
        )
    for chunk in chunks(ids):
        for ticket in s.scalars(
            sa.select(Ticket).where(
                Ticket.customer_id.in_(chunk),
                Ticket.status.in_(tickets.OPEN_STATUSES),
                Ticket.outage_id.is_(None),
            )
        ):
            ticket.outage_id = outage.id
            tickets.log(
                ticket,
                actor=actor,
                kind="outage",
                at=now,
                text=f"linked to outage #{outage.id} ({label}), declared by the NOC: "
                "no separate investigation",
            )
    audit.record(
        s,
        actor=actor,
        action="outage.declare",
        entity_type="outage",
        entity_id=outage.id,
        after=audit.snapshot(outage),
    )
    result = _view(outage)
    uow.commit()
    return result
