"""The PostgreSQL pool: read-only units of work without a transaction, and pooled
connections checked only after sitting idle (a killed one is replaced, not handed out)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from fiberdesk.db import engine as engine_module
from fiberdesk.db.engine import make_engine, make_session_factory
from fiberdesk.db.unit_of_work import UnitOfWork
from tests.conftest import _pg_admin, drop_pg_database, fresh_pg_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_engine(pg_server: str) -> Iterator[Engine]:
    name, url = fresh_pg_database()
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_pg_database(name)


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _kill(pid: int) -> None:
    """End a server process from outside the pool, as a server restart would."""
    with _pg_admin() as admin:
        row = admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
        assert row is not None and row[0] is True


def test_a_connection_killed_while_idle_is_replaced(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "IDLE_PING_S", 0.0)
    engine = pg_engine
    first = _backend_pid(engine)
    _kill(first)  # while it sits in the pool
    assert _backend_pid(engine) != first  # the dead one was pinged, dropped and replaced


def test_a_busy_connection_is_not_pinged(pg_engine: Engine) -> None:
    """Used moments ago: the check-out costs no round trip, so a connection killed in
    between fails its statement (and SQLAlchemy empties the pool), then all is well."""
    engine = pg_engine
    first = _backend_pid(engine)
    _kill(first)
    with pytest.raises(sa.exc.OperationalError), engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    assert _backend_pid(engine) != first


def test_read_only_work_runs_without_a_transaction(pg_engine: Engine) -> None:
    factory = make_session_factory(pg_engine)
    with UnitOfWork(factory, write=False) as uow:
        # outside a transaction block, every statement is its own transaction
        first = uow.session.execute(sa.text("SELECT txid_current()")).scalar_one()
        second = uow.session.execute(sa.text("SELECT txid_current()")).scalar_one()
        assert second != first
        with pytest.raises(RuntimeError, match="cannot commit"):
            uow.commit()
    with UnitOfWork(factory, write=True) as uow:
        first = uow.session.execute(sa.text("SELECT txid_current()")).scalar_one()
        assert uow.session.execute(sa.text("SELECT txid_current()")).scalar_one() == first
    # the read-only connection went back to the pool in its usual mode
    with pg_engine.connect() as conn:
        assert conn.get_isolation_level() != "AUTOCOMMIT"
