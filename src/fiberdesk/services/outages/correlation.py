"""Correlation runs: recent alarms become outages (see the package's docstring), and the
alarms they take in, the customers in them, their tickets and their notices follow;
``receive`` and ``poll`` ingest alarms and then correlate."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.adapters.network.base import NetworkAdapter
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import Alarm, Customer, Outage, OutageCustomer, Premises, Ticket
from fiberdesk.db.unit_of_work import UnitOfWork, UowFactory
from fiberdesk.domain.correlation import LEVELS, OUTAGE_KIND_OF, Finding, LocatedAlarm
from fiberdesk.domain.correlation import correlate as find_outages
from fiberdesk.domain.outages import OutageStatus
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import alarms as alarm_service
from fiberdesk.services import audit, tickets
from fiberdesk.services.alarms import IncomingAlarm, IngestResult, chunks
from fiberdesk.services.outages.lifecycle import OPEN, element_counts, resolve, scope_label
from fiberdesk.services.outages.notices import customers_by_id, notify
from fiberdesk.services.outages.settings import DEFAULT_SETTINGS, OutageSettings


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
    new = customers_by_id(s, {r.customer_id for r in rows} - have)
    outage.area = _area(s, have | set(new), outage.scope_label)
    outage.affected_customers = len(have) + len(new)
    told: set[int] = set()
    if outage.status is not OutageStatus.RESOLVED:
        told = notify(s, outage, new.values(), "outage_notification", st, now)
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


def _insert_many(s: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """One executemany (batched by the driver), not a flush of one object per row."""
    if rows:
        s.execute(sa.insert(model), rows)


def _cleared(s: Session, alarm_ids: list[int]) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for chunk in chunks(sorted(alarm_ids)):
        query = sa.select(Alarm.id, Alarm.cleared_at).where(
            Alarm.id.in_(chunk), Alarm.cleared_at.is_not(None)
        )
        found.update((alarm_id, at) for alarm_id, at in s.execute(query) if at is not None)
    return found


def _open(s: Session, f: Finding, cleared: dict[int, datetime], st: OutageSettings) -> Outage:
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
    found = find_outages([a for a in located if a.id not in claimed], element_counts(s), rules)
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
            resolve(s, outage, actor, f"every alarm cleared by {last:%Y-%m-%d %H:%M} UTC", last, st)
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
