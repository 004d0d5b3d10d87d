"""A technician's day on the phone: the route, the work order, and the steps taken on
site (set out, arrive, ONT, Rx reading, speed test, activation or repair closure).

Every step checks first that the work order is the technician's own (``workorders``
answers Forbidden for another technician's); admin and supervisor may act on any. The
steps themselves are ``activation``, ``equipment`` and ``scheduling``'s; this module adds
the Rx reading and the speed test entered on site, and the repair closure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.adapters.network.base import NetworkAdapter
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Appointment,
    Customer,
    Equipment,
    IpAddress,
    Plan,
    Premises,
    ServiceOrder,
    Technician,
)
from fiberdesk.db.unit_of_work import UnitOfWork, UowFactory
from fiberdesk.domain.equipment import (
    EQUIPMENT_TRANSITIONS,
    EquipmentStatus,
    normalise_ont_serial,
)
from fiberdesk.domain.errors import Forbidden, InvalidInput, NotFound, Refused
from fiberdesk.domain.network import (
    ONT_OVERLOAD_DBM,
    ONT_SENSITIVITY_DBM,
    ROUTE_FACTOR,
    SignalClass,
    distance_m,
    signal_class,
)
from fiberdesk.domain.orders import (
    APPOINTMENT_TRANSITIONS,
    ORDER_TRANSITIONS,
    AppointmentStatus,
    OrderStatus,
    OrderType,
)
from fiberdesk.domain.users import Actor, Permission, Role
from fiberdesk.services import activation, audit, equipment, tickets
from fiberdesk.services.kpis import KpiSettings
from fiberdesk.services.orders import OrderView, get_order, record_step, refuse
from fiberdesk.services.workorders import WorkOrder, work_order

#: what an optical power meter can show; anything else is a typing mistake
METER_MIN_DBM = Decimal("-50")
METER_MAX_DBM = Decimal("10")
ROUTE_DAYS = 7
SHOWN = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.EN_ROUTE,
    AppointmentStatus.ON_SITE,
    AppointmentStatus.COMPLETED,
)


@dataclass(frozen=True, slots=True)
class Stop:
    order_id: int
    appointment_id: int
    order_type: OrderType
    status: AppointmentStatus
    window: str
    window_start: time
    window_end: time
    customer_name: str
    phone: str | None
    address: str
    unit: str | None
    has_access_notes: bool
    #: straight-line distance from the stop before (None for the first of the day)
    km_from_previous: float | None


@dataclass(frozen=True, slots=True)
class RouteDay:
    day: date
    stops: list[Stop]


@dataclass(frozen=True, slots=True)
class Route:
    technician_id: int
    technician_name: str
    days: list[RouteDay]


def own_technician(session: Session, actor: Actor) -> Technician | None:
    """The technician record of a signed-in technician (None for other roles)."""
    if actor.role is not Role.TECHNICIAN:
        return None
    tech = session.scalar(sa.select(Technician).where(Technician.user_id == actor.user_id))
    if tech is None:
        raise Forbidden("your user is not linked to a technician")
    return tech


def technicians(uow: UnitOfWork, *, actor: Actor) -> list[tuple[int, str]]:
    """Active technicians (id, name), for a supervisor choosing whose route to see."""
    actor.require(Permission.DISPATCH)
    return [
        (t.id, t.name)
        for t in uow.session.scalars(
            sa.select(Technician).where(Technician.active.is_(True)).order_by(Technician.name)
        )
    ]


def _in_route_order(
    rows: list[tuple[Appointment, ServiceOrder, Customer, Premises | None]],
) -> list[Stop]:
    """Window by window; inside a window, always the nearest next stop (greedy)."""
    stops: list[Stop] = []
    here: tuple[float, float] | None = None
    windows: dict[time, list[tuple[Appointment, ServiceOrder, Customer, Premises | None]]] = {}
    for row in rows:
        windows.setdefault(row[0].window_start, []).append(row)
    for start in sorted(windows):
        pending = windows[start]
        while pending:
            if here is None:
                pick = pending[0]
            else:
                origin = here
                pick = min(
                    pending,
                    key=lambda r: (
                        distance_m(origin[0], origin[1], r[3].lat, r[3].lon)
                        if r[3] is not None
                        else float("inf")
                    ),
                )
            pending.remove(pick)
            appointment, order, customer, premises = pick
            km = None
            if here is not None and premises is not None:
                km = round(distance_m(here[0], here[1], premises.lat, premises.lon) / 1000, 1)
            if premises is not None:
                here = (premises.lat, premises.lon)
            stops.append(
                Stop(
                    order.id,
                    appointment.id,
                    order.type,
                    appointment.status,
                    appointment.window_code,
                    appointment.window_start,
                    appointment.window_end,
                    customer.name,
                    customer.phone,
                    customer.service_address,
                    customer.unit,
                    bool(customer.access_notes),
                    km,
                )
            )
    return stops


def route(
    uow: UnitOfWork,
    *,
    actor: Actor,
    start: date,
    days: int = ROUTE_DAYS,
    technician_id: int | None = None,
) -> Route:
    """A technician's visits from ``start`` for ``days`` days, in route order. A
    technician sees their own; a supervisor names the technician."""
    if not (actor.can(Permission.FIELD_WORK) or actor.can(Permission.DISPATCH)):
        actor.require(Permission.FIELD_WORK)
    session = uow.session
    tech = own_technician(session, actor)
    if tech is None:
        if technician_id is None:
            raise InvalidInput("choose a technician", field="technician")
        tech = session.get(Technician, technician_id)
        if tech is None:
            raise NotFound(f"no technician {technician_id}")
    last = start + timedelta(days=days - 1)
    rows = session.execute(
        sa.select(Appointment, ServiceOrder, Customer, Premises)
        .join(ServiceOrder, Appointment.order_id == ServiceOrder.id)
        .join(Customer, ServiceOrder.customer_id == Customer.id)
        .outerjoin(Premises, Customer.premises_id == Premises.id)
        .where(
            Appointment.technician_id == tech.id,
            Appointment.day.between(start, last),
            Appointment.status.in_(SHOWN),
        )
        .order_by(Appointment.day, Appointment.window_start, Appointment.id)
    ).all()
    by_day: dict[date, list[tuple[Appointment, ServiceOrder, Customer, Premises | None]]] = {}
    for a, o, c, p in rows:
        by_day.setdefault(a.day, []).append((a, o, c, p))
    return Route(
        tech.id,
        tech.name,
        [RouteDay(d, _in_route_order(by_day[d])) for d in sorted(by_day)],
    )


@dataclass(frozen=True, slots=True)
class FieldOrder:
    wo: WorkOrder
    order_type: OrderType
    order_status: OrderStatus
    appointment_status: AppointmentStatus | None
    customer_id: int
    bring: list[str]
    provisioned: bool
    plan_down: int | None
    plan_up: int | None
    rx_reading: Decimal | None
    rx_class: SignalClass | None
    speed_down: Decimal | None
    speed_up: Decimal | None
    resolution: str | None


def equipment_to_bring(wo: WorkOrder, kind: OrderType) -> list[str]:
    """The van list for a visit, from what the work order knows."""
    items: list[str] = []
    if kind in (OrderType.NEW_INSTALL, OrderType.RELOCATION):
        items.append(
            f"ONT {wo.ont_serial} (assigned to this order)"
            if wo.ont_serial
            else "One ONT from your van stock: enter its serial below"
        )
        if None not in (wo.lat, wo.lon, wo.nap_lat, wo.nap_lon):
            metres = distance_m(wo.lat, wo.lon, wo.nap_lat, wo.nap_lon)  # type: ignore[arg-type]
            drop = int(-(-(metres * ROUTE_FACTOR + 15) // 10) * 10)
            items.append(f"Drop cable: about {drop} m from NAP {wo.nap_code} port {wo.nap_port}")
        items += [
            "Wall outlet box, SC/APC patch cord and clips",
            "WiFi router and its power supply",
            "Optical power meter for the Rx reading",
            "Laptop with a wired port for the speed test",
        ]
        if wo.static_ip:
            items.append(f"Static IP {wo.static_ip}: set it on the customer's router")
    elif kind is OrderType.REPAIR:
        items += [
            "Optical power meter and visual fault locator",
            "Connector cleaning kit and spare SC/APC connectors",
            "A spare ONT from your van stock",
            "Laptop with a wired port for the speed test",
        ]
    elif kind is OrderType.SITE_SURVEY:
        items += ["Measuring tape, ladder and camera"]
        items += [f"Check: {r}" for r in wo.survey_requirements]
    return items


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def field_order(uow: UnitOfWork, *, actor: Actor, order_id: int) -> FieldOrder:
    """The work order and what was done on site so far; another technician's answers
    Forbidden."""
    wo = work_order(uow, actor=actor, order_id=order_id)
    order = get_order(uow.session, order_id)
    plan = uow.session.get(Plan, order.plan_id) if order.plan_id else None
    d = order.details
    rx = _decimal((d.get("rx_reading") or {}).get("dbm"))
    test = d.get("speed_test_entry") or {}
    return FieldOrder(
        wo,
        order.type,
        order.status,
        AppointmentStatus(wo.appointment_status) if wo.appointment_status else None,
        order.customer_id,
        equipment_to_bring(wo, order.type),
        bool(d.get("provisioned")),
        plan.download_mbps if plan else None,
        plan.upload_mbps if plan else None,
        rx,
        signal_class(rx) if rx is not None else None,
        _decimal(test.get("download_mbps")),
        _decimal(test.get("upload_mbps")),
        d.get("resolution"),
    )


def _check_own(uows: UowFactory, actor: Actor, order_id: int) -> WorkOrder:
    with uows(write=False) as uow:
        return work_order(uow, actor=actor, order_id=order_id)


def _open_order(order: ServiceOrder) -> None:
    if order.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED):
        raise Refused(f"order {order.id} is {order.status.label.lower()}")


def en_route(
    uows: UowFactory,
    *,
    actor: Actor,
    order_id: int,
    eta_minutes: int,
    company_name: str,
    support_phone: str,
) -> None:
    """Set out for the visit: the customer gets the technician-on-the-way message."""
    _check_own(uows, actor, order_id)
    activation.en_route(
        uows,
        actor=actor,
        order_id=order_id,
        eta_minutes=eta_minutes,
        company_name=company_name,
        support_phone=support_phone,
    )


def arrive(uows: UowFactory, *, actor: Actor, order_id: int) -> OrderView:
    _check_own(uows, actor, order_id)
    return activation.arrive(uows, actor=actor, order_id=order_id)


def enter_ont(uows: UowFactory, *, actor: Actor, order_id: int, serial: str) -> OrderView:
    """The ONT being installed, by the serial on its label, from stock. When another unit
    was assigned beforehand (and is not on the OLT yet), that one goes back to stock and
    the one in hand is assigned instead, in one transaction."""
    _check_own(uows, actor, order_id)
    if not serial.strip():
        raise InvalidInput("enter the serial on the ONT's label", field="serial")
    try:
        wanted = normalise_ont_serial(serial)
    except InvalidInput as exc:
        raise InvalidInput(exc.reason, field="serial") from None
    with uows() as uow:
        session = uow.session
        order = get_order(session, order_id, for_update=True)
        _open_order(order)
        current = order.details.get("ont_serial")
        if current == wanted:
            raise InvalidInput(f"ONT {wanted} is already on this order", field="serial")
        if current:
            if order.details.get("provisioned"):
                raise Refused(
                    f"ONT {current} is already registered on the OLT for this order",
                    field="serial",
                )
            _back_to_stock(session, order=order, serial=current, actor=actor)
        # assign_ont commits the whole unit of work, the return above included
        return equipment.assign_ont(uow, actor=actor, order_id=order_id, serial=wanted)


def _back_to_stock(session: Session, *, order: ServiceOrder, serial: str, actor: Actor) -> None:
    unit = session.scalar(
        sa.select(Equipment).where(Equipment.serial_number == serial).with_for_update()
    )
    if unit is not None and unit.status is EquipmentStatus.ASSIGNED:
        before = audit.snapshot(unit)
        EQUIPMENT_TRANSITIONS.check(unit.status, EquipmentStatus.IN_STOCK)
        unit.status = EquipmentStatus.IN_STOCK
        unit.customer_id = None
        unit.ip_address = None
        audit.record(
            session,
            actor=actor,
            action="equipment.unassign",
            entity_type="customer_equipment",
            entity_id=unit.id,
            before=before,
            after=audit.snapshot(unit),
        )
    session.execute(
        sa.update(IpAddress)
        .where(IpAddress.customer_id == order.customer_id)
        .values(customer_id=None, assigned_at=None)
        .execution_options(synchronize_session=False)
    )
    order.details = {**order.details, "ont_serial": None, "ont_mac": None, "static_ip": None}
    record_step(
        order,
        step="assign_equipment",
        outcome="undone",
        actor=actor,
        detail=f"ONT {serial} back to stock; another unit installed",
    )
    session.flush()


def _number(raw: str, field: str, what: str) -> Decimal:
    text = raw.strip().replace("\u2212", "-").replace(",", ".").replace(" ", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{what} must be a number", field=field) from None
    if not value.is_finite():
        raise InvalidInput(f"{what} must be a number", field=field)
    return value


def record_rx(uows: UowFactory, *, actor: Actor, order_id: int, reading: str) -> SignalClass:
    """The receive power measured at the ONT with a power meter. A reading the ONT cannot
    work with (below its sensitivity or above its overload) is refused and recorded."""
    _check_own(uows, actor, order_id)
    if not reading.strip():
        raise InvalidInput("enter the reading from the power meter", field="rx_dbm")
    rx = _number(reading, "rx_dbm", "the Rx reading")
    if not METER_MIN_DBM <= rx <= METER_MAX_DBM:
        raise InvalidInput(
            f"{rx} dBm is not a power meter reading (expected {METER_MIN_DBM} to "
            f"+{METER_MAX_DBM} dBm; receive power is negative, e.g. -19.5)",
            field="rx_dbm",
        )
    rx = rx.quantize(Decimal("0.1"))
    with uows(write=False) as uow:
        _open_order(get_order(uow.session, order_id))
    cls = signal_class(rx)
    if rx < ONT_SENSITIVITY_DBM or rx > ONT_OVERLOAD_DBM:
        side = (
            f"below the ONT's sensitivity ({ONT_SENSITIVITY_DBM} dBm): {cls.label.lower()}. "
            "Clean the connectors and check the drop and the NAP port, then measure again"
            if rx < ONT_SENSITIVITY_DBM
            else f"above the ONT's overload ({ONT_OVERLOAD_DBM} dBm): fit an attenuator "
            "and measure again"
        )
        refuse(
            uows, order_id=order_id, step="rx_reading", actor=actor, reason=f"{rx} dBm is {side}"
        )
        raise Refused(f"{rx} dBm is {side}.", field="rx_dbm")
    with uows() as uow:
        order = get_order(uow.session, order_id, for_update=True)
        order.details = {
            **order.details,
            "rx_reading": {"dbm": str(rx), "class": cls.value, "at": utcnow().isoformat()},
        }
        record_step(
            order,
            step="rx_reading",
            outcome="done",
            actor=actor,
            detail=f"{rx} dBm at the ONT ({cls.label.lower()})",
        )
        audit.record(
            uow.session,
            actor=actor,
            action="order.rx_reading",
            entity_type="service_order",
            entity_id=order_id,
            after={"rx_dbm": str(rx), "class": cls.value},
        )
        uow.commit()
    return cls


def record_speed_test(
    uows: UowFactory,
    *,
    actor: Actor,
    order_id: int,
    download: str,
    upload: str,
    min_share: Decimal,
) -> None:
    """A wired speed test run on site. Under ``min_share`` of the plan it is refused and
    recorded, and the speed shown next to the field that fell short."""
    _check_own(uows, actor, order_id)
    values = {}
    for name, raw, what in (
        ("download_mbps", download, "the download speed"),
        ("upload_mbps", upload, "the upload speed"),
    ):
        if not raw.strip():
            raise InvalidInput(f"enter {what} in Mbps", field=name)
        value = _number(raw, name, what)
        if not Decimal(0) <= value <= activation.MAX_SPEED_MBPS:
            raise InvalidInput(f"{what} must be 0 to {activation.MAX_SPEED_MBPS} Mbps", field=name)
        values[name] = value.quantize(Decimal("0.1"))
    with uows(write=False) as uow:
        order = get_order(uow.session, order_id)
        _open_order(order)
        plan = uow.session.get(Plan, order.plan_id) if order.plan_id else None
        if plan is None:
            raise Refused(f"order {order_id} has no plan to test against")
        speeds = {"download_mbps": plan.download_mbps, "upload_mbps": plan.upload_mbps}
        plan_name = plan.name
    for name, value in values.items():
        need = (Decimal(speeds[name]) * min_share).quantize(Decimal("0.1"))
        if value < need:
            which = "download" if name == "download_mbps" else "upload"
            reason = (
                f"{which} {value} Mbps is under {min_share:.0%} of the {plan_name} plan's "
                f"{speeds[name]} Mbps ({need} Mbps needed). Test again on a cable, with "
                "nothing else using the line"
            )
            refuse(uows, order_id=order_id, step="speed_test", actor=actor, reason=reason)
            raise Refused(reason + ".", field=name)
    with uows() as uow:
        order = get_order(uow.session, order_id, for_update=True)
        order.details = {
            **order.details,
            "speed_test_entry": {
                "download_mbps": str(values["download_mbps"]),
                "upload_mbps": str(values["upload_mbps"]),
                "wired": True,
                "at": utcnow().isoformat(),
            },
        }
        record_step(
            order,
            step="speed_test_entry",
            outcome="done",
            actor=actor,
            detail=f"wired {values['download_mbps']}/{values['upload_mbps']} Mbps",
        )
        audit.record(
            uow.session,
            actor=actor,
            action="order.speed_test",
            entity_type="service_order",
            entity_id=order_id,
            after={k: str(v) for k, v in values.items()},
        )
        uow.commit()


def close_installation(
    uows: UowFactory,
    *,
    actor: Actor,
    order_id: int,
    network: NetworkAdapter,
    physical_confirmed: bool,
    min_share: Decimal,
    company_name: str,
    support_phone: str,
    surveys: KpiSettings | None = None,
    now: datetime | None = None,
) -> OrderView:
    """Activation from the phone: the ONT is registered on the OLT (if not yet), then
    ``activation.activate`` checks registration, Rx and the speed test entered on site."""
    _check_own(uows, actor, order_id)
    if not physical_confirmed:
        raise InvalidInput(
            "confirm the drop, the ONT and the router are installed", field="physical_confirmed"
        )
    with uows(write=False) as uow:
        order = get_order(uow.session, order_id)
        d = order.details
        if order.type is not OrderType.NEW_INSTALL:
            raise InvalidInput(f"order {order_id} is not a new installation")
        if not d.get("ont_serial"):
            raise InvalidInput("enter the ONT's serial first", field="serial")
        rx = _decimal((d.get("rx_reading") or {}).get("dbm"))
        if rx is None:
            raise InvalidInput("enter the Rx reading first", field="rx_dbm")
        test = d.get("speed_test_entry")
        if not test:
            raise InvalidInput("enter the speed test first", field="download_mbps")
        provisioned = bool(d.get("provisioned"))
    if not provisioned:
        equipment.provision(uows, actor=actor, order_id=order_id, network=network, now=now)
    return activation.activate(
        uows,
        actor=actor,
        order_id=order_id,
        network=network,
        speed_test=activation.SpeedTest(
            Decimal(test["download_mbps"]), Decimal(test["upload_mbps"]), True
        ),
        physical_confirmed=True,
        min_share=min_share,
        company_name=company_name,
        support_phone=support_phone,
        now=now,
        surveys=surveys,
    )


def close_repair(
    uows: UowFactory, *, actor: Actor, order_id: int, resolution: str, now: datetime | None = None
) -> None:
    """Close a repair visit with what was found and done; the ticket that asked for it
    gets the resolution in its transcript."""
    _check_own(uows, actor, order_id)
    resolution = resolution.strip()
    if len(resolution) < 5:
        raise InvalidInput("say what you found and what you did", field="resolution")
    if len(resolution) > 2000:
        raise InvalidInput("keep the resolution under 2000 characters", field="resolution")
    now = now or utcnow()
    with uows() as uow:
        session = uow.session
        order = get_order(session, order_id, for_update=True)
        if order.type is not OrderType.REPAIR:
            raise InvalidInput(f"order {order_id} is not a repair visit", field="resolution")
        if order.status is not OrderStatus.IN_PROGRESS:
            raise Refused(
                f"order {order_id} is {order.status.label.lower()}: mark yourself on site first"
            )
        before = audit.snapshot(order)
        for appointment in session.scalars(
            sa.select(Appointment).where(
                Appointment.order_id == order.id,
                Appointment.status == AppointmentStatus.ON_SITE,
            )
        ):
            APPOINTMENT_TRANSITIONS.check(appointment.status, AppointmentStatus.COMPLETED)
            appointment.status = AppointmentStatus.COMPLETED
        ORDER_TRANSITIONS.check(order.status, OrderStatus.COMPLETED)
        order.status = OrderStatus.COMPLETED
        order.completed_date = now
        order.details = {**order.details, "resolution": resolution}
        record_step(order, step="repaired", outcome="done", actor=actor, detail=resolution, at=now)
        ticket_id = order.details.get("ticket_id")
        if ticket_id:
            ticket = tickets.get_ticket(session, int(ticket_id), for_update=True)
            tickets.log(
                ticket,
                actor=actor,
                kind="repair_visit",
                at=now,
                text=f"repair visit closed: {resolution}",
            )
        audit.record(
            session,
            actor=actor,
            action="order.repair_closed",
            entity_type="service_order",
            entity_id=order.id,
            before=before,
            after=audit.snapshot(order),
        )
        uow.commit()
