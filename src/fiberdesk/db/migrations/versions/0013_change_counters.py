"""change counters: the plant's version, raised by triggers on the plant tables

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 11:40:00.000000

A process keeps the passive plant (NAPs, splitters, PON ports, OLTs, central offices,
plans) in memory for qualification. It used to read it all again every 30 s in case
another process had changed it; now it reads ``change_counters.version`` for ``plant``
every few seconds and reloads only when the number moved. Triggers on the six tables
raise the number in the writing transaction: once per statement on PostgreSQL (TRUNCATE
included), once per row on SQLite, which has no statement triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: as in fiberdesk.db.models.change_counters (a migration keeps its own copy)
TABLES = ("central_offices", "olts", "pon_ports", "splitters", "naps", "plans")
RAISE = "UPDATE change_counters SET version = version + 1 WHERE name = 'plant'"
FUNCTION = f"""
CREATE OR REPLACE FUNCTION fd_plant_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {RAISE};
    RETURN NULL;
END
$$
"""
SQLITE_EVENTS = ("insert", "update", "delete")


def upgrade() -> None:
    op.create_table(
        "change_counters",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_change_counters")),
    )
    op.execute("INSERT INTO change_counters (name, version) VALUES ('plant', 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_plant_changed "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION fd_plant_changed()"
            )
        return
    for table in TABLES:
        for event in SQLITE_EVENTS:
            op.execute(
                f"CREATE TRIGGER {table}_plant_{event} AFTER {event.upper()} ON {table} "
                f"FOR EACH ROW BEGIN {RAISE}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_plant_changed ON {table}")
        op.execute("DROP FUNCTION IF EXISTS fd_plant_changed()")
    else:
        for table in TABLES:
            for event in SQLITE_EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_plant_{event}")
    op.drop_table("change_counters")
