"""Equipment (the spec's STEP 4): ONT stock, assignment, static IPs, OLT provisioning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.adapters.network.base import NetworkAdapter, NetworkError, ServiceProfile
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Equipment,
    IpAddress,
    Nap,
    Plan,
    Premises,
    ServiceOrder,
    Splitter,
)
from fiberdesk.db.unit_of_work import UnitOfWork, UowFactory
from fiberdesk.domain.equipment import (
    EQUIPMENT_TRANSITIONS,
    EquipmentStatus,
    EquipmentType,
    normalise_mac,
    normalise_ont_serial,
)
from fiberdesk.domain.errors import Conflict, InvalidInput, Refused
from fiberdesk.domain.orders import OrderStatus, OrderType
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit
from fiberdesk.services.orders import (
    OrderView,
    check_off,
    get_customer,
    get_order,
    order_view,
    record_step,
    refuse,
)
from fiberdesk.services.qualification import expected_rx_dbm

MAX_TAKE_ATTEMPTS = 20


@dataclass(frozen=True, slots=True)
class StockItem:
    serial: str
    mac: str | None
    vendor: str | None = None
    model: str | None = None
    type: EquipmentType = EquipmentType.ONT


def receive_stock(uow: UnitOfWork, *, actor: Actor, items: list[StockItem]) -> int:
    """Add units to stock. Every serial and MAC is checked first; one bad or duplicate unit
    refuses the whole delivery, so stock is never half-received."""
    actor.require(Permission.NETWORK_WRITE)
    if not items:
        raise InvalidInput("nothing to receive", field="items")
    session = uow.session
    rows = []
    for item in items:
        serial = (
            normalise_ont_serial(item.serial)
            if item.type is EquipmentType.ONT
            else item.serial.strip().upper()
        )
        mac = normalise_mac(item.mac) if item.mac else None
        rows.append(
            {
                "serial_number": serial,
                "mac_address": mac,
                "type": item.type,
                "vendor": item.vendor,
                "model": item.model,
                "status": EquipmentStatus.IN_STOCK,
            }
        )
    serials = [r["serial_number"] for r in rows]
    macs = [r["mac_address"] for r in rows if r["mac_address"]]
    if len(set(serials)) != len(serials) or len(set(macs)) != len(macs):
        raise InvalidInput("the delivery lists a serial or MAC twice", field="items")
    taken = session.scalars(
        sa.select(Equipment.serial_number).where(Equipment.serial_number.in_(serials))
    ).all()
    if taken:
        raise Conflict(f"serial {taken[0]} is already in the inventory", field="serial")
    used = session.scalars(
        sa.select(Equipment.mac_address).where(Equipment.mac_address.in_(macs))
    ).all()
    if used:
        raise Conflict(f"MAC {used[0]} is already in use", field="mac")
    session.execute(sa.insert(Equipment), rows)
    audit.record(
        session,
        actor=actor,
        action="stock.receive",
        entity_type="customer_equipment",
        entity_id=None,
        after={"units": len(rows), "serials": serials[:50]},
    )
    uow.commit()
    return len(rows)


def _take_unit(session: Session, *, serial: str | None, customer_id: int) -> Equipment:
    """Move one ONT from stock to the customer with a conditional update: under any
    concurrency a unit is given out once."""
    for _ in range(MAX_TAKE_ATTEMPTS):
        if serial is not None:
            candidate = session.scalar(
                sa.select(Equipment.id).where(Equipment.serial_number == serial)
            )
            if candidate is None:
                raise Refused(f"ONT {serial} is not in the inventory", field="serial")
        else:
            query = (
                sa.select(Equipment.id)
                .where(
                    Equipment.type == EquipmentType.ONT,
                    Equipment.status == EquipmentStatus.IN_STOCK,
                )
                .order_by(Equipment.id)
                .limit(1)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            candidate = session.scalar(query)
            if candidate is None:
                raise Refused("no ONT is in stock", extra={"reason": "NO_STOCK"})
        result = session.execute(
            sa.update(Equipment)
            .where(Equipment.id == candidate, Equipment.status == EquipmentStatus.IN_STOCK)
            .values(status=EquipmentStatus.ASSIGNED, customer_id=customer_id)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            unit = session.get(Equipment, candidate)
            assert unit is not None
            session.refresh(unit)
            return unit
        if serial is not None:
            status = session.scalar(sa.select(Equipment.status).where(Equipment.id == candidate))
            label = status.label.lower() if status else "gone"
            raise Refused(f"ONT {serial} is {label}, not in stock", field="serial")
    raise Conflict("stock is changing too fast; try again")


def _take_ip(session: Session, customer_id: int) -> IpAddress:
    for _ in range(MAX_TAKE_ATTEMPTS):
        query = (
            sa.select(IpAddress.id)
            .where(IpAddress.customer_id.is_(None))
            .order_by(IpAddress.id)
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        candidate = session.scalar(query)
        if candidate is None:
            raise Refused(
                "no static IP address is free in any pool", extra={"reason": "NO_ADDRESS"}
            )
        result = session.execute(
            sa.update(IpAddress)
            .where(IpAddress.id == candidate, IpAddress.customer_id.is_(None))
            .values(customer_id=customer_id, assigned_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            ip = session.get(IpAddress, candidate)
            assert ip is not None
            session.refresh(ip)
            return ip
    raise Conflict("addresses are changing too fast; try again")


def _install_order(session: Session, order_id: int) -> ServiceOrder:
    order = get_order(session, order_id, for_update=True)
    if order.type not in (OrderType.NEW_INSTALL, OrderType.RELOCATION):
        raise InvalidInput(f"order {order_id} installs nothing", field="order_id")
    if order.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED):
        raise Refused(f"order {order_id} is {order.status.label.lower()}")
    return order


def assign_ont(
    uow: UnitOfWork,
    *,
    actor: Actor,
    order_id: int,
    serial: str | None = None,
    mac: str | None = None,
) -> OrderView:
    """Give the order an ONT from stock (a named serial, or the next one), recording its
    serial and MAC, and a static IP when the plan has one."""
    if not (actor.can(Permission.ORDERS_WRITE) or actor.can(Permission.FIELD_WORK)):
        actor.require(Permission.FIELD_WORK)
    session = uow.session
    wanted = normalise_ont_serial(serial) if serial else None
    mac_n = normalise_mac(mac) if mac else None
    order = _install_order(session, order_id)
    customer = get_customer(session, order.customer_id)
    current = session.scalar(
        sa.select(Equipment).where(
            Equipment.customer_id == customer.id,
            Equipment.type == EquipmentType.ONT,
            Equipment.status.in_([EquipmentStatus.ASSIGNED, EquipmentStatus.INSTALLED]),
        )
    )
    if current is not None:
        raise Conflict(
            f"the order already has ONT {current.serial_number}; return it first", field="serial"
        )
    unit = _take_unit(session, serial=wanted, customer_id=customer.id)
    if mac_n and mac_n != unit.mac_address:
        if session.scalar(
            sa.select(Equipment.id).where(Equipment.mac_address == mac_n, Equipment.id != unit.id)
        ):
            raise Conflict(f"MAC {mac_n} is already in use", field="mac")
        unit.mac_address = mac_n
    if unit.mac_address is None:
        raise InvalidInput("this ONT has no MAC on record: give the one on its label", field="mac")
    plan = session.get(Plan, order.plan_id) if order.plan_id else None
    ip = _take_ip(session, customer.id) if plan is not None and plan.static_ip else None
    if ip is not None:
        unit.ip_address = ip.address
    check_off(
        order, "equipment", f"ONT {unit.serial_number}" + (f", IP {ip.address}" if ip else "")
    )
    order.details = {
        **order.details,
        "ont_serial": unit.serial_number,
        "ont_mac": unit.mac_address,
        "static_ip": ip.address if ip else None,
    }
    record_step(
        order,
        step="assign_equipment",
        outcome="done",
        actor=actor,
        detail=f"ONT {unit.serial_number} MAC {unit.mac_address}"
        + (f", static IP {ip.address}" if ip else ""),
    )
    audit.record(
        session,
        actor=actor,
        action="equipment.assign",
        entity_type="customer_equipment",
        entity_id=unit.id,
        after=audit.snapshot(unit),
    )
    view = order_view(session, order)
    uow.commit()
    return view


def return_unit(uow: UnitOfWork, *, actor: Actor, serial: str, defective: bool = False) -> None:
    """A unit comes back (from a customer, or an assignment undone): to stock, or written
    off as defective."""
    actor.require(Permission.NETWORK_WRITE)
    session = uow.session
    unit = session.scalar(
        sa.select(Equipment)
        .where(Equipment.serial_number == normalise_ont_serial(serial))
        .with_for_update()
    )
    if unit is None:
        raise Refused(f"ONT {serial} is not in the inventory", field="serial")
    before = audit.snapshot(unit)
    if unit.status is EquipmentStatus.INSTALLED:
        EQUIPMENT_TRANSITIONS.check(unit.status, EquipmentStatus.RETURNED)
        unit.status = EquipmentStatus.RETURNED
    target = EquipmentStatus.DEFECTIVE if defective else EquipmentStatus.IN_STOCK
    EQUIPMENT_TRANSITIONS.check(unit.status, target)
    unit.status = target
    unit.customer_id = None
    unit.ip_address = None
    audit.record(
        session,
        actor=actor,
        action="equipment.return",
        entity_type="customer_equipment",
        entity_id=unit.id,
        before=before,
        after=audit.snapshot(unit),
    )
    uow.commit()


def profile_for(plan: Plan) -> ServiceProfile:
    return ServiceProfile(
        f"{plan.code}-{plan.download_mbps}x{plan.upload_mbps}", plan.download_mbps, plan.upload_mbps
    )


def provision(
    uows: UowFactory,
    *,
    actor: Actor,
    order_id: int,
    network: NetworkAdapter,
    now: datetime | None = None,
) -> OrderView:
    """Configure the order's ONT in the provisioning system: register its serial on the
    PON port behind the customer's NAP with the plan's service profile."""
    if not (actor.can(Permission.ORDERS_WRITE) or actor.can(Permission.FIELD_WORK)):
        actor.require(Permission.FIELD_WORK)
    with uows(write=False) as uow:
        session = uow.session
        order = get_order(session, order_id)
        if order.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED):
            raise Refused(f"order {order_id} is {order.status.label.lower()}")
        serial = order.details.get("ont_serial")
        if not serial:
            raise Refused("assign an ONT to the order first")
        if order.details.get("provisioned"):
            raise Conflict(f"ONT {serial} is already provisioned")
        customer = get_customer(session, order.customer_id)
        premises = session.get(Premises, customer.premises_id)
        plan = session.get(Plan, order.plan_id)
        if premises is None or plan is None or customer.nap_id is None:
            raise Refused("the order lacks a premises, a plan or a NAP")
        pon_port_id = session.scalar(
            sa.select(Splitter.pon_port_id)
            .join(Nap, Nap.splitter_id == Splitter.id)
            .where(Nap.id == customer.nap_id)
        )
        assert pon_port_id is not None
        expected = expected_rx_dbm(session, nap_id=customer.nap_id, premises=premises)
        profile = profile_for(plan)
        nap_id = customer.nap_id
    try:
        status = network.register_ont(
            serial=serial,
            pon_port_id=pon_port_id,
            nap_id=nap_id,
            profile=profile,
            expected_rx_dbm=expected,
        )
    except NetworkError as exc:
        raise refuse(
            uows,
            order_id=order_id,
            step="provision",
            actor=actor,
            reason=f"the OLT refused the ONT: {exc.reason}",
        ) from None
    with uows() as uow:
        order = get_order(uow.session, order_id, for_update=True)
        order.details = {
            **order.details,
            "provisioned": True,
            "profile": profile.name,
            "pon_port_id": pon_port_id,
        }
        record_step(
            order,
            step="provision",
            outcome="done",
            actor=actor,
            at=now,
            detail=f"ONT {serial} registered with profile {profile.name}"
            + (f"; Rx {status.rx_dbm} dBm" if status.rx_dbm is not None else ""),
        )
        audit.record(
            uow.session,
            actor=actor,
            action="ont.provision",
            entity_type="service_order",
            entity_id=order_id,
            after={"serial": serial, "profile": profile.name, "pon_port_id": pon_port_id},
        )
        view = order_view(uow.session, order)
        uow.commit()
    return view
