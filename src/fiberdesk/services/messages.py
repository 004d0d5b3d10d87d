"""Queueing customer messages in the outbox, in the same transaction as their cause.

Each message names its template (``kind``) and carries the template's fields as its
context; delivery happens afterwards (the outbox worker). The idempotency key makes a
message unique per cause, so a retried action never queues it twice.

Queueing a lifecycle message also emits the webhook event of the same name (``quote``,
``ticket_opened``, ``outage_notification``...) to the endpoints subscribed to it, in the
same transaction and keyed by the same cause (``services.webhooks.emit_many``); its payload
carries ids and statuses only (``event_payload``). Whether a message is essential is not the
caller's business: the outbox worker reads it from the catalog (``preferences.is_essential``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.models import Customer, OutboxMessage
from fiberdesk.services import webhooks

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

#: idempotency keys looked up per statement by ``queue_many``
_CHUNK = 5000

#: kinds that are no lifecycle event, so no webhook event: a one-time code, the staff's alert
NOT_EVENTS = frozenset({"identity_code", "kpi_alert"})
#: context fields an event's payload takes: ``status`` and identifiers ending so (but the
#: operator's support phone number, which is branding)
_ID_SUFFIXES = ("_id", "_number", "_reference")
_NOT_IDS = frozenset({"support_number"})


def event_payload(
    customer: Customer | None, context: Mapping[str, Any]
) -> dict[str, str | int | None]:
    """A lifecycle event's data: the customer's id, account number and service status, and
    the ids and statuses in the message's context (``ticket_number``, ``order_number``,
    ``quote_reference``, ``outage_id``, ``status``...). Never names, addresses, amounts,
    codes or links: those stay in the message."""
    data: dict[str, str | int | None] = {}
    if customer is not None:
        data["customer_id"] = customer.id
        data["account_number"] = customer.account_number
        data["customer_status"] = customer.status.value if customer.status else None
    for name, value in context.items():
        wanted = name == "status" or (name.endswith(_ID_SUFFIXES) and name not in _NOT_IDS)
        if wanted and isinstance(value, str | int) and not isinstance(value, bool):
            data.setdefault(name, value)
    return data


def _emit(
    session: Session, items: Sequence[tuple[str, str, Customer | None, Mapping[str, Any]]]
) -> None:
    """The webhook events of lifecycle messages ``(kind, key, customer, context)``."""
    events = [
        (kind, dict(event_payload(customer, context)), key)
        for kind, key, customer, context in items
        if kind not in NOT_EVENTS
    ]
    webhooks.emit_many(session, events)


def _recipient(customer: Customer | None, channel: str, recipient: str | None) -> str | None:
    """The address given, else the customer's for the channel (e-mail, else phone)."""
    return recipient or (
        (customer.email if channel == "email" else customer.phone) if customer else None
    )


def _idempotency_key(kind: str, key: str, channel: str) -> str:
    return f"{kind}:{key}:{channel}"


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
    there is nobody to send it to). The kind's webhook event is emitted either way."""
    _emit(session, [(kind, key, customer, context)])
    to = _recipient(customer, channel, recipient)
    if not to:
        return None
    idempotency_key = _idempotency_key(kind, key, channel)
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


@dataclass(frozen=True, slots=True)
class NewMessage:
    """One message for ``queue_many``: ``queue``'s arguments."""

    kind: str
    key: str
    customer: Customer | None
    context: dict[str, Any]
    channel: str = "email"
    recipient: str | None = None


def queue_many(session: Session, messages: Sequence[NewMessage]) -> list[str | None]:
    """``queue`` for many messages at once: the same rows with the same idempotency keys, but
    one lookup of the keys already queued (per 5000 keys) and one insert, not a round trip
    per message. A key given twice is queued once, with its first message, as ``queue``
    would do. Returns each message's idempotency key, or None where there is nobody to send
    it to."""
    _emit(session, [(m.kind, m.key, m.customer, m.context) for m in messages])
    keys: list[str | None] = []
    wanted: dict[str, dict[str, Any]] = {}
    for m in messages:
        to = _recipient(m.customer, m.channel, m.recipient)
        if not to:
            keys.append(None)
            continue
        idempotency_key = _idempotency_key(m.kind, m.key, m.channel)
        keys.append(idempotency_key)
        wanted.setdefault(
            idempotency_key,
            {
                "kind": m.kind,
                "channel": m.channel,
                "customer_id": m.customer.id if m.customer else None,
                "recipient": to,
                "context": m.context,
                "idempotency_key": idempotency_key,
            },
        )
    ordered = sorted(wanted)
    queued: set[str] = set()
    for start in range(0, len(ordered), _CHUNK):
        queued.update(
            session.scalars(
                sa.select(OutboxMessage.idempotency_key).where(
                    OutboxMessage.idempotency_key.in_(ordered[start : start + _CHUNK])
                )
            )
        )
    rows = [row for k, row in wanted.items() if k not in queued]
    if rows:  # one executemany (batched by the driver), not a flush of one object per row
        session.execute(sa.insert(OutboxMessage), rows)
    return keys
