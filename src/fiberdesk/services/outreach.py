"""Messages a member of staff sends a customer by hand, from a template.

Most messages are queued by the action that causes them (a booking, an outage, a
disconnection). This is the other way: a CSR, or an agent working as one, picks a kind
from the catalog and sends it to a customer's own address, through the same outbox. The
caller checks that the context renders with the kind's template (``fiberdesk.messages``);
this service queues it, once per ``key``, and audits it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import InvalidInput, Refused
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit, messages
from fiberdesk.services.orders import get_customer

CHANNELS = ("email", "sms")


@dataclass(frozen=True, slots=True)
class SentMessage:
    id: int
    customer_id: int
    kind: str
    channel: str
    recipient: str


def send_to_customer(
    uow: UnitOfWork,
    *,
    actor: Actor,
    customer_id: int,
    kind: str,
    context: dict[str, Any],
    key: str,
    channel: str = "email",
) -> SentMessage:
    """Queue a ``kind`` message to the customer's e-mail or phone on record; refused when
    the customer has none for the channel. Nothing is sent twice for the same ``key``."""
    actor.require(Permission.CUSTOMERS_WRITE)
    if channel not in CHANNELS:
        raise InvalidInput("a message goes by email or sms", field="channel")
    if not key.strip():
        raise InvalidInput("a message needs a key", field="key")
    session = uow.session
    customer = get_customer(session, customer_id)
    message = messages.queue(
        session, kind=kind, key=key, customer=customer, context=context, channel=channel
    )
    if message is None:
        raise Refused(f"the customer has no {'phone' if channel == 'sms' else 'email'}")
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="message.send",
        entity_type="outbox_message",
        entity_id=message.id,
        after={
            "customer_id": customer.id,
            "kind": kind,
            "channel": channel,
            "recipient": message.recipient,
        },
    )
    sent = SentMessage(message.id, customer.id, kind, channel, message.recipient)
    uow.commit()
    return sent
