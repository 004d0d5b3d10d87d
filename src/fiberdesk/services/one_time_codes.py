"""One-time codes: six digits sent to a customer's phone or e-mail and read back.

A sign-up verifies identity with one on its order (``services.signup``); an existing
customer does before an account change (``services.identity``). Both send and check codes
here. A code is kept only as a keyed hash in ``one_time_codes``; the latest unused code of
the channel counts, until it expires, within ``MAX_ATTEMPTS`` tries.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.models import Customer, OneTimeCode
from fiberdesk.db.unit_of_work import UowFactory
from fiberdesk.domain.users import Actor
from fiberdesk.services import audit, messages

MAX_ATTEMPTS = 5


def keyed_hash(secret_key: str, text: str) -> str:
    """The HMAC-SHA256 of ``text`` under the secret key, in hex: how a code (or a photo
    ID's number) is kept."""
    return hmac.new(secret_key.encode(), text.encode(), hashlib.sha256).hexdigest()


def mask(destination: str) -> str:
    """A phone number or e-mail address with all but its first two and last four hidden."""
    return destination[:2] + "•" * max(0, len(destination) - 6) + destination[-4:]


def destination(customer: Customer, channel: str) -> str | None:
    """Where a code by ``channel`` goes: the phone (sms) or e-mail on record, if any."""
    return customer.phone if channel == "sms" else customer.email


def send(
    session: Session,
    *,
    actor: Actor,
    customer: Customer,
    channel: str,
    to: str,
    secret_key: str,
    ttl_minutes: int,
    now: datetime,
) -> str:
    """Write a new code for the customer, queue the message that carries it to ``to`` and
    audit the sending; returns ``to`` masked. The code itself is only in the message. The
    caller commits."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = OneTimeCode(
        customer_id=customer.id,
        channel=channel,
        destination=to,
        code_hash=keyed_hash(secret_key, code),
        created_at=now,
        expires_at=now + timedelta(minutes=ttl_minutes),
    )
    session.add(row)
    session.flush()
    messages.queue(
        session,
        kind="identity_code",
        key=f"otp{row.id}",
        customer=customer,
        channel=channel,
        context={"code": code, "minutes": ttl_minutes, "customer_name": customer.name},
    )
    masked = mask(to)
    audit.record(
        session,
        actor=actor,
        action="identity.code_sent",
        entity_type="customer",
        entity_id=customer.id,
        after={"channel": channel, "to": masked},
    )
    return masked


def check(
    uows: UowFactory,
    *,
    customer_id: int,
    channel: str,
    code: str,
    secret_key: str,
    now: datetime,
    sent: str = "to this customer",
) -> str | None:
    """None when ``code`` matches the customer's latest unused code of the channel (which
    is then marked used); otherwise the reason. A wrong code counts as an attempt. ``sent``
    ends the reason given when no code was sent ("no sms code was sent to this customer")."""
    with uows() as uow:
        row = uow.session.scalar(
            sa.select(OneTimeCode)
            .where(
                OneTimeCode.customer_id == customer_id,
                OneTimeCode.channel == channel,
                OneTimeCode.used_at.is_(None),
            )
            .order_by(OneTimeCode.id.desc())
            .limit(1)
            .with_for_update()
        )
        if row is None:
            return f"no {channel} code was sent {sent}"
        if row.expires_at <= now:
            return "the code has expired; send a new one"
        if row.attempts >= MAX_ATTEMPTS:
            return "too many wrong codes; send a new one"
        if not hmac.compare_digest(row.code_hash, keyed_hash(secret_key, code)):
            row.attempts += 1
            uow.commit()
            left = MAX_ATTEMPTS - row.attempts
            return f"the code does not match ({left} attempt{'s' if left != 1 else ''} left)"
        row.used_at = now
        uow.commit()
    return None
