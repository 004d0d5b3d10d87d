"""Benchmark: a billing run for N active accounts, beside a raw bulk insert of its invoices.

``python -m bench.billing_run --url DB_URL [--accounts 100000] [--seed 7] [--on 2026-03-28]``

Loads N due accounts into a fresh database (a non-empty one is refused), then measures
``run_billing`` for all of them, a re-run for the same date and a replay after setting
every ``billed_through`` back (both must issue nothing), and the baseline: the run's own
invoice rows inserted by one Core executemany into a bare and into a keyed copy of
``invoices``. Each step reports wall time, this process's CPU time and, when PostgreSQL runs
on this machine, its backend's CPU time. Checks one invoice per account and period and the
ledger invariant (each account's entries sum to its invoice totals); prints a table and one
JSON line; exits 2 when a check fails. bench/README.md describes the data.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Connection, Engine

from fiberdesk.bootstrap import build
from fiberdesk.config import Settings
from fiberdesk.db import migrate
from fiberdesk.db import models as m
from fiberdesk.db.engine import is_postgres, make_engine
from fiberdesk.domain.billing import EntryKind, cycle_start
from fiberdesk.domain.customers import ServiceStatus, account_number
from fiberdesk.domain.dates import add_months
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services.billing import BillingSettings, RunResult, run_billing

console = Console(width=110)
BATCH = 10_000
TARGET = 0.25
DEFAULT_ON = date(2026, 3, 28)
#: share of the customers on each of the six seeded tiers
TIERS = {"BASIC": 12, "STANDARD": 27, "PLUS": 28, "PREMIUM": 16, "GIGABIT": 13, "BUSINESS": 4}
#: contract terms' monthly discounts (month to month, 12 and 24 months) and their shares
TERMS = {Decimal("0.00"): 45, Decimal("5.00"): 35, Decimal("10.00"): 20}
PROMO_RUNNING, PROMO_ENDED, INSTALL_FEE, CREDIT = 0.15, 0.10, 0.10, 0.03
NAMES = ("Ada Abbott", "Ben Bauer", "Chloe Chen", "Dmitri Diaz", "Elena Evans", "Femi Fischer")


def _table(model: type[m.Base]) -> sa.Table:
    return cast(sa.Table, model.__table__)


@dataclass
class Timing:
    wall: float = 0.0
    cpu: float = 0.0  # this process
    server_cpu: float | None = None  # the PostgreSQL backend, when readable

    def figures(self, step: str, rows: int) -> dict[str, Any]:
        return {
            f"{step}_s": round(self.wall, 3),
            f"{step}_cpu_s": round(self.cpu, 3),
            f"{step}_server_cpu_s": None if self.server_cpu is None else round(self.server_cpu, 2),
            f"{step}_rows_per_s": round(rows / self.wall, 1) if self.wall else 0.0,
        }

    @property
    def total_cpu(self) -> float:
        return self.cpu + (self.server_cpu or 0.0)


LOCAL = (None, "127.0.0.1", "localhost", "::1")


def backend_pid(conn: Connection) -> int | None:
    """The PostgreSQL backend's process id when it runs on this machine, else None."""
    if conn.dialect.name != "postgresql" or conn.engine.url.host not in LOCAL:
        return None
    pid = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
    return pid if _process_cpu(pid) is not None else None


def _process_cpu(pid: int | None) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


@contextmanager
def timed(pid: int | None = None) -> Iterator[Timing]:
    timing, server = Timing(), _process_cpu(pid) if pid else None
    wall, cpu = time.perf_counter(), time.process_time()
    yield timing
    timing.wall, timing.cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = _process_cpu(pid) if pid else None
    if server is not None and after is not None:
        timing.server_cpu = after - server


def build_rows(n: int, on: date, plans: dict[str, Any], seed: int) -> dict[str, list[Any]]:
    """Customers, billing accounts and unbilled one-time ledger entries for ``n`` accounts."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    rows: dict[str, list[dict[str, Any]]] = {"customers": [], "accounts": [], "entries": []}
    for i in range(1, n + 1):
        plan_id, install_fee = plans[rng.choices(list(TIERS), list(TIERS.values()))[0]]
        cycle_day = rng.randint(1, 28)
        start = cycle_start(on, cycle_day)
        activated = add_months(start, -rng.randint(0, 30))
        rows["customers"].append(
            {
                "id": i,
                "account_number": account_number(i),
                "name": f"{NAMES[i % len(NAMES)]} {i}",
                "email": f"bench{i}@example.com",
                "service_address": f"{100 + i % 9000} Bench Road, Towson, MD 21204",
                "plan_id": plan_id,
                "status": ServiceStatus.ACTIVE,
                "created_at": now,
                "activated_at": datetime.combine(activated, datetime.min.time(), UTC),
                "billing_start": activated,
            }
        )
        promo, ends = rng.random(), None
        if promo < PROMO_RUNNING:  # applies to periods starting before its end
            ends = add_months(start, rng.randint(1, 2))
        elif promo < PROMO_RUNNING + PROMO_ENDED:
            ends = start - timedelta(days=rng.randint(0, 60))
        rows["accounts"].append(
            {
                "id": i,
                "customer_id": i,
                "cycle_day": cycle_day,
                "billed_through": start,
                "term_discount": rng.choices(list(TERMS), list(TERMS.values()))[0],
                "promotion_code": "WELCOME3" if ends else None,
                "promotion_discount": Decimal("20.00" if ends else "0.00"),
                "promotion_ends_on": ends,
                "created_at": now,
            }
        )
        extra = rng.random()
        if extra < INSTALL_FEE + CREDIT:
            fee = extra < INSTALL_FEE
            rows["entries"].append(
                {
                    "account_id": i,
                    "kind": EntryKind.CHARGE if fee else EntryKind.CREDIT,
                    "amount": install_fee if fee else Decimal("-15.00"),
                    "description": "Installation fee" if fee else "Outage credit",
                    "reference": f"{'install' if fee else 'credit'}:{i}",
                    "effective_on": start - timedelta(days=rng.randint(0, 5)),
                    "created_by": "bench",
                    "created_at": now,
                }
            )
    return rows


def populate(engine: Engine, n: int, on: date, seed: int) -> dict[str, int]:
    """Migrate, refuse a database that holds data, then bulk-load the accounts."""
    migrate.upgrade(engine)
    with engine.connect() as conn:
        for name in ("customers", "billing_accounts", "ledger_entries", "invoices"):
            if conn.scalar(sa.text(f"SELECT count(*) FROM {name}")):
                raise InvalidInput(f"the database is not empty ({name} has rows)")
        query = sa.select(m.Plan.code, m.Plan.id, m.Plan.install_fee)
        plans = {code: (plan_id, fee) for code, plan_id, fee in conn.execute(query)}
    rows = build_rows(n, on, plans, seed)
    models = {"customers": m.Customer, "accounts": m.BillingAccount, "entries": m.LedgerEntry}
    with engine.begin() as conn:
        for key, model in models.items():
            for start in range(0, len(rows[key]), BATCH):
                conn.execute(sa.insert(_table(model)), rows[key][start : start + BATCH])
        if is_postgres(engine):
            for name in ("customers", "billing_accounts"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), max(id)) FROM {name}"
                )
    if is_postgres(engine):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return {key: len(value) for key, value in rows.items()}


def bill(url: str, on: date) -> tuple[RunResult, Timing]:
    """One billing run through the application, in its own unit of work."""
    app = build(Settings(database_url=url))
    try:
        with app.uow() as uow:
            pid = backend_pid(uow.session.connection())
            with timed(pid) as timing:
                result = run_billing(uow, actor=SYSTEM_ACTOR, on=on, settings=BillingSettings())
        return result, timing
    finally:
        app.close()


def rewind(engine: Engine, on: date) -> None:
    """Set every account back to the start of the period the run just invoiced."""
    accounts = _table(m.BillingAccount)
    with engine.begin() as conn:
        for day in range(1, 29):
            update = sa.update(accounts).where(accounts.c.cycle_day == day)
            conn.execute(update.values(billed_through=cycle_start(on, day)))


def checks(engine: Engine) -> dict[str, int]:
    """Integrity after the runs: invoices per period, unbilled entries, the ledger invariant."""
    entry, invoice, account = m.LedgerEntry, m.Invoice, m.BillingAccount
    ledger = sa.select(entry.account_id, sa.func.sum(entry.amount).label("s")).group_by(
        entry.account_id
    )
    billed = sa.select(invoice.account_id, sa.func.sum(invoice.total).label("s")).group_by(
        invoice.account_id
    )
    lsub, bsub = ledger.subquery(), billed.subquery()
    queries = {
        "invoices": sa.select(sa.func.count()).select_from(invoice),
        "invoiced_periods": sa.select(sa.func.count()).select_from(
            sa.select(invoice.account_id, invoice.period_start).distinct().subquery()
        ),
        "unbilled_entries": sa.select(sa.func.count()).where(entry.invoice_id.is_(None)),
        "ledger_mismatches": sa.select(sa.func.count())
        .select_from(account)
        .outerjoin(lsub, lsub.c.account_id == account.id)
        .outerjoin(bsub, bsub.c.account_id == account.id)
        .where(sa.func.coalesce(lsub.c.s, 0) != sa.func.coalesce(bsub.c.s, 0)),
    }
    with engine.connect() as conn:
        return {key: int(conn.scalar(query) or 0) for key, query in queries.items()}


def scratch_table(name: str, *, keyed: bool) -> sa.Table:
    """A copy of ``invoices``: its columns and types; its keys and indexes if ``keyed``."""
    metadata = sa.MetaData(naming_convention=m.Base.metadata.naming_convention)
    columns = [
        sa.Column(
            c.name,
            c.type,
            primary_key=keyed and c.primary_key,
            autoincrement=False,
            nullable=c.nullable,
            index=keyed and bool(c.index),
            unique=keyed and bool(c.unique),
        )
        for c in _table(m.Invoice).columns
    ]
    table = sa.Table(name, metadata, *columns)
    if keyed:
        sa.Table("billing_accounts", metadata, sa.Column("id", sa.Integer, primary_key=True))
        table.append_constraint(sa.UniqueConstraint("account_id", "period_start"))
        table.append_constraint(sa.ForeignKeyConstraint(["account_id"], ["billing_accounts.id"]))
    return table


def baseline(engine: Engine, *, keyed: bool) -> tuple[int, Timing]:
    """The run's invoice rows, read back, inserted raw into a scratch copy of the table."""
    source = _table(m.Invoice)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(source).order_by(source.c.id)).mappings()]
    table = scratch_table("bench_invoices_keyed" if keyed else "bench_invoices", keyed=keyed)
    table.drop(engine, checkfirst=True)
    table.create(engine)
    try:
        with engine.connect() as conn, timed(backend_pid(conn)) as timing:
            conn.execute(sa.insert(table), rows)
            conn.commit()
        with engine.connect() as conn:
            copied = conn.scalar(sa.select(sa.func.count()).select_from(table))
        if copied != len(rows):
            raise RuntimeError(f"{table.name} has {copied} rows, not {len(rows)}")
    finally:
        table.drop(engine)
    return len(rows), timing


def benchmark(url: str, *, n: int, on: date, seed: int) -> dict[str, Any]:
    """Populate, run, re-run, replay, check and measure the baselines; returns the figures."""
    if n < 1:
        raise InvalidInput("need at least one account")
    engine = make_engine(url)
    try:
        with timed() as load:
            sizes = populate(engine, n, on, seed)
        console.log(f"loaded {sizes} in {load.wall:.1f} s; billing {n:,} accounts")
        first, run = bill(url, on)
        console.log(f"run: {first.invoices_issued:,} invoices in {run.wall:.2f} s")
        again, rerun = bill(url, on)
        rewind(engine, on)
        replayed, replay = bill(url, on)
        integrity = checks(engine)
        rows, bare = baseline(engine, keyed=False)
        _, keyed = baseline(engine, keyed=True)
        backend = engine.dialect.name
    finally:
        engine.dispose()
    f: dict[str, Any] = {
        "benchmark": "billing_run",
        "backend": backend,
        "accounts": n,
        "on": on.isoformat(),
        "seed": seed,
        "one_time_entries": sizes["entries"],
        "load_s": round(load.wall, 1),
        "run_accounts_seen": first.accounts_seen,
        "run_invoices": first.invoices_issued,
        "run_total_billed": str(first.total_billed),
        **run.figures("run", first.invoices_issued),
        "run_accounts_per_s": round(first.accounts_seen / run.wall, 1) if run.wall else 0.0,
        "rerun_invoices": again.invoices_issued,
        **rerun.figures("rerun", again.invoices_issued),
        "replay_invoices": replayed.invoices_issued,
        "replay_already_invoiced": replayed.already_invoiced,
        **replay.figures("replay", replayed.already_invoiced),
        **integrity,
        "baseline_rows": rows,
        **bare.figures("bare", rows),
        **keyed.figures("keyed", rows),
        "ratio_vs_bare": round(bare.wall / run.wall, 4) if run.wall else 0.0,
        "ratio_vs_keyed": round(keyed.wall / run.wall, 4) if run.wall else 0.0,
        "cpu_ratio_vs_bare": round(bare.total_cpu / run.total_cpu, 4) if run.total_cpu else 0.0,
        "target": TARGET,
    }
    f["failures"] = failures(f)
    return f


def failures(f: dict[str, Any]) -> list[str]:
    """What went wrong: the integrity checks (never the speed)."""
    n, replayed, skipped = f["accounts"], f["replay_invoices"], f["replay_already_invoiced"]
    tests = [
        (f["run_invoices"] != n, f"the run issued {f['run_invoices']} invoices for {n} accounts"),
        (f["rerun_invoices"] != 0, f"the re-run issued {f['rerun_invoices']} invoices again"),
        (replayed != 0 or skipped != n, f"the replay issued {replayed}, skipped {skipped}"),
        (f["invoices"] != n, f"{f['invoices']} invoices for {n} accounts"),
        (f["invoiced_periods"] != n, f"{f['invoiced_periods']} account periods invoiced"),
        (f["unbilled_entries"] != 0, f"{f['unbilled_entries']} one-time entries unbilled"),
        (f["ledger_mismatches"] != 0, f"{f['ledger_mismatches']} ledgers differ from invoices"),
    ]
    return [message for failed, message in tests if failed]


def report(f: dict[str, Any]) -> None:
    title = f"Billing run, {f['accounts']:,} accounts on {f['backend']} ({f['on']})"
    table = Table(title=title)
    for name in ("step", "rows", "wall s", "rows/s", "vs bare", "client CPU s", "server CPU s"):
        table.add_column(name, justify="left" if name == "step" else "right")
    steps = [
        ("billing run (invoices)", "run", f["run_invoices"]),
        ("re-run, same date", "rerun", f["rerun_invoices"]),
        ("replay after rewinding (skipped)", "replay", f["replay_already_invoiced"]),
        ("raw insert, bare copy", "bare", f["baseline_rows"]),
        ("raw insert, keyed copy", "keyed", f["baseline_rows"]),
    ]
    bare = f["bare_rows_per_s"]
    for label, step, rows in steps:
        rate, wall, cpu, server = (
            f[f"{step}{k}"] for k in ("_rows_per_s", "_s", "_cpu_s", "_server_cpu_s")
        )
        share = f"{100 * rate / bare:.1f} %" if step in ("run", "bare", "keyed") else ""
        server = "" if server is None else f"{server:.2f}"
        table.add_row(
            label, f"{rows:,}", f"{wall:.3f}", f"{rate:,.0f}", share, f"{cpu:.2f}", server
        )
    console.print(table)
    verdict = "meets" if f["ratio_vs_bare"] >= TARGET else "MISSES"
    console.print(
        f"Run throughput: {100 * f['ratio_vs_bare']:.1f} % of the bare raw insert "
        f"({100 * f['ratio_vs_keyed']:.1f} % of the keyed one), {verdict} the "
        f"{100 * TARGET:.0f} % target; by CPU time {100 * f['cpu_ratio_vs_bare']:.1f} %."
    )
    console.print(
        f"Re-run issued {f['rerun_invoices']}; the replay issued {f['replay_invoices']} and "
        f"skipped {f['replay_already_invoiced']:,}. {f['invoices']:,} invoices for "
        f"{f['invoiced_periods']:,} account periods; {f['unbilled_entries']} one-time entries "
        f"unbilled; ledger invariant: {f['ledger_mismatches']} mismatching accounts."
    )
    for problem in f["failures"]:
        console.print(f"[red]FAILED:[/red] {problem}")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.billing_run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of an empty database")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--on", type=date.fromisoformat, default=DEFAULT_ON, help="run date")
    args = parser.parse_args(argv)
    try:
        figures = benchmark(args.url, n=args.accounts, on=args.on, seed=args.seed)
    except InvalidInput as exc:
        parser.exit(1, f"error: {exc.reason}\n")
    report(figures)
    print(json.dumps(figures))
    if figures["failures"]:
        parser.exit(2, "error: an integrity check failed\n")
    return figures


if __name__ == "__main__":
    main()
