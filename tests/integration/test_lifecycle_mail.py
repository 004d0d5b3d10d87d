"""Every lifecycle message, end to end: the real actions of the product (services) queue
them, the outbox worker renders them with the bundled templates and delivers them to a real
SMTP server started here (aiosmtpd), the fake SMS gateway and a webhook endpoint subscribed
to every event. Each kind must arrive once, at the right address, carrying its template's
fields. On SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from email.message import EmailMessage
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from fiberdesk import worker
from fiberdesk.adapters.network.simulated import SimulatedOlt
from fiberdesk.adapters.notifications.base import delivery_id
from fiberdesk.adapters.notifications.sms_fake import FakeSmsSender
from fiberdesk.adapters.notifications.smtp import SmtpEmailSender
from fiberdesk.adapters.notifications.webhook import HttpWebhookSender, verify
from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import Customer, FakeSms, Nap, OutboxMessage, Splitter
from fiberdesk.domain.outages import Scope
from fiberdesk.domain.signup import IdentityMethod
from fiberdesk.domain.tickets import TicketCategory, TicketStatus
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.messages import CATALOG
from fiberdesk.messages.render import shown
from fiberdesk.services import (
    activation,
    billing,
    disconnect,
    equipment,
    holds,
    orders,
    outages,
    outbox,
    payments,
    quotes,
    reminders,
    scheduling,
    signup,
    tickets,
    webhooks,
)
from tests.factories import make_active_customers, make_field_staff, open_billing

MAIL_FROM = "Chesapeake Fiber <no-reply@fiber.test>"
ROBIN = "robin@example.com"
ACTOR = SYSTEM_ACTOR
#: every lifecycle message of the spec (the catalog's customer kinds but the identity code)
LIFECYCLE = (
    "quote", "order_confirmation", "installation_confirmation", "appointment_reminder",
    "technician_on_the_way", "welcome", "ticket_opened", "ticket_updated", "ticket_resolved",
    "outage_notification", "restoration_notice", "planned_maintenance", "payment_reminder",
    "suspension_notice", "resume_notice", "disconnection_confirmation",
    "equipment_return_reminder", "satisfaction_survey",
)  # fmt: skip


class Mailbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), message))
        return "250 OK queued"


class Hooks(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers.items()), body))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield box, controller.port
    finally:
        controller.stop()


@pytest.fixture
def hook_server() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("H", (Hooks,), {"received": received}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/events", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class People:
    """Who receives what: Robin signs up; the others are active customers."""

    robin: int
    ticket: int
    dunned: int
    leaving: int
    outage: list[int]


def _sign_up_robin(fd: Fiberdesk, premises_id: int) -> tuple[int, date]:
    """Quote, order, sign-up steps, booking, day-before reminder, equipment, on the way,
    activation: returns the order and the appointment's day."""
    with fd.uow() as uow:
        quote = quotes.create_quote(
            uow, actor=ACTOR, premises_id=premises_id, plan_code="GIGABIT",
            settings=fd.quote_settings, term_code="12M", contact_name="Robin Fiber",
            contact_email=ROBIN,
        )  # fmt: skip
    with fd.uow() as uow:
        quotes.accept_quote(uow, actor=ACTOR, reference=quote.reference, settings=fd.quote_settings)
    with fd.uow() as uow:
        order = orders.create_order(
            uow, actor=ACTOR, quote_reference=quote.reference, name="Robin Fiber",
            email=ROBIN, phone="410-555-0123",
        )  # fmt: skip
    signup.verify_identity(
        fd.uow, actor=ACTOR, order_id=order.id, method=IdentityMethod.PHOTO_ID,
        secret_key=fd.settings.secret_key, document_type="passport", document_number="X1234567",
    )  # fmt: skip
    signup.credit_check(
        fd.uow, actor=ACTOR, order_id=order.id, bureau=fd.bureau, policy=fd.credit_policy,
        date_of_birth=date(1980, 4, 2), ssn_last4="1111",
    )  # fmt: skip
    token = fd.gateway.tokenize("4242424242424242", 12, date.today().year + 2, "123")  # type: ignore[attr-defined]
    signup.setup_payment(
        fd.uow, actor=ACTOR, order_id=order.id, gateway=fd.gateway, token=token.token
    )
    signup.accept_contract(
        fd.uow, actor=ACTOR, order_id=order.id, accepted_name="Robin Fiber", channel="phone"
    )
    [slot] = scheduling.find_windows(
        fd.uow, actor=ACTOR, order_id=order.id, settings=fd.scheduling, limit=1
    )
    scheduling.book(
        fd.uow, actor=ACTOR, order_id=order.id, day=slot.day, window=slot.window,
        settings=fd.scheduling,
    )  # fmt: skip
    with fd.uow() as uow:
        queued = reminders.queue_appointment_reminders(
            uow, actor=ACTOR, on=slot.day - timedelta(days=1),
            company_name=fd.settings.company_name, support_number=fd.settings.support_phone,
        )  # fmt: skip
    assert queued == 1
    with fd.uow() as uow:
        equipment.assign_ont(uow, actor=ACTOR, order_id=order.id)
    equipment.provision(fd.uow, actor=ACTOR, order_id=order.id, network=fd.network)
    activation.en_route(
        fd.uow, actor=ACTOR, order_id=order.id, eta_minutes=25,
        company_name=fd.settings.company_name, support_phone=fd.settings.support_phone,
    )  # fmt: skip
    activation.arrive(fd.uow, actor=ACTOR, order_id=order.id)
    done = activation.activate(
        fd.uow, actor=ACTOR, order_id=order.id, network=fd.network,
        speed_test=activation.SpeedTest(Decimal("941.5"), Decimal("487"), True),
        physical_confirmed=True, min_share=Decimal("0.9"),
        company_name=fd.settings.company_name, support_phone=fd.settings.support_phone,
        surveys=fd.kpi_settings,
    )  # fmt: skip
    assert done.customer_status == "ACTIVE"
    return order.id, slot.day


def _ticket(fd: Fiberdesk, customer_id: int) -> None:
    """Opened, updated (in progress, with a note), resolved (and its survey)."""
    settings = fd.ticket_settings
    with fd.uow() as uow:
        ticket = tickets.open_ticket(
            uow, actor=ACTOR, customer_id=customer_id, category=TicketCategory.SLOW_SPEED,
            description="Slow every evening", settings=settings,
        )  # fmt: skip
    with fd.uow() as uow:
        tickets.update_ticket(
            uow, actor=ACTOR, ticket_id=ticket.id, status=TicketStatus.IN_PROGRESS,
            note="Checking the line from the NOC", settings=settings,
        )  # fmt: skip
    with fd.uow() as uow:
        tickets.resolve_ticket(
            uow, actor=ACTOR, ticket_id=ticket.id, code="ROUTER_RESTART",
            text="Restarted the router; speeds are back.", settings=settings,
        )  # fmt: skip


def _outage_and_maintenance(fd: Fiberdesk, splitter_id: int) -> None:
    """A fiber cut found by polling the simulated OLT, resolved; then planned work."""
    assert isinstance(fd.network, SimulatedOlt)
    settings = outages.settings_from(fd.settings)
    fd.network.inject_fault("FIBER_CUT", splitter_id=splitter_id)
    polled = outages.poll(fd.uow, actor=ACTOR, network=fd.network, settings=settings)
    [outage_id] = polled.correlation.opened
    with fd.uow() as uow:
        outages.resolve_outage(
            uow, actor=ACTOR, outage_id=outage_id, note="Spliced", settings=settings
        )
    starts = utcnow() + timedelta(days=3)
    with fd.uow() as uow:
        outages.create_maintenance(
            uow, actor=ACTOR, title="Splitter replacement", scope=Scope.SPLITTER,
            scope_id=splitter_id, starts_at=starts, ends_at=starts + timedelta(hours=2),
            description="We replace the splitter cabinet.", settings=settings,
        )  # fmt: skip


def _dunning(fd: Fiberdesk, customer_id: int) -> None:
    """An unpaid invoice: a reminder, then suspension; paying it resumes the service."""
    start = date(2026, 10, 10)
    account_id = open_billing(fd, customer_id, on=start)
    with fd.uow() as uow:
        billing.run_billing(
            uow, actor=ACTOR, on=start, settings=fd.billing_settings, account_ids=[account_id]
        )
    due = start + timedelta(days=fd.settings.invoice_due_days)
    for late in (3, 21):
        holds.run_dunning(
            fd.uow, actor=ACTOR, network=fd.network, on=due + timedelta(days=late),
            policy=fd.dunning, settings=fd.hold_settings,
        )  # fmt: skip
    with fd.uow(write=False) as uow:
        owed = billing.balance(uow.session, account_id)
    token = fd.gateway.tokenize("4242424242424242", 12, date.today().year + 2, "123")  # type: ignore[attr-defined]
    paid = payments.pay(
        fd.uow, actor=ACTOR, customer_id=customer_id, amount=owed, method="card",
        token=token.token, gateway=fd.gateway, key="catch-up", network=fd.network,
        hold_settings=fd.hold_settings,
    )  # fmt: skip
    assert paid.status == "SUCCEEDED"


def _disconnect(fd: Fiberdesk, customer_id: int) -> None:
    """Preview and confirm the disconnection (final bill); the return reminder a week
    before the equipment is due back."""
    on = date(2026, 12, 1)
    open_billing(fd, customer_id, on=date(2026, 11, 1), contract_months=12, deposit="100.00")
    secret = fd.settings.secret_key
    bill = disconnect.preview_disconnect(
        fd.uow, actor=ACTOR, customer_id=customer_id, on=on, settings=fd.return_settings,
        secret_key=secret,
    )  # fmt: skip
    disconnect.disconnect(
        fd.uow, actor=ACTOR, network=fd.network, gateway=fd.gateway, customer_id=customer_id,
        on=on, churn_reason="moving_out_of_area", confirm=bill.token, settings=fd.return_settings,
        secret_key=secret,
    )  # fmt: skip
    run = disconnect.run_returns(
        fd.uow, actor=ACTOR, on=bill.return_by - timedelta(days=6), settings=fd.return_settings
    )
    assert run.reminders == 1


def _expected(fd: Fiberdesk, people: People) -> Counter[tuple[str, str]]:
    """(kind, address) of every message the actions above must deliver, once each."""
    with fd.uow(write=False) as uow:
        mail = dict(
            uow.session.execute(
                sa.select(Customer.id, Customer.email).where(Customer.email.is_not(None))
            ).all()
        )
    want = [
        (k, ROBIN)
        for k in (
            "quote",
            "order_confirmation",
            "installation_confirmation",
            "appointment_reminder",
            "welcome",
            "satisfaction_survey",
        )
    ]
    want += [
        (k, mail[people.ticket])
        for k in ("ticket_opened", "ticket_updated", "ticket_resolved", "satisfaction_survey")
    ]
    want += [
        (k, mail[c])
        for c in people.outage
        for k in ("outage_notification", "restoration_notice", "planned_maintenance")
    ]
    want += [
        (k, mail[people.dunned]) for k in ("payment_reminder", "suspension_notice", "resume_notice")
    ]
    want += [(k, mail[people.leaving]) for k in ("disconnection_confirmation",
                                                 "equipment_return_reminder")]  # fmt: skip
    return Counter(want)


def _carries_its_fields(kind: str, context: dict[str, Any], mail: EmailMessage) -> None:
    """Every required field of the kind, shown as the templates show it, in both bodies;
    and nothing in the context the kind does not declare (but the branding's record)."""
    spec = CATALOG[kind]
    assert set(context) <= spec.field_names | {"company_name", "support_number"}, kind
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None and html is not None, kind
    plain, rich = text.get_content(), html.get_content()
    for field in spec.fields:
        if not field.required:
            continue
        assert context.get(field.name) is not None, (kind, field.name)
        for piece in shown(field, context[field.name]):
            assert piece in plain, (kind, field.name, piece)
            assert str(escape(piece)) in rich, (kind, field.name, piece)
    assert mail["X-Fiberdesk-Kind"] == kind and mail["From"] == MAIL_FROM
    assert mail["Subject"] and "Chesapeake Fiber" in plain


def test_every_lifecycle_message_reaches_the_smtp_server_once(
    fd: Fiberdesk,
    mailbox: tuple[Mailbox, int],
    hook_server: tuple[str, list[tuple[dict[str, str], bytes]]],
) -> None:
    box, port = mailbox
    url, hooks = hook_server
    with fd.uow() as uow:
        endpoint = webhooks.create_endpoint(uow, actor=ACTOR, url=url, kinds="*")
    assert endpoint.secret
    active = make_active_customers(fd, per_nap=3, naps=("NAP-A", "NAP-XGS"))
    make_field_staff(fd)
    on_a = [c for c in active.customer_ids if active.nap_of[c] == "NAP-A"]
    people = People(
        robin=0,
        ticket=on_a[0],
        dunned=on_a[1],
        leaving=on_a[2],
        outage=[c for c in active.customer_ids if active.nap_of[c] == "NAP-XGS"],
    )
    with fd.uow(write=False) as uow:
        nap = uow.session.get_one(Nap, active.world.naps["NAP-XGS"])
        splitter_id = uow.session.get_one(Splitter, nap.splitter_id).id

    order_id, day = _sign_up_robin(fd, active.world.premises["serviceable"])
    _ticket(fd, people.ticket)
    _outage_and_maintenance(fd, splitter_id)
    _dunning(fd, people.dunned)
    _disconnect(fd, people.leaving)
    with fd.uow(write=False) as uow:
        robin = uow.session.scalar(sa.select(Customer).where(Customer.email == ROBIN))
        assert robin is not None
        people.robin = robin.id
        queued = uow.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.channel != "webhook")
        ).all()
    assert {m.kind for m in queued} == set(LIFECYCLE)

    deps = outbox.Delivery(
        fd.uow,
        SmtpEmailSender("127.0.0.1", port, mail_from=MAIL_FROM, timeout=5),
        FakeSmsSender(fd.session_factory),
        HttpWebhookSender(timeout=5, trust_env=False),
        worker.renderer_for(fd.settings),
    )
    try:
        stats = worker.run_worker(
            fd, name="e2e", batch=20, poll_seconds=0.1, stop_event=threading.Event(),
            once=True, delivery=deps, reminders_job=False, kpi_job=False,
        )  # fmt: skip
    finally:
        deps.email.close()  # type: ignore[attr-defined]
        deps.webhooks.close()  # type: ignore[attr-defined]
    with fd.uow(write=False) as uow:
        assert outbox.queue_depth(uow.session) == {
            "pending": 0, "sent": stats.sent, "skipped": 0, "failed": 0,
        }  # fmt: skip
        [sms] = uow.session.scalars(sa.select(FakeSms)).all()
    assert (stats.dead, stats.retried, stats.skipped) == (0, 0, 0)

    # e-mail: each kind once at the right address, with its template's fields
    arrived = Counter((m["X-Fiberdesk-Kind"], rcpts[0]) for rcpts, m in box.received)
    assert all(len(rcpts) == 1 for rcpts, _ in box.received)
    assert arrived == _expected(fd, people)
    assert len({m["Message-ID"] for _, m in box.received}) == len(box.received)
    by_id = {f"<{delivery_id(m.idempotency_key)}@fiber.test>": m for m in queued}
    for rcpts, mail in box.received:
        row = by_id[str(mail["Message-ID"])]
        assert rcpts == [row.recipient] and mail["To"] == row.recipient
        _carries_its_fields(row.kind, row.context, mail)
        part = mail.get_body(("plain",))
        plain = part.get_content() if part is not None else ""
        if row.kind == "appointment_reminder":
            assert f"{day:%A, %B %d, %Y}" in plain and "Tech 1" in plain
        if row.kind == "satisfaction_survey" and row.recipient == ROBIN:
            assert "the installation of your fiber service" in plain
    # the technician on the way: a text to Robin's phone, once
    [on_the_way] = [m for m in queued if m.kind == "technician_on_the_way"]
    assert (on_the_way.channel, on_the_way.recipient) == ("sms", "+14105550123")
    assert (sms.to, sms.key) == (on_the_way.recipient, delivery_id(on_the_way.idempotency_key))
    assert "Robin Fiber" in sms.body and "Tech 1" in sms.body and "25" in sms.body

    # webhooks: one signed event per message queued, named after its kind
    events: Counter[str] = Counter()
    for headers, body in hooks:
        assert verify(endpoint.secret, body, headers["X-Fiberdesk-Signature"])
        document = json.loads(body)
        assert document["event"] == headers["X-Fiberdesk-Event"]
        events[document["event"]] += 1
        data = document["data"]
        assert "customer_name" not in data and "service_address" not in data
        if document["event"] == "order_confirmation":
            assert data["customer_id"] == people.robin and data["order_number"] == order_id
    assert events == Counter(m.kind for m in queued)
