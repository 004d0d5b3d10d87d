"""What the billing pages read: the accounts list with balances and dunning, and the
parts of one account that ``billing.account_view`` does not give (payments, cards on file,
the overdue invoice and the dunning stage, the customer).

Balances are the sum of the ledger, computed in the database for the whole page at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from fiberdesk.db.models import (
    BillingAccount,
    Customer,
    Invoice,
    LedgerEntry,
    Payment,
    PaymentMethod,
    Plan,
    ServiceHold,
)
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.billing import DunningPolicy, HoldKind, InvoiceStatus, Standing
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services.billing import account_by_id, account_of
from fiberdesk.services.orders import get_customer
from fiberdesk.services.pagination import Page, PageRequest

#: the overview's filters, in the order the page shows them
SHOWS = {
    "all": "All accounts",
    "owing": "Owing",
    "overdue": "Overdue",
    "dunning": "In dunning",
    "suspended": "Suspended for non-payment",
    "credit": "In credit",
    "closed": "Closed",
}


@dataclass(frozen=True, slots=True)
class AccountRow:
    customer_id: int
    account_number: str
    name: str
    status: ServiceStatus
    plan: str | None
    balance: Decimal
    standing: Standing
    dunning_level: int
    oldest_due: date | None
    days_overdue: int
    suspended: bool
    closed: bool
    currency: str


@dataclass(frozen=True, slots=True)
class Overview:
    page: Page[AccountRow]
    counts: dict[str, int]
    owed: Decimal
    overdue_owed: Decimal


def _balances() -> Any:
    return (
        sa.select(
            LedgerEntry.account_id.label("account_id"),
            sa.func.sum(LedgerEntry.amount).label("balance"),
        )
        .group_by(LedgerEntry.account_id)
        .subquery()
    )


def _oldest_due() -> Any:
    return (
        sa.select(Invoice.account_id.label("account_id"), sa.func.min(Invoice.due_on).label("due"))
        .where(Invoice.status == InvoiceStatus.OPEN)
        .group_by(Invoice.account_id)
        .subquery()
    )


def list_accounts(
    uow: UnitOfWork,
    *,
    actor: Actor,
    page: PageRequest,
    today: date,
    show: str = "all",
    q: str | None = None,
) -> Overview:
    """Billing accounts with their balance and dunning state, most overdue first, then the
    largest balance; ``show`` picks one of ``SHOWS``, ``q`` part of a name or an account
    number. The counts of every filter come with the page."""
    actor.require(Permission.BILLING_READ)
    if show not in SHOWS:
        raise InvalidInput(f"show is one of {', '.join(SHOWS)}", field="show")
    session = uow.session
    bal, due = _balances(), _oldest_due()
    balance = sa.func.coalesce(bal.c.balance, 0)
    held = sa.select(ServiceHold.customer_id).where(
        ServiceHold.kind == HoldKind.NON_PAYMENT, ServiceHold.ended_on.is_(None)
    )
    is_open = BillingAccount.closed_at.is_(None)
    overdue = sa.and_(balance > 0, due.c.due < today)
    conditions: dict[str, sa.ColumnElement[bool]] = {
        "all": sa.true(),
        "owing": balance > 0,
        "overdue": overdue,
        "dunning": sa.and_(is_open, BillingAccount.standing != Standing.CURRENT),
        "suspended": sa.and_(is_open, BillingAccount.customer_id.in_(held)),
        "credit": balance < 0,
        "closed": BillingAccount.closed_at.is_not(None),
    }

    def joined(query: Any) -> Any:
        query = (
            query.select_from(BillingAccount)
            .join(Customer, Customer.id == BillingAccount.customer_id)
            .outerjoin(Plan, Plan.id == Customer.plan_id)
            .outerjoin(bal, bal.c.account_id == BillingAccount.id)
            .outerjoin(due, due.c.account_id == BillingAccount.id)
        )
        if q and q.strip():
            needle = q.strip().lower()
            query = query.where(
                sa.or_(
                    sa.func.lower(Customer.name).contains(needle),
                    Customer.account_number.contains(needle.upper()),
                )
            )
        return query

    figures = session.execute(
        joined(
            sa.select(
                *(sa.func.count().filter(cond) for cond in conditions.values()),
                sa.func.coalesce(sa.func.sum(balance).filter(balance > 0), 0),
                sa.func.coalesce(sa.func.sum(balance).filter(overdue), 0),
            )
        )
    ).one()
    counts = {key: int(figures[i] or 0) for i, key in enumerate(conditions)}
    owed, overdue_owed = figures[len(conditions)], figures[len(conditions) + 1]
    rows = session.execute(
        joined(
            sa.select(
                BillingAccount,
                Customer.account_number,
                Customer.name,
                Customer.status,
                Plan.name,
                balance.label("balance"),
                due.c.due,
                BillingAccount.customer_id.in_(held).label("suspended"),
            )
        )
        .where(conditions[show])
        .order_by(
            # overdue first, then owing by due date, then the rest (NULLs sort
            # differently on SQLite and PostgreSQL, so no NULL is ever compared)
            sa.case((overdue, 0), (balance > 0, 1), else_=2),
            sa.func.coalesce(due.c.due, today),
            balance.desc(),
            BillingAccount.id,
        )
        .offset(page.offset)
        .limit(page.per_page)
    ).all()
    items = []
    for account, number, name, status, plan, amount, oldest, suspended in rows:
        amount = Decimal(amount or 0).quantize(Decimal("0.01"))
        late = (today - oldest).days if oldest and amount > 0 and oldest < today else 0
        items.append(
            AccountRow(
                account.customer_id,
                number,
                name,
                status,
                plan,
                amount,
                account.standing,
                account.dunning_level,
                oldest,
                late,
                bool(suspended),
                account.closed_at is not None,
                account.currency,
            )
        )
    return Overview(
        Page(items, counts[show], page.page, page.per_page),
        counts,
        Decimal(owed or 0).quantize(Decimal("0.01")),
        Decimal(overdue_owed or 0).quantize(Decimal("0.01")),
    )


@dataclass(frozen=True, slots=True)
class PaymentLine:
    id: int
    at: datetime
    amount: Decimal
    method: str
    status: str
    failure_code: str | None
    by: str


@dataclass(frozen=True, slots=True)
class CardLine:
    brand: str
    last4: str
    expires: str
    autopay: bool


@dataclass(frozen=True, slots=True)
class AccountExtras:
    customer_id: int
    account_number: str
    name: str
    status: ServiceStatus
    service_address: str
    plan: str | None
    monthly_price: Decimal | None
    deposit_held: Decimal
    term_discount: Decimal
    promotion: str | None
    closed_at: datetime | None
    dunning_level: int
    oldest_due: date | None
    days_overdue: int
    dunning_stage: str
    non_payment_hold: bool
    payments: list[PaymentLine]
    cards: list[CardLine]


def _stage(days: int, level: int, policy: DunningPolicy, held: bool, closed: bool) -> str:
    if closed:
        return "Closed"
    if held:
        return f"Suspended for non-payment, {days} days past due"
    if days <= 0:
        return "Nothing overdue"
    sent = min(level, len(policy.reminder_days))
    text = f"{days} days past due; {sent} of {len(policy.reminder_days)} reminders sent"
    if days < policy.suspend_at:
        return text + f"; service is suspended at {policy.suspend_at} days"
    return text + "; due for suspension at the next dunning run"


def account_extras(
    uow: UnitOfWork,
    *,
    actor: Actor,
    customer_id: int,
    policy: DunningPolicy,
    today: date,
    payments: int = 20,
) -> AccountExtras:
    actor.require(Permission.BILLING_READ)
    session = uow.session
    customer = get_customer(session, customer_id)
    account = account_of(session, customer_id)
    plan = session.get(Plan, customer.plan_id) if customer.plan_id is not None else None
    oldest = session.scalar(
        sa.select(sa.func.min(Invoice.due_on)).where(
            Invoice.account_id == account.id, Invoice.status == InvoiceStatus.OPEN
        )
    )
    owed = (
        session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.account_id == account.id
            )
        )
        or 0
    )
    late = (today - oldest).days if oldest and owed > 0 and oldest < today else 0
    held = (
        session.scalar(
            sa.select(ServiceHold.id)
            .where(
                ServiceHold.customer_id == customer_id,
                ServiceHold.kind == HoldKind.NON_PAYMENT,
                ServiceHold.ended_on.is_(None),
            )
            .limit(1)
        )
        is not None
    )
    paid = [
        PaymentLine(p.id, p.created_at, p.amount, p.method, p.status, p.failure_code, p.created_by)
        for p in session.scalars(
            sa.select(Payment)
            .where(Payment.account_id == account.id)
            .order_by(Payment.id.desc())
            .limit(payments)
        )
    ]
    cards = [
        CardLine(m.brand, m.last4, f"{m.exp_month:02d}/{m.exp_year % 100:02d}", m.autopay)
        for m in session.scalars(
            sa.select(PaymentMethod)
            .where(PaymentMethod.customer_id == customer_id, PaymentMethod.active.is_(True))
            .order_by(PaymentMethod.id.desc())
        )
    ]
    closed = account.closed_at is not None
    return AccountExtras(
        customer.id,
        customer.account_number,
        customer.name,
        customer.status,
        customer.service_address,
        plan.name if plan else None,
        plan.monthly_price if plan else None,
        account.deposit_held,
        account.term_discount,
        account.promotion_code,
        account.closed_at,
        account.dunning_level,
        oldest,
        late,
        _stage(late, account.dunning_level, policy, held, closed),
        held,
        paid,
        cards,
    )


@dataclass(frozen=True, slots=True)
class InvoicePage:
    invoice: Invoice
    customer_id: int
    account_number: str
    name: str
    service_address: str
    currency: str


def invoice_page(uow: UnitOfWork, *, actor: Actor, invoice_id: int) -> InvoicePage:
    """One invoice with whose it is (the invoice is read through ``billing.get_invoice``)."""
    from fiberdesk.services.billing import get_invoice

    invoice = get_invoice(uow, actor=actor, invoice_id=invoice_id)
    account = account_by_id(uow.session, invoice.account_id)
    customer = get_customer(uow.session, account.customer_id)
    return InvoicePage(
        invoice,
        customer.id,
        customer.account_number,
        customer.name,
        customer.service_address,
        account.currency,
    )
