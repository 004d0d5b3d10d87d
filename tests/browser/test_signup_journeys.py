"""Sign-up journeys in a real browser: a CSR signs a customer up in the console wizard, and
a customer checks availability and signs up on the public pages on a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from fiberdesk.bootstrap import Fiberdesk, build
from fiberdesk.config import Settings
from fiberdesk.db.models import Customer, OutboxMessage, Premises
from fiberdesk.domain.customers import OCCUPYING_STATUSES
from fiberdesk.domain.qualification import Decision
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services.qualification import qualify_premises
from tests.browser.conftest import Shots, assert_fits, assert_no_unlabelled_fields, sign_in


@pytest.fixture(scope="module")
def demo(demo_env: dict[str, str]) -> Iterator[Fiberdesk]:
    """The demo operator's database, for finding test data and reading the outbox."""
    fd = build(
        Settings(
            database_url=demo_env["FIBERDESK_DATABASE_URL"],
            secret_key=demo_env["FIBERDESK_SECRET_KEY"],
        )
    )
    yield fd
    fd.close()


def serviceable_address(fd: Fiberdesk, decision: Decision = Decision.SERVICEABLE) -> str:
    """A house nobody lives in yet where fiber can be installed (without a survey, unless
    ``decision`` is SITE_SURVEY)."""
    with fd.uow(write=False) as uow:
        taken = sa.select(Customer.premises_id).where(
            Customer.status.in_(OCCUPYING_STATUSES), Customer.premises_id.is_not(None)
        )
        candidates = uow.session.scalars(
            sa.select(Premises)
            .where(Premises.multi_dwelling.is_(False), Premises.id.not_in(taken))
            .order_by(Premises.id)
            .limit(3000)
        ).all()
        for p in candidates:
            q = qualify_premises(uow, actor=SYSTEM_ACTOR, premises_id=p.id, rules=fd.rules)
            if q.decision is decision and any(t.offered for t in q.tiers):
                return p.label
    pytest.fail(f"the demo has no {decision.value} address left")


def latest_code(fd: Fiberdesk) -> str:
    with fd.uow(write=False) as uow:
        message = uow.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.kind == "identity_code")
            .order_by(OutboxMessage.id.desc())
        ).first()
        assert message is not None, "no identity code was queued"
        return str(message.context["code"])


def test_a_csr_signs_a_customer_up(page: Page, shots: Shots, demo: Fiberdesk) -> None:
    address = serviceable_address(demo)
    sign_in(page, "csr")
    page.get_by_role("link", name="Sign up").first.click()
    expect(page.get_by_role("heading", name="New customer sign-up")).to_be_visible()
    page.get_by_label("Service address").fill(address)
    page.get_by_role("button", name="Check address").click()
    expect(page.get_by_text("Serviceable").first).to_be_visible()
    assert_no_unlabelled_fields(page)
    page.get_by_label("Contract term").select_option("12M")
    shots(page, "address-and-plans")
    page.get_by_role("button", name="Price it").click()

    expect(page.get_by_role("heading", name="Customer details")).to_be_visible()
    page.get_by_label("Full name").fill("Jordan Rivers")
    page.get_by_label("Phone").fill("410-555-0142")
    page.get_by_label("Email").fill("jordan.rivers@")
    page.get_by_role("button", name="Hold the port and create the order").click()
    expect(page.locator("#e-email")).to_contain_text("not a valid email")
    expect(page.get_by_label("Full name")).to_have_value("Jordan Rivers")
    shots(page, "quote-bad-email")
    page.get_by_label("Email").fill("jordan.rivers@example.com")
    page.get_by_role("button", name="Hold the port and create the order").click()

    expect(page.get_by_role("heading", name="Check a photo ID")).to_be_visible()
    assert_no_unlabelled_fields(page)
    shots(page, "identity")
    page.get_by_label("Type of ID").select_option("drivers_license")
    page.get_by_label("ID number").fill("MD-555-123-987")
    page.get_by_role("button", name="Identity checked").click()

    expect(page.get_by_role("heading", name="Credit check")).to_be_visible()
    page.get_by_label("Date of birth").fill("1980-04-02")
    page.get_by_label("SSN, last 4 digits").fill("5555")
    page.get_by_role("button", name="Run the credit check").click()

    expect(page.get_by_role("heading", name="Payment method")).to_be_visible()
    expect(page.get_by_text("asked for a deposit")).to_be_visible()
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_label("Expiry (MM/YY)").fill(f"12/{(date.today().year + 2) % 100:02d}")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Save the card").click()
    expect(page.locator("#e-card_number")).to_contain_text("ending 0002 was declined")
    shots(page, "payment-declined")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Save the card").click()

    expect(page.get_by_role("heading", name="Contract")).to_be_visible()
    page.get_by_label("Name the customer accepts with").fill("Jordan Rivers")
    page.get_by_label("I read the terms to the customer and they agreed").check()
    shots(page, "contract")
    page.get_by_role("button", name="Record acceptance").click()

    expect(page.get_by_role("heading", name="Installation window")).to_be_visible()
    page.locator("input[name=slot]").first.check()
    assert_no_unlabelled_fields(page)
    shots(page, "window")
    page.get_by_role("button", name="Book this window").click()

    expect(
        page.get_by_role("heading", name=re.compile(r"All set: order \d+ is booked"))
    ).to_be_visible()
    steps = page.get_by_role("navigation", name="Sign-up steps").locator("li")
    expect(steps).to_have_count(9)
    expect(page.locator("ol.signup-steps li.done")).to_have_count(9)
    expect(page.locator("ol.checklist li.done")).to_have_count(5)
    shots(page, "confirmation")


@pytest.mark.parametrize(
    ("decision", "name"),
    [(Decision.SERVICEABLE, "Casey Morgan"), (Decision.SITE_SURVEY, "Jordan Reyes")],
    ids=["install", "survey-first"],
)
def test_a_customer_signs_up_on_a_phone(
    phone: Page, shots: Shots, demo: Fiberdesk, decision: Decision, name: str
) -> None:
    address = serviceable_address(demo, decision)
    first = name.split()[0]
    phone.goto("/availability")
    phone.get_by_label("Your street address").fill(address)
    phone.get_by_role("button", name="Check availability").click()
    verdict = "Site survey needed" if decision is Decision.SITE_SURVEY else "Good news"
    expect(phone.get_by_text(verdict)).to_be_visible()
    assert_fits(phone)
    shots(phone, "availability")
    phone.get_by_role("link", name=re.compile("^Sign up for")).first.click()

    expect(phone.get_by_role("heading", name="Sign up for fiber")).to_be_visible()
    phone.get_by_label("Full name").fill(name)
    phone.get_by_label("Email").fill(f"{first.lower()}@example.com")
    phone.get_by_label("Mobile phone").fill("410-555-0177")
    assert_fits(phone)
    assert_no_unlabelled_fields(phone)
    shots(phone, "plan-and-details")
    phone.get_by_role("button", name="Continue").click()

    expect(phone.get_by_role("heading", name="Check it is you")).to_be_visible()
    phone.get_by_role("button", name=re.compile("^Text me a code")).click()
    expect(phone.get_by_text("We sent a code by text")).to_be_visible()
    phone.get_by_label("The code we sent you").fill(latest_code(demo))
    assert_fits(phone)
    assert_no_unlabelled_fields(phone)
    shots(phone, "verify")
    phone.get_by_role("button", name="Check the code").click()

    expect(phone.get_by_role("heading", name="Credit check")).to_be_visible()
    phone.get_by_label("Date of birth").fill("1990-09-14")
    phone.get_by_label("Last 4 digits of your SSN").fill("1111")
    assert_fits(phone)
    shots(phone, "credit")
    phone.get_by_role("button", name="Run the check").click()

    expect(phone.get_by_role("heading", name="Payment card")).to_be_visible()
    phone.get_by_label("Card number").fill("4242 4242 4242 4242")
    phone.get_by_label("Expiry (MM/YY)").fill(f"11/{(date.today().year + 3) % 100:02d}")
    phone.get_by_label("Security code").fill("321")
    assert_fits(phone)
    assert_no_unlabelled_fields(phone)
    shots(phone, "payment")
    phone.get_by_role("button", name="Save my card").click()

    expect(phone.get_by_role("heading", name="Your agreement")).to_be_visible()
    phone.get_by_label("I have read and agree to these terms").check()
    phone.get_by_label("Type your full name to sign").fill(name)
    assert_fits(phone)
    shots(phone, "agreement")
    phone.get_by_role("button", name="Sign the agreement").click()

    survey = decision is Decision.SITE_SURVEY
    heading = "Choose a time for the site survey" if survey else "Choose your installation time"
    expect(phone.get_by_role("heading", name=heading)).to_be_visible()
    assert_fits(phone)
    assert_no_unlabelled_fields(phone)
    shots(phone, "window")
    phone.get_by_role("button", name="Book the survey" if survey else "Book this time").click()

    booked = f"Your site survey is booked, {first}" if survey else f"You are booked, {first}!"
    expect(phone.get_by_role("heading", name=booked)).to_be_visible()
    expect(phone.get_by_text("Order number", exact=True)).to_be_visible()
    assert_fits(phone)
    shots(phone, "confirmation")


def test_outage_and_ticket_status_on_a_phone(phone: Page, shots: Shots, demo: Fiberdesk) -> None:
    from fiberdesk.db.models import Outage, Ticket
    from fiberdesk.domain.outages import OutageStatus
    from fiberdesk.services.outage_status import outage_status
    from fiberdesk.services.tickets import status_link_token

    with demo.uow(write=False) as uow:
        # an address with service, preferably one inside an open outage of the demo
        open_outage = uow.session.scalar(
            sa.select(Outage).where(Outage.status != OutageStatus.RESOLVED).limit(1)
        )
        customers = uow.session.scalars(
            sa.select(Customer).where(Customer.status.in_(OCCUPYING_STATUSES)).limit(200)
        ).all()
        chosen = customers[0]
        for c in customers:
            if open_outage and outage_status(uow, premises_id=c.premises_id).outages:
                chosen = c
                break
        ticket_id = uow.session.scalar(sa.select(Ticket.id).order_by(Ticket.id).limit(1))
    phone.goto("/outage-status")
    phone.get_by_label("Your street address").fill(chosen.service_address)
    phone.get_by_role("button", name="Check for outages").click()
    expect(phone.locator("section.card[aria-live]")).to_be_visible()
    assert_fits(phone)
    assert_no_unlabelled_fields(phone)
    shots(phone, "outage-status")
    if ticket_id is None:
        pytest.skip("the demo has no ticket")
    token = status_link_token(demo.settings.secret_key, ticket_id)
    phone.goto(f"/tickets/status/{token}")
    expect(phone.get_by_role("heading", name=re.compile(r"^Your ticket TKT-"))).to_be_visible()
    assert_fits(phone)
    shots(phone, "ticket-status")
    phone.goto(f"/tickets/status/{token[:-3]}abc")
    expect(phone.get_by_role("heading", name="This link does not work")).to_be_visible()
    shots(phone, "ticket-link-forged")
