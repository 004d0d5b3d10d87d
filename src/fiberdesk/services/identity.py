"""Verifying an existing customer's identity with a one-time code.

A sign-up verifies identity on its order (``services.signup``); a customer who already has
an account proves who they are the same way before an account change: a six-digit code
goes to the phone or e-mail on record, the customer reads it back, and a match is recorded
as an identity verification (``record_verification``, which sign-up's verifications go
through as well). Codes are sent and checked as sign-up's are (``services.one_time_codes``):
the latest unused, unexpired code of the channel counts, within five attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import IdentityVerification
from fiberdesk.db.unit_of_work import UowFactory
from fiberdesk.domain.errors import InvalidInput, Refused
from fiberdesk.domain.signup import IdentityMethod
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit, one_time_codes
from fiberdesk.services.orders import get_customer

CHANNELS = {"sms": IdentityMethod.OTP_SMS, "email": IdentityMethod.OTP_EMAIL}


@dataclass(frozen=True, slots=True)
class Verified:
    customer_id: int
    account_number: str
    method: IdentityMethod
    verified_at: datetime


def record_verification(
    session: Session,
    *,
    actor: Actor,
    customer_id: int,
    method: IdentityMethod,
    at: datetime,
    document_type: str | None = None,
    document_last4: str | None = None,
    document_hash: str | None = None,
) -> IdentityVerification:
    """Record how the customer's identity was verified, and audit it (without a photo ID's
    hash); sign-up's verifications too. The caller commits."""
    row = IdentityVerification(
        customer_id=customer_id,
        method=method,
        verified_by=actor.name,
        channel=actor.channel.value,
        document_type=document_type,
        document_last4=document_last4,
        document_hash=document_hash,
        verified_at=at,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="identity.verify",
        entity_type="customer",
        entity_id=customer_id,
        after=audit.snapshot(row, exclude=frozenset({"document_hash"})),
    )
    return row


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
    with uows() as uow:
        customer = get_customer(uow.session, customer_id)
        to = one_time_codes.destination(customer, channel)
        if not to:
            raise Refused(f"the customer has no {'phone' if channel == 'sms' else 'email'}")
        masked = one_time_codes.send(
            uow.session,
            actor=actor,
            customer=customer,
            channel=channel,
            to=to,
            secret_key=secret_key,
            ttl_minutes=ttl_minutes,
            now=now,
        )
        uow.commit()
    return masked


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
    reason = one_time_codes.check(
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
        record_verification(
            uow.session, actor=actor, customer_id=customer.id, method=method, at=now
        )
        result = Verified(customer.id, customer.account_number, method, now)
        uow.commit()
    return result
