"""Importing premises (serviceable address points) from CSV, with a column map."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.models import Premises
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit
from fiberdesk.services.address_match import STREET_NAMES

#: fiberdesk field -> CSV column, for the Baltimore County layout bundled with fiberdesk
DEFAULT_COLUMN_MAP: dict[str, str] = {
    "source_id": "address_id",
    "number": "number",
    "number_suffix": "number_suffix",
    "predir": "street_predir",
    "street_name": "street_name",
    "street_type": "street_type",
    "sufdir": "street_sufdir",
    "street": "street",
    "unit": "unit",
    "city": "city",
    "community": "community",
    "state": "state",
    "zip": "zip",
    "zip4": "zip4",
    "lat": "lat",
    "lon": "lon",
    "address_use": "address_use",
    "status": "status",
}
REQUIRED_FIELDS = ("source_id", "number", "street_name", "state", "zip", "lat", "lon")
OPTIONAL_FIELDS = tuple(f for f in DEFAULT_COLUMN_MAP if f not in REQUIRED_FIELDS)
MULTI_DWELLING_USES = frozenset({"RESIDENTIAL HIGH DENSITY"})
BUNDLED_CSV = (
    Path(__file__).resolve().parent.parent / "data" / ("baltimore_county_address_points.csv.gz")
)
BATCH = 5000


def parse_column_map(spec: str | None) -> dict[str, str]:
    """``"source_id=ID,zip=POSTCODE"`` over the default map; unknown fields are refused."""
    mapping = dict(DEFAULT_COLUMN_MAP)
    if not spec:
        return mapping
    for part in spec.split(","):
        key, sep, column = part.partition("=")
        key, column = key.strip(), column.strip()
        if not sep or not key or not column:
            raise InvalidInput(f"column map entry {part!r} is not field=column", field="map")
        if key not in DEFAULT_COLUMN_MAP:
            known = ", ".join(DEFAULT_COLUMN_MAP)
            raise InvalidInput(f"unknown premises field {key!r} (known: {known})", field="map")
        mapping[key] = column
    return mapping


@dataclass
class ImportResult:
    imported: int = 0
    skipped_inactive: int = 0
    duplicates: int = 0
    rejected: list[str] = field(default_factory=list)


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value.upper() or None


def row_to_premises(row: Mapping[str, str], mapping: Mapping[str, str]) -> dict[str, Any]:
    """One CSV row as premises column values; raises InvalidInput naming what is wrong."""

    def get(name: str) -> str | None:
        return _clean(row.get(mapping[name]))

    values = {name: get(name) for name in mapping if name != "status"}
    for name in REQUIRED_FIELDS:
        if not values.get(name):
            raise InvalidInput(f"missing {name} (column {mapping[name]!r})", field=name)
    try:
        lat, lon = float(values["lat"] or ""), float(values["lon"] or "")
    except ValueError:
        raise InvalidInput("lat/lon are not numbers", field="lat") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput("lat/lon out of range", field="lat")
    zip_code = values["zip"] or ""
    if not (len(zip_code) == 5 and zip_code.isdigit()):
        raise InvalidInput(f"ZIP {zip_code!r} is not five digits", field="zip")
    state = values["state"] or ""
    if len(state) != 2 or not state.isalpha():
        raise InvalidInput(f"state {state!r} is not a two-letter code", field="state")
    name = values["street_name"] or ""
    street = values.get("street") or " ".join(
        p
        for p in (values.get("predir"), name, values.get("street_type"), values.get("sufdir"))
        if p
    )
    use = values.get("address_use")
    return {
        "source_id": values["source_id"],
        "number": values["number"],
        "number_suffix": values.get("number_suffix"),
        "predir": values.get("predir"),
        "street_name": name,
        "street_type": values.get("street_type"),
        "sufdir": values.get("sufdir"),
        "street": street,
        "unit": values.get("unit"),
        "city": values.get("city"),
        "community": values.get("community"),
        "state": state,
        "zip": zip_code,
        "zip4": values.get("zip4"),
        "lat": lat,
        "lon": lon,
        "address_use": use,
        "multi_dwelling": use in MULTI_DWELLING_USES,
    }


def open_csv(path: Path) -> IO[str]:
    """A text stream over a CSV file, gzip-compressed or not."""
    if not path.exists():
        raise InvalidInput(f"no such file: {path}", field="file")
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def read_rows(stream: IO[str], mapping: Mapping[str, str]) -> Iterator[dict[str, str]]:
    reader = csv.DictReader(stream)
    header = set(reader.fieldnames or [])
    missing = [f"{k} (column {mapping[k]!r})" for k in REQUIRED_FIELDS if mapping[k] not in header]
    if missing:
        raise InvalidInput("the CSV lacks required columns: " + ", ".join(missing), field="map")
    yield from reader


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    # render_nulls keeps rows with different empty fields in one executemany batch
    session.execute(sa.insert(Premises).execution_options(render_nulls=True), rows)


def import_premises(
    uow: UnitOfWork,
    *,
    actor: Actor,
    rows: Iterable[Mapping[str, str]],
    mapping: Mapping[str, str] = DEFAULT_COLUMN_MAP,
    include_inactive: bool = False,
    source: str = "csv",
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Insert premises from rows; duplicates of a known source id are skipped, bad rows
    rejected with their reason (line numbers count the header as line 1)."""
    actor.require(Permission.NETWORK_WRITE)
    session = uow.session
    known = set(session.scalars(sa.select(Premises.source_id)))
    result = ImportResult()
    batch: list[dict[str, Any]] = []
    for line, row in enumerate(rows, start=2):
        status = (row.get(mapping["status"]) or "ACTIVE").strip().upper()
        if status != "ACTIVE" and not include_inactive:
            result.skipped_inactive += 1
            continue
        try:
            values = row_to_premises(row, mapping)
        except InvalidInput as exc:
            result.rejected.append(f"line {line}: {exc.reason}")
            continue
        if values["source_id"] in known:
            result.duplicates += 1
            continue
        known.add(values["source_id"])
        batch.append(values)
        if len(batch) >= BATCH:
            _insert(session, batch)
            result.imported += len(batch)
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        _insert(session, batch)
        result.imported += len(batch)
        if progress:
            progress(len(batch))
    audit.record(
        session,
        actor=actor,
        action="premises.import",
        entity_type="premises",
        entity_id=None,
        after={
            "source": source,
            "imported": result.imported,
            "duplicates": result.duplicates,
            "skipped_inactive": result.skipped_inactive,
            "rejected": len(result.rejected),
        },
    )
    uow.commit()
    # this process matches the new streets at once; others within STREET_NAMES.RECHECK_S
    STREET_NAMES.clear()
    return result
