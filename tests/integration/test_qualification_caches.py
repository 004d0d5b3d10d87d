"""The per-process caches behind qualification: the passive plant and bearer tokens.

Both are reloaded at once when this process writes what they hold. When another process
does (simulated here by writing through the driver's own connection, which SQLAlchemy
does not see, and by moving the caches' clock), the plant is reloaded after its change
counter moved, within ``plant.CHECK_S``, and tokens after 30 s.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pydantic_core import to_json

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import ApiToken, Nap, NapPort, Plan
from fiberdesk.domain.errors import InvalidInput, Unauthorized
from fiberdesk.domain.network import NapPortStatus
from fiberdesk.domain.qualification import Decision, QualificationRules
from fiberdesk.domain.users import SYSTEM_ACTOR, Channel, Role
from fiberdesk.services import auth, plant
from fiberdesk.services.qualification import (
    Qualification,
    qualification_payload,
    qualify_address,
    qualify_premises,
)
from fiberdesk.web.api.qualification import QualificationOut
from fiberdesk.web.app import create_app
from tests.factories import QualificationWorld, make_qualification_world

RULES = QualificationRules()


class Clock:
    """Stands in for ``plant.clock`` (the clock of both caches)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(plant, "clock", c)
    return c


@pytest.fixture
def world(fd: Fiberdesk) -> QualificationWorld:
    return make_qualification_world(fd)


def _q(fd: Fiberdesk, world: QualificationWorld, key: str = "serviceable") -> Qualification:
    with fd.uow(write=False) as uow:
        return qualify_premises(
            uow, actor=SYSTEM_ACTOR, premises_id=world.premises[key], rules=RULES
        )


def _behind_sqlalchemys_back(fd: Fiberdesk, sql: str, params: tuple[Any, ...]) -> None:
    """Write as another process would: SQLAlchemy's events do not see it."""
    raw = fd.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if fd.engine.dialect.name == "postgresql":
            sql = sql.replace("?", "%s")
        cursor.execute(sql, params)
        raw.commit()
    finally:
        raw.close()


def _price(q: Qualification, code: str = "BASIC") -> Decimal:
    return next(t.monthly_price for t in q.tiers if t.code == code)


# -- which statements count as writes to the plant -----------------------------------------


@pytest.mark.parametrize(
    ("sql", "written"),
    [
        ("INSERT INTO naps (code, lat) VALUES (?, ?)", True),
        ('insert into "plans" (code) values (%(code)s)', True),
        ("UPDATE plans SET monthly_price=? WHERE plans.id = ?", True),
        ("  DELETE FROM splitters WHERE splitters.id = ?", True),
        ("TRUNCATE nap_ports, olts RESTART IDENTITY", True),
        ("UPDATE pon_ports SET max_split=? WHERE pon_ports.id = ?", True),
        ("INSERT INTO nap_ports (nap_id, number) VALUES (?, ?)", False),
        ("UPDATE nap_ports SET status=? WHERE nap_ports.nap_id IN (SELECT id FROM naps)", False),
        ("SELECT naps.id FROM naps", False),
        ("UPDATE customers SET plan_id=? WHERE customers.id = ?", False),
    ],
)
def test_writes_to_the_plant_are_recognised(sql: str, written: bool) -> None:
    assert plant.writes_plant(sql) is written


# -- the plant ----------------------------------------------------------------------------


def test_plant_is_loaded_once_and_reused(fd: Fiberdesk, world: QualificationWorld) -> None:
    _q(fd, world)
    with fd.uow(write=False) as uow:
        first = plant.get(uow.session)
    for key in ("serviceable", "xgs", "nap_full"):
        _q(fd, world, key)
    with fd.uow(write=False) as uow:
        assert plant.get(uow.session) is first
    assert {n.code for n in first.naps.values()} >= {"NAP-A", "NAP-XGS"}


def test_a_write_in_this_process_reloads_the_plant_at_once(
    fd: Fiberdesk, world: QualificationWorld, clock: Clock
) -> None:
    assert _price(_q(fd, world)) != Decimal("12.34")
    with fd.uow() as uow:
        basic = sa.update(Plan).where(Plan.code == "BASIC")
        uow.session.execute(basic.values(monthly_price=Decimal("12.34")))
        uow.commit()
    assert _price(_q(fd, world)) == Decimal("12.34")
    # a NAP moved next to a premises that had none in reach: served at once
    assert _q(fd, world, "no_coverage").decision is Decision.NOT_SERVICEABLE
    with fd.uow() as uow:
        target = uow.session.scalar(sa.select(Nap).where(Nap.code == "NAP-A"))
        assert target is not None
        premises_lat, premises_lon = _premises_point(fd, world.premises["no_coverage"])
        target.lat, target.lon = premises_lat + 0.0002, premises_lon
        uow.commit()
    q = _q(fd, world, "no_coverage")
    assert q.nap_code == "NAP-A" and q.decision is not Decision.NOT_SERVICEABLE


def _premises_point(fd: Fiberdesk, premises_id: int) -> tuple[float, float]:
    from fiberdesk.db.models import Premises

    with fd.uow(write=False) as uow:
        p = uow.session.get(Premises, premises_id)
        assert p is not None
        return p.lat, p.lon


def test_a_rolled_back_write_does_not_leave_the_plant_wrong(
    fd: Fiberdesk, world: QualificationWorld, clock: Clock
) -> None:
    before = _price(_q(fd, world))
    with fd.uow() as uow:
        basic = sa.update(Plan).where(Plan.code == "BASIC")
        uow.session.execute(basic.values(monthly_price=Decimal(1)))
        # read inside the writing transaction: the plant may take the uncommitted price...
        inside = qualify_premises(
            uow, actor=SYSTEM_ACTOR, premises_id=world.premises["serviceable"], rules=RULES
        )
        assert _price(inside) == Decimal("1.00")
        # ...and the rollback (the connection's return to the pool) drops it again
    assert _price(_q(fd, world)) == before


def test_another_process_change_shows_after_the_next_check(
    fd: Fiberdesk, world: QualificationWorld, clock: Clock
) -> None:
    before = _price(_q(fd, world))
    # money is stored in cents
    _behind_sqlalchemys_back(
        fd, "UPDATE plans SET monthly_price = ? WHERE code = ?", (700, "BASIC")
    )
    clock.now += plant.CHECK_S - 1
    assert _price(_q(fd, world)) == before  # still this process's copy, not asked yet
    clock.now += 2
    # the first use after the check's interval reads the change counter, answers from
    # the old copy and reloads it in the background
    assert _price(_q(fd, world)) == before
    deadline = time.monotonic() + 30
    while _price(_q(fd, world)) != Decimal("7.00"):
        assert time.monotonic() < deadline, "the plant was not reloaded"
        time.sleep(0.05)


def test_an_unchanged_plant_is_not_read_again(
    fd: Fiberdesk, world: QualificationWorld, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _q(fd, world)
    with fd.uow(write=False) as uow:
        loaded = plant.get(uow.session)
    loads: list[int] = []
    real_load = plant._load

    def counting_load(session: Any, generation: int) -> plant.Plant:
        loads.append(generation)
        return real_load(session, generation)

    monkeypatch.setattr(plant, "_load", counting_load)
    # another process writes port states and customers, not the plant
    _behind_sqlalchemys_back(fd, "UPDATE nap_ports SET hold_expires_at = NULL", ())
    for _ in range(3):
        clock.now += plant.CHECK_S + 1
        _q(fd, world)
    time.sleep(0.2)  # a background reload, were one started, has had time to begin
    with fd.uow(write=False) as uow:
        assert plant.get(uow.session) is loaded
    assert loads == []
    # a write that leaves the values as they were still counts: the plant is read again
    _behind_sqlalchemys_back(fd, "UPDATE naps SET code = code", ())
    clock.now += plant.CHECK_S + 1
    _q(fd, world)
    deadline = time.monotonic() + 30
    while True:  # until the reload has finished (its connection back in the pool)
        with fd.uow(write=False) as uow:
            if plant.get(uow.session) is not loaded:
                break
        assert time.monotonic() < deadline, "the plant was not reloaded"
        time.sleep(0.05)
    assert len(loads) == 1


def test_port_states_are_never_cached(
    fd: Fiberdesk, world: QualificationWorld, clock: Clock
) -> None:
    assert _q(fd, world).port == 1
    generation = plant.generation()
    _behind_sqlalchemys_back(
        fd,
        "UPDATE nap_ports SET status = ? WHERE number = ? AND nap_id = "
        "(SELECT id FROM naps WHERE code = ?)",
        (NapPortStatus.IN_USE.value, 1, "NAP-A"),
    )
    q = _q(fd, world)
    assert q.port == 2 and q.pon is not None
    with fd.uow() as uow:
        uow.session.execute(sa.update(NapPort).values(status=NapPortStatus.IN_USE))
        uow.commit()
    assert _q(fd, world).decision is Decision.NOT_SERVICEABLE
    assert plant.generation() == generation, "port states are not plant"


def test_plant_of_one_database_is_not_used_for_another(
    fd: Fiberdesk, world: QualificationWorld
) -> None:
    with fd.uow(write=False) as uow:
        mine = plant.get(uow.session)
    other = sa.create_engine("sqlite://")
    from sqlalchemy.orm import Session

    from fiberdesk.db.base import Base

    Base.metadata.create_all(other)
    with Session(other) as session:
        theirs = plant.get(session)
    assert mine.naps and not theirs.naps
    other.dispose()


# -- the API's answer ---------------------------------------------------------------------


def test_api_answer_is_what_the_response_model_would_send(
    fd: Fiberdesk, world: QualificationWorld
) -> None:
    """The endpoint skips validating its answer against QualificationOut: the payload must
    be exactly what the model would produce."""
    payloads = []
    with fd.uow(write=False) as uow:
        for key in world.premises:
            q = qualify_premises(
                uow, actor=SYSTEM_ACTOR, premises_id=world.premises[key], rules=RULES
            )
            payloads.append(qualification_payload(q))
        for text in ("100 Test Road, Towson MD 21204", "107 Test Road", "Test Road", "1 Nowhere"):
            try:
                q = qualify_address(uow, actor=SYSTEM_ACTOR, address=text, rules=RULES)
            except InvalidInput:  # text the matcher refuses has no payload
                continue
            payloads.append(qualification_payload(q, query=text))
    assert len(payloads) > len(world.premises)
    for payload in payloads:
        assert (
            to_json(payload) == QualificationOut.model_validate(payload).model_dump_json().encode()
        )


# -- bearer tokens ------------------------------------------------------------------------


@pytest.fixture
def token(fd: Fiberdesk) -> auth.IssuedToken:
    with fd.uow() as uow:
        auth.create_user(
            uow,
            actor=SYSTEM_ACTOR,
            username="carol",
            full_name="Carol",
            role=Role.CSR,
            password="correct horse battery",
        )
    with fd.uow() as uow:
        return auth.create_token(
            uow, actor=SYSTEM_ACTOR, username="carol", name="cache", expires_in_days=1
        )


def _actor_for(fd: Fiberdesk, secret: str) -> Any:
    with fd.uow(write=False) as uow:
        return auth.actor_for_token(uow, secret=secret, channel=Channel.API)


class Statements:
    """Counts the statements that read ``api_tokens``."""

    def __init__(self, fd: Fiberdesk) -> None:
        self.count = 0
        self._engine = fd.engine
        sa.event.listen(fd.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "api_tokens" in statement:
            self.count += 1

    def close(self) -> None:
        sa.event.remove(self._engine, "before_cursor_execute", self._seen)


@pytest.fixture
def token_reads(fd: Fiberdesk) -> Iterator[Statements]:
    s = Statements(fd)
    yield s
    s.close()


def test_a_token_is_looked_up_once_then_cached(
    fd: Fiberdesk, token: auth.IssuedToken, token_reads: Statements, clock: Clock
) -> None:
    first = _actor_for(fd, token.secret)
    for _ in range(5):
        assert _actor_for(fd, token.secret) == first
    assert token_reads.count == 1
    assert (first.name, first.role, first.token_id) == ("carol", Role.CSR, token.id)
    # the channel is the caller's, not the cached one's
    with fd.uow(write=False) as uow:
        agent = auth.actor_for_token(uow, secret=token.secret, channel=Channel.AGENT)
    assert agent.channel is Channel.AGENT and token_reads.count == 1
    clock.now += auth.TOKEN_CACHE_TTL_S
    _actor_for(fd, token.secret)
    assert token_reads.count == 2


def test_revoking_in_this_process_takes_effect_at_once(
    fd: Fiberdesk, token: auth.IssuedToken, clock: Clock
) -> None:
    _actor_for(fd, token.secret)
    with fd.uow() as uow:
        auth.revoke_token(uow, actor=SYSTEM_ACTOR, token_id=token.id)
    with pytest.raises(Unauthorized, match="revoked"):
        _actor_for(fd, token.secret)


def test_deactivating_the_user_takes_effect_at_once(
    fd: Fiberdesk, token: auth.IssuedToken, clock: Clock
) -> None:
    _actor_for(fd, token.secret)
    with fd.uow() as uow:
        auth.set_user_active(uow, actor=SYSTEM_ACTOR, username="carol", active=False)
    with pytest.raises(Unauthorized, match="deactivated"):
        _actor_for(fd, token.secret)


def test_any_write_to_tokens_in_this_process_empties_the_cache(
    fd: Fiberdesk, token: auth.IssuedToken, clock: Clock
) -> None:
    _actor_for(fd, token.secret)
    with fd.uow() as uow:
        row = uow.session.get(ApiToken, token.id)
        assert row is not None and row.expires_at is not None
        row.expires_at = row.expires_at.replace(year=2000)
        uow.commit()
    with pytest.raises(Unauthorized, match="expired"):
        _actor_for(fd, token.secret)


def test_another_process_revoking_is_seen_within_30_s(
    fd: Fiberdesk, token: auth.IssuedToken, clock: Clock
) -> None:
    _actor_for(fd, token.secret)
    _behind_sqlalchemys_back(
        fd, "UPDATE api_tokens SET revoked_at = expires_at WHERE id = ?", (token.id,)
    )
    clock.now += auth.TOKEN_CACHE_TTL_S - 1
    assert _actor_for(fd, token.secret).token_id == token.id  # the documented delay
    clock.now += 1
    with pytest.raises(Unauthorized, match="revoked"):
        _actor_for(fd, token.secret)


def test_expiry_is_checked_on_every_cached_use(
    fd: Fiberdesk, token: auth.IssuedToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    _actor_for(fd, token.secret)
    assert token.expires_at is not None
    later = token.expires_at + timedelta(seconds=1)
    monkeypatch.setattr(auth, "utcnow", lambda: later)
    with pytest.raises(Unauthorized, match="expired"):
        _actor_for(fd, token.secret)


def test_a_lookup_that_began_before_a_revocation_is_not_cached(
    fd: Fiberdesk, token: auth.IssuedToken, token_reads: Statements
) -> None:
    generation = auth._TOKENS.generation
    auth.forget_cached_tokens()  # a revocation between the lookup's read and its store
    with fd.uow(write=False) as uow:
        entry = auth._CachedToken(token.id, 1, "carol", Role.CSR, None, plant.clock())
        auth._TOKENS.put(auth._engine_of(uow), auth._token_hash(token.secret), entry, generation)
    assert auth.cached_actor(fd.engine, secret=token.secret, channel=Channel.API) is None


def test_api_uses_the_cache_and_honours_revocation(
    fd: Fiberdesk, token: auth.IssuedToken, token_reads: Statements, world: QualificationWorld
) -> None:
    headers = {"Authorization": f"Bearer {token.secret}"}
    body = {"premises_id": world.premises["serviceable"]}
    with TestClient(create_app(fd)) as client:
        for _ in range(3):
            assert client.post("/api/v1/qualify", json=body, headers=headers).status_code == 200
        assert token_reads.count == 1
        with fd.uow() as uow:
            auth.revoke_token(uow, actor=SYSTEM_ACTOR, token_id=token.id)
        r = client.post("/api/v1/qualify", json=body, headers=headers)
        assert r.status_code == 401 and "revoked" in r.text
        r = client.post("/api/v1/qualify", json=body, headers={"Authorization": "Bearer x"})
        assert r.status_code == 401 and "malformed" in r.text
