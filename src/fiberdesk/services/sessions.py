"""Console sign-in: server-side sessions behind a random cookie, each with its CSRF token.

The cookie carries a random secret; the database keeps only its SHA-256, so a copy of the
database signs nobody in. A session ends on sign-out, after ``idle`` without a request, or
``max_age`` after sign-in, whichever comes first; signing out or deactivating the user
ends it at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import ConsoleSession, User
from fiberdesk.db.unit_of_work import UnitOfWork, UowFactory
from fiberdesk.domain.errors import Unauthorized
from fiberdesk.domain.users import Actor, Channel
from fiberdesk.services import audit, auth

#: how often ``last_seen_at`` is written: not on every request
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=120)
    max_age: timedelta = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class StartedSession:
    #: the cookie's value; this is the only time it is available
    secret: str
    csrf_token: str
    actor: Actor
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live session: who it is and the CSRF token its forms must carry."""

    session_id: int
    actor: Actor
    full_name: str
    csrf_token: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sign_in(
    uow: UnitOfWork, *, username: str, password: str, policy: SessionPolicy
) -> StartedSession:
    """Check the password and open a session; ``Unauthorized`` with one message for any
    failure, so the page does not tell which part was wrong."""
    actor = auth.authenticate(uow, username=username, password=password, channel=Channel.CONSOLE)
    now = utcnow()
    secret = secrets.token_urlsafe(32)
    row = ConsoleSession(
        user_id=actor.user_id,
        token_hash=_hash(secret),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.max_age,
    )
    uow.session.add(row)
    uow.session.flush()
    audit.record(
        uow.session,
        actor=actor,
        action="session.sign_in",
        entity_type="console_session",
        entity_id=row.id,
    )
    uow.commit()
    return StartedSession(secret, row.csrf_token, actor, row.expires_at)


def _live(uow: UnitOfWork, secret: str, policy: SessionPolicy) -> tuple[ConsoleSession, User]:
    found = uow.session.execute(
        sa.select(ConsoleSession, User)
        .join(User, User.id == ConsoleSession.user_id)
        .where(ConsoleSession.token_hash == _hash(secret))
    ).first()
    if found is None:
        raise Unauthorized("please sign in")
    row, user = found[0], found[1]
    now = utcnow()
    if row.ended_at is not None or not user.active:
        raise Unauthorized("you have been signed out; please sign in again")
    if now >= row.expires_at or now - row.last_seen_at >= policy.idle:
        raise Unauthorized("your session has expired; please sign in again")
    return row, user


def current(uows: UowFactory, *, secret: str, policy: SessionPolicy) -> SignedIn:
    """The signed-in user of a cookie, or ``Unauthorized``. Marks the session as used (at
    most once a minute, in its own short write), which keeps it from going idle."""
    with uows(write=False) as uow:
        row, user = _live(uow, secret, policy)
        session_id, last_seen, csrf = row.id, row.last_seen_at, row.csrf_token
        actor = Actor(user.username, user.role, Channel.CONSOLE, user_id=user.id)
        full_name = user.full_name
    now = utcnow()
    if now - last_seen >= _TOUCH_EVERY:
        with uows(write=True) as uow:
            uow.session.execute(
                sa.update(ConsoleSession)
                .where(ConsoleSession.id == session_id)
                .values(last_seen_at=now)
            )
            uow.commit()
    return SignedIn(session_id, actor, full_name, csrf)


def sign_out(uow: UnitOfWork, *, secret: str) -> bool:
    """End the cookie's session; False when there was none to end."""
    row = uow.session.scalar(
        sa.select(ConsoleSession).where(ConsoleSession.token_hash == _hash(secret))
    )
    if row is None or row.ended_at is not None:
        return False
    user = uow.session.get(User, row.user_id)
    row.ended_at = utcnow()
    if user is not None:
        actor = Actor(user.username, user.role, Channel.CONSOLE, user_id=user.id)
        audit.record(
            uow.session,
            actor=actor,
            action="session.sign_out",
            entity_type="console_session",
            entity_id=row.id,
        )
    uow.commit()
    return True
