"""Billing data the console's billing and change pages need in tests."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import BillingAccount, Invoice, LedgerEntry
from fiberdesk.domain.billing import EntryKind, InvoiceStatus


def overdue_invoice(
    fd: Fiberdesk, customer_id: int, *, amount: str = "64.99", days_late: int = 25
) -> int:
    """An open invoice of ``amount``, due ``days_late`` days ago and unpaid; returns its id."""
    total = Decimal(amount)
    issued = utcnow().date() - timedelta(days=days_late + 15)
    with fd.uow() as uow:
        s = uow.session
        account_id = s.scalar(
            sa.select(BillingAccount.id).where(BillingAccount.customer_id == customer_id)
        )
        assert account_id is not None
        invoice = Invoice(
            number=f"INV-T{customer_id:05d}-{days_late:03d}",
            account_id=account_id,
            period_start=issued,
            period_end=issued + timedelta(days=30),
            issued_on=issued,
            due_on=issued + timedelta(days=15),
            subtotal=total,
            tax=Decimal("0.00"),
            total=total,
            status=InvoiceStatus.OPEN,
            lines=[{"kind": "recurring", "description": "Plus service", "amount": amount}],
        )
        s.add(invoice)
        s.flush()
        s.add(
            LedgerEntry(
                account_id=account_id,
                kind=EntryKind.CHARGE,
                amount=total,
                description=f"Invoice {invoice.number}",
                reference=f"test:{invoice.number}",
                effective_on=issued,
                created_by="test",
                invoice_id=invoice.id,
            )
        )
        invoice_id = invoice.id
        uow.commit()
        return invoice_id
