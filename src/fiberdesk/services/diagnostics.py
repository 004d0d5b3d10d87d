"""Remote diagnostics of one customer: live ONT status, signal, alarms, ping, account,
maintenance and outages on the customer's path through the network."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.adapters.network.base import NetworkAdapter, NetworkError
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Equipment,
    MaintenanceWindow,
    Nap,
    Olt,
    Outage,
    PonPort,
    Splitter,
)
from fiberdesk.db.unit_of_work import UowFactory
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType
from fiberdesk.domain.errors import Refused
from fiberdesk.domain.network import signal_class
from fiberdesk.domain.outages import OutageStatus, Scope
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services.orders import get_customer


@dataclass(frozen=True, slots=True)
class NetworkPath:
    """Where a customer hangs in the tree: each element by id."""

    nap_id: int | None
    splitter_id: int | None
    pon_port_id: int | None
    olt_id: int | None

    def scopes(self) -> list[tuple[Scope, int]]:
        pairs = [
            (Scope.NAP, self.nap_id),
            (Scope.SPLITTER, self.splitter_id),
            (Scope.PON_PORT, self.pon_port_id),
            (Scope.OLT, self.olt_id),
        ]
        return [(s, i) for s, i in pairs if i is not None]


def path_of(session: Session, nap_id: int | None) -> NetworkPath:
    if nap_id is None:
        return NetworkPath(None, None, None, None)
    row = session.execute(
        sa.select(Nap.id, Splitter.id, PonPort.id, Olt.id)
        .join(Splitter, Nap.splitter_id == Splitter.id)
        .join(PonPort, Splitter.pon_port_id == PonPort.id)
        .join(Olt, PonPort.olt_id == Olt.id)
        .where(Nap.id == nap_id)
    ).first()
    return NetworkPath(*row) if row else NetworkPath(None, None, None, None)


def _on_path(column_scope: Any, column_id: Any, path: NetworkPath) -> sa.ColumnElement[bool]:
    return sa.or_(*(sa.and_(column_scope == s, column_id == i) for s, i in path.scopes()))


def maintenance_on_path(
    session: Session, path: NetworkPath, now: datetime, ahead: timedelta = timedelta(hours=24)
) -> list[MaintenanceWindow]:
    if not path.scopes():
        return []
    return list(
        session.scalars(
            sa.select(MaintenanceWindow)
            .where(
                _on_path(MaintenanceWindow.scope, MaintenanceWindow.scope_id, path),
                MaintenanceWindow.ends_at >= now,
                MaintenanceWindow.starts_at <= now + ahead,
            )
            .order_by(MaintenanceWindow.starts_at)
        )
    )


def outages_on_path(session: Session, path: NetworkPath) -> list[Outage]:
    if not path.scopes():
        return []
    return list(
        session.scalars(
            sa.select(Outage)
            .where(
                _on_path(Outage.scope, Outage.scope_id, path),
                Outage.status != OutageStatus.RESOLVED,
            )
            .order_by(Outage.detected_at)
        )
    )


def ont_serial_of(session: Session, customer_id: int) -> str | None:
    return session.scalar(
        sa.select(Equipment.serial_number)
        .where(
            Equipment.customer_id == customer_id,
            Equipment.type == EquipmentType.ONT,
            Equipment.status == EquipmentStatus.INSTALLED,
        )
        .limit(1)
    )


@dataclass(frozen=True, slots=True)
class Diagnostics:
    customer_id: int
    account_number: str
    service_status: ServiceStatus
    serial: str | None
    registered: bool
    online: bool
    admin_state: str
    rx_dbm: Decimal | None
    tx_dbm: Decimal | None
    signal: str | None
    signal_label: str | None
    last_seen_at: datetime | None
    active_alarms: list[str]
    alarms_24h: list[dict[str, Any]]
    ping: dict[str, Any] | None
    suspended: bool
    account_notes: list[str]
    maintenance: list[dict[str, Any]]
    outages: list[dict[str, Any]]
    pon_utilisation: float | None
    checked_at: datetime
    errors: list[str] = field(default_factory=list)
    #: the billing account's balance and standing (None before billing starts)
    balance: Decimal | None = None
    standing: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _billing_state(session: Session, customer_id: int) -> tuple[Decimal | None, str | None]:
    from fiberdesk.db.models import BillingAccount
    from fiberdesk.services.billing import balance

    account = session.scalar(
        sa.select(BillingAccount).where(BillingAccount.customer_id == customer_id)
    )
    if account is None:
        return None, None
    return balance(session, account.id), account.standing.value


def run_diagnostics(
    uows: UowFactory,
    *,
    actor: Actor,
    customer_id: int,
    network: NetworkAdapter,
    ping: bool = True,
    now: datetime | None = None,
) -> Diagnostics:
    """Everything a CSR or the NOC checks remotely, in one call."""
    actor.require(Permission.CUSTOMERS_READ)
    now = now or utcnow()
    with uows(write=False) as uow:
        session = uow.session
        customer = get_customer(session, customer_id)
        serial = ont_serial_of(session, customer.id)
        if serial is None:
            raise Refused(
                f"customer {customer.account_number} has no installed ONT to diagnose",
                field="customer_id",
            )
        path = path_of(session, customer.nap_id)
        maintenance = [
            {
                "id": m.id,
                "title": m.title,
                "starts_at": m.starts_at.isoformat(),
                "ends_at": m.ends_at.isoformat(),
                "scope": m.scope.value,
                "active": m.starts_at <= now <= m.ends_at,
            }
            for m in maintenance_on_path(session, path, now)
        ]
        outages = [
            {
                "id": o.id,
                "status": o.status.value,
                "kind": o.kind.value,
                "scope": o.scope_label,
                "detected_at": o.detected_at.isoformat(),
                "estimated_resolution": o.estimated_resolution.isoformat()
                if o.estimated_resolution
                else None,
            }
            for o in outages_on_path(session, path)
        ]
        account = customer.account_number
        status = customer.status
        owed, standing = _billing_state(session, customer.id)
    errors: list[str] = []
    ont = network.ont_status(serial=serial)
    alarms = [
        {
            "kind": a.kind.value,
            "raised_at": a.raised_at.isoformat(),
            "cleared_at": a.cleared_at.isoformat() if a.cleared_at else None,
            "detail": a.detail,
        }
        for a in network.alarms(since=now - timedelta(hours=24), serial=serial)
    ]
    ping_result = None
    if ping:
        try:
            p = network.ping(serial=serial)
            ping_result = {
                "reachable": p.reachable,
                "sent": p.sent,
                "received": p.received,
                "avg_rtt_ms": p.avg_rtt_ms,
            }
        except NetworkError as exc:
            errors.append(f"ping failed: {exc.reason}")
    utilisation = None
    if path.pon_port_id is not None:
        try:
            utilisation = round(network.pon_utilisation(pon_port_id=path.pon_port_id), 3)
        except NetworkError as exc:
            errors.append(f"PON utilisation unavailable: {exc.reason}")
    cls = signal_class(ont.rx_dbm) if ont.rx_dbm is not None else None
    notes = []
    if status is ServiceStatus.SUSPENDED:
        notes.append("service is suspended")
    if status is ServiceStatus.DISCONNECTED:
        notes.append("the account is closed")
    if standing is not None and standing != "CURRENT":
        notes.append(f"billing standing {standing}, balance {owed}")
    return Diagnostics(
        customer_id,
        account,
        status,
        serial,
        ont.registered,
        ont.online,
        ont.admin_state,
        ont.rx_dbm,
        ont.tx_dbm,
        cls.value if cls else None,
        cls.label if cls else None,
        ont.last_seen_at,
        [a.value for a in ont.active_alarms],
        alarms,
        ping_result,
        status is ServiceStatus.SUSPENDED,
        notes,
        maintenance,
        outages,
        utilisation,
        now,
        errors,
        owed,
        standing,
    )
