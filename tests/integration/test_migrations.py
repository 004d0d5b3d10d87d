"""Migrations on SQLite and PostgreSQL: from empty to head, down and up, and no drift."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from fiberdesk.db import migrate
from fiberdesk.db.engine import make_engine
from fiberdesk.db.models import Base
from fiberdesk.db.models.search import POSTGRES_ONLY_INDEXES
from fiberdesk.domain.errors import Conflict

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _modelled(obj: object, name: str | None, type_: str, reflected: bool, _other: object) -> bool:
    """Everything but the PostgreSQL-only expression indexes of global search."""
    return not (type_ == "index" and name in POSTGRES_ONLY_INDEXES)


@pytest.mark.parametrize("empty_database_url", BACKENDS, indirect=True)
def test_upgrade_from_empty_round_trip_and_no_drift(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        assert migrate.current_revision(engine) is None
        with pytest.raises(Conflict, match="fiberdesk db upgrade"):
            migrate.require_migrated(engine)

        migrate.upgrade(engine)
        head = migrate.head_revision(engine)
        assert migrate.current_revision(engine) == head
        migrate.require_migrated(engine)
        tables = set(sa.inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables

        migrate.downgrade(engine, "base")
        assert migrate.current_revision(engine) is None
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}

        migrate.upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": _modelled}
            )
            diff = compare_metadata(context, Base.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
    finally:
        engine.dispose()


def test_sqlite_pragmas(sqlite_fd: object) -> None:
    from fiberdesk.bootstrap import Fiberdesk

    assert isinstance(sqlite_fd, Fiberdesk)
    with sqlite_fd.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
