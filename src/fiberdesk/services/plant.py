"""The passive plant in memory: NAPs with their optical path, PON ports, OLTs and plans.

Service qualification reads the same few thousand rows of outside plant on every request,
and they change rarely (a network import, a catalog edit). Each process keeps them in
memory, per engine, and reloads them:

* at once when this process writes to one of their tables (any INSERT, UPDATE, DELETE or
  TRUNCATE of ``naps``, ``splitters``, ``pon_ports``, ``olts``, ``central_offices`` or
  ``plans`` through any engine of the process, seen as the statement runs and again when
  its connection goes back to the pool, that is after its commit or rollback);
* otherwise when another process changed them (another uvicorn worker, the CLI, the demo
  builder): every ``CHECK_S`` (5 s) a process reads the plant's change counter, one small
  row that triggers raise on every write to those tables (migration 0013), and reloads in
  a background thread only if the number moved; requests go on with the copy they have.

What changes all the time is not in here: the state of NAP ports (free, held, in use) and
customers are read from the database on every qualification.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from fiberdesk.db.models import ChangeCounter, Nap, Olt, Plan, PonPort, Splitter
from fiberdesk.db.models.change_counters import PLANT as PLANT_COUNTER
from fiberdesk.domain.catalog import TierSpec
from fiberdesk.domain.network import PonTechnology

log = logging.getLogger(__name__)

#: how often a process asks the database whether another process changed the plant
CHECK_S = 5.0
#: the grid's cell, in degrees of latitude and longitude (about 550 m by 430 m here)
CELL_DEG = 0.005

PLANT_TABLES = frozenset({"naps", "splitters", "pon_ports", "olts", "central_offices", "plans"})
_WRITE_VERB = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|TRUNCATE|REPLACE)\b", re.IGNORECASE)
#: where a write statement's target table(s) end: its column list, SET, WHERE, ...
_TARGET_END = re.compile(r"[(]|\b(?:SET|WHERE|VALUES|SELECT|RETURNING|DEFAULT|USING)\b", re.I)
#: in a connection's ``info``: what to run again when it goes back to the pool
_AT_CHECKIN = "fiberdesk.on_write_at_checkin"
_WRITE_HEADS = frozenset("IiUuDdTtRr")
#: the clock of both caches' ages (a function, so that tests can move it)
clock = time.monotonic


@dataclass(frozen=True, slots=True)
class NapPath:
    """A NAP and the optical path from its OLT down to it (the drop comes on top)."""

    nap_id: int
    code: str
    lat: float
    lon: float
    pon_id: int
    ratio: int
    #: feeder plus distribution fiber, metres
    fiber_m: int
    #: the splitter's and the NAP's connectors and splices
    connectors: int
    splices: int
    tx_dbm: Decimal


@dataclass(frozen=True, slots=True)
class PonInfo:
    id: int
    label: str
    technology: PonTechnology
    max_split: int
    #: every NAP under the port (its usage counts all of their ports)
    nap_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PlanInfo:
    id: int
    code: str
    name: str
    download_mbps: int
    upload_mbps: int
    monthly_price: Decimal
    install_fee: Decimal
    currency: str
    use_case: str
    spec: TierSpec


@dataclass(frozen=True, slots=True)
class Plant:
    naps: dict[int, NapPath]
    pons: dict[int, PonInfo]
    #: active plans in catalog order (sort order, then id)
    active_plans: tuple[PlanInfo, ...]
    #: (lat cell, lon cell) -> the NAPs in it
    grid: dict[tuple[int, int], tuple[NapPath, ...]]
    generation: int
    loaded_at: float
    #: the plant's change counter when the load began (None: the database has none)
    version: int | None

    def naps_in_box(
        self, lat_lo: float, lat_hi: float, lon_lo: float, lon_hi: float
    ) -> list[NapPath]:
        """NAPs with ``lat_lo <= lat <= lat_hi`` and ``lon_lo <= lon <= lon_hi`` (the
        inclusive bounds of SQL's BETWEEN)."""
        found = []
        grid = self.grid
        for i in range(math.floor(lat_lo / CELL_DEG), math.floor(lat_hi / CELL_DEG) + 1):
            for j in range(math.floor(lon_lo / CELL_DEG), math.floor(lon_hi / CELL_DEG) + 1):
                for nap in grid.get((i, j), ()):
                    if lat_lo <= nap.lat <= lat_hi and lon_lo <= nap.lon <= lon_hi:
                        found.append(nap)
        return found


# -- invalidation -------------------------------------------------------------------------

_generation = 0
_generation_lock = threading.Lock()


def invalidate() -> None:
    """Make every engine's plant in this process reload on its next use."""
    global _generation
    with _generation_lock:
        _generation += 1


def generation() -> int:
    return _generation


def tables_written(statement: str) -> set[str]:
    """The tables an SQL statement inserts into, updates, deletes from or truncates (lower
    case; empty for anything else)."""
    if _WRITE_VERB.match(statement) is None:
        return set()
    end = _TARGET_END.search(statement)
    target = statement[: end.start()] if end else statement
    return {word.lower() for word in re.findall(r"\w+", target)}


def writes_plant(statement: str) -> bool:
    """Whether an SQL statement inserts, updates, deletes or truncates a plant table."""
    return not PLANT_TABLES.isdisjoint(tables_written(statement))


#: (tables, callback): run the callback when this process writes to one of the tables
_WATCHERS: list[tuple[frozenset[str], Callable[[], None]]] = []


def on_write(tables: Iterable[str], callback: Callable[[], None]) -> None:
    """Call ``callback`` whenever a statement of this process (any engine) writes to one
    of ``tables``: as the statement runs, and again when its connection goes back to the
    pool, that is after its commit or rollback (a cache reloaded by another thread in
    between may have read the rows as they were before)."""
    _WATCHERS.append((frozenset(t.lower() for t in tables), callback))


@event.listens_for(Engine, "after_cursor_execute")
def _after_cursor_execute(
    conn: sa.Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: Any,
    executemany: bool,
) -> None:
    # cheap for reads: one character test before the regular expressions
    if statement.lstrip()[:1] not in _WRITE_HEADS:
        return
    written = tables_written(statement)
    if not written:
        return
    for tables, callback in _WATCHERS:
        if not tables.isdisjoint(written):
            callback()
            conn.info.setdefault(_AT_CHECKIN, set()).add(callback)


@event.listens_for(Pool, "checkin")
def _checkin(dbapi_connection: Any, record: Any) -> None:
    if record is None:
        return
    for callback in record.info.pop(_AT_CHECKIN, ()):
        callback()


on_write(PLANT_TABLES, invalidate)


# -- loading ------------------------------------------------------------------------------


_VERSION = sa.select(ChangeCounter.version).where(ChangeCounter.name == PLANT_COUNTER)


def _version(session: Session) -> int | None:
    return session.connection().execute(_VERSION).scalar()


def _load(session: Session, generation: int) -> Plant:
    # the counter first: a change committed while the rows are read is loaded again at
    # the next check (a newer number), never missed
    version = _version(session)
    conn = session.connection()
    # PON ports first: a NAP under a port this load has not seen (added between the two
    # statements) is left for the next load
    pon_rows = {
        row.id: row
        for row in conn.execute(
            sa.select(
                PonPort.id,
                Olt.name,
                PonPort.slot,
                PonPort.port,
                PonPort.technology,
                PonPort.max_split,
            ).join(Olt, PonPort.olt_id == Olt.id)
        )
    }
    naps: dict[int, NapPath] = {}
    by_pon: defaultdict[int, list[int]] = defaultdict(list)
    grid: defaultdict[tuple[int, int], list[NapPath]] = defaultdict(list)
    rows = conn.execute(
        sa.select(
            Nap.id,
            Nap.code,
            Nap.lat,
            Nap.lon,
            Nap.distribution_m,
            Nap.connectors,
            Nap.splices,
            Splitter.ratio,
            Splitter.feeder_m,
            Splitter.connectors,
            Splitter.splices,
            Splitter.pon_port_id,
            Olt.tx_power_dbm,
        )
        .join(Splitter, Nap.splitter_id == Splitter.id)
        .join(PonPort, Splitter.pon_port_id == PonPort.id)
        .join(Olt, PonPort.olt_id == Olt.id)
        .order_by(Nap.id)
    )
    txs: dict[Decimal, Decimal] = {}
    for (
        nap_id,
        code,
        lat,
        lon,
        dist_m,
        n_conn,
        n_spl,
        ratio,
        feeder_m,
        s_conn,
        s_spl,
        pon_id,
        tx,
    ) in rows:
        if pon_id not in pon_rows:
            continue
        tx_dbm = txs.setdefault(tx, Decimal(tx))
        nap = NapPath(
            nap_id,
            code,
            lat,
            lon,
            pon_id,
            ratio,
            feeder_m + dist_m,
            s_conn + n_conn,
            s_spl + n_spl,
            tx_dbm,
        )
        naps[nap_id] = nap
        by_pon[pon_id].append(nap_id)
        grid[(math.floor(lat / CELL_DEG), math.floor(lon / CELL_DEG))].append(nap)
    pons = {
        pon_id: PonInfo(
            pon_id,
            f"{r.name} {r.slot}/{r.port}",
            PonTechnology(r.technology),
            r.max_split,
            tuple(by_pon.get(pon_id, ())),
        )
        for pon_id, r in pon_rows.items()
    }
    plans = tuple(
        PlanInfo(
            p.id,
            p.code,
            p.name,
            p.download_mbps,
            p.upload_mbps,
            p.monthly_price,
            p.install_fee,
            p.currency,
            p.use_case,
            TierSpec(
                p.code,
                p.name,
                p.download_mbps,
                p.upload_mbps,
                p.monthly_price,
                p.use_case,
                frozenset(PonTechnology(t) for t in p.technologies.split(",") if t),
                p.static_ip,
            ),
        )
        for p in conn.execute(
            sa.select(
                Plan.id,
                Plan.code,
                Plan.name,
                Plan.download_mbps,
                Plan.upload_mbps,
                Plan.monthly_price,
                Plan.install_fee,
                Plan.currency,
                Plan.use_case,
                Plan.technologies,
                Plan.static_ip,
            )
            .where(Plan.active.is_(True))
            .order_by(Plan.sort_order, Plan.id)
        )
    )
    return Plant(
        naps,
        pons,
        plans,
        {cell: tuple(members) for cell, members in grid.items()},
        generation,
        clock(),
        version,
    )


class _PlantCache:
    """One plant per engine. A plant this process's writes made stale is reloaded before
    it is used again (the request waits); one that another process changed, as the change
    counter tells, is reloaded in a background thread while requests go on with it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: weak: a disposed engine's plant goes with it, a new engine never inherits one
        self._by_engine: weakref.WeakKeyDictionary[Engine, Plant] = weakref.WeakKeyDictionary()
        self._reloading: weakref.WeakSet[Engine] = weakref.WeakSet()
        #: when each engine's change counter was last read
        self._checked: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()

    def clear(self) -> None:
        with self._lock:
            self._by_engine.clear()
            self._checked.clear()

    def get(self, session: Session) -> Plant:
        bind = session.get_bind()
        engine = bind.engine if isinstance(bind, sa.Connection) else bind
        assert isinstance(engine, Engine)
        cached = self._by_engine.get(engine)
        if cached is not None and cached.generation == _generation:
            now = clock()
            if now - self._checked.get(engine, cached.loaded_at) >= CHECK_S:
                self._checked[engine] = now
                if _version(session) != cached.version:
                    self._reload_in_background(engine)
            return cached
        with self._lock:
            cached = self._by_engine.get(engine)
            current = _generation
            if cached is not None and cached.generation == current:
                return cached
            plant = _load(session, current)
            self._by_engine[engine] = plant
            return plant

    def _reload_in_background(self, engine: Engine) -> None:
        with self._lock:
            if engine in self._reloading:
                return
            self._reloading.add(engine)
        threading.Thread(
            target=self._reload, args=(engine,), name="fiberdesk-plant-reload", daemon=True
        ).start()

    def _reload(self, engine: Engine) -> None:
        try:
            current = _generation
            with Session(engine) as session:
                plant = _load(session, current)
            with self._lock:
                cached = self._by_engine.get(engine)
                # a load made stale meanwhile, or overtaken by a newer one, is dropped
                if cached is None or cached.generation <= plant.generation:
                    self._by_engine[engine] = plant
        except Exception:  # the next use after this one retries
            log.exception("reloading the plant failed; the previous copy stays in use")
        finally:
            with self._lock:
                self._reloading.discard(engine)


PLANT = _PlantCache()


def get(session: Session) -> Plant:
    """This process's plant for the session's database, loaded or reloaded if need be."""
    return PLANT.get(session)
