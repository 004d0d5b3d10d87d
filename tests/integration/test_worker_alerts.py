"""The worker checks the KPI alerts on a schedule (``kpi_alert_check_minutes``): the
supervisors' alert is queued and delivered, the check repeats at the interval and not
before, 0 turns it off, and a failing check does not stop delivery. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from fiberdesk import worker
from fiberdesk.adapters.notifications.sms_fake import FakeSmsSender
from fiberdesk.adapters.notifications.webhook import HttpWebhookSender
from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import KpiAlert, OutboxMessage
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.tickets import TicketCategory
from fiberdesk.domain.users import SYSTEM_ACTOR, Role
from fiberdesk.services import auth, outbox, tickets
from tests.factories import make_customer


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


class Recording:
    """An e-mail sender that keeps (to, kind header, subject)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send(
        self,
        to: str,
        subject: str,
        text: str,
        html: str,
        message_id: str,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        self.sent.append((to, (headers or {}).get("X-Fiberdesk-Kind", ""), subject))
        return "250 ok"


@pytest.fixture
def slow_tickets(fd: Fiberdesk) -> datetime:
    """A supervisor to alert, and a ticket that took 59 hours (the alert is over 48);
    returns the time to start the worker's clock at."""
    with fd.uow() as uow:
        auth.create_user(
            uow, actor=SYSTEM_ACTOR, username="sup1", full_name="Sam Supervisor",
            role=Role.SUPERVISOR, password="correct horse battery", email="sup1@example.com",
        )  # fmt: skip
    cid = make_customer(fd, seq=1, name="Ada Lovelace", status=ServiceStatus.ACTIVE)
    now = utcnow()
    with fd.uow() as uow:
        ticket = tickets.open_ticket(
            uow, actor=SYSTEM_ACTOR, customer_id=cid, category=TicketCategory.NO_INTERNET,
            description="down", now=now - timedelta(hours=60),
        )  # fmt: skip
    with fd.uow() as uow:
        tickets.resolve_ticket(
            uow, actor=SYSTEM_ACTOR, ticket_id=ticket.id, code="FIBER", text="Re-spliced.",
            now=now - timedelta(hours=1),
        )  # fmt: skip
    # the worker's clock starts a minute ahead, so what is queued meanwhile (the ticket's
    # messages, the alert) is due at once
    return utcnow() + timedelta(minutes=1)


def _deps(fd: Fiberdesk, clock: Clock, mail: Recording) -> outbox.Delivery:
    return outbox.Delivery(
        fd.uow, mail, FakeSmsSender(fd.session_factory), HttpWebhookSender(),
        worker.renderer_for(fd.settings), clock=clock,
    )  # fmt: skip


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_the_worker_checks_the_alerts_at_the_configured_interval(
    fd: Fiberdesk, slow_tickets: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    fd.settings = fd.settings.model_copy(update={"kpi_alert_check_minutes": 10.0})
    clock, mail = Clock(), Recording()
    start = clock.now = slow_tickets
    checks: list[datetime] = []
    real = worker._check_kpis

    def counted(app: Fiberdesk, deps: outbox.Delivery, actor: Any) -> int:
        checks.append(deps.clock())
        return real(app, deps, actor)

    monkeypatch.setattr(worker, "_check_kpis", counted)
    stop = threading.Event()
    result: list[worker.WorkerStats] = []
    thread = threading.Thread(
        target=lambda: result.append(
            worker.run_worker(
                fd,
                name="alerts",
                batch=10,
                poll_seconds=0.02,
                stop_event=stop,
                delivery=_deps(fd, clock, mail),
                reminders_job=False,
            )
        )
    )
    thread.start()
    try:
        _wait(lambda: any(kind == "kpi_alert" for _, kind, _ in mail.sent), "the alert mail")
        clock.now = start + timedelta(minutes=9)
        time.sleep(0.3)  # a dozen polls: not due yet
        assert checks == [start]
        clock.now = start + timedelta(minutes=11)
        _wait(lambda: len(checks) == 2, "the second check")
    finally:
        stop.set()
        thread.join(30)
    [stats] = result
    assert (stats.kpi_checks, stats.kpi_alerts, stats.errors) == (2, 1, 0)
    assert checks == [start, start + timedelta(minutes=11)]
    [(to, _, subject)] = [m for m in mail.sent if m[1] == "kpi_alert"]
    assert to == "sup1@example.com" and "Ticket resolution time" in subject
    with fd.uow(write=False) as uow:
        [alert] = uow.session.scalars(sa.select(KpiAlert)).all()
        statuses = uow.session.scalars(
            sa.select(OutboxMessage.status).where(OutboxMessage.kind == "kpi_alert")
        ).all()
    assert (alert.metric, alert.cleared_at) == ("ticket_resolution_time", None)
    assert statuses == ["sent"]  # the second check found the alert open: no second mail


def test_zero_turns_the_check_off_and_a_failing_check_does_not_stop_delivery(
    fd: Fiberdesk, slow_tickets: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, mail = Clock(), Recording()
    clock.now = slow_tickets
    fd.settings = fd.settings.model_copy(update={"kpi_alert_check_minutes": 0.0})
    stats = worker.run_worker(
        fd, name="off", batch=10, poll_seconds=0.02, stop_event=threading.Event(), once=True,
        delivery=_deps(fd, clock, mail), reminders_job=False,
    )  # fmt: skip
    assert stats.kpi_checks == 0 and stats.sent == 2  # the ticket's two messages
    with fd.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(KpiAlert)) == 0

    def broken(*args: Any, **kwargs: Any) -> list[Any]:
        raise RuntimeError("KPI query failed")

    monkeypatch.setattr(worker.kpis, "check_alerts", broken)
    fd.settings = fd.settings.model_copy(update={"kpi_alert_check_minutes": 15.0})
    with fd.uow() as uow:
        tickets.open_ticket(
            uow, actor=SYSTEM_ACTOR, customer_id=1, category=TicketCategory.OTHER,
            description="again",
        )  # fmt: skip
    clock.now = utcnow() + timedelta(minutes=1)
    stats = worker.run_worker(
        fd, name="failing", batch=10, poll_seconds=0.02, stop_event=threading.Event(),
        once=True, delivery=_deps(fd, clock, mail), reminders_job=False,
    )  # fmt: skip
    assert (stats.kpi_checks, stats.errors, stats.sent) == (0, 1, 1)
    assert worker.WorkerStats().as_dict()["kpi_checks"] == 0
