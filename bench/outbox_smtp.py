"""Benchmark: the outbox delivering e-mail to a local SMTP server, beside raw smtplib.

``python -m bench.outbox_smtp --url DB_URL [--url DB_URL ...] [--messages 10000]
[--workers 1,2] [--batch 50]``

An aiosmtpd server runs in its own process and counts what it accepts (and any Message-ID
seen twice). For each database:

1. for each worker count K, the baseline first: the same number of messages sent over one
   raw ``smtplib`` connection, no database; then K ``python -m fiberdesk.worker`` processes
   are started and left idle, the messages are queued in one transaction, and the clock runs
   from that commit until every message is marked sent. The server must have accepted each
   exactly once;
2. render: the messages rendered with the real templates, no I/O (part of what the worker
   adds to the baseline).

A PostgreSQL database that does not exist is created. The database must hold no pending
messages of its own (they would be delivered to the benchmark's server). The benchmark's
rows are deleted afterwards. Prints a table and a JSON line with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from bench.qualify import free_port
from fiberdesk.adapters.notifications.smtp import SmtpEmailSender
from fiberdesk.config import Settings
from fiberdesk.db import migrate
from fiberdesk.db.engine import make_engine, make_session_factory
from fiberdesk.db.models import DeliveryAttempt, OutboxMessage
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.services import messages, outbox

console = Console(width=130)
KIND = "resume_notice"
KEY = "bench-outbox"
MAIL_FROM = "Chesapeake Fiber <no-reply@bench.test>"


def context(i: int) -> dict[str, Any]:
    return {
        "customer_name": f"Bench Customer {i}",
        "account_number": f"{i:010d}",
        "resumed_on": "2031-05-06",
    }


# -- the SMTP server process: ``python -m bench.outbox_smtp --serve-smtp PORT`` -------------


class Counting:
    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        head = bytes(envelope.content).split(b"\r\n\r\n", 1)[0]
        mid = b""
        for line in head.split(b"\r\n"):
            if line[:11].lower() == b"message-id:":
                mid = line[11:].strip()
        with self.lock:
            self.ids[mid.decode()] += 1
        return "250 OK"


def serve_smtp(port: int) -> None:
    """Answer ``count`` (JSON figures) and ``reset`` on stdin; exit at end of input."""
    from aiosmtpd.controller import Controller

    handler = Counting()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        for line in sys.stdin:
            with handler.lock:
                if line.strip() == "reset":
                    handler.ids.clear()
                total = sum(handler.ids.values())
                twice = sum(1 for n in handler.ids.values() if n > 1)
                print(json.dumps({"messages": total, "distinct": len(handler.ids),
                                  "duplicates": twice}), flush=True)  # fmt: skip
    finally:
        controller.stop()
        asyncio.set_event_loop(None)


class SmtpServer:
    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc, self.port = proc, port

    def ask(self, command: str) -> dict[str, int]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        figures: dict[str, int] = json.loads(self.proc.stdout.readline())
        return figures


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.outbox_smtp", "--serve-smtp", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield SmtpServer(proc, port)
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


# -- measurements --------------------------------------------------------------------------


def ensure_database(url: str) -> None:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone()
        if exists is None:
            conn.execute(f'CREATE DATABASE "{parsed.database}"')


def baseline(server: SmtpServer, n: int) -> float:
    """Messages per second over one raw smtplib connection (built like the outbox's)."""
    builder = SmtpEmailSender("127.0.0.1", server.port, mail_from=MAIL_FROM)
    renders = [(f"Resume notice {i}", f"Hello {i}\nYour service is back.", "") for i in range(n)]
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as conn:
        for i, (subject, text, html) in enumerate(renders):
            msg = builder.build(f"r{i}@example.com", subject, text, html, f"baseline{i}")
            conn.send_message(msg)
    return n / (time.perf_counter() - started)


def render_rate(n: int) -> float:
    from fiberdesk.worker import renderer_for

    render = renderer_for(Settings())
    started = time.perf_counter()
    for i in range(n):
        render(KIND, context(i))
    return n / (time.perf_counter() - started)


def clean(sessions: Any) -> None:
    with UnitOfWork(sessions) as uow:
        ours = sa.select(OutboxMessage.id).where(OutboxMessage.idempotency_key.like(f"%{KEY}%"))
        uow.session.execute(sa.delete(DeliveryAttempt).where(DeliveryAttempt.message_id.in_(ours)))
        uow.session.execute(
            sa.delete(OutboxMessage).where(OutboxMessage.idempotency_key.like(f"%{KEY}%"))
        )
        uow.commit()


def queue_all(sessions: Any, n: int, run: str) -> float:
    started = time.perf_counter()
    with UnitOfWork(sessions) as uow:
        for i in range(n):
            messages.queue(uow.session, kind=KIND, key=f"{KEY}-{run}-{i}", customer=None,
                           context=context(i), recipient=f"r{i}@example.com")  # fmt: skip
            if i % 1000 == 999:
                uow.flush()
        uow.commit()
    return time.perf_counter() - started


def wait_started(procs: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    """Until every worker has said it started (so start-up is not timed)."""
    deadline = time.monotonic() + 120
    while not all("started" in log.read_text(errors="replace") for log in logs):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise RuntimeError("a worker did not start: " + logs[0].read_text()[-2000:])
        time.sleep(0.1)


def deliver(
    url: str, sessions: Any, server: SmtpServer, n: int, k: int, batch: int
) -> dict[str, Any]:
    env = os.environ | {
        "FIBERDESK_DATABASE_URL": url,
        "FIBERDESK_SMTP_HOST": "127.0.0.1",
        "FIBERDESK_SMTP_PORT": str(server.port),
        "FIBERDESK_MAIL_FROM": MAIL_FROM,
        "FIBERDESK_REMINDER_HOUR_UTC": "24",
    }
    server.ask("reset")
    run = f"k{k}-{time.time_ns()}"
    with ExitStack() as stack, tempfile.TemporaryDirectory() as logs:
        procs = []
        for w in range(k):
            out = stack.enter_context(Path(logs, f"w{w}.log").open("wb"))
            cmd = [sys.executable, "-m", "fiberdesk.worker", "--name", f"bench-{w}",
                   "--batch", str(batch), "--poll", "0.05"]  # fmt: skip
            procs.append(subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT))
        try:
            wait_started(procs, [Path(logs, f"w{w}.log") for w in range(k)])
            queue_seconds = queue_all(sessions, n, run)
            started = time.perf_counter()
            deadline = started + max(120.0, n / 20)
            pending = sa.select(sa.func.count()).where(OutboxMessage.status == "pending")
            while True:  # a cheap poll (the index on status), so it takes little from the run
                with UnitOfWork(sessions, write=False) as uow:
                    left = uow.session.scalar(pending)
                if not left:
                    break
                if time.perf_counter() > deadline or any(p.poll() is not None for p in procs):
                    log = Path(logs, "w0.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"delivery did not finish: {left} pending\n{log}")
                time.sleep(0.1)
            seconds = time.perf_counter() - started
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
    seen = server.ask("count")
    mine = OutboxMessage.idempotency_key.like(f"%{KEY}-{run}-%")
    with UnitOfWork(sessions, write=False) as uow:
        by_status = sa.select(OutboxMessage.status, sa.func.count()).where(mine)
        depth = Counter(dict(uow.session.execute(by_status.group_by(OutboxMessage.status)).all()))
        workers = Counter(
            uow.session.scalars(
                sa.select(DeliveryAttempt.worker)
                .join(OutboxMessage, OutboxMessage.id == DeliveryAttempt.message_id)
                .where(mine)
            )
        )
    return {
        "workers": k,
        "queue_per_s": n / queue_seconds,
        "deliver_seconds": seconds,
        "deliver_per_s": n / seconds,
        "sent": depth["sent"],
        "failed": depth["failed"],
        "server_received": seen["messages"],
        "server_distinct": seen["distinct"],
        "duplicates": seen["duplicates"],
        "per_worker": dict(workers),
    }


def benchmark(url: str, *, n: int, workers: Sequence[int], batch: int) -> dict[str, Any]:
    ensure_database(url)
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        sessions = make_session_factory(engine)
        with UnitOfWork(sessions, write=False) as uow:
            pending = outbox.queue_depth(uow.session)["pending"]
        if pending:
            raise SystemExit(f"{url} has {pending} pending messages: use a scratch database")
        clean(sessions)
        runs = []
        with smtp_server() as server:
            for k in workers:
                base = baseline(server, n)  # just before each run, under the same load
                runs.append(deliver(url, sessions, server, n, k, batch))
                runs[-1]["baseline_smtp_per_s"] = base
                clean(sessions)
        return {
            "database": engine.dialect.name,
            "messages": n,
            "batch": batch,
            "render_per_s": render_rate(n),
            "runs": runs,
        }
    finally:
        engine.dispose()


def report(figures: list[dict[str, Any]]) -> None:
    table = Table(title="Outbox delivery to a local SMTP server")
    for name in ("database", "workers", "queue msg/s", "deliver msg/s", "raw smtplib msg/s",
                 "outbox / raw", "render msg/s", "received", "duplicates"):  # fmt: skip
        table.add_column(name, justify="right")
    for f in figures:
        for r in f["runs"]:
            table.add_row(
                f["database"],
                str(r["workers"]),
                f"{r['queue_per_s']:,.0f}",
                f"{r['deliver_per_s']:,.0f}",
                f"{r['baseline_smtp_per_s']:,.0f}",
                f"{r['deliver_per_s'] / r['baseline_smtp_per_s']:.1%}",
                f"{f['render_per_s']:,.0f}",
                f"{r['server_received']:,}",
                str(r["duplicates"]),
            )
    console.print(table)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.outbox_smtp",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", action="append", help="database URL (repeat for several)")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2", help="worker process counts, e.g. 1,2")
    parser.add_argument("--batch", type=int, default=50, help="messages claimed at a time")
    parser.add_argument("--serve-smtp", type=int, default=None, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    args = _parser().parse_args(argv)
    if args.serve_smtp:
        serve_smtp(args.serve_smtp)
        return []
    if not 1 <= args.messages <= 1_000_000:
        raise SystemExit("--messages must be between 1 and 1,000,000")
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    urls = args.url or [f"sqlite:///{tempfile.mkdtemp(prefix='outbox-bench-')}/bench.db"]
    figures = [benchmark(u, n=args.messages, workers=workers, batch=args.batch) for u in urls]
    report(figures)
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
