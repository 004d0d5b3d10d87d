"""Idempotency records: the first answer to a create request sent with a key.

A key is claimed before the work starts (one row per actor and key, unique), so two
concurrent retries cannot both create; the answer is stored when the work succeeds, and
the claim is dropped when it fails so that a corrected retry can go ahead.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from fiberdesk.db.models import IdempotencyRecord
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import Conflict, InvalidInput
from fiberdesk.domain.users import Actor

IN_PROGRESS = 0
MAX_KEY_LENGTH = 200


def request_digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status_code: int
    body: dict[str, Any]


def claim(uow: UnitOfWork, *, actor: Actor, key: str, digest: str) -> StoredAnswer | None:
    """Claim ``key`` for this request; if it was used before, the stored answer instead."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters", field="Idempotency-Key"
        )
    try:
        uow.session.add(
            IdempotencyRecord(
                actor=actor.name, key=key, request_hash=digest, status_code=IN_PROGRESS, body={}
            )
        )
        uow.commit()
        return None
    except IntegrityError:
        uow.session.rollback()
    record = uow.session.scalar(
        sa.select(IdempotencyRecord).where(
            IdempotencyRecord.actor == actor.name, IdempotencyRecord.key == key
        )
    )
    if record is None:
        raise Conflict("this Idempotency-Key was just released; retry")
    if record.request_hash != digest:
        raise InvalidInput(
            "this Idempotency-Key was used for a different request", field="Idempotency-Key"
        )
    if record.status_code == IN_PROGRESS:
        raise Conflict("a request with this Idempotency-Key is still in progress")
    return StoredAnswer(record.status_code, record.body)


def complete(
    uow: UnitOfWork, *, actor: Actor, key: str, status_code: int, body: dict[str, Any]
) -> None:
    uow.session.execute(
        sa.update(IdempotencyRecord)
        .where(IdempotencyRecord.actor == actor.name, IdempotencyRecord.key == key)
        .values(status_code=status_code, body=body)
    )
    uow.commit()


def release(uow: UnitOfWork, *, actor: Actor, key: str) -> None:
    uow.session.execute(
        sa.delete(IdempotencyRecord).where(
            IdempotencyRecord.actor == actor.name, IdempotencyRecord.key == key
        )
    )
    uow.commit()
