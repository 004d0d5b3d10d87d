"""An outage's life after detection: the NOC confirms it, it is resolved (by the NOC, or
when its alarms clear) and its customers are told; the outage list and detail views, and
the network elements' names and sizes that outages are described by."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

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
    PonPort,
    Premises,
    Splitter,
    Ticket,
)
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain import correlation
from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType
from fiberdesk.domain.errors import InvalidInput, NotFound
from fiberdesk.domain.outages import OUTAGE_TRANSITIONS, OutageKind, OutageStatus, Scope
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit, tickets
from fiberdesk.services.outages.notices import customers_by_id, notify
from fiberdesk.services.outages.settings import DEFAULT_SETTINGS, OutageSettings

OPEN = (OutageStatus.DETECTED, OutageStatus.CONFIRMED)


@dataclass(frozen=True, slots=True)
class OutageView:
    id: int
    status: OutageStatus
    kind: OutageKind
    scope: Scope
    scope_id: int
    scope_label: str
    area: str
    detected_at: datetime
    confirmed_at: datetime | None
    resolved_at: datetime | None
    estimated_resolution: datetime | None
    cause: str | None
    affected_onts: int
    affected_customers: int


@dataclass(frozen=True, slots=True)
class AffectedCustomer:
    id: int
    account_number: str
    name: str
    service_address: str
    notified_at: datetime | None
    restored_at: datetime | None


@dataclass(frozen=True, slots=True)
class OutageDetail:
    outage: OutageView
    customers: list[AffectedCustomer]
    alarms: int
    tickets: list[int]


def _view(o: Outage) -> OutageView:
    return OutageView(
        o.id, o.status, o.kind, o.scope, o.scope_id, o.scope_label, o.area, o.detected_at,
        o.confirmed_at, o.resolved_at, o.estimated_resolution, o.cause, o.affected_onts,
        o.affected_customers,
    )  # fmt: skip


def scope_label(session: Session, scope: Scope, scope_id: int) -> str | None:
    """The element's name for people, or None when it does not exist."""
    if scope is Scope.PON_PORT:
        port = session.get(PonPort, scope_id)
        return port.label if port else None
    column = {
        Scope.NAP: Nap.code,
        Scope.SPLITTER: Splitter.code,
        Scope.OLT: Olt.name,
        Scope.ONT: Equipment.serial_number,
    }[scope]
    query = sa.select(column).where(column.table.c.id == scope_id)
    if scope is Scope.ONT:
        query = query.where(Equipment.type == EquipmentType.ONT)
    return session.scalar(query)


def element_counts(session: Session) -> dict[tuple[Scope, int], int]:
    """Installed ONTs under every NAP, splitter, PON port and OLT."""
    per_nap = {
        nap_id: n
        for nap_id, n in session.execute(
            sa.select(Customer.nap_id, sa.func.count())
            .join(Equipment, Equipment.customer_id == Customer.id)
            .where(
                Equipment.type == EquipmentType.ONT,
                Equipment.status == EquipmentStatus.INSTALLED,
                Customer.nap_id.is_not(None),
            )
            .group_by(Customer.nap_id)
        )
        if nap_id is not None
    }
    tree = session.execute(
        sa.select(Nap.id, Nap.splitter_id, Splitter.pon_port_id, PonPort.olt_id)
        .join(Splitter, Splitter.id == Nap.splitter_id)
        .join(PonPort, PonPort.id == Splitter.pon_port_id)
    )
    return correlation.roll_up(per_nap, tree)


def _get(s: Session, outage_id: int) -> Outage:
    outage = s.get(Outage, outage_id, with_for_update=True)
    if outage is None:
        raise NotFound(f"no outage {outage_id}")
    return outage


def text_field(value: str, name: str, limit: int = 2000) -> str:
    """``value`` stripped, refused when empty or longer than ``limit``."""
    text = value.strip()
    if not 1 <= len(text) <= limit:
        raise InvalidInput(f"the {name} must be 1 to {limit} characters", field=name)
    return text


def confirm(
    uow: UnitOfWork,
    *,
    actor: Actor,
    outage_id: int,
    cause: str,
    eta: datetime | None = None,
    now: datetime | None = None,
) -> OutageView:
    """The NOC confirms the fault, with its cause and, if known, a new estimate."""
    actor.require(Permission.NETWORK_WRITE)
    s, now = uow.session, now or utcnow()
    outage = _get(s, outage_id)
    OUTAGE_TRANSITIONS.check(outage.status, OutageStatus.CONFIRMED)
    before = audit.snapshot(outage)
    if eta is not None:
        if eta.tzinfo is None or eta <= outage.detected_at:
            raise InvalidInput(
                "the estimate must be a time with its zone, after detection", field="eta"
            )
        outage.estimated_resolution = eta
    outage.status, outage.confirmed_at = OutageStatus.CONFIRMED, now
    outage.cause = text_field(cause, "cause")
    audit.record(s, actor=actor, action="outage.confirm", entity_type="outage",
                 entity_id=outage.id, before=before, after=audit.snapshot(outage))  # fmt: skip
    result = _view(outage)
    uow.commit()
    return result


def resolve(
    s: Session, outage: Outage, actor: Actor, note: str, at: datetime, st: OutageSettings
) -> None:
    """Resolve an outage in the caller's transaction: its customers are restored and told,
    its open tickets and the audit log say so."""
    OUTAGE_TRANSITIONS.check(outage.status, OutageStatus.RESOLVED)
    before = audit.snapshot(outage)
    outage.status, outage.resolved_at = OutageStatus.RESOLVED, at
    outage.cause = f"{outage.cause}\n{note}" if outage.cause else note
    pending = s.scalars(
        sa.select(OutageCustomer.customer_id).where(
            OutageCustomer.outage_id == outage.id, OutageCustomer.restored_at.is_(None)
        )
    ).all()
    s.execute(
        sa.update(OutageCustomer)
        .where(OutageCustomer.outage_id == outage.id, OutageCustomer.restored_at.is_(None))
        .values(restored_at=at)
    )
    notify(s, outage, customers_by_id(s, pending).values(), "restoration_notice", st, at)
    for ticket in s.scalars(
        sa.select(Ticket).where(
            Ticket.outage_id == outage.id, Ticket.status.in_(tickets.OPEN_STATUSES)
        )
    ):
        tickets.log(ticket, actor=actor, kind="outage", at=at,
                    text=f"outage #{outage.id} resolved: {note}")  # fmt: skip
    after = audit.snapshot(outage) | {"note": note}
    audit.record(s, actor=actor, action="outage.resolve", entity_type="outage",
                 entity_id=outage.id, before=before, after=after)  # fmt: skip


def resolve_outage(
    uow: UnitOfWork,
    *,
    actor: Actor,
    outage_id: int,
    note: str,
    settings: OutageSettings = DEFAULT_SETTINGS,
    now: datetime | None = None,
) -> OutageView:
    """Service restored: every customer in the outage gets a restoration notice."""
    actor.require(Permission.NETWORK_WRITE)
    s = uow.session
    outage = _get(s, outage_id)
    resolve(s, outage, actor, text_field(note, "note"), now or utcnow(), settings)
    result = _view(outage)
    uow.commit()
    return result


def list_outages(
    uow: UnitOfWork,
    *,
    actor: Actor,
    status: OutageStatus | None = None,
    zip_code: str | None = None,
    limit: int = 100,
) -> list[OutageView]:
    """Newest first; ``zip_code`` keeps the outages with a customer in that ZIP."""
    actor.require(Permission.NETWORK_READ)
    if not 1 <= limit <= 500:
        raise InvalidInput("limit must be 1 to 500", field="limit")
    query = sa.select(Outage)
    if status is not None:
        query = query.where(Outage.status == status)
    if zip_code is not None:
        if not re.fullmatch(r"\d{5}", zip_code.strip()):
            raise InvalidInput(f"{zip_code!r} is not a 5-digit ZIP code", field="zip")
        query = query.where(
            sa.exists(
                sa.select(OutageCustomer.customer_id)
                .join(Customer, Customer.id == OutageCustomer.customer_id)
                .join(Premises, Premises.id == Customer.premises_id)
                .where(OutageCustomer.outage_id == Outage.id, Premises.zip == zip_code.strip())
            )
        )
    rows = uow.session.scalars(
        query.order_by(Outage.detected_at.desc(), Outage.id.desc()).limit(limit)
    )
    return [_view(o) for o in rows]


def outage_detail(uow: UnitOfWork, *, actor: Actor, outage_id: int) -> OutageDetail:
    actor.require(Permission.CUSTOMERS_READ)
    s = uow.session
    outage = s.get(Outage, outage_id)
    if outage is None:
        raise NotFound(f"no outage {outage_id}")
    customers = [
        AffectedCustomer(
            c.id, c.account_number, c.name, c.service_address, oc.notified_at, oc.restored_at
        )
        for oc, c in s.execute(
            sa.select(OutageCustomer, Customer)
            .join(Customer, Customer.id == OutageCustomer.customer_id)
            .where(OutageCustomer.outage_id == outage_id)
            .order_by(Customer.account_number)
        )
    ]
    alarm_count = s.scalar(sa.select(sa.func.count()).where(Alarm.outage_id == outage_id)) or 0
    ticket_ids = list(
        s.scalars(sa.select(Ticket.id).where(Ticket.outage_id == outage_id).order_by(Ticket.id))
    )
    return OutageDetail(_view(outage), customers, alarm_count, ticket_ids)
