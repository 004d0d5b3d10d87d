"""The customer list, the customer page (every part of the query context), the note form,
and the search pages, through the console (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Appointment,
    CustomerNote,
    Invoice,
    OutboxMessage,
    ServiceOrder,
    Ticket,
)
from fiberdesk.domain.billing import InvoiceStatus
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.orders import AppointmentStatus, OrderStatus, OrderType
from fiberdesk.domain.tickets import TicketCategory
from fiberdesk.domain.users import Role
from fiberdesk.web.app import create_app
from tests.console.support import make_user, sign_in
from tests.factories import (
    make_active_customers,
    make_customer,
    make_field_staff,
    open_billing,
)


@dataclass
class Story:
    customer_id: int
    serial: str
    nap_code: str
    ticket_id: int
    invoice_number: str
    order_id: int


def _story(fd: Fiberdesk) -> Story:
    """An active customer with an ONT on the simulated OLT, an open ticket, an order with a
    booked visit, an invoice, a note and a message sent."""
    world = make_active_customers(fd, per_nap=1, naps=("NAP-A",))
    cid, serial = world.customer_ids[0], world.serials[0]
    staff = make_field_staff(fd, technicians=1, onts=0, ips=0)
    account_id = open_billing(fd, cid, on=date(2026, 1, 5))
    now = utcnow()
    with fd.uow() as uow:
        s = uow.session
        ticket = Ticket(
            customer_id=cid,
            category=TicketCategory.SLOW_SPEED,
            description="Speeds drop every evening since Tuesday",
            sla_due_at=now + timedelta(hours=20),
        )
        order = ServiceOrder(customer_id=cid, type=OrderType.REPAIR, status=OrderStatus.SCHEDULED)
        s.add_all([ticket, order])
        s.flush()
        s.add(
            Appointment(
                order_id=order.id,
                technician_id=staff.technician_ids[0],
                day=date.today() + timedelta(days=2),
                window_code="AM",
                window_start=time(8),
                window_end=time(12),
                status=AppointmentStatus.BOOKED,
            )
        )
        invoice = Invoice(
            number="INV-0000777",
            account_id=account_id,
            period_start=date(2026, 2, 5),
            period_end=date(2026, 3, 4),
            issued_on=date(2026, 2, 5),
            due_on=date(2026, 2, 25),
            subtotal=Decimal("70.00"),
            tax=Decimal("4.20"),
            total=Decimal("74.20"),
            status=InvoiceStatus.OPEN,
        )
        s.add(invoice)
        s.add(
            CustomerNote(customer_id=cid, content="Prefers calls after 5 pm", created_by="csr-alex")
        )
        s.add(
            OutboxMessage(
                kind="appointment_reminder",
                channel="sms",
                customer_id=cid,
                recipient="+14105550100",
                context={},
                idempotency_key=f"test-reminder-{cid}",
                status="sent",
                sent_at=now,
            )
        )
        s.flush()
        story = Story(cid, serial, "NAP-A", ticket.id, invoice.number, order.id)
        uow.commit()
    return story


@pytest.fixture
def story(fd: Fiberdesk) -> Story:
    return _story(fd)


def client_as(fd: Fiberdesk, role: Role) -> tuple[TestClient, str]:
    client = TestClient(create_app(fd), base_url="http://console.test")
    username = make_user(fd, role)
    page = "/console" if role in (Role.CSR, Role.ADMIN, Role.SUPERVISOR) else "/console/customers"
    csrf = sign_in(client, username, page=page)
    return client, csrf


def section(html: str, heading_id: str) -> str:
    """The HTML of the card whose heading has ``heading_id``."""
    start = html.index(f'id="{heading_id}"')
    end = html.find("</section>", start)
    return html[start:end]


def test_the_customer_page_shows_every_part(fd: Fiberdesk, story: Story) -> None:
    client, _ = client_as(fd, Role.CSR)
    page = client.get(f"/console/customers/{story.customer_id}")
    assert page.status_code == 200, page.text
    html = page.text
    assert "In Service" in html  # status
    assert re.search(r"\d+/\d+ Mbps", html)  # tier and speed
    assert "MAIN" in html.upper() or "ST" in html  # address
    network = section(html, "network-h")
    assert story.nap_code in network and "port " in network
    assert story.serial in network  # equipment
    assert "Online" in network and "dBm" in network  # live ONT status from the simulated OLT
    assert re.search(r"badge (green|amber|red)\">(Excellent|Good|Acceptable|Poor)", network)
    tickets = section(html, "tickets-h")
    assert f"TKT-{story.ticket_id:06d}" in tickets and "Slow speed" in tickets
    orders = section(html, "orders-h")
    assert f"#{story.order_id}" in orders and "Repair visit" in orders and "08:00" in orders
    billing = section(html, "billing-h")
    assert story.invoice_number in billing and "$74.20" in billing
    assert "Prefers calls after 5 pm" in section(html, "notes-h")
    assert "Appointment reminder" in section(html, "messages-h")
    timeline = section(html, "timeline-h")
    for event in (
        "Account opened",
        "opened: Slow speed",
        "Invoice INV-0000777",
        "Note by",
        "$74.20",
    ):
        assert event in timeline, event
    # the links to the other areas
    for url in (
        f"/console/tickets/new?customer_id={story.customer_id}",
        f"/console/troubleshoot/start?customer_id={story.customer_id}&amp;flow=no_internet",
        f"/console/troubleshoot/start?customer_id={story.customer_id}&amp;flow=slow_internet",
        f"/console/changes/{story.customer_id}/tier",
        f"/console/changes/{story.customer_id}/relocate",
        f"/console/changes/{story.customer_id}/suspend",
        f"/console/changes/{story.customer_id}/disconnect",
        f"/console/billing/accounts/{story.customer_id}",
    ):
        assert f'href="{url}"' in html, url
    assert f"/console/changes/{story.customer_id}/resume" not in html


def test_roles_see_only_their_parts(fd: Fiberdesk, story: Story) -> None:
    noc, _ = client_as(fd, Role.NOC)
    html = noc.get(f"/console/customers/{story.customer_id}").text
    assert 'id="billing-h"' not in html and story.invoice_number not in html
    assert "/console/changes/" not in html and "/console/billing/" not in html
    assert "/console/tickets/new" in html
    billing, _ = client_as(fd, Role.BILLING)
    html = billing.get(f"/console/customers/{story.customer_id}").text
    assert story.invoice_number in html and "/console/troubleshoot/" not in html


def test_adding_a_note(fd: Fiberdesk, story: Story) -> None:
    client, csrf = client_as(fd, Role.CSR)
    url = f"/console/customers/{story.customer_id}/notes"
    done = client.post(
        url,
        data={"csrf_token": csrf, "type": "CALL", "content": "Called about the slow evenings"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/customers/{story.customer_id}?noted=1#notes"
    shown = client.get(done.headers["location"]).text
    assert "Note added." in shown and "Called about the slow evenings" in shown
    with fd.uow(write=False) as uow:
        note = uow.session.scalars(
            sa.select(CustomerNote).where(CustomerNote.content.like("Called about%"))
        ).one()
        assert note.created_by == "csruser" and note.type.value == "CALL"


def _notes(fd: Fiberdesk, customer_id: int) -> int:
    with fd.uow(write=False) as uow:
        query = sa.select(sa.func.count()).where(CustomerNote.customer_id == customer_id)
        return uow.session.scalar(query) or 0


def test_a_bad_note_is_shown_again_with_the_error(fd: Fiberdesk, story: Story) -> None:
    client, csrf = client_as(fd, Role.CSR)
    url = f"/console/customers/{story.customer_id}/notes"
    before = _notes(fd, story.customer_id)
    empty = client.post(url, data={"csrf_token": csrf, "type": "CALL", "content": "   "})
    assert empty.status_code == 422
    assert 'id="e-content"' in empty.text and "The note is empty." in empty.text
    assert re.search(r'<option value="CALL" selected>', empty.text)  # the choice is kept
    too_long = "x" * 10_001
    long = client.post(url, data={"csrf_token": csrf, "type": "GENERAL", "content": too_long})
    assert long.status_code == 422 and "over 10000 characters" in long.text
    assert too_long in long.text  # what was typed is kept
    kind = client.post(url, data={"csrf_token": csrf, "type": "GOSSIP", "content": "hello"})
    assert kind.status_code == 422 and 'id="e-type"' in kind.text
    assert ">hello</textarea>" in kind.text
    assert _notes(fd, story.customer_id) == before  # nothing was written


def test_a_stale_csrf_token_changes_nothing(fd: Fiberdesk, story: Story) -> None:
    client, _ = client_as(fd, Role.CSR)
    before = _notes(fd, story.customer_id)
    sent = client.post(
        f"/console/customers/{story.customer_id}/notes",
        data={"csrf_token": "stale", "type": "GENERAL", "content": "keep me"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"].startswith("/login?")
    assert _notes(fd, story.customer_id) == before


def test_a_technician_gets_403(fd: Fiberdesk) -> None:
    cid = make_customer(fd, seq=4401, name="Ada Byron", status=ServiceStatus.ACTIVE)
    client = TestClient(create_app(fd), base_url="http://console.test")
    sign_in(client, make_user(fd, Role.TECHNICIAN), page="/console/field")
    for url in (
        f"/console/customers/{cid}",
        "/console/customers",
        "/console/search?q=byron",
        "/console/search/suggest?q=byron",
    ):
        page = client.get(url)
        assert page.status_code == 403, url
        assert "Ada Byron" not in page.text
    note = client.post(f"/console/customers/{cid}/notes", data={"content": "x"})
    assert note.status_code in (303, 403)
    assert _notes(fd, cid) == 0


def test_an_unknown_customer_is_404(fd: Fiberdesk) -> None:
    client, csrf = client_as(fd, Role.CSR)
    page = client.get("/console/customers/987654")
    assert page.status_code == 404 and "No customer 987654." in page.text
    post = client.post(
        "/console/customers/987654/notes",
        data={"csrf_token": csrf, "type": "GENERAL", "content": "hello"},
    )
    assert post.status_code == 404


def test_the_customer_list_filters_and_pages(fd: Fiberdesk) -> None:
    for i in range(30):
        status = ServiceStatus.SUSPENDED if i % 10 == 0 else ServiceStatus.ACTIVE
        make_customer(fd, seq=5000 + i, name=f"Walker {i:02d}", status=status)
    make_customer(fd, seq=5100, name="Zora Neale", status=ServiceStatus.ACTIVE)
    client, _ = client_as(fd, Role.CSR)
    first = client.get("/console/customers")
    assert first.status_code == 200 and "31 customers" in first.text
    assert "Page 1 of 2" in first.text and 'rel="next"' in first.text
    second = client.get("/console/customers?page=2")
    assert "Page 2 of 2" in second.text and second.text.count('href="/console/customers/') == 6
    suspended = client.get("/console/customers?status=SUSPENDED")
    assert "3 customers match" in suspended.text and "Zora" not in suspended.text
    by_name = client.get("/console/customers?q=zora")
    assert "1 customer matches" in by_name.text and "Zora Neale" in by_name.text
    bad = client.get("/console/customers?status=HAPPY&q=zora")
    assert bad.status_code == 422 and 'id="e-status"' in bad.text
    assert 'value="zora"' in bad.text


def test_the_search_pages(fd: Fiberdesk) -> None:
    cid = make_customer(fd, seq=6101, name="Margaret Okafor", status=ServiceStatus.ACTIVE)
    client, _ = client_as(fd, Role.CSR)
    results = client.get("/console/search?q=margret+okafr")
    assert results.status_code == 200
    assert f'href="/console/customers/{cid}"' in results.text and "Name" in results.text
    nothing = client.get("/console/search?q=zzyzx+qqq")
    assert "Nothing found for “zzyzx qqq”" in nothing.text
    short = client.get("/console/search?q=a")
    assert short.status_code == 422 and 'id="e-q"' in short.text
    assert "At least 2 characters" in short.text or "at least 2 characters" in short.text
    blank = client.get("/console/search")
    assert blank.status_code == 200 and 'id="f-q"' in blank.text
    live = client.get("/console/search/suggest?q=okafor")
    assert live.status_code == 200
    assert f'href="/console/customers/{cid}"' in live.text and "Margaret Okafor" in live.text
    assert "See all results" in live.text and "<html" not in live.text
    assert client.get("/console/search/suggest?q=o").text == ""
    none = client.get("/console/search/suggest?q=zzyzx")
    assert "Nothing matches" in none.text and "<a " not in none.text
