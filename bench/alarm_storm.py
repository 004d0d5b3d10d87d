"""Benchmark: an alarm storm ingested and correlated into outages, beside baselines.

``python -m bench.alarm_storm --url DB_URL [--alarms 100000] [--splitters 2000] [--seed 11]``

Builds a network in a fresh database: OLTs of 16 GPON ports, each port feeding two 1:32
splitters, each splitter four NAPs of 8 ports, every port with an active customer and an
installed ONT (2,000 splitters: 64,000 ONTs). Then a two-hour storm of ``--alarms`` alarms:
fiber cuts (one OLT, a few PON ports, whole splitters: every ONT below in LOS within
20 s; some already repaired), neighbourhood power cuts (75 to 100 % of a splitter's ONTs
sending a dying gasp within 90 s), and noise over the whole network: scattered LOS and
dying gasps of single ONTs, flapping ONTs, LOF, low and high Rx, deregistrations, alarms
of unknown ONTs and of unknown types.

Measures, each beside a baseline in the same run:
(a) ingest: ``services.alarms.ingest`` of the whole storm, beside a plain executemany
    insert of the same stored rows into the same table (same indexes and constraints; run
    last and removed, so it disturbs nothing else);
(b) correlate: ``services.outages.correlate`` (load, correlate, open outages, link alarms,
    list customers, queue notifications, commit), beside one raw SQL GROUP BY counting the
    distinct ONTs in LOS or dying gasp per splitter over the same alarms;
and the pure rules alone (``domain.correlation.correlate``). The outages found must be
exactly the injected events.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from fiberdesk.db import migrate
from fiberdesk.db import models as m
from fiberdesk.db.engine import is_postgres, make_engine, make_session_factory
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain import correlation
from fiberdesk.domain.customers import account_number
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import alarms, outages

console = Console(width=120)
PORTS_PER_OLT, SPLITTERS_PER_PORT, NAPS_PER_SPLITTER, ONTS_PER_NAP = 16, 2, 4, 8
TOWNS = [("TOWSON", "21204"), ("PARKVILLE", "21234"), ("CATONSVILLE", "21228"),
         ("DUNDALK", "21222"), ("ESSEX", "21221"), ("PIKESVILLE", "21208"),
         ("COCKEYSVILLE", "21030"), ("OWINGS MILLS", "21117")]  # fmt: skip
#: the noise, as shares of what the events leave of the storm
NOISE = {"LOW_RX": 44, "LOS": 17, "DYING_GASP": 10, "LOF": 8, "FLAP": 8, "HIGH_RX": 5,
         "DEREGISTERED": 5, "UNKNOWN_ONT": 1.5, "UNKNOWN_KIND": 1.5}  # fmt: skip
SPAN = timedelta(hours=2)
BATCH = 20_000


def build_network(engine: sa.Engine, n_splitters: int, now: datetime) -> list[tuple[int, ...]]:
    """Insert the network and its customers; returns (serial no, nap, splitter, port, olt)."""
    n_ports = -(-n_splitters // SPLITTERS_PER_PORT)
    n_olts = -(-n_ports // PORTS_PER_OLT)
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in (
        "central_offices", "olts", "pon_ports", "splitters", "naps", "premises", "customers",
        "nap_ports", "customer_equipment")}  # fmt: skip
    rows["central_offices"].append({"id": 1, "code": "CO-B", "name": "Bench CO", "lat": 39.4,
                                    "lon": -76.6})  # fmt: skip
    for o in range(1, n_olts + 1):
        rows["olts"].append({"id": o, "central_office_id": 1, "name": f"OLT-B{o:03d}",
                             "vendor": "SimOLT", "model": "S16",
                             "tx_power_dbm": Decimal(3)})  # fmt: skip
    onts: list[tuple[int, ...]] = []
    for s in range(1, n_splitters + 1):
        port = (s - 1) // SPLITTERS_PER_PORT + 1
        olt = (port - 1) // PORTS_PER_OLT + 1
        if s % SPLITTERS_PER_PORT == 1 or SPLITTERS_PER_PORT == 1:
            rows["pon_ports"].append({"id": port, "olt_id": olt, "slot": (port - 1) % 16 // 8 + 1,
                                      "port": (port - 1) % 8 + 1, "technology": "GPON",
                                      "max_split": 64})  # fmt: skip
        rows["splitters"].append({"id": s, "pon_port_id": port, "code": f"LCP-B{s:05d}",
                                  "ratio": 32, "lat": 39.4, "lon": -76.6, "feeder_m": 3000,
                                  "connectors": 2, "splices": 4})  # fmt: skip
        city, zip_code = TOWNS[(olt - 1) % len(TOWNS)]
        for n in range(NAPS_PER_SPLITTER):
            nap = (s - 1) * NAPS_PER_SPLITTER + n + 1
            rows["naps"].append({"id": nap, "splitter_id": s, "code": f"NAP-B{nap:06d}",
                                 "lat": 39.4, "lon": -76.6, "port_count": 8,
                                 "distribution_m": 300, "connectors": 2, "splices": 2})  # fmt: skip
            for p in range(1, ONTS_PER_NAP + 1):
                c = (nap - 1) * ONTS_PER_NAP + p
                address = f"{c} BENCH RD, {city}, MD {zip_code}"
                rows["premises"].append({"id": c, "source_id": f"B{c}", "number": str(c),
                                         "street_name": "BENCH", "street_type": "RD",
                                         "street": "BENCH RD", "city": city, "state": "MD",
                                         "zip": zip_code, "lat": 39.4, "lon": -76.6,
                                         "multi_dwelling": False, "nap_id": nap})  # fmt: skip
                rows["customers"].append({"id": c, "account_number": account_number(c),
                                          "name": f"Customer {c}", "email": f"c{c}@example.com",
                                          "phone": "+14105550100", "service_address": address,
                                          "premises_id": c, "nap_id": nap, "port_number": p,
                                          "status": "ACTIVE", "created_at": now})  # fmt: skip
                rows["nap_ports"].append({"id": c, "nap_id": nap, "number": p,
                                          "status": "IN_USE", "customer_id": c})  # fmt: skip
                rows["customer_equipment"].append({"id": c, "customer_id": c, "type": "ONT",
                                                   "serial_number": serial(c),
                                                   "status": "INSTALLED",
                                                   "created_at": now})  # fmt: skip
                onts.append((c, nap, s, port, olt))
    with engine.begin() as conn:
        for name, table_rows in rows.items():
            table = m.Base.metadata.tables[name]
            for i in range(0, len(table_rows), BATCH):
                conn.execute(sa.insert(table), table_rows[i : i + BATCH])
        if is_postgres(engine):
            for name in rows:
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                     f"(SELECT max(id) FROM {name}))")  # fmt: skip
    analyze(engine)
    return onts


def serial(n: int) -> str:
    return f"BNCH{n:08X}"


def analyze(engine: sa.Engine) -> None:
    if is_postgres(engine):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def make_storm(
    onts: list[tuple[int, ...]], n_alarms: int, rng: random.Random, end: datetime
) -> tuple[list[alarms.IncomingAlarm], set[tuple[str, str, int]], dict[str, int]]:
    """The alarms, the injected outages as (kind, scope, id), and the mix."""
    start = end - SPAN
    under: dict[tuple[int, int], list[tuple[int, ...]]] = {}
    for ont in onts:
        for depth in (2, 3, 4):  # splitter, port, OLT
            under.setdefault((depth, ont[depth]), []).append(ont)
    n_splitters, n_ports, n_olts = (max(o[d] for o in onts) for d in (2, 3, 4))
    out: list[alarms.IncomingAlarm] = []
    mix: dict[str, int] = {}
    truth: set[tuple[str, str, int]] = set()
    taken: set[int] = set()  # splitters inside an event

    def when(lo: timedelta = timedelta(minutes=10)) -> datetime:
        return start + lo + (SPAN - 2 * lo) * rng.random()

    def add(kind: str, ser: str, at: datetime, cleared: datetime | None, what: str) -> None:
        mix[what] = mix.get(what, 0) + 1
        cleared = cleared if cleared and cleared <= end else None
        out.append(alarms.IncomingAlarm(kind, ser, at, cleared, id=f"storm-{len(out)}"))

    def event(kind: str, scope: str, depth: int, element: int, share: float, spread: float) -> None:
        at, repaired = when(), rng.random() < 0.4
        hit = under[(depth, element)]
        for ont in rng.sample(hit, max(1, round(share * len(hit)))):
            raised = at + timedelta(seconds=spread * rng.random())
            fixed = raised + timedelta(minutes=rng.uniform(30, 60)) if repaired else None
            add(kind, serial(ont[0]), raised, fixed, f"{kind} {scope.lower()} event")
        truth.add(("FIBER" if kind == "LOS" else "POWER", scope, element))
        taken.update(o[2] for o in hit)

    if n_olts >= 3:
        event("LOS", "OLT", 4, rng.randint(1, n_olts), 1.0, 20)
    free_ports = [p for p in range(1, n_ports + 1) if not taken & {o[2] for o in under[(3, p)]}]
    for port in rng.sample(free_ports, max(1, n_splitters // 500)):
        event("LOS", "PON_PORT", 3, port, 1.0, 20)
    free = [s for s in range(1, n_splitters + 1) if s not in taken]
    picks = rng.sample(free, max(2, n_splitters // 80) + max(1, n_splitters // 300))
    for i, s in enumerate(picks):
        if i < max(2, n_splitters // 80):
            event("LOS", "SPLITTER", 2, s, 1.0, 20)
        else:
            event("DYING_GASP", "SPLITTER", 2, s, rng.uniform(0.75, 1.0), 90)
    left = n_alarms - len(out)
    if left < 0:
        raise InvalidInput("too few alarms for the events: raise --alarms or lower --splitters")
    weights = list(NOISE.values())
    for what in rng.choices(list(NOISE), weights, k=left):
        ont, at = rng.choice(onts), when(timedelta(0))
        cleared = at + timedelta(minutes=rng.uniform(1, 30)) if rng.random() < 0.7 else None
        if what == "FLAP":
            at = min(end, at + timedelta(seconds=rng.uniform(0, 300)))
            add("LOS", serial(ont[0]), at, at + timedelta(seconds=20), "LOS flapping ONT")
        elif what == "UNKNOWN_ONT":
            add("LOS", f"UNKN{rng.getrandbits(32):08X}", at, cleared, "unknown ONT")
        elif what == "UNKNOWN_KIND":
            add("TEMP_HIGH", serial(ont[0]), at, cleared, "unknown type")
        else:
            add(what, serial(ont[0]), at, cleared, f"{what} single ONT")
    return out, truth, mix


#: this process's CPU seconds of the last ``_timed`` call (the load of a shared machine
#: stretches wall clock time; for SQLite, which runs in the process, CPU time is the work)
last_cpu = 0.0


def _timed(work: Any) -> tuple[float, Any]:
    global last_cpu
    t0, c0 = time.perf_counter(), time.process_time()
    result = work()
    last_cpu = time.process_time() - c0
    return time.perf_counter() - t0, result


def run(url: str, *, n_alarms: int, n_splitters: int, seed: int) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            for table in ("alarms", "splitters", "customers"):
                if conn.scalar(sa.text(f"SELECT count(*) FROM {table}")):
                    raise InvalidInput(f"the database is not empty ({table} has rows)")
        factory = make_session_factory(engine)
        rng = random.Random(seed)
        now = datetime.now(UTC).replace(microsecond=0)
        build_s, onts = _timed(lambda: build_network(engine, n_splitters, now))
        storm, truth, mix = make_storm(onts, n_alarms, rng, now)

        def ingest() -> alarms.IngestResult:
            with UnitOfWork(factory) as uow:
                return alarms.ingest(uow, actor=SYSTEM_ACTOR, alarms=storm, source="olt-bench")

        ingest_s, ingested = _timed(ingest)
        ingest_cpu = last_cpu
        settings = outages.OutageSettings(
            company_name="Bench Fiber", support_phone="+1 410 555 0100", lookback_hours=3
        )

        def correlate() -> outages.CorrelationResult:
            with UnitOfWork(factory) as uow:
                return outages.correlate(uow, actor=SYSTEM_ACTOR, settings=settings, now=now)

        group_by = sa.text("SELECT splitter_id, count(DISTINCT ont_serial) FROM alarms "
                           "WHERE kind IN ('LOS', 'DYING_GASP') AND matched "
                           "GROUP BY splitter_id")  # fmt: skip

        def baseline() -> int:
            with engine.connect() as conn:
                return len(conn.execute(group_by).all())

        pure_s, pure_n = _pure(factory, settings, now)
        base_s, _ = _timed(baseline)
        corr_s, result = _timed(correlate)
        corr_cpu = last_cpu
        again_s, again = _timed(correlate)
        with UnitOfWork(factory, write=False) as uow:
            found = {(o.kind.value, o.scope.value, o.scope_id): o for o in
                     uow.session.scalars(sa.select(m.Outage))}  # fmt: skip
            queued = uow.session.scalar(sa.select(sa.func.count()).select_from(m.OutboxMessage))
        raw_s = _raw_insert(engine)
    finally:
        engine.dispose()
    figures = {
        "database": engine.dialect.name,
        "alarms": len(storm),
        "onts": len(onts),
        "splitters": n_splitters,
        "mix": dict(sorted(mix.items(), key=lambda kv: -kv[1])),
        "build_s": round(build_s, 2),
        "ingest_s": round(ingest_s, 3),
        "ingest_cpu_s": round(ingest_cpu, 3),
        "ingest_baseline_raw_insert_s": round(raw_s, 3),
        "stored": ingested.stored,
        "unmatched": ingested.unmatched,
        "correlate_s": round(corr_s, 3),
        "correlate_cpu_s": round(corr_cpu, 3),
        "correlate_baseline_group_by_s": round(base_s, 3),
        "load_average": round(os.getloadavg()[0], 1),
        "pure_correlation_s": round(pure_s, 3),
        "correlation_candidates": result.candidates,
        "outages_opened": len(result.opened),
        "outages_quietly_resolved": sum(1 for o in found.values() if o.status.value == "RESOLVED"),
        "notifications_queued": queued,
        "rerun_s": round(again_s, 3),
        "rerun_opened": len(again.opened),
        "injected": len(truth),
        "found": len(found),
        "missing": sorted(map(list, truth - found.keys())),
        "extra": sorted(map(list, found.keys() - truth)),
        "pure_outages": pure_n,
    }
    figures["exact"] = not figures["missing"] and not figures["extra"]
    return figures


def _raw_insert(engine: sa.Engine) -> float:
    """The ingest baseline: the rows ingest stored, inserted again into the same table (same
    indexes and constraints) by one plain executemany; removed afterwards."""
    table = m.Alarm.__table__
    with engine.connect() as conn:
        rows = [
            dict(r._mapping) | {"id": None, "source": "baseline", "outage_id": None}
            for r in conn.execute(sa.select(table))
        ]
    for row in rows:
        del row["id"]

    def insert() -> None:
        with engine.begin() as conn:
            conn.execute(sa.insert(table), rows)

    seconds, _ = _timed(insert)
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.source == "baseline"))
    return seconds


def _pure(factory: Any, settings: outages.OutageSettings, now: datetime) -> tuple[float, int]:
    """The rules alone, on the same alarms (loaded outside the timing)."""
    with UnitOfWork(factory, write=False) as uow:
        s = uow.session
        rows = s.execute(
            sa.select(m.Alarm.id, m.Alarm.ont_serial, m.Alarm.kind, m.Alarm.raised_at,
                      m.Customer.nap_id, m.Alarm.splitter_id, m.Alarm.pon_port_id, m.Alarm.olt_id)
            .join(m.Customer, m.Customer.id == m.Alarm.customer_id)
            .where(m.Alarm.kind.in_(["LOS", "DYING_GASP"]), m.Alarm.matched.is_(True))
        ).all()  # fmt: skip
        counts = outages.element_counts(s)
    located = [correlation.LocatedAlarm(*r) for r in rows]
    seconds, result = _timed(lambda: correlation.correlate(located, counts, settings.rules))
    return seconds, len(result.outages)


def report(f: dict[str, Any]) -> None:
    console.print(
        f"[bold]{f['database']}[/]: {f['alarms']:,} alarms over 2 h on {f['onts']:,} ONTs "
        f"({f['splitters']:,} splitters); network built in {f['build_s']} s"
    )
    mix = Table("in the storm", "alarms")
    for what, n in f["mix"].items():
        mix.add_row(what, f"{n:,}")
    console.print(mix)
    table = Table("step", "wall s", "CPU s", "baseline", "baseline s", "ratio")
    ingest, raw = f["ingest_s"], f["ingest_baseline_raw_insert_s"]
    table.add_row("ingest (match, dedupe, suppress, insert)", f"{ingest:.3f}",
                  f"{f['ingest_cpu_s']:.3f}", "raw insert, same rows, same table", f"{raw:.3f}",
                  f"{ingest / max(raw, 1e-6):.1f}x")  # fmt: skip
    corr, group_by = f["correlate_s"], f["correlate_baseline_group_by_s"]
    table.add_row("correlate into outages (service, commit)", f"{corr:.3f}",
                  f"{f['correlate_cpu_s']:.3f}", "raw GROUP BY splitter, same alarms",
                  f"{group_by:.3f}", f"{corr / max(group_by, 1e-6):.1f}x")  # fmt: skip
    table.add_row("  of which the pure rules", f"{f['pure_correlation_s']:.3f}", "", "", "", "")
    table.add_row("correlate again (nothing new)", f"{f['rerun_s']:.3f}", "", "", "", "")
    console.print(table)
    console.print(f"load average during the run: {f['load_average']} (on {os.cpu_count()} CPUs)")
    verdict = "[green]exactly the injected events[/]" if f["exact"] else "[red]MISMATCH[/]"
    console.print(
        f"{f['correlation_candidates']:,} LOS/dying-gasp alarms correlated: "
        f"{f['found']} outages for {f['injected']} injected events, {verdict} "
        f"({f['outages_quietly_resolved']} already repaired, recorded quietly); "
        f"{f['notifications_queued']:,} notifications queued; "
        f"re-run opened {f['rerun_opened']}"
        + (f"\nmissing {f['missing']}\nextra {f['extra']}" if not f["exact"] else "")
    )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.alarm_storm",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of an empty database")
    parser.add_argument("--alarms", type=int, default=100_000)
    parser.add_argument("--splitters", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    try:
        figures = run(args.url, n_alarms=args.alarms, n_splitters=args.splitters, seed=args.seed)
    except InvalidInput as exc:
        parser.exit(1, f"error: {exc.reason}\n")
    report(figures)
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
