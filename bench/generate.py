"""A large synthetic operator for benchmarks, built from the real Baltimore County streets.

``python -m bench.generate --url DB_URL --premises 1000000 --naps 20000 [--seed 7]``

Premises: every real (street, ZIP) of the bundled county address points is repeated over
*tiles*, copies of the county laid side by side (one per 96,000 premises), each numbering
its houses past the real ones, so every written address stays unique per street and ZIP.
The copies are shrunk so that the region is about 3.5 times the county's area: the bundled
points are about a quarter of the county's addresses, so density stays close to the real.
NAPs sit amid groups of about ``premises / naps`` neighbouring premises in 250 m cells;
sparse cells get none (the coverage gaps). Above them: LCP splitters (1:32, 1:64) per
1.6 km block, PON ports (GPON, some XGS-PON), OLTs of 4 x 16 ports, a central office per
0.15 degree exchange area. About a third of the NAP ports carry a customer on a plan.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.progress import Progress
from sqlalchemy.engine import Engine

from fiberdesk.db import migrate
from fiberdesk.db import models as m
from fiberdesk.db.base import UTCDateTime
from fiberdesk.db.engine import is_postgres, make_engine
from fiberdesk.domain.customers import account_number
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.network import route_length_m
from fiberdesk.services import premises as premises_import

console = Console()
COS = math.cos(math.radians(39.45))  # the region's latitude; fine for cells and nearness
CELL_LAT = 250 / 111_195  # a NAP cell, about 250 m
CELL_LON = CELL_LAT / COS
BLOCK_DEG = 0.015  # splitters group the NAPs of one block, about 1.6 km
AREA_DEG = 0.15  # a central office's exchange area, about 16 km
MAX_DROP_M = 250
REGION_AREA = 3.5
BATCH = 20_000


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: the tables filled, in foreign-key order, and the columns each generated row fills (any
#: others keep their defaults)
COLUMNS = {
    "central_offices": _words("id code name lat lon"),
    "olts": _words("id central_office_id name vendor model tx_power_dbm"),
    "pon_ports": _words("id olt_id slot port technology max_split"),
    "splitters": _words("id pon_port_id code ratio lat lon feeder_m connectors splices"),
    "naps": _words("id splitter_id code lat lon port_count distribution_m connectors splices"),
    "premises": _words(
        "id source_id number number_suffix predir street_name street_type sufdir street unit "
        "city community state zip zip4 lat lon address_use multi_dwelling nap_id drop_m"
    ),
    "customers": _words(
        "id account_number name email phone service_address premises_id nap_id port_number "
        "plan_id status created_at activated_at disconnected_at churn_reason"
    ),
    "nap_ports": _words("id nap_id number status hold_expires_at held_by customer_id"),
}
#: premises values copied from the county point, between ``number`` and ``lat``
COPIED = COLUMNS["premises"][3:15]
LAT, LON, NAP_ID, DROP_M = 15, 16, 19, 20
PLAN_WEIGHTS = {"BASIC": 10, "STANDARD": 25, "PLUS": 30, "PREMIUM": 18, "GIGABIT": 14}
FIRST = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth Kevin Aisha "
    "Carlos Mei Tunde Olga Priya Omar Grace Luis Hannah Samuel Rosa Ahmed"
)
LAST = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Lee Walker "
    "Young Allen King Wright Scott Green Baker Adams Nelson Hill Ramirez Campbell"
)


@dataclass(slots=True)
class Site:
    """A NAP, a splitter or a central office while the network is laid out."""

    id: int
    lat: float
    lon: float
    size: int = 0  # ports of a NAP, ratio of a splitter
    parent: int = 0
    length_m: int = 0  # distribution (NAP) or feeder (splitter) fiber
    members: list[Site] = field(default_factory=list)


def _number_key(number: str) -> int:
    digits = "".join(ch for ch in number if ch.isdigit())
    return int(digits) if digits else 0


def load_streets() -> list[list[dict[str, Any]]]:
    """The active county points grouped by (street, ZIP), each group in house order."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    mapping = premises_import.DEFAULT_COLUMN_MAP
    with premises_import.open_csv(premises_import.BUNDLED_CSV) as stream:
        for row in premises_import.read_rows(stream, mapping):
            if (row.get("status") or "ACTIVE").upper() != "ACTIVE":
                continue
            try:
                v = premises_import.row_to_premises(row, mapping)
            except InvalidInput:
                continue
            key = (v["predir"], v["street_name"], v["street_type"], v["sufdir"], v["zip"])
            groups[key].append(v)
    for points in groups.values():
        points.sort(key=lambda v: (_number_key(v["number"]), v["number_suffix"] or ""))
    return [groups[k] for k in sorted(groups, key=lambda k: tuple(p or "" for p in k))]


def build_premises(streets: list[list[dict[str, Any]]], total: int) -> list[list[Any]]:
    """``total`` premises rows (PREMISES_COLUMNS); tile 0 is the real county."""
    real = sum(len(g) for g in streets)
    quota = [len(g) * total / real for g in streets]
    counts = [int(q) for q in quota]
    by_remainder = sorted(range(len(streets)), key=lambda i: counts[i] - quota[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    tiles = max(1, math.ceil(total / real))
    cols = math.ceil(math.sqrt(tiles))
    lats = [p["lat"] for g in streets for p in g]
    lons = [p["lon"] for g in streets for p in g]
    lat0, lon0 = (max(lats) + min(lats)) / 2, (max(lons) + min(lons)) / 2
    # the county's 96,000 points are a part of its 350,000 addresses: shrink the copies so
    # that the whole region is about REGION_AREA times the county's area
    f = min(1.0, math.sqrt(REGION_AREA / tiles))
    height, width = f * (max(lats) - min(lats)) + 0.01, f * (max(lons) - min(lons)) + 0.01
    rows: list[list[Any]] = []
    for tile in range(tiles):
        dlat, dlon = lat0 - (tile // cols) * height, lon0 + (tile % cols) * width
        for points, count in zip(streets, counts, strict=True):
            span = (max(_number_key(p["number"]) for p in points) // 100 + 1) * 100
            for i, p in enumerate(points):
                if tile * len(points) + i >= count:
                    break
                number = p["number"] if tile == 0 else str(_number_key(p["number"]) + tile * span)
                source = p["source_id"] if tile == 0 else f"{p['source_id']}-{tile}"
                lat = round(dlat + f * (p["lat"] - lat0), 6)
                lon = round(dlon + f * (p["lon"] - lon0), 6)
                copied = [p[k] for k in COPIED]
                use = [p["address_use"], p["multi_dwelling"], None, None]
                rows.append([len(rows) + 1, source, number, *copied, lat, lon, *use])
    return rows


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / CELL_LAT), math.floor(lon / CELL_LON)


def place_naps(rows: list[list[Any]], n_naps: int, rng: random.Random) -> list[Site]:
    """NAPs at the middle of groups of neighbouring premises; sparse cells get none."""
    cells: dict[tuple[int, int], list[list[Any]]] = defaultdict(list)
    for r in rows:
        cells[_cell(r[LAT], r[LON])].append(r)
    keys = sorted(cells)
    quota = [len(cells[k]) * n_naps / len(rows) for k in keys]
    counts = [int(q) for q in quota]
    for i in sorted(range(len(keys)), key=lambda i: counts[i] - quota[i])[: n_naps - sum(counts)]:
        counts[i] += 1
    naps: list[Site] = []
    for key, count in zip(keys, counts, strict=True):
        members = sorted(cells[key], key=lambda r: (r[LON], r[LAT]))
        for j in range(count):
            chunk = members[j * len(members) // count : (j + 1) * len(members) // count]
            lat = sum(r[LAT] for r in chunk) / len(chunk) + 0.00007  # across the street
            lon = sum(r[LON] for r in chunk) / len(chunk)
            ports = 16 if len(chunk) >= 24 or rng.random() < 0.3 else 8
            naps.append(Site(0, round(lat, 6), round(lon, 6), ports))
    # number them in the order the plant is built: by exchange area, then block
    naps.sort(key=lambda s: (_area(s), _block(s), s.lat, s.lon))
    for i, nap in enumerate(naps, start=1):
        nap.id = i
    return naps


def _area(s: Site) -> tuple[int, int]:
    return math.floor(s.lat / AREA_DEG), math.floor(s.lon / AREA_DEG)


def _block(s: Site) -> tuple[int, int]:
    return math.floor(s.lat / BLOCK_DEG), math.floor(s.lon / BLOCK_DEG / 1.25)


def assign_premises(rows: list[list[Any]], naps: list[Site]) -> None:
    """Each premises' nearest NAP and drop length, when one is within MAX_DROP_M."""
    grid: dict[tuple[int, int], list[Site]] = defaultdict(list)
    for nap in naps:
        grid[_cell(nap.lat, nap.lon)].append(nap)
    for r in rows:
        ci, cj = _cell(r[LAT], r[LON])
        best, best_d = None, math.inf
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                for nap in grid.get((ci + di, cj + dj), ()):
                    d = (nap.lat - r[LAT]) ** 2 + ((nap.lon - r[LON]) * COS) ** 2
                    if d < best_d:
                        best, best_d = nap, d
        if best is not None:
            drop = route_length_m(r[LAT], r[LON], best.lat, best.lon)
            if drop <= MAX_DROP_M:
                r[NAP_ID], r[DROP_M] = best.id, drop


def _centre(site: Site) -> None:
    site.lat = round(sum(m.lat for m in site.members) / len(site.members), 6)
    site.lon = round(sum(m.lon for m in site.members) / len(site.members), 6)


@dataclass
class Network:
    tables: dict[str, list[tuple[Any, ...]]]
    technology: dict[int, str]  # NAP id -> PON technology


def build_network(naps: list[Site], rng: random.Random) -> Network:
    """Splitters, PON ports, OLTs and central offices above the NAPs."""
    t: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    technology: dict[int, str] = {}
    areas: dict[tuple[int, int], list[Site]] = defaultdict(list)
    for nap in naps:
        areas[_area(nap)].append(nap)
    splitter_id = pon_id = olt_id = 0
    for co_id, key in enumerate(sorted(areas), start=1):
        co = Site(co_id, 0, 0, members=areas[key])
        _centre(co)
        code = f"CO{co_id:03d}"
        t["central_offices"].append((co_id, code, f"Central office {code}", co.lat, co.lon))
        splitters: list[Site] = []
        for nap in areas[key]:  # already in block order
            last = splitters[-1] if splitters else None
            if last is None or last.length_m + nap.size > last.size or _block(last) != _block(nap):
                splitter_id += 1
                last = Site(splitter_id, nap.lat, nap.lon, 64 if rng.random() < 0.3 else 32)
                splitters.append(last)
            last.members.append(nap)
            last.length_m += nap.size  # ports used so far, while grouping
        pons: list[Site] = []
        for sp in splitters:
            _centre(sp)
            sp.length_m = route_length_m(co.lat, co.lon, sp.lat, sp.lon) + 200
            for nap in sp.members:
                nap.parent = sp.id
                nap.length_m = route_length_m(sp.lat, sp.lon, nap.lat, nap.lon) + 30
            if not pons or pons[-1].length_m + sp.size > pons[-1].size:
                pon_id += 1
                pons.append(Site(pon_id, 0, 0, 128 if rng.random() < 0.15 else 64))
            pons[-1].length_m += sp.size
            pons[-1].members.append(sp)
            sp.parent = pons[-1].id
        for i, pon in enumerate(pons):
            if i % 64 == 0:
                olt_id += 1
                tx = Decimal(rng.randint(250, 500)) / 100
                name = f"{code}-OLT{i // 64 + 1}"
                t["olts"].append((olt_id, co_id, name, "SimOLT", "S64", tx))
            tech = "XGS_PON" if pon.size == 128 else "GPON"
            t["pon_ports"].append((pon.id, olt_id, i % 64 // 16 + 1, i % 16 + 1, tech, pon.size))
            for sp in pon.members:
                t["splitters"].append(
                    (sp.id, pon.id, f"LCP-{sp.id:05d}", sp.size, sp.lat, sp.lon, sp.length_m, 2, 4)
                )
                for nap in sp.members:
                    technology[nap.id] = tech
    for nap in naps:
        code = f"NAP-{nap.id:06d}"
        t["naps"].append((nap.id, nap.parent, code, nap.lat, nap.lon, nap.size, nap.length_m, 2, 2))
    return Network(dict(t), technology)


def _label(r: list[Any]) -> str:
    number = r[2] + (f" {r[3]}" if r[3] else "")
    return f"{number} {r[8]}, {r[10] or r[11] or ''}, {r[12]} {r[13]}".replace(" ,", ",")


def _person(cid: int, rng: random.Random, *, contact: bool = True) -> tuple[Any, ...]:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    email, phone = f"customer{cid}@example.net", f"+1410555{cid % 10_000:04d}"
    return (cid, account_number(cid), name, *((email, phone) if contact else (None, None)))


def build_customers(
    rows: list[list[Any]],
    naps: list[Site],
    network: Network,
    plans: dict[str, tuple[int, str]],
    rng: random.Random,
    now: datetime,
) -> dict[str, list[tuple[Any, ...]]]:
    """Customers on about a third of the NAP ports (NAP take rates vary), some churned."""
    served: dict[int, list[list[Any]]] = defaultdict(list)
    for r in rows:
        if r[NAP_ID] is not None:
            served[r[NAP_ID]].append(r)
    choices = {
        tech: (
            [plans[c][0] for c in plans if tech in plans[c][1]],
            [PLAN_WEIGHTS.get(c, 3) for c in plans if tech in plans[c][1]],
        )
        for tech in ("GPON", "XGS_PON")
    }
    customers: list[tuple[Any, ...]] = []
    ports: list[tuple[Any, ...]] = []
    hold = now + timedelta(days=2)
    for nap in naps:
        homes = served.get(nap.id, [])
        take = rng.betavariate(2.0, 3.5)
        users = rng.sample(homes, min(len(homes), round(take * nap.size)))
        numbers = rng.sample(range(1, nap.size + 1), nap.size)
        plan_ids, weights = choices[network.technology[nap.id]]
        for i, number in enumerate(numbers):
            status, held_by, customer_id, expires = "FREE", None, None, None
            if i < len(users):
                r = users[i]
                customer_id = len(customers) + 1
                created = now - timedelta(days=rng.randint(20, 1500), minutes=rng.randint(0, 1439))
                person = _person(customer_id, rng)
                plan = rng.choices(plan_ids, weights)[0]
                place = (_label(r), r[0], nap.id, number, plan)
                status = "SUSPENDED" if rng.random() < 0.04 else "ACTIVE"
                life = (status, created, created + timedelta(days=12), None, None)
                customers.append((*person, *place, *life))
                status, held_by = "IN_USE", str(customer_id)
            elif rng.random() < 0.02:
                status, held_by, expires = "RESERVED", f"Q-BENCH-{nap.id}-{number}", hold
            elif rng.random() < 0.01:
                status = "FAULTY"
            ports.append((len(ports) + 1, nap.id, number, status, expires, held_by, customer_id))
    churned: list[tuple[Any, ...]] = []
    for r in rng.sample(rows, min(len(rows), len(customers) // 20)):
        cid = len(customers) + len(churned) + 1
        since = now - timedelta(days=rng.randint(400, 2000))
        old_place = (_label(r), r[0], r[NAP_ID], None, rng.choice(choices["GPON"][0]))
        gone = since + timedelta(days=300)
        ended = ("DISCONNECTED", since, since + timedelta(days=12), gone, "moved away")
        churned.append((*_person(cid, rng, contact=False), *old_place, *ended))
    return {"customers": customers + churned, "nap_ports": ports}


#: the tables, in the order of COLUMNS
TABLES: dict[str, sa.Table] = {name: m.Base.metadata.tables[name] for name in COLUMNS}


def _pg_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def write(engine: Engine, data: dict[str, Sequence[Sequence[Any]]], progress: Progress) -> None:
    """Bulk-load the rows, in foreign-key order: COPY on PostgreSQL, executemany on SQLite."""
    postgres = is_postgres(engine)
    for name, table in TABLES.items():
        rows, columns = data[name], COLUMNS[name]
        task = progress.add_task(f"loading {name}", total=len(rows))
        timed = any(isinstance(table.c[c].type, UTCDateTime) for c in columns)
        if postgres:
            raw = engine.raw_connection()
            try:
                driver: Any = raw.driver_connection
                with driver.cursor() as cur:
                    sql = f"COPY {name} ({', '.join(columns)}) FROM STDIN"
                    with cur.copy(sql) as copy:
                        for i, row in enumerate(rows, start=1):
                            copy.write_row([_pg_value(v) for v in row] if timed else row)
                            if i % BATCH == 0:
                                progress.advance(task, BATCH)
                    cur.execute(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"coalesce(max(id), 1)) FROM {name}"
                    )
                driver.commit()
            finally:
                raw.close()
            progress.update(task, completed=len(rows))
            continue
        with engine.begin() as conn:
            for start in range(0, len(rows), BATCH):
                batch = rows[start : start + BATCH]
                conn.execute(sa.insert(table), [dict(zip(columns, r, strict=True)) for r in batch])
                progress.advance(task, len(batch))


def generate(url: str, *, n_premises: int, n_naps: int, seed: int = 7) -> dict[str, Any]:
    """Fill a fresh database; returns the sizes and timings."""
    if not 0 < n_naps <= n_premises:
        raise InvalidInput("need 0 < naps <= premises")
    rng = random.Random(seed)
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            for table in ("premises", "naps", "customers"):
                if conn.scalar(sa.text(f"SELECT count(*) FROM {table}")):
                    raise InvalidInput(f"the database is not empty ({table} has rows)")
            query = sa.select(m.Plan.code, m.Plan.id, m.Plan.technologies)
            plans = {r[0]: (r[1], r[2]) for r in conn.execute(query.where(m.Plan.active))}
        timings: dict[str, float] = {}

        def step(name: str, t0: float) -> float:
            timings[name] = round(time.perf_counter() - t0, 1)
            console.log(f"{name}: {timings[name]} s")
            return time.perf_counter()

        t = time.perf_counter()
        rows = build_premises(load_streets(), n_premises)
        t = step("premises built", t)
        naps = place_naps(rows, n_naps, rng)
        assign_premises(rows, naps)
        t = step("NAPs placed and premises assigned", t)
        network = build_network(naps, rng)
        data: dict[str, Sequence[Sequence[Any]]] = {**network.tables, "premises": rows}
        data.update(build_customers(rows, naps, network, plans, rng, datetime.now(UTC)))
        t = step("network and customers built", t)
        with Progress(console=console, transient=True) as progress:
            write(engine, data, progress)
        t = step("rows loaded", t)
        if is_postgres(engine):
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        step("analyzed", t)
    finally:
        engine.dispose()
    stats: dict[str, Any] = {name: len(table_rows) for name, table_rows in data.items()}
    stats["covered_premises"] = sum(1 for r in rows if r[NAP_ID] is not None)
    stats["in_use_ports"] = sum(1 for p in data["nap_ports"] if p[3] == "IN_USE")
    stats["seconds"], stats["steps"] = round(time.perf_counter() - started, 1), timings
    return stats


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of an empty database")
    parser.add_argument("--premises", type=int, default=1_000_000)
    parser.add_argument("--naps", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    try:
        stats = generate(args.url, n_premises=args.premises, n_naps=args.naps, seed=args.seed)
    except InvalidInput as exc:
        parser.exit(1, f"error: {exc.reason}\n")
    covered = 100 * stats["covered_premises"] / stats["premises"]
    console.print(
        f"Generated {stats['premises']:,} premises ({covered:.1f} % within {MAX_DROP_M} m of a "
        f"NAP), {stats['naps']:,} NAPs, {stats['splitters']:,} splitters, "
        f"{stats['pon_ports']:,} PON ports, {stats['olts']:,} OLTs, "
        f"{stats['central_offices']:,} central offices, {stats['nap_ports']:,} NAP ports "
        f"({stats['in_use_ports']:,} in use), {stats['customers']:,} customers "
        f"in {stats['seconds']} s"
    )
    return stats


if __name__ == "__main__":
    main()
