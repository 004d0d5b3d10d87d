"""Change counters: numbers the database raises whenever a set of tables is written.

A process that keeps a copy of rows that rarely change (the passive plant of
``fiberdesk.services.plant``) reads one small row to learn whether its copy is still
current, instead of reading every row again. Triggers made by migration 0013 raise the
``plant`` counter on every INSERT, UPDATE and DELETE (and TRUNCATE, on PostgreSQL) of the
plant tables, inside the writing transaction: a reader sees the new number only once the
change is committed, and a rolled-back change leaves it as it was.

On SQLite a migration that rebuilds one of those tables (``batch_alter_table``) drops its
triggers and must make them again; ``tests/integration/test_change_counters.py`` checks
that every plant table still raises the counter after all migrations.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fiberdesk.db.base import Base

#: the counter of the passive plant
PLANT = "plant"
#: the tables whose writes raise it
PLANT_TABLES = ("central_offices", "olts", "pon_ports", "splitters", "naps", "plans")


class ChangeCounter(Base):
    __tablename__ = "change_counters"
    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)
