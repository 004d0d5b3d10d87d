"""Verifying an existing customer's identity with a one-time code.

A sign-up verifies identity on its order (``services.signup``); a customer who already has
an account proves who they are the same way before an account change: a six-digit code
goes to the phone or e-mail on record, the customer reads it back, and a match is recorded
as an identity verification. Codes share the ``one_time_codes`` table with sign-up: the
latest unused, unexpired code of the channel counts, within five attempts.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import IdentityVerification, OneTimeCode
from fiberdesk.db.unit_of_work import UowFactory
from fiberdesk.domain.errors import InvalidInput, Refused
from fiberdesk.domain.signup import IdentityMethod
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit, messages
from fiberdesk.services.orders import get_customer
from fiberdesk.services.signup import MAX_CODE_ATTEMPTS
from fiberdesk.services.signup import _code_hash as code_hash

CHANNELS = {"sms": IdentityMethod.OTP_SMS, "email": IdentityMethod.OTP_EMAIL}


@dataclass(frozen=True, slots=True)
class Verified:
    customer_id: int
    account_number: str
    method: IdentityMethod
    verified_at: datetime


def mask(destination: str) -> str:
    """A phone number or e-mail address with all but its first two and last four hidden."""
    return destination[:2] + "•" * max(0, len(destination) - 6) + destination[-4:]


def _channel(channel: str) -> IdentityMethod:
    try:
        return CHANNELS[channel]
    except KeyError:
        raise InvalidInput("a code goes by sms or email", field="channel") from None


def send_code(
    uows: UowFactory,
    *,
    actor: Actor,
    customer_id: int,
    channel: str,
    secret_key: str,
    ttl_minutes: int = 10,
    now: datetime | None = None,
) -> str:
    """Send a six-digit code to the customer's phone (sms) or e-mail on record; returns
    where it went, masked. The code itself is only in the queued message."""
    actor.require(Permission.CUSTOMERS_READ)
    _channel(channel)
    now = now or utcnow()
    code = f"{secrets.randbelow(1_000_000):06d}"
    with uows() as uow:
        customer = get_customer(uow.session, customer_id)
        destination = customer.phone if channel == "sms" else customer.email
        if not destination:
            raise Refused(f"the customer has no {'phone' if channel == 'sms' else 'email'}")
        row = OneTimeCode(
            customer_id=customer.id,
            channel=channel,
            destination=destination,
            code_hash=code_hash(secret_key, code),
            created_at=now,
            expires_at=now + timedelta(minutes=ttl_minutes),
        )
        uow.session.add(row)
        uow.session.flush()
        messages.queue(
            uow.session,
            kind="identity_code",
            key=f"otp{row.id}",
            customer=customer,
            channel=channel,
            context={"code": code, "minutes": ttl_minutes, "customer_name": customer.name},
        )
        masked = mask(destination)
        audit.record(
            uow.session,
            actor=actor,
            action="identity.code_sent",
            entity_type="customer",
            entity_id=customer.id,
            after={"channel": channel, "to": masked},
        )
        uow.commit()
    return masked


def _check(
    uows: UowFactory, *, customer_id: int, channel: str, code: str, secret_key: str, now: datetime
) -> str | None:
    """None when the code is right (and marks it used); otherwise the reason."""
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
            return f"no {channel} code was sent to this customer"
        if row.expires_at <= now:
            return "the code has expired; send a new one"
        if row.attempts >= MAX_CODE_ATTEMPTS:
            return "too many wrong codes; send a new one"
        if not hmac.compare_digest(row.code_hash, code_hash(secret_key, code)):
            row.attempts += 1
            uow.commit()
            left = MAX_CODE_ATTEMPTS - row.attempts
            return f"the code does not match ({left} attempt{'s' if left != 1 else ''} left)"
        row.used_at = now
        uow.commit()
    return None


def verify_code(
    uows: UowFactory,
    *,
    actor: Actor,
    customer_id: int,
    channel: str,
    code: str,
    secret_key: str,
    now: datetime | None = None,
) -> Verified:
    """Check the code the customer read back and record the verification; a wrong,
    expired or missing code is refused with the reason (and audited), nothing recorded."""
    actor.require(Permission.CUSTOMERS_READ)
    method = _channel(channel)
    code = code.strip()
    if not (len(code) == 6 and code.isdigit()):
        raise InvalidInput("the six-digit code is required", field="code")
    now = now or utcnow()
    with uows(write=False) as uow:
        get_customer(uow.session, customer_id)
    reason = _check(
        uows, customer_id=customer_id, channel=channel, code=code, secret_key=secret_key, now=now
    )
    if reason is not None:
        with uows() as uow:
            audit.record(
                uow.session,
                actor=actor,
                action="identity.refused",
                entity_type="customer",
                entity_id=customer_id,
                after={"channel": channel, "reason": reason},
            )
            uow.commit()
        raise Refused(reason, field="code")
    with uows() as uow:
        customer = get_customer(uow.session, customer_id)
        row = IdentityVerification(
            customer_id=customer.id,
            method=method,
            verified_by=actor.name,
            channel=actor.channel.value,
            verified_at=now,
        )
        uow.session.add(row)
        uow.session.flush()
        audit.record(
            uow.session,
            actor=actor,
            action="identity.verify",
            entity_type="customer",
            entity_id=customer.id,
            after=audit.snapshot(row, exclude=frozenset({"document_hash"})),
        )
        result = Verified(customer.id, customer.account_number, method, now)
        uow.commit()
    return result
