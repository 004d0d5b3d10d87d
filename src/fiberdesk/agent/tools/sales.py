"""From "is fiber available here?" to an order ready to schedule (the sign-up)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from fiberdesk.agent.registry import Args, Call, ToolSpec, tool
from fiberdesk.agent.tools.common import OrderId, order_owner, plain
from fiberdesk.domain.qualification import QuoteStatus
from fiberdesk.domain.users import Permission
from fiberdesk.services import orders, quotes, signup
from fiberdesk.services.qualification import (
    qualification_payload,
    qualify_address,
    qualify_premises,
)

P = Permission


class AvailabilityArgs(Args):
    address: str | None = Field(
        None,
        min_length=5,
        max_length=300,
        description="the address as the customer says it, e.g. '1901 Old Court Rd, Towson MD'",
    )
    premises_id: int | None = Field(None, ge=1, description="a premises id from a match")

    @model_validator(mode="after")
    def _one(self) -> AvailabilityArgs:
        if (self.address is None) == (self.premises_id is None):
            raise ValueError("give exactly one of address or premises_id")
        return self


def check_availability(call: Call, args: AvailabilityArgs) -> dict[str, Any]:
    app = call.app
    with app.uow(write=False) as uow:
        if args.address is not None:
            q = qualify_address(uow, actor=call.actor, address=args.address, rules=app.rules)
            return qualification_payload(q, query=args.address)
        assert args.premises_id is not None
        q = qualify_premises(uow, actor=call.actor, premises_id=args.premises_id, rules=app.rules)
        return qualification_payload(q)


class QuoteArgs(Args):
    premises_id: int = Field(ge=1, description="the premises from check_availability")
    plan: str = Field(min_length=2, max_length=24, description="a tier code, e.g. PLUS")
    term: str = Field("M2M", min_length=1, max_length=16, description="M2M, 12M or 24M")
    promotion: str | None = Field(None, max_length=24, description="a promotion code")
    contact_name: str | None = Field(None, max_length=120)
    contact_email: str | None = Field(None, max_length=254, description="sends the quote")
    contact_phone: str | None = Field(None, max_length=40)


def create_quote(call: Call, args: QuoteArgs) -> dict[str, Any]:
    with call.app.uow() as uow:
        view = quotes.create_quote(
            uow,
            actor=call.actor,
            premises_id=args.premises_id,
            plan_code=args.plan,
            term_code=args.term,
            promotion_code=args.promotion,
            contact_name=args.contact_name,
            contact_email=args.contact_email,
            contact_phone=args.contact_phone,
            settings=call.app.quote_settings,
        )
    return {"quote": plain(view)}


class OrderArgs(Args):
    quote: str = Field(min_length=3, max_length=12, description="the quote's reference")
    name: str = Field(min_length=2, max_length=120, description="the account holder's name")
    email: str = Field(max_length=254)
    phone: str = Field(max_length=40)
    unit: str | None = Field(None, max_length=16, description="apartment or suite")
    access_notes: str | None = Field(None, max_length=1000, description="gate code, pets…")
    port: int | None = Field(None, ge=1, le=16, description="a particular NAP port, if wanted")


def create_order(call: Call, args: OrderArgs) -> dict[str, Any]:
    app = call.app
    with app.uow(write=False) as uow:
        quote = quotes.get_quote(uow, actor=call.actor, reference=args.quote)
    if quote.status is QuoteStatus.OPEN:  # accepting holds the NAP port for the order
        with app.uow() as uow:
            quotes.accept_quote(
                uow,
                actor=call.actor,
                reference=args.quote,
                port_number=args.port,
                settings=app.quote_settings,
            )
    with app.uow() as uow:
        view = orders.create_order(
            uow,
            actor=call.actor,
            quote_reference=args.quote,
            name=args.name,
            email=args.email,
            phone=args.phone,
            unit=args.unit,
            access_notes=args.access_notes,
        )
    return {
        "order": plain(view),
        "next": "Verify the new customer's identity with send_identity_code and "
        "verify_identity (give this order_id), then credit_check, add_payment_method and "
        "accept_contract; then find_installation_windows.",
    }


class GetOrderArgs(Args):
    order_id: OrderId


def get_order(call: Call, args: GetOrderArgs) -> dict[str, Any]:
    with call.app.uow(write=False) as uow:
        return {"order": plain(orders.show_order(uow, actor=call.actor, order_id=args.order_id))}


class CreditArgs(Args):
    order_id: OrderId
    date_of_birth: date = Field(description="the account holder's, YYYY-MM-DD")
    ssn_last4: str | None = Field(None, pattern=r"^\d{4}$", description="last four SSN digits")


def credit_check(call: Call, args: CreditArgs) -> dict[str, Any]:
    app = call.app
    result = signup.credit_check(
        app.uow,
        actor=call.actor,
        order_id=args.order_id,
        bureau=app.bureau,
        policy=app.credit_policy,
        date_of_birth=args.date_of_birth,
        ssn_last4=args.ssn_last4,
    )
    return {
        "outcome": result.outcome.value,
        "deposit": result.deposit,
        "reference": result.reference,
        "order": plain(result.order),
    }


class PaymentArgs(Args):
    order_id: OrderId
    payment_token: Annotated[
        str,
        Field(
            min_length=3,
            max_length=120,
            description="the payment processor's token for the customer's card (from the "
            "processor's secure form); never a card number",
        ),
    ]
    autopay: bool = True


def add_payment_method(call: Call, args: PaymentArgs) -> dict[str, Any]:
    app = call.app
    view = signup.setup_payment(
        app.uow,
        actor=call.actor,
        order_id=args.order_id,
        gateway=app.gateway,
        token=args.payment_token,
        autopay=args.autopay,
        currency=app.settings.currency,
    )
    return {"order": plain(view)}


class ContractArgs(Args):
    order_id: OrderId
    accepted_name: str = Field(
        min_length=2, max_length=120, description="the account holder's name, as they say it"
    )
    channel: Literal["phone", "agent"] = Field(
        "agent", description="phone when a person took the acceptance on a call"
    )


def accept_contract(call: Call, args: ContractArgs) -> dict[str, Any]:
    view = signup.accept_contract(
        call.app.uow,
        actor=call.actor,
        order_id=args.order_id,
        accepted_name=args.accepted_name,
        channel=args.channel,
    )
    return {"order": plain(view)}


def _order_owner(call: Call, args: CreditArgs | PaymentArgs | ContractArgs) -> int:
    return order_owner(call, args.order_id)


TOOLS: list[ToolSpec[Any]] = [
    tool(
        "check_availability",
        title="Check availability",
        description="""Is fiber available at an address? Matches the address to a premises
        (typos and units allowed; unclear addresses return candidates), then decides:
        SERVICEABLE, SITE_SURVEY, NOT_SERVICEABLE or ALREADY_SERVED, with the reasons, the
        NAP and port that would be used, the predicted signal, and the tiers on offer with
        prices. Give an address or a premises_id.""",
        args=AvailabilityArgs,
        permission=P.CUSTOMERS_READ,
        handler=check_availability,
        read_only=True,
    ),
    tool(
        "create_quote",
        title="Quote a tier",
        description="""Price a tier at a serviceable premises: monthly and one-time totals
        with tax, term and promotion; refused where the address cannot be served or the
        tier is not on offer there. Returns the quote reference for create_order.""",
        args=QuoteArgs,
        permission=P.ORDERS_WRITE,
        handler=create_quote,
    ),
    tool(
        "create_order",
        title="Create an order",
        description="""Turn a quote into a new-installation order and a PENDING customer
        (the quote is accepted first if it is not yet, which holds the NAP port). The
        order's checklist then needs identity, credit, payment and contract before an
        installation can be booked.""",
        args=OrderArgs,
        permission=P.ORDERS_WRITE,
        handler=create_order,
    ),
    tool(
        "get_order",
        title="Get an order",
        description="""One order with its status, checklist, what is still missing before
        scheduling, and every step taken or refused.""",
        args=GetOrderArgs,
        permission=P.CUSTOMERS_READ,
        handler=get_order,
        read_only=True,
    ),
    tool(
        "credit_check",
        title="Credit check",
        description="""Run the sign-up's credit check: approved, approved with a deposit, or
        declined (the order cannot go ahead). Needs the customer's verified identity.""",
        args=CreditArgs,
        permission=P.ORDERS_WRITE,
        handler=credit_check,
        account=_order_owner,
    ),
    tool(
        "add_payment_method",
        title="Add a payment method",
        description="""Attach the card the customer entered in the payment processor's form,
        by its token (fiberdesk never takes card numbers); a deposit the credit check asked
        for is charged. Needs the customer's verified identity.""",
        args=PaymentArgs,
        permission=P.ORDERS_WRITE,
        handler=add_payment_method,
        account=_order_owner,
    ),
    tool(
        "accept_contract",
        title="Accept the contract",
        description="""Record the account holder's acceptance of the contract terms of their
        quote; the name given must be the account holder's. Needs the customer's verified
        identity.""",
        args=ContractArgs,
        permission=P.ORDERS_WRITE,
        handler=accept_contract,
        account=_order_owner,
    ),
]
