from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import AuditEntry, Premises
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import premises

CSV = """ID,HOUSE,STREETNAME,TYPE,TOWN,ST,POSTCODE,Y,X,USE
a1,10,Main,St,Towson,MD,21204,39.40,-76.60,RESIDENTIAL HIGH DENSITY
a2,12,Main,St,Towson,MD,21204,39.41,-76.60,
a3,,Main,St,Towson,MD,21204,39.41,-76.60,
a4,14,Main,St,Towson,MD,2120,39.41,-76.60,
a5,16,Main,St,Towson,MD,21204,north,-76.60,
a1,10,Main,St,Towson,MD,21204,39.40,-76.60,
"""
MAP = (
    "source_id=ID,number=HOUSE,street_name=STREETNAME,street_type=TYPE,city=TOWN,"
    "state=ST,zip=POSTCODE,lat=Y,lon=X,address_use=USE"
)


def test_import_with_a_column_map(fd: Fiberdesk) -> None:
    mapping = premises.parse_column_map(MAP)
    rows = premises.read_rows(io.StringIO(CSV), mapping)
    with fd.uow() as uow:
        result = premises.import_premises(uow, actor=SYSTEM_ACTOR, rows=rows, mapping=mapping)
    assert result.imported == 2
    assert result.duplicates == 1
    assert [r.split(":")[0] for r in result.rejected] == ["line 4", "line 5", "line 6"]
    assert "missing number" in result.rejected[0]
    assert "ZIP" in result.rejected[1]
    with fd.uow(write=False) as uow:
        first = uow.session.scalar(sa.select(Premises).where(Premises.source_id == "A1"))
        assert first is not None
        assert (first.street, first.city, first.multi_dwelling) == (
            "MAIN ST",
            "TOWSON",
            True,
        )
        assert first.label == "10 MAIN ST, TOWSON, MD 21204"
        audit = uow.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "premises.import")
        )
        assert audit is not None and audit.after is not None and audit.after["imported"] == 2


def test_missing_columns_refused_before_anything(fd: Fiberdesk) -> None:
    with pytest.raises(InvalidInput, match="lacks required columns"):
        list(premises.read_rows(io.StringIO("a,b\n1,2\n"), premises.DEFAULT_COLUMN_MAP))


@pytest.mark.parametrize("spec", ["nonsense", "bogus=X", "zip="])
def test_bad_maps(spec: str) -> None:
    with pytest.raises(InvalidInput):
        premises.parse_column_map(spec)


def test_bundled_county_file_reads() -> None:
    with premises.open_csv(premises.BUNDLED_CSV) as stream:
        rows = premises.read_rows(stream, premises.DEFAULT_COLUMN_MAP)
        first = [
            premises.row_to_premises(next(rows), premises.DEFAULT_COLUMN_MAP) for _ in range(3)
        ]
    assert all(r["state"] in {"MD", "PA"} and len(r["zip"]) == 5 for r in first)
