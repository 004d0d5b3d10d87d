"""Verifying who the caller is: a one-time code to the phone or e-mail on record.

This is the only way a customer becomes *verified* in an MCP session, and only the
account-changing tools of that session see it. A sign-up verifies on its order (the
order's identity step is checked off too); an existing customer on their account.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from fiberdesk.agent.registry import Args, Call, ToolSpec, tool
from fiberdesk.agent.tools.common import CustomerId, order_owner
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.signup import IdentityMethod
from fiberdesk.domain.users import Permission
from fiberdesk.services import identity, signup

Channel = Annotated[
    Literal["sms", "email"],
    Field(description="sms to the phone on record, or email to the address on record"),
]
SignupOrder = Annotated[
    int | None,
    Field(
        default=None,
        ge=1,
        description="during a sign-up: the new installation order, whose identity step is "
        "then checked off as well",
    ),
]


def _check_order(call: Call, customer_id: int, order_id: int | None) -> None:
    if order_id is not None and order_owner(call, order_id) != customer_id:
        raise InvalidInput(f"order {order_id} is not customer {customer_id}'s", field="order_id")


class SendArgs(Args):
    customer_id: CustomerId
    channel: Channel = "sms"
    order_id: SignupOrder


def send_identity_code(call: Call, args: SendArgs) -> dict[str, Any]:
    app = call.app
    _check_order(call, args.customer_id, args.order_id)
    if args.order_id is not None:
        sent_to = signup.send_identity_code(
            app.uow,
            actor=call.actor,
            order_id=args.order_id,
            channel=args.channel,
            secret_key=app.settings.secret_key,
            ttl_minutes=app.settings.one_time_code_minutes,
        )
    else:
        sent_to = identity.send_code(
            app.uow,
            actor=call.actor,
            customer_id=args.customer_id,
            channel=args.channel,
            secret_key=app.settings.secret_key,
            ttl_minutes=app.settings.one_time_code_minutes,
        )
    return {
        "sent_to": sent_to,
        "channel": args.channel,
        "valid_minutes": app.settings.one_time_code_minutes,
        "next": "Ask the customer to read the six-digit code back, then call verify_identity "
        "with it. Never read a code out to the caller.",
    }


class VerifyArgs(Args):
    customer_id: CustomerId
    code: Annotated[
        str, Field(pattern=r"^\d{6}$", description="the six digits the customer read back")
    ]
    channel: Channel = "sms"
    order_id: SignupOrder


def verify_identity(call: Call, args: VerifyArgs) -> dict[str, Any]:
    app = call.app
    _check_order(call, args.customer_id, args.order_id)
    method = IdentityMethod.OTP_SMS if args.channel == "sms" else IdentityMethod.OTP_EMAIL
    if args.order_id is not None:
        order = signup.verify_identity(
            app.uow,
            actor=call.actor,
            order_id=args.order_id,
            method=method,
            secret_key=app.settings.secret_key,
            code=args.code,
        )
        customer_id = order.customer_id
    else:
        customer_id = identity.verify_code(
            app.uow,
            actor=call.actor,
            customer_id=args.customer_id,
            channel=args.channel,
            code=args.code,
            secret_key=app.settings.secret_key,
        ).customer_id
    call.session.verify(customer_id)
    return {
        "verified": True,
        "customer_id": customer_id,
        "method": method.value,
        "scope": "this session only: account changes for this customer are now allowed here",
    }


TOOLS: list[ToolSpec[Any]] = [
    tool(
        "send_identity_code",
        title="Send an identity code",
        description="""Start verifying that the caller is the account holder: a six-digit
        code goes by SMS to the phone, or by e-mail to the address, on the customer's
        record (valid for a few minutes). During a sign-up give the order_id as well.""",
        args=SendArgs,
        permission=Permission.CUSTOMERS_READ,
        handler=send_identity_code,
    ),
    tool(
        "verify_identity",
        title="Verify identity",
        description="""Check the code the customer read back. A match verifies the
        customer's identity for the rest of this session: every tool that changes their
        account (orders' sign-up steps, bookings, tier, relocation, suspension,
        disconnection, equipment, activation) refuses until this succeeds. A wrong code is
        refused with the attempts left.""",
        args=VerifyArgs,
        permission=Permission.CUSTOMERS_READ,
        handler=verify_identity,
    ),
]
