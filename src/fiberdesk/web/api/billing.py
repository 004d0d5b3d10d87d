"""/api/v1/billing: accounts, invoices (JSON and printable HTML), payments, runs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.domain.billing import EntryKind
from fiberdesk.services import billing, holds, payments
from fiberdesk.services.orders import get_customer
from fiberdesk.web.api.schemas import PROBLEM_RESPONSES
from fiberdesk.web.deps import ApiActor, ReadUow, WriteUow, get_app
from fiberdesk.web.render import render

router = APIRouter(prefix="/api/v1/billing", tags=["billing"], responses=PROBLEM_RESPONSES)
App = Annotated[Fiberdesk, Depends(get_app)]


class AccountOut(BaseModel):
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


@router.get("/customers/{customer_id}", response_model=AccountOut, summary="Account")
def account(customer_id: int, actor: ApiActor, uow: ReadUow) -> AccountOut:
    """Balance (the sum of the ledger), standing, cycle and recent ledger entries."""
    with uow:
        return AccountOut.model_validate(
            billing.account_view(uow, actor=actor, customer_id=customer_id), from_attributes=True
        )


class InvoiceOut(BaseModel):
    id: int
    number: str
    period_start: date
    period_end: date
    issued_on: date
    due_on: date
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    status: str
    kind: str
    lines: list[dict[str, Any]]


def _invoice(inv: Any) -> InvoiceOut:
    return InvoiceOut(
        id=inv.id,
        number=inv.number,
        period_start=inv.period_start,
        period_end=inv.period_end,
        issued_on=inv.issued_on,
        due_on=inv.due_on,
        subtotal=inv.subtotal,
        tax=inv.tax,
        total=inv.total,
        status=inv.status.value,
        kind=inv.kind,
        lines=inv.lines,
    )


@router.get(
    "/customers/{customer_id}/invoices", response_model=list[InvoiceOut], summary="Invoices"
)
def invoices(customer_id: int, actor: ApiActor, uow: ReadUow) -> list[InvoiceOut]:
    with uow:
        return [
            _invoice(i) for i in billing.list_invoices(uow, actor=actor, customer_id=customer_id)
        ]


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut, summary="One invoice")
def invoice(invoice_id: int, actor: ApiActor, uow: ReadUow) -> InvoiceOut:
    with uow:
        return _invoice(billing.get_invoice(uow, actor=actor, invoice_id=invoice_id))


@router.get(
    "/invoices/{invoice_id}/print", response_class=HTMLResponse, summary="Printable invoice"
)
def print_invoice(invoice_id: int, actor: ApiActor, uow: ReadUow, app: App) -> HTMLResponse:
    with uow:
        inv = billing.get_invoice(uow, actor=actor, invoice_id=invoice_id)
        acct = billing.account_by_id(uow.session, inv.account_id)
        assert acct is not None
        customer = get_customer(uow.session, acct.customer_id)
        return render(
            "invoice_print.html",
            invoice=_invoice(inv),
            customer=customer,
            currency=acct.currency,
            settings=app.settings,
            company=app.settings.company_name,
        )


class PaymentIn(BaseModel):
    amount: Decimal = Field(gt=0, decimal_places=2, max_digits=12)
    method: Literal["card", "cash", "check"] = "card"
    token: str | None = Field(None, max_length=120)


class PaymentOut(BaseModel):
    payment_id: int
    status: str
    amount: Decimal
    balance: Decimal
    failure_code: str | None


@router.post(
    "/customers/{customer_id}/payments",
    response_model=PaymentOut,
    status_code=201,
    summary="Take a payment",
)
def pay(
    customer_id: int,
    body: PaymentIn,
    actor: ApiActor,
    app: App,
    idempotency_key: Annotated[str, Header(min_length=1, max_length=100)],
) -> PaymentOut:
    """A one-off payment (the Idempotency-Key header is required: a retried payment is
    never taken twice). Paying off the arrears lifts a non-payment suspension."""
    result = payments.pay(
        app.uow,
        actor=actor,
        customer_id=customer_id,
        amount=body.amount,
        method=body.method,
        gateway=app.gateway,
        token=body.token,
        key=f"api:{actor.name}:{idempotency_key}",
        currency=app.settings.currency,
        network=app.network,
        hold_settings=app.hold_settings,
    )
    return PaymentOut.model_validate(result, from_attributes=True)


class ChargeIn(BaseModel):
    kind: Literal["CHARGE", "CREDIT", "ADJUSTMENT"]
    amount: Decimal = Field(decimal_places=2, max_digits=12)
    description: str = Field(min_length=1, max_length=200)


@router.post(
    "/customers/{customer_id}/entries",
    status_code=201,
    summary="A one-time charge, credit or adjustment",
)
def add_entry(customer_id: int, body: ChargeIn, actor: ApiActor, uow: WriteUow) -> dict[str, Any]:
    with uow:
        entry = billing.charge(
            uow,
            actor=actor,
            customer_id=customer_id,
            amount=body.amount,
            description=body.description,
            kind=EntryKind(body.kind),
        )
        return {"id": entry.id, "amount": str(entry.amount), "kind": entry.kind.value}


class RunIn(BaseModel):
    on: date | None = None


@router.post("/runs", summary="Billing run")
def run(body: RunIn, actor: ApiActor, uow: WriteUow, app: App) -> dict[str, Any]:
    """Invoice every account whose next period has started; re-running issues nothing twice."""
    with uow:
        result = billing.run_billing(
            uow, actor=actor, on=body.on or utcnow().date(), settings=app.billing_settings
        )
    return {
        "on": result.period_on.isoformat(),
        "accounts_seen": result.accounts_seen,
        "invoices_issued": result.invoices_issued,
        "already_invoiced": result.already_invoiced,
        "total_billed": str(result.total_billed),
    }


@router.post("/autopay", summary="Autopay run")
def autopay(body: RunIn, actor: ApiActor, app: App) -> dict[str, int]:
    result = payments.run_autopay(
        app.uow,
        actor=actor,
        on=body.on or utcnow().date(),
        gateway=app.gateway,
        currency=app.settings.currency,
        network=app.network,
        hold_settings=app.hold_settings,
    )
    return {
        "attempted": result.attempted,
        "succeeded": result.succeeded,
        "declined": result.declined,
    }


@router.post("/dunning", summary="Dunning run")
def dunning(body: RunIn, actor: ApiActor, app: App) -> dict[str, Any]:
    result = holds.run_dunning(
        app.uow,
        actor=actor,
        network=app.network,
        on=body.on or utcnow().date(),
        policy=app.dunning,
        settings=app.hold_settings,
    )
    return {
        "reminders": result.reminders,
        "suspended": result.suspended,
        "collections": result.collections,
        "restored": result.restored,
    }
