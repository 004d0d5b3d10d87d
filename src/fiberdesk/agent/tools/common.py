"""What the tool modules share: argument types, whose account a call changes, rendering."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Annotated, Any

from pydantic import Field

from fiberdesk.agent.registry import Call
from fiberdesk.domain.users import Permission
from fiberdesk.services import accounts

CustomerId = Annotated[int, Field(ge=1, description="the customer's id (from find_customer)")]
OrderId = Annotated[int, Field(ge=1, description="the service order's id")]
Confirm = Annotated[
    str | None,
    Field(
        default=None,
        min_length=8,
        max_length=80,
        description="leave out to get a preview (nothing changes); to carry the change out, "
        "give the token of the preview made in this session with the same arguments",
    ),
]


def order_owner(call: Call, order_id: int) -> int:
    """The customer whose order this is (``NotFound`` for an unknown order)."""
    with call.app.uow(write=False) as uow:
        return accounts.order_customer(uow, actor=call.actor, order_id=order_id)


def appointment_owner(call: Call, appointment_id: int) -> int:
    with call.app.uow(write=False) as uow:
        return accounts.appointment_customer(uow, actor=call.actor, appointment_id=appointment_id)


def plain(value: object) -> Any:
    """A service's view as a dict (dataclasses), or the value itself."""
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return value


def without_billing(call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """Balance and standing are billing's: left out for roles that may not read billing."""
    if call.actor.can(Permission.BILLING_READ):
        return data
    return {
        **{k: v for k, v in data.items() if k not in ("balance", "standing")},
        "billing": "not shown: this role may not read billing",
    }


def preview_answer(tool: str, token: str, until: object, /, **shown: Any) -> dict[str, Any]:
    """The answer to a costly action called without ``confirm``: what it would do."""
    return {
        "done": False,
        "preview": shown,
        "confirm": token,
        "confirm_expires_at": until,
        "next": f"Nothing has changed. Tell the customer exactly what this preview says; only "
        f"if they agree, call {tool} again with the same arguments and confirm set to the "
        "token above.",
    }
