"""Planned maintenance windows on network elements: while one lasts the element's alarms are
suppressed (``services.alarms``), and the customers under it get a planned maintenance notice
when it is planned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import Customer, Equipment, MaintenanceWindow, Nap, PonPort, Splitter
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.errors import InvalidInput, NotFound
from fiberdesk.domain.outages import Scope
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit
from fiberdesk.services.outages.lifecycle import scope_label, text_field
from fiberdesk.services.outages.notices import human_time, queue_all
from fiberdesk.services.outages.settings import DEFAULT_SETTINGS, OutageSettings


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
        title=text_field(title, "title", 120), description=description.strip(), scope=scope,
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
