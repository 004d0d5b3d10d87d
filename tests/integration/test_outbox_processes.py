"""Separate processes on one PostgreSQL: two app processes and two workers share the work
and every message goes out exactly once; a worker killed with SIGKILL mid-batch loses
nothing and sends nothing twice; SIGTERM finishes the message in flight and gives back the
rest of the batch.

The app processes run ``uvicorn fiberdesk.web.asgi:app`` with ``FIBERDESK_WORKER_IN_PROCESS``
off; the workers run ``python -m fiberdesk.worker``. Mail goes to an aiosmtpd server in this
test process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from fiberdesk.adapters.notifications.base import delivery_id
from fiberdesk.bootstrap import Fiberdesk, build
from fiberdesk.config import Settings
from fiberdesk.db.models import DeliveryAttempt, OutboxMessage
from fiberdesk.domain.users import Role
from fiberdesk.services import messages, outbox
from tests.conftest import drop_pg_database, fresh_pg_database
from tests.factories import make_qualification_world, make_token
from tests.integration.test_outbox import Mailbox, free_port, smtp_server

pytestmark = pytest.mark.postgres

START_TIMEOUT = 90.0
DRAIN_TIMEOUT = 180.0


@pytest.fixture
def pg_url(pg_server: str, tmp_path: Path) -> Iterator[str]:
    name, url = fresh_pg_database()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "fiberdesk", "db", "upgrade"],
            env=os.environ | {"FIBERDESK_DATABASE_URL": url},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture
def app(pg_url: str) -> Iterator[Fiberdesk]:
    fd = build(Settings(database_url=pg_url, secret_key="test-secret-key"))
    yield fd
    fd.close()


class Processes:
    """Starts processes with the test's environment; stops them all at the end."""

    def __init__(self, env: dict[str, str], logs: Path, stack: ExitStack) -> None:
        self.env = env
        self.logs = logs
        self.stack = stack

    def start(self, label: str, *args: str) -> subprocess.Popen[bytes]:
        out = self.stack.enter_context((self.logs / f"{label}.log").open("wb"))
        proc = subprocess.Popen(
            [sys.executable, *args], env=self.env, cwd=self.logs, stdout=out, stderr=out
        )
        self.stack.callback(stop, proc)
        return proc

    def log(self, label: str) -> str:
        return (self.logs / f"{label}.log").read_text(errors="replace")[-3000:]

    def worker(self, name: str, *extra: str) -> subprocess.Popen[bytes]:
        return self.start(name, "-m", "fiberdesk.worker", "--name", name, "--poll", "0.2", *extra)

    def app(self, label: str) -> str:
        port = free_port()
        proc = self.start(
            label,
            *("-m", "uvicorn", "fiberdesk.web.asgi:app", "--host", "127.0.0.1"),
            *("--port", str(port), "--log-level", "warning"),
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert proc.poll() is None, self.log(label)
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{label} did not start: {self.log(label)}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(15)


@contextmanager
def processes(pg_url: str, smtp_port: int, tmp_path: Path) -> Iterator[Processes]:
    env = os.environ | {
        "FIBERDESK_DATABASE_URL": pg_url,
        "FIBERDESK_SECRET_KEY": "test-secret-key",
        "FIBERDESK_WORKER_IN_PROCESS": "false",
        "FIBERDESK_SMTP_HOST": "127.0.0.1",
        "FIBERDESK_SMTP_PORT": str(smtp_port),
        "FIBERDESK_MAIL_FROM": "Chesapeake Fiber <no-reply@fiber.test>",
        "FIBERDESK_OUTBOX_LEASE_SECONDS": "4",
        "FIBERDESK_REMINDER_HOUR_UTC": "24",  # never: this test is about the outbox
    }
    with ExitStack() as stack:
        yield Processes(env, tmp_path, stack)


def depth(fd: Fiberdesk) -> dict[str, int]:
    with fd.uow(write=False) as uow:
        return outbox.queue_depth(uow.session)


def wait_for(check: Callable[[], bool], timeout: float, what: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {what()}")
        time.sleep(0.25)


def attempts(fd: Fiberdesk) -> list[tuple[int, str, str | None]]:
    with fd.uow(write=False) as uow:
        rows = uow.session.execute(
            sa.select(DeliveryAttempt.message_id, DeliveryAttempt.outcome, DeliveryAttempt.worker)
        )
        return [(m, o, w) for m, o, w in rows]


def test_two_apps_and_two_workers_deliver_every_message_exactly_once(
    app: Fiberdesk, pg_url: str, tmp_path: Path
) -> None:
    world = make_qualification_world(app)
    auth = {"Authorization": f"Bearer {make_token(app, Role.CSR)}"}
    mailbox = Mailbox()
    mailbox.rcpt_delay = 0.05  # each send takes a moment, so one worker cannot take it all
    per_app = 20
    with smtp_server(mailbox) as port, processes(pg_url, port, tmp_path) as procs:
        urls = [procs.app("app-a"), procs.app("app-b")]
        workers = [
            procs.worker("worker-a", "--batch", "4"),
            procs.worker("worker-b", "--batch", "4"),
        ]

        def create(i: int) -> str:
            body = {
                "premises_id": world.premises["serviceable"],
                "plan": "BASIC",
                "contact_name": f"Prospect {i}",
                "contact_email": f"prospect{i}@example.com",
            }
            r = httpx.post(f"{urls[i % 2]}/api/v1/quotes", json=body, headers=auth, timeout=60)
            assert r.status_code == 201, r.text
            return str(r.json()["reference"])

        with ThreadPoolExecutor(max_workers=4) as pool:
            refs = list(pool.map(create, range(2 * per_app)))
        wait_for(
            lambda: depth(app)["pending"] == 0 and depth(app)["sent"] == len(refs),
            DRAIN_TIMEOUT,
            lambda: f"{depth(app)}\n{procs.log('worker-a')}\n{procs.log('worker-b')}",
        )
        assert all(w.poll() is None for w in workers)
    assert depth(app) == {"pending": 0, "sent": 2 * per_app, "skipped": 0, "failed": 0}
    ids = mailbox.ids()
    expected = {f"<{delivery_id(f'quote:{ref}:email')}@fiber.test>" for ref in refs}
    assert set(ids) == expected and set(ids.values()) == {1}, ids
    log = attempts(app)
    assert Counter(m for m, _, _ in log) == Counter({m: 1 for m, _, _ in log})
    assert {o for _, o, _ in log} == {"sent"}
    shares = Counter(w for _, _, w in log)
    assert set(shares) == {"worker-a", "worker-b"}, shares


def queue_mail(app: Fiberdesk, n: int, prefix: str) -> list[int]:
    with app.uow() as uow:
        rows = [
            messages.queue(
                uow.session,
                kind="resume_notice",
                key=f"{prefix}{i}",
                customer=None,
                recipient=f"{prefix}{i}@example.com",
                context={
                    "customer_name": f"Customer {i}",
                    "account_number": f"{i:010d}",
                    "resumed_on": "2031-05-06",
                },
            )
            for i in range(n)
        ]
        uow.flush()
        ids = [m.id for m in rows if m is not None]
        uow.commit()
    return ids


def claims(app: Fiberdesk) -> Counter[str | None]:
    with app.uow(write=False) as uow:
        rows = uow.session.execute(
            sa.select(OutboxMessage.claimed_by).where(OutboxMessage.status == "pending")
        )
        return Counter(c for (c,) in rows)


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    app: Fiberdesk, pg_url: str, tmp_path: Path
) -> None:
    n = 10
    queue_mail(app, n, "kill")
    mailbox = Mailbox()
    mailbox.rcpt_delay = 0.1
    mailbox.stall_at = 3  # the third message stalls before its data is sent
    with smtp_server(mailbox) as port, processes(pg_url, port, tmp_path) as procs:
        doomed = procs.worker("doomed", "--batch", str(n))
        assert mailbox.stalled.wait(START_TIMEOUT), procs.log("doomed")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(15)
        assert depth(app)["sent"] == 2
        assert claims(app) == Counter({"doomed": n - 2}), "killed mid-batch, holding the rest"
        mailbox.stall_at = None
        procs.worker("heir", "--batch", "3")
        wait_for(
            lambda: depth(app)["sent"] == n,
            DRAIN_TIMEOUT,
            lambda: f"{depth(app)}\n{procs.log('heir')}",
        )
    ids = mailbox.ids()
    assert len(ids) == n and set(ids.values()) == {1}, ids
    log = attempts(app)
    assert Counter(w for _, _, w in log) == Counter({"doomed": 2, "heir": n - 2})
    assert len({m for m, _, _ in log}) == n


def test_sigterm_finishes_the_message_in_flight_and_gives_back_the_rest(
    app: Fiberdesk, pg_url: str, tmp_path: Path
) -> None:
    n = 6
    queue_mail(app, n, "term")
    mailbox = Mailbox()
    mailbox.stall_at = 2
    mailbox.stall_seconds = 2.0
    with smtp_server(mailbox) as port, processes(pg_url, port, tmp_path) as procs:
        worker = procs.worker("polite", "--batch", str(n))
        assert mailbox.stalled.wait(START_TIMEOUT), procs.log("polite")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0, procs.log("polite")
    assert depth(app)["sent"] == 2  # the first, and the one in flight when the signal came
    assert claims(app) == Counter({None: n - 2})  # the rest given back at once
    assert len(mailbox.ids()) == 2
