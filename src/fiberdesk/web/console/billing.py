"""Billing pages: the accounts overview (/console/billing), one account with its ledger,
invoices and payments and the forms to take a payment or post a credit or charge
(/console/billing/accounts/{customer_id}), and one invoice (/console/billing/invoices/{id},
with the printable copy the API also serves).

Who may read billing (billing:read) sees the pages; only who may write billing
(billing:write: billing clerks, supervisors, admins) sees the forms, and their POSTs
answer 403 to everyone else. The same services as web/api/billing.py do the work.
"""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.domain.billing import EntryKind
from fiberdesk.domain.errors import Conflict, InvalidInput, Refused
from fiberdesk.domain.money import round_cents
from fiberdesk.domain.users import Permission
from fiberdesk.services import billing, billing_views, payments
from fiberdesk.services.pagination import PageRequest
from fiberdesk.services.sessions import SignedIn
from fiberdesk.services.signup_views import card_token
from fiberdesk.web.console.auth import BillingUser, CheckedForm, text
from fiberdesk.web.console.forms import fields
from fiberdesk.web.console.pages import form_errors, page, redirect
from fiberdesk.web.deps import get_app
from fiberdesk.web.render import money, render

router = APIRouter(prefix="/console/billing", include_in_schema=False)
App = Annotated[Fiberdesk, Depends(get_app)]
User = BillingUser
PER_PAGE = 25
FORM_ERRORS = (InvalidInput, Conflict, Refused)

PAY_METHODS = {
    "card_on_file": "Card on file",
    "new_card": "Another card",
    "cash": "Cash",
    "check": "Check",
}
ENTRY_KINDS = {
    "CREDIT": "Credit: lowers what the customer owes",
    "CHARGE": "Charge: raises what the customer owes",
    "ADJUSTMENT": "Adjustment: a correction, either way",
}
PAYMENT_FIELDS = ("amount", "method", "card_number", "card_expiry", "card_cvc")
ENTRY_FIELDS = ("kind", "amount", "description")


@router.get("", response_class=HTMLResponse)
def overview(
    request: Request,
    user: User,
    app: App,
    show: Annotated[str, Query(max_length=12)] = "all",
    q: Annotated[str, Query(max_length=80)] = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    with app.uow(write=False) as uow:
        found = billing_views.list_accounts(
            uow,
            actor=user.actor,
            page=PageRequest(page_no, PER_PAGE),
            today=utcnow().date(),
            show=show if show in billing_views.SHOWS else "all",
            q=q or None,
        )

    def link(**change: Any) -> str:
        params = {"show": show, "q": q, "page": page_no, **change}
        kept = {k: v for k, v in params.items() if v and not (k == "page" and v == 1)}
        kept = {k: v for k, v in kept.items() if not (k == "show" and v == "all")}
        return "/console/billing" + (f"?{urlencode(kept)}" if kept else "")

    return page(
        request,
        user,
        "console/billing/index.html",
        area="billing",
        found=found,
        show=show if show in billing_views.SHOWS else "all",
        shows=billing_views.SHOWS,
        q=q,
        link=link,
    )


def _parse_amount(raw: str, *, signed: bool = False) -> Decimal:
    cleaned = raw.replace("$", "").replace(",", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidInput(
            "enter the amount in dollars and cents, e.g. 25.00", field="amount"
        ) from None
    if not amount.is_finite() or amount != round_cents(amount):
        raise InvalidInput("the amount is whole cents, e.g. 25.00", field="amount")
    if amount == 0 or (amount < 0 and not signed):
        raise InvalidInput("the amount must be more than zero", field="amount")
    if abs(amount) >= Decimal("100000"):
        raise InvalidInput("that amount is too large for one entry", field="amount")
    return amount


def _account(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    customer_id: int,
    *,
    payment: dict[str, Any] | None = None,
    entry: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    today = utcnow().date()
    with app.uow(write=False) as uow:
        view = billing.account_view(uow, actor=user.actor, customer_id=customer_id, entries=100)
        invoices = billing.list_invoices(uow, actor=user.actor, customer_id=customer_id)
        extras = billing_views.account_extras(
            uow, actor=user.actor, customer_id=customer_id, policy=app.dunning, today=today
        )
    payment = payment or {}
    entry = entry or {}
    pay_values = payment.get("values") or {
        "amount": str(view.balance) if view.balance > 0 else "",
        "method": "card_on_file" if extras.cards else "new_card",
    }
    return page(
        request,
        user,
        "console/billing/account.html",
        area="billing",
        status_code=status_code,
        view=view,
        invoices=invoices,
        x=extras,
        can_write=user.actor.can(Permission.BILLING_WRITE),
        can_change=user.actor.can(Permission.CUSTOMERS_WRITE),
        pay_values=pay_values,
        pay_errors=payment.get("errors", {}),
        entry_values=entry.get("values") or {"kind": "CREDIT"},
        entry_errors=entry.get("errors", {}),
        pay_methods={k: v for k, v in PAY_METHODS.items() if k != "card_on_file" or extras.cards},
        entry_kinds=ENTRY_KINDS,
        form_key=secrets.token_urlsafe(12),
        done=_done(request),
        today=today,
    )


DONE = {
    "payment": "Payment of {amount} taken.",
    "credit": "Credit of {amount} posted; it goes on the next invoice.",
    "charge": "Charge of {amount} posted; it goes on the next invoice.",
    "adjustment": "Adjustment of {amount} posted; it goes on the next invoice.",
}


def _done(request: Request) -> str:
    """The message after a successful form, from a fixed list (never text from the URL)."""
    what = DONE.get(request.query_params.get("done", ""))
    try:
        amount = Decimal(request.query_params.get("amount", ""))
    except InvalidOperation:
        return ""
    if what is None or not amount.is_finite():
        return ""
    return what.format(amount=money(amount, request.app.state.fiberdesk.settings.currency))


@router.get("/accounts/{customer_id}", response_class=HTMLResponse)
def account(customer_id: int, request: Request, user: User, app: App) -> HTMLResponse:
    return _account(request, app, user, customer_id)


def _errors(exc: Exception, fields: tuple[str, ...], renames: dict[str, str]) -> dict[str, str]:
    assert isinstance(exc, FORM_ERRORS)
    found = form_errors(exc)
    out = {}
    for name, reason in found.items():
        name = renames.get(name, name)
        out[name if name in fields else "_"] = reason
    return out


@router.post("/accounts/{customer_id}/payments", response_model=None)
def take_payment(
    customer_id: int, request: Request, user: User, form: CheckedForm, app: App
) -> Response:
    user.actor.require(Permission.BILLING_WRITE)
    # the card itself is never shown back
    values = fields(form, "amount", "method")
    try:
        amount = _parse_amount(text(form, "amount"))
        method = text(form, "method")
        token = None
        if method == "new_card":
            token = card_token(
                app.gateway,
                number=text(form, "card_number"),
                expiry=text(form, "card_expiry"),
                cvc=text(form, "card_cvc"),
            )
        elif method not in PAY_METHODS:
            raise InvalidInput("choose how the customer pays", field="method")
        key = text(form, "form_key")
        if not key:
            raise InvalidInput("the form is incomplete; open the account again", field="_")
        result = payments.pay(
            app.uow,
            actor=user.actor,
            customer_id=customer_id,
            amount=amount,
            method="card" if method in ("card_on_file", "new_card") else method,
            gateway=app.gateway,
            token=token,
            key=f"console:{user.actor.name}:{key}"[:120],
            currency=app.settings.currency,
            network=app.network,
            hold_settings=app.hold_settings,
        )
        if result.status != "SUCCEEDED":  # the same form sent again after a decline
            raise Refused(f"the payment was {result.status.lower()}: {result.failure_code}")
    except FORM_ERRORS as exc:
        errors = _errors(exc, PAYMENT_FIELDS, {"token": "method", "key": "_"})
        return _account(
            request,
            app,
            user,
            customer_id,
            payment={"values": values, "errors": errors},
            status_code=422,
        )
    query = urlencode({"done": "payment", "amount": str(result.amount)})
    return redirect(f"/console/billing/accounts/{customer_id}?{query}")


@router.post("/accounts/{customer_id}/entries", response_model=None)
def post_entry(
    customer_id: int, request: Request, user: User, form: CheckedForm, app: App
) -> Response:
    user.actor.require(Permission.BILLING_WRITE)
    values = fields(form, *ENTRY_FIELDS)
    try:
        kind = text(form, "kind")
        if kind not in ENTRY_KINDS:
            raise InvalidInput("choose a credit, a charge or an adjustment", field="kind")
        amount = _parse_amount(text(form, "amount"), signed=kind == "ADJUSTMENT")
        if kind == "CREDIT":
            amount = -amount
        reason = text(form, "description")
        if len(reason) < 3:
            raise InvalidInput("say what the entry is for", field="description")
        key = text(form, "form_key")
        with app.uow() as uow:
            billing.charge(
                uow,
                actor=user.actor,
                customer_id=customer_id,
                amount=amount,
                description=reason[:200],
                kind=EntryKind(kind),
                reference=f"console:{key}"[:120] if key else None,
            )
    except FORM_ERRORS as exc:
        if exc.field == "reference":
            exc = InvalidInput("this entry was already posted", field="_")
        errors = _errors(exc, ENTRY_FIELDS, {})
        return _account(
            request,
            app,
            user,
            customer_id,
            entry={"values": values, "errors": errors},
            status_code=422,
        )
    query = urlencode({"done": kind.lower(), "amount": str(abs(amount))})
    return redirect(f"/console/billing/accounts/{customer_id}?{query}")


@router.get("/invoices/{invoice_id}", response_class=HTMLResponse)
def invoice(invoice_id: int, request: Request, user: User, app: App) -> HTMLResponse:
    with app.uow(write=False) as uow:
        found = billing_views.invoice_page(uow, actor=user.actor, invoice_id=invoice_id)
    return page(
        request, user, "console/billing/invoice.html", area="billing", inv=found.invoice, p=found
    )


@router.get("/invoices/{invoice_id}/print", response_class=HTMLResponse)
def print_invoice(invoice_id: int, request: Request, user: User, app: App) -> HTMLResponse:
    """The same printable invoice as GET /api/v1/billing/invoices/{id}/print."""
    with app.uow(write=False) as uow:
        found = billing_views.invoice_page(uow, actor=user.actor, invoice_id=invoice_id)
        inv = found.invoice
        printable = {
            "number": inv.number,
            "kind": inv.kind,
            "issued_on": inv.issued_on,
            "due_on": inv.due_on,
            "period_start": inv.period_start,
            "period_end": inv.period_end,
            "status": inv.status.value,
            "lines": inv.lines,
            "total": inv.total,
        }
    customer = {
        "name": found.name,
        "account_number": found.account_number,
        "service_address": found.service_address,
    }
    return render(
        "invoice_print.html",
        invoice=printable,
        customer=customer,
        currency=found.currency,
        settings=app.settings,
        company=app.settings.company_name,
    )
