"""Queueing customer messages in the outbox, in the same transaction as their cause.

Each message names its template (``kind``) and carries the template's fields as its
context; delivery happens afterwards (the outbox worker). The idempotency key makes a
message unique per cause, so a retried action never queues it twice.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.models import Customer, OutboxMessage

#: messages that go out whatever the customer's preferences say
ESSENTIAL_KINDS = frozenset(
    {
        "outage_notification",
        "restoration_notice",
        "suspension_notice",
        "disconnection_confirmation",
        "identity_code",
    }
)


def queue(
    session: Session,
    *,
    kind: str,
    key: str,
    customer: Customer | None,
    context: dict[str, Any],
    channel: str = "email",
    recipient: str | None = None,
) -> OutboxMessage | None:
    """Queue one message unless one with the same key exists; returns it (or None when
    there is nobody to send it to)."""
    to = recipient or (
        (customer.email if channel == "email" else customer.phone) if customer else None
    )
    if not to:
        return None
    idempotency_key = f"{kind}:{key}:{channel}"
    existing = session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
    )
    if existing is not None:
        return existing
    message = OutboxMessage(
        kind=kind,
        channel=channel,
        customer_id=customer.id if customer else None,
        recipient=to,
        context=context,
        idempotency_key=idempotency_key,
    )
    session.add(message)
    return message
