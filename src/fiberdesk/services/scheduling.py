"""Installation scheduling (the spec's STEP 3): windows, bookings, reschedules, surveys.

A window can be booked when a technician with the right skill covers the premises' ZIP,
has a shift that contains the window that weekday, and has capacity left in it. Bookings
lock the technician's row, count, then insert, so a window is never overbooked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
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
from fiberdesk.db.unit_of_work import UowFactory
from fiberdesk.domain.customers import SERVICE_TRANSITIONS, ServiceStatus
from fiberdesk.domain.errors import InvalidInput, NotFound, Refused
from fiberdesk.domain.orders import (
    APPOINTMENT_TRANSITIONS,
    ORDER_TRANSITIONS,
    AppointmentStatus,
    OrderStatus,
    OrderType,
)
from fiberdesk.domain.scheduling import Window
from fiberdesk.domain.signup import lead_time_flag
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit, messages
from fiberdesk.services.orders import (
    check_off,
    get_customer,
    get_order,
    missing_before_scheduling,
    record_step,
    refuse,
)

ACTIVE_APPOINTMENT = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.EN_ROUTE,
    AppointmentStatus.ON_SITE,
)
SKILL_FOR = {
    OrderType.NEW_INSTALL: "install",
    OrderType.SITE_SURVEY: "survey",
    OrderType.REPAIR: "repair",
    OrderType.RELOCATION: "install",
}

WHAT_TO_EXPECT = (
    "Our technician arrives in a marked vehicle and shows a company ID.",
    "Installation usually takes one to two hours.",
    "Someone aged 18 or over must be at home for the whole visit.",
    "Please have a photo ID ready.",
)
HOW_TO_PREPARE = (
    "Clear the spot where you would like the ONT (the fiber box) mounted.",
    "Decide where the WiFi router should go: central and off the floor works best.",
    "Have the WiFi network name and password you want ready.",
)


@dataclass(frozen=True, slots=True)
class Slot:
    day: date
    window: str
    label: str
    available_technicians: int


@dataclass(frozen=True, slots=True)
class SchedulingSettings:
    windows: tuple[Window, ...]
    horizon_days: int = 28
    lead_time_target_days: int = 7
    lead_time_alert_days: int = 10
    company_name: str = "fiberdesk"
    support_phone: str = ""


def _window(settings: SchedulingSettings, code: str) -> Window:
    for w in settings.windows:
        if w.code == code.upper():
            return w
    codes = ", ".join(w.code for w in settings.windows)
    raise InvalidInput(f"no installation window {code!r} (windows: {codes})", field="window")


def _eligible(session: Session, skill: str, zip_code: str) -> list[Technician]:
    techs = session.scalars(
        sa.select(Technician).where(Technician.active.is_(True)).order_by(Technician.id)
    ).all()
    return [t for t in techs if skill in t.skills and (not t.zones or zip_code in t.zones)]


def _shifts(session: Session, tech_ids: list[int]) -> dict[tuple[int, int], TechnicianShift]:
    rows = session.scalars(
        sa.select(TechnicianShift).where(TechnicianShift.technician_id.in_(tech_ids))
    ).all()
    return {(s.technician_id, s.weekday): s for s in rows}


def _load(
    session: Session, tech_ids: list[int], first: date, last: date
) -> Counter[tuple[int, date, str]]:
    rows = session.execute(
        sa.select(
            Appointment.technician_id, Appointment.day, Appointment.window_code, sa.func.count()
        )
        .where(
            Appointment.technician_id.in_(tech_ids),
            Appointment.day.between(first, last),
            Appointment.status.in_(ACTIVE_APPOINTMENT),
        )
        .group_by(Appointment.technician_id, Appointment.day, Appointment.window_code)
    ).all()
    return Counter({(t, d, w): n for t, d, w, n in rows})


def _context(session: Session, order: ServiceOrder) -> tuple[Customer, Premises, str]:
    customer = get_customer(session, order.customer_id)
    # a relocation's visit is at the new address
    target = order.details.get("new_premises_id") or customer.premises_id
    premises = session.get(Premises, target) if target else None
    if premises is None:
        raise Refused(f"order {order.id} has no premises to send a technician to")
    skill = SKILL_FOR.get(order.type)
    if skill is None:
        raise InvalidInput(f"a {order.type.label.lower()} order has no visit to schedule")
    return customer, premises, skill


def _slots(
    session: Session,
    *,
    skill: str,
    zip_code: str,
    settings: SchedulingSettings,
    first: date,
    days: int,
) -> list[Slot]:
    techs = _eligible(session, skill, zip_code)
    if not techs:
        return []
    shifts = _shifts(session, [t.id for t in techs])
    last = first + timedelta(days=days - 1)
    load = _load(session, [t.id for t in techs], first, last)
    slots = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        for w in settings.windows:
            free = 0
            for t in techs:
                shift = shifts.get((t.id, day.weekday()))
                if (
                    shift
                    and w.within(shift.start, shift.end)
                    and (load[(t.id, day, w.code)] < t.capacity_per_window)
                ):
                    free += 1
            if free:
                slots.append(Slot(day, w.code, w.label, free))
    return slots


def find_windows(
    uows: UowFactory,
    *,
    actor: Actor,
    order_id: int,
    settings: SchedulingSettings,
    start: date | None = None,
    limit: int = 10,
) -> list[Slot]:
    """The earliest bookable windows for an order's visit, from tomorrow on."""
    actor.require(Permission.DISPATCH)
    if not 1 <= limit <= 100:
        raise InvalidInput("limit must be 1 to 100", field="limit")
    first = start or (utcnow().date() + timedelta(days=1))
    with uows(write=False) as uow:
        order = get_order(uow.session, order_id)
        _customer, premises, skill = _context(uow.session, order)
        return _slots(
            uow.session,
            skill=skill,
            zip_code=premises.zip,
            settings=settings,
            first=first,
            days=settings.horizon_days,
        )[:limit]


@dataclass(frozen=True, slots=True)
class Booking:
    appointment_id: int
    order_id: int
    technician_id: int
    technician_name: str
    day: date
    window: str
    label: str
    lead_time_flag: str | None


def _survey_passed(session: Session, order: ServiceOrder) -> bool:
    surveys = session.scalars(
        sa.select(ServiceOrder).where(
            ServiceOrder.customer_id == order.customer_id,
            ServiceOrder.type == OrderType.SITE_SURVEY,
        )
    ).all()
    return any(s.status is OrderStatus.COMPLETED and s.details.get("passed") for s in surveys)


class _NoSlot(Exception):
    def __init__(self, reason: str, **extra: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.extra = extra


def _take_slot(
    session: Session,
    *,
    order: ServiceOrder,
    premises: Premises,
    skill: str,
    day: date,
    window: Window,
    settings: SchedulingSettings,
    technician_id: int | None,
) -> Technician:
    """A technician with room in the window, locked; raises _NoSlot saying why not."""
    techs = _eligible(session, skill, premises.zip)
    if technician_id is not None:
        techs = [t for t in techs if t.id == technician_id]
        if not techs:
            raise InvalidInput(
                f"technician {technician_id} cannot do this visit (skill or zone)",
                field="technician_id",
            )
    shifts = _shifts(session, [t.id for t in techs])
    in_shift = [
        t
        for t in techs
        if (s := shifts.get((t.id, day.weekday()))) and window.within(s.start, s.end)
    ]
    if not in_shift:
        raise _NoSlot(
            f"no technician works {window.code} ({window.label}) on "
            f"{day:%A %Y-%m-%d} for this address: outside every shift"
        )
    load = _load(session, [t.id for t in in_shift], day, day)
    for tech in sorted(in_shift, key=lambda t: (load[(t.id, day, window.code)], t.id)):
        # lock the technician, then count: no window is ever overbooked
        session.execute(sa.select(Technician.id).where(Technician.id == tech.id).with_for_update())
        taken = session.scalar(
            sa.select(sa.func.count())
            .select_from(Appointment)
            .where(
                Appointment.technician_id == tech.id,
                Appointment.day == day,
                Appointment.window_code == window.code,
                Appointment.status.in_(ACTIVE_APPOINTMENT),
            )
        )
        if (taken or 0) < tech.capacity_per_window:
            return tech
    later = _slots(
        session,
        skill=skill,
        zip_code=premises.zip,
        settings=settings,
        first=day,
        days=settings.horizon_days,
    )
    nxt = next((s for s in later if (s.day, s.window) != (day, window.code)), None)
    raise _NoSlot(
        f"{window.code} on {day:%Y-%m-%d} is fully booked"
        + (f"; next free: {nxt.window} on {nxt.day:%Y-%m-%d}" if nxt else ""),
        next_day=nxt.day.isoformat() if nxt else None,
        next_window=nxt.window if nxt else None,
    )


def _check_day(day: date, now: datetime, settings: SchedulingSettings) -> None:
    if day <= now.date():
        raise InvalidInput("book from tomorrow on", field="day")
    if day > now.date() + timedelta(days=settings.horizon_days * 4):
        raise InvalidInput("that day is too far ahead to book", field="day")


def book(
    uows: UowFactory,
    *,
    actor: Actor,
    order_id: int,
    day: date,
    window: str,
    settings: SchedulingSettings,
    technician_id: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """Book a visit for an order in a window. Refused (and recorded on the order) when the
    window is outside every shift or full, or the order is not ready."""
    actor.require(Permission.DISPATCH)
    now = now or utcnow()
    w = _window(settings, window)
    _check_day(day, now, settings)
    with uows() as uow:
        session = uow.session
        order = get_order(session, order_id, for_update=True)
        customer, premises, skill = _context(session, order)
        ORDER_TRANSITIONS.check(order.status, OrderStatus.SCHEDULED)
        if order.type is OrderType.NEW_INSTALL:
            missing = missing_before_scheduling(order)
            if missing:
                raise Refused(
                    "the order is not ready to schedule: missing " + ", ".join(missing),
                    extra={"missing": missing},
                )
            if order.details.get("survey_required") and not _survey_passed(session, order):
                raise Refused(
                    "a site survey must pass before the installation is booked",
                    extra={"reason": "SURVEY_PENDING"},
                )
        try:
            tech = _take_slot(
                session,
                order=order,
                premises=premises,
                skill=skill,
                day=day,
                window=w,
                settings=settings,
                technician_id=technician_id,
            )
        except _NoSlot as no:
            problem = no
        else:
            booking = _commit_booking(
                session,
                order=order,
                customer=customer,
                premises=premises,
                tech=tech,
                day=day,
                window=w,
                settings=settings,
                actor=actor,
                now=now,
            )
            uow.commit()
            return booking
    raise refuse(
        uows,
        order_id=order_id,
        step="schedule",
        actor=actor,
        reason=problem.reason,
        **problem.extra,
    )


def _commit_booking(
    session: Session,
    *,
    order: ServiceOrder,
    customer: Customer,
    premises: Premises,
    tech: Technician,
    day: date,
    window: Window,
    settings: SchedulingSettings,
    actor: Actor,
    now: datetime,
) -> Booking:
    appointment = Appointment(
        order_id=order.id,
        technician_id=tech.id,
        day=day,
        window_code=window.code,
        window_start=window.start,
        window_end=window.end,
    )
    session.add(appointment)
    before = audit.snapshot(order)
    order.status = OrderStatus.SCHEDULED
    order.scheduled_date = day
    order.technician_id = tech.id
    flag = None
    if order.type is OrderType.NEW_INSTALL:
        if "first_available" not in order.details:
            earliest = _slots(
                session,
                skill="install",
                zip_code=premises.zip,
                settings=settings,
                first=order.created_at.date() + timedelta(days=1),
                days=settings.horizon_days,
            )
            first_day = earliest[0].day if earliest else day
            waited = (first_day - order.created_at.date()).days
            flag = lead_time_flag(
                waited, target=settings.lead_time_target_days, alert=settings.lead_time_alert_days
            ).value
            order.details = {
                **order.details,
                "first_available": first_day.isoformat(),
                "lead_time_flag": flag,
            }
        check_off(order, "scheduled", f"{day:%Y-%m-%d} {window.code} with {tech.name}")
        if customer.status is ServiceStatus.PENDING:
            SERVICE_TRANSITIONS.check(customer.status, ServiceStatus.SCHEDULED)
            customer.status = ServiceStatus.SCHEDULED
        session.flush()
        messages.queue(
            session,
            kind="installation_confirmation",
            key=f"appointment{appointment.id}",
            customer=customer,
            context={
                "customer_name": customer.name,
                "date": day.strftime("%A, %B %d, %Y"),
                "time_window": window.label,
                "service_address": customer.service_address,
                "what_to_expect": list(WHAT_TO_EXPECT),
                "how_to_prepare": list(HOW_TO_PREPARE),
                "support_number": settings.support_phone,
                "company_name": settings.company_name,
                "account_number": customer.account_number,
            },
        )
    session.flush()
    record_step(
        order,
        step="schedule",
        outcome="done",
        actor=actor,
        at=now,
        detail=f"{day:%Y-%m-%d} {window.code} ({window.label}) with {tech.name}",
    )
    audit.record(
        session,
        actor=actor,
        action="appointment.book",
        entity_type="appointment",
        entity_id=appointment.id,
        after=audit.snapshot(appointment),
    )
    audit.record(
        session,
        actor=actor,
        action="order.schedule",
        entity_type="service_order",
        entity_id=order.id,
        before=before,
        after=audit.snapshot(order),
    )
    return Booking(
        appointment.id,
        order.id,
        tech.id,
        tech.name,
        day,
        window.code,
        window.label,
        flag or order.details.get("lead_time_flag"),
    )


def _appointment(session: Session, appointment_id: int) -> Appointment:
    appointment = session.scalar(
        sa.select(Appointment).where(Appointment.id == appointment_id).with_for_update()
    )
    if appointment is None:
        raise NotFound(f"no appointment {appointment_id}")
    return appointment


def cancel(uows: UowFactory, *, actor: Actor, appointment_id: int, reason: str) -> None:
    """Cancel a visit: the order goes back to OPEN, a scheduled customer to PENDING."""
    actor.require(Permission.DISPATCH)
    if not reason.strip():
        raise InvalidInput("say why the visit is cancelled", field="reason")
    with uows() as uow:
        session = uow.session
        appointment = _appointment(session, appointment_id)
        APPOINTMENT_TRANSITIONS.check(appointment.status, AppointmentStatus.CANCELLED)
        order = get_order(session, appointment.order_id, for_update=True)
        before = audit.snapshot(appointment)
        appointment.status = AppointmentStatus.CANCELLED
        ORDER_TRANSITIONS.check(order.status, OrderStatus.OPEN)
        order.status = OrderStatus.OPEN
        order.scheduled_date = None
        if order.type is OrderType.NEW_INSTALL:
            check_off(order, "scheduled", None)
            customer = get_customer(session, order.customer_id)
            if customer.status is ServiceStatus.SCHEDULED:
                customer.status = ServiceStatus.PENDING
        record_step(order, step="cancel_visit", outcome="done", actor=actor, detail=reason)
        audit.record(
            session,
            actor=actor,
            action="appointment.cancel",
            entity_type="appointment",
            entity_id=appointment.id,
            before=before,
            after=audit.snapshot(appointment),
        )
        uow.commit()


def reschedule(
    uows: UowFactory,
    *,
    actor: Actor,
    appointment_id: int,
    day: date,
    window: str,
    settings: SchedulingSettings,
    now: datetime | None = None,
) -> Booking:
    """Move a visit to another window in one transaction: the old booking is released and
    the new one taken; if the new window cannot be had, nothing changes."""
    actor.require(Permission.DISPATCH)
    now = now or utcnow()
    w = _window(settings, window)
    _check_day(day, now, settings)
    with uows() as uow:
        session = uow.session
        old = _appointment(session, appointment_id)
        if old.status is not AppointmentStatus.BOOKED:
            raise Refused(f"appointment {appointment_id} is {old.status.label.lower()}")
        order = get_order(session, old.order_id, for_update=True)
        customer, premises, skill = _context(session, order)
        old.status = AppointmentStatus.CANCELLED
        session.flush()
        try:
            tech = _take_slot(
                session,
                order=order,
                premises=premises,
                skill=skill,
                day=day,
                window=w,
                settings=settings,
                technician_id=None,
            )
        except _NoSlot as no:
            raise Refused(no.reason, extra=no.extra) from None
        booking = _commit_booking(
            session,
            order=order,
            customer=customer,
            premises=premises,
            tech=tech,
            day=day,
            window=w,
            settings=settings,
            actor=actor,
            now=now,
        )
        audit.record(
            session,
            actor=actor,
            action="appointment.reschedule",
            entity_type="appointment",
            entity_id=appointment_id,
            after={"new_appointment": booking.appointment_id},
        )
        uow.commit()
        return booking


def complete_survey(
    uows: UowFactory,
    *,
    actor: Actor,
    order_id: int,
    passed: bool,
    notes: str,
) -> None:
    """Close a site survey: a pass lets the installation be booked; a fail cancels the
    installation order, frees the port and closes the customer's account."""
    actor.require(Permission.FIELD_WORK)
    if not notes.strip():
        raise InvalidInput("the survey's findings are required", field="notes")
    from fiberdesk.services.lifecycle import cancel_install

    with uows() as uow:
        session = uow.session
        survey = get_order(session, order_id, for_update=True)
        if survey.type is not OrderType.SITE_SURVEY:
            raise InvalidInput(f"order {order_id} is not a site survey", field="order_id")
        ORDER_TRANSITIONS.check(survey.status, OrderStatus.COMPLETED)
        survey.status = OrderStatus.COMPLETED
        survey.completed_date = utcnow()
        survey.details = {**survey.details, "passed": passed, "findings": notes}
        record_step(
            survey,
            step="survey",
            outcome="passed" if passed else "failed",
            actor=actor,
            detail=notes,
        )
        for appointment in session.scalars(
            sa.select(Appointment).where(
                Appointment.order_id == survey.id, Appointment.status.in_(ACTIVE_APPOINTMENT)
            )
        ):
            appointment.status = AppointmentStatus.COMPLETED
        install_id = survey.details.get("install_order")
        if not passed and install_id:
            cancel_install(
                session,
                order_id=int(install_id),
                actor=actor,
                reason=f"site survey failed: {notes}",
            )
        audit.record(
            session,
            actor=actor,
            action="survey.complete",
            entity_type="service_order",
            entity_id=survey.id,
            after={"passed": passed, "notes": notes},
        )
        uow.commit()


def reassign(
    uows: UowFactory,
    *,
    actor: Actor,
    appointment_id: int,
    technician_id: int,
    settings: SchedulingSettings,
) -> Booking:
    """Give a booked visit to another technician in the same day and window. The new
    technician's row is locked, then their window counted: capacity is given out once."""
    actor.require(Permission.DISPATCH)
    with uows() as uow:
        session = uow.session
        appointment = _appointment(session, appointment_id)
        if appointment.status is not AppointmentStatus.BOOKED:
            raise Refused(
                f"appointment {appointment_id} is {appointment.status.label.lower()}",
                field="technician_id",
            )
        if appointment.technician_id == technician_id:
            raise InvalidInput("the visit is already with that technician", field="technician_id")
        order = get_order(session, appointment.order_id, for_update=True)
        _customer, premises, skill = _context(session, order)
        window = _window(settings, appointment.window_code)
        try:
            tech = _take_slot(
                session,
                order=order,
                premises=premises,
                skill=skill,
                day=appointment.day,
                window=window,
                settings=settings,
                technician_id=technician_id,
            )
        except _NoSlot as no:
            raise Refused(no.reason, field="technician_id", extra=no.extra) from None
        before = audit.snapshot(appointment)
        appointment.technician_id = tech.id
        order.technician_id = tech.id
        record_step(
            order,
            step="reassign",
            outcome="done",
            actor=actor,
            detail=f"{appointment.day:%Y-%m-%d} {window.code} now with {tech.name}",
        )
        audit.record(
            session,
            actor=actor,
            action="appointment.reassign",
            entity_type="appointment",
            entity_id=appointment.id,
            before=before,
            after=audit.snapshot(appointment),
        )
        uow.commit()
        return Booking(
            appointment.id,
            order.id,
            tech.id,
            tech.name,
            appointment.day,
            window.code,
            window.label,
            order.details.get("lead_time_flag"),
        )
