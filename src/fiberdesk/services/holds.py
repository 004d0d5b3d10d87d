"""Suspension and resume: vacation holds, non-payment suspension by dunning, resume.

The ONT follows the customer's status through the network adapter. Because the adapter is
called after the database commits, two actions racing on one customer (a payment and a
suspension) could reach the OLT in the other order; ``reconcile_ont`` therefore re-reads
the status after each call and repeats until the OLT matches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.adapters.network.base import NetworkAdapter, NetworkError
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import BillingAccount, Customer, Invoice, ServiceHold, ServiceOrder
from fiberdesk.db.unit_of_work import UowFactory
from fiberdesk.domain.billing import DunningPolicy, HoldKind, InvoiceStatus, Standing
from fiberdesk.domain.customers import SERVICE_TRANSITIONS, ServiceStatus
from fiberdesk.domain.errors import Forbidden, InvalidInput, Refused
from fiberdesk.domain.orders import OrderStatus, OrderType
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit, messages
from fiberdesk.services.billing import account_of, balance
from fiberdesk.services.diagnostics import ont_serial_of
from fiberdesk.services.orders import get_customer


@dataclass(frozen=True, slots=True)
class HoldSettings:
    max_vacation_days: int = 90
    min_vacation_days: int = 7
    vacation_fee: Decimal = Decimal("10.00")
    company_name: str = "fiberdesk"
    support_phone: str = ""


def reconcile_ont(uows: UowFactory, network: NetworkAdapter, customer_id: int) -> str | None:
    """Make the OLT's admin state match the customer's status; returns the state set."""
    applied = None
    for _ in range(4):
        with uows(write=False) as uow:
            status = get_customer(uow.session, customer_id).status
            serial = ont_serial_of(uow.session, customer_id)
        want = "SUSPENDED" if status is ServiceStatus.SUSPENDED else "ACTIVE"
        if serial is None or status is ServiceStatus.DISCONNECTED:
            return None
        if applied == want:
            return want
        try:
            (network.suspend if want == "SUSPENDED" else network.resume)(serial=serial)
        except NetworkError:
            return None  # the next dunning or hold run tries again
        applied = want
    return applied


def _order(
    session: Session, customer: Customer, kind: OrderType, actor: Actor, detail: str
) -> None:
    now = utcnow()
    session.add(
        ServiceOrder(
            customer_id=customer.id,
            type=kind,
            status=OrderStatus.COMPLETED,
            plan_id=customer.plan_id,
            created_at=now,
            completed_date=now,
            details={"detail": detail},
            steps=[
                {
                    "at": now.isoformat(),
                    "step": kind.value.lower(),
                    "outcome": "done",
                    "by": actor.name,
                    "via": actor.channel.value,
                    "detail": detail,
                }
            ],
        )
    )


def _notice(
    session: Session,
    customer: Customer,
    kind: str,
    key: str,
    settings: HoldSettings,
    **context: object,
) -> None:
    messages.queue(
        session,
        kind=kind,
        key=key,
        customer=customer,
        context={
            "customer_name": customer.name,
            "account_number": customer.account_number,
            "company_name": settings.company_name,
            "support_number": settings.support_phone,
            **context,
        },
    )


def _suspend(
    session: Session,
    customer: Customer,
    *,
    kind: HoldKind,
    actor: Actor,
    starts_on: date,
    ends_on: date | None,
    reason: str,
    settings: HoldSettings,
) -> int:
    before = audit.snapshot(customer)
    SERVICE_TRANSITIONS.check(customer.status, ServiceStatus.SUSPENDED)
    customer.status = ServiceStatus.SUSPENDED
    hold = ServiceHold(
        customer_id=customer.id,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason,
        created_by=actor.name,
    )
    session.add(hold)
    session.flush()
    _order(session, customer, OrderType.SUSPENSION, actor, f"{kind.label}: {reason}")
    _notice(
        session,
        customer,
        "suspension_notice",
        f"hold{hold.id}",
        settings,
        reason=kind.label,
        starts_on=starts_on.isoformat(),
        ends_on=ends_on.isoformat() if ends_on else None,
    )
    audit.record(
        session,
        actor=actor,
        action="customer.suspend",
        entity_type="customer",
        entity_id=customer.id,
        before=before,
        after=audit.snapshot(customer),
    )
    return hold.id


def _locked_customer(
    session: Session, customer_id: int, status: ServiceStatus, refusal: str
) -> Customer:
    """The customer's row, locked for the change; refused with ``refusal`` and the status it
    is in unless that is ``status``."""
    customer = session.scalar(
        sa.select(Customer).where(Customer.id == customer_id).with_for_update()
    )
    if customer is None:
        raise InvalidInput(f"no customer {customer_id}", field="customer_id")
    if customer.status is not status:
        raise Refused(f"{refusal} (it is {customer.status.value})")
    return customer


def vacation_hold(
    uows: UowFactory,
    *,
    actor: Actor,
    network: NetworkAdapter,
    customer_id: int,
    ends_on: date,
    settings: HoldSettings,
    today: date | None = None,
) -> int:
    """Suspend an active customer's service until ``ends_on`` at the reduced hold fee."""
    actor.require(Permission.CUSTOMERS_WRITE)
    today = today or utcnow().date()
    days = (ends_on - today).days
    if days < settings.min_vacation_days:
        raise InvalidInput(
            f"a vacation hold lasts at least {settings.min_vacation_days} days", field="ends_on"
        )
    if days > settings.max_vacation_days:
        raise InvalidInput(
            f"a vacation hold lasts at most {settings.max_vacation_days} days ({days} asked)",
            field="ends_on",
        )
    with uows() as uow:
        customer = _locked_customer(
            uow.session, customer_id, ServiceStatus.ACTIVE, "only active service can be put on hold"
        )
        hold_id = _suspend(
            uow.session,
            customer,
            kind=HoldKind.VACATION,
            actor=actor,
            starts_on=today,
            ends_on=ends_on,
            reason=f"vacation until {ends_on:%Y-%m-%d}",
            settings=settings,
        )
        uow.commit()
    reconcile_ont(uows, network, customer_id)
    return hold_id


def resume(
    uows: UowFactory,
    *,
    actor: Actor,
    network: NetworkAdapter,
    customer_id: int,
    settings: HoldSettings,
    reason: str = "on request",
    today: date | None = None,
) -> None:
    """End the customer's holds and restore service. A non-payment suspension resumes only
    once nothing is overdue. Billing (billing:write without customers:write) may lift its
    own non-payment suspensions, as a payment that clears the arrears does."""
    may_change = actor.can(Permission.CUSTOMERS_WRITE)
    if not may_change:
        actor.require(Permission.BILLING_WRITE)
    today = today or utcnow().date()
    with uows() as uow:
        session = uow.session
        customer = _locked_customer(
            session, customer_id, ServiceStatus.SUSPENDED, "the service is not suspended"
        )
        holds = session.scalars(
            sa.select(ServiceHold).where(
                ServiceHold.customer_id == customer_id, ServiceHold.ended_on.is_(None)
            )
        ).all()
        if not may_change and any(h.kind is not HoldKind.NON_PAYMENT for h in holds):
            raise Forbidden(
                f"the {actor.role.label.lower()} role may lift a suspension for non-payment only"
            )
        if any(h.kind is HoldKind.NON_PAYMENT for h in holds) and _overdue(
            session, customer_id, today
        ):
            raise Refused("the account is still overdue: take the payment first")
        for hold in holds:
            hold.ended_on = today
        before = audit.snapshot(customer)
        SERVICE_TRANSITIONS.check(customer.status, ServiceStatus.ACTIVE)
        customer.status = ServiceStatus.ACTIVE
        _order(session, customer, OrderType.RESUME, actor, reason)
        _notice(
            session,
            customer,
            "resume_notice",
            f"resume{customer.id}:{today}",
            settings,
            resumed_on=today.isoformat(),
        )
        audit.record(
            session,
            actor=actor,
            action="customer.resume",
            entity_type="customer",
            entity_id=customer.id,
            before=before,
            after=audit.snapshot(customer),
        )
        uow.commit()
    reconcile_ont(uows, network, customer_id)


def end_due_holds(
    uows: UowFactory, *, actor: Actor, network: NetworkAdapter, on: date, settings: HoldSettings
) -> int:
    """Resume every vacation hold whose end has come; returns how many."""
    with uows(write=False) as uow:
        due = list(
            uow.session.scalars(
                sa.select(ServiceHold.customer_id).where(
                    ServiceHold.kind == HoldKind.VACATION,
                    ServiceHold.ended_on.is_(None),
                    ServiceHold.ends_on <= on,
                )
            )
        )
    for customer_id in due:
        resume(
            uows,
            actor=actor,
            network=network,
            customer_id=customer_id,
            settings=settings,
            reason="vacation hold ended",
            today=on,
        )
    return len(due)


def _overdue(session: Session, customer_id: int, on: date) -> int:
    """Days past due of the oldest open invoice (0 when nothing is overdue)."""
    account = session.scalar(
        sa.select(BillingAccount).where(BillingAccount.customer_id == customer_id)
    )
    if account is None or balance(session, account.id) <= 0:
        return 0
    oldest = session.scalar(
        sa.select(sa.func.min(Invoice.due_on)).where(
            Invoice.account_id == account.id, Invoice.status == InvoiceStatus.OPEN
        )
    )
    return max(0, (on - oldest).days) if oldest else 0


@dataclass
class DunningResult:
    reminders: int = 0
    suspended: int = 0
    collections: int = 0
    restored: int = 0
    suspended_ids: list[int] | None = None


def run_dunning(
    uows: UowFactory,
    *,
    actor: Actor,
    network: NetworkAdapter,
    on: date,
    policy: DunningPolicy,
    settings: HoldSettings,
) -> DunningResult:
    """Reminders, suspension and collections for overdue accounts; and back to CURRENT
    (resuming a non-payment suspension) for accounts that have paid."""
    actor.require(Permission.BILLING_WRITE)
    result = DunningResult(suspended_ids=[])
    with uows(write=False) as uow:
        accounts = list(
            uow.session.scalars(
                sa.select(BillingAccount.customer_id).where(
                    BillingAccount.closed_at.is_(None),
                    sa.or_(
                        BillingAccount.standing != Standing.CURRENT,
                        BillingAccount.id.in_(
                            sa.select(Invoice.account_id).where(
                                Invoice.status == InvoiceStatus.OPEN, Invoice.due_on < on
                            )
                        ),
                    ),
                )
            )
        )
    for customer_id in accounts:
        step = _dun_one(
            uows, actor=actor, customer_id=customer_id, on=on, policy=policy, settings=settings
        )
        if step == "reminder":
            result.reminders += 1
        elif step == "suspended":
            result.suspended += 1
            assert result.suspended_ids is not None
            result.suspended_ids.append(customer_id)
            reconcile_ont(uows, network, customer_id)
        elif step == "collections":
            result.collections += 1
        elif step == "restored":
            result.restored += 1
            after_payment(
                uows,
                actor=actor,
                network=network,
                customer_id=customer_id,
                settings=settings,
                today=on,
            )
    return result


def _dun_one(
    uows: UowFactory,
    *,
    actor: Actor,
    customer_id: int,
    on: date,
    policy: DunningPolicy,
    settings: HoldSettings,
) -> str | None:
    with uows() as uow:
        session = uow.session
        account = account_of(session, customer_id, for_update=True)
        customer = get_customer(session, customer_id)
        late = _overdue(session, customer_id, on)
        standing = policy.standing(late)
        step = None
        if late == 0:
            if account.standing is not Standing.CURRENT or account.dunning_level:
                account.standing, account.dunning_level = Standing.CURRENT, 0
                step = "restored"
        else:
            due_steps = [d for d in policy.reminder_days if d <= late]
            if len(due_steps) > account.dunning_level and late < policy.suspend_at:
                account.dunning_level = len(due_steps)
                _notice(
                    session,
                    customer,
                    "payment_reminder",
                    f"dunning{account.id}:{on - timedelta(days=late)}:{len(due_steps)}",
                    settings,
                    days_past_due=late,
                    balance=str(balance(session, account.id)),
                    reminder=len(due_steps),
                )
                step = "reminder"
            if late >= policy.suspend_at and customer.status is ServiceStatus.ACTIVE:
                _suspend(
                    session,
                    customer,
                    kind=HoldKind.NON_PAYMENT,
                    actor=actor,
                    starts_on=on,
                    ends_on=None,
                    reason=f"{late} days past due",
                    settings=settings,
                )
                account.dunning_level = len(policy.reminder_days) + 1
                step = "suspended"
            if standing is Standing.COLLECTIONS and account.standing is not Standing.COLLECTIONS:
                step = step or "collections"
            account.standing = standing
        uow.commit()
    return step


def after_payment(
    uows: UowFactory,
    *,
    actor: Actor,
    network: NetworkAdapter,
    customer_id: int,
    settings: HoldSettings,
    today: date | None = None,
) -> bool:
    """Once nothing is overdue: standing CURRENT, and a non-payment suspension resumed.
    Returns whether service was resumed."""
    today = today or utcnow().date()
    with uows() as uow:
        session = uow.session
        account = account_of(session, customer_id, for_update=True)
        if _overdue(session, customer_id, today):
            return False
        account.standing, account.dunning_level = Standing.CURRENT, 0
        suspended = session.scalar(
            sa.select(ServiceHold.id).where(
                ServiceHold.customer_id == customer_id,
                ServiceHold.kind == HoldKind.NON_PAYMENT,
                ServiceHold.ended_on.is_(None),
            )
        )
        uow.commit()
    if suspended is None:
        return False
    resume(
        uows,
        actor=actor,
        network=network,
        customer_id=customer_id,
        settings=settings,
        reason="paid in full",
        today=today,
    )
    return True


def suspend_for_non_payment(
    uows: UowFactory,
    *,
    actor: Actor,
    network: NetworkAdapter,
    customer_id: int,
    settings: HoldSettings,
    note: str = "",
    today: date | None = None,
) -> int:
    """A billing clerk suspends an overdue account by hand, before dunning would (the
    console's suspension form). Refused unless an invoice is past due; service comes back
    as dunning's does, once the arrears are paid."""
    actor.require(Permission.BILLING_WRITE)
    today = today or utcnow().date()
    with uows() as uow:
        session = uow.session
        customer = _locked_customer(
            session, customer_id, ServiceStatus.ACTIVE, "only active service can be suspended"
        )
        late = _overdue(session, customer_id, today)
        if not late:
            raise Refused("nothing on this account is past due", field="kind")
        reason = f"{late} days past due" + (f"; {note.strip()}" if note.strip() else "")
        hold_id = _suspend(
            session,
            customer,
            kind=HoldKind.NON_PAYMENT,
            actor=actor,
            starts_on=today,
            ends_on=None,
            reason=reason[:200],
            settings=settings,
        )
        uow.commit()
    reconcile_ont(uows, network, customer_id)
    return hold_id
