"""Tier changes: upgrades at once, downgrades at the next cycle, proration shown first.

``preview_change`` says what a change would do and cost and returns a confirmation token;
``change_tier`` needs that token back (so what was shown is what is done), changes the
OLT profile through the network adapter, and records a service-change order.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.adapters.network.base import NetworkAdapter, NetworkError
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import Nap, Plan, PonPort, ServiceOrder, Splitter
from fiberdesk.db.unit_of_work import UowFactory
from fiberdesk.domain.billing import EntryKind, change_proration
from fiberdesk.domain.catalog import tier_offers
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.errors import Conflict, InvalidInput, Refused
from fiberdesk.domain.network import PonTechnology
from fiberdesk.domain.orders import OrderStatus, OrderType
from fiberdesk.domain.qualification import QualificationRules
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit
from fiberdesk.services.billing import account_of, post
from fiberdesk.services.diagnostics import ont_serial_of
from fiberdesk.services.equipment import profile_for
from fiberdesk.services.orders import get_customer, record_step
from fiberdesk.services.qualification import sold_peak_mbps, tier_spec

PREVIEW_MINUTES = 30


@dataclass(frozen=True, slots=True)
class ChangePreview:
    customer_id: int
    from_plan: str
    to_plan: str
    direction: str  # UPGRADE or DOWNGRADE
    effective_on: date
    days_left: int
    credit_old: Decimal
    charge_new: Decimal
    net: Decimal
    new_monthly_price: Decimal
    summary: str
    token: str
    expires_at: datetime


def _token(secret: str, *parts: object) -> str:
    message = "|".join(str(p) for p in parts)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()[:24]


def _check_pon(
    session: Session, customer_nap: int | None, plan: Plan, current: Plan, rules: QualificationRules
) -> None:
    if customer_nap is None:
        raise Refused("the customer has no NAP on record")
    pon_id, tech = session.execute(
        sa.select(PonPort.id, PonPort.technology)
        .join(Splitter, Splitter.pon_port_id == PonPort.id)
        .join(Nap, Nap.splitter_id == Splitter.id)
        .where(Nap.id == customer_nap)
    ).one()
    # the customer's own current plan is part of what the port has sold
    sold = sold_peak_mbps(session, pon_id) - current.download_mbps
    offer = tier_offers(
        [tier_spec(plan)],
        technology=PonTechnology(tech),
        sold_peak_mbps=sold,
        oversubscription_limit=rules.oversubscription_limit,
    )[0]
    if not offer.offered:
        raise Refused(
            f"{plan.name} cannot be carried on this customer's PON port: {offer.reason}",
            field="plan",
        )


def preview_change(
    uows: UowFactory,
    *,
    actor: Actor,
    customer_id: int,
    plan_code: str,
    rules: QualificationRules,
    secret_key: str,
    today: date | None = None,
) -> ChangePreview:
    """What a tier change would do: when it takes effect and the exact proration."""
    actor.require(Permission.CUSTOMERS_WRITE)
    today = today or utcnow().date()
    with uows(write=False) as uow:
        session = uow.session
        customer = get_customer(session, customer_id)
        if customer.status is not ServiceStatus.ACTIVE:
            raise Refused(f"only active service can change tier (it is {customer.status.value})")
        plan = session.scalar(
            sa.select(Plan).where(Plan.code == plan_code.upper(), Plan.active.is_(True))
        )
        if plan is None:
            raise InvalidInput(f"no plan {plan_code!r}", field="plan")
        current = session.get(Plan, customer.plan_id)
        assert current is not None
        if plan.id == current.id:
            raise InvalidInput(f"the customer is already on {plan.name}", field="plan")
        pending = session.scalar(
            sa.select(ServiceOrder.id).where(
                ServiceOrder.customer_id == customer.id,
                ServiceOrder.status == OrderStatus.OPEN,
                ServiceOrder.type.in_([OrderType.UPGRADE, OrderType.DOWNGRADE]),
            )
        )
        if pending:
            raise Conflict(f"change order {pending} is already waiting to take effect")
        _check_pon(session, customer.nap_id, plan, current, rules)
        account = account_of(session, customer.id)
        upgrade = plan.monthly_price > current.monthly_price or (
            plan.monthly_price == current.monthly_price
            and plan.download_mbps > current.download_mbps
        )
        if upgrade:
            p = change_proration(
                old_price=current.monthly_price,
                new_price=plan.monthly_price,
                effective=today,
                cycle_day=account.cycle_day,
            )
            effective, days_left, credit, charge = today, p.days_left, p.credit_old, p.charge_new
        else:
            effective = account.billed_through or today
            if effective <= today:
                from fiberdesk.domain.billing import cycle_of

                effective = cycle_of(today, account.cycle_day).end
            days_left, credit, charge = 0, Decimal("0.00"), Decimal("0.00")
        direction = "UPGRADE" if upgrade else "DOWNGRADE"
        net = charge - credit
        summary = (
            f"{direction.title()} from {current.name} to {plan.name} on "
            f"{effective:%Y-%m-%d}: "
            + (
                f"credit {credit} for the unused {days_left} days of {current.name}, "
                f"charge {charge} for {plan.name}; net {net} on the next invoice."
                if upgrade
                else f"no proration; the new price {plan.monthly_price} applies from the "
                "next cycle."
            )
        )
        expires = (utcnow() + timedelta(minutes=PREVIEW_MINUTES)).replace(microsecond=0)
        token = _token(
            secret_key,
            customer.id,
            current.code,
            plan.code,
            effective,
            net,
            int(expires.timestamp()),
        )
        return ChangePreview(
            customer.id,
            current.code,
            plan.code,
            direction,
            effective,
            days_left,
            credit,
            charge,
            net,
            plan.monthly_price,
            summary,
            f"{token}.{int(expires.timestamp())}",
            expires,
        )


def change_tier(
    uows: UowFactory,
    *,
    actor: Actor,
    network: NetworkAdapter,
    customer_id: int,
    plan_code: str,
    confirm: str,
    rules: QualificationRules,
    secret_key: str,
    today: date | None = None,
) -> ChangePreview:
    """Carry out the change previewed with ``confirm`` (the preview's token)."""
    today = today or utcnow().date()
    preview = preview_change(
        uows,
        actor=actor,
        customer_id=customer_id,
        plan_code=plan_code,
        rules=rules,
        secret_key=secret_key,
        today=today,
    )
    token, _, stamp = confirm.partition(".")
    expected = _token(
        secret_key,
        customer_id,
        preview.from_plan,
        preview.to_plan,
        preview.effective_on,
        preview.net,
        stamp,
    )
    if not stamp.isdigit() or not hmac.compare_digest(token, expected):
        raise InvalidInput(
            "the confirmation does not match a current preview of this change", field="confirm"
        )
    if int(stamp) < utcnow().timestamp():
        raise InvalidInput("the preview has expired; preview the change again", field="confirm")
    with uows(write=False) as uow:
        plan = uow.session.scalar(sa.select(Plan).where(Plan.code == preview.to_plan))
        assert plan is not None
        profile = profile_for(plan)
        serial = ont_serial_of(uow.session, customer_id)
    if preview.direction == "UPGRADE":
        if serial is None:
            raise Refused("the customer has no installed ONT to change")
        try:
            network.change_profile(serial=serial, profile=profile)
        except NetworkError as exc:
            raise Refused(f"the OLT refused the new profile: {exc.reason}") from None
    with uows() as uow:
        _record(uow.session, preview, actor=actor, today=today)
        uow.commit()
    return preview


def _record(session: Session, preview: ChangePreview, *, actor: Actor, today: date) -> None:
    plan = session.scalar(sa.select(Plan).where(Plan.code == preview.to_plan))
    assert plan is not None
    customer = get_customer(session, preview.customer_id)
    upgrade = preview.direction == "UPGRADE"
    order = ServiceOrder(
        customer_id=customer.id,
        type=OrderType.UPGRADE if upgrade else OrderType.DOWNGRADE,
        status=OrderStatus.COMPLETED if upgrade else OrderStatus.OPEN,
        plan_id=plan.id,
        completed_date=utcnow() if upgrade else None,
        details={
            "from": preview.from_plan,
            "to": preview.to_plan,
            "effective_on": preview.effective_on.isoformat(),
            "credit_old": str(preview.credit_old),
            "charge_new": str(preview.charge_new),
            "net": str(preview.net),
        },
    )
    session.add(order)
    session.flush()
    record_step(
        order,
        step="change",
        outcome="done" if upgrade else "scheduled",
        actor=actor,
        detail=preview.summary,
    )
    before = audit.snapshot(customer)
    if upgrade:
        account = account_of(session, customer.id, for_update=True)
        customer.plan_id = plan.id
        if preview.credit_old:
            post(
                session,
                account=account,
                kind=EntryKind.CREDIT,
                amount=-preview.credit_old,
                description=f"Unused {preview.from_plan}, {preview.days_left} days",
                reference=f"change:{order.id}:credit",
                actor=actor,
                on=today,
            )
        if preview.charge_new:
            post(
                session,
                account=account,
                kind=EntryKind.CHARGE,
                amount=preview.charge_new,
                description=f"{plan.name}, {preview.days_left} days",
                reference=f"change:{order.id}:charge",
                actor=actor,
                on=today,
            )
    audit.record(
        session,
        actor=actor,
        action=f"customer.{preview.direction.lower()}",
        entity_type="customer",
        entity_id=customer.id,
        before=before,
        after={**audit.snapshot(customer), "order": order.id},
    )


def apply_due_changes(uows: UowFactory, *, actor: Actor, network: NetworkAdapter, on: date) -> int:
    """Apply downgrades whose date has come: OLT profile, then the plan. Returns count."""
    with uows(write=False) as uow:
        due = [
            (o.id, o.customer_id, o.plan_id)
            for o in uow.session.scalars(
                sa.select(ServiceOrder).where(
                    ServiceOrder.type == OrderType.DOWNGRADE,
                    ServiceOrder.status == OrderStatus.OPEN,
                )
            )
            if date.fromisoformat(o.details["effective_on"]) <= on
        ]
    done = 0
    for order_id, customer_id, plan_id in due:
        with uows(write=False) as uow:
            plan = uow.session.get(Plan, plan_id)
            assert plan is not None
            profile = profile_for(plan)
            serial = ont_serial_of(uow.session, customer_id)
        if serial is not None:
            try:
                network.change_profile(serial=serial, profile=profile)
            except NetworkError:
                continue  # tried again on the next run
        with uows() as uow:
            order = uow.session.get(ServiceOrder, order_id)
            customer = get_customer(uow.session, customer_id)
            assert order is not None
            customer.plan_id = plan_id
            order.status = OrderStatus.COMPLETED
            order.completed_date = utcnow()
            record_step(
                order,
                step="change",
                outcome="done",
                actor=actor,
                detail=f"downgrade to {profile.name} applied",
            )
            audit.record(
                uow.session,
                actor=actor,
                action="customer.downgrade.applied",
                entity_type="customer",
                entity_id=customer_id,
                after={"plan_id": plan_id, "order": order_id},
            )
            uow.commit()
        done += 1
    return done
