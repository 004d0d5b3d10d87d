"""Database fixtures: every data-layer test runs on SQLite and on PostgreSQL.

PostgreSQL is found at ``FIBERDESK_TEST_PG`` (default: the local server, trust auth).
Each test gets a fresh database copied from a migrated template, so tests never share
state. With ``CI=true`` an unreachable PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from fiberdesk.bootstrap import Fiberdesk, build
from fiberdesk.config import Settings
from fiberdesk.db import migrate
from fiberdesk.db.engine import make_engine

PG_ADMIN_DSN = os.environ.get("FIBERDESK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _pg_url(dbname: str) -> str:
    url = sa.engine.make_url(PG_ADMIN_DSN).set(drivername="postgresql+psycopg", database=dbname)
    return url.render_as_string(hide_password=False)


def _pg_admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5)


def _pg_available() -> str | None:
    try:
        with _pg_admin() as conn:
            conn.execute("SELECT 1")
        return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


@pytest.fixture(scope="session")
def pg_server() -> str:
    problem = _pg_available()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    return PG_ADMIN_DSN


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> Iterator[str]:
    name = f"fdtpl_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(_pg_url(name))
    migrate.upgrade(engine)
    engine.dispose()
    yield name
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def fresh_pg_database(template: str | None = None) -> tuple[str, str]:
    """Create an empty (or templated) database; returns (name, url)."""
    name = f"fdtest_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as conn:
        clause = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{clause}')
    return name, _pg_url(name)


def drop_pg_database(name: str) -> None:
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, migrated database: SQLite file or PostgreSQL."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "fiberdesk.db"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    pg_tpl: str = request.getfixturevalue("pg_template")
    name, url = fresh_pg_database(pg_tpl)
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Like ``database_url`` but unmigrated; parametrised by the test module if needed."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("pg_server")
    name, url = fresh_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture
def fd(database_url: str) -> Iterator[Fiberdesk]:
    """The application wired to a fresh migrated database."""
    app = build(Settings(database_url=database_url, secret_key="test-secret-key"))
    yield app
    app.close()


@pytest.fixture
def sqlite_fd(tmp_path: Path, sqlite_template: Path) -> Iterator[Fiberdesk]:
    """The application on a fresh SQLite database only (for tests of pure wiring)."""
    path = tmp_path / "fiberdesk.db"
    shutil.copy(sqlite_template, path)
    app = build(Settings(database_url=f"sqlite:///{path}", secret_key="test-secret-key"))
    yield app
    app.close()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def county_fd(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fiberdesk]:
    """A read-only database holding every bundled Baltimore County premises (no network)."""
    from fiberdesk.domain.users import SYSTEM_ACTOR
    from fiberdesk.services import premises

    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('county') / 'county.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
    else:
        template: str = request.getfixturevalue("pg_template")
        name, url = fresh_pg_database(template)
    app = build(Settings(database_url=url, secret_key="test-secret-key"))
    with premises.open_csv(premises.BUNDLED_CSV) as stream, app.uow() as uow:
        rows = premises.read_rows(stream, premises.DEFAULT_COLUMN_MAP)
        premises.import_premises(uow, actor=SYSTEM_ACTOR, rows=rows)
    yield app
    app.close()
    if name is not None:
        drop_pg_database(name)
