"""Alarm ingestion: every alarm received is stored, never dropped.

An alarm is matched to its ONT (``customer_equipment``), the ONT's customer and the
customer's path (NAP, splitter, PON port, OLT); one that names no known ONT or an unknown
type is kept unmatched with the reason. The sender's id (or, without one, the kind, serial
and raise time) is the dedupe key: an alarm received twice from one source is stored once,
and a repeat that brings its clearing time clears the stored one. Alarms raised inside an
active maintenance window on their path are stored as suppressed by it. A batch costs a
handful of queries whatever its size: lookups go by chunks of keys, rows go in one
executemany insert.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from fiberdesk.adapters.network.base import AlarmKind, NetworkAdapter, NetworkError
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Alarm,
    Customer,
    Equipment,
    MaintenanceWindow,
    Nap,
    PonPort,
    Splitter,
)
from fiberdesk.db.unit_of_work import UnitOfWork, UowFactory
from fiberdesk.domain.equipment import EquipmentType, normalise_ont_serial
from fiberdesk.domain.errors import InvalidInput, Refused
from fiberdesk.domain.outages import Scope
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit

KNOWN_KINDS = frozenset(k.value for k in AlarmKind)
CHUNK = 5000
MAX_REASONS = 100
PATH_SCOPES = (Scope.ONT, Scope.NAP, Scope.SPLITTER, Scope.PON_PORT, Scope.OLT)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class IncomingAlarm:
    """An alarm as a sender reports it."""

    kind: str
    serial: str | None
    raised_at: datetime
    cleared_at: datetime | None = None
    #: the sender's own id for the alarm; without one the content makes the dedupe key
    id: str | None = None
    detail: str = ""
    #: overrides the batch's source
    source: str | None = None


@dataclass(frozen=True, slots=True)
class IngestResult:
    received: int
    stored: int
    duplicates: int
    unmatched: int
    suppressed: int
    #: stored alarms cleared by a repeat that carried the clearing time
    cleared: int
    #: (position in the batch, reason) of unmatched alarms, the first ``MAX_REASONS``
    reasons: list[tuple[int, str]]


@dataclass(frozen=True, slots=True)
class AlarmView:
    id: int
    source: str
    kind: str
    ont_serial: str | None
    raised_at: datetime
    cleared_at: datetime | None
    received_at: datetime
    customer_id: int | None
    matched: bool
    unmatched_reason: str | None
    suppressed_by: int | None
    outage_id: int | None
    detail: str | None


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _source(text: str) -> str:
    source = text.strip()
    if not 1 <= len(source) <= 40:
        raise InvalidInput("an alarm source is 1 to 40 characters", field="source")
    return source


def _serial(raw: str | None) -> str | None:
    try:
        return normalise_ont_serial(raw) if raw else None
    except InvalidInput:
        return None


def _paths(session: Session, serials: list[str]) -> dict[str, tuple[Any, ...]]:
    """serial -> (equipment id, customer id, nap, splitter, PON port, OLT)."""
    found: dict[str, tuple[Any, ...]] = {}
    for chunk in chunks(serials):
        rows = session.execute(
            sa.select(
                Equipment.serial_number,
                Equipment.id,
                Equipment.customer_id,
                Customer.nap_id,
                Nap.splitter_id,
                Splitter.pon_port_id,
                PonPort.olt_id,
            )
            .outerjoin(Customer, Customer.id == Equipment.customer_id)
            .outerjoin(Nap, Nap.id == Customer.nap_id)
            .outerjoin(Splitter, Splitter.id == Nap.splitter_id)
            .outerjoin(PonPort, PonPort.id == Splitter.pon_port_id)
            .where(Equipment.type == EquipmentType.ONT, Equipment.serial_number.in_(chunk))
        )
        for serial, *rest in rows:
            found[serial] = tuple(rest)
    return found


def _existing(
    session: Session, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, datetime | None]]:
    found: dict[tuple[str, str], tuple[int, datetime | None]] = {}
    sources = sorted({s for s, _ in keys})
    for chunk in chunks(sorted({k for _, k in keys})):
        rows = session.execute(
            sa.select(Alarm.source, Alarm.dedupe_key, Alarm.id, Alarm.cleared_at).where(
                Alarm.source.in_(sources), Alarm.dedupe_key.in_(chunk)
            )
        )
        for source, key, alarm_id, cleared in rows:
            found[(source, key)] = (alarm_id, cleared)
    return found


def _windows(
    session: Session, first: datetime, last: datetime
) -> dict[tuple[Scope, int], list[MaintenanceWindow]]:
    index: dict[tuple[Scope, int], list[MaintenanceWindow]] = {}
    for w in session.scalars(
        sa.select(MaintenanceWindow).where(
            MaintenanceWindow.starts_at <= last, MaintenanceWindow.ends_at >= first
        )
    ):
        index.setdefault((w.scope, w.scope_id), []).append(w)
    return index


def _window_over(
    index: dict[tuple[Scope, int], list[MaintenanceWindow]], at: datetime, *ids: int | None
) -> int | None:
    """The maintenance window over an alarm at ``at`` on the path (ONT, NAP, ..., OLT)."""
    for scope, element in zip(PATH_SCOPES, ids, strict=True):
        for w in index.get((scope, element), ()) if element is not None else ():
            if w.starts_at <= at <= w.ends_at:
                return w.id
    return None


def _insert(session: Session) -> Any:
    table = cast(sa.Table, Alarm.__table__)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(
            index_elements=["source", "dedupe_key"]
        )
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=["source", "dedupe_key"])
    return sa.insert(table)


def ingest(
    uow: UnitOfWork,
    *,
    actor: Actor,
    alarms: Sequence[IncomingAlarm],
    source: str,
    now: datetime | None = None,
) -> IngestResult:
    """Store a batch of alarms: matched, unmatched with the reason, or suppressed."""
    actor.require(Permission.NETWORK_WRITE)
    session = uow.session
    now = now or utcnow()
    default_source = _source(source)
    prepared: list[tuple[int, IncomingAlarm, str, str, str, str | None, datetime]] = []
    serials: dict[str | None, str | None] = {}  # raw -> normalised (a storm repeats ONTs)
    for i, a in enumerate(alarms):
        raised = _aware(a.raised_at)
        if a.cleared_at is not None and _aware(a.cleared_at) < raised:
            raise InvalidInput(f"alarm {i} was cleared before it was raised", field="cleared_at")
        kind = a.kind.strip().upper()
        if a.serial not in serials:
            serials[a.serial] = _serial(a.serial)
        serial = serials[a.serial]
        src = _source(a.source) if a.source else default_source
        key = (a.id or f"{kind}:{serial or (a.serial or '').strip()}:{raised.isoformat()}")[:120]
        prepared.append((i, a, src, key, kind, serial, raised))
    paths = _paths(session, sorted({p[5] for p in prepared if p[5]}))
    existing = _existing(session, [(p[2], p[3]) for p in prepared])
    windows = (
        _windows(session, min(p[6] for p in prepared), max(p[6] for p in prepared))
        if prepared
        else {}
    )
    rows: list[dict[str, Any]] = []
    clears: list[dict[str, Any]] = []
    reasons: list[tuple[int, str]] = []
    batch: dict[tuple[str, str], dict[str, Any]] = {}
    duplicates = unmatched = suppressed = 0
    for i, a, src, key, kind, serial, raised in prepared:
        cleared = _aware(a.cleared_at) if a.cleared_at else None
        if (src, key) in batch or (src, key) in existing:
            duplicates += 1
            stored, earlier = existing.get((src, key)), batch.get((src, key))
            if stored and stored[1] is None and cleared is not None:
                clears.append({"id": stored[0], "cleared_at": cleared})
                existing[(src, key)] = (stored[0], cleared)
            elif earlier and earlier["cleared_at"] is None:
                earlier["cleared_at"] = cleared
            continue
        path = paths.get(serial) if serial else None
        equipment_id, customer_id, nap_id, splitter_id, pon_id, olt_id = path or (None,) * 6
        reason = None
        if kind not in KNOWN_KINDS:
            reason = f"unknown alarm type {kind[:40]!r}"
        elif path is None:
            shown = (serial or a.serial or "").strip()[:40]
            reason = f"no ONT with serial {shown!r}" if shown else "no ONT serial in the alarm"
        elif customer_id is None:
            reason = f"ONT {serial} is not installed at any customer"
        window_id = None
        if reason is None and windows:
            window_id = _window_over(
                windows, raised, equipment_id, nap_id, splitter_id, pon_id, olt_id
            )
            suppressed += window_id is not None
        elif reason is not None:
            unmatched += 1
            if len(reasons) < MAX_REASONS:
                reasons.append((i, reason))
        batch[(src, key)] = row = {
            "source": src,
            "dedupe_key": key,
            "kind": kind[:20],
            "raised_at": raised,
            "cleared_at": cleared,
            "received_at": now,
            "ont_serial": (serial or (a.serial or "").strip())[:16] or None,
            "pon_port_id": pon_id,
            "splitter_id": splitter_id,
            "olt_id": olt_id,
            "customer_id": customer_id,
            "matched": reason is None,
            "unmatched_reason": reason,
            "suppressed_by": window_id,
            "outage_id": None,
            "detail": (a.detail or "")[:500] or None,
        }
        rows.append(row)
    if rows:
        session.execute(_insert(session), rows)
    if clears:
        session.execute(sa.update(Alarm), clears)
    result = IngestResult(
        len(alarms), len(rows), duplicates, unmatched, suppressed, len(clears), reasons
    )
    audit.record(
        session,
        actor=actor,
        action="alarms.ingest",
        entity_type="alarm",
        entity_id=None,
        after={
            "source": default_source,
            "received": result.received,
            "stored": result.stored,
            "duplicates": duplicates,
            "unmatched": unmatched,
            "suppressed": suppressed,
            "cleared": len(clears),
        },
    )
    uow.commit()
    return result


def poll_network(
    uows: UowFactory,
    *,
    actor: Actor,
    network: NetworkAdapter,
    since: datetime,
    source: str = "network",
) -> IngestResult:
    """Pull the network's alarms since ``since`` (outside any transaction), then ingest."""
    actor.require(Permission.NETWORK_WRITE)
    try:
        reported = network.alarms(since=since)
    except NetworkError as exc:
        raise Refused(f"the network did not give its alarms: {exc.reason}") from None
    incoming = [
        IncomingAlarm(a.kind.value, a.serial, a.raised_at, a.cleared_at, detail=a.detail)
        for a in reported
    ]
    with uows() as uow:
        return ingest(uow, actor=actor, alarms=incoming, source=source)


def list_alarms(
    uow: UnitOfWork,
    *,
    actor: Actor,
    unmatched: bool | None = None,
    outage_id: int | None = None,
    limit: int = 100,
) -> list[AlarmView]:
    """The latest alarms first; ``unmatched=True`` for those kept with a reason."""
    actor.require(Permission.NETWORK_READ)
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be 1 to 1000", field="limit")
    query = sa.select(Alarm)
    if unmatched is not None:
        query = query.where(Alarm.matched == (not unmatched))
    if outage_id is not None:
        query = query.where(Alarm.outage_id == outage_id)
    rows = uow.session.scalars(query.order_by(Alarm.raised_at.desc(), Alarm.id.desc()).limit(limit))
    return [_view(a) for a in rows]


def _view(a: Alarm) -> AlarmView:
    return AlarmView(
        a.id, a.source, a.kind, a.ont_serial, a.raised_at, a.cleared_at, a.received_at,
        a.customer_id, a.matched, a.unmatched_reason, a.suppressed_by, a.outage_id, a.detail,
    )  # fmt: skip
