"""The demo's premises: the bundled Baltimore County address points.

The rows are read and checked here first (with the importer's own parser, so the plan only
counts what the importer will keep), the whole operator is planned in memory, and only then
are they imported with ``services.premises.import_premises``, keeping ``address_id`` as each
premises' source id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from fiberdesk.db.models import Premises
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.network import distance_m
from fiberdesk.domain.users import Actor
from fiberdesk.services.demo import geo
from fiberdesk.services.premises import (
    BUNDLED_CSV,
    DEFAULT_COLUMN_MAP,
    import_premises,
    open_csv,
    read_rows,
    row_to_premises,
)

#: a smaller demo (``premises_limit``) takes the points nearest to downtown Towson
COMPACT_FOCUS = (39.4015, -76.6019)
#: address uses that mark a business customer's likely premises
BUSINESS_USES = frozenset({"COMMERCIAL", "BUSINESS", "INDUSTRIAL", "INSTITUTIONAL"})


@dataclass(slots=True)
class Site:
    """One premises as the planner sees it; ``row`` indexes the raw CSV rows."""

    row: int
    source_id: str
    lat: float
    lon: float
    x: float
    y: float
    zip: str
    business: bool
    multi: bool


def load_sites(premises_limit: int | None) -> tuple[list[dict[str, str]], list[Site]]:
    """The raw ACTIVE rows the importer will accept, and the planner's view of each."""
    with open_csv(BUNDLED_CSV) as stream:
        raw = list(read_rows(stream, DEFAULT_COLUMN_MAP))
    status_column = DEFAULT_COLUMN_MAP["status"]
    rows: list[dict[str, str]] = []
    sites: list[Site] = []
    gaps: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for row in raw:
        if (row.get(status_column) or "ACTIVE").strip().upper() != "ACTIVE":
            continue
        try:
            values = row_to_premises(row, DEFAULT_COLUMN_MAP)
        except InvalidInput:
            continue
        source_id = str(values["source_id"])
        if source_id in seen:
            continue
        seen.add(source_id)
        lat, lon = float(values["lat"]), float(values["lon"])
        x, y = geo.xy(lat, lon)
        sites.append(
            Site(
                row=len(rows),
                source_id=source_id,
                lat=lat,
                lon=lon,
                x=x,
                y=y,
                zip=str(values["zip"]),
                business=values["address_use"] in BUSINESS_USES,
                multi=bool(values["multi_dwelling"]),
            )
        )
        rows.append(row)
        gaps.append(tuple(k for k, v in values.items() if v is None))
    if premises_limit is not None:
        if premises_limit < 500:
            raise InvalidInput("premises_limit must be at least 500", field="premises_limit")
        nearest = sorted(sites, key=lambda s: (distance_m(s.lat, s.lon, *COMPACT_FOCUS), s.row))[
            :premises_limit
        ]
        sites = sorted(nearest, key=lambda s: s.row)
    # The importer's bulk insert sends one batch per run of rows with the same empty fields:
    # ordered by their empty fields (17 patterns in the county's data), they go in a few
    # large batches instead of thousands of small ones (a third of the time on PostgreSQL).
    sites.sort(key=lambda s: gaps[s.row])
    rows = [rows[s.row] for s in sites]
    for i, site in enumerate(sites):
        site.row = i
    return rows, sites


def import_sites(
    uow: UnitOfWork,
    *,
    actor: Actor,
    rows: list[dict[str, str]],
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Import the rows (committing) and return the new premises ids by source id."""
    result = import_premises(
        uow,
        actor=actor,
        rows=rows,
        source=f"demo: {BUNDLED_CSV.name}",
        progress=progress,
    )
    if result.imported != len(rows):
        raise InvalidInput(
            f"the demo expected to import {len(rows)} premises but imported {result.imported}"
        )
    return dict(uow.session.execute(sa.select(Premises.source_id, Premises.id)).all())


def label(row: dict[str, str], unit: str | None = None) -> str:
    """The premises label (as ``Premises.label`` renders it), with an optional unit."""
    values = row_to_premises(row, DEFAULT_COLUMN_MAP)
    values["unit"] = unit
    return Premises(**values).label
