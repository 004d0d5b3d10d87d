"""Installation day and activation (the spec's STEP 5).

The technician sets out (the customer is told), arrives (INSTALLING), installs, and
activates: fiberdesk checks that the ONT is registered and its receive power in range,
records a wired speed test that must reach a share of the plan, and only then sets the
customer ACTIVE, starts billing and queues the welcome message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from fiberdesk.adapters.network.base import NetworkAdapter
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Appointment,
    Contract,
    ContractTermRow,
    Customer,
    Equipment,
    NapPort,
    Plan,
    PromotionRow,
    ServiceOrder,
    Technician,
)
from fiberdesk.db.unit_of_work import UowFactory
from fiberdesk.domain.billing import EntryKind
from fiberdesk.domain.customers import SERVICE_TRANSITIONS, ServiceStatus
from fiberdesk.domain.dates import add_months
from fiberdesk.domain.equipment import EQUIPMENT_TRANSITIONS, EquipmentStatus
from fiberdesk.domain.errors import InvalidInput, NotFound, Refused
from fiberdesk.domain.network import ONT_OVERLOAD_DBM, ONT_SENSITIVITY_DBM, NapPortStatus
from fiberdesk.domain.orders import (
    APPOINTMENT_TRANSITIONS,
    ORDER_TRANSITIONS,
    AppointmentStatus,
    OrderStatus,
    OrderType,
)
from fiberdesk.domain.signup import lead_time_flag
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit, billing, messages
from fiberdesk.services.kpis import KpiSettings
from fiberdesk.services.orders import (
    OrderView,
    check_off,
    get_customer,
    get_order,
    order_view,
    record_step,
    refuse,
)
from fiberdesk.services.surveys import send_installation_survey

MAX_SPEED_MBPS = 100_000


def _field_actor(actor: Actor) -> None:
    if not (actor.can(Permission.FIELD_WORK) or actor.can(Permission.ORDERS_WRITE)):
        actor.require(Permission.FIELD_WORK)


def _current_appointment(uows: UowFactory, order_id: int) -> int:
    with uows(write=False) as uow:
        appointment_id = uow.session.scalar(
            sa.select(Appointment.id)
            .where(
                Appointment.order_id == order_id,
                Appointment.status.in_(
                    [
                        AppointmentStatus.BOOKED,
                        AppointmentStatus.EN_ROUTE,
                        AppointmentStatus.ON_SITE,
                    ]
                ),
            )
            .order_by(Appointment.id.desc())
            .limit(1)
        )
    if appointment_id is None:
        raise Refused(f"order {order_id} has no booked visit")
    return appointment_id


def en_route(
    uows: UowFactory,
    *,
    actor: Actor,
    order_id: int,
    eta_minutes: int,
    company_name: str,
    support_phone: str,
) -> None:
    """The technician sets out: the customer gets a "technician on the way" message."""
    _field_actor(actor)
    if not 1 <= eta_minutes <= 600:
        raise InvalidInput("the ETA is 1 to 600 minutes", field="eta_minutes")
    appointment_id = _current_appointment(uows, order_id)
    with uows() as uow:
        session = uow.session
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        APPOINTMENT_TRANSITIONS.check(appointment.status, AppointmentStatus.EN_ROUTE)
        appointment.status = AppointmentStatus.EN_ROUTE
        order = get_order(session, order_id, for_update=True)
        customer = get_customer(session, order.customer_id)
        tech = session.get(Technician, appointment.technician_id)
        record_step(
            order, step="en_route", outcome="done", actor=actor, detail=f"ETA {eta_minutes} min"
        )
        messages.queue(
            session,
            kind="technician_on_the_way",
            key=f"appointment{appointment.id}",
            customer=customer,
            channel="sms" if customer.phone else "email",
            context={
                "customer_name": customer.name,
                "technician_name": tech.name if tech else "Your technician",
                "eta_minutes": eta_minutes,
                "service_address": customer.service_address,
                "support_number": support_phone,
                "company_name": company_name,
            },
        )
        audit.record(
            session,
            actor=actor,
            action="appointment.en_route",
            entity_type="appointment",
            entity_id=appointment.id,
            after={"eta_minutes": eta_minutes},
        )
        uow.commit()


def arrive(uows: UowFactory, *, actor: Actor, order_id: int) -> OrderView:
    """The technician is on site: the order is in progress, the customer INSTALLING."""
    _field_actor(actor)
    appointment_id = _current_appointment(uows, order_id)
    with uows() as uow:
        session = uow.session
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        APPOINTMENT_TRANSITIONS.check(appointment.status, AppointmentStatus.ON_SITE)
        appointment.status = AppointmentStatus.ON_SITE
        order = get_order(session, order_id, for_update=True)
        ORDER_TRANSITIONS.check(order.status, OrderStatus.IN_PROGRESS)
        order.status = OrderStatus.IN_PROGRESS
        customer = get_customer(session, order.customer_id)
        before = audit.snapshot(customer)
        if order.type is OrderType.NEW_INSTALL:
            SERVICE_TRANSITIONS.check(customer.status, ServiceStatus.INSTALLING)
            customer.status = ServiceStatus.INSTALLING
        record_step(order, step="on_site", outcome="done", actor=actor)
        audit.record(
            session,
            actor=actor,
            action="order.on_site",
            entity_type="customer",
            entity_id=customer.id,
            before=before,
            after=audit.snapshot(customer),
        )
        view = order_view(session, order)
        uow.commit()
    return view


@dataclass(frozen=True, slots=True)
class PlanSpeeds:
    name: str
    download_mbps: int
    upload_mbps: int


@dataclass(frozen=True, slots=True)
class SpeedTest:
    download_mbps: Decimal
    upload_mbps: Decimal
    wired: bool
    server: str = "on-net test server"

    def __post_init__(self) -> None:
        for name in ("download_mbps", "upload_mbps"):
            value = getattr(self, name)
            if not Decimal(0) <= value <= MAX_SPEED_MBPS:
                raise InvalidInput(f"{name} must be 0 to {MAX_SPEED_MBPS}", field=name)


def activate(
    uows: UowFactory,
    *,
    actor: Actor,
    order_id: int,
    network: NetworkAdapter,
    speed_test: SpeedTest,
    physical_confirmed: bool,
    min_share: Decimal,
    company_name: str,
    support_phone: str,
    now: datetime | None = None,
    surveys: KpiSettings | None = None,
) -> OrderView:
    """Activate a new installation. Every check that fails is refused with its reason and
    recorded on the order; nothing else changes until every check passes."""
    _field_actor(actor)
    now = now or utcnow()
    with uows(write=False) as uow:
        order = get_order(uow.session, order_id)
        if order.type is not OrderType.NEW_INSTALL:
            raise InvalidInput(f"order {order_id} is not a new installation", field="order_id")
        if order.status is not OrderStatus.IN_PROGRESS:
            raise Refused(
                f"order {order_id} is {order.status.label.lower()}: the technician "
                "must be on site (arrive) first"
            )
        serial = order.details.get("ont_serial")
        plan_row = uow.session.get(Plan, order.plan_id)
        assert plan_row is not None
        plan = PlanSpeeds(plan_row.name, plan_row.download_mbps, plan_row.upload_mbps)
        provisioned = bool(order.details.get("provisioned"))

    def no(step: str, reason: str) -> Refused:
        return refuse(uows, order_id=order_id, step=step, actor=actor, reason=reason)

    if not physical_confirmed:
        raise no(
            "physical_install",
            "the technician has not confirmed the physical "
            "installation (drop, ONT, router) is complete",
        )
    if not serial or not provisioned:
        raise no("ont_registration", "no ONT is assigned and provisioned for this order")
    status = network.ont_status(serial=serial)
    if not status.registered or not status.online:
        raise no(
            "ont_registration",
            f"ONT {serial} is not registered and online on the OLT "
            f"(registered: {status.registered}, online: {status.online})",
        )
    if status.rx_dbm is None or not ONT_SENSITIVITY_DBM <= status.rx_dbm <= ONT_OVERLOAD_DBM:
        raise no(
            "ont_registration",
            f"ONT {serial} receives {status.rx_dbm} dBm, outside "
            f"{ONT_SENSITIVITY_DBM} to {ONT_OVERLOAD_DBM} dBm",
        )
    if not speed_test.wired:
        raise no("speed_test", "activation needs a wired speed test (WiFi results vary)")
    need_down = (Decimal(plan.download_mbps) * min_share).quantize(Decimal("0.1"))
    need_up = (Decimal(plan.upload_mbps) * min_share).quantize(Decimal("0.1"))
    if speed_test.download_mbps < need_down or speed_test.upload_mbps < need_up:
        raise no(
            "speed_test",
            f"speed test {speed_test.download_mbps}/"
            f"{speed_test.upload_mbps} Mbps is under {min_share:.0%} of the "
            f"{plan.name} plan ({need_down}/{need_up} Mbps needed)",
        )
    with uows() as uow:
        view = _activate(
            uow.session,
            order_id=order_id,
            actor=actor,
            serial=serial,
            rx=status.rx_dbm,
            speed_test=speed_test,
            now=now,
            company_name=company_name,
            support_phone=support_phone,
            plan=plan,
        )
        if surveys is not None:
            order = get_order(uow.session, order_id)
            send_installation_survey(uow.session, order, surveys, now=now)
        uow.commit()
    return view


def _activate(
    session: sa.orm.Session,
    *,
    order_id: int,
    actor: Actor,
    serial: str,
    rx: Decimal,
    speed_test: SpeedTest,
    now: datetime,
    company_name: str,
    support_phone: str,
    plan: PlanSpeeds,
) -> OrderView:
    order = get_order(session, order_id, for_update=True)
    if order.status is not OrderStatus.IN_PROGRESS:
        raise Refused(f"order {order_id} changed while activating; try again")
    customer = get_customer(session, order.customer_id)
    before = audit.snapshot(customer)
    SERVICE_TRANSITIONS.check(customer.status, ServiceStatus.ACTIVE)
    customer.status = ServiceStatus.ACTIVE
    customer.activated_at = now
    customer.billing_start = now.date()
    unit = session.scalar(sa.select(Equipment).where(Equipment.serial_number == serial))
    if unit is None:
        raise NotFound(f"ONT {serial} is not in the inventory")
    EQUIPMENT_TRANSITIONS.check(unit.status, EquipmentStatus.INSTALLED)
    unit.status = EquipmentStatus.INSTALLED
    session.execute(
        sa.update(NapPort)
        .where(NapPort.customer_id == customer.id)
        .values(status=NapPortStatus.IN_USE, held_by=None, hold_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    for appointment in session.scalars(
        sa.select(Appointment).where(
            Appointment.order_id == order.id, Appointment.status == AppointmentStatus.ON_SITE
        )
    ):
        appointment.status = AppointmentStatus.COMPLETED
    contract = session.scalar(
        sa.select(Contract)
        .where(Contract.customer_id == customer.id)
        .order_by(Contract.id.desc())
        .limit(1)
    )
    if contract is not None and contract.starts_on is None:
        contract.starts_on = now.date()
        if contract.months:
            contract.ends_on = add_months(now.date(), contract.months)
    _open_billing(session, customer=customer, order=order, actor=actor, now=now)
    lead_days = round((now - order.created_at).total_seconds() / 86400, 2)
    ORDER_TRANSITIONS.check(order.status, OrderStatus.COMPLETED)
    order.status = OrderStatus.COMPLETED
    order.completed_date = now
    order.details = {
        **order.details,
        "speed_test": {
            "download_mbps": str(speed_test.download_mbps),
            "upload_mbps": str(speed_test.upload_mbps),
            "wired": speed_test.wired,
            "server": speed_test.server,
            "at": now.isoformat(),
        },
        "activation_rx_dbm": str(rx),
        "lead_time_days": lead_days,
        "lead_time_result": lead_time_flag(lead_days).value,
    }
    for step, detail in (
        ("physical_install", "confirmed by the technician"),
        ("ont_registration", f"ONT {serial} online, Rx {rx} dBm"),
        ("speed_test", f"wired {speed_test.download_mbps}/{speed_test.upload_mbps} Mbps"),
        ("activation", "service delivered; customer ACTIVE"),
    ):
        record_step(order, step=step, outcome="done", actor=actor, detail=detail, at=now)
    check_off(order, "activated", now.isoformat())
    messages.queue(
        session,
        kind="welcome",
        key=f"customer{customer.id}",
        customer=customer,
        context={
            "customer_name": customer.name,
            "account_number": customer.account_number,
            "plan_name": plan.name,
            "download_mbps": plan.download_mbps,
            "upload_mbps": plan.upload_mbps,
            "service_address": customer.service_address,
            "activated_on": now.date().isoformat(),
            "support_number": support_phone,
            "company_name": company_name,
        },
    )
    audit.record(
        session,
        actor=actor,
        action="customer.activate",
        entity_type="customer",
        entity_id=customer.id,
        before=before,
        after=audit.snapshot(customer),
    )
    return order_view(session, order)


def _open_billing(
    session: sa.orm.Session, *, customer: Customer, order: ServiceOrder, actor: Actor, now: datetime
) -> None:
    """Billing starts at activation: the account opens with the contract's discount and
    the promotion; the installation fee goes on the first invoice; a deposit is held."""
    term = session.scalar(
        sa.select(ContractTermRow).where(ContractTermRow.code == order.details.get("term"))
    )
    promo = (
        session.scalar(
            sa.select(PromotionRow).where(PromotionRow.code == order.details.get("promotion"))
        )
        if order.details.get("promotion")
        else None
    )
    plan = session.get(Plan, customer.plan_id)
    assert plan is not None
    account = billing.open_account(
        session,
        customer=customer,
        actor=actor,
        on=now.date(),
        term_discount=term.monthly_discount if term else Decimal("0.00"),
        promotion_code=promo.code if promo else None,
        promotion_discount=promo.monthly_discount if promo else Decimal("0.00"),
        promotion_months=promo.months if promo else 0,
        currency=plan.currency,
    )
    waived = bool(term and term.waive_install_fee) or bool(promo and promo.waive_install_fee)
    if plan.install_fee and not waived:
        billing.post(
            session,
            account=account,
            kind=EntryKind.CHARGE,
            amount=plan.install_fee,
            description="Installation",
            reference=f"install:{order.id}",
            actor=actor,
            on=now.date(),
        )
    deposit = Decimal(order.details.get("deposit", "0"))
    if deposit and order.details.get("deposit_charge"):
        account.deposit_held = deposit
