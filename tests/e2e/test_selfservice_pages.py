"""Public self-service pages: sign-up, outage status and the signed ticket link
(SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    AuditEntry,
    Customer,
    MaintenanceWindow,
    Outage,
    OutboxMessage,
    PaymentMethod,
    ServiceOrder,
)
from fiberdesk.domain.outages import OutageKind, OutageStatus, Scope
from fiberdesk.domain.tickets import TicketCategory
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.messages import Branding, Rendered, default_templates
from fiberdesk.services import tickets
from fiberdesk.web.app import create_app
from fiberdesk.web.ratelimit import RateLimiter
from tests.factories import (
    QualificationWorld,
    make_active_customers,
    make_field_staff,
    make_qualification_world,
)


@pytest.fixture
def client(fd: Fiberdesk) -> Iterator[TestClient]:
    app = create_app(fd)
    app.state.public_limiter = RateLimiter(1000)  # the limit has its own test
    with TestClient(app) as c:
        yield c


def _form_token(html: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _error_of(html: str, field: str) -> str:
    found = re.search(rf'id="e-{field}" role="alert">([^<]+)<', html)
    assert found, f"no error beside {field}"
    return found.group(1)


def _step(location: str) -> tuple[str, str]:
    """(path, token) of a sign-up step's address."""
    parts = urlsplit(location)
    return parts.path, parse_qs(parts.query)["t"][0]


def _code(fd: Fiberdesk) -> str:
    with fd.uow(write=False) as uow:
        message = uow.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.kind == "identity_code")
            .order_by(OutboxMessage.id.desc())
        ).first()
        assert message is not None
        return str(message.context["code"])


def _details(premises_id: int, token: str, **extra: str) -> dict[str, str]:
    return {
        "premises_id": str(premises_id),
        "token": token,
        "plan": "PLUS",
        "term": "M2M",
        "name": "Sam Public",
        "email": "sam@example.com",
        "phone": "410-555-0188",
        **extra,
    }


def _start(client: TestClient, premises_id: int) -> tuple[int, str, str]:
    """Through the plan page to the first order step: (order id, step path, token)."""
    form = client.get("/signup", params={"premises": premises_id, "plan": "PLUS"})
    assert form.status_code == 200
    r = client.post(
        "/signup", data=_details(premises_id, _form_token(form.text)), follow_redirects=False
    )
    assert r.status_code == 303, r.text
    path, token = _step(r.headers["location"])
    found = re.match(r"/signup/(\d+)/verify$", path)
    assert found, path
    return int(found.group(1)), path, token


def test_sign_up_on_the_public_pages(fd: Fiberdesk, client: TestClient) -> None:
    world = make_qualification_world(fd)
    make_field_staff(fd)
    premises = world.premises["serviceable"]
    # from the availability check to the plan page
    avail = client.get("/availability", params={"premises": premises})
    assert f'href="/signup?premises={premises}&amp;plan=PLUS"' in avail.text
    form = client.get("/signup", params={"premises": premises, "plan": "PLUS"})
    assert 'name="plan" value="PLUS" checked' in form.text
    token = _form_token(form.text)
    # a bad email comes back beside the field with what was typed; nothing is created
    bad = client.post("/signup", data=_details(premises, token, email="sam@"))
    assert bad.status_code == 422
    assert "not a valid email" in _error_of(bad.text, "email")
    assert 'value="sam@"' in bad.text and 'value="Sam Public"' in bad.text
    with fd.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder)) == 0

    order_id, path, t = _start(client, premises)
    # identity: a code by text; a wrong one is said beside the field
    r = client.post(path, data={"t": t, "action": "send", "channel": "sms"}, follow_redirects=False)
    assert r.status_code == 303 and "sent=sms" in r.headers["location"]
    page = client.get(r.headers["location"])
    assert "We sent a code by text" in page.text
    wrong = "000000" if _code(fd) != "000000" else "111111"
    r = client.post(path, data={"t": t, "action": "code", "channel": "sms", "code": wrong})
    assert r.status_code == 422 and "does not match" in _error_of(r.text, "code")
    r = client.post(
        path,
        data={"t": t, "action": "code", "channel": "sms", "code": _code(fd)},
        follow_redirects=False,
    )
    assert r.headers["location"].startswith(f"/signup/{order_id}/credit?t=")
    # credit check, approved
    path, t = _step(r.headers["location"])
    r = client.post(
        path,
        data={"t": t, "date_of_birth": "1985-06-01", "ssn_last4": "1111"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "/payment?" in r.headers["location"]
    # a declined card, beside the card number; then a good one
    path, t = _step(r.headers["location"])
    card = {"t": t, "card_expiry": "12/39", "card_cvc": "123", "autopay": "on"}
    r = client.post(path, data={**card, "card_number": "4000000000000002"})
    assert r.status_code == 422
    assert "ending 0002 was declined" in _error_of(r.text, "card_number")
    assert 'value="12/39"' in r.text and "4000000000000002" not in r.text
    r = client.post(path, data={**card, "card_number": "4242424242424242"}, follow_redirects=False)
    assert r.status_code == 303 and "/agree?" in r.headers["location"]
    # the agreement: the box and the account holder's name
    path, t = _step(r.headers["location"])
    r = client.post(path, data={"t": t, "accepted_name": "Sam Public"})
    assert r.status_code == 422 and "tick the box" in _error_of(r.text, "agree")
    r = client.post(
        path, data={"t": t, "accepted_name": "sam public", "agree": "yes"}, follow_redirects=False
    )
    assert r.status_code == 303 and "/window?" in r.headers["location"]
    # the installation window
    window = client.get(r.headers["location"])
    slot = re.search(r'name="slot" value="([^"]+)" checked', window.text)
    assert slot, window.text
    path, t = _step(r.headers["location"])
    r = client.post(path, data={"t": t, "slot": slot.group(1)}, follow_redirects=False)
    assert r.status_code == 303 and "/done?" in r.headers["location"]
    done = client.get(r.headers["location"])
    assert done.status_code == 200
    assert "You are booked, Sam!" in done.text and f"<strong>{order_id}</strong>" in done.text
    assert "What happens next" in done.text
    bar = done.text.split('class="steps signup-steps"')[1].split("</ol>")[0]
    assert bar.count('class="done"') == 7
    with fd.uow(write=False) as uow:
        customer = uow.session.scalar(sa.select(Customer).where(Customer.name == "Sam Public"))
        assert customer is not None and customer.status.value == "SCHEDULED"
        assert (
            uow.session.scalar(
                sa.select(PaymentMethod.last4).where(PaymentMethod.customer_id == customer.id)
            )
            == "4242"
        )
        channels = set(
            uow.session.scalars(
                sa.select(AuditEntry.via).where(AuditEntry.action == "order.create")
            )
        )
        assert channels == {"public"}


def test_a_customer_whose_address_needs_a_survey_books_the_survey(
    fd: Fiberdesk, client: TestClient
) -> None:
    world = make_qualification_world(fd)
    make_field_staff(fd)
    order_id, path, t = _start(client, world.premises["long_drop"])
    client.post(path, data={"t": t, "action": "send", "channel": "sms"})
    answers = [
        {"action": "code", "channel": "sms", "code": _code(fd)},
        {"date_of_birth": "1985-06-01", "ssn_last4": "1111"},
        {"card_number": "4242424242424242", "card_expiry": "12/39", "card_cvc": "123"},
        {"accepted_name": "Sam Public", "agree": "yes"},
    ]
    for data in answers:
        r = client.post(path, data={"t": t, **data}, follow_redirects=False)
        assert r.status_code == 303, r.text
        path, t = _step(r.headers["location"])
    assert path == f"/signup/{order_id}/window"
    window = client.get(path, params={"t": t})
    assert "Choose a time for the site survey" in window.text
    slot = re.search(r'name="slot" value="([^"]+)" checked', window.text)
    assert slot, window.text
    r = client.post(path, data={"t": t, "slot": slot.group(1)}, follow_redirects=False)
    assert r.status_code == 303 and "/done?" in r.headers["location"]
    done = client.get(r.headers["location"])
    assert "Your site survey is booked, Sam" in done.text
    assert "Once the survey passes, we call you to book your installation." in done.text
    with fd.uow(write=False) as uow:
        kinds = {
            o.type.value: o.status.value for o in uow.session.scalars(sa.select(ServiceOrder)).all()
        }
    assert kinds == {"NEW_INSTALL": "OPEN", "SITE_SURVEY": "SCHEDULED"}


def test_credit_decline_and_forged_or_expired_links(fd: Fiberdesk, client: TestClient) -> None:
    world = make_qualification_world(fd)
    premises = world.premises["serviceable"]
    # a forged plan form is refused, and nothing is created
    r = client.post("/signup", data=_details(premises, "1700000000.deadbeef"))
    assert r.status_code == 403 and "expired" in r.text
    r = client.post(
        "/signup",
        data=_details(
            world.premises["xgs"],
            _form_token(client.get("/signup", params={"premises": premises}).text),
        ),
    )
    assert r.status_code == 403, "a token for one premises does not work for another"
    with fd.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder)) == 0
    order_id, _path, t = _start(client, premises)
    # a step's token is for its own order only, and cannot be made up
    other = client.get(f"/signup/{order_id + 1}/verify", params={"t": t})
    assert other.status_code == 403 and "sign-up link has expired" in other.text
    forged = client.get(f"/signup/{order_id}/verify", params={"t": t[:-2] + "00"})
    assert forged.status_code == 403
    r = client.post(f"/signup/{order_id}/credit", data={"t": "x", "date_of_birth": "1980-01-01"})
    assert r.status_code == 403
    # a credit decline: plainly said, with the phone number; the order stays open
    r = client.post(
        f"/signup/{order_id}/credit",
        data={"t": t, "date_of_birth": "1980-01-01", "ssn_last4": "9999"},
    )
    assert r.status_code == 422 and "cannot finish this sign-up online" in r.text
    assert fd.settings.support_phone in r.text
    r = client.post(
        f"/signup/{order_id}/credit", data={"t": t, "date_of_birth": "1980-01-01", "ssn_last4": ""}
    )
    assert r.status_code == 422 and "four digits" in _error_of(r.text, "ssn_last4")
    with fd.uow(write=False) as uow:
        order = uow.session.get(ServiceOrder, order_id)
        assert order is not None and "credit" not in order.details["checklist"]


def test_unknown_and_unservable_addresses(fd: Fiberdesk, client: TestClient) -> None:
    world = make_qualification_world(fd)
    assert client.get("/signup", follow_redirects=False).headers["location"] == "/availability"
    full = client.get("/signup", params={"premises": world.premises["nap_full"]})
    assert "cannot take a sign-up for this address online" in full.text
    assert 'action="/signup"' not in full.text
    assert client.get("/signup", params={"premises": 99999}).status_code == 404


def test_outage_status_by_address(fd: Fiberdesk, client: TestClient) -> None:
    active = make_active_customers(fd, per_nap=1)
    world: QualificationWorld = active.world
    now = utcnow()
    with fd.uow() as uow:
        uow.session.add(
            Outage(
                status=OutageStatus.CONFIRMED,
                kind=OutageKind.FIBER,
                scope=Scope.NAP,
                scope_id=world.naps["NAP-A"],
                scope_label="NAP-A",
                area="Towson 21204",
                detected_at=now - timedelta(hours=1),
                confirmed_at=now,
                estimated_resolution=now + timedelta(hours=3),
                affected_onts=1,
                affected_customers=1,
            )
        )
        uow.session.add(
            MaintenanceWindow(
                title="Splicing work",
                description="Upgrading the cabinet.",
                scope=Scope.NAP,
                scope_id=world.naps["NAP-XGS"],
                starts_at=now + timedelta(days=1),
                ends_at=now + timedelta(days=1, hours=2),
                created_by="noc",
            )
        )
        uow.commit()
        labels = {
            active.nap_of[c.id]: c.service_address
            for c in uow.session.scalars(
                sa.select(Customer).where(Customer.id.in_(active.customer_ids))
            )
        }
    out = client.get("/outage-status", params={"address": labels["NAP-A"]})
    assert out.status_code == 200
    assert "Outage: a fault on the fiber network" in out.text
    assert "confirmed it" in out.text and "We expect service back by" in out.text
    assert "NAP-A" not in out.text  # no element names for the public
    planned = client.get("/outage-status", params={"address": labels["NAP-XGS"]})
    assert "Planned maintenance: Splicing work" in planned.text
    assert "Outage:" not in planned.text
    # no service at an address: said plainly
    empty = client.get("/outage-status", params={"premises": world.premises["serviceable"]})
    assert "We have no service at this address" in empty.text
    vague = client.get("/outage-status", params={"address": "Fiber Way Towson"})
    assert "Which address do you mean?" in vague.text
    assert client.get("/outage-status").status_code == 200


def test_ticket_status_through_a_signed_link(fd: Fiberdesk, client: TestClient) -> None:
    active = make_active_customers(fd, per_nap=1, naps=("NAP-A",))
    with fd.uow() as uow:
        ticket = tickets.open_ticket(
            uow,
            actor=SYSTEM_ACTOR,
            customer_id=active.customer_ids[0],
            category=TicketCategory.SLOW_SPEED,
            description="Evenings are slow on WiFi",
        )
    secret = fd.settings.secret_key
    token = tickets.status_link_token(secret, ticket.id)
    page = client.get(f"/tickets/status/{token}")
    assert page.status_code == 200
    assert ticket.number in page.text and "Slow speed" in page.text
    assert "Hello Active," in page.text and "Open" in page.text
    # an altered link, another ticket's id with this signature, an expired link
    tampered = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
    r = client.get(f"/tickets/status/{tampered}")
    assert r.status_code == 403 and "This link does not work" in r.text
    ticket_id, rest = token.split(".", 1)
    r = client.get(f"/tickets/status/{int(ticket_id) + 1}.{rest}")
    assert r.status_code == 403 and ticket.number not in r.text
    r = client.get("/tickets/status/garbage")
    assert r.status_code == 403
    old = tickets.status_link_token(secret, ticket.id, now=utcnow() - timedelta(days=31))
    r = client.get(f"/tickets/status/{old}")
    assert r.status_code == 403 and "This link has expired" in r.text
    with fd.uow(write=False) as uow:
        view = tickets.ticket_for_status_token(uow, secret_key=secret, token=token)
    assert view.number == ticket.number and view.link_expires_at > utcnow() + timedelta(days=29)


def test_public_pages_are_rate_limited(fd: Fiberdesk) -> None:
    app = create_app(fd)
    app.state.public_limiter = RateLimiter(3)
    with TestClient(app) as c:
        for _ in range(3):
            assert c.get("/outage-status").status_code == 200
        r = c.get("/signup?premises=1")
        assert r.status_code == 429
        assert "Too many requests" in r.text and int(r.headers["retry-after"]) > 0
        assert c.get("/tickets/status/x").status_code == 429


def test_ticket_messages_carry_a_working_status_link(fd: Fiberdesk, client: TestClient) -> None:
    active = make_active_customers(fd, per_nap=1, naps=("NAP-A",))
    with fd.uow() as uow:
        ticket = tickets.open_ticket(
            uow,
            actor=SYSTEM_ACTOR,
            customer_id=active.customer_ids[0],
            category=TicketCategory.NO_INTERNET,
            description="Nothing since this morning",
            settings=fd.ticket_settings,
        )
    with fd.uow(write=False) as uow:
        queued = uow.session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.kind == "ticket_opened", OutboxMessage.customer_id.is_not(None)
            )
        ).one()
    link = queued.context["status_link"]
    assert link.startswith(f"{fd.kpi_settings.base_url}/tickets/status/{ticket.id}.")
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200 and ticket.number in page.text
    rendered = fd_render(fd, queued)
    assert link in rendered.text and f'href="{link}"' in rendered.html


def fd_render(fd: Fiberdesk, message: OutboxMessage) -> Rendered:
    return default_templates().render(
        message.kind, message.context, Branding.from_settings(fd.settings)
    )
