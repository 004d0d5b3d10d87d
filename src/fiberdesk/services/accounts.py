"""A customer's account at a glance, and the plans a customer can be on.

``account_summary`` gathers what a CSR looks at first besides the customer record: the
plan with its speeds and price, the equipment at the premises, and the latest orders with
their visits. ``order_customer`` and ``appointment_customer`` say whose account an order
or a visit belongs to; ``list_plans`` is the active catalog with the operator's prices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from fiberdesk.db.models import Appointment, Equipment, Plan, ServiceOrder, Technician
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.equipment import EquipmentStatus
from fiberdesk.domain.errors import InvalidInput, NotFound
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services.orders import get_customer, get_order

MAX_ORDERS = 50


@dataclass(frozen=True, slots=True)
class PlanLine:
    code: str
    name: str
    download_mbps: int
    upload_mbps: int
    monthly_price: Decimal
    currency: str
    install_fee: Decimal
    use_case: str
    technologies: list[str]
    static_ip: bool


@dataclass(frozen=True, slots=True)
class EquipmentLine:
    type: str
    serial: str
    mac: str | None
    ip_address: str | None
    status: str
    vendor: str | None
    model: str | None


@dataclass(frozen=True, slots=True)
class VisitLine:
    appointment_id: int
    day: date
    window: str
    status: str
    technician: str


@dataclass(frozen=True, slots=True)
class OrderLine:
    id: int
    type: str
    status: str
    created_at: datetime
    scheduled_date: date | None
    completed_date: datetime | None
    visits: list[VisitLine]


@dataclass(frozen=True, slots=True)
class AccountSummary:
    customer_id: int
    plan: PlanLine | None
    equipment: list[EquipmentLine]
    orders: list[OrderLine]


def _plan_line(plan: Plan) -> PlanLine:
    return PlanLine(
        plan.code,
        plan.name,
        plan.download_mbps,
        plan.upload_mbps,
        plan.monthly_price,
        plan.currency,
        plan.install_fee,
        plan.use_case,
        [t for t in plan.technologies.split(",") if t],
        plan.static_ip,
    )


def list_plans(uow: UnitOfWork) -> list[PlanLine]:
    """The plans on sale, in the catalog's order (public: the same as the availability
    page shows)."""
    plans = uow.session.scalars(
        sa.select(Plan).where(Plan.active.is_(True)).order_by(Plan.sort_order, Plan.id)
    )
    return [_plan_line(p) for p in plans]


def account_summary(
    uow: UnitOfWork, *, actor: Actor, customer_id: int, orders: int = 5
) -> AccountSummary:
    """The customer's plan, equipment (not returned units) and latest ``orders`` with
    their visits, newest first."""
    actor.require(Permission.CUSTOMERS_READ)
    if not 1 <= orders <= MAX_ORDERS:
        raise InvalidInput(f"orders must be 1 to {MAX_ORDERS}", field="orders")
    session = uow.session
    customer = get_customer(session, customer_id)
    plan = session.get(Plan, customer.plan_id) if customer.plan_id is not None else None
    units = session.scalars(
        sa.select(Equipment)
        .where(
            Equipment.customer_id == customer.id,
            Equipment.status.in_([EquipmentStatus.ASSIGNED, EquipmentStatus.INSTALLED]),
        )
        .order_by(Equipment.id)
    )
    equipment = [
        EquipmentLine(
            u.type.value,
            u.serial_number,
            u.mac_address,
            u.ip_address,
            u.status.value,
            u.vendor,
            u.model,
        )
        for u in units
    ]
    latest = session.scalars(
        sa.select(ServiceOrder)
        .where(ServiceOrder.customer_id == customer.id)
        .order_by(ServiceOrder.created_at.desc(), ServiceOrder.id.desc())
        .limit(orders)
    ).all()
    visits: dict[int, list[VisitLine]] = {o.id: [] for o in latest}
    rows = session.execute(
        sa.select(Appointment, Technician.name)
        .join(Technician, Technician.id == Appointment.technician_id)
        .where(Appointment.order_id.in_(list(visits)))
        .order_by(Appointment.day, Appointment.id)
    )
    for appointment, technician in rows:
        visits[appointment.order_id].append(
            VisitLine(
                appointment.id,
                appointment.day,
                appointment.window_code,
                appointment.status.value,
                technician,
            )
        )
    return AccountSummary(
        customer.id,
        _plan_line(plan) if plan is not None else None,
        equipment,
        [
            OrderLine(
                o.id,
                o.type.value,
                o.status.value,
                o.created_at,
                o.scheduled_date,
                o.completed_date,
                visits[o.id],
            )
            for o in latest
        ],
    )


def order_customer(uow: UnitOfWork, *, actor: Actor, order_id: int) -> int:
    """The id of the customer whose order this is."""
    actor.require(Permission.CUSTOMERS_READ)
    return get_order(uow.session, order_id).customer_id


def appointment_customer(uow: UnitOfWork, *, actor: Actor, appointment_id: int) -> int:
    """The id of the customer a visit is for."""
    actor.require(Permission.CUSTOMERS_READ)
    customer_id = uow.session.scalar(
        sa.select(ServiceOrder.customer_id)
        .join(Appointment, Appointment.order_id == ServiceOrder.id)
        .where(Appointment.id == appointment_id)
    )
    if customer_id is None:
        raise NotFound(f"no appointment {appointment_id}")
    return customer_id
