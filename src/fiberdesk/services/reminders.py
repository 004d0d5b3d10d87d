"""The day-before appointment reminder.

``queue_appointment_reminders`` queues an ``appointment_reminder`` for every appointment
still BOOKED for the day after ``on``, once per appointment and day (the idempotency key
names both, so running the job again, or from two workers at once, queues nothing new, and
an appointment moved to another day is reminded again). The worker runs it once a day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from fiberdesk.db.models import Appointment, Customer, ServiceOrder, Technician
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.orders import AppointmentStatus
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit, messages

KIND = "appointment_reminder"


def queue_appointment_reminders(
    uow: UnitOfWork, *, actor: Actor, on: date, company_name: str, support_number: str
) -> int:
    """Queue tomorrow's reminders (tomorrow being ``on`` + 1 day); returns how many were
    new. Customers with no e-mail address get a text message if they have a phone."""
    actor.require(Permission.DISPATCH)
    s = uow.session
    day = on + timedelta(days=1)
    rows = s.execute(
        sa.select(Appointment, Customer, Technician.name)
        .join(ServiceOrder, ServiceOrder.id == Appointment.order_id)
        .join(Customer, Customer.id == ServiceOrder.customer_id)
        .join(Technician, Technician.id == Appointment.technician_id)
        .where(Appointment.day == day, Appointment.status == AppointmentStatus.BOOKED)
        .order_by(Appointment.id)
    ).all()
    try:
        queued = _queue(uow, rows, day, company_name, support_number)
    except IntegrityError:  # another worker queued the same reminders at the same moment
        return 0
    if queued:
        audit.record(
            s,
            actor=actor,
            action="appointment_reminders.queue",
            entity_type="appointment_reminders",
            entity_id=day.isoformat(),
            after={"day": day.isoformat(), "queued": queued, "booked": len(rows)},
        )
    uow.commit()
    return queued


def _queue(
    uow: UnitOfWork,
    rows: Sequence[Row[Appointment, Customer, str]],
    day: date,
    company_name: str,
    support_number: str,
) -> int:
    s = uow.session
    queued = 0
    for appointment, customer, technician in rows:
        channel = "email" if customer.email else "sms"
        message = messages.queue(
            s,
            kind=KIND,
            key=f"appointment{appointment.id}:{day.isoformat()}",
            customer=customer,
            channel=channel,
            context={
                "customer_name": customer.name,
                "date": day.strftime("%A, %B %d, %Y"),
                "time_window": f"{appointment.window_start:%H:%M}-{appointment.window_end:%H:%M}",
                "service_address": customer.service_address,
                "technician_name": technician,
                "support_number": support_number,
                "company_name": company_name,
                "account_number": customer.account_number,
            },
        )
        if message is not None and message.id is None:  # new (not yet flushed)
            queued += 1
            s.flush()
    return queued
