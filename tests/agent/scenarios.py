"""Customers of the demo operator that the agent scenarios need, found by their state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from fiberdesk.db.models import (
    Appointment,
    BillingAccount,
    Customer,
    Equipment,
    Plan,
    ServiceOrder,
    SimOnt,
)
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType
from fiberdesk.domain.errors import FiberdeskError
from fiberdesk.domain.orders import AppointmentStatus, OrderStatus, OrderType
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import changes
from tests.agent.harness import SECRET, World
from tests.factories import open_billing


def today() -> date:
    return datetime.now(UTC).date()


def in_days(days: int) -> str:
    return (today() + timedelta(days=days)).isoformat()


def active_on_olt(world: World, plan: str | None = None) -> list[tuple[int, str]]:
    """ACTIVE customers (id, name) whose ONT is registered on the simulated OLT."""
    query = (
        sa.select(Customer.id, Customer.name)
        .join(Plan, Plan.id == Customer.plan_id)
        .join(Equipment, Equipment.customer_id == Customer.id)
        .join(SimOnt, SimOnt.serial == Equipment.serial_number)
        .where(
            Customer.status == ServiceStatus.ACTIVE,
            Equipment.type == EquipmentType.ONT,
            Equipment.status == EquipmentStatus.INSTALLED,
        )
        .order_by(Customer.id)
    )
    if plan is not None:
        query = query.where(Plan.code == plan)
    with world.app.uow(write=False) as uow:
        return [(cid, name) for cid, name in uow.session.execute(query)]


def billed(world: World, customer_id: int) -> int:
    """The customer's billing account: the demo's, or one opened three weeks ago."""
    account: int | None = world.scalar(
        sa.select(BillingAccount.id).where(BillingAccount.customer_id == customer_id)
    )
    if account is not None:
        return account
    return open_billing(world.app, customer_id, on=today() - timedelta(days=21))


def upgradable(world: World, to: str = "PREMIUM", skip: int = 0) -> tuple[int, str]:
    """An active STANDARD customer whose PON port can carry ``to``, with a billing
    account."""
    found = []
    for customer_id, name in active_on_olt(world, "STANDARD"):
        billed(world, customer_id)
        try:
            changes.preview_change(
                world.app.uow,
                actor=SYSTEM_ACTOR,
                customer_id=customer_id,
                plan_code=to,
                rules=world.app.rules,
                secret_key=SECRET,
            )
        except FiberdeskError:
            continue
        found.append((customer_id, name))
        if len(found) > skip:
            return found[skip]
    raise AssertionError("no upgradable customer in the demo")


def plan_of(world: World, customer_id: int) -> str:
    return str(
        world.scalar(
            sa.select(Plan.code)
            .join(Customer, Customer.plan_id == Plan.id)
            .where(Customer.id == customer_id)
        )
    )


def status_of(world: World, customer_id: int) -> ServiceStatus:
    status: ServiceStatus = world.scalar(
        sa.select(Customer.status).where(Customer.id == customer_id)
    )
    return status


def in_status(world: World, status: ServiceStatus) -> int:
    customer_id: int = world.scalar(
        sa.select(Customer.id).where(Customer.status == status).order_by(Customer.id).limit(1)
    )
    return customer_id


def booked_visit(world: World) -> tuple[int, int]:
    """A SCHEDULED customer and their booked installation visit."""
    with world.app.uow(write=False) as uow:
        found = uow.session.execute(
            sa.select(ServiceOrder.customer_id, Appointment.id)
            .join(Appointment, Appointment.order_id == ServiceOrder.id)
            .join(Customer, Customer.id == ServiceOrder.customer_id)
            .where(
                Customer.status == ServiceStatus.SCHEDULED,
                Appointment.status == AppointmentStatus.BOOKED,
            )
            .order_by(Appointment.id)
            .limit(1)
        ).one()
    return found[0], found[1]


def open_signup(world: World) -> tuple[int, int]:
    """A PENDING customer and their open new-installation order."""
    with world.app.uow(write=False) as uow:
        found = uow.session.execute(
            sa.select(ServiceOrder.customer_id, ServiceOrder.id)
            .join(Customer, Customer.id == ServiceOrder.customer_id)
            .where(
                Customer.status == ServiceStatus.PENDING,
                ServiceOrder.type == OrderType.NEW_INSTALL,
                ServiceOrder.status == OrderStatus.OPEN,
            )
            .order_by(ServiceOrder.id)
            .limit(1)
        ).one()
    return found[0], found[1]
