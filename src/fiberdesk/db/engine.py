"""Engines and sessions: SQLite (WAL, foreign keys on) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DisconnectionError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from fiberdesk.domain.errors import InvalidInput


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself so that BEGIN IMMEDIATE below takes effect.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: execution option that marks a connection's transaction as one that will write
WRITE_OPTION = "fiberdesk_write"


def _sqlite_begin(conn: Any) -> None:
    # A writing transaction takes SQLite's write lock at once (BEGIN IMMEDIATE): a
    # transaction that reads and then upgrades to write can fail with "database is locked"
    # when another writer committed in between. Readers begin deferred and never block.
    if conn.get_execution_options().get(WRITE_OPTION):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


#: a pooled PostgreSQL connection idle longer than this is checked before it is used
IDLE_PING_S = 5.0


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["fd_idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Check a connection that sat in the pool for a while (the server may have restarted
    or closed it) with a ``SELECT 1``; a dead one is replaced by the pool. A connection in
    steady use skips the round trip that ``pool_pre_ping`` makes on every checkout: it
    was used successfully moments ago, and if the server dies in between, the statement
    fails and SQLAlchemy empties the pool."""
    since = record.info.get("fd_idle_since")
    if since is None or time.monotonic() - since < IDLE_PING_S:
        return
    autocommit = dbapi_connection.autocommit
    try:
        dbapi_connection.autocommit = True  # the ping leaves no transaction open
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        dbapi_connection.autocommit = autocommit
    except Exception as exc:  # any failure means a dead connection
        raise DisconnectionError(f"stale pooled connection: {exc}") from exc


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; a malformed URL or a missing driver is an ``InvalidInput``."""
    try:
        parsed = sa.engine.make_url(url)
        if parsed.get_backend_name() == "sqlite":
            engine = sa.create_engine(parsed, echo=echo, connect_args={"timeout": 15})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        if parsed.get_backend_name() == "postgresql":
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            engine = sa.create_engine(parsed, echo=echo, pool_size=10)
            event.listen(engine.pool, "checkin", _note_checkin)
            event.listen(engine.pool, "checkout", _ping_if_idle)
            return engine
        raise InvalidInput(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
        )
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise InvalidInput(f"bad database URL {url!r}: {exc}") from None


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
