"""A customer's message preferences: which channel for each kind of message, or none.

A preference names a message kind (a template name) or ``"*"`` for every kind; the kind's
own preference wins over ``"*"``. The channel is ``email``, ``sms`` or ``none`` (opted
out). Essential messages (outages and restorations, suspensions, the disconnection
confirmation with the final bill, identity codes) ignore an opt-out and go out on the
channel they were queued for; a ``none`` preference for an essential kind itself is
refused. The outbox worker applies the preferences when it delivers (``services.outbox``),
so a change takes effect for messages already queued.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import Customer, MessagePreference
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import InvalidInput, NotFound
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit, messages

CHANNELS = ("email", "sms", "none")
ANY_KIND = "*"

#: the message kinds the application queues (the template names); the message catalog's
#: customer kinds are added to these when it is installed (``known_kinds``)
KNOWN_KINDS = frozenset(
    {
        "quote",
        "order_confirmation",
        "installation_confirmation",
        "appointment_reminder",
        "technician_on_the_way",
        "welcome",
        "identity_code",
        "ticket_opened",
        "ticket_updated",
        "ticket_resolved",
        "payment_reminder",
        "suspension_notice",
        "resume_notice",
        "disconnection_confirmation",
        "equipment_return_reminder",
        "outage_notification",
        "restoration_notice",
        "planned_maintenance",
        "satisfaction_survey",
    }
)

#: kinds that go out whatever the customer chose: outages and restorations, suspensions, the
#: final bill (it is part of the disconnection confirmation), identity codes; the message
#: catalog's essential kinds are added to these (``is_essential``)
ESSENTIAL_KINDS = messages.ESSENTIAL_KINDS


@lru_cache(maxsize=1)
def _catalog() -> dict[str, tuple[bool, str]]:
    """``{kind: (essential, audience)}`` from the message catalog, if it is installed."""
    try:
        catalog: Any = importlib.import_module("fiberdesk.messages.catalog")
    except ImportError:
        return {}
    return {name: (k.essential, k.audience) for name, k in catalog.CATALOG.items()}


def known_kinds() -> frozenset[str]:
    customer = {name for name, (_, audience) in _catalog().items() if audience == "customer"}
    return KNOWN_KINDS | customer


def is_essential(kind: str) -> bool:
    return kind in ESSENTIAL_KINDS or _catalog().get(kind, (False, ""))[0]


def channel_for(prefs: dict[str, str], kind: str) -> str | None:
    """The channel a customer chose for ``kind`` (its own preference, else ``"*"``)."""
    return prefs.get(kind) or prefs.get(ANY_KIND)


def load(session: Session, customer_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Every preference of the given customers: ``{customer_id: {kind: channel}}``."""
    ids = sorted(set(customer_ids))
    found: dict[int, dict[str, str]] = {i: {} for i in ids}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            sa.select(
                MessagePreference.customer_id, MessagePreference.kind, MessagePreference.channel
            ).where(MessagePreference.customer_id.in_(ids[start : start + 500]))
        )
        for customer_id, kind, channel in rows:
            found[customer_id][kind] = channel
    return found


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer


def get_preferences(uow: UnitOfWork, *, actor: Actor, customer_id: int) -> dict[str, str]:
    """``{kind: channel}``; kinds without a preference are absent (they use the default)."""
    actor.require(Permission.CUSTOMERS_READ)
    _customer(uow.session, customer_id)
    return load(uow.session, [customer_id])[customer_id]


def _check(kind: str, channel: str) -> tuple[str, str]:
    kind = kind.strip().lower()
    channel = channel.strip().lower()
    if kind != ANY_KIND and kind not in known_kinds():
        raise InvalidInput(
            f"unknown message kind {kind!r}: use '*' or one of {', '.join(sorted(known_kinds()))}",
            field="kind",
        )
    if channel not in CHANNELS:
        raise InvalidInput(
            f"unknown channel {channel!r}: use {', '.join(CHANNELS)}", field="channel"
        )
    if channel == "none" and is_essential(kind):
        raise InvalidInput(
            f"{kind} messages are essential and always sent; they cannot be turned off "
            "(choose email or sms)",
            field="channel",
        )
    return kind, channel


def set_preference(
    uow: UnitOfWork, *, actor: Actor, customer_id: int, kind: str, channel: str
) -> dict[str, str]:
    """Choose ``channel`` for ``kind`` (or ``"*"``); returns every preference after it."""
    actor.require(Permission.CUSTOMERS_WRITE)
    kind, channel = _check(kind, channel)
    s = uow.session
    customer = _customer(s, customer_id)
    if channel == "email" and not customer.email:
        raise InvalidInput("the customer has no e-mail address on file", field="channel")
    if channel == "sms" and not customer.phone:
        raise InvalidInput("the customer has no phone number on file", field="channel")
    row = s.scalar(
        sa.select(MessagePreference).where(
            MessagePreference.customer_id == customer_id, MessagePreference.kind == kind
        )
    )
    before = None if row is None else {"kind": kind, "channel": row.channel}
    if row is None:
        s.add(MessagePreference(customer_id=customer_id, kind=kind, channel=channel))
    else:
        row.channel = channel
        row.updated_at = utcnow()
    audit.record(
        s,
        actor=actor,
        action="message_preference.set",
        entity_type="customer",
        entity_id=customer_id,
        before=before,
        after={"kind": kind, "channel": channel},
    )
    s.flush()
    result = load(s, [customer_id])[customer_id]
    uow.commit()
    return result


def clear_preference(
    uow: UnitOfWork, *, actor: Actor, customer_id: int, kind: str
) -> dict[str, str]:
    """Forget the preference for ``kind`` (back to the default); returns the rest."""
    actor.require(Permission.CUSTOMERS_WRITE)
    kind, _ = _check(kind, "email")
    s = uow.session
    _customer(s, customer_id)
    row = s.scalar(
        sa.select(MessagePreference).where(
            MessagePreference.customer_id == customer_id, MessagePreference.kind == kind
        )
    )
    if row is None:
        raise NotFound(f"customer {customer_id} has no preference for {kind!r}")
    audit.record(
        s,
        actor=actor,
        action="message_preference.clear",
        entity_type="customer",
        entity_id=customer_id,
        before={"kind": kind, "channel": row.channel},
    )
    s.delete(row)
    s.flush()
    result = load(s, [customer_id])[customer_id]
    uow.commit()
    return result


def resolve(
    prefs: dict[str, str],
    *,
    kind: str,
    channel: str,
    recipient: str,
    essential: bool,
    email: str | None,
    phone: str | None,
) -> tuple[str, str] | None:
    """Where a message queued for ``channel``/``recipient`` goes after the customer's
    preferences: ``(channel, address)``, or None when they opted out of a non-essential
    kind. A preferred channel the customer has no address for keeps the queued one."""
    chosen = channel_for(prefs, kind)
    if chosen == "none":
        return (channel, recipient) if essential else None
    if chosen == "sms" and phone and channel != "sms":
        return "sms", phone
    if chosen == "email" and email and channel != "email":
        return "email", email
    return channel, recipient
