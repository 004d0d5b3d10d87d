from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import ApiToken, AuditEntry, User
from fiberdesk.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from fiberdesk.domain.users import SYSTEM_ACTOR, Actor, Channel, Role
from fiberdesk.services import auth


def _user(fd: Fiberdesk, username: str = "carol", role: Role = Role.CSR) -> None:
    with fd.uow() as uow:
        auth.create_user(
            uow,
            actor=SYSTEM_ACTOR,
            username=username,
            full_name="Carol Rep",
            role=role,
            password="a long password",
        )


def test_password_is_hashed_with_argon2_and_checked(fd: Fiberdesk) -> None:
    _user(fd)
    with fd.uow(write=False) as uow:
        stored = uow.session.scalar(sa.select(User.password_hash))
        assert stored is not None and stored.startswith("$argon2id$")
        actor = auth.authenticate(
            uow, username="Carol", password="a long password", channel=Channel.CONSOLE
        )
        assert actor.role is Role.CSR
        with pytest.raises(Unauthorized, match="wrong username or password"):
            auth.authenticate(uow, username="carol", password="wrong one!", channel=Channel.CONSOLE)
        with pytest.raises(Unauthorized, match="wrong username or password"):
            auth.authenticate(
                uow, username="nobody", password="a long password", channel=Channel.CONSOLE
            )


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("X", "a long password", "username"),
        ("ok", "short", "password"),
        ("bad name", "a long password", "username"),
    ],
)
def test_bad_users_are_refused_and_nothing_is_written(
    fd: Fiberdesk, username: str, password: str, field: str
) -> None:
    with fd.uow() as uow, pytest.raises(InvalidInput) as info:
        auth.create_user(
            uow,
            actor=SYSTEM_ACTOR,
            username=username,
            full_name="N",
            role=Role.CSR,
            password=password,
        )
    assert info.value.field == field
    with fd.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count(User.id))) == 0
        assert uow.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_duplicate_user_refused(fd: Fiberdesk) -> None:
    _user(fd)
    with pytest.raises(Conflict):
        _user(fd)


def test_only_admins_create_users(fd: Fiberdesk) -> None:
    csr = Actor(name="carol", role=Role.CSR, channel=Channel.API)
    with fd.uow() as uow, pytest.raises(Forbidden):
        auth.create_user(
            uow,
            actor=csr,
            username="dave",
            full_name="Dave",
            role=Role.ADMIN,
            password="a long password",
        )


def test_token_lifecycle_and_audit(fd: Fiberdesk) -> None:
    _user(fd)
    with fd.uow() as uow:
        issued = auth.create_token(uow, actor=SYSTEM_ACTOR, username="carol", name="crm sync")
    assert issued.secret.startswith("fdk_")
    with fd.uow(write=False) as uow:
        stored = uow.session.scalar(sa.select(ApiToken))
        assert stored is not None
        assert issued.secret not in (stored.token_hash, stored.prefix)
        actor = auth.actor_for_token(uow, secret=issued.secret, channel=Channel.API)
        assert (actor.name, actor.role, actor.token_id) == ("carol", Role.CSR, issued.id)
        for bad in ["", "nope", "fdk_000000000000_x", issued.secret + "x"]:
            with pytest.raises(Unauthorized):
                auth.actor_for_token(uow, secret=bad, channel=Channel.API)
    with fd.uow() as uow:
        auth.revoke_token(uow, actor=SYSTEM_ACTOR, token_id=issued.id)
    with fd.uow(write=False) as uow:
        with pytest.raises(Unauthorized, match="revoked"):
            auth.actor_for_token(uow, secret=issued.secret, channel=Channel.API)
        actions = uow.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["user.create", "token.create", "token.revoke"]
        entries = uow.session.scalars(sa.select(AuditEntry)).all()
        assert all("password_hash" not in (e.after or {}) for e in entries)
        assert all("token_hash" not in (e.after or {}) for e in entries)
    with fd.uow() as uow, pytest.raises(Conflict):
        auth.revoke_token(uow, actor=SYSTEM_ACTOR, token_id=issued.id)
    with fd.uow() as uow, pytest.raises(NotFound):
        auth.revoke_token(uow, actor=SYSTEM_ACTOR, token_id=9999)


def test_expired_token(fd: Fiberdesk) -> None:
    _user(fd)
    with fd.uow() as uow:
        issued = auth.create_token(
            uow, actor=SYSTEM_ACTOR, username="carol", name="short", expires_in_days=1
        )
    with fd.uow() as uow:
        token = uow.session.get(ApiToken, issued.id)
        assert token is not None and token.expires_at is not None
        token.expires_at = token.expires_at - timedelta(days=2)
        uow.commit()
    with fd.uow(write=False) as uow, pytest.raises(Unauthorized, match="expired"):
        auth.actor_for_token(uow, secret=issued.secret, channel=Channel.API)
