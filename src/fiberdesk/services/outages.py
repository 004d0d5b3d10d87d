"""Outages: alarms correlated into outages (``domain.correlation``), their life (detected,
confirmed, resolved), the customers in them and what those customers are told; planned
maintenance windows and their notices.

``correlate`` looks at recent matched, unsuppressed alarms not yet in an outage: those on an
element with an open outage of their kind join it; the rest go through the correlation
rules, and each finding opens one outage that lists its customers, takes over their open
tickets and queues their outage notification (once per outage and customer, however often
it runs). When every alarm of an open outage has cleared, the outage is resolved and the
customers get a restoration notice; an outage whose alarms had all cleared before it was
seen is recorded as resolved and nobody is told.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.adapters.network.base import NetworkAdapter
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Alarm,
    Customer,
    Equipment,
    MaintenanceWindow,
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
from fiberdesk.db.unit_of_work import UnitOfWork, UowFactory
from fiberdesk.domain import correlation
from fiberdesk.domain.correlation import LEVELS, OUTAGE_KIND_OF, CorrelationRules, LocatedAlarm
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType
from fiberdesk.domain.errors import InvalidInput, NotFound
from fiberdesk.domain.outages import OUTAGE_TRANSITIONS, OutageKind, OutageStatus, Scope
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import alarms as alarm_service
from fiberdesk.services import audit, tickets
from fiberdesk.services.alarms import IncomingAlarm, IngestResult, chunks

DEFAULT_ETA_HOURS: dict[str, float] = {"FIBER": 4, "POWER": 2, "FIBER:PON_PORT": 6, "FIBER:OLT": 8}
OPEN = (OutageStatus.DETECTED, OutageStatus.CONFIRMED)


def parse_eta_hours(text: str) -> dict[str, float]:
    """``FIBER=4,POWER=2,FIBER:OLT=8``: hours to repair by kind, or kind and scope."""
    hours: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        kind, _, scope = key.strip().upper().partition(":")
        try:
            OutageKind(kind)
            if scope:
                Scope(scope)
            hours[key.strip().upper()] = float(value)
        except ValueError:
            raise InvalidInput(f"{part!r} is not KIND[:SCOPE]=HOURS", field="eta_hours") from None
    return hours


@dataclass(frozen=True, slots=True)
class OutageSettings:
    window_minutes: float = 5
    min_share: float = 0.6
    min_onts: int = 3
    min_children: int = 2
    #: how far back correlation and polling look, hours
    lookback_hours: float = 24
    eta_hours: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_ETA_HOURS))
    #: resolve an outage by itself when every one of its alarms has cleared
    auto_resolve: bool = True
    company_name: str = "fiberdesk"
    support_phone: str = ""

    @property
    def rules(self) -> CorrelationRules:
        return CorrelationRules(
            timedelta(minutes=self.window_minutes), self.min_share, self.min_onts, self.min_children
        )

    def eta(self, kind: OutageKind, scope: Scope) -> timedelta:
        hours = self.eta_hours.get(f"{kind.value}:{scope.value}", self.eta_hours.get(kind.value))
        return timedelta(hours=4 if hours is None else hours)


def settings_from(config: Any) -> OutageSettings:
    """Outage settings from the application's settings (``outage_*`` names, defaults else)."""
    d = OutageSettings()
    eta = getattr(config, "outage_eta_hours", None)
    return OutageSettings(
        window_minutes=getattr(config, "outage_window_minutes", d.window_minutes),
        min_share=getattr(config, "outage_min_share", d.min_share),
        min_onts=getattr(config, "outage_min_onts", d.min_onts),
        min_children=getattr(config, "outage_min_children", d.min_children),
        lookback_hours=getattr(config, "outage_lookback_hours", d.lookback_hours),
        eta_hours=parse_eta_hours(eta) if isinstance(eta, str) else d.eta_hours,
        auto_resolve=getattr(config, "outage_auto_resolve", d.auto_resolve),
        company_name=getattr(config, "company_name", d.company_name),
        support_phone=getattr(config, "support_phone", d.support_phone),
    )


DEFAULT_SETTINGS = OutageSettings()


@dataclass(frozen=True, slots=True)
class CorrelationResult:
    #: alarms looked at
    candidates: int
    opened: list[int]
    #: alarms that joined an outage open before them
    attached: int
    resolved: list[int]
    notified: int
    tickets_linked: int


@dataclass(frozen=True, slots=True)
class PollResult:
    ingest: IngestResult
    correlation: CorrelationResult


def human_time(at: datetime) -> str:
    return f"{at:%A, %B %d, %Y at %H:%M} UTC"


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


def _area(session: Session, customer_ids: Iterable[int], fallback: str) -> str:
    """Towns and ZIPs of the customers' premises: ``Towson 21204, 21286; Parkville 21234``."""
    towns: dict[str, set[str]] = defaultdict(set)
    for chunk in chunks(sorted(set(customer_ids))):
        for city, zip_code in session.execute(
            sa.select(Premises.city, Premises.zip)
            .join(Customer, Customer.premises_id == Premises.id)
            .where(Customer.id.in_(chunk))
            .distinct()
        ):
            towns[(city or "").title()].add(zip_code)
    parts = [f"{town} {', '.join(sorted(zips))}".strip() for town, zips in sorted(towns.items())]
    text = "; ".join(parts)
    if len(text) > 200:
        text = text[:160].rsplit(";", 1)[0] + f" and more ({len(parts)} towns)"
    return text or f"the area served by {fallback}"


def _customers(session: Session, ids: Iterable[int]) -> dict[int, Customer]:
    found: dict[int, Customer] = {}
    for chunk in chunks(sorted(set(ids))):
        found.update(
            (c.id, c) for c in session.scalars(sa.select(Customer).where(Customer.id.in_(chunk)))
        )
    return found


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


def _attach(
    located: Iterable[LocatedAlarm], outages: Sequence[Outage], window: timedelta
) -> dict[int, list[int]]:
    """Alarms on an element with an open outage of their kind, raised since it began."""
    index = {(o.kind, o.scope, o.scope_id): o for o in outages if o.status in OPEN}
    taken: dict[int, list[int]] = defaultdict(list)
    if not index:
        return taken
    for a in located:
        kind = OUTAGE_KIND_OF[a.kind]
        for level, element in zip(LEVELS, a.path, strict=True):
            outage = index.get((kind, level, element)) if element is not None else None
            if outage is not None and a.raised_at >= outage.detected_at - window:
                taken[outage.id].append(a.id)
                break
    return taken


def _grow(
    s: Session, outage: Outage, rows: list[Any], fresh: bool, st: OutageSettings, now: datetime
) -> tuple[int, set[int]]:
    """Link alarms to an outage (``fresh``: just opened); add and tell its new customers.
    Returns how many were told, and the new customers."""
    for chunk in chunks(sorted(r.id for r in rows)):
        s.execute(sa.update(Alarm).where(Alarm.id.in_(chunk)).values(outage_id=outage.id))
    have: set[int] = set()
    if fresh:
        outage.affected_onts = len({r.ont_serial for r in rows})
    else:
        have = set(
            s.scalars(
                sa.select(OutageCustomer.customer_id).where(OutageCustomer.outage_id == outage.id)
            )
        )
        count = sa.func.count(sa.distinct(Alarm.ont_serial))
        outage.affected_onts = s.scalar(sa.select(count).where(Alarm.outage_id == outage.id)) or 0
    new = _customers(s, {r.customer_id for r in rows} - have)
    outage.area = _area(s, have | set(new), outage.scope_label)
    outage.affected_customers = len(have) + len(new)
    told: set[int] = set()
    if outage.status is not OutageStatus.RESOLVED:
        told = _notify(s, outage, new.values(), "outage_notification", st, now)
    _insert_many(
        s,
        OutageCustomer,
        [
            {
                "outage_id": outage.id,
                "customer_id": cid,
                "restored_at": outage.resolved_at,
                "notified_at": now if cid in told else None,
            }
            for cid in new
        ],
    )
    return len(told), set(new)


def _link_tickets(s: Session, joined: dict[int, Outage], actor: Actor, now: datetime) -> int:
    """Open tickets of customers who just joined an outage now belong to it."""
    linked = 0
    for chunk in chunks(sorted(joined)):
        for ticket in s.scalars(
            sa.select(Ticket).where(
                Ticket.customer_id.in_(chunk),
                Ticket.status.in_(tickets.OPEN_STATUSES),
                Ticket.outage_id.is_(None),
            )
        ):
            outage = joined[ticket.customer_id]
            ticket.outage_id = outage.id
            tickets.log(ticket, actor=actor, kind="outage", at=now, text=_linked_text(outage))
            linked += 1
    return linked


def _linked_text(outage: Outage) -> str:
    return (
        f"linked to outage #{outage.id} ({outage.scope_label}, detected "
        f"{outage.detected_at:%Y-%m-%d %H:%M} UTC): no separate investigation"
    )


def _notify(
    s: Session,
    outage: Outage,
    customers: Iterable[Customer],
    kind: str,
    st: OutageSettings,
    now: datetime,
) -> set[int]:
    """Queue an outage notification or restoration notice to each customer, once per outage
    and customer; returns the customers with somewhere to send it."""
    common: dict[str, Any] = {
        "outage_id": outage.id,
        "kind": outage.kind.label,
        "area": outage.area,
        "detected": human_time(outage.detected_at),
        "detected_at": outage.detected_at.isoformat(),
        "company_name": st.company_name,
        "support_number": st.support_phone,
    }
    if kind == "outage_notification":
        eta = outage.estimated_resolution
        common |= {
            "status": f"Outage {outage.status.label}",
            "estimated_resolution": human_time(eta) if eta else "being assessed",
            "estimated_resolution_at": eta.isoformat() if eta else None,
        }
    else:
        restored = outage.resolved_at or now
        minutes = max(0, int((restored - outage.detected_at).total_seconds() // 60))
        common |= {
            "status": "Service Restored",
            "restored": human_time(restored),
            "restored_at": restored.isoformat(),
            "duration": f"{minutes // 60} h {minutes % 60:02d} min",
        }
    return queue_all(
        s,
        kind,
        [(c, f"{outage.id}:{c.id}", {"customer_name": c.name, **common}) for c in customers],
    )


def queue_all(
    s: Session, kind: str, items: Sequence[tuple[Customer, str, dict[str, Any]]]
) -> set[int]:
    """``messages.queue`` (e-mail) for many customers at once, with the same idempotency keys
    and the same rows, but one lookup of the keys already queued and one insert: an outage of
    thousands of customers costs two statements, not thousands of round trips. Returns the
    customers with an address to write to. (A test holds it to ``messages.queue``.)"""
    wanted = {f"{kind}:{key}:email": (c, context) for c, key, context in items if c.email}
    queued: set[str] = set()
    for chunk in chunks(sorted(wanted)):
        queued.update(
            s.scalars(
                sa.select(OutboxMessage.idempotency_key).where(
                    OutboxMessage.idempotency_key.in_(chunk)
                )
            )
        )
    rows = [
        {
            "kind": kind,
            "channel": "email",
            "customer_id": c.id,
            "recipient": c.email,
            "context": context,
            "idempotency_key": key,
        }
        for key, (c, context) in wanted.items()
        if key not in queued
    ]
    _insert_many(s, OutboxMessage, rows)
    return {c.id for c, _ in wanted.values()}


def _insert_many(s: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """One executemany (batched by the driver), not a flush of one object per row."""
    if rows:
        s.execute(sa.insert(model), rows)


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


def _cleared(s: Session, alarm_ids: list[int]) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for chunk in chunks(sorted(alarm_ids)):
        query = sa.select(Alarm.id, Alarm.cleared_at).where(
            Alarm.id.in_(chunk), Alarm.cleared_at.is_not(None)
        )
        found.update((alarm_id, at) for alarm_id, at in s.execute(query) if at is not None)
    return found


def _open(
    s: Session, f: correlation.Finding, cleared: dict[int, datetime], st: OutageSettings
) -> Outage:
    # an outage whose alarms had all cleared before anyone looked is recorded as over
    over = all(i in cleared for i in f.alarm_ids)
    label = scope_label(s, f.scope, f.scope_id) or f"{f.scope.label} {f.scope_id}"
    outage = Outage(
        status=OutageStatus.RESOLVED if over else OutageStatus.DETECTED,
        kind=f.kind,
        scope=f.scope,
        scope_id=f.scope_id,
        scope_label=label[:80],
        area="",
        detected_at=f.detected_at,
        resolved_at=max(cleared[i] for i in f.alarm_ids) if over else None,
        estimated_resolution=f.detected_at + st.eta(f.kind, f.scope),
        affected_onts=0,
        affected_customers=0,
    )
    s.add(outage)
    s.flush()
    return outage


def correlate(
    uow: UnitOfWork,
    *,
    actor: Actor,
    settings: OutageSettings = DEFAULT_SETTINGS,
    now: datetime | None = None,
) -> CorrelationResult:
    """Turn recent alarms into outages (see the module's docstring); safe to run again."""
    actor.require(Permission.NETWORK_WRITE)
    s, now = uow.session, now or utcnow()
    rules = settings.rules
    rows = s.execute(
        sa.select(
            Alarm.id,
            Alarm.ont_serial,
            Alarm.kind,
            Alarm.raised_at,
            Alarm.customer_id,
            Customer.nap_id,
            Alarm.splitter_id,
            Alarm.pon_port_id,
            Alarm.olt_id,
        )
        .join(Customer, Customer.id == Alarm.customer_id)
        .where(
            Alarm.kind.in_(list(OUTAGE_KIND_OF)),
            Alarm.raised_at >= now - timedelta(hours=settings.lookback_hours),
            Alarm.raised_at <= now,
            Alarm.matched.is_(True),
            Alarm.suppressed_by.is_(None),
            Alarm.outage_id.is_(None),
        )
    ).all()
    by_id = {r.id: r for r in rows}
    # matched alarms always carry their ONT serial (the join gives them a customer)
    located = [
        LocatedAlarm(
            r.id,
            r.ont_serial or "",
            r.kind,
            r.raised_at,
            r.nap_id,
            r.splitter_id,
            r.pon_port_id,
            r.olt_id,
        )
        for r in rows
    ]
    standing = list(s.scalars(sa.select(Outage).where(Outage.status.in_(OPEN))))
    taken = _attach(located, standing, rules.window)
    attached = sum(len(ids) for ids in taken.values())
    claimed = {i for ids in taken.values() for i in ids}
    found = correlation.correlate(
        [a for a in located if a.id not in claimed], element_counts(s), rules
    )
    cleared = _cleared(s, [i for f in found.outages for i in f.alarm_ids])
    opened = [_open(s, f, cleared, settings) for f in found.outages]
    for outage, finding in zip(opened, found.outages, strict=True):
        taken[outage.id].extend(finding.alarm_ids)
    if opened:  # stragglers of the new outages, raised after their first span
        left = set(found.individual)
        for outage_id, ids in _attach(
            [a for a in located if a.id in left], opened, rules.window
        ).items():
            taken[outage_id].extend(ids)
            attached += len(ids)
    outages = {o.id: o for o in [*standing, *opened]}
    fresh = {o.id for o in opened}
    notified, joined = 0, dict[int, Outage]()
    for outage_id, ids in taken.items():
        outage = outages[outage_id]
        rows_in = [by_id[i] for i in ids]
        told, new = _grow(s, outage, rows_in, outage_id in fresh, settings, now)
        notified += told
        joined.update(dict.fromkeys(new, outage))
    linked = _link_tickets(s, joined, actor, now)
    for outage in opened:
        audit.record(s, actor=actor, action="outage.open", entity_type="outage",
                     entity_id=outage.id, after=audit.snapshot(outage))  # fmt: skip
    s.flush()
    resolved = _auto_resolve(s, actor, settings, now) if settings.auto_resolve else []
    uow.commit()
    return CorrelationResult(
        len(rows), [o.id for o in opened], attached, resolved, notified, linked
    )


def _auto_resolve(s: Session, actor: Actor, st: OutageSettings, now: datetime) -> list[int]:
    done: list[int] = []
    for outage_id, total, cleared, last in s.execute(
        sa.select(
            Alarm.outage_id,
            sa.func.count(),
            sa.func.count(Alarm.cleared_at),
            sa.func.max(Alarm.cleared_at),
        )
        .join(Outage, Outage.id == Alarm.outage_id)
        .where(Outage.status.in_(OPEN))
        .group_by(Alarm.outage_id)
    ):
        if total and total == cleared and last is not None and last <= now:
            assert outage_id is not None
            outage = s.get_one(Outage, outage_id)
            _resolve(
                s, outage, actor, f"every alarm cleared by {last:%Y-%m-%d %H:%M} UTC", last, st
            )
            done.append(outage_id)
    return done


def receive(
    uows: UowFactory,
    *,
    actor: Actor,
    alarms: Sequence[IncomingAlarm],
    source: str,
    settings: OutageSettings = DEFAULT_SETTINGS,
) -> PollResult:
    """Ingest alarms sent to us (the API), then correlate."""
    with uows() as uow:
        ingested = alarm_service.ingest(uow, actor=actor, alarms=alarms, source=source)
    with uows() as uow:
        return PollResult(ingested, correlate(uow, actor=actor, settings=settings))


def poll(
    uows: UowFactory,
    *,
    actor: Actor,
    network: NetworkAdapter,
    settings: OutageSettings = DEFAULT_SETTINGS,
    source: str = "network",
) -> PollResult:
    """Pull the network's alarms of the lookback period, ingest them, then correlate."""
    since = utcnow() - timedelta(hours=settings.lookback_hours)
    ingested = alarm_service.poll_network(
        uows, actor=actor, network=network, since=since, source=source
    )
    with uows() as uow:
        return PollResult(ingested, correlate(uow, actor=actor, settings=settings))


def _get(s: Session, outage_id: int) -> Outage:
    outage = s.get(Outage, outage_id, with_for_update=True)
    if outage is None:
        raise NotFound(f"no outage {outage_id}")
    return outage


def _text(value: str, name: str, limit: int = 2000) -> str:
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
    outage.cause = _text(cause, "cause")
    audit.record(s, actor=actor, action="outage.confirm", entity_type="outage",
                 entity_id=outage.id, before=before, after=audit.snapshot(outage))  # fmt: skip
    result = _view(outage)
    uow.commit()
    return result


def _resolve(
    s: Session, outage: Outage, actor: Actor, note: str, at: datetime, st: OutageSettings
) -> None:
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
    _notify(s, outage, _customers(s, pending).values(), "restoration_notice", st, at)
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
    _resolve(s, outage, actor, _text(note, "note"), now or utcnow(), settings)
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


@dataclass(frozen=True, slots=True)
class MaintenanceView:
    id: int
    title: str
    description: str
    scope: Scope
    scope_id: int
    scope_label: str
    starts_at: datetime
    ends_at: datetime
    created_by: str
    #: customers with service under the window's element
    customers: int


def customers_under(scope: Scope, scope_id: int) -> sa.Select[Customer]:
    """Active customers served through an element (or using an ONT, by equipment id)."""
    query = sa.select(Customer).where(Customer.status == ServiceStatus.ACTIVE)
    if scope is Scope.ONT:
        return query.join(Equipment, Equipment.customer_id == Customer.id).where(
            Equipment.id == scope_id
        )
    column = {
        Scope.NAP: Nap.id,
        Scope.SPLITTER: Splitter.id,
        Scope.PON_PORT: PonPort.id,
        Scope.OLT: PonPort.olt_id,
    }[scope]
    return (
        query.join(Nap, Nap.id == Customer.nap_id)
        .join(Splitter, Splitter.id == Nap.splitter_id)
        .join(PonPort, PonPort.id == Splitter.pon_port_id)
        .where(column == scope_id)
    )


def _maintenance_view(s: Session, w: MaintenanceWindow) -> MaintenanceView:
    count = s.scalar(
        sa.select(sa.func.count()).select_from(customers_under(w.scope, w.scope_id).subquery())
    )
    label = scope_label(s, w.scope, w.scope_id) or f"{w.scope.label} {w.scope_id}"
    return MaintenanceView(
        w.id, w.title, w.description, w.scope, w.scope_id, label, w.starts_at, w.ends_at,
        w.created_by, count or 0,
    )  # fmt: skip


def create_maintenance(
    uow: UnitOfWork,
    *,
    actor: Actor,
    title: str,
    scope: Scope,
    scope_id: int,
    starts_at: datetime,
    ends_at: datetime,
    description: str = "",
    settings: OutageSettings = DEFAULT_SETTINGS,
    now: datetime | None = None,
) -> MaintenanceView:
    """Plan work on an element: its alarms are suppressed while it lasts, and the customers
    under it get a planned maintenance notice now."""
    actor.require(Permission.NETWORK_WRITE)
    s, now = uow.session, now or utcnow()
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("give the start and end with their time zone", field="starts_at")
    if ends_at <= starts_at:
        raise InvalidInput("the window must end after it starts", field="ends_at")
    if ends_at <= now:
        raise InvalidInput("the window is already over", field="ends_at")
    if len(description) > 2000:
        raise InvalidInput("the description is over 2000 characters", field="description")
    label = scope_label(s, scope, scope_id)
    if label is None:
        raise NotFound(f"no {scope.label.lower()} {scope_id}")
    window = MaintenanceWindow(
        title=_text(title, "title", 120), description=description.strip(), scope=scope,
        scope_id=scope_id, starts_at=starts_at, ends_at=ends_at, created_by=actor.name,
    )  # fmt: skip
    s.add(window)
    s.flush()
    context = {
        "title": window.title,
        "description": window.description,
        "area": label,
        "starts": human_time(starts_at),
        "ends": human_time(ends_at),
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
        "company_name": settings.company_name,
        "support_number": settings.support_phone,
    }
    customers = s.scalars(customers_under(scope, scope_id)).all()
    notices = [(c, f"{window.id}:{c.id}", {"customer_name": c.name, **context}) for c in customers]
    queue_all(s, "planned_maintenance", notices)
    after = audit.snapshot(window) | {"customers": len(customers)}
    audit.record(s, actor=actor, action="maintenance.create", entity_type="maintenance_window",
                 entity_id=window.id, after=after)  # fmt: skip
    result = _maintenance_view(s, window)
    uow.commit()
    return result


def list_maintenance(
    uow: UnitOfWork, *, actor: Actor, include_past: bool = False, now: datetime | None = None
) -> list[MaintenanceView]:
    """Current and coming windows, soonest first (and past ones with ``include_past``)."""
    actor.require(Permission.NETWORK_READ)
    query = sa.select(MaintenanceWindow)
    if not include_past:
        query = query.where(MaintenanceWindow.ends_at >= (now or utcnow()))
    windows = uow.session.scalars(query.order_by(MaintenanceWindow.starts_at).limit(500))
    return [_maintenance_view(uow.session, w) for w in windows]
