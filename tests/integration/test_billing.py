"""Billing: runs, payments, autopay, dunning and suspension (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import (
    BillingAccount,
    Customer,
    Invoice,
    LedgerEntry,
    OutboxMessage,
    Payment,
)
from fiberdesk.domain.billing import EntryKind, InvoiceStatus, Standing
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.errors import InvalidInput, Refused
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import billing, holds, payments
from tests.factories import ActiveCustomers, make_active_customers, open_billing

START = date(2026, 10, 10)  # activation; the cycle day is the 10th


@pytest.fixture
def active(fd: Fiberdesk) -> ActiveCustomers:
    return make_active_customers(fd, per_nap=2, naps=("NAP-A",))


def _run(fd: Fiberdesk, on: date) -> billing.RunResult:
    with fd.uow() as uow:
        return billing.run_billing(uow, actor=SYSTEM_ACTOR, on=on, settings=fd.billing_settings)


def _balance(fd: Fiberdesk, customer_id: int) -> Decimal:
    with fd.uow(write=False) as uow:
        return billing.balance(uow.session, billing.account_of(uow.session, customer_id).id)


def test_billing_run_invoices_once_and_ledger_balances(
    fd: Fiberdesk, active: ActiveCustomers
) -> None:
    cid = active.customer_ids[0]
    open_billing(fd, cid, on=date(2026, 10, 25), term_discount="5.00")
    with fd.uow() as uow:
        billing.charge(
            uow,
            actor=SYSTEM_ACTOR,
            customer_id=cid,
            amount=Decimal("99.00"),
            description="Installation",
            on=date(2026, 10, 25),
        )
    first = _run(fd, date(2026, 10, 25))
    assert first.invoices_issued == 1
    again = _run(fd, date(2026, 10, 25))
    assert again.invoices_issued == 0
    with fd.uow(write=False) as uow:
        inv = uow.session.scalar(sa.select(Invoice))
        assert inv is not None
        # Plus 64.99 - 5.00 term discount, prorated Oct 25 -> Nov 25 is a full cycle
        # (cycle day 25); plus the 99.00 install fee; tax 6 % of (59.99 + 99.00)
        amounts = [Decimal(line["amount"]) for line in inv.lines]
        assert amounts == [Decimal("64.99"), Decimal("-5.00"), Decimal("99.00"), Decimal("9.54")]
        assert inv.total == Decimal("168.53")
        assert (inv.period_start, inv.period_end) == (date(2026, 10, 25), date(2026, 11, 25))
        assert inv.due_on == date(2026, 11, 9)
    assert _balance(fd, cid) == Decimal("168.53")
    # the next month's run bills the next period, once
    assert _run(fd, date(2026, 11, 25)).invoices_issued == 1
    assert _run(fd, date(2026, 11, 30)).invoices_issued == 0
    assert _balance(fd, cid) == Decimal("168.53") + Decimal("63.59")


def test_payments_settle_invoices_and_refuse_bad_amounts(
    fd: Fiberdesk, active: ActiveCustomers
) -> None:
    cid = active.customer_ids[0]
    open_billing(fd, cid, on=START, card="4242424242424242")
    _run(fd, START)
    owed = _balance(fd, cid)
    for bad in (Decimal("0"), Decimal("-5.00"), Decimal("1.005")):
        with pytest.raises(InvalidInput):
            payments.pay(
                fd.uow,
                actor=SYSTEM_ACTOR,
                customer_id=cid,
                amount=bad,
                method="card",
                gateway=fd.gateway,
                key=f"bad{bad}",
            )
    result = payments.pay(
        fd.uow,
        actor=SYSTEM_ACTOR,
        customer_id=cid,
        amount=owed,
        method="card",
        gateway=fd.gateway,
        key="p1",
    )
    assert result.status == "SUCCEEDED" and result.balance == 0
    again = payments.pay(
        fd.uow,
        actor=SYSTEM_ACTOR,
        customer_id=cid,
        amount=owed,
        method="card",
        gateway=fd.gateway,
        key="p1",
    )
    assert again.payment_id == result.payment_id, "the same key never pays twice"
    with fd.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(Invoice.status)) is InvoiceStatus.PAID
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1


def test_autopay_decline_retry_then_dunning_suspends_and_payment_resumes(
    fd: Fiberdesk, active: ActiveCustomers
) -> None:
    cid = active.customer_ids[0]
    serial = active.serials[0]
    open_billing(fd, cid, on=START, card="4000000000000341")  # verifies, charges fail
    _run(fd, START)
    due = START + timedelta(days=15)
    first = payments.run_autopay(fd.uow, actor=SYSTEM_ACTOR, on=due, gateway=fd.gateway)
    assert (first.attempted, first.declined) == (1, 1)
    retry = payments.run_autopay(
        fd.uow, actor=SYSTEM_ACTOR, on=due + timedelta(days=3), gateway=fd.gateway
    )
    assert (retry.attempted, retry.declined) == (1, 1)
    with fd.uow(write=False) as uow:
        attempts = uow.session.scalars(sa.select(Payment.attempt).order_by(Payment.id)).all()
        assert attempts == [1, 2]
    policy, settings = fd.dunning, fd.hold_settings
    r1 = holds.run_dunning(
        fd.uow,
        actor=SYSTEM_ACTOR,
        network=fd.network,
        on=due + timedelta(days=3),
        policy=policy,
        settings=settings,
    )
    assert r1.reminders == 1
    r2 = holds.run_dunning(
        fd.uow,
        actor=SYSTEM_ACTOR,
        network=fd.network,
        on=due + timedelta(days=21),
        policy=policy,
        settings=settings,
    )
    assert r2.suspended == 1
    assert fd.network.ont_status(serial=serial).admin_state == "SUSPENDED"
    with fd.uow(write=False) as uow:
        customer = uow.session.get(Customer, cid)
        assert customer is not None and customer.status is ServiceStatus.SUSPENDED
        account = billing.account_of(uow.session, cid)
        assert account.standing is Standing.PAST_DUE
        kinds = set(uow.session.scalars(sa.select(OutboxMessage.kind)))
        assert {"payment_reminder", "suspension_notice"} <= kinds
    # paying by another card lifts the suspension
    token = fd.gateway.tokenize("4242424242424242", 12, 2030, "123").token  # type: ignore[attr-defined]
    payments.pay(
        fd.uow,
        actor=SYSTEM_ACTOR,
        customer_id=cid,
        amount=_balance(fd, cid),
        method="card",
        token=token,
        gateway=fd.gateway,
        key="catch-up",
        network=fd.network,
        hold_settings=settings,
    )
    with fd.uow(write=False) as uow:
        customer = uow.session.get(Customer, cid)
        assert customer is not None and customer.status is ServiceStatus.ACTIVE
        assert billing.account_of(uow.session, cid).standing is Standing.CURRENT
    assert fd.network.ont_status(serial=serial).admin_state == "ACTIVE"


def test_vacation_hold_limits_fee_and_resume(fd: Fiberdesk, active: ActiveCustomers) -> None:
    cid = active.customer_ids[1]
    open_billing(fd, cid, on=START)
    today = date.today()
    with pytest.raises(InvalidInput, match="at most 90 days"):
        holds.vacation_hold(
            fd.uow,
            actor=SYSTEM_ACTOR,
            network=fd.network,
            customer_id=cid,
            ends_on=today + timedelta(days=120),
            settings=fd.hold_settings,
        )
    with fd.uow(write=False) as uow:
        assert uow.session.get(Customer, cid).status is ServiceStatus.ACTIVE  # type: ignore[union-attr]
    holds.vacation_hold(
        fd.uow,
        actor=SYSTEM_ACTOR,
        network=fd.network,
        customer_id=cid,
        ends_on=today + timedelta(days=30),
        settings=fd.hold_settings,
    )
    assert fd.network.ont_status(serial=active.serials[1]).admin_state == "SUSPENDED"
    with pytest.raises(Refused):
        holds.vacation_hold(
            fd.uow,
            actor=SYSTEM_ACTOR,
            network=fd.network,
            customer_id=cid,
            ends_on=today + timedelta(days=30),
            settings=fd.hold_settings,
        )
    # the run bills the hold fee, not the plan
    with fd.uow() as uow:
        billing.run_billing(
            uow,
            actor=SYSTEM_ACTOR,
            on=today,
            settings=fd.billing_settings,
            account_ids=[billing.account_of(uow.session, cid).id],
        )
    with fd.uow(write=False) as uow:
        inv = uow.session.scalar(sa.select(Invoice))
        assert inv is not None and "Vacation hold fee" in inv.lines[0]["description"]
    resumed = holds.end_due_holds(
        fd.uow,
        actor=SYSTEM_ACTOR,
        network=fd.network,
        on=today + timedelta(days=30),
        settings=fd.hold_settings,
    )
    assert resumed == 1
    assert fd.network.ont_status(serial=active.serials[1]).admin_state == "ACTIVE"


def test_payment_and_suspension_racing_stay_consistent(
    fd: Fiberdesk, active: ActiveCustomers
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    cid = active.customer_ids[0]
    open_billing(fd, cid, on=START, card="4242424242424242")
    _run(fd, START)
    late = START + timedelta(days=15 + 25)
    owed = _balance(fd, cid)

    def suspend() -> object:
        return holds.run_dunning(
            fd.uow,
            actor=SYSTEM_ACTOR,
            network=fd.network,
            on=late,
            policy=fd.dunning,
            settings=fd.hold_settings,
        )

    def pay() -> object:
        return payments.pay(
            fd.uow,
            actor=SYSTEM_ACTOR,
            customer_id=cid,
            amount=owed,
            method="card",
            gateway=fd.gateway,
            key="race",
            network=fd.network,
            hold_settings=fd.hold_settings,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(suspend), pool.submit(pay)]:
            future.result()
    # whichever came first, the account ends paid, current and in service, and the OLT agrees
    holds.after_payment(
        fd.uow,
        actor=SYSTEM_ACTOR,
        network=fd.network,
        customer_id=cid,
        settings=fd.hold_settings,
        today=late,
    )
    with fd.uow(write=False) as uow:
        customer = uow.session.get(Customer, cid)
        assert customer is not None and customer.status is ServiceStatus.ACTIVE
        account = uow.session.scalar(sa.select(BillingAccount))
        assert account is not None and account.standing is Standing.CURRENT
        assert billing.balance(uow.session, account.id) == 0
        total = uow.session.scalar(sa.select(sa.func.sum(LedgerEntry.amount)))
        assert total == 0
        payments_taken = uow.session.scalars(
            sa.select(LedgerEntry.kind).where(LedgerEntry.kind == EntryKind.PAYMENT)
        ).all()
        assert len(payments_taken) == 1
    assert fd.network.ont_status(serial=active.serials[0]).admin_state == "ACTIVE"
