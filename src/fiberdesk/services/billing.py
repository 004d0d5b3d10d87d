"""The billing core: accounts, the ledger, balances, invoices and the billing run.

The balance of an account is always the sum of its ledger entries. Invoices bill in
advance for a service period; the first period runs from activation to the next cycle
day and is prorated. A run for a period already invoiced issues nothing again (one
invoice per account and period start, enforced by a unique constraint).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    BillingAccount,
    Customer,
    Invoice,
    LedgerEntry,
    Plan,
    ServiceHold,
)
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.billing import (
    EntryKind,
    HoldKind,
    InvoiceStatus,
    Period,
    cycle_of,
    due_date,
    prorate,
)
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.errors import InvalidInput, NotFound
from fiberdesk.domain.money import round_cents
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit

BILLABLE = (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED, ServiceStatus.RELOCATING)
BATCH = 2000


@dataclass(frozen=True, slots=True)
class BillingSettings:
    tax_rate: Decimal = Decimal("0.06")
    due_days: int = 15
    vacation_fee: Decimal = Decimal("10.00")
    currency: str = "USD"


def account_of(session: Session, customer_id: int, *, for_update: bool = False) -> BillingAccount:
    query = sa.select(BillingAccount).where(BillingAccount.customer_id == customer_id)
    if for_update:
        query = query.with_for_update()
    account = session.scalar(query)
    if account is None:
        raise NotFound(
            f"customer {customer_id} has no billing account yet (it opens at activation)"
        )
    return account


def account_by_id(session: Session, account_id: int) -> BillingAccount:
    account = session.get(BillingAccount, account_id)
    if account is None:
        raise NotFound(f"no billing account {account_id}")
    return account


def balance(session: Session, account_id: int) -> Decimal:
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.account_id == account_id
        )
    )
    return Decimal(total or 0).quantize(Decimal("0.01"))


def post(
    session: Session,
    *,
    account: BillingAccount,
    kind: EntryKind,
    amount: Decimal,
    description: str,
    reference: str,
    actor: Actor,
    on: date,
    invoice_id: int | None = None,
) -> LedgerEntry | None:
    """Post one ledger entry unless one with the same reference exists (then None)."""
    if amount != round_cents(amount):
        raise InvalidInput("ledger amounts are whole cents")
    if session.scalar(sa.select(LedgerEntry.id).where(LedgerEntry.reference == reference)):
        return None
    entry = LedgerEntry(
        account_id=account.id,
        kind=kind,
        amount=amount,
        description=description[:200],
        reference=reference,
        effective_on=on,
        created_by=actor.name,
        invoice_id=invoice_id,
    )
    session.add(entry)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"ledger.{kind.value.lower()}",
        entity_type="billing_account",
        entity_id=account.id,
        after={"amount": str(amount), "description": description, "reference": reference},
    )
    return entry


def open_account(
    session: Session,
    *,
    customer: Customer,
    actor: Actor,
    on: date,
    term_discount: Decimal,
    promotion_code: str | None,
    promotion_discount: Decimal,
    promotion_months: int,
    currency: str,
) -> BillingAccount:
    """The customer's billing account, opened at activation (once)."""
    from fiberdesk.domain.dates import add_months

    existing = session.scalar(
        sa.select(BillingAccount).where(BillingAccount.customer_id == customer.id)
    )
    if existing is not None:
        return existing
    account = BillingAccount(
        customer_id=customer.id,
        currency=currency,
        cycle_day=min(on.day, 28),
        billed_through=on,
        term_discount=term_discount,
        promotion_code=promotion_code,
        promotion_discount=promotion_discount,
        promotion_ends_on=add_months(on, promotion_months) if promotion_months else None,
    )
    session.add(account)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="billing_account.open",
        entity_type="billing_account",
        entity_id=account.id,
        after=audit.snapshot(account),
    )
    return account


@dataclass
class RunResult:
    period_on: date
    accounts_seen: int = 0
    invoices_issued: int = 0
    already_invoiced: int = 0
    total_billed: Decimal = Decimal("0.00")
    invoice_ids: list[int] = field(default_factory=list)


def _lines(
    *,
    plan_name: str,
    price: Decimal,
    period: Period,
    start: date,
    account: BillingAccount | sa.Row[Any],
    vacation: bool,
    settings: BillingSettings,
) -> list[dict[str, Any]]:
    """Recurring lines of one invoice (before one-time charges and tax)."""
    days = (period.end - start).days
    full = days == period.days
    label = f"{start:%b %d} to {period.end:%b %d, %Y}"
    lines: list[dict[str, Any]] = []
    if vacation:
        lines.append(
            {
                "kind": "recurring",
                "description": f"Vacation hold fee, {label}",
                "amount": prorate(settings.vacation_fee, days, period),
                "taxable": True,
            }
        )
        return lines
    lines.append(
        {
            "kind": "recurring",
            "description": f"{plan_name} service, {label}"
            + ("" if full else f" ({days} of {period.days} days)"),
            "amount": prorate(price, days, period),
            "taxable": True,
        }
    )
    if account.term_discount:
        lines.append(
            {
                "kind": "discount",
                "description": "Contract term discount",
                "amount": -prorate(account.term_discount, days, period),
                "taxable": True,
            }
        )
    if (
        account.promotion_discount
        and account.promotion_ends_on
        and (start < account.promotion_ends_on)
    ):
        lines.append(
            {
                "kind": "promotion",
                "description": f"Promotion {account.promotion_code}",
                "amount": -prorate(account.promotion_discount, days, period),
                "taxable": True,
            }
        )
    return lines


def run_billing(
    uow: UnitOfWork,
    *,
    actor: Actor,
    on: date,
    settings: BillingSettings,
    account_ids: list[int] | None = None,
) -> RunResult:
    """Invoice every billable account whose next service period starts on or before ``on``.

    Idempotent: a period already invoiced is skipped. Works in batches with bulk inserts.
    """
    actor.require(Permission.BILLING_WRITE)
    session = uow.session
    result = RunResult(on)
    # Plain columns, not ORM objects: no identity map of every due account, and nothing
    # for the ORM to synchronise when billed_through moves on below.
    query = (
        sa.select(
            BillingAccount.id,
            BillingAccount.customer_id,
            BillingAccount.cycle_day,
            BillingAccount.billed_through,
            BillingAccount.term_discount,
            BillingAccount.promotion_code,
            BillingAccount.promotion_discount,
            BillingAccount.promotion_ends_on,
            Plan.name,
            Plan.monthly_price,
        )
        .join(Customer, BillingAccount.customer_id == Customer.id)
        .join(Plan, Customer.plan_id == Plan.id)
        .where(
            BillingAccount.closed_at.is_(None),
            BillingAccount.billed_through <= on,
            Customer.status.in_(BILLABLE),
        )
        .order_by(BillingAccount.id)
    )
    if account_ids is not None:
        query = query.where(BillingAccount.id.in_(account_ids))
    rows = session.execute(query).all()
    result.accounts_seen = len(rows)
    vacation_ids = set(
        session.scalars(
            sa.select(ServiceHold.customer_id).where(
                ServiceHold.kind == HoldKind.VACATION, ServiceHold.ended_on.is_(None)
            )
        )
    )
    for start in range(0, len(rows), BATCH):
        _bill_batch(session, rows[start : start + BATCH], vacation_ids, on, settings, actor, result)
    audit.record(
        session,
        actor=actor,
        action="billing.run",
        entity_type="billing_run",
        entity_id=on.isoformat(),
        after={
            "accounts": result.accounts_seen,
            "invoices": result.invoices_issued,
            "already_invoiced": result.already_invoiced,
            "total": str(result.total_billed),
        },
    )
    uow.commit()
    return result


_INVOICES = cast(sa.Table, Invoice.__table__)
_ENTRIES = cast(sa.Table, LedgerEntry.__table__)
_ACCOUNTS = cast(sa.Table, BillingAccount.__table__)
_SET_INVOICE = (
    sa.update(_ENTRIES)
    .where(_ENTRIES.c.id == sa.bindparam("e_id"))
    .values(invoice_id=sa.bindparam("e_invoice"))
)
#: one statement per new billed_through date (a monthly run has at most a few dozen),
#: the ids inlined as integer literals rather than thousands of bound parameters
_ADVANCE = (
    sa.update(_ACCOUNTS)
    .where(_ACCOUNTS.c.id.in_(sa.bindparam("ids", expanding=True, literal_execute=True)))
    .values(billed_through=sa.bindparam("through"))
)


def _bill_batch(
    session: Session,
    rows: Sequence[Any],
    vacation_ids: set[int],
    on: date,
    settings: BillingSettings,
    actor: Actor,
    result: RunResult,
) -> None:
    # The rows are in id order: the queries below select the batch's id range (an index
    # range scan with two parameters, where IN lists of thousands of ids cost more to
    # send and parse than to run) and keep the batch's own rows.
    accounts = {row.id: row for row in rows}
    low, high = rows[0].id, rows[-1].id
    periods: dict[int, tuple[Period, date]] = {}
    for row in rows:
        assert row.billed_through is not None
        start = row.billed_through
        periods[row.id] = (cycle_of(start, row.cycle_day), start)
    starts = [start for _, start in periods.values()]
    done = set(
        session.execute(
            sa.select(Invoice.account_id, Invoice.period_start).where(
                Invoice.account_id.between(low, high),
                Invoice.period_start.between(min(starts), max(starts)),
                Invoice.kind == "REGULAR",
            )
        )
    )
    unbilled: dict[int, list[Any]] = {}
    for entry in session.execute(
        sa.select(
            LedgerEntry.id,
            LedgerEntry.account_id,
            LedgerEntry.amount,
            LedgerEntry.description,
            LedgerEntry.effective_on,
        )
        .where(
            LedgerEntry.account_id.between(low, high),
            LedgerEntry.invoice_id.is_(None),
            LedgerEntry.kind.in_([EntryKind.CHARGE, EntryKind.CREDIT, EntryKind.ADJUSTMENT]),
        )
        .order_by(LedgerEntry.id)
    ):
        if entry.account_id in accounts:
            unbilled.setdefault(entry.account_id, []).append(entry)
    invoices: list[dict[str, Any]] = []
    pending: list[tuple[int, list[dict[str, Any]], Period]] = []
    advance: dict[date, list[int]] = {}
    for account_id, (period, start) in periods.items():
        account = accounts[account_id]
        advance.setdefault(period.end, []).append(account_id)
        if (account_id, start) in done:
            result.already_invoiced += 1
            continue
        lines = _lines(
            plan_name=account.name,
            price=account.monthly_price,
            period=period,
            start=start,
            account=account,
            vacation=account.customer_id in vacation_ids,
            settings=settings,
        )
        for entry in unbilled.get(account_id, []):
            if entry.effective_on < period.end:
                lines.append(
                    {
                        "kind": "one_time",
                        "description": entry.description,
                        "amount": entry.amount,
                        "taxable": entry.amount > 0,
                        "entry_id": entry.id,
                    }
                )
        taxable = sum((ln["amount"] for ln in lines if ln["taxable"]), Decimal(0))
        tax = round_cents(max(taxable, Decimal(0)) * settings.tax_rate)
        subtotal = sum((ln["amount"] for ln in lines), Decimal(0))
        invoices.append(
            {
                "number": f"INV-{start:%Y%m%d}-{account_id:07d}",
                "account_id": account_id,
                "period_start": start,
                "period_end": period.end,
                "issued_on": on,
                "due_on": due_date(on, settings.due_days),
                "subtotal": subtotal,
                "tax": tax,
                "total": subtotal + tax,
                "status": InvoiceStatus.OPEN,
                "kind": "REGULAR",
                "paid_at": None,
                "lines": [{**ln, "amount": str(ln["amount"])} for ln in lines]
                + [
                    {
                        "kind": "tax",
                        "description": f"Tax {settings.tax_rate * 100:g} %",
                        "amount": str(tax),
                        "taxable": False,
                    }
                ],
            }
        )
        pending.append((account_id, lines, period))
    if invoices:
        # A plain executemany, then the new ids read back by (account, period start), the
        # unique key: RETURNING would make it a multi-row VALUES statement of thousands of
        # parameters that the driver parses page by page.
        session.execute(sa.insert(_INVOICES), invoices)
        issued = {(invoice["account_id"], invoice["period_start"]) for invoice in invoices}
        by_account = {
            account_id: invoice_id
            for invoice_id, account_id, period_start in session.execute(
                sa.select(Invoice.id, Invoice.account_id, Invoice.period_start).where(
                    Invoice.account_id.between(low, high),
                    Invoice.period_start.between(min(starts), max(starts)),
                )
            )
            if (account_id, period_start) in issued
        }
        entries: list[dict[str, Any]] = []
        billed_updates: list[dict[str, Any]] = []
        now = utcnow()
        for (account_id, lines, _period), invoice in zip(pending, invoices, strict=True):
            invoice_id = by_account[account_id]
            start = invoice["period_start"]
            recurring = invoice["tax"]
            for ln in lines:
                if "entry_id" in ln:
                    billed_updates.append({"e_id": ln["entry_id"], "e_invoice": invoice_id})
                else:
                    recurring += ln["amount"]
            entries.append(
                {
                    "account_id": account_id,
                    "kind": EntryKind.CHARGE if recurring >= 0 else EntryKind.CREDIT,
                    "amount": recurring,
                    "description": f"Invoice {invoice['number']}: service, discounts and tax",
                    "invoice_id": invoice_id,
                    "reference": f"inv:{account_id}:{start}",
                    "effective_on": start,
                    "created_by": actor.name,
                    "created_at": now,
                }
            )
            result.total_billed += invoice["total"]
            result.invoice_ids.append(invoice_id)
        if entries:
            session.execute(sa.insert(_ENTRIES), entries)
        if billed_updates:
            session.execute(_SET_INVOICE, billed_updates)
        result.invoices_issued += len(invoices)
    for through, ids in advance.items():
        session.execute(_ADVANCE, {"ids": ids, "through": through})


@dataclass(frozen=True, slots=True)
class AccountView:
    id: int
    customer_id: int
    currency: str
    cycle_day: int
    standing: str
    balance: Decimal
    billed_through: date | None
    open_invoices: int
    autopay: bool
    entries: list[dict[str, Any]]


def account_view(
    uow: UnitOfWork, *, actor: Actor, customer_id: int, entries: int = 50
) -> AccountView:
    actor.require(Permission.BILLING_READ)
    from fiberdesk.db.models import PaymentMethod

    session = uow.session
    account = account_of(session, customer_id)
    rows = session.scalars(
        sa.select(LedgerEntry)
        .where(LedgerEntry.account_id == account.id)
        .order_by(LedgerEntry.id.desc())
        .limit(entries)
    ).all()
    open_count = (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Invoice)
            .where(Invoice.account_id == account.id, Invoice.status == InvoiceStatus.OPEN)
        )
        or 0
    )
    autopay = (
        session.scalar(
            sa.select(PaymentMethod.id)
            .where(
                PaymentMethod.customer_id == customer_id,
                PaymentMethod.active.is_(True),
                PaymentMethod.autopay.is_(True),
            )
            .limit(1)
        )
        is not None
    )
    return AccountView(
        account.id,
        customer_id,
        account.currency,
        account.cycle_day,
        account.standing.value,
        balance(session, account.id),
        account.billed_through,
        open_count,
        autopay,
        [
            {
                "id": e.id,
                "kind": e.kind.value,
                "amount": str(e.amount),
                "description": e.description,
                "effective_on": e.effective_on.isoformat(),
                "invoice_id": e.invoice_id,
            }
            for e in rows
        ],
    )


def get_invoice(uow: UnitOfWork, *, actor: Actor, invoice_id: int) -> Invoice:
    actor.require(Permission.BILLING_READ)
    invoice = uow.session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(f"no invoice {invoice_id}")
    return invoice


def list_invoices(uow: UnitOfWork, *, actor: Actor, customer_id: int) -> list[Invoice]:
    actor.require(Permission.BILLING_READ)
    account = account_of(uow.session, customer_id)
    return list(
        uow.session.scalars(
            sa.select(Invoice)
            .where(Invoice.account_id == account.id)
            .order_by(Invoice.period_start.desc())
        )
    )


def charge(
    uow: UnitOfWork,
    *,
    actor: Actor,
    customer_id: int,
    amount: Decimal,
    description: str,
    reference: str | None = None,
    on: date | None = None,
    kind: EntryKind = EntryKind.CHARGE,
) -> LedgerEntry:
    """A one-time charge, credit or adjustment; it goes on the next invoice."""
    actor.require(Permission.BILLING_WRITE)
    if kind is EntryKind.PAYMENT or kind is EntryKind.REFUND:
        raise InvalidInput("payments and refunds go through the payment services")
    if amount == 0 or amount != round_cents(amount):
        raise InvalidInput("the amount must be a non-zero number of whole cents", field="amount")
    if (kind is EntryKind.CHARGE and amount < 0) or (kind is EntryKind.CREDIT and amount > 0):
        raise InvalidInput("a charge is positive and a credit negative", field="amount")
    if not description.strip():
        raise InvalidInput("say what the entry is for", field="description")
    session = uow.session
    account = account_of(session, customer_id, for_update=True)
    now: datetime = utcnow()
    entry = post(
        session,
        account=account,
        kind=kind,
        amount=amount,
        description=description.strip(),
        reference=reference or f"manual:{account.id}:{now.timestamp()}",
        actor=actor,
        on=on or now.date(),
    )
    if entry is None:
        raise InvalidInput("an entry with this reference exists", field="reference")
    uow.commit()
    return entry
