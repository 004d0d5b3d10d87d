"""A customer's whole story in one read: the spec's "query context".

``customer_context`` gathers, in one read-only unit of work, the customer's status, plan,
address, NAP and port (and the PON tree above it), equipment, tickets, orders,
appointments, billing (when the actor may read billing), notes, messages sent and a
timeline of all of it; then, outside the transaction, asks the network adapter for the
ONT's live status and Rx power with its signal class. The console's customer page and the
agent tools use it; nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.adapters.network.base import NetworkAdapter, NetworkError
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Appointment,
    BillingAccount,
    Customer,
    CustomerNote,
    Equipment,
    Invoice,
    Nap,
    Olt,
    OutboxMessage,
    Plan,
    PonPort,
    ServiceHold,
    ServiceOrder,
    Splitter,
    Technician,
    Ticket,
)
from fiberdesk.db.unit_of_work import UowFactory
from fiberdesk.domain.billing import InvoiceStatus, Standing
from fiberdesk.domain.customers import NoteType, ServiceStatus
from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType
from fiberdesk.domain.errors import NotFound
from fiberdesk.domain.network import SignalClass, signal_class
from fiberdesk.domain.orders import AppointmentStatus, OrderStatus, OrderType
from fiberdesk.domain.tickets import TicketCategory, TicketStatus
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services.billing import balance
from fiberdesk.services.tickets import OPEN_STATUSES, ticket_number

#: how many of each kind of record the context holds (newest first)
RECENT = 25


@dataclass(frozen=True, slots=True)
class Place:
    """Where the customer hangs in the network tree."""

    nap_id: int
    nap_code: str
    port_number: int | None
    splitter_code: str | None
    pon_port_id: int | None
    pon_label: str | None  # "OLT-1 1/3"
    olt_id: int | None
    olt_name: str | None


@dataclass(frozen=True, slots=True)
class EquipmentLine:
    id: int
    type: EquipmentType
    serial: str
    status: EquipmentStatus
    vendor: str | None
    model: str | None
    mac_address: str | None
    ip_address: str | None


@dataclass(frozen=True, slots=True)
class LiveOnt:
    """The ONT as the network adapter sees it now; ``error`` when it could not be asked."""

    serial: str
    checked_at: datetime
    registered: bool = False
    online: bool = False
    admin_state: str = "UNKNOWN"
    rx_dbm: Decimal | None = None
    tx_dbm: Decimal | None = None
    signal: SignalClass | None = None
    last_seen_at: datetime | None = None
    alarms: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class TicketLine:
    id: int
    number: str
    category: TicketCategory
    status: TicketStatus
    description: str
    created_at: datetime
    resolved_at: datetime | None
    sla_due_at: datetime | None
    is_open: bool


@dataclass(frozen=True, slots=True)
class OrderLine:
    id: int
    type: OrderType
    status: OrderStatus
    created_at: datetime
    scheduled_date: date | None
    completed_date: datetime | None


@dataclass(frozen=True, slots=True)
class AppointmentLine:
    id: int
    order_id: int
    order_type: OrderType
    day: date
    window_start: time
    window_end: time
    status: AppointmentStatus
    technician: str


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    id: int
    number: str
    period_start: date
    period_end: date
    issued_on: date
    due_on: date
    total: Decimal
    status: InvoiceStatus


@dataclass(frozen=True, slots=True)
class Billing:
    account_id: int
    standing: Standing
    balance: Decimal
    cycle_day: int
    billed_through: date | None
    invoices: list[InvoiceLine]
    holds: list[str]


@dataclass(frozen=True, slots=True)
class NoteLine:
    id: int
    type: NoteType
    content: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MessageLine:
    id: int
    kind: str
    channel: str
    recipient: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the timeline."""

    at: datetime
    kind: str  # account, ticket, order, visit, invoice, note, message, hold
    text: str
    url: str | None = None
    #: an amount the line is about (an invoice's total), shown with the currency
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CustomerContext:
    id: int
    account_number: str
    name: str
    email: str | None
    phone: str | None
    #: the phone number as people write it, e.g. (410) 555-0123
    phone_display: str | None
    service_address: str
    unit: str | None
    access_notes: str | None
    status: ServiceStatus
    created_at: datetime
    activated_at: datetime | None
    disconnected_at: datetime | None
    churn_reason: str | None
    plan_code: str | None
    plan_name: str | None
    plan_speed: str | None  # "500/500 Mbps"
    plan_price: Decimal | None
    place: Place | None
    equipment: list[EquipmentLine]
    ont_serial: str | None
    tickets: list[TicketLine]
    orders: list[OrderLine]
    appointments: list[AppointmentLine]
    #: None when the actor may not read billing, or billing has not started
    billing: Billing | None
    billing_visible: bool
    notes: list[NoteLine]
    messages: list[MessageLine]
    timeline: list[Event]
    live: LiveOnt | None = None
    read_at: datetime = field(default_factory=utcnow)

    @property
    def open_tickets(self) -> list[TicketLine]:
        return [t for t in self.tickets if t.is_open]


def customer_context(
    uows: UowFactory,
    *,
    actor: Actor,
    customer_id: int,
    network: NetworkAdapter | None = None,
    now: datetime | None = None,
) -> CustomerContext:
    """Everything about one customer; with ``network``, the ONT's live status too."""
    actor.require(Permission.CUSTOMERS_READ)
    with uows(write=False) as uow:
        context = _gather(uow.session, actor, customer_id)
    if network is not None and context.ont_serial is not None:
        live = live_ont(network, context.ont_serial, now=now)
        context = _with_live(context, live)
    return context


def live_ont(network: NetworkAdapter, serial: str, *, now: datetime | None = None) -> LiveOnt:
    """The ONT's status from the network adapter, or a LiveOnt holding the error."""
    checked = now or utcnow()
    try:
        ont = network.ont_status(serial=serial)
    except NetworkError as exc:
        return LiveOnt(serial, checked, error=exc.reason)
    return LiveOnt(
        serial,
        checked,
        registered=ont.registered,
        online=ont.online,
        admin_state=ont.admin_state,
        rx_dbm=ont.rx_dbm,
        tx_dbm=ont.tx_dbm,
        signal=signal_class(ont.rx_dbm) if ont.rx_dbm is not None else None,
        last_seen_at=ont.last_seen_at,
        alarms=tuple(str(a.value).replace("_", " ") for a in ont.active_alarms),
    )


def _with_live(context: CustomerContext, live: LiveOnt) -> CustomerContext:
    from dataclasses import replace

    return replace(context, live=live)


def _place(session: Session, customer: Customer) -> Place | None:
    if customer.nap_id is None:
        return None
    row = session.execute(
        sa.select(Nap.code, Splitter.code, PonPort.id, PonPort.slot, PonPort.port, Olt.id, Olt.name)
        .outerjoin(Splitter, Nap.splitter_id == Splitter.id)
        .outerjoin(PonPort, Splitter.pon_port_id == PonPort.id)
        .outerjoin(Olt, PonPort.olt_id == Olt.id)
        .where(Nap.id == customer.nap_id)
    ).first()
    if row is None:
        return None
    nap_code, splitter, pon_id, slot, port, olt_id, olt_name = row
    pon = f"{olt_name} {slot}/{port}" if pon_id is not None else None
    return Place(
        customer.nap_id, nap_code, customer.port_number, splitter, pon_id, pon, olt_id, olt_name
    )


def _billing(session: Session, customer_id: int) -> Billing | None:
    account = session.scalar(
        sa.select(BillingAccount).where(BillingAccount.customer_id == customer_id)
    )
    if account is None:
        return None
    invoices = [
        InvoiceLine(
            i.id, i.number, i.period_start, i.period_end, i.issued_on, i.due_on, i.total, i.status
        )
        for i in session.scalars(
            sa.select(Invoice)
            .where(Invoice.account_id == account.id)
            .order_by(Invoice.issued_on.desc(), Invoice.id.desc())
            .limit(RECENT)
        )
    ]
    holds = [
        f"{h.kind.label} from {h.starts_on:%b %-d, %Y}"
        + (f" to {h.ends_on:%b %-d, %Y}" if h.ends_on else "")
        for h in session.scalars(
            sa.select(ServiceHold).where(
                ServiceHold.customer_id == customer_id, ServiceHold.ended_on.is_(None)
            )
        )
    ]
    return Billing(
        account.id,
        account.standing,
        balance(session, account.id),
        account.cycle_day,
        account.billed_through,
        invoices,
        holds,
    )


def _gather(session: Session, actor: Actor, customer_id: int) -> CustomerContext:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    plan = session.get(Plan, customer.plan_id) if customer.plan_id else None
    equipment = [
        EquipmentLine(
            e.id, e.type, e.serial_number, e.status, e.vendor, e.model, e.mac_address, e.ip_address
        )
        for e in session.scalars(
            sa.select(Equipment).where(Equipment.customer_id == customer_id).order_by(Equipment.id)
        )
    ]
    ont = next(
        (
            e.serial
            for e in equipment
            if e.type is EquipmentType.ONT and e.status is EquipmentStatus.INSTALLED
        ),
        None,
    )
    tickets = [
        TicketLine(
            t.id,
            ticket_number(t.id),
            t.category,
            t.status,
            t.description,
            t.created_at,
            t.resolved_at,
            t.sla_due_at,
            t.status in OPEN_STATUSES,
        )
        for t in session.scalars(
            sa.select(Ticket)
            .where(Ticket.customer_id == customer_id)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(RECENT)
        )
    ]
    orders = [
        OrderLine(o.id, o.type, o.status, o.created_at, o.scheduled_date, o.completed_date)
        for o in session.scalars(
            sa.select(ServiceOrder)
            .where(ServiceOrder.customer_id == customer_id)
            .order_by(ServiceOrder.created_at.desc(), ServiceOrder.id.desc())
            .limit(RECENT)
        )
    ]
    appointments = [
        AppointmentLine(a.id, a.order_id, otype, a.day, a.window_start, a.window_end, a.status, tn)
        for a, otype, tn in session.execute(
            sa.select(Appointment, ServiceOrder.type, Technician.name)
            .join(ServiceOrder, ServiceOrder.id == Appointment.order_id)
            .join(Technician, Technician.id == Appointment.technician_id)
            .where(ServiceOrder.customer_id == customer_id)
            .order_by(Appointment.day.desc(), Appointment.window_start.desc())
            .limit(RECENT)
        )
    ]
    billing_visible = actor.can(Permission.BILLING_READ)
    billing = _billing(session, customer_id) if billing_visible else None
    notes = [
        NoteLine(n.id, n.type, n.content, n.created_by, n.created_at)
        for n in session.scalars(
            sa.select(CustomerNote)
            .where(CustomerNote.customer_id == customer_id)
            .order_by(CustomerNote.created_at.desc(), CustomerNote.id.desc())
            .limit(RECENT * 2)
        )
    ]
    messages = [
        MessageLine(
            m.id, m.kind, m.channel, m.recipient, m.status, m.created_at, m.sent_at, m.last_error
        )
        for m in session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.customer_id == customer_id)
            .order_by(OutboxMessage.id.desc())
            .limit(RECENT)
        )
    ]
    speed = f"{plan.download_mbps}/{plan.upload_mbps} Mbps" if plan else None
    return CustomerContext(
        id=customer.id,
        account_number=customer.account_number,
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        phone_display=_phone_display(customer.phone),
        service_address=customer.service_address,
        unit=customer.unit,
        access_notes=customer.access_notes,
        status=customer.status,
        created_at=customer.created_at,
        activated_at=customer.activated_at,
        disconnected_at=customer.disconnected_at,
        churn_reason=customer.churn_reason,
        plan_code=plan.code if plan else None,
        plan_name=plan.name if plan else None,
        plan_speed=speed,
        plan_price=plan.monthly_price if plan else None,
        place=_place(session, customer),
        equipment=equipment,
        ont_serial=ont,
        tickets=tickets,
        orders=orders,
        appointments=appointments,
        billing=billing,
        billing_visible=billing_visible,
        notes=notes,
        messages=messages,
        timeline=_timeline(customer, tickets, orders, appointments, billing, notes, messages),
    )


def _phone_display(e164: str | None) -> str | None:
    if not e164:
        return None
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    fmt = phonenumbers.PhoneNumberFormat
    national = number.country_code == 1
    return phonenumbers.format_number(number, fmt.NATIONAL if national else fmt.INTERNATIONAL)


def _at(day: date, clock: time = time(0)) -> datetime:
    return datetime.combine(day, clock, tzinfo=UTC)


def _timeline(
    customer: Customer,
    tickets: list[TicketLine],
    orders: list[OrderLine],
    appointments: list[AppointmentLine],
    billing: Billing | None,
    notes: list[NoteLine],
    messages: list[MessageLine],
) -> list[Event]:
    """Everything that happened to the account, newest first."""
    events: list[Event] = [Event(customer.created_at, "account", "Account opened")]
    if customer.activated_at:
        events.append(Event(customer.activated_at, "account", "Service activated"))
    if customer.disconnected_at:
        why = f" ({customer.churn_reason})" if customer.churn_reason else ""
        events.append(Event(customer.disconnected_at, "account", f"Service disconnected{why}"))
    for t in tickets:
        url = f"/console/tickets/{t.id}"
        events.append(Event(t.created_at, "ticket", f"{t.number} opened: {t.category.label}", url))
        if t.resolved_at:
            events.append(
                Event(t.resolved_at, "ticket", f"{t.number} {t.status.label.lower()}", url)
            )
    for o in orders:
        events.append(Event(o.created_at, "order", f"{o.type.label} order #{o.id} entered"))
        if o.completed_date:
            events.append(Event(o.completed_date, "order", f"{o.type.label} order #{o.id} done"))
    for a in appointments:
        when = f"{a.window_start:%H:%M}-{a.window_end:%H:%M}"
        text = f"Visit {when} with {a.technician}: {a.status.label.lower()}"
        url = f"/console/dispatch/appointments/{a.id}"
        events.append(Event(_at(a.day, a.window_start), "visit", text, url))
    if billing is not None:
        for i in billing.invoices:
            text = f"Invoice {i.number} issued ({i.status.label.lower()})"
            url = f"/console/billing/invoices/{i.id}"
            events.append(Event(_at(i.issued_on), "invoice", text, url, i.total))
    for n in notes:
        first = n.content.splitlines()[0] if n.content else ""
        short = first if len(first) <= 90 else first[:89] + "…"
        events.append(Event(n.created_at, "note", f"Note by {n.created_by}: {short}"))
    for m in messages:
        kind = m.kind.replace("_", " ")
        events.append(Event(m.created_at, "message", f"{m.channel.upper()} {kind}: {m.status}"))
    events.sort(key=lambda e: e.at, reverse=True)
    return events


def summary(context: CustomerContext) -> dict[str, Any]:
    """A short plain summary (for the agent tools and logs)."""
    return {
        "customer_id": context.id,
        "account_number": context.account_number,
        "name": context.name,
        "status": context.status.value,
        "plan": context.plan_code,
        "nap": context.place.nap_code if context.place else None,
        "port": context.place.port_number if context.place else None,
        "ont_serial": context.ont_serial,
        "open_tickets": [t.number for t in context.open_tickets],
        "balance": str(context.billing.balance) if context.billing else None,
    }
