"""Billing for the demo operator: an account per installed customer, about three months of
invoices issued by the real billing run, payments against most of them, and the customers
the demo suspended for non-payment left overdue with their hold and dunning state.

Accounts, payments and holds are written with bulk inserts; the invoices come from
``services.billing.run_billing`` run weekly over the last three months, as the operator's
scheduler would have run it. Cards are not made (their tokens belong to a gateway), so
demo payments are autopay, card or check records without a gateway charge.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from fiberdesk.db.models import BillingAccount, Invoice, LedgerEntry, Payment, ServiceHold
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.billing import (
    DunningPolicy,
    EntryKind,
    HoldKind,
    InvoiceStatus,
    Standing,
    cycle_of,
)
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.users import Actor
from fiberdesk.services.billing import BillingSettings, run_billing
from fiberdesk.services.demo.calendar import local_day
from fiberdesk.services.demo.context import DemoContext
from fiberdesk.services.demo.database import insert_all, update_by_id
from fiberdesk.services.demo.lives import Life

#: how far back invoices go
BILLED_DAYS = 91
#: share of customers who pay an invoice as soon as it is issued (the rest pay near the due day)
EARLY_PAYERS = 0.55
#: share of active customers a few days late with their latest invoice
LATE_PAYERS = 0.06
_BILLED = (
    ServiceStatus.ACTIVE,
    ServiceStatus.SUSPENDED,
    ServiceStatus.RELOCATING,
    ServiceStatus.DISCONNECTED,
)


@dataclass
class BillingFigures:
    accounts: int = 0
    invoices: int = 0
    payments: int = 0
    overdue_accounts: int = 0


def _non_payment(life: Life) -> bool:
    return life.status is ServiceStatus.SUSPENDED and (life.suspension_reason or "").startswith(
        "Non-payment"
    )


def _accounts(ctx: DemoContext) -> tuple[list[dict[str, object]], dict[int, Life]]:
    rows: list[dict[str, object]] = []
    lives: dict[int, Life] = {}
    since = ctx.today - timedelta(days=BILLED_DAYS)
    for i, life in enumerate(ctx.lives):
        start = life.billing_start
        if start is None or life.status not in _BILLED:
            continue
        customer_id = ctx.customer_ids[i]
        cycle_day = min(start.day, 28)
        # the history before the last three months is taken as billed and paid
        billed_through = max(start, cycle_of(since, cycle_day).end)
        closed = life.disconnected_at if life.status is ServiceStatus.DISCONNECTED else None
        rows.append(
            {
                "customer_id": customer_id,
                "currency": "USD",
                "cycle_day": cycle_day,
                "standing": Standing.CURRENT,
                "dunning_level": 0,
                "billed_through": local_day(closed) if closed else billed_through,
                "term_discount": Decimal("0.00"),
                "promotion_discount": Decimal("0.00"),
                "deposit_held": Decimal("0.00"),
                "closed_at": closed,
                "created_at": life.activated_at,
            }
        )
        lives[customer_id] = life
    return rows, lives


def insert_billing(
    factory: Callable[[], UnitOfWork],
    ctx: DemoContext,
    *,
    actor: Actor,
    progress: Callable[[int, int], None] | None = None,
) -> BillingFigures:
    """Accounts, invoices, payments and non-payment holds; after the operator is written."""
    figures = BillingFigures()
    rows, lives = _accounts(ctx)
    with factory() as uow:
        insert_all(uow.session, BillingAccount, rows)
        uow.commit()
    figures.accounts = len(rows)
    runs = [ctx.today - timedelta(days=d) for d in range(BILLED_DAYS, 0, -7)] + [ctx.today]
    settings = BillingSettings()
    for n, on in enumerate(runs):
        with factory() as uow:
            figures.invoices += run_billing(
                uow, actor=actor, on=on, settings=settings
            ).invoices_issued
        if progress is not None:
            progress(n + 1, len(runs) + 1)
    with factory() as uow:
        _settle(uow, ctx, lives, figures, actor)
        uow.commit()
    if progress is not None:
        progress(len(runs) + 1, len(runs) + 1)
    return figures


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(13), tzinfo=UTC) + timedelta(minutes=rng.randrange(480))


def _settle(
    uow: UnitOfWork,
    ctx: DemoContext,
    lives: dict[int, Life],
    figures: BillingFigures,
    actor: Actor,
) -> None:
    """Pay the invoices each customer would have paid; leave the rest open."""
    session = uow.session
    rng = ctx.rng("billing")
    today = ctx.today
    policy = DunningPolicy()
    accounts = dict(session.execute(sa.select(BillingAccount.id, BillingAccount.customer_id)).all())
    invoices = session.execute(
        sa.select(Invoice.id, Invoice.account_id, Invoice.issued_on, Invoice.due_on, Invoice.total)
        .where(Invoice.status == InvoiceStatus.OPEN)
        .order_by(Invoice.account_id, Invoice.due_on)
    ).all()
    by_account: dict[int, list[Any]] = {}
    for row in invoices:
        by_account.setdefault(row.account_id, []).append(row)
    late = {
        a
        for a, c in accounts.items()
        if lives[c].status is ServiceStatus.ACTIVE and rng.random() < LATE_PAYERS
    }
    payments: list[dict[str, object]] = []
    entries: list[dict[str, object]] = []
    paid: list[tuple[Any, ...]] = []
    standing: list[tuple[Any, ...]] = []
    holds: list[dict[str, object]] = []
    for account_id, rows in by_account.items():
        life = lives[accounts[account_id]]
        unpaid_from: date | None = None
        paid_ids: set[int] = set()
        if _non_payment(life) and life.suspended_at is not None:
            # unpaid from the invoice that fell due some weeks before the suspension
            unpaid_from = local_day(life.suspended_at) - timedelta(days=policy.suspend_at + 5)
        for row in rows:
            keep_open = (
                (unpaid_from is not None and row.due_on >= unpaid_from)
                or (account_id in late and row is rows[-1])
                or (row.due_on >= today and rng.random() > EARLY_PAYERS)
            )
            if keep_open:
                continue
            early = rng.random() < EARLY_PAYERS
            day = row.issued_on + timedelta(days=rng.randint(0, 3) if early else rng.randint(8, 15))
            day = min(day, today)
            at = _at(day, rng)
            method = rng.choice(("autopay", "autopay", "card", "check"))
            payments.append(
                {
                    "account_id": account_id,
                    "invoice_id": row.id,
                    "amount": row.total,
                    "method": method,
                    "status": "SUCCEEDED",
                    "gateway_charge_id": None,
                    "failure_code": None,
                    "attempt": 1,
                    "key": f"demo:{row.id}",
                    "created_by": "autopay" if method == "autopay" else "billing",
                    "created_at": at,
                }
            )
            entries.append(
                {
                    "account_id": account_id,
                    "kind": EntryKind.PAYMENT,
                    "amount": -row.total,
                    "description": f"Payment ({method})",
                    "invoice_id": None,
                    "reference": f"payment:demo:{row.id}",
                    "effective_on": day,
                    "created_by": actor.name,
                    "created_at": at,
                }
            )
            paid.append((row.id, InvoiceStatus.PAID, at))
            paid_ids.add(row.id)
        overdue = [r for r in rows if r.due_on < today and r.id not in paid_ids]
        if unpaid_from is not None and life.suspended_at is not None:
            reason = life.suspension_reason or "Non-payment"
            if "declined" in reason:
                first = next((r for r in rows if r.due_on >= unpaid_from), None)
                if first is not None:
                    payments.append(
                        {
                            "account_id": account_id,
                            "invoice_id": first.id,
                            "amount": first.total,
                            "method": "autopay",
                            "status": "DECLINED",
                            "gateway_charge_id": None,
                            "failure_code": "card_declined",
                            "attempt": 1,
                            "key": f"demo:declined:{first.id}",
                            "created_by": "autopay",
                            "created_at": _at(min(first.due_on, today), rng),
                        }
                    )
            holds.append(
                {
                    "customer_id": accounts[account_id],
                    "kind": HoldKind.NON_PAYMENT,
                    "starts_on": local_day(life.suspended_at),
                    "ends_on": None,
                    "ended_on": None,
                    "reason": reason[:200],
                    "created_by": "billing",
                    "created_at": life.suspended_at,
                }
            )
        if overdue:
            days = (today - overdue[0].due_on).days
            level = sum(1 for d in policy.reminder_days if d <= days)
            if unpaid_from is not None:
                level = len(policy.reminder_days) + 1
            standing.append((account_id, policy.standing(days), level))
            figures.overdue_accounts += 1
    for customer_id, life in lives.items():
        if life.status is ServiceStatus.SUSPENDED and not _non_payment(life):
            if life.suspended_at is None:
                continue
            start = local_day(life.suspended_at)
            holds.append(
                {
                    "customer_id": customer_id,
                    "kind": HoldKind.VACATION,
                    "starts_on": start,
                    "ends_on": max(start + timedelta(days=60), today + timedelta(days=10)),
                    "ended_on": None,
                    "reason": (life.suspension_reason or "Seasonal hold")[:200],
                    "created_by": "csr",
                    "created_at": life.suspended_at,
                }
            )
    insert_all(session, Payment, payments)
    insert_all(session, LedgerEntry, entries)
    insert_all(session, ServiceHold, holds)
    update_by_id(session, Invoice, ("status", "paid_at"), paid)
    update_by_id(session, BillingAccount, ("standing", "dunning_level"), standing)
    figures.payments = sum(1 for p in payments if p["status"] == "SUCCEEDED")
