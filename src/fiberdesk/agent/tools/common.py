"""What the tool modules share: argument types, whose account a call changes, rendering,
and the two calls of a costly change (a preview, then its confirmation)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from fiberdesk.agent.registry import Call
from fiberdesk.db.base import utcnow
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


@dataclass(frozen=True, slots=True)
class Offer:
    """What a costly change's preview shows, and the token that confirms it."""

    shown: dict[str, Any]
    #: the service's own token (an HMAC of what was shown), else a random one
    token: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    #: when the service's token stops being good, if it has an expiry of its own
    expires_at: datetime | None = None


def preview_or_confirm(
    call: Call,
    *,
    customer_id: int,
    facts: str,
    confirm: str | None,
    preview: Callable[[], Offer],
    carry_out: Callable[[str], dict[str, Any]],
) -> dict[str, Any]:
    """A costly change in two calls. Without ``confirm``: ``preview()``, kept in the
    session for this tool, customer and ``facts`` (a ``fingerprint`` of the deciding
    arguments) until the session's preview time or the service's expiry, whichever is
    sooner, and answered as a preview; nothing changes. With ``confirm``: the token must be
    that of such a preview, still current; ``carry_out(confirm)`` makes the change and the
    token is spent."""
    if confirm is None:
        offer = preview()
        expires = utcnow() + call.settings.preview_ttl
        if offer.expires_at is not None:
            expires = min(expires, offer.expires_at)
        call.session.offer(
            tool=call.tool,
            customer_id=customer_id,
            facts=facts,
            token=offer.token,
            expires_at=expires,
        )
        return preview_answer(call.tool, offer.token, expires, **offer.shown)
    call.session.redeem(tool=call.tool, customer_id=customer_id, facts=facts, token=confirm)
    done = carry_out(confirm)
    call.session.spend(confirm)
    return done
