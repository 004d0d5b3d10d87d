"""Users, passwords (argon2) and API tokens (shown once, stored as SHA-256)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import ApiToken, User
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import Conflict, InvalidInput, NotFound, Unauthorized
from fiberdesk.domain.users import Actor, Channel, Permission, Role
from fiberdesk.services import audit, plant

_hasher = PasswordHasher()
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
TOKEN_PREFIX = "fdk"
MIN_PASSWORD_LENGTH = 10
_SECRETS_EXCLUDED = frozenset({"password_hash", "token_hash"})


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    username: str
    full_name: str
    email: str | None
    role: Role
    active: bool
    created_at: datetime


def _view(user: User) -> UserView:
    return UserView(
        user.id, user.username, user.full_name, user.email, user.role, user.active, user.created_at
    )


def create_user(
    uow: UnitOfWork,
    *,
    actor: Actor,
    username: str,
    full_name: str,
    role: Role,
    password: str,
    email: str | None = None,
) -> UserView:
    actor.require(Permission.ADMIN)
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise InvalidInput(
            "a username is 2 to 64 characters: a letter, then letters, digits, . _ or -",
            field="username",
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    if role is Role.SELF_SERVICE:
        raise InvalidInput("self_service is the public pages' role, not a user's", field="role")
    if not full_name.strip():
        raise InvalidInput("a full name is required", field="full_name")
    session = uow.session
    if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"a user named {username!r} exists already", field="username")
    user = User(
        username=username,
        full_name=full_name.strip(),
        email=email,
        role=role,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        entity_type="user",
        entity_id=user.id,
        after=audit.snapshot(user, exclude=_SECRETS_EXCLUDED),
    )
    uow.commit()
    return _view(user)


def list_users(uow: UnitOfWork) -> list[UserView]:
    return [_view(u) for u in uow.session.scalars(sa.select(User).order_by(User.username))]


def authenticate(uow: UnitOfWork, *, username: str, password: str, channel: Channel) -> Actor:
    """The actor for a username and password; the same error for every kind of failure."""
    user = uow.session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    if user is None or not user.active or not _check_password(user.password_hash, password):
        raise Unauthorized("wrong username or password")
    return Actor(name=user.username, role=user.role, channel=channel, user_id=user.id)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    id: int
    name: str
    username: str
    role: Role
    #: the whole token; this is the only time it is available
    secret: str
    expires_at: datetime | None


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    uow: UnitOfWork,
    *,
    actor: Actor,
    username: str,
    name: str,
    expires_in_days: int | None = None,
) -> IssuedToken:
    """Issue a bearer token for a user: ``fdk_<prefix>_<secret>``, stored only as a hash."""
    actor.require(Permission.ADMIN)
    if not name.strip():
        raise InvalidInput("a token needs a name saying what it is for", field="name")
    if expires_in_days is not None and expires_in_days <= 0:
        raise InvalidInput("expiry must be a positive number of days", field="expires_in_days")
    session = uow.session
    user = session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"no user named {username!r}", field="username")
    prefix = secrets.token_hex(6)
    secret = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken(
        user_id=user.id,
        name=name.strip(),
        prefix=prefix,
        token_hash=_token_hash(secret),
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.create",
        entity_type="api_token",
        entity_id=token.id,
        after=audit.snapshot(token, exclude=_SECRETS_EXCLUDED),
    )
    uow.commit()
    return IssuedToken(token.id, token.name, user.username, user.role, secret, expires_at)


def revoke_token(uow: UnitOfWork, *, actor: Actor, token_id: int) -> None:
    actor.require(Permission.ADMIN)
    token = uow.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token {token_id}")
    if token.revoked_at is not None:
        raise Conflict(f"token {token_id} is revoked already")
    before = audit.snapshot(token, exclude=_SECRETS_EXCLUDED)
    token.revoked_at = utcnow()
    audit.record(
        uow.session,
        actor=actor,
        action="token.revoke",
        entity_type="api_token",
        entity_id=token.id,
        before=before,
        after=audit.snapshot(token, exclude=_SECRETS_EXCLUDED),
    )
    uow.commit()
    forget_cached_tokens()


# -- the bearer-token cache -----------------------------------------------------------------
#
# A token that was accepted is remembered by this process for TOKEN_CACHE_TTL_S, keyed by
# its SHA-256, so that an API request does not look it up in the database every time.
# Revoking a token or deactivating a user through this module empties this process's
# cache at once; another process (another uvicorn worker, or the CLI revoking a token
# while the server runs) keeps accepting a token it has cached for at most
# TOKEN_CACHE_TTL_S. Expiry is checked on every request, cached or not.

#: seconds a process keeps accepting a token without asking the database
TOKEN_CACHE_TTL_S = 30.0
_TOKEN_CACHE_MAX = 10_000


@dataclass(frozen=True, slots=True)
class _CachedToken:
    token_id: int
    user_id: int
    username: str
    role: Role
    expires_at: datetime | None
    cached_at: float


class _TokenCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: bumped by every clear(): a lookup that began before a clear is not stored
        self.generation = 0
        #: per engine (weak): the same secret in two databases is two tokens
        self._by_engine: weakref.WeakKeyDictionary[Engine, dict[str, _CachedToken]]
        self._by_engine = weakref.WeakKeyDictionary()

    def get(self, engine: Engine, digest: str) -> _CachedToken | None:
        tokens = self._by_engine.get(engine)
        entry = tokens.get(digest) if tokens is not None else None
        if entry is None:
            return None
        if plant.clock() - entry.cached_at >= TOKEN_CACHE_TTL_S or (
            entry.expires_at is not None and entry.expires_at <= utcnow()
        ):
            with self._lock:
                if tokens is not None:
                    tokens.pop(digest, None)
            return None
        return entry

    def put(self, engine: Engine, digest: str, entry: _CachedToken, generation: int) -> None:
        with self._lock:
            if generation != self.generation:
                return  # a revocation or deactivation happened meanwhile
            tokens = self._by_engine.setdefault(engine, {})
            if len(tokens) >= _TOKEN_CACHE_MAX:
                tokens.clear()
            tokens[digest] = entry

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._by_engine.clear()


_TOKENS = _TokenCache()


def forget_cached_tokens() -> None:
    """Empty this process's bearer-token cache (after a revocation, a deactivation, or any
    other change to whom a token stands for)."""
    _TOKENS.clear()


# whatever writes tokens or users in this process (the console, the CLI, a direct edit)
plant.on_write({"api_tokens", "users"}, forget_cached_tokens)


def _engine_of(uow: UnitOfWork) -> Engine:
    bind = uow.session.get_bind()
    engine = bind.engine if isinstance(bind, sa.Connection) else bind
    assert isinstance(engine, Engine)
    return engine


def cached_actor(engine: Engine, *, secret: str, channel: Channel) -> Actor | None:
    """The actor for a token this process accepted less than TOKEN_CACHE_TTL_S ago (and
    that has not expired since), without touching the database; None otherwise."""
    entry = _TOKENS.get(engine, _token_hash(secret))
    if entry is None:
        return None
    return Actor(
        name=entry.username,
        role=entry.role,
        channel=channel,
        user_id=entry.user_id,
        token_id=entry.token_id,
    )


def actor_for_token(uow: UnitOfWork, *, secret: str, channel: Channel) -> Actor:
    """The actor a bearer token stands for, or ``Unauthorized``; a token accepted less
    than TOKEN_CACHE_TTL_S ago is answered from this process's cache."""
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise Unauthorized("malformed API token")
    engine = _engine_of(uow)
    cached = cached_actor(engine, secret=secret, channel=channel)
    if cached is not None:
        return cached
    generation = _TOKENS.generation
    row = uow.session.execute(
        sa.select(ApiToken, User).join(User).where(ApiToken.prefix == parts[1])
    ).first()
    if row is None:
        raise Unauthorized("unknown API token")
    token, user = row
    if not hmac.compare_digest(token.token_hash, _token_hash(secret)):
        raise Unauthorized("unknown API token")
    now = utcnow()
    if token.revoked_at is not None:
        raise Unauthorized("this API token was revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthorized("this API token has expired")
    if not user.active:
        raise Unauthorized("the token's user is deactivated")
    _TOKENS.put(
        engine,
        _token_hash(secret),
        _CachedToken(token.id, user.id, user.username, user.role, token.expires_at, plant.clock()),
        generation,
    )
    return Actor(
        name=user.username, role=user.role, channel=channel, user_id=user.id, token_id=token.id
    )


@dataclass(frozen=True, slots=True)
class TokenView:
    id: int
    name: str
    username: str
    role: Role
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


def list_tokens(uow: UnitOfWork, *, actor: Actor) -> list[TokenView]:
    """Every API token (never its secret), newest first."""
    actor.require(Permission.ADMIN)
    rows = uow.session.execute(
        sa.select(ApiToken, User).join(User).order_by(ApiToken.id.desc())
    ).all()
    return [
        TokenView(t.id, t.name, u.username, u.role, t.prefix, t.created_at, t.expires_at,
                  t.revoked_at)
        for t, u in rows
    ]  # fmt: skip


def set_user_active(uow: UnitOfWork, *, actor: Actor, username: str, active: bool) -> UserView:
    """Deactivate a user (their tokens and console sessions stop working at once) or
    reactivate them. Nobody deactivates themselves."""
    actor.require(Permission.ADMIN)
    user = uow.session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"no user named {username!r}", field="username")
    if not active and user.id == actor.user_id:
        raise Conflict("you cannot deactivate yourself", field="username")
    if user.active == active:
        raise Conflict(f"{user.username} is {'active' if active else 'deactivated'} already")
    before = audit.snapshot(user, exclude=_SECRETS_EXCLUDED)
    user.active = active
    audit.record(
        uow.session,
        actor=actor,
        action="user.activate" if active else "user.deactivate",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=audit.snapshot(user, exclude=_SECRETS_EXCLUDED),
    )
    uow.commit()
    forget_cached_tokens()
    return _view(user)
