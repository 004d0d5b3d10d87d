"""Work orders: everything a technician needs for a visit, and a technician's day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

import sqlalchemy as sa

from fiberdesk.db.models import (
    Appointment,
    CustomerNote,
    Nap,
    Plan,
    Premises,
    ServiceOrder,
    Technician,
)
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import Forbidden, NotFound
from fiberdesk.domain.network import distance_m
from fiberdesk.domain.orders import AppointmentStatus
from fiberdesk.domain.users import Actor, Permission, Role
from fiberdesk.services.orders import get_customer, get_order


@dataclass(frozen=True, slots=True)
class WorkOrder:
    order_id: int
    order_type: str
    order_status: str
    appointment_id: int | None
    appointment_status: str | None
    day: date | None
    window: str | None
    window_start: time | None
    window_end: time | None
    technician: str | None
    customer_name: str
    customer_phone: str | None
    account_number: str
    service_address: str
    unit: str | None
    lat: float | None
    lon: float | None
    directions: str
    access_notes: list[str]
    notes: list[str]
    nap_code: str | None
    nap_port: int | None
    nap_lat: float | None
    nap_lon: float | None
    plan: str | None
    profile: str | None
    ont_serial: str | None
    ont_mac: str | None
    static_ip: str | None
    survey_requirements: list[str]
    steps: list[dict[str, object]]


def _technician_for(uow: UnitOfWork, actor: Actor) -> int | None:
    if actor.role is not Role.TECHNICIAN:
        return None
    tech_id = uow.session.scalar(
        sa.select(Technician.id).where(Technician.user_id == actor.user_id)
    )
    if tech_id is None:
        raise Forbidden("your user is not linked to a technician")
    return tech_id


def _directions(premises: Premises | None, nap: Nap | None) -> str:
    if premises is None:
        return ""
    text = f"{premises.label}. Map: {premises.lat:.5f}, {premises.lon:.5f}."
    if nap is not None:
        metres = distance_m(premises.lat, premises.lon, nap.lat, nap.lon)
        bearing = "north" if nap.lat > premises.lat else "south"
        text += (
            f" NAP {nap.code} is about {metres:.0f} m {bearing} of the premises "
            f"({nap.lat:.5f}, {nap.lon:.5f})."
        )
    if premises.multi_dwelling:
        text += " Multi-dwelling building: ask the manager for riser access."
    return text


def work_order(uow: UnitOfWork, *, actor: Actor, order_id: int) -> WorkOrder:
    """The work order of a visit; a technician sees only their own."""
    if not (actor.can(Permission.FIELD_WORK) or actor.can(Permission.DISPATCH)):
        actor.require(Permission.FIELD_WORK)
    session = uow.session
    order = get_order(session, order_id)
    mine = _technician_for(uow, actor)
    appointment = session.scalar(
        sa.select(Appointment)
        .where(Appointment.order_id == order.id)
        .order_by(Appointment.id.desc())
        .limit(1)
    )
    if mine is not None and (appointment is None or appointment.technician_id != mine):
        raise Forbidden("this work order belongs to another technician")
    customer = get_customer(session, order.customer_id)
    premises = session.get(Premises, customer.premises_id) if customer.premises_id else None
    nap = session.get(Nap, customer.nap_id) if customer.nap_id else None
    plan = session.get(Plan, order.plan_id) if order.plan_id else None
    tech = session.get(Technician, appointment.technician_id) if appointment else None
    notes = session.scalars(
        sa.select(CustomerNote)
        .where(CustomerNote.customer_id == customer.id)
        .order_by(CustomerNote.created_at)
    ).all()
    d = order.details
    return WorkOrder(
        order.id,
        order.type.value,
        order.status.value,
        appointment.id if appointment else None,
        appointment.status.value if appointment else None,
        appointment.day if appointment else None,
        appointment.window_code if appointment else None,
        appointment.window_start if appointment else None,
        appointment.window_end if appointment else None,
        tech.name if tech else None,
        customer.name,
        customer.phone,
        customer.account_number,
        customer.service_address,
        customer.unit,
        premises.lat if premises else None,
        premises.lon if premises else None,
        _directions(premises, nap),
        [n.content for n in notes if n.type.value == "ACCESS"],
        [
            f"{n.created_at:%Y-%m-%d} {n.type.label}: {n.content}"
            for n in notes
            if n.type.value != "ACCESS"
        ][-10:],
        nap.code if nap else None,
        customer.port_number,
        nap.lat if nap else None,
        nap.lon if nap else None,
        plan.name if plan else None,
        d.get("profile"),
        d.get("ont_serial"),
        d.get("ont_mac"),
        d.get("static_ip"),
        list(d.get("survey_requirements") or d.get("requirements") or []),
        list(order.steps),
    )


@dataclass(frozen=True, slots=True)
class Visit:
    order_id: int
    appointment_id: int
    order_type: str
    window: str
    window_start: time
    window_end: time
    status: str
    customer_name: str
    service_address: str


def technician_day(
    uow: UnitOfWork, *, actor: Actor, day: date, technician_id: int | None = None
) -> list[Visit]:
    """A technician's visits on a day, in window order (a technician: their own)."""
    if not (actor.can(Permission.FIELD_WORK) or actor.can(Permission.DISPATCH)):
        actor.require(Permission.FIELD_WORK)
    mine = _technician_for(uow, actor)
    tech_id = mine if mine is not None else technician_id
    if tech_id is None:
        raise NotFound("say which technician")
    rows = uow.session.execute(
        sa.select(Appointment, ServiceOrder)
        .join(ServiceOrder, Appointment.order_id == ServiceOrder.id)
        .where(
            Appointment.technician_id == tech_id,
            Appointment.day == day,
            Appointment.status != AppointmentStatus.CANCELLED,
        )
        .order_by(Appointment.window_start, Appointment.id)
    ).all()
    visits = []
    for appointment, order in rows:
        customer = get_customer(uow.session, order.customer_id)
        visits.append(
            Visit(
                order.id,
                appointment.id,
                order.type.value,
                appointment.window_code,
                appointment.window_start,
                appointment.window_end,
                appointment.status.value,
                customer.name,
                customer.service_address,
            )
        )
    return visits
