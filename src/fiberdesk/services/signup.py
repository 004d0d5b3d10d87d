"""The sign-up checklist of an order: identity, credit, payment and contract.

Each step records its outcome on the order; a refused step records the refusal (in its
own transaction) and then raises, so the order stays where it was and says why.
Outside systems (bureau, gateway) are called outside any database transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from fiberdesk.adapters.credit.base import BureauError, CreditApplicant, CreditBureau
from fiberdesk.adapters.payments.base import PaymentDeclined, PaymentError, PaymentGateway
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Contract,
    ContractTermRow,
    CreditCheck,
    PaymentMethod,
    Quote,
)
from fiberdesk.db.unit_of_work import UowFactory
from fiberdesk.domain.errors import InvalidInput, Refused
from fiberdesk.domain.orders import OrderStatus, OrderType
from fiberdesk.domain.signup import CreditOutcome, CreditPolicy, IdentityMethod
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit, identity, one_time_codes
from fiberdesk.services.orders import (
    OrderView,
    check_off,
    get_customer,
    get_order,
    order_view,
    record_step,
    refuse,
)

ID_DOCUMENTS = ("drivers_license", "state_id", "passport", "military_id")


def _open_install(uows: UowFactory, order_id: int) -> int:
    """Refuse unless the order is an open new installation; returns its customer's id."""
    with uows(write=False) as uow:
        order = get_order(uow.session, order_id)
        if order.type is not OrderType.NEW_INSTALL:
            raise InvalidInput(f"order {order_id} is not a new installation", field="order_id")
        if order.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED):
            raise Refused(f"order {order_id} is {order.status.label.lower()}")
        return order.customer_id


def send_identity_code(
    uows: UowFactory,
    *,
    actor: Actor,
    order_id: int,
    channel: str,
    secret_key: str,
    ttl_minutes: int = 10,
    now: datetime | None = None,
) -> str:
    """Send a six-digit code to the customer's phone (sms) or email; returns where it went
    (masked). The code itself is only in the queued message."""
    actor.require(Permission.ORDERS_WRITE)
    if channel not in ("sms", "email"):
        raise InvalidInput("a code goes by sms or email", field="channel")
    _open_install(uows, order_id)
    now = now or utcnow()
    with uows() as uow:
        order = get_order(uow.session, order_id)
        customer = get_customer(uow.session, order.customer_id)
        to = one_time_codes.destination(customer, channel)
        if not to:
            raise InvalidInput(f"the customer has no {'phone' if channel == 'sms' else 'email'}")
        masked = one_time_codes.send(
            uow.session,
            actor=actor,
            customer=customer,
            channel=channel,
            to=to,
            secret_key=secret_key,
            ttl_minutes=ttl_minutes,
            now=now,
        )
        record_step(
            order,
            step="identity_code_sent",
            outcome="done",
            actor=actor,
            detail=f"{channel} to {masked}",
            at=now,
        )
        uow.commit()
    return masked


def verify_identity(
    uows: UowFactory,
    *,
    actor: Actor,
    order_id: int,
    method: IdentityMethod,
    secret_key: str,
    document_type: str | None = None,
    document_number: str | None = None,
    code: str | None = None,
    now: datetime | None = None,
) -> OrderView:
    """Record how the customer's identity was verified. For a photo ID the number is kept
    only as its last four characters and a keyed hash; a one-time code must match the
    latest unexpired code sent, within five attempts."""
    actor.require(Permission.ORDERS_WRITE)
    customer_id = _open_install(uows, order_id)
    now = now or utcnow()
    doc_last4 = doc_hash = None
    if method is IdentityMethod.PHOTO_ID:
        if document_type not in ID_DOCUMENTS:
            raise InvalidInput(
                f"document type must be one of {', '.join(ID_DOCUMENTS)}", field="document_type"
            )
        number = "".join(ch for ch in (document_number or "").upper() if ch.isalnum())
        if len(number) < 5:
            raise InvalidInput(
                "the document number is missing or too short", field="document_number"
            )
        doc_last4 = number[-4:]
        doc_hash = one_time_codes.keyed_hash(secret_key, f"{document_type}:{number}")
    else:
        channel = "sms" if method is IdentityMethod.OTP_SMS else "email"
        if not code or not code.strip().isdigit():
            raise InvalidInput("the six-digit code is required", field="code")
        reason = one_time_codes.check(
            uows,
            customer_id=customer_id,
            channel=channel,
            code=code.strip(),
            secret_key=secret_key,
            now=now,
            sent="for this order",
        )
        if reason:
            raise refuse(uows, order_id=order_id, step="identity", actor=actor, reason=reason)
    with uows() as uow:
        order = get_order(uow.session, order_id, for_update=True)
        identity.record_verification(
            uow.session,
            actor=actor,
            customer_id=order.customer_id,
            method=method,
            at=now,
            document_type=document_type if doc_last4 else None,
            document_last4=doc_last4,
            document_hash=doc_hash,
        )
        check_off(order, "identity", f"{method.label} by {actor.name}")
        record_step(
            order,
            step="identity",
            outcome="done",
            actor=actor,
            at=now,
            detail=method.label + (f" ({document_type} …{doc_last4})" if doc_last4 else ""),
        )
        view = order_view(uow.session, order)
        uow.commit()
    return view


@dataclass(frozen=True, slots=True)
class CreditResult:
    outcome: CreditOutcome
    deposit: Decimal
    score: int | None
    reference: str
    order: OrderView


def credit_check(
    uows: UowFactory,
    *,
    actor: Actor,
    order_id: int,
    bureau: CreditBureau,
    policy: CreditPolicy,
    date_of_birth: date,
    ssn_last4: str | None = None,
    today: date | None = None,
) -> CreditResult:
    """Ask the bureau and apply the policy: approve, approve with a deposit, or decline.
    A decline is recorded on the order and raised as a refusal."""
    actor.require(Permission.ORDERS_WRITE)
    _open_install(uows, order_id)
    today = today or utcnow().date()
    age = (today - date_of_birth).days / 365.25
    if age < 18:
        raise InvalidInput("the account holder must be 18 or older", field="date_of_birth")
    if age > 120:
        raise InvalidInput("that date of birth is not plausible", field="date_of_birth")
    if ssn_last4 is not None and not (len(ssn_last4) == 4 and ssn_last4.isdigit()):
        raise InvalidInput("give the last four digits of the SSN only", field="ssn_last4")
    with uows(write=False) as uow:
        order = get_order(uow.session, order_id)
        customer = get_customer(uow.session, order.customer_id)
        applicant = CreditApplicant(
            customer.name, date_of_birth, customer.service_address, ssn_last4
        )
    try:
        report = bureau.check(applicant)
    except BureauError as exc:
        raise refuse(
            uows,
            order_id=order_id,
            step="credit",
            actor=actor,
            reason=f"the credit bureau did not answer ({exc}); try again",
        ) from None
    outcome, deposit = policy.decide(report.score)
    with uows() as uow:
        order = get_order(uow.session, order_id, for_update=True)
        row = CreditCheck(
            customer_id=order.customer_id,
            bureau=bureau.name,
            reference=report.reference,
            score=report.score,
            outcome=outcome,
            deposit=deposit,
            checked_by=actor.name,
        )
        uow.session.add(row)
        if outcome is CreditOutcome.DECLINED:
            record_step(
                order,
                step="credit",
                outcome="refused",
                actor=actor,
                detail=f"declined by policy ({bureau.name} {report.reference})",
            )
        else:
            check_off(order, "credit", outcome.label + (f", deposit {deposit}" if deposit else ""))
            order.details = {**order.details, "deposit": str(deposit)}
            record_step(
                order,
                step="credit",
                outcome="done",
                actor=actor,
                detail=f"{outcome.label} ({bureau.name} {report.reference})",
            )
        uow.session.flush()
        audit.record(
            uow.session,
            actor=actor,
            action="credit.check",
            entity_type="customer",
            entity_id=order.customer_id,
            after=audit.snapshot(row),
        )
        view = order_view(uow.session, order)
        uow.commit()
    if outcome is CreditOutcome.DECLINED:
        raise Refused(
            "the credit check was declined: the order cannot go ahead as it is",
            extra={"outcome": outcome.value},
        )
    return CreditResult(outcome, deposit, report.score, report.reference, view)


def setup_payment(
    uows: UowFactory,
    *,
    actor: Actor,
    order_id: int,
    gateway: PaymentGateway,
    token: str,
    autopay: bool = True,
    currency: str = "USD",
) -> OrderView:
    """Attach a payment method by its gateway token (never a card number); the gateway
    verifies the card, and any deposit the credit check asked for is charged."""
    actor.require(Permission.ORDERS_WRITE)
    _open_install(uows, order_id)
    if not token or len(token) > 120 or any(ch.isspace() for ch in token):
        raise InvalidInput("a payment token from the gateway is required", field="token")
    if token.replace(" ", "").isdigit():
        raise InvalidInput(
            "that looks like a card number: fiberdesk takes the gateway's token, never the number",
            field="token",
        )
    with uows(write=False) as uow:
        order = get_order(uow.session, order_id)
        deposit = Decimal(order.details.get("deposit", "0"))
    try:
        card = gateway.verify(token=token)
        charge = (
            gateway.charge(
                token=token, amount=deposit, currency=currency, key=f"deposit-order-{order_id}"
            )
            if deposit > 0
            else None
        )
    except PaymentDeclined as exc:
        raise refuse(
            uows,
            order_id=order_id,
            step="payment",
            actor=actor,
            reason=f"the card was declined: {exc.message}",
            decline_code=exc.code,
        ) from None
    except PaymentError as exc:
        raise refuse(
            uows,
            order_id=order_id,
            step="payment",
            actor=actor,
            reason=f"the payment processor failed ({exc}); try again",
        ) from None
    with uows() as uow:
        order = get_order(uow.session, order_id, for_update=True)
        existing = uow.session.scalar(
            sa.select(PaymentMethod).where(PaymentMethod.token == card.token)
        )
        method = existing or PaymentMethod(
            customer_id=order.customer_id,
            gateway=gateway.name,
            token=card.token,
            brand=card.brand,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            autopay=autopay,
        )
        uow.session.add(method)
        check_off(
            order, "payment", f"{card.brand} …{card.last4}" + (", autopay" if autopay else "")
        )
        if charge is not None:
            order.details = {**order.details, "deposit_charge": charge.id}
        record_step(
            order,
            step="payment",
            outcome="done",
            actor=actor,
            detail=f"{card.brand} …{card.last4}"
            + (f"; deposit {deposit} charged ({charge.id})" if charge else ""),
        )
        uow.session.flush()
        audit.record(
            uow.session,
            actor=actor,
            action="payment_method.add",
            entity_type="customer",
            entity_id=order.customer_id,
            after=audit.snapshot(method, exclude=frozenset({"token"})),
        )
        view = order_view(uow.session, order)
        uow.commit()
    return view


def accept_contract(
    uows: UowFactory,
    *,
    actor: Actor,
    order_id: int,
    accepted_name: str,
    channel: str,
    now: datetime | None = None,
) -> OrderView:
    """Record the customer's acceptance of the contract terms of their quote."""
    actor.require(Permission.ORDERS_WRITE)
    _open_install(uows, order_id)
    if channel not in ("console", "phone", "web", "agent"):
        raise InvalidInput("channel is one of console, phone, web, agent", field="channel")
    now = now or utcnow()
    with uows() as uow:
        session = uow.session
        order = get_order(session, order_id, for_update=True)
        customer = get_customer(session, order.customer_id)
        if " ".join(accepted_name.split()).casefold() != customer.name.casefold():
            raise InvalidInput(
                f"the name accepting must be the account holder's ({customer.name})",
                field="accepted_name",
            )
        quote = session.scalar(
            sa.select(Quote).where(Quote.reference == order.details.get("quote"))
        )
        term = session.scalar(
            sa.select(ContractTermRow).where(ContractTermRow.code == order.details.get("term"))
        )
        if quote is None or term is None:
            raise Refused("the order has no quote or term to contract on")
        contract = Contract(
            customer_id=customer.id,
            term_code=term.code,
            months=term.months,
            terms_version=term.terms_version,
            monthly_price=quote.monthly_total,
            early_termination_fee=term.early_termination_fee,
            accepted_name=customer.name,
            accepted_at=now,
            channel=channel,
        )
        session.add(contract)
        check_off(order, "contract", f"{term.name}, terms {term.terms_version}")
        record_step(
            order,
            step="contract",
            outcome="done",
            actor=actor,
            at=now,
            detail=f"{term.name} accepted by {customer.name} ({channel})",
        )
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="contract.accept",
            entity_type="customer",
            entity_id=customer.id,
            after=audit.snapshot(contract),
        )
        view = order_view(session, order)
        uow.commit()
    return view
