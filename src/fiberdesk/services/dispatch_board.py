"""The dispatch board: technicians by day and window, with what is booked, what is free,
what waits for a window and what is at risk. Reads only; bookings change through
``services.scheduling``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Appointment,
    Customer,
    Premises,
    ServiceOrder,
    Technician,
    TechnicianShift,
)
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.errors import InvalidInput, NotFound
from fiberdesk.domain.orders import AppointmentStatus, OrderStatus, OrderType
from fiberdesk.domain.scheduling import Window
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services.orders import missing_before_scheduling
from fiberdesk.services.scheduling import ACTIVE_APPOINTMENT, SKILL_FOR, SchedulingSettings

#: the order kinds that send a technician out
VISIT_TYPES = tuple(SKILL_FOR)
MAX_DAYS = 14


@dataclass(frozen=True, slots=True)
class BoardVisit:
    appointment_id: int
    order_id: int
    order_type: OrderType
    status: AppointmentStatus
    customer_id: int
    customer_name: str
    address: str
    risks: tuple[str, ...]


@dataclass(slots=True)
class Cell:
    capacity: int
    visits: list[BoardVisit] = field(default_factory=list)

    @property
    def used(self) -> int:
        return sum(1 for v in self.visits if v.status in ACTIVE_APPOINTMENT)

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.used)


@dataclass(frozen=True, slots=True)
class BoardTechnician:
    id: int
    name: str
    skills: tuple[str, ...]
    capacity_per_window: int


@dataclass(frozen=True, slots=True)
class WaitingOrder:
    order_id: int
    order_type: OrderType
    customer_id: int
    customer_name: str
    address: str
    created_at: datetime
    waiting_days: int


@dataclass(frozen=True, slots=True)
class Board:
    days: list[date]
    windows: tuple[Window, ...]
    technicians: list[BoardTechnician]
    #: (technician id, day, window code) -> cell
    cells: dict[tuple[int, date, str], Cell]
    waiting: list[WaitingOrder]

    def cell(self, technician_id: int, day: date, window: str) -> Cell:
        return self.cells.get((technician_id, day, window)) or Cell(0)

    def totals(self, day: date, window: str) -> tuple[int, int]:
        """(booked, capacity) of a window across the technicians shown."""
        cells = [self.cell(t.id, day, window) for t in self.technicians]
        return sum(c.used for c in cells), sum(c.capacity for c in cells)

    @property
    def at_risk(self) -> list[BoardVisit]:
        return [v for c in self.cells.values() for v in c.visits if v.risks]


def _risks(
    appointment: Appointment,
    order: ServiceOrder,
    *,
    on_shift: bool,
    overbooked: bool,
    now: datetime,
) -> tuple[str, ...]:
    """Why a visit may not happen as booked, in plain words (empty when it is fine)."""
    if appointment.status not in ACTIVE_APPOINTMENT:
        return ()
    risks = []
    start = datetime.combine(appointment.day, appointment.window_start, tzinfo=now.tzinfo)
    end = datetime.combine(appointment.day, appointment.window_end, tzinfo=now.tzinfo)
    if now >= end:
        risks.append("the window has passed and the visit is not closed")
    elif now >= start and appointment.status is AppointmentStatus.BOOKED:
        risks.append("the window has started and the technician has not set out")
    if not on_shift:
        risks.append("outside the technician's shift")
    if overbooked:
        risks.append("more visits than the technician's capacity")
    soon = appointment.day <= now.date() + timedelta(days=1)
    if order.type is OrderType.NEW_INSTALL and soon and not order.details.get("ont_serial"):
        risks.append("no ONT assigned yet")
    if order.details.get("lead_time_flag") == "ALERT":
        risks.append("the customer waited over the lead-time alert")
    return tuple(risks)


def visit_address(session: Session, order: ServiceOrder, customer: Customer) -> str:
    """Where the technician goes: a relocation's visit is at the new address."""
    target = order.details.get("new_premises_id")
    premises = session.get(Premises, target) if target else None
    if premises is None:
        return customer.service_address
    return f"{premises.label} (moving from {customer.service_address})"


def _technicians(session: Session) -> list[Technician]:
    return list(
        session.scalars(
            sa.select(Technician).where(Technician.active.is_(True)).order_by(Technician.name)
        )
    )


def board(
    uow: UnitOfWork,
    *,
    actor: Actor,
    first: date,
    days: int,
    settings: SchedulingSettings,
    now: datetime | None = None,
) -> Board:
    """The board from ``first`` for ``days`` days: every active technician working one of
    them (or holding a visit in them), their capacity per window and the visits booked."""
    actor.require(Permission.DISPATCH)
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"show 1 to {MAX_DAYS} days", field="days")
    now = now or utcnow()
    session = uow.session
    dates = [first + timedelta(days=i) for i in range(days)]
    last = dates[-1]
    techs = _technicians(session)
    shifts = {
        (s.technician_id, s.weekday): s
        for s in session.scalars(
            sa.select(TechnicianShift).where(
                TechnicianShift.technician_id.in_([t.id for t in techs])
            )
        )
    }
    rows = session.execute(
        sa.select(Appointment, ServiceOrder, Customer)
        .join(ServiceOrder, Appointment.order_id == ServiceOrder.id)
        .join(Customer, ServiceOrder.customer_id == Customer.id)
        .where(
            Appointment.day.between(first, last),
            Appointment.status.not_in([AppointmentStatus.CANCELLED]),
        )
        .order_by(Appointment.window_start, Appointment.id)
    ).all()
    cells: dict[tuple[int, date, str], Cell] = {}
    by_tech = {t.id: t for t in techs}
    for t in techs:
        for d in dates:
            shift = shifts.get((t.id, d.weekday()))
            for w in settings.windows:
                if shift and w.within(shift.start, shift.end):
                    cells[(t.id, d, w.code)] = Cell(t.capacity_per_window)
    placed: dict[tuple[int, date, str], list[tuple[Appointment, ServiceOrder, Customer]]] = (
        defaultdict(list)
    )
    for appointment, order, customer in rows:
        placed[(appointment.technician_id, appointment.day, appointment.window_code)].append(
            (appointment, order, customer)
        )
    for key, visits in placed.items():
        tech_id = key[0]
        tech = by_tech.get(tech_id)
        on_shift = key in cells
        cell = cells.setdefault(key, Cell(0))
        active = sum(1 for a, _o, _c in visits if a.status in ACTIVE_APPOINTMENT)
        overbooked = tech is not None and active > tech.capacity_per_window
        for appointment, order, customer in visits:
            cell.visits.append(
                BoardVisit(
                    appointment.id,
                    order.id,
                    order.type,
                    appointment.status,
                    customer.id,
                    customer.name,
                    visit_address(session, order, customer),
                    _risks(appointment, order, on_shift=on_shift, overbooked=overbooked, now=now),
                )
            )
    shown = {k[0] for k in cells}
    return Board(
        dates,
        settings.windows,
        [
            BoardTechnician(t.id, t.name, tuple(t.skills), t.capacity_per_window)
            for t in techs
            if t.id in shown
        ],
        cells,
        waiting_orders(session, now=now),
    )


def waiting_orders(session: Session, *, now: datetime) -> list[WaitingOrder]:
    """Open visit orders with no live appointment: work for the dispatcher to place."""
    live = (
        sa.select(Appointment.id)
        .where(
            Appointment.order_id == ServiceOrder.id,
            Appointment.status.in_(ACTIVE_APPOINTMENT),
        )
        .exists()
    )
    rows = session.execute(
        sa.select(ServiceOrder, Customer)
        .join(Customer, ServiceOrder.customer_id == Customer.id)
        .where(
            ServiceOrder.type.in_(VISIT_TYPES),
            ServiceOrder.status == OrderStatus.OPEN,
            ~live,
            Customer.status != ServiceStatus.DISCONNECTED,
        )
        .order_by(ServiceOrder.created_at, ServiceOrder.id)
        .limit(100)
    ).all()
    return [
        WaitingOrder(
            o.id,
            o.type,
            c.id,
            c.name,
            visit_address(session, o, c),
            o.created_at,
            max(0, (now.date() - o.created_at.date()).days),
        )
        for o, c in rows
    ]


@dataclass(frozen=True, slots=True)
class TechnicianChoice:
    id: int
    name: str
    free: int


@dataclass(frozen=True, slots=True)
class AppointmentDetail:
    appointment_id: int
    status: AppointmentStatus
    day: date
    window: str
    window_label: str
    technician_id: int
    technician_name: str
    technician_phone: str | None
    order_id: int
    order_type: OrderType
    order_status: OrderStatus
    customer_id: int
    customer_name: str
    account_number: str
    customer_status: ServiceStatus
    phone: str | None
    email: str | None
    address: str
    unit: str | None
    zip_code: str | None
    access_notes: str | None
    lead_time_flag: str | None
    risks: tuple[str, ...]
    steps: list[dict[str, object]]
    #: the order's earlier appointments, newest first: (day, window, technician, status)
    history: list[tuple[date, str, str, AppointmentStatus]]
    #: technicians who could take this visit instead, with room left in its window
    others: list[TechnicianChoice]


def appointment_detail(
    uow: UnitOfWork,
    *,
    actor: Actor,
    appointment_id: int,
    settings: SchedulingSettings,
    now: datetime | None = None,
) -> AppointmentDetail:
    actor.require(Permission.DISPATCH)
    now = now or utcnow()
    session = uow.session
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound(f"no appointment {appointment_id}")
    order = session.get(ServiceOrder, appointment.order_id)
    assert order is not None
    customer = session.get(Customer, order.customer_id)
    assert customer is not None
    tech = session.get(Technician, appointment.technician_id)
    assert tech is not None
    target = order.details.get("new_premises_id") or customer.premises_id
    premises = session.get(Premises, target) if target else None
    window = next((w for w in settings.windows if w.code == appointment.window_code), None)
    label = (
        window.label
        if window
        else f"{appointment.window_start:%H:%M}-{appointment.window_end:%H:%M}"
    )
    load = _window_load(session, appointment.day, appointment.window_code)
    shift = session.scalar(
        sa.select(TechnicianShift).where(
            TechnicianShift.technician_id == tech.id,
            TechnicianShift.weekday == appointment.day.weekday(),
        )
    )
    on_shift = bool(shift and (window is None or window.within(shift.start, shift.end)))
    risks = _risks(
        appointment,
        order,
        on_shift=on_shift,
        overbooked=load.get(tech.id, 0) > tech.capacity_per_window,
        now=now,
    )
    history = [
        (a.day, a.window_code, t.name, a.status)
        for a, t in session.execute(
            sa.select(Appointment, Technician)
            .join(Technician, Appointment.technician_id == Technician.id)
            .where(Appointment.order_id == order.id, Appointment.id != appointment.id)
            .order_by(Appointment.id.desc())
        ).all()
    ]
    return AppointmentDetail(
        appointment.id,
        appointment.status,
        appointment.day,
        appointment.window_code,
        label,
        tech.id,
        tech.name,
        tech.phone,
        order.id,
        order.type,
        order.status,
        customer.id,
        customer.name,
        customer.account_number,
        customer.status,
        customer.phone,
        customer.email,
        visit_address(session, order, customer),
        customer.unit,
        premises.zip if premises else None,
        customer.access_notes,
        order.details.get("lead_time_flag"),
        risks,
        list(order.steps)[-8:],
        history,
        _others(session, appointment, order, premises, window, load),
    )


def _window_load(session: Session, day: date, window: str) -> dict[int, int]:
    rows = session.execute(
        sa.select(Appointment.technician_id, sa.func.count())
        .where(
            Appointment.day == day,
            Appointment.window_code == window,
            Appointment.status.in_(ACTIVE_APPOINTMENT),
        )
        .group_by(Appointment.technician_id)
    ).all()
    return {int(t): int(n) for t, n in rows}


def _others(
    session: Session,
    appointment: Appointment,
    order: ServiceOrder,
    premises: Premises | None,
    window: Window | None,
    load: dict[int, int],
) -> list[TechnicianChoice]:
    skill = SKILL_FOR.get(order.type)
    if skill is None or premises is None or window is None:
        return []
    choices = []
    for t in _technicians(session):
        if t.id == appointment.technician_id or skill not in t.skills:
            continue
        if t.zones and premises.zip not in t.zones:
            continue
        shift = next((s for s in t.shifts if s.weekday == appointment.day.weekday()), None)
        if shift is None or not window.within(shift.start, shift.end):
            continue
        free = t.capacity_per_window - load.get(t.id, 0)
        if free > 0:
            choices.append(TechnicianChoice(t.id, t.name, free))
    return choices


@dataclass(frozen=True, slots=True)
class OrderToPlace:
    order: WaitingOrder
    status: OrderStatus
    phone: str | None
    access_notes: str | None
    #: Service Checklist steps still missing before an installation can be booked
    missing: list[str]
    #: the live appointment, when the order already has one
    appointment_id: int | None


def order_to_place(uow: UnitOfWork, *, actor: Actor, order_id: int) -> OrderToPlace:
    """An order that needs a visit, for booking it from the board."""
    actor.require(Permission.DISPATCH)
    session = uow.session
    order = session.get(ServiceOrder, order_id)
    if order is None:
        raise NotFound(f"no order {order_id}")
    if order.type not in VISIT_TYPES:
        raise InvalidInput(f"a {order.type.label.lower()} order has no visit to book")
    customer = session.get(Customer, order.customer_id)
    assert customer is not None
    live = session.scalar(
        sa.select(Appointment.id)
        .where(Appointment.order_id == order.id, Appointment.status.in_(ACTIVE_APPOINTMENT))
        .order_by(Appointment.id.desc())
        .limit(1)
    )
    now = utcnow()
    return OrderToPlace(
        WaitingOrder(
            order.id,
            order.type,
            customer.id,
            customer.name,
            visit_address(session, order, customer),
            order.created_at,
            max(0, (now.date() - order.created_at.date()).days),
        ),
        order.status,
        customer.phone,
        customer.access_notes,
        missing_before_scheduling(order) if order.type is OrderType.NEW_INSTALL else [],
        live,
    )
