"""The plan catalog as the operator edits it: list the tiers, change a price, stop selling.

Changing a tier never rewrites what customers already bought: quotes keep their prices,
and a customer's tier keeps its code; ``active=False`` only stops offering it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from fiberdesk.db.models import Customer, Plan
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import InvalidInput, NotFound
from fiberdesk.domain.money import round_cents
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit

#: a monthly price or a fee must lie in this range
MAX_PRICE = Decimal("10000.00")


@dataclass(frozen=True, slots=True)
class PlanRow:
    code: str
    name: str
    download_mbps: int
    upload_mbps: int
    monthly_price: Decimal
    install_fee: Decimal
    technologies: str
    use_case: str
    static_ip: bool
    active: bool
    #: customers on this tier today
    customers: int


def list_plans(uow: UnitOfWork, *, actor: Actor, include_inactive: bool = True) -> list[PlanRow]:
    actor.require(Permission.CUSTOMERS_READ)
    counts = dict(
        uow.session.execute(
            sa.select(Customer.plan_id, sa.func.count()).group_by(Customer.plan_id)
        ).all()
    )
    query = sa.select(Plan).order_by(Plan.sort_order, Plan.id)
    if not include_inactive:
        query = query.where(Plan.active.is_(True))
    return [
        PlanRow(
            p.code,
            p.name,
            p.download_mbps,
            p.upload_mbps,
            p.monthly_price,
            p.install_fee,
            p.technologies,
            p.use_case,
            p.static_ip,
            p.active,
            counts.get(p.id, 0),
        )
        for p in uow.session.scalars(query)
    ]


def _price(text: str | Decimal, field: str) -> Decimal:
    try:
        value = round_cents(Decimal(str(text).strip().lstrip("$")))
    except (InvalidOperation, ValueError):
        raise InvalidInput("enter an amount such as 79.99", field=field) from None
    if not value.is_finite() or value < 0 or value > MAX_PRICE:
        raise InvalidInput(f"an amount from 0.00 to {MAX_PRICE:,.2f}", field=field)
    return value


def update_plan(
    uow: UnitOfWork,
    *,
    actor: Actor,
    code: str,
    monthly_price: str | Decimal,
    install_fee: str | Decimal,
    active: bool,
) -> PlanRow:
    """Change a tier's prices or whether it is sold; audited with before and after."""
    actor.require(Permission.ADMIN)
    plan = uow.session.scalar(sa.select(Plan).where(Plan.code == code.strip().upper()))
    if plan is None:
        raise NotFound(f"there is no tier {code!r}")
    price = _price(monthly_price, "monthly_price")
    fee = _price(install_fee, "install_fee")
    if price == 0:
        raise InvalidInput("a tier's monthly price cannot be zero", field="monthly_price")
    before = audit.snapshot(plan)
    plan.monthly_price, plan.install_fee, plan.active = price, fee, active
    audit.record(
        uow.session,
        actor=actor,
        action="plan.update",
        entity_type="plan",
        entity_id=plan.code,
        before=before,
        after=audit.snapshot(plan),
    )
    uow.commit()
    return next(p for p in list_plans(uow, actor=actor) if p.code == plan.code)
