"""What the service-change pages show before anything changes: the customer at a glance
and the tiers their PON port can carry.

``customer_card`` is the header of every change form (status, plan, address, NAP and PON
port, balance, open holds, installed equipment). ``tier_options`` is the tier chooser: each
active plan with whether the customer's PON port has room for it, by the same rule
``changes.preview_change`` applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from fiberdesk.db.models import (
    BillingAccount,
    Equipment,
    EquipmentReturn,
    Invoice,
    Nap,
    Olt,
    Plan,
    PonPort,
    ServiceHold,
    ServiceOrder,
    Splitter,
)
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.billing import HoldKind
from fiberdesk.domain.catalog import tier_offers
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.equipment import EquipmentStatus
from fiberdesk.domain.network import PonTechnology
from fiberdesk.domain.orders import OrderStatus, OrderType
from fiberdesk.domain.qualification import QualificationRules
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services.billing import balance
from fiberdesk.services.orders import get_customer
from fiberdesk.services.qualification import sold_peak_mbps, tier_spec


@dataclass(frozen=True, slots=True)
class HoldLine:
    id: int
    kind: HoldKind
    starts_on: date
    ends_on: date | None
    reason: str


@dataclass(frozen=True, slots=True)
class PonLine:
    label: str
    technology: str
    sold_peak_mbps: int
    ceiling_mbps: int


@dataclass(frozen=True, slots=True)
class CustomerCard:
    id: int
    account_number: str
    name: str
    status: ServiceStatus
    service_address: str
    premises_id: int | None
    plan_code: str | None
    plan_name: str | None
    monthly_price: Decimal | None
    nap_code: str | None
    port_number: int | None
    pon: PonLine | None
    has_billing: bool
    balance: Decimal | None
    currency: str
    cycle_day: int | None
    billed_through: date | None
    holds: list[HoldLine] = field(default_factory=list)
    equipment: list[str] = field(default_factory=list)
    #: an upgrade or downgrade order waiting for its date
    pending_change: str | None = None


@dataclass(frozen=True, slots=True)
class TierOption:
    code: str
    name: str
    download_mbps: int
    upload_mbps: int
    monthly_price: Decimal
    current: bool
    offered: bool
    reason: str | None


def _pon(session: sa.orm.Session, nap_id: int | None) -> tuple[int, PonLine] | None:
    if nap_id is None:
        return None
    row = session.execute(
        sa.select(PonPort.id, PonPort.technology, PonPort.slot, PonPort.port, Olt.name)
        .join(Splitter, Splitter.pon_port_id == PonPort.id)
        .join(Nap, Nap.splitter_id == Splitter.id)
        .join(Olt, PonPort.olt_id == Olt.id)
        .where(Nap.id == nap_id)
    ).first()
    if row is None:
        return None
    pon_id, tech, slot, port, olt = row
    technology = PonTechnology(tech)
    return pon_id, PonLine(
        f"{olt} {slot}/{port}",
        technology.label,
        sold_peak_mbps(session, pon_id),
        technology.downstream_mbps,
    )


def customer_card(uow: UnitOfWork, *, actor: Actor, customer_id: int) -> CustomerCard:
    """The customer as a change form shows them at the top."""
    actor.require(Permission.CUSTOMERS_READ)
    session = uow.session
    customer = get_customer(session, customer_id)
    plan = session.get(Plan, customer.plan_id) if customer.plan_id is not None else None
    nap_code = session.scalar(sa.select(Nap.code).where(Nap.id == customer.nap_id))
    pon = _pon(session, customer.nap_id)
    account = session.scalar(
        sa.select(BillingAccount).where(BillingAccount.customer_id == customer.id)
    )
    holds = [
        HoldLine(h.id, h.kind, h.starts_on, h.ends_on, h.reason)
        for h in session.scalars(
            sa.select(ServiceHold)
            .where(ServiceHold.customer_id == customer.id, ServiceHold.ended_on.is_(None))
            .order_by(ServiceHold.id)
        )
    ]
    kit = [
        f"{e.type.value} {e.serial_number}"
        for e in session.scalars(
            sa.select(Equipment)
            .where(
                Equipment.customer_id == customer.id,
                Equipment.status == EquipmentStatus.INSTALLED,
            )
            .order_by(Equipment.id)
        )
    ]
    pending = session.scalar(
        sa.select(ServiceOrder)
        .where(
            ServiceOrder.customer_id == customer.id,
            ServiceOrder.status == OrderStatus.OPEN,
            ServiceOrder.type.in_([OrderType.UPGRADE, OrderType.DOWNGRADE]),
        )
        .limit(1)
    )
    pending_text = None
    if pending is not None:
        d = pending.details or {}
        pending_text = (
            f"{pending.type.value.title()} to {d.get('to', '?')} on {d.get('effective_on', '?')}"
        )
    return CustomerCard(
        id=customer.id,
        account_number=customer.account_number,
        name=customer.name,
        status=customer.status,
        service_address=customer.service_address,
        premises_id=customer.premises_id,
        plan_code=plan.code if plan else None,
        plan_name=plan.name if plan else None,
        monthly_price=plan.monthly_price if plan else None,
        nap_code=nap_code,
        port_number=customer.port_number,
        pon=pon[1] if pon else None,
        has_billing=account is not None,
        balance=balance(session, account.id) if account is not None else None,
        currency=account.currency if account is not None else "USD",
        cycle_day=account.cycle_day if account is not None else None,
        billed_through=account.billed_through if account is not None else None,
        holds=holds,
        equipment=kit,
        pending_change=pending_text,
    )


def tier_options(
    uow: UnitOfWork, *, actor: Actor, customer_id: int, rules: QualificationRules
) -> list[TierOption]:
    """Every active plan, and whether the customer's PON port can carry it (the
    customer's own current speed is counted as freed, as a change would free it)."""
    actor.require(Permission.CUSTOMERS_READ)
    session = uow.session
    customer = get_customer(session, customer_id)
    plans = session.scalars(
        sa.select(Plan).where(Plan.active.is_(True)).order_by(Plan.sort_order, Plan.id)
    ).all()
    current = session.get(Plan, customer.plan_id) if customer.plan_id is not None else None
    pon = _pon(session, customer.nap_id)
    if pon is None:
        return [
            TierOption(
                p.code,
                p.name,
                p.download_mbps,
                p.upload_mbps,
                p.monthly_price,
                current is not None and p.id == current.id,
                False,
                "the customer has no NAP on record",
            )
            for p in plans
        ]
    pon_id, _line = pon
    tech = session.scalar(sa.select(PonPort.technology).where(PonPort.id == pon_id))
    sold = sold_peak_mbps(session, pon_id) - (current.download_mbps if current else 0)
    offers = tier_offers(
        [tier_spec(p) for p in plans],
        technology=PonTechnology(str(tech)),
        sold_peak_mbps=sold,
        oversubscription_limit=rules.oversubscription_limit,
    )
    return [
        TierOption(
            p.code,
            p.name,
            p.download_mbps,
            p.upload_mbps,
            p.monthly_price,
            current is not None and p.id == current.id,
            o.offered,
            o.reason,
        )
        for p, o in zip(plans, offers, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class ReturnLine:
    item: str
    expected_by: date
    fee: Decimal
    received_on: date | None


@dataclass(frozen=True, slots=True)
class Closure:
    """A disconnected customer's final bill and the equipment expected back."""

    invoice_id: int | None
    invoice_number: str | None
    total: Decimal | None
    returns: list[ReturnLine]


def closure(uow: UnitOfWork, *, actor: Actor, customer_id: int) -> Closure:
    actor.require(Permission.CUSTOMERS_READ)
    session = uow.session
    get_customer(session, customer_id)
    final = session.scalar(
        sa.select(Invoice)
        .join(BillingAccount, Invoice.account_id == BillingAccount.id)
        .where(BillingAccount.customer_id == customer_id, Invoice.kind == "FINAL")
        .order_by(Invoice.id.desc())
        .limit(1)
    )
    returns = [
        ReturnLine(f"{unit.type.value} {unit.serial_number}", r.expected_by, r.fee, r.received_on)
        for r, unit in session.execute(
            sa.select(EquipmentReturn, Equipment)
            .join(Equipment, EquipmentReturn.equipment_id == Equipment.id)
            .where(EquipmentReturn.customer_id == customer_id)
            .order_by(EquipmentReturn.id)
        )
    ]
    return Closure(
        final.id if final else None,
        final.number if final else None,
        final.total if final else None,
        returns,
    )
