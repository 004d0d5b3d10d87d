"""The demo operator's billing (services/demo/billing.py): accounts for installed customers,
invoices from the real billing run, payments that match them, and non-payment suspensions
that dunning would have made (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import (
    BillingAccount,
    Customer,
    Invoice,
    LedgerEntry,
    Payment,
    ServiceHold,
)
from fiberdesk.domain.billing import DunningPolicy, HoldKind, InvoiceStatus
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import auth, billing, billing_views
from fiberdesk.services.demo import build_demo
from fiberdesk.services.pagination import PageRequest

TODAY = date(2026, 3, 16)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


def test_the_demo_bills_its_customers_consistently(fd: Fiberdesk) -> None:
    build_demo(fd, today=TODAY, premises_limit=6000, customers=150)
    with fd.uow(write=False) as uow:
        s = uow.session
        # every customer who was ever installed (some cancelled before installation are
        # DISCONNECTED without ever having been billed)
        billed = set(s.scalars(sa.select(Customer.id).where(Customer.billing_start.is_not(None))))
        accounts = dict(s.execute(sa.select(BillingAccount.id, BillingAccount.customer_id)).all())
        assert set(accounts.values()) == billed
        invoices = s.scalars(sa.select(Invoice)).all()
        assert invoices and {i.status for i in invoices} == {InvoiceStatus.OPEN, InvoiceStatus.PAID}
        # each paid invoice has its payment of the same amount
        paid = {i.id: i.total for i in invoices if i.status is InvoiceStatus.PAID}
        payments = dict(
            s.execute(
                sa.select(Payment.invoice_id, Payment.amount).where(Payment.status == "SUCCEEDED")
            ).all()
        )
        assert payments == paid
        # the balance of every account is what its open invoices say
        open_total: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
        for i in invoices:
            if i.status is InvoiceStatus.OPEN:
                open_total[i.account_id] += i.total
        for account_id in accounts:
            assert billing.balance(s, account_id) == open_total[account_id], account_id
        # customers suspended for non-payment are long overdue, and only they are held so
        policy = DunningPolicy()
        held = set(
            s.scalars(
                sa.select(ServiceHold.customer_id).where(
                    ServiceHold.kind == HoldKind.NON_PAYMENT, ServiceHold.ended_on.is_(None)
                )
            )
        )
        assert held
        by_customer = {c: a for a, c in accounts.items()}
        for customer_id in held:
            customer = s.get(Customer, customer_id)
            assert customer is not None and customer.status is ServiceStatus.SUSPENDED
            oldest = s.scalar(
                sa.select(sa.func.min(Invoice.due_on)).where(
                    Invoice.account_id == by_customer[customer_id],
                    Invoice.status == InvoiceStatus.OPEN,
                )
            )
            assert oldest is not None and (TODAY - oldest).days >= policy.suspend_at - 15
        # no ledger entry of a closed account is billed after it closed
        closed = s.scalar(
            sa.select(sa.func.count())
            .select_from(LedgerEntry)
            .join(BillingAccount, LedgerEntry.account_id == BillingAccount.id)
            .where(BillingAccount.closed_at.is_not(None))
        )
        assert closed == 0
        overview = billing_views.list_accounts(
            uow, actor=SYSTEM_ACTOR, page=PageRequest(1, 10), today=TODAY
        )
        assert overview.counts["suspended"] == len(held)
        assert overview.counts["all"] == len(accounts)
        assert overview.page.items[0].days_overdue > 0
    # the billing run has already invoiced today's periods: nothing is issued twice
    with fd.uow() as uow:
        again = billing.run_billing(
            uow, actor=SYSTEM_ACTOR, on=TODAY, settings=billing.BillingSettings()
        )
    assert again.invoices_issued == 0
