"""The outbox delivered: a real SMTP server (aiosmtpd) started by the tests, the fake SMS
gateway, signed webhooks to a local HTTP server, preferences, retries, dead letters and the
claim protocol, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from fiberdesk.adapters.notifications.base import delivery_id
from fiberdesk.adapters.notifications.sms_fake import FakeSmsSender
from fiberdesk.adapters.notifications.smtp import SmtpEmailSender
from fiberdesk.adapters.notifications.webhook import HttpWebhookSender, verify
from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Appointment,
    AuditEntry,
    Customer,
    DeliveryAttempt,
    FakeSms,
    OutboxMessage,
    ServiceOrder,
    Technician,
)
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.orders import AppointmentStatus, OrderType
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import messages, outbox, preferences, reminders, webhooks
from fiberdesk.services.outbox import Delivery, RetryPolicy, deliver_batch
from tests.factories import make_customer

MAIL_FROM = "Chesapeake Fiber <no-reply@fiber.test>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """An aiosmtpd handler that keeps what it accepts; it can refuse or stall on request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[tuple[list[str], EmailMessage]] = []
        #: a reply to RCPT TO instead of accepting, e.g. "550 5.1.1 no such mailbox"
        self.refuse: str | None = None
        #: seconds to wait before answering each RCPT TO
        self.rcpt_delay = 0.0
        #: the RCPT TO (counting from 1) to stall on for ``stall_seconds``; ``stalled`` is
        #: set when it arrives (a test kills the sending worker then)
        self.stall_at: int | None = None
        self.stall_seconds = 3.0
        self.stalled = threading.Event()
        self.rcpts = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        with self.lock:
            self.rcpts += 1
            stall = self.rcpts == self.stall_at
        if stall:
            self.stalled.set()
            await asyncio.sleep(self.stall_seconds)
        elif self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), message))
        return "250 OK queued"

    def ids(self) -> Counter[str]:
        with self.lock:
            return Counter(str(m["Message-ID"]) for _, m in self.received)


@contextmanager
def smtp_server(mailbox: Mailbox, port: int | None = None) -> Iterator[int]:
    controller = Controller(mailbox, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


@dataclass(frozen=True)
class Rendering:
    subject: str
    text: str
    html: str


def fake_render(kind: str, context: dict[str, Any]) -> Rendering:
    if kind == "unrenderable":
        raise InvalidInput("the template needs a field 'date'")
    name = context.get("customer_name", "there")
    return Rendering(f"{kind} for {name}", f"Hello {name},\n{kind} text.", f"<p>{kind}</p>")


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def smtp_port(mailbox: Mailbox) -> Iterator[int]:
    with smtp_server(mailbox) as port:
        yield port


@pytest.fixture
def make_deps(fd: Fiberdesk) -> Iterator[Callable[..., Delivery]]:
    made: list[Delivery] = []

    def make(port: int, *, clock: Callable[[], datetime] = utcnow, **policy: Any) -> Delivery:
        deps = Delivery(
            fd.uow,
            SmtpEmailSender("127.0.0.1", port, mail_from=MAIL_FROM, timeout=5),
            FakeSmsSender(fd.session_factory),
            HttpWebhookSender(timeout=5, trust_env=False),
            fake_render,
            RetryPolicy(**policy),
            clock,
            random.Random(7),
        )
        made.append(deps)
        return deps

    yield make
    for deps in made:
        deps.email.close()  # type: ignore[attr-defined]
        deps.webhooks.close()  # type: ignore[attr-defined]


def queue(
    fd: Fiberdesk,
    kind: str,
    key: str,
    customer_id: int | None = None,
    *,
    channel: str = "email",
    recipient: str | None = None,
    context: dict[str, Any] | None = None,
) -> int:
    with fd.uow() as uow:
        customer = uow.session.get(Customer, customer_id) if customer_id else None
        m = messages.queue(
            uow.session,
            kind=kind,
            key=key,
            customer=customer,
            context=context or {"customer_name": "Ada Lovelace"},
            channel=channel,
            recipient=recipient,
        )
        assert m is not None
        uow.flush()
        uow.commit()
        return m.id


def row(fd: Fiberdesk, message_id: int) -> OutboxMessage:
    with fd.uow(write=False) as uow:
        m = uow.session.get(OutboxMessage, message_id)
        assert m is not None
        return m


def drain(deps: Delivery, worker: str = "w1") -> outbox.BatchResult:
    total = outbox.BatchResult()
    while (r := deliver_batch(deps, worker=worker, limit=10)).claimed:
        for f in ("claimed", "sent", "skipped", "retried", "dead"):
            setattr(total, f, getattr(total, f) + getattr(r, f))
    return total


def test_a_rolled_back_message_is_never_delivered(
    fd: Fiberdesk, mailbox: Mailbox, smtp_port: int, make_deps: Callable[..., Delivery]
) -> None:
    with fd.uow() as uow:  # left without a commit: rolled back
        messages.queue(
            uow.session,
            kind="welcome",
            key="a",
            customer=None,
            context={},
            recipient="gone@example.com",
        )
        uow.flush()
    with pytest.raises(RuntimeError), fd.uow() as uow:
        messages.queue(
            uow.session,
            kind="welcome",
            key="b",
            customer=None,
            context={},
            recipient="gone@example.com",
        )
        uow.flush()
        raise RuntimeError("the change failed")
    kept = queue(fd, "welcome", "c", recipient="kept@example.com")
    assert drain(make_deps(smtp_port)).sent == 1
    assert [to for to, _ in mailbox.received] == [["kept@example.com"]]
    assert row(fd, kept).status == "sent"
    with fd.uow(write=False) as uow:
        assert outbox.queue_depth(uow.session) == {
            "pending": 0,
            "sent": 1,
            "skipped": 0,
            "failed": 0,
        }


def test_email_reaches_the_smtp_server_once_with_a_stable_message_id(
    fd: Fiberdesk, mailbox: Mailbox, smtp_port: int, make_deps: Callable[..., Delivery]
) -> None:
    cid = make_customer(fd, seq=1, name="Ada Lovelace", status=ServiceStatus.ACTIVE)
    mid = queue(fd, "welcome", "order7", cid)
    deps = make_deps(smtp_port)
    result = deliver_batch(deps, worker="w1", limit=10)
    assert (result.claimed, result.sent) == (1, 1)
    assert deliver_batch(deps, worker="w1", limit=10).claimed == 0
    [(rcpts, msg)] = mailbox.received
    assert rcpts == ["c1@example.com"] and msg["To"] == "c1@example.com"
    assert msg["From"] == MAIL_FROM and msg["Subject"] == "welcome for Ada Lovelace"
    assert msg["Message-ID"] == f"<{delivery_id('welcome:order7:email')}@fiber.test>"
    assert msg["X-Fiberdesk-Kind"] == "welcome"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and "Hello Ada Lovelace" in text.get_content()
    assert html is not None and "<p>welcome</p>" in html.get_content()
    m = row(fd, mid)
    assert (m.status, m.attempts, m.claimed_by) == ("sent", 1, None) and m.sent_at
    with fd.uow(write=False) as uow:
        [log] = outbox.delivery_log(uow, actor=SYSTEM_ACTOR, customer_id=cid)
    assert log.status == "sent" and [a.outcome for a in log.log] == ["sent"]
    assert log.log[0].worker == "w1" and "email to c1@example.com" in (log.log[0].detail or "")


def test_a_refusing_server_dead_letters_at_once_and_a_dead_letter_can_be_retried(
    fd: Fiberdesk, mailbox: Mailbox, smtp_port: int, make_deps: Callable[..., Delivery]
) -> None:
    mid = queue(fd, "quote", "Q1", recipient="nobody@example.com")
    mailbox.refuse = "550 5.1.1 no such mailbox"
    deps = make_deps(smtp_port)
    assert deliver_batch(deps, worker="w1", limit=10).dead == 1
    m = row(fd, mid)
    assert (m.status, m.attempts) == ("failed", 1) and "550" in (m.last_error or "")
    with fd.uow(write=False) as uow:
        assert [d.id for d in outbox.dead_letters(uow, actor=SYSTEM_ACTOR)] == [mid]
    with fd.uow() as uow:
        view = outbox.retry_dead(uow, actor=SYSTEM_ACTOR, message_id=mid)
    assert (view.status, view.attempts) == ("pending", 0)
    mailbox.refuse = "451 4.3.0 try again later"  # temporary: stays pending
    assert deliver_batch(deps, worker="w1", limit=10).retried == 1
    assert row(fd, mid).status == "pending" and "451" in (row(fd, mid).last_error or "")
    mailbox.refuse = None
    deps.clock = lambda: utcnow() + timedelta(hours=1)
    assert deliver_batch(deps, worker="w1", limit=10).sent == 1
    assert len(mailbox.received) == 1
    with fd.uow(write=False) as uow:
        assert outbox.dead_letters(uow, actor=SYSTEM_ACTOR) == []
        outcomes = uow.session.scalars(
            sa.select(DeliveryAttempt.outcome).order_by(DeliveryAttempt.id)
        ).all()
        assert outcomes == ["dead", "failed", "sent"]
        assert (
            uow.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "outbox.retry"))
            is not None
        )


def test_a_server_that_is_down_is_retried_with_growing_backoff_then_delivered(
    fd: Fiberdesk, mailbox: Mailbox, make_deps: Callable[..., Delivery]
) -> None:
    port = free_port()  # nothing listens there yet
    mid = queue(fd, "welcome", "w1", recipient="ada@example.com")
    clock = Clock()
    deps = make_deps(port, clock=clock)
    waits = []
    for attempt in (1, 2, 3):
        assert deliver_batch(deps, worker="w1", limit=10).retried == 1
        m = row(fd, mid)
        assert (m.status, m.attempts) == ("pending", attempt)
        assert "unavailable" in (m.last_error or "")
        waits.append((m.next_attempt_at - clock.now).total_seconds())
        assert deliver_batch(deps, worker="w1", limit=10).claimed == 0  # not due yet
        clock.now = m.next_attempt_at
    assert 24 <= waits[0] <= 36 and waits[0] < waits[1] < waits[2] <= 150
    with smtp_server(mailbox, port):
        assert deliver_batch(deps, worker="w1", limit=10).sent == 1
    assert len(mailbox.received) == 1 and row(fd, mid).attempts == 4


def test_gives_up_after_the_last_attempt(fd: Fiberdesk, make_deps: Callable[..., Delivery]) -> None:
    mid = queue(fd, "welcome", "w1", recipient="ada@example.com")
    clock = Clock()
    deps = make_deps(free_port(), clock=clock, max_attempts=3)
    for _ in range(3):
        deliver_batch(deps, worker="w1", limit=10)
        clock.now += timedelta(hours=2)
    m = row(fd, mid)
    assert (m.status, m.attempts) == ("failed", 3)
    assert (m.last_error or "").startswith("gave up after 3 attempts")


def test_sms_is_recorded_once_by_the_fake_gateway(
    fd: Fiberdesk, smtp_port: int, make_deps: Callable[..., Delivery]
) -> None:
    cid = make_customer(fd, seq=2, name="Grace Hopper", status=ServiceStatus.ACTIVE)
    mid = queue(fd, "technician_on_the_way", "a1", cid, channel="sms")
    deps = make_deps(smtp_port)
    assert deliver_batch(deps, worker="w1", limit=10).sent == 1
    key = delivery_id("technician_on_the_way:a1:sms")
    note = deps.sms.send("+14105550100", "again", key)  # a retry after a crash
    assert "already recorded" in note
    with fd.uow(write=False) as uow:
        [sms] = uow.session.scalars(sa.select(FakeSms)).all()
    assert (sms.to, sms.key) == ("+14105550100", key)
    assert sms.body.startswith("technician_on_the_way for Ada Lovelace:")
    assert row(fd, mid).status == "sent"


class Hooks(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], bytes]]
    answers: ClassVar[dict[str, int]] = {"/ok": 204, "/gone": 410, "/busy": 503}

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, dict(self.headers.items()), body))
        self.send_response(self.answers.get(self.path, 404))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook_server() -> Iterator[tuple[str, list[tuple[str, dict[str, str], bytes]]]]:
    received: list[tuple[str, dict[str, str], bytes]] = []
    handler = type("RecordingHooks", (Hooks,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_webhooks_are_signed_and_go_only_to_subscribed_active_endpoints(
    fd: Fiberdesk,
    smtp_port: int,
    make_deps: Callable[..., Delivery],
    hook_server: tuple[str, list[tuple[str, dict[str, str], bytes]]],
) -> None:
    base, received = hook_server
    with fd.uow() as uow:
        ok = webhooks.create_endpoint(
            uow, actor=SYSTEM_ACTOR, url=f"{base}/ok", kinds="order.created, ticket.opened"
        )
    for path, kinds in (("/gone", "*"), ("/busy", "*"), ("/other", "outage.opened")):
        with fd.uow() as uow:
            webhooks.create_endpoint(uow, actor=SYSTEM_ACTOR, url=base + path, kinds=kinds)
    with fd.uow() as uow:
        off = webhooks.create_endpoint(uow, actor=SYSTEM_ACTOR, url=f"{base}/ok")
    with fd.uow() as uow:
        webhooks.set_active(uow, actor=SYSTEM_ACTOR, endpoint_id=off.id, active=False)
    payload = {"order_id": 17, "status": "OPEN"}
    for _ in range(2):  # the same cause emitted twice queues once
        with fd.uow() as uow:
            assert len(webhooks.emit(uow.session, "order.created", payload, key="order17")) == 3
            uow.commit()
    with pytest.raises(InvalidInput), fd.uow() as uow:
        webhooks.create_endpoint(uow, actor=SYSTEM_ACTOR, url="file:///etc/passwd")
    result = deliver_batch(make_deps(smtp_port), worker="w1", limit=10)
    assert (result.sent, result.dead, result.retried) == (1, 1, 1)
    by_path = {path: (headers, body) for path, headers, body in received}
    assert set(by_path) == {"/ok", "/gone", "/busy"}
    headers, body = by_path["/ok"]
    assert ok.secret and verify(ok.secret, body, headers["X-Fiberdesk-Signature"])
    assert not verify(ok.secret, body + b" ", headers["X-Fiberdesk-Signature"])
    assert not verify("wrong", body, headers["X-Fiberdesk-Signature"])
    assert headers["X-Fiberdesk-Event"] == "order.created"
    key = f"webhook:order.created:order17:{ok.id}"
    assert headers["X-Fiberdesk-Delivery"] == delivery_id(key)
    document = json.loads(body)
    assert document["data"] == payload and document["id"] == delivery_id(key)
    assert document["event"] == "order.created"


def test_preferences_choose_the_channel_and_opt_outs_spare_essential_messages(
    fd: Fiberdesk, mailbox: Mailbox, smtp_port: int, make_deps: Callable[..., Delivery]
) -> None:
    quiet = make_customer(fd, seq=3, name="Quiet Customer", status=ServiceStatus.ACTIVE)
    texter = make_customer(fd, seq=4, name="Texting Customer", status=ServiceStatus.ACTIVE)
    with fd.uow() as uow:
        preferences.set_preference(
            uow, actor=SYSTEM_ACTOR, customer_id=quiet, kind="*", channel="none"
        )
    with fd.uow() as uow:
        prefs = preferences.set_preference(
            uow,
            actor=SYSTEM_ACTOR,
            customer_id=texter,
            kind="installation_confirmation",
            channel="SMS",
        )
    assert prefs == {"installation_confirmation": "sms"}
    for kind, channel in (("outage_notification", "none"), ("bogus", "email"), ("welcome", "fax")):
        with pytest.raises(InvalidInput), fd.uow() as uow:
            preferences.set_preference(
                uow, actor=SYSTEM_ACTOR, customer_id=quiet, kind=kind, channel=channel
            )
    skipped = queue(fd, "welcome", "q1", quiet)
    essential = queue(fd, "outage_notification", "o1", quiet)
    by_sms = queue(fd, "installation_confirmation", "i1", texter)
    by_email = queue(fd, "welcome", "t1", texter)
    result = drain(make_deps(smtp_port))
    assert (result.sent, result.skipped) == (3, 1)
    assert row(fd, skipped).status == "skipped" and row(fd, skipped).sent_at is None
    assert row(fd, essential).status == "sent" and row(fd, by_sms).status == "sent"
    assert sorted(to[0] for to, _ in mailbox.received) == ["c3@example.com", "c4@example.com"]
    with fd.uow(write=False) as uow:
        [sms] = uow.session.scalars(sa.select(FakeSms)).all()
        quiet_log = outbox.delivery_log(uow, actor=SYSTEM_ACTOR, customer_id=quiet)
        texter_log = outbox.delivery_log(uow, actor=SYSTEM_ACTOR, customer_id=texter)
        audits = uow.session.scalars(sa.select(AuditEntry.action)).all()
    assert sms.key == delivery_id("installation_confirmation:i1:email")
    assert {(v.kind, v.status, v.log[0].outcome) for v in quiet_log} == {
        ("welcome", "skipped", "skipped"),
        ("outage_notification", "sent", "sent"),
    }
    assert [v.id for v in texter_log] == [by_email, by_sms]
    assert "sms to +14105550100" in (texter_log[1].log[0].detail or "")
    assert audits.count("message_preference.set") == 2


def test_two_workers_never_deliver_one_message_twice(fd: Fiberdesk) -> None:
    sent: Counter[str] = Counter()
    lock = threading.Lock()

    class Recording:
        def send(
            self,
            to: str,
            subject: str,
            text: str,
            html: str,
            message_id: str,
            headers: Mapping[str, str] | None = None,
        ) -> str:
            with lock:
                sent[message_id] += 1
            time.sleep(0.002)
            return "250 ok"

    with fd.uow() as uow:
        for i in range(150):
            messages.queue(
                uow.session,
                kind="welcome",
                key=str(i),
                customer=None,
                context={},
                recipient=f"r{i}@example.com",
            )
        uow.commit()
    done: dict[str, int] = {}

    def work(name: str) -> None:
        deps = Delivery(
            fd.uow, Recording(), FakeSmsSender(fd.session_factory), HttpWebhookSender(), fake_render
        )
        deadline = time.monotonic() + 120
        count = 0
        while time.monotonic() < deadline:
            count += deliver_batch(deps, worker=name, limit=5).sent
            with fd.uow(write=False) as uow:
                if outbox.queue_depth(uow.session)["pending"] == 0:
                    break
        deps.webhooks.close()  # type: ignore[attr-defined]
        done[name] = count

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(150)
    assert len(sent) == 150 and set(sent.values()) == {1}
    assert done["w1"] + done["w2"] == 150 and done["w1"] > 0 and done["w2"] > 0


def test_a_lapsed_claim_is_taken_over(fd: Fiberdesk) -> None:
    ids = [queue(fd, "welcome", str(i), recipient="x@example.com") for i in range(3)]
    now = utcnow()
    lease = timedelta(seconds=60)
    with fd.uow() as uow:
        assert outbox.claim(uow, worker="dead", limit=10, now=now, lease=lease) == ids
    with fd.uow() as uow:
        assert outbox.claim(uow, worker="b", limit=10, now=now + timedelta(seconds=59)) == []
    with fd.uow() as uow:
        assert outbox.claim(uow, worker="b", limit=2, now=now + timedelta(seconds=61)) == ids[:2]
    with fd.uow() as uow:
        assert outbox.renew(uow, worker="dead", ids=ids, until=now + lease * 3) == {ids[2]}
    with fd.uow() as uow:
        outbox.release(uow, worker="b", ids=ids)
    assert row(fd, ids[0]).claimed_by is None and row(fd, ids[2]).claimed_by == "dead"


def book(fd: Fiberdesk, customer_id: int, today: date) -> None:
    """Appointments tomorrow (one booked, one cancelled) and the day after (booked)."""
    with fd.uow() as uow:
        s = uow.session
        tech = Technician(name="Tess Tech", skills=["install"], zones=["21204"])
        order = ServiceOrder(customer_id=customer_id, type=OrderType.NEW_INSTALL, details={})
        s.add_all([tech, order])
        s.flush()
        for day, status in (
            (1, AppointmentStatus.BOOKED),
            (1, AppointmentStatus.CANCELLED),
            (2, AppointmentStatus.BOOKED),
        ):
            s.add(
                Appointment(
                    order_id=order.id,
                    technician_id=tech.id,
                    day=today + timedelta(days=day),
                    window_code="AM",
                    window_start=dtime(8),
                    window_end=dtime(12),
                    status=status,
                )
            )
        uow.commit()


def remind(fd: Fiberdesk, today: date) -> int:
    with fd.uow() as uow:
        return reminders.queue_appointment_reminders(
            uow,
            actor=SYSTEM_ACTOR,
            on=today,
            company_name="Chesapeake Fiber",
            support_number="+1 410 555 0100",
        )


def test_day_before_reminders_are_queued_once_per_appointment(fd: Fiberdesk) -> None:
    today = date(2031, 5, 6)
    cid = make_customer(fd, seq=5, name="Alan Turing", status=ServiceStatus.SCHEDULED)
    book(fd, cid, today)

    def run() -> int:
        return remind(fd, today)

    assert run() == 1
    assert run() == 0
    with fd.uow(write=False) as uow:
        [m] = uow.session.scalars(sa.select(OutboxMessage)).all()
    assert (m.kind, m.recipient, m.customer_id) == ("appointment_reminder", "c5@example.com", cid)
    assert m.context == {
        "customer_name": "Alan Turing",
        "date": "Wednesday, May 07, 2031",
        "time_window": "08:00-12:00",
        "service_address": "5 MAIN ST, TOWSON, MD 21204",
        "technician_name": "Tess Tech",
        "support_number": "+1 410 555 0100",
        "company_name": "Chesapeake Fiber",
        "account_number": m.context["account_number"],
    }


def test_the_worker_loop_delivers_and_stops_cleanly(
    fd: Fiberdesk, mailbox: Mailbox, smtp_port: int, make_deps: Callable[..., Delivery]
) -> None:
    from fiberdesk import worker

    deps = make_deps(smtp_port)
    for i in range(3):
        queue(fd, "welcome", str(i), recipient=f"r{i}@example.com")
    unrenderable = queue(fd, "unrenderable", "x", recipient="r@example.com")
    stats = worker.run_worker(
        fd,
        name="once",
        batch=2,
        poll_seconds=0.1,
        stop_event=threading.Event(),
        once=True,
        delivery=deps,
        reminders_job=False,
    )
    assert (stats.sent, stats.dead) == (3, 1) and len(mailbox.received) == 3
    assert "cannot render unrenderable" in (row(fd, unrenderable).last_error or "")
    stop = worker.start_in_process(fd, delivery=deps)
    try:
        mid = queue(fd, "welcome", "live", recipient="live@example.com")
        worker.wake()
        deadline = time.monotonic() + 30
        while row(fd, mid).status != "sent" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert row(fd, mid).status == "sent"
    finally:
        stop()
    stopping = threading.Event()
    for i in range(4):
        queue(fd, "welcome", f"s{i}", recipient=f"s{i}@example.com")
    original = deps.email.send

    def send_then_stop(*args: Any, **kwargs: Any) -> str:
        stopping.set()  # a SIGTERM arriving during the first send
        return original(*args, **kwargs)

    deps.email.send = send_then_stop  # type: ignore[method-assign]
    result = deliver_batch(deps, worker="stopping", limit=10, stop=stopping)
    assert (result.claimed, result.sent, result.released) == (4, 1, 3)
    with fd.uow(write=False) as uow:
        claimed = uow.session.scalar(
            sa.select(sa.func.count()).where(OutboxMessage.claimed_by.is_not(None))
        )
    assert claimed == 0


def test_with_the_real_templates(
    fd: Fiberdesk, mailbox: Mailbox, smtp_port: int, make_deps: Callable[..., Delivery]
) -> None:
    try:
        from fiberdesk.messages import render  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"fiberdesk.messages.render does not import yet: {exc}")
    from fiberdesk import worker

    deps = make_deps(smtp_port)
    deps.render = worker.renderer_for(fd.settings)
    cid = make_customer(fd, seq=6, name="Edsger Dijkstra", status=ServiceStatus.SCHEDULED)
    mid = queue(
        fd,
        "installation_confirmation",
        "appointment1",
        cid,
        context={
            "customer_name": "Edsger Dijkstra",
            "date": "Wednesday, May 07, 2031",
            "time_window": "08:00-12:00",
            "service_address": "6 MAIN ST, TOWSON, MD 21204",
            "what_to_expect": ["A technician arrives in a marked vehicle"],
            "how_to_prepare": ["Clear access to where the ONT goes"],
            "support_number": "+1 410 555 0100",
            "company_name": "Chesapeake Fiber",
            "account_number": "1000000006",
        },
    )
    book(fd, cid, date(2031, 5, 6))
    assert remind(fd, date(2031, 5, 6)) == 1
    result = deliver_batch(deps, worker="w1", limit=10)
    assert result.sent == 2, (row(fd, mid).last_error, dead_letters(fd))
    assert [rcpts for rcpts, _ in mailbox.received] == [["c6@example.com"]] * 2
    for _, msg in mailbox.received:
        body = msg.get_body(("plain",))
        assert msg["Subject"] and body is not None
        assert "Edsger Dijkstra" in body.get_content()
    assert "Tess Tech" in str(mailbox.received[1][1].get_body(("plain",)))


def dead_letters(fd: Fiberdesk) -> list[str | None]:
    with fd.uow(write=False) as uow:
        return [m.last_error for m in outbox.dead_letters(uow, actor=SYSTEM_ACTOR)]


def _webhook_rows(fd: Fiberdesk) -> list[OutboxMessage]:
    with fd.uow(write=False) as uow:
        query = sa.select(OutboxMessage).where(OutboxMessage.channel == "webhook")
        return list(uow.session.scalars(query.order_by(OutboxMessage.id)))


def test_lifecycle_messages_emit_their_webhook_event_once(
    fd: Fiberdesk,
    smtp_port: int,
    make_deps: Callable[..., Delivery],
    hook_server: tuple[str, list[tuple[str, dict[str, str], bytes]]],
) -> None:
    from fiberdesk.domain.tickets import TicketCategory
    from fiberdesk.services import tickets

    base, received = hook_server
    with fd.uow() as uow:
        tickets_hook = webhooks.create_endpoint(
            uow, actor=SYSTEM_ACTOR, url=f"{base}/ok", kinds="ticket_opened,ticket_resolved"
        )
    with fd.uow() as uow:
        outage_hook = webhooks.create_endpoint(
            uow, actor=SYSTEM_ACTOR, url=f"{base}/ok", kinds="outage_notification,identity_code"
        )
    with fd.uow() as uow:
        off = webhooks.create_endpoint(uow, actor=SYSTEM_ACTOR, url=f"{base}/ok", kinds="*")
    with fd.uow() as uow:
        webhooks.set_active(uow, actor=SYSTEM_ACTOR, endpoint_id=off.id, active=False)
    cid = make_customer(fd, seq=8, name="Ada Lovelace", status=ServiceStatus.ACTIVE)
    with fd.uow() as uow:
        ticket = tickets.open_ticket(
            uow,
            actor=SYSTEM_ACTOR,
            customer_id=cid,
            category=TicketCategory.NO_INTERNET,
            description="No light on the ONT",
        )
    with pytest.raises(RuntimeError), fd.uow() as uow:  # rolled back: no event either
        messages.queue(
            uow.session, kind="ticket_resolved", key="gone", customer=None, context={},
            recipient="x@example.com",
        )  # fmt: skip
        uow.flush()
        raise RuntimeError("the change failed")
    with fd.uow() as uow:
        tickets.resolve_ticket(
            uow, actor=SYSTEM_ACTOR, ticket_id=ticket.id, code="FIBER", text="Re-spliced."
        )
    # the same causes again (a retried action), one by one and in bulk: nothing new; an
    # identity code is no lifecycle event, subscribed or not
    for _ in range(2):
        with fd.uow() as uow:
            customer = uow.session.get_one(Customer, cid)
            messages.queue(uow.session, kind="ticket_opened", key=f"{ticket.id}:1",
                           customer=customer, context={"ticket_number": ticket.number})  # fmt: skip
            messages.queue_many(uow.session, [
                messages.NewMessage("outage_notification", "outage1", customer,
                                    {"outage_id": 1, "status": "Outage Detected"}),
                messages.NewMessage("identity_code", "code1", customer, {"code": "123456"}),
            ])  # fmt: skip
            uow.commit()
    rows = _webhook_rows(fd)
    assert sorted((m.kind, m.recipient) for m in rows) == [
        ("outage_notification", str(outage_hook.id)),
        ("ticket_opened", str(tickets_hook.id)),
        ("ticket_resolved", str(tickets_hook.id)),
    ]
    opened = next(m for m in rows if m.kind == "ticket_opened")
    assert opened.context == {
        "customer_id": cid,
        "account_number": opened.context["account_number"],
        "customer_status": "ACTIVE",
        "ticket_number": ticket.number,
        "status": "Open",
    }
    result = drain(make_deps(smtp_port))
    assert result.dead == 0 and result.retried == 0
    assert all(m.status == "sent" for m in _webhook_rows(fd))
    events = {headers["X-Fiberdesk-Event"]: json.loads(body) for _, headers, body in received}
    assert set(events) == {"ticket_opened", "ticket_resolved", "outage_notification"}
    resolved = events["ticket_resolved"]["data"]
    assert (resolved["ticket_number"], resolved["status"]) == (ticket.number, "Resolved")
    assert events["outage_notification"]["data"]["outage_id"] == 1
    secret_of = {"ticket_opened": tickets_hook.secret, "ticket_resolved": tickets_hook.secret,
                 "outage_notification": outage_hook.secret}  # fmt: skip
    for _, headers, body in received:
        secret = secret_of[headers["X-Fiberdesk-Event"]]
        assert secret and verify(secret, body, headers["X-Fiberdesk-Signature"])
