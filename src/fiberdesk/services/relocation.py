"""Relocation: the customer moves; service stays at the old address until the new one
is activated, then the old port is released and billing carries on, same account.

start: qualify the new premises, hold a port there, open a RELOCATION order (the visit is
booked with the ordinary scheduling), customer RELOCATING. complete: move the ONT (or
swap it), register it on the new PON port, check it, and switch everything over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from fiberdesk.adapters.network.base import NetworkAdapter, NetworkError
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Appointment,
    Equipment,
    Nap,
    NapPort,
    Plan,
    Premises,
    ServiceOrder,
    Splitter,
)
from fiberdesk.db.unit_of_work import UowFactory
from fiberdesk.domain.billing import EntryKind, change_proration
from fiberdesk.domain.customers import SERVICE_TRANSITIONS, ServiceStatus
from fiberdesk.domain.equipment import EquipmentType
from fiberdesk.domain.errors import InvalidInput, Refused
from fiberdesk.domain.network import ONT_OVERLOAD_DBM, ONT_SENSITIVITY_DBM, NapPortStatus
from fiberdesk.domain.orders import AppointmentStatus, OrderStatus, OrderType
from fiberdesk.domain.qualification import Decision, QualificationRules
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit
from fiberdesk.services.billing import account_of, post
from fiberdesk.services.equipment import profile_for
from fiberdesk.services.orders import (
    OrderView,
    get_customer,
    get_order,
    order_view,
    record_step,
    refuse,
)
from fiberdesk.services.qualification import expected_rx_dbm, qualify_premises
from fiberdesk.services.quotes import take_port


def start_relocation(
    uows: UowFactory,
    *,
    actor: Actor,
    customer_id: int,
    new_premises_id: int,
    rules: QualificationRules,
    plan_code: str | None = None,
) -> OrderView:
    """Qualify the new address and hold a port there; the customer is RELOCATING."""
    actor.require(Permission.ORDERS_WRITE)
    with uows() as uow:
        session = uow.session
        customer = get_customer(session, customer_id)
        if customer.status is not ServiceStatus.ACTIVE:
            raise Refused(f"only active service can relocate (it is {customer.status.value})")
        if new_premises_id == customer.premises_id:
            raise InvalidInput("that is the current address", field="new_premises_id")
        q = qualify_premises(uow, actor=actor, premises_id=new_premises_id, rules=rules)
        if q.decision not in (Decision.SERVICEABLE, Decision.SITE_SURVEY):
            raise Refused(
                "the new address cannot be served: " + " ".join(q.messages),
                extra={
                    "decision": q.decision.value if q.decision else None,
                    "reasons": [r.value for r in q.reasons],
                },
            )
        current = session.get(Plan, customer.plan_id)
        plan = current
        if plan_code is not None:
            plan = session.scalar(sa.select(Plan).where(Plan.code == plan_code.upper()))
            if plan is None:
                raise InvalidInput(f"no plan {plan_code!r}", field="plan")
        assert plan is not None and current is not None
        offered = {t.code for t in q.tiers if t.offered}
        if plan.code not in offered:
            raise Refused(
                f"{plan.name} is not on offer at the new address "
                f"(on offer: {', '.join(sorted(offered))})",
                field="plan",
            )
        assert q.nap_id is not None
        port = take_port(
            session,
            nap_id=q.nap_id,
            port_number=None,
            holder=f"RELOC:{customer.account_number}",
            hold_until=None,
            now=utcnow(),
        )
        old_port = session.scalar(
            sa.select(NapPort.id).where(
                NapPort.customer_id == customer.id, NapPort.status == NapPortStatus.IN_USE
            )
        )
        premises = session.get(Premises, new_premises_id)
        assert premises is not None
        order = ServiceOrder(
            customer_id=customer.id,
            type=OrderType.RELOCATION,
            status=OrderStatus.OPEN,
            plan_id=plan.id,
            details={
                "new_premises_id": new_premises_id,
                "new_address": premises.label,
                "new_nap_id": q.nap_id,
                "new_nap": q.nap_code,
                "new_port": port.number,
                "new_port_id": port.id,
                "old_port_id": old_port,
                "old_premises_id": customer.premises_id,
                "from_plan": current.code,
                "to_plan": plan.code,
                "survey_required": q.decision is Decision.SITE_SURVEY,
                "survey_requirements": q.survey_requirements,
            },
        )
        session.add(order)
        session.flush()
        record_step(
            order,
            step="relocation",
            outcome="done",
            actor=actor,
            detail=f"to {premises.label}: NAP {q.nap_code} port {port.number}",
        )
        before = audit.snapshot(customer)
        SERVICE_TRANSITIONS.check(customer.status, ServiceStatus.RELOCATING)
        customer.status = ServiceStatus.RELOCATING
        audit.record(
            session,
            actor=actor,
            action="customer.relocate.start",
            entity_type="customer",
            entity_id=customer.id,
            before=before,
            after={**audit.snapshot(customer), "order": order.id},
        )
        view = order_view(session, order)
        uow.commit()
    return view


@dataclass(frozen=True, slots=True)
class RelocationResult:
    order: OrderView
    proration: Decimal


def complete_relocation(
    uows: UowFactory,
    *,
    actor: Actor,
    network: NetworkAdapter,
    order_id: int,
    new_serial: str | None = None,
    today: date | None = None,
) -> RelocationResult:
    """The technician has connected the new address: the ONT (the same one, or
    ``new_serial`` from stock as a swap) is registered on the new PON port and checked;
    then the old port is freed, the address switched, and any tier change prorated."""
    if not (actor.can(Permission.FIELD_WORK) or actor.can(Permission.ORDERS_WRITE)):
        actor.require(Permission.FIELD_WORK)
    today = today or utcnow().date()
    with uows(write=False) as uow:
        session = uow.session
        order = get_order(session, order_id)
        if order.type is not OrderType.RELOCATION or order.status in (
            OrderStatus.COMPLETED,
            OrderStatus.CANCELLED,
        ):
            raise Refused(f"order {order_id} is not an open relocation")
        d = dict(order.details)
        if not {"new_premises_id", "new_nap_id", "new_port"} <= d.keys():
            raise Refused(
                f"relocation order {order_id} holds no port at the new address (it was not "
                "entered through fiberdesk's relocation); cancel it and enter the move again"
            )
        customer = get_customer(session, order.customer_id)
        old = session.scalar(
            sa.select(Equipment).where(
                Equipment.customer_id == customer.id,
                Equipment.type == EquipmentType.ONT,
                Equipment.status.in_(["INSTALLED"]),
            )
        )
        if old is None:
            raise Refused("the customer has no installed ONT to move")
        serial = new_serial.strip().upper() if new_serial else old.serial_number
        premises = session.get(Premises, d["new_premises_id"])
        plan = session.get(Plan, order.plan_id)
        assert premises is not None and plan is not None
        pon_port_id = session.scalar(
            sa.select(Splitter.pon_port_id)
            .join(Nap, Nap.splitter_id == Splitter.id)
            .where(Nap.id == d["new_nap_id"])
        )
        assert pon_port_id is not None
        rx = expected_rx_dbm(session, nap_id=d["new_nap_id"], premises=premises)
        old_serial = old.serial_number
    try:
        network.deprovision(serial=old_serial)
        status = network.register_ont(
            serial=serial,
            pon_port_id=pon_port_id,
            nap_id=d["new_nap_id"],
            profile=profile_for(plan),
            expected_rx_dbm=rx,
        )
    except NetworkError as exc:
        raise refuse(
            uows,
            order_id=order_id,
            step="relocation_provision",
            actor=actor,
            reason=f"the OLT refused the move: {exc.reason}",
        ) from None
    if (
        not status.online
        or status.rx_dbm is None
        or not (ONT_SENSITIVITY_DBM <= status.rx_dbm <= ONT_OVERLOAD_DBM)
    ):
        raise refuse(
            uows,
            order_id=order_id,
            step="relocation_check",
            actor=actor,
            reason=f"ONT {serial} is not online with a good signal at the new "
            f"address (Rx {status.rx_dbm})",
        )
    with uows() as uow:
        result = _switch(
            uow.session,
            order_id=order_id,
            actor=actor,
            serial=serial,
            old_serial=old_serial,
            today=today,
        )
        uow.commit()
    return result


def _switch(
    session: sa.orm.Session,
    *,
    order_id: int,
    actor: Actor,
    serial: str,
    old_serial: str,
    today: date,
) -> RelocationResult:
    from fiberdesk.domain.equipment import EquipmentStatus

    order = get_order(session, order_id, for_update=True)
    d = dict(order.details)
    customer = get_customer(session, order.customer_id)
    before = audit.snapshot(customer)
    if d.get("old_port_id"):
        session.execute(
            sa.update(NapPort)
            .where(NapPort.id == d["old_port_id"])
            .values(status=NapPortStatus.FREE, customer_id=None, held_by=None)
        )
    session.execute(
        sa.update(NapPort)
        .where(NapPort.id == d["new_port_id"])
        .values(
            status=NapPortStatus.IN_USE, customer_id=customer.id, held_by=None, hold_expires_at=None
        )
    )
    if serial != old_serial:
        session.execute(
            sa.update(Equipment)
            .where(Equipment.serial_number == old_serial)
            .values(status=EquipmentStatus.RETURNED)
        )
        session.execute(
            sa.update(Equipment)
            .where(Equipment.serial_number == serial)
            .values(status=EquipmentStatus.INSTALLED, customer_id=customer.id)
        )
    premises = session.get(Premises, d["new_premises_id"])
    assert premises is not None
    customer.premises_id = premises.id
    customer.nap_id = d["new_nap_id"]
    customer.port_number = d["new_port"]
    customer.service_address = premises.label + (f" UNIT {customer.unit}" if customer.unit else "")
    net = Decimal("0.00")
    if d["to_plan"] != d["from_plan"]:
        old_plan = session.scalar(sa.select(Plan).where(Plan.code == d["from_plan"]))
        new_plan = session.scalar(sa.select(Plan).where(Plan.code == d["to_plan"]))
        assert old_plan is not None and new_plan is not None
        account = account_of(session, customer.id, for_update=True)
        p = change_proration(
            old_price=old_plan.monthly_price,
            new_price=new_plan.monthly_price,
            effective=today,
            cycle_day=account.cycle_day,
        )
        post(
            session,
            account=account,
            kind=EntryKind.CREDIT,
            amount=-p.credit_old,
            description=f"Unused {old_plan.name} after moving",
            actor=actor,
            on=today,
            reference=f"reloc:{order.id}:credit",
        )
        post(
            session,
            account=account,
            kind=EntryKind.CHARGE,
            amount=p.charge_new,
            description=f"{new_plan.name} at the new address",
            actor=actor,
            on=today,
            reference=f"reloc:{order.id}:charge",
        )
        customer.plan_id = new_plan.id
        net = p.net
    SERVICE_TRANSITIONS.check(customer.status, ServiceStatus.ACTIVE)
    customer.status = ServiceStatus.ACTIVE
    for appointment in session.scalars(
        sa.select(Appointment).where(
            Appointment.order_id == order.id,
            Appointment.status.in_(
                [AppointmentStatus.BOOKED, AppointmentStatus.EN_ROUTE, AppointmentStatus.ON_SITE]
            ),
        )
    ):
        appointment.status = AppointmentStatus.COMPLETED
    order.status = OrderStatus.COMPLETED
    order.completed_date = utcnow()
    order.details = {
        **d,
        "ont_serial": serial,
        "swapped": serial != old_serial,
        "proration": str(net),
    }
    record_step(
        order,
        step="relocation_complete",
        outcome="done",
        actor=actor,
        detail=f"ONT {serial} live at {premises.label}; old port released",
    )
    audit.record(
        session,
        actor=actor,
        action="customer.relocate.complete",
        entity_type="customer",
        entity_id=customer.id,
        before=before,
        after=audit.snapshot(customer),
    )
    return RelocationResult(order_view(session, order), net)
