"""Releasing what an order or a customer holds: ports, equipment, addresses, visits."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import Appointment, Equipment, IpAddress, NapPort
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.customers import SERVICE_TRANSITIONS, ServiceStatus
from fiberdesk.domain.equipment import EquipmentStatus
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.network import NapPortStatus
from fiberdesk.domain.orders import (
    ORDER_TRANSITIONS,
    AppointmentStatus,
    OrderStatus,
    OrderType,
)
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit
from fiberdesk.services.orders import OrderView, get_customer, get_order, order_view, record_step


def release_port(session: Session, customer_id: int) -> int:
    """Free the NAP ports a customer holds or uses; returns how many."""
    result = session.execute(
        sa.update(NapPort)
        .where(NapPort.customer_id == customer_id)
        .values(status=NapPortStatus.FREE, customer_id=None, held_by=None, hold_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def release_ip(session: Session, customer_id: int) -> list[str]:
    addresses = list(
        session.scalars(sa.select(IpAddress.address).where(IpAddress.customer_id == customer_id))
    )
    session.execute(
        sa.update(IpAddress)
        .where(IpAddress.customer_id == customer_id)
        .values(customer_id=None, assigned_at=None)
        .execution_options(synchronize_session=False)
    )
    return addresses


def cancel_install(session: Session, *, order_id: int, actor: Actor, reason: str) -> None:
    """Cancel a new installation before activation: the order is cancelled, its visits
    too, the port and any static IP freed, an assigned ONT goes back to stock, and the
    customer's account is closed with the reason."""
    order = get_order(session, order_id, for_update=True)
    ORDER_TRANSITIONS.check(order.status, OrderStatus.CANCELLED)
    customer = get_customer(session, order.customer_id)
    before = audit.snapshot(customer)
    order.status = OrderStatus.CANCELLED
    record_step(order, step="cancel", outcome="done", actor=actor, detail=reason)
    for appointment in session.scalars(
        sa.select(Appointment).where(
            Appointment.order_id == order.id,
            Appointment.status.in_([AppointmentStatus.BOOKED, AppointmentStatus.EN_ROUTE]),
        )
    ):
        appointment.status = AppointmentStatus.CANCELLED
    for unit in session.scalars(
        sa.select(Equipment).where(
            Equipment.customer_id == customer.id, Equipment.status == EquipmentStatus.ASSIGNED
        )
    ):
        unit.status = EquipmentStatus.IN_STOCK
        unit.customer_id = None
        unit.ip_address = None
    release_port(session, customer.id)
    release_ip(session, customer.id)
    SERVICE_TRANSITIONS.check(customer.status, ServiceStatus.DISCONNECTED)
    customer.status = ServiceStatus.DISCONNECTED
    customer.disconnected_at = utcnow()
    customer.churn_reason = f"order cancelled before installation: {reason}"
    audit.record(
        session,
        actor=actor,
        action="order.cancel",
        entity_type="service_order",
        entity_id=order.id,
        after={"reason": reason},
    )
    audit.record(
        session,
        actor=actor,
        action="customer.close",
        entity_type="customer",
        entity_id=customer.id,
        before=before,
        after=audit.snapshot(customer),
    )


def cancel_order(uow: UnitOfWork, *, actor: Actor, order_id: int, reason: str) -> OrderView:
    """Cancel a new installation that has not been activated."""
    actor.require(Permission.ORDERS_WRITE)
    if not reason.strip():
        raise InvalidInput("say why the order is cancelled", field="reason")
    order = get_order(uow.session, order_id)
    if order.type is not OrderType.NEW_INSTALL:
        raise InvalidInput(f"order {order_id} is not a new installation", field="order_id")
    cancel_install(uow.session, order_id=order_id, actor=actor, reason=reason.strip())
    view = order_view(uow.session, order)
    uow.commit()
    return view
