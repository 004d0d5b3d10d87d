"""Benchmark: the five KPIs over 1,000,000 orders and 5,000,000 tickets on PostgreSQL.

``python -m bench.kpis [--server DSN | --url DB_URL] [--orders 1000000] [--tickets 5000000]
[--seed 7] [--index-experiment] [--keep]``

It creates a database on ``--server`` (dropped at the end unless ``--keep``), or uses the
empty database ``--url``, migrates it and loads with COPY (``psycopg`` ``cursor.copy``) two
years of history up to 2026-07-01: premises in 40 ZIP codes, one customer per new-install
order (activated when the order completes, some later disconnected), the orders, the
tickets (about 68 % resolved on first contact within minutes, the rest in hours or days)
and satisfaction surveys, each table's ids in the order its rows were entered (as rows are
appended in production). The indexes and foreign keys are dropped for the load and rebuilt
after it, then the tables are vacuumed and analysed. While generating, it tallies every KPI for the
benchmark period (the six months 2026-01-01 to 2026-07-01) in Python, and checks that
``compute()`` returns the same values.

It then times, in one run: ``compute()`` cold (a fresh connection pool, its first call) and
warm (median of 5), each KPI's query, ``compute()`` for one area and one team, the
dashboard's trends, ``prometheus_text``, and the baselines ``SELECT count(*) FROM tickets``
and ``SELECT count(*)`` of the tickets resolved in the period. ``--index-experiment`` also
times ``compute()`` with the covering indexes of ``CANDIDATE_INDEXES`` and drops them again.
Prints a table and one JSON line; exits non-zero when a value differs from the tally.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import psycopg
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from fiberdesk.bootstrap import build
from fiberdesk.config import Settings
from fiberdesk.db import migrate
from fiberdesk.db.engine import make_engine
from fiberdesk.domain.customers import account_number
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.kpis import Metric, monthly_churn, percent, rounded
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import kpis

console = Console(width=110)
NOW = datetime(2026, 7, 1, tzinfo=UTC)
START = datetime(2026, 1, 1, tzinfo=UTC)
HISTORY_DAYS = 730
ZIPS = [str(21201 + i) for i in range(40)]
TEAMS = (["CSR"] * 60) + (["NOC"] * 25) + (["BILLING"] * 10) + (["DISPATCH"] * 5)
CATEGORIES = ["NO_INTERNET", "SLOW_SPEED", "INTERMITTENT", "WIFI", "BILLING", "EQUIPMENT"]
SCORES = [1] * 3 + [2] * 4 + [3] * 10 + [4] * 30 + [5] * 53
SCOPE = kpis.Scope(None, None)
TABLES = ("premises", "customers", "service_orders", "tickets", "surveys")
#: the covering indexes of migration 0009 (the KPI queries read the index alone, an
#: index-only scan); --index-experiment measures without them for comparison
CANDIDATE_INDEXES = {
    "ix_tickets_resolved_kpi": "ON tickets "
    "(resolved_at, created_at, first_contact_resolution, team, customer_id)",
    "ix_service_orders_completed_kpi": "ON service_orders "
    "(completed_date, created_at, type, status, customer_id)",
}
EPOCH0 = int((NOW - timedelta(days=HISTORY_DAYS)).timestamp())
NOW_S, START_S = int(NOW.timestamp()), int(START.timestamp())
NULL = "\\N"
DAYS = [(NOW - timedelta(days=HISTORY_DAYS - d)).strftime("%Y-%m-%d") for d in range(800)]


def ts(epoch: int) -> str:
    """COPY text for a UTC timestamp (whole seconds), fast."""
    day, rest = divmod(epoch - EPOCH0, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{DAYS[day]} {hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


class Tally:
    """Each KPI over [START, NOW), counted while the rows are generated."""

    def __init__(self) -> None:
        self.lead_s = self.installs = 0
        self.resolved = self.fcr = self.resolve_s = 0
        self.answers = self.score_sum = 0
        self.active_at_start = self.churned = 0

    def values(self) -> dict[Metric, float | None]:
        def mean(total: int, n: int, unit: int = 1) -> float | None:
            return rounded(total / unit / n) if n else None

        return {
            Metric.INSTALL_LEAD_TIME: mean(self.lead_s, self.installs, 86400),
            Metric.FIRST_CALL_RESOLUTION: percent(self.fcr, self.resolved),
            Metric.CSAT: mean(self.score_sum, self.answers),
            Metric.CHURN: monthly_churn(self.churned, self.active_at_start, START, NOW),
            Metric.TICKET_RESOLUTION_TIME: mean(self.resolve_s, self.resolved, 3600),
        }


def _copy(conn: psycopg.Connection[Any], table: str, columns: str, lines: Iterable[str]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) == 20_000:
                copy.write("".join(batch))
                batch = []
        copy.write("".join(batch))


class Generator:
    """The rows, as COPY text, with the KPIs of the benchmark period tallied on the way."""

    def __init__(self, n_orders: int, n_tickets: int, seed: int, surveys: TextIO) -> None:
        self.n_orders, self.n_tickets = n_orders, n_tickets
        self.rng, self.tally, self.surveys, self.n_surveys = (
            random.Random(seed),
            Tally(),
            surveys,
            0,
        )
        self.n_premises = max(len(ZIPS), n_orders // 20)
        self.premises_of = [self.rng.randrange(self.n_premises) for _ in range(n_orders)]

    def zip_of(self, customer_id: int) -> str:
        return ZIPS[self.premises_of[customer_id - 1] % len(ZIPS)]

    def premises(self) -> Iterator[str]:
        for i in range(self.n_premises):
            where = f"MAIN\tMAIN ST\tMD\t{ZIPS[i % len(ZIPS)]}\t39.4\t-76.6"
            yield f"{i + 1}\tB{i + 1}\t{i % 900 + 1}\t{where}\tf\n"

    def survey(self, cid: int, kind: str, ref: int, team: str, sent: int) -> None:
        rng, tally = self.rng, self.tally
        self.n_surveys += 1
        answered = sent + rng.randrange(3 * 86400)
        score = rng.choice(SCORES) if rng.random() < 0.4 and answered < NOW_S else None
        if score is not None and START_S <= answered < NOW_S:
            tally.answers += 1
            tally.score_sum += score
        order_id, ticket_id = (ref, NULL) if kind == "INSTALLATION" else (NULL, ref)
        self.surveys.write(
            f"{self.n_surveys}\t{cid}\t{kind}\t{order_id}\t{ticket_id}\tagent{ref % 97}\t{team}\t"
            f"{self.zip_of(cid)}\t{ts(sent)}\t{ts(sent + 14 * 86400)}\t"
            f"{ts(answered) if score else NULL}\t{score or NULL}\n"
        )

    def customers_and_orders(self) -> tuple[list[str], list[str]]:
        rng, tally = self.rng, self.tally
        customers, orders = [], []
        step = HISTORY_DAYS * 86400 / self.n_orders
        for cid in range(1, self.n_orders + 1):  # ids in the order rows were entered
            created = EPOCH0 + int((cid - 1 + rng.random()) * step)
            lead = int((2 + rng.gammavariate(2.0, 2.6)) * 86400)
            done, act, disc = created + lead, NULL, NULL
            status = "SCHEDULED"
            if done < NOW_S:
                gone = done + int(rng.expovariate(1 / 45) * 30.44 * 86400)
                act, status = ts(done), "ACTIVE"
                if gone < NOW_S:
                    disc, status = ts(gone), "DISCONNECTED"
                if done >= START_S:
                    tally.installs += 1
                    tally.lead_s += lead
                tally.active_at_start += done < START_S <= gone
                tally.churned += START_S <= gone < NOW_S
                if rng.random() < 0.3:
                    self.survey(cid, "INSTALLATION", cid, "FIELD", done + 3600)
            customers.append(
                f"{cid}\t{account_number(cid)}\tCustomer {cid}\t{cid} MAIN ST\t"
                f"{self.premises_of[cid - 1] + 1}\t{status}\t{ts(created)}\t{act}\t{disc}\t"
                f"{'moved away' if disc != NULL else NULL}\n"
            )
            done_text = "COMPLETED\t" + act if act != NULL else "SCHEDULED\t" + NULL
            orders.append(f"{cid}\t{cid}\tNEW_INSTALL\t{ts(created)}\t{done_text}\t{{}}\t[]\n")
        return customers, orders

    def tickets(self) -> Iterator[str]:
        rng, tally = self.rng, self.tally
        step = HISTORY_DAYS * 86400 / self.n_tickets
        for tid in range(1, self.n_tickets + 1):
            cid = rng.randrange(self.n_orders) + 1
            created = EPOCH0 + int((tid - 1 + rng.random()) * step)
            team = rng.choice(TEAMS)
            fcr = rng.random() < 0.68
            hours = rng.uniform(0.05, 1.5) if fcr else 2 + rng.expovariate(1 / 30)
            end = created + int(hours * 3600)
            status, flag, resolved = "IN_PROGRESS", NULL, NULL
            if end < NOW_S:
                status = "CLOSED" if end < NOW_S - 7 * 86400 else "RESOLVED"
                flag, resolved = ("t" if fcr else "f"), ts(end)
                if end >= START_S:
                    tally.resolved += 1
                    tally.fcr += fcr
                    tally.resolve_s += end - created
                if rng.random() < 0.1:
                    self.survey(cid, "TICKET", tid, team, end + 600)
            yield (
                f"{tid}\t{cid}\t{CATEGORIES[tid % 6]}\tNORMAL\t{status}\tno service\t{team}\t"
                f"{flag}\t{'f' if fcr else 't'}\tf\t{1 if fcr else 2}\t{ts(created)}\t"
                f"{resolved}\t[]\n"
            )


def load(conn: psycopg.Connection[Any], n_orders: int, n_tickets: int, seed: int) -> Tally:
    """Fill the tables with COPY; returns the tally of the benchmark period."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as surveys:
        gen = Generator(n_orders, n_tickets, seed, surveys)
        columns = "id, source_id, number, street_name, street, state, zip, lat, lon, multi_dwelling"
        _copy(conn, "premises", columns, gen.premises())
        customers, orders = gen.customers_and_orders()
        columns = (
            "id, account_number, name, service_address, premises_id, status, created_at, "
            "activated_at, disconnected_at, churn_reason"
        )
        _copy(conn, "customers", columns, customers)
        del customers
        columns = "id, customer_id, type, created_at, status, completed_date, details, steps"
        _copy(conn, "service_orders", columns, orders)
        del orders
        columns = (
            "id, customer_id, category, priority, status, description, team, "
            "first_contact_resolution, escalated, visit_booked, contacts, created_at, "
            "resolved_at, transcript"
        )
        _copy(conn, "tickets", columns, gen.tickets())
        surveys.seek(0)
        columns = (
            "id, customer_id, kind, order_id, ticket_id, agent, team, area, sent_at, "
            "expires_at, answered_at, score"
        )
        _copy(conn, "surveys", columns, surveys)
    for table in TABLES:
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 1)) "
            f"FROM {table}"
        )
    return gen.tally


def _schema_objects(conn: psycopg.Connection[Any]) -> tuple[list[str], list[str]]:
    """The loaded tables' plain indexes and foreign keys, as statements that recreate them."""
    names = ", ".join(f"'{t}'" for t in TABLES)
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename "
        f"IN ({names}) AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    ).fetchall()
    fks = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        f"WHERE contype = 'f' AND conrelid::regclass::text IN ({names})"
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    for table, name, _ in fks:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    return [d for _, d in indexes], [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, d in fks]


def generate(url: str, *, n_orders: int, n_tickets: int, seed: int) -> tuple[Tally, float]:
    """Migrate the empty database ``url`` and load it; returns the tally and the seconds."""
    if n_orders < 1 or n_tickets < 1:
        raise InvalidInput("need at least one order and one ticket")
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        if engine.dialect.name != "postgresql":
            raise InvalidInput("this benchmark loads with PostgreSQL COPY: give a postgresql URL")
        migrate.upgrade(engine)
        with engine.connect() as conn:
            if conn.scalar(sa.text("SELECT count(*) FROM customers")):
                raise InvalidInput("the database is not empty: give a fresh one")
    finally:
        engine.dispose()
    dsn = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        indexes, fks = _schema_objects(conn)
        with conn.transaction():
            tally = load(conn, n_orders, n_tickets, seed)
        for statement in [*indexes, *fks]:
            conn.execute(statement)
        conn.execute(f"VACUUM ANALYZE {', '.join(TABLES)}")
    return tally, time.perf_counter() - started


def _timed(fn: Callable[[], Any], runs: int = 1) -> tuple[float, Any]:
    """The median wall-clock seconds of ``runs`` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def measure(url: str, *, index_experiment: bool = False) -> dict[str, Any]:
    app = build(Settings(database_url=url, secret_key="bench-secret-key"))
    f: dict[str, Any] = {"load_average": os.getloadavg()[0]}

    def compute(team: str | None = None, area: str | None = None) -> list[Any]:
        with app.uow(write=False) as uow:
            return kpis.compute(uow, actor=SYSTEM_ACTOR, start=START, end=NOW, team=team, area=area)

    def sql(text: str) -> Callable[[], Any]:
        def run() -> Any:
            with app.engine.connect() as conn:
                return conn.execute(sa.text(text), {"s": START, "e": NOW}).scalar()

        return run

    try:
        f["compute_cold_s"], values = _timed(compute)
        f["compute_warm_s"], values = _timed(compute, 5)
        f["values"] = {v.metric.value: v.value for v in values}
        f["counts"] = {v.metric.value: v.count for v in values}
        f["baseline_count_s"], f["tickets"] = _timed(sql("SELECT count(*) FROM tickets"), 5)
        f["baseline_period_s"], f["resolved_in_period"] = _timed(
            sql("SELECT count(*) FROM tickets WHERE resolved_at >= :s AND resolved_at < :e"), 5
        )

        def per_query(prefix: str) -> None:
            for metric in Metric:

                def one(metric: Metric = metric) -> Any:
                    with app.uow(write=False) as uow:
                        return kpis.measure(uow.session, [metric], SCOPE, [(START, NOW)])

                f[f"{prefix}_{metric.value}_s"] = _timed(one, 3)[0]

        per_query("query")
        f["compute_area_s"] = _timed(lambda: compute(area=ZIPS[0]), 3)[0]
        f["compute_team_s"] = _timed(lambda: compute(team="CSR"), 3)[0]

        def dashboard() -> None:
            with app.uow(write=False) as uow:
                kpis.trends(uow, actor=SYSTEM_ACTOR, months=6, now=NOW)

        f["dashboard_trends_s"] = _timed(dashboard, 3)[0]

        def metrics() -> str:
            settings = kpis.KpiSettings(secret_key="x")
            with app.uow(write=False) as uow:
                return kpis.prometheus_text(uow, actor=SYSTEM_ACTOR, settings=settings, now=NOW)

        f["prometheus_s"] = _timed(metrics, 3)[0]
        if index_experiment:
            with app.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                # migration 0009 made these indexes part of the schema: the experiment
                # measures without them, then puts them back
                for name in CANDIDATE_INDEXES:
                    conn.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
                conn.execute(sa.text("VACUUM ANALYZE tickets, service_orders"))
                f["unindexed_compute_s"] = _timed(compute, 5)[0]
                per_query("unindexed")
                f["unindexed_trends_s"] = _timed(dashboard, 3)[0]
                f["unindexed_prometheus_s"] = _timed(metrics, 3)[0]
                for name, definition in CANDIDATE_INDEXES.items():
                    conn.execute(sa.text(f"CREATE INDEX {name} {definition}"))
    finally:
        app.close()
    return f


def report(f: dict[str, Any], tally: Tally, sizes: dict[str, Any]) -> list[str]:
    """Print the figures; returns the KPIs that differ from the tally."""
    expected = {m.value: v for m, v in tally.values().items()}
    wrong = [m for m, v in expected.items() if f["values"][m] != v]
    table = Table(
        title=f"KPIs over {sizes['orders']:,} orders and {sizes['tickets']:,} tickets "
        f"(period {START:%Y-%m-%d} to {NOW:%Y-%m-%d})"
    )
    table.add_column("measured")
    table.add_column("seconds", justify="right")
    table.add_column("x baseline", justify="right")
    base = f["baseline_count_s"]
    for key, label in [
        ("baseline_count_s", "baseline: SELECT count(*) FROM tickets"),
        ("baseline_period_s", "baseline: count(*) of tickets resolved in the period"),
        ("compute_cold_s", "compute(), 5 KPIs, cold (first call)"),
        ("compute_warm_s", "compute(), 5 KPIs, warm (median of 5)"),
        *[(f"query_{m.value}_s", f"  {m.label}") for m in Metric],
        ("compute_area_s", "compute() for one ZIP code"),
        ("compute_team_s", "compute() for one team"),
        ("dashboard_trends_s", "trends(): 5 KPIs x 6 months (the dashboard)"),
        ("prometheus_s", "/metrics text (30 days)"),
        ("unindexed_compute_s", "compute(), warm, without the covering indexes"),
        *[(f"unindexed_{m.value}_s", f"  {m.label}, without them") for m in Metric],
        ("unindexed_trends_s", "trends() (the dashboard), without them"),
        ("unindexed_prometheus_s", "/metrics text, without them"),
    ]:
        if key in f:
            table.add_row(label, f"{f[key]:.3f}", f"{f[key] / base:.1f}")
    console.print(table)
    console.print(f"machine load average when measuring: {f['load_average']:.1f}")
    values = Table("KPI", "compute()", "tally", "over")
    for m in Metric:
        values.add_row(
            m.label, str(f["values"][m.value]), str(expected[m.value]), f"{f['counts'][m.value]:,}"
        )
    console.print(values)
    return wrong


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.kpis", description=__doc__)
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--server",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server on which to create (and drop) a database",
    )
    target.add_argument("--url", help="an empty PostgreSQL database to use instead")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--tickets", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--index-experiment", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the created database")
    args = parser.parse_args(argv)
    created = None
    url = args.url
    if url is None:
        created = f"fdbench_kpis_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{created}"')
        server = sa.engine.make_url(args.server)
        url = server.set(drivername="postgresql+psycopg", database=created).render_as_string(False)
    if args.keep:
        console.print(f"database: {url}")
    try:
        with console.status("generating"):
            tally, load_s = generate(
                url, n_orders=args.orders, n_tickets=args.tickets, seed=args.seed
            )
        sizes = {"orders": args.orders, "tickets": args.tickets, "load_s": round(load_s, 1)}
        console.print(f"loaded in {load_s:.1f} s")
        with console.status("measuring"):
            figures = measure(url, index_experiment=args.index_experiment)
        wrong = report(figures, tally, sizes)
    finally:
        if created is not None and not args.keep:
            with psycopg.connect(args.server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')
    result = {
        **sizes,
        **figures,
        "tally": {m.value: v for m, v in tally.values().items()},
        "mismatches": wrong,
    }
    print(json.dumps(result, default=str))
    if wrong:
        console.print(f"[bold red]KPIs differ from the tally:[/] {', '.join(wrong)}")
    return result


if __name__ == "__main__":
    sys.exit(1 if main()["mismatches"] else 0)
