"""The demo's database chores: refuse a non-empty database, wipe it on request, bulk rows."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db import migrate
from fiberdesk.db.base import Base
from fiberdesk.db.engine import is_postgres, make_engine
from fiberdesk.domain.errors import Conflict

#: tables whose rows mean the database already holds an operator
MARKER_TABLES = ("customers", "premises", "users", "central_offices", "naps")


def _present(session: Session) -> set[str]:
    return set(sa.inspect(session.connection()).get_table_names())


def row_counts(session: Session) -> dict[str, int]:
    """Rows per table of the schema that the database has (``alembic_version`` is not one)."""
    present = _present(session)
    return {
        table.name: session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
        if table.name in present
    }


def refuse_if_not_empty(session: Session) -> None:
    """``Conflict`` if the database holds customers, premises, users or a network. (The
    catalog the migrations seed, and flows seeded at start-up, are not an operator.)"""
    present = _present(session)
    counts = {
        name: session.scalar(sa.select(sa.func.count()).select_from(sa.table(name))) or 0
        for name in MARKER_TABLES
        if name in present
    }
    found = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
    if found:
        raise Conflict(
            f"the database is not empty: {found}; use --force to wipe it and build the demo"
        )


@functools.lru_cache(maxsize=1)
def seeded_tables() -> frozenset[str]:
    """The tables the migrations themselves fill (the catalog: plans, contract terms,
    promotions), found by migrating a scratch in-memory database once per process."""
    engine = make_engine("sqlite://")
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            present = set(sa.inspect(conn).get_table_names())
            return frozenset(
                t.name
                for t in Base.metadata.sorted_tables
                if t.name in present and conn.scalar(sa.select(sa.func.count()).select_from(t))
            )
    finally:
        engine.dispose()


def wipe(session: Session) -> None:
    """Delete every row of every table but those the migrations seed, children first;
    PostgreSQL also restarts the tables' id sequences."""
    present, keep = _present(session), seeded_tables()
    tables = [
        t for t in reversed(Base.metadata.sorted_tables) if t.name in present and t.name not in keep
    ]
    if is_postgres(session.get_bind().engine):
        names = ", ".join(f'"{t.name}"' for t in tables)
        session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY"))
        return
    for table in tables:
        session.execute(table.delete())


#: ``render_nulls`` keeps every row's keys the same, so that the ORM sends all the rows of
#: an insert as one batch instead of one batch per pattern of NULLs
_BULK = {"render_nulls": True}


def insert_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert many rows and return their new ids, in order (SQLAlchemy batches them into
    multi-row INSERT ... RETURNING statements)."""
    if not rows:
        return []
    statement = sa.insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(session.execute(statement, rows, execution_options=_BULK).scalars())


def insert_all(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows with one Core executemany (every row has the same keys). Measured
    on PostgreSQL, psycopg's pipelined executemany beats multi-row VALUES batches here."""
    if rows:
        session.connection().execute(model.__table__.insert(), rows)


def update_by_id(
    session: Session, model: Any, columns: tuple[str, ...], rows: Sequence[tuple[int, ...]]
) -> None:
    """Set columns of many rows by id with one executemany; each row is ``(id, *values)``."""
    table: sa.Table = model.__table__
    statement = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"))
        .values({c: sa.bindparam(f"new_{c}") for c in columns})
    )
    params = [
        {"row_id": row[0], **{f"new_{c}": v for c, v in zip(columns, row[1:], strict=True)}}
        for row in rows
    ]
    if params:
        session.connection().execute(statement, params)
