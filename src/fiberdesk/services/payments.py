"""Payments: one-off payments, autopay on the due date with retries, and refunds.

A payment goes through the gateway outside any transaction, then is posted to the
ledger under the account's row lock; open invoices are settled oldest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.adapters.network.base import NetworkAdapter
from fiberdesk.adapters.payments.base import PaymentDeclined, PaymentError, PaymentGateway
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import BillingAccount, Invoice, Payment, PaymentMethod
from fiberdesk.db.unit_of_work import UowFactory
from fiberdesk.domain.billing import EntryKind, InvoiceStatus
from fiberdesk.domain.errors import InvalidInput, NotFound, Refused
from fiberdesk.domain.money import round_cents
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit
from fiberdesk.services.billing import account_of, balance, post
from fiberdesk.services.holds import HoldSettings, after_payment

#: days after the due date on which a declined autopay is tried again
RETRY_AFTER_DAYS = (3, 7)
METHODS = ("card", "cash", "check", "autopay")


@dataclass(frozen=True, slots=True)
class PaymentResult:
    payment_id: int
    status: str
    amount: Decimal
    balance: Decimal
    failure_code: str | None = None


def settle_invoices(session: Session, account: BillingAccount) -> list[int]:
    """Mark open invoices paid, oldest first, as far as the balance allows; returns ids."""
    owed = balance(session, account.id)
    open_invoices = session.scalars(
        sa.select(Invoice)
        .where(Invoice.account_id == account.id, Invoice.status == InvoiceStatus.OPEN)
        .order_by(Invoice.period_start.desc(), Invoice.id.desc())
    ).all()
    # newest invoices stay open up to what is still owed; the older ones are paid
    still_open = Decimal(0)
    paid = []
    for invoice in open_invoices:
        if still_open < owed:
            still_open += invoice.total
            continue
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = utcnow()
        paid.append(invoice.id)
    return paid


def _token(session: Session, customer_id: int) -> str | None:
    return session.scalar(
        sa.select(PaymentMethod.token)
        .where(PaymentMethod.customer_id == customer_id, PaymentMethod.active.is_(True))
        .order_by(PaymentMethod.id.desc())
        .limit(1)
    )


def pay(
    uows: UowFactory,
    *,
    actor: Actor,
    customer_id: int,
    amount: Decimal,
    method: str,
    gateway: PaymentGateway,
    key: str,
    token: str | None = None,
    currency: str = "USD",
    attempt: int = 1,
    network: NetworkAdapter | None = None,
    hold_settings: HoldSettings | None = None,
) -> PaymentResult:
    """Take a payment. Zero, negative or fractional-cent amounts are refused; a card
    payment goes through the gateway (a decline is recorded and refused)."""
    actor.require(Permission.BILLING_WRITE)
    if method not in METHODS:
        raise InvalidInput(f"method is one of {', '.join(METHODS)}", field="method")
    if amount <= 0 or amount != round_cents(amount):
        raise InvalidInput("a payment is a positive amount of whole cents", field="amount")
    if not key or len(key) > 120:
        raise InvalidInput("a payment needs an idempotency key", field="key")
    with uows(write=False) as uow:
        account = account_of(uow.session, customer_id)
        existing = uow.session.scalar(sa.select(Payment).where(Payment.key == key))
        if existing is not None:
            if existing.amount != amount:
                raise InvalidInput("this key was used for another amount", field="key")
            return PaymentResult(
                existing.id,
                existing.status,
                existing.amount,
                balance(uow.session, account.id),
                existing.failure_code,
            )
        card = token or (
            _token(uow.session, customer_id) if method in ("card", "autopay") else None
        )
    charge_id = failure = None
    status = "SUCCEEDED"
    if method in ("card", "autopay"):
        if card is None:
            raise Refused("no card is on file for this account", field="token")
        try:
            charge_id = gateway.charge(
                token=card, amount=amount, currency=currency, key=f"payment:{key}"
            ).id
        except PaymentDeclined as exc:
            status, failure = "DECLINED", exc.code
        except PaymentError as exc:
            status, failure = "FAILED", str(exc)[:40] or "processing_error"
    with uows() as uow:
        session = uow.session
        account = account_of(session, customer_id, for_update=True)
        row = Payment(
            account_id=account.id,
            amount=amount,
            method=method,
            status=status,
            gateway_charge_id=charge_id,
            failure_code=failure,
            attempt=attempt,
            key=key,
            created_by=actor.name,
        )
        session.add(row)
        session.flush()
        if status == "SUCCEEDED":
            post(
                session,
                account=account,
                kind=EntryKind.PAYMENT,
                amount=-amount,
                description=f"Payment ({method})",
                reference=f"payment:{row.id}",
                actor=actor,
                on=utcnow().date(),
            )
            settle_invoices(session, account)
        audit.record(
            session,
            actor=actor,
            action=f"payment.{status.lower()}",
            entity_type="payment",
            entity_id=row.id,
            after=audit.snapshot(row),
        )
        result = PaymentResult(row.id, status, amount, balance(session, account.id), failure)
        uow.commit()
    if status != "SUCCEEDED":
        raise Refused(
            f"the payment was {status.lower()}: {failure}",
            extra={"payment_id": result.payment_id, "failure_code": failure},
        )
    if network is not None:
        # paid up: back to CURRENT, and a non-payment suspension lifted
        after_payment(
            uows,
            actor=actor,
            network=network,
            customer_id=customer_id,
            settings=hold_settings or HoldSettings(),
        )
    return result


@dataclass
class AutopayResult:
    attempted: int = 0
    succeeded: int = 0
    declined: int = 0


def run_autopay(
    uows: UowFactory,
    *,
    actor: Actor,
    on: date,
    gateway: PaymentGateway,
    currency: str = "USD",
    network: NetworkAdapter | None = None,
    hold_settings: HoldSettings | None = None,
) -> AutopayResult:
    """Charge the balance of autopay accounts whose oldest open invoice is due today, or
    was declined and is due for a retry (3 and 7 days after the due date)."""
    actor.require(Permission.BILLING_WRITE)
    result = AutopayResult()
    retry_days = [on - timedelta(days=d) for d in RETRY_AFTER_DAYS]
    with uows(write=False) as uow:
        rows = uow.session.execute(
            sa.select(BillingAccount.id, BillingAccount.customer_id, sa.func.min(Invoice.due_on))
            .join(Invoice, Invoice.account_id == BillingAccount.id)
            .join(
                PaymentMethod,
                sa.and_(
                    PaymentMethod.customer_id == BillingAccount.customer_id,
                    PaymentMethod.active.is_(True),
                    PaymentMethod.autopay.is_(True),
                ),
            )
            .where(Invoice.status == InvoiceStatus.OPEN, BillingAccount.closed_at.is_(None))
            .group_by(BillingAccount.id, BillingAccount.customer_id)
        ).all()
        due = []
        for account_id, customer_id, oldest_due in rows:
            if oldest_due == on or oldest_due in retry_days:
                owed = balance(uow.session, account_id)
                if owed > 0:
                    attempt = 1 if oldest_due == on else 2 + retry_days.index(oldest_due)
                    due.append((customer_id, owed, oldest_due, attempt))
    for customer_id, owed, oldest_due, attempt in due:
        result.attempted += 1
        try:
            pay(
                uows,
                actor=actor,
                customer_id=customer_id,
                amount=owed,
                method="autopay",
                gateway=gateway,
                key=f"autopay:{customer_id}:{oldest_due}:{attempt}",
                currency=currency,
                attempt=attempt,
                network=network,
                hold_settings=hold_settings,
            )
            result.succeeded += 1
        except Refused:
            result.declined += 1
    return result


def refund_credit(
    uows: UowFactory, *, actor: Actor, customer_id: int, gateway: PaymentGateway, key: str
) -> Decimal:
    """Give a credit balance back to the card it came from; returns what was refunded."""
    actor.require(Permission.BILLING_WRITE)
    with uows(write=False) as uow:
        account = account_of(uow.session, customer_id)
        credit = -balance(uow.session, account.id)
        last = uow.session.scalar(
            sa.select(Payment)
            .where(
                Payment.account_id == account.id,
                Payment.status == "SUCCEEDED",
                Payment.gateway_charge_id.is_not(None),
            )
            .order_by(Payment.id.desc())
            .limit(1)
        )
        charge_id, paid = (last.gateway_charge_id, last.amount) if last else (None, Decimal(0))
    if credit <= 0:
        return Decimal("0.00")
    refunded = min(credit, paid) if charge_id else Decimal(0)
    if refunded <= 0:
        raise NotFound("no card payment to refund the credit to; refund it by check")
    assert charge_id is not None
    gateway.refund(charge_id=charge_id, amount=refunded, key=f"refund:{key}")
    with uows() as uow:
        account = account_of(uow.session, customer_id, for_update=True)
        post(
            uow.session,
            account=account,
            kind=EntryKind.REFUND,
            amount=refunded,
            description="Refund of credit balance to card",
            reference=f"refund:{key}",
            actor=actor,
            on=utcnow().date(),
        )
        uow.commit()
    return refunded
