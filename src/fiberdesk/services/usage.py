"""Usage monitoring: each ACTIVE customer's daily traffic, from the ONT's octet counters.

The OLT's counters only grow from the ONT's registration. Every byte they show has been
given to some day once it is collected, so a day's bytes are the counter now minus the
sum of the customer's earlier days. Collecting the same day again recomputes that day
from the same base (idempotent: it replaces, never adds). The first collection for a
customer carries everything counted since the ONT registered; a counter below the sum
already stored (the ONT was replaced or re-registered) starts again from zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from fiberdesk.adapters.network.base import NetworkAdapter, NetworkError
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import Customer, Equipment, UsageDaily
from fiberdesk.db.unit_of_work import UnitOfWork, UowFactory
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.users import SYSTEM_ACTOR, Actor, Permission
from fiberdesk.services import audit
from fiberdesk.services.orders import get_customer

MAX_HISTORY_DAYS = 366


@dataclass(frozen=True, slots=True)
class CollectionSummary:
    day: date
    collected: int
    #: customers already collected for a later day (their earlier days are closed)
    skipped: int
    #: (account number, reason) for counters the network could not give
    failed: list[tuple[str, str]]


def collect_daily_usage(
    uows: UowFactory,
    *,
    network: NetworkAdapter,
    day: date,
    actor: Actor = SYSTEM_ACTOR,
) -> CollectionSummary:
    """Read every ACTIVE customer's ONT counters and store ``day``'s bytes."""
    with uows(write=False) as uow:
        targets = uow.session.execute(
            sa.select(Customer.id, Customer.account_number, Equipment.serial_number)
            .join(Equipment, Equipment.customer_id == Customer.id)
            .where(
                Customer.status == ServiceStatus.ACTIVE,
                Equipment.type == EquipmentType.ONT,
                Equipment.status == EquipmentStatus.INSTALLED,
            )
            .order_by(Customer.id)
        ).all()
    counters: dict[int, tuple[int, int]] = {}
    failed: list[tuple[str, str]] = []
    for customer_id, account, serial in targets:
        try:
            sample = network.traffic(serial=serial)
        except NetworkError as exc:
            failed.append((account, exc.reason))
            continue
        rx, tx = counters.get(customer_id, (0, 0))
        counters[customer_id] = (rx + sample.rx_octets, tx + sample.tx_octets)
    collected = skipped = 0
    with uows() as uow:
        session = uow.session
        for customer_id, (rx_now, tx_now) in counters.items():
            later = session.scalar(
                sa.select(sa.func.count())
                .select_from(UsageDaily)
                .where(UsageDaily.customer_id == customer_id, UsageDaily.day > day)
            )
            if later:
                skipped += 1
                continue
            rx_before, tx_before = session.execute(
                sa.select(
                    sa.func.coalesce(sa.func.sum(UsageDaily.rx_bytes), 0),
                    sa.func.coalesce(sa.func.sum(UsageDaily.tx_bytes), 0),
                ).where(UsageDaily.customer_id == customer_id, UsageDaily.day < day)
            ).one()
            rx = rx_now - int(rx_before) if rx_now >= int(rx_before) else rx_now
            tx = tx_now - int(tx_before) if tx_now >= int(tx_before) else tx_now
            row = session.get(UsageDaily, (customer_id, day))
            if row is None:
                session.add(UsageDaily(customer_id=customer_id, day=day, rx_bytes=rx, tx_bytes=tx))
            else:
                row.rx_bytes, row.tx_bytes = rx, tx
            collected += 1
        audit.record(
            session,
            actor=actor,
            action="usage.collect",
            entity_type="usage_daily",
            entity_id=day.isoformat(),
            after={"collected": collected, "skipped": skipped, "failed": len(failed)},
        )
        uow.commit()
    return CollectionSummary(day, collected, skipped, failed)


@dataclass(frozen=True, slots=True)
class UsageDay:
    day: date
    rx_bytes: int
    tx_bytes: int


@dataclass(frozen=True, slots=True)
class UsageHistory:
    customer_id: int
    account_number: str
    first_day: date
    last_day: date
    days: list[UsageDay]
    total_rx_bytes: int
    total_tx_bytes: int


def usage_history(
    uow: UnitOfWork,
    *,
    actor: Actor,
    customer_id: int,
    days: int = 30,
    today: date | None = None,
) -> UsageHistory:
    """The customer's daily usage over the last ``days`` days (days collected only)."""
    actor.require(Permission.CUSTOMERS_READ)
    if not 1 <= days <= MAX_HISTORY_DAYS:
        raise InvalidInput(f"days must be 1 to {MAX_HISTORY_DAYS}", field="days")
    customer = get_customer(uow.session, customer_id)
    last = today or utcnow().date()
    first = last - timedelta(days=days - 1)
    rows = [
        UsageDay(r.day, r.rx_bytes, r.tx_bytes)
        for r in uow.session.scalars(
            sa.select(UsageDaily)
            .where(UsageDaily.customer_id == customer.id, UsageDaily.day.between(first, last))
            .order_by(UsageDaily.day)
        )
    ]
    return UsageHistory(
        customer.id,
        customer.account_number,
        first,
        last,
        rows,
        sum(r.rx_bytes for r in rows),
        sum(r.tx_bytes for r in rows),
    )
