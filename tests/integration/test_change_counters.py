"""The plant's change counter (migration 0013): every write to a plant table raises it,
in the writing transaction, on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import ChangeCounter
from fiberdesk.db.models.change_counters import PLANT, PLANT_TABLES
from fiberdesk.services import plant
from tests.factories import QualificationWorld, make_qualification_world


def _version(fd: Fiberdesk) -> int:
    with fd.engine.connect() as conn:
        version = conn.scalar(sa.select(ChangeCounter.version).where(ChangeCounter.name == PLANT))
    assert version is not None, "migration 0013 made the plant's row"
    return version


@pytest.fixture
def world(fd: Fiberdesk) -> QualificationWorld:
    return make_qualification_world(fd)


def test_the_plant_tables_are_the_ones_the_process_watches() -> None:
    assert frozenset(PLANT_TABLES) == plant.PLANT_TABLES


@pytest.mark.parametrize("table", PLANT_TABLES)
def test_an_update_of_any_plant_table_raises_the_counter(
    fd: Fiberdesk, world: QualificationWorld, table: str
) -> None:
    before = _version(fd)
    with fd.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {table} SET id = id"))  # every row, values unchanged
    assert _version(fd) > before


def test_an_insert_and_a_delete_raise_the_counter_once_committed(
    fd: Fiberdesk, world: QualificationWorld
) -> None:
    before = _version(fd)
    with fd.engine.begin() as conn:
        values = dict(
            conn.execute(sa.text("SELECT * FROM plans ORDER BY id LIMIT 1")).mappings().one()
        )
        values.update(id=9999, code="TEST-COUNTER")
        columns = ", ".join(values)
        conn.execute(
            sa.text(f"INSERT INTO plans ({columns}) VALUES ({', '.join(':' + k for k in values)})"),
            values,
        )
        # another connection does not see the new number before the commit
        assert _version(fd) == before
    inserted = _version(fd)
    assert inserted > before
    with fd.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM plans WHERE id = 9999"))
    assert _version(fd) > inserted


def test_a_rolled_back_write_leaves_the_counter(fd: Fiberdesk, world: QualificationWorld) -> None:
    before = _version(fd)
    with fd.engine.connect() as conn:
        trans = conn.begin()
        conn.execute(sa.text("UPDATE plans SET name = name"))
        inside = conn.scalar(sa.select(ChangeCounter.version).where(ChangeCounter.name == PLANT))
        trans.rollback()
    assert inside is not None and inside > before
    assert _version(fd) == before


def test_writes_elsewhere_leave_the_counter(fd: Fiberdesk, world: QualificationWorld) -> None:
    before = _version(fd)
    with fd.engine.begin() as conn:
        conn.execute(sa.text("UPDATE nap_ports SET number = number"))
        conn.execute(sa.text("UPDATE premises SET street = street"))
    assert _version(fd) == before
