"""A CSR runs the no-internet flow for a customer whose ONT lost power, to a booked
technician visit (and moves it to another window), then finds the ticket in the queue with
its filters. In a real browser on the demo operator; the page at 390 px too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from fiberdesk.adapters.network.simulated import SimulatedOlt
from fiberdesk.bootstrap import Fiberdesk, build
from fiberdesk.config import Settings
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.errors import FiberdeskError
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import customers, diagnostics, tickets
from fiberdesk.services.customers import CustomerView
from fiberdesk.services.pagination import PageRequest
from tests.browser.conftest import (
    ARTIFACTS,
    Shots,
    assert_fits,
    assert_no_unlabelled_fields,
    sign_in,
)


@pytest.fixture(scope="module")
def demo(demo_env: dict[str, str]) -> Iterator[Fiberdesk]:
    """The demo operator's database: for finding a customer and faulting their ONT on the
    simulated OLT (its state lives in the database the server reads)."""
    fd = build(
        Settings(
            database_url=demo_env["FIBERDESK_DATABASE_URL"],
            secret_key=demo_env["FIBERDESK_SECRET_KEY"],
        )
    )
    yield fd
    fd.close()


def healthy_customer(fd: Fiberdesk) -> tuple[CustomerView, str]:
    """An ACTIVE customer with no open ticket whose ONT is online with no alarm, outage or
    maintenance: (customer, ONT serial). Taken from the middle of the list, away from the
    customers other journeys pick first."""
    with fd.uow(write=False) as uow:
        listed = customers.list_customers(
            uow, actor=SYSTEM_ACTOR, page=PageRequest(1, 200), status=ServiceStatus.ACTIVE
        ).items
    for c in listed[len(listed) // 2 :] + listed[: len(listed) // 2]:
        with fd.uow(write=False) as uow:
            busy = tickets.ticket_queue(
                uow, actor=SYSTEM_ACTOR, page=PageRequest(1, 1), open_only=True, customer_id=c.id
            ).total
        if busy:
            continue
        try:
            line = diagnostics.run_diagnostics(
                fd.uow, actor=SYSTEM_ACTOR, customer_id=c.id, network=fd.network, ping=False
            )
        except FiberdeskError:
            continue
        if (
            line.serial
            and line.online
            and not line.active_alarms
            and not line.outages
            and not any(m["active"] for m in line.maintenance)
        ):
            return c, line.serial
    pytest.fail("the demo has no healthy ACTIVE customer to troubleshoot")


def test_a_csr_troubleshoots_no_internet_to_a_booked_visit(
    page: Page, phone: Page, shots: Shots, demo: Fiberdesk
) -> None:
    customer, serial = healthy_customer(demo)
    assert isinstance(demo.network, SimulatedOlt)
    fault = demo.network.inject_fault("POWER_LOSS", serial=serial)
    try:
        sign_in(page, "csr")
        page.goto(f"/console/troubleshoot/start?customer_id={customer.id}")
        expect(
            page.get_by_role("heading", name=f"Troubleshoot for {customer.name}")
        ).to_be_visible()
        line = page.get_by_role("region", name="The line now")
        expect(line).to_contain_text(serial)
        expect(line).to_contain_text("offline")
        expect(line).to_contain_text("DYING GASP")
        assert_no_unlabelled_fields(page)
        page.get_by_label("No internet").check()
        page.get_by_label("What the customer reports (for a new ticket)").fill(
            "No internet since about an hour ago; the box on the garage wall looks dead."
        )
        shots(page, "choose-the-flow")
        page.get_by_role("button", name="Run the checks and start").click()
        expect(page).to_have_url(re.compile(r"/console/troubleshoot/\d+$"))
        run_url = page.url

        # the checks ran, the lights question was answered by the dying gasp, advice shown
        checks = page.get_by_role("region", name="Automatic checks")
        expect(checks.get_by_role("row", name=re.compile("Dying gasp"))).to_contain_text("yes")
        expect(page.get_by_role("region", name="Not asked: the checks answered")).to_contain_text(
            "Power light off"
        )
        expect(page.get_by_role("heading", name="No power at the ONT")).to_be_visible()
        question = page.locator("form#question")
        expect(question).to_contain_text("is the ONT's power light on?")
        assert_no_unlabelled_fields(page)
        shots(page, "checks-advice-and-question")

        # no answer chosen: the error sits beside the options
        question.get_by_role("button", name="Record the answer").click()
        expect(page.locator("#e-option")).to_have_text("choose the customer's answer")
        shots(page, "answer-missing")
        # answer with the keyboard: focus the second option and press space
        page.get_by_label("No, it stays dark on a working socket").focus()
        page.keyboard.press("Space")
        expect(page.get_by_label("No, it stays dark on a working socket")).to_be_checked()
        page.get_by_role("button", name="Record the answer").click()

        outcome = page.locator("#outcome")
        expect(outcome).to_contain_text("Technician visit")
        booked = page.get_by_role("status").filter(has_text="Technician visit booked")
        expect(booked).to_be_visible()
        first = booked.inner_text()
        shots(page, "visit-booked")

        # the customer prefers another window
        windows = page.locator("fieldset.windows input[name=slot]")
        assert windows.count() >= 1
        choice = windows.nth(windows.count() - 1)
        wanted = choice.get_attribute("value")
        assert wanted
        choice.check()
        page.get_by_role("button", name="Move the visit").click()
        booked = page.get_by_role("status").filter(has_text="Technician visit booked")
        day, window = wanted.split("|")
        expect(booked).to_contain_text(f"{date.fromisoformat(day):%a %b %d, %Y} · {window}")
        assert booked.inner_text() != first
        shots(page, "visit-moved")

        # the ticket in the queue, found with the filters
        page.get_by_role("link", name=re.compile(r"TKT-\d+")).first.click()
        expect(page.get_by_role("heading", name=re.compile(r"TKT-\d+"))).to_be_visible()
        number = re.search(r"TKT-\d+", page.title())
        assert number
        expect(page.get_by_role("region", name="History")).to_contain_text("visit moved to")
        shots(page, "the-ticket")
        # resolving without a code: refused beside the field, the text kept
        page.get_by_label("What fixed it").fill("Customer found the adapter unplugged")
        page.get_by_role("button", name="Resolve the ticket").click()
        expect(page.locator("#e-code")).to_have_text("choose a resolution code")
        expect(page.get_by_label("What fixed it")).to_have_value(
            "Customer found the adapter unplugged"
        )
        expect(page.get_by_role("heading", name=re.compile(r"TKT-\d+"))).to_be_visible()
        shots(page, "resolve-without-a-code")
        page.get_by_role("link", name="Tickets", exact=True).first.click()
        page.get_by_label("Customer", exact=True).fill(customer.account_number)
        page.get_by_label("Team", exact=True).select_option("NOC")
        page.get_by_role("button", name="Show tickets").click()
        expect(page.get_by_text("No tickets match these filters.")).to_be_visible()
        page.get_by_label("Team", exact=True).select_option("")
        page.get_by_label("Status", exact=True).select_option("IN_PROGRESS")
        page.get_by_role("button", name="Show tickets").click()
        rows = page.locator("table.queue tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(number.group(0))
        expect(rows.first).to_contain_text("left")
        assert_no_unlabelled_fields(page)
        shots(page, "queue-filtered")
        page.goto("/console/tickets")
        shots(page, "queue")

        # the same session on a phone
        sign_in(phone, "csr")
        phone.goto(run_url)
        expect(phone.locator("#outcome")).to_contain_text("Technician visit booked")
        assert_fits(phone)
        shots(phone, "visit-390px")
        phone.screenshot(path=str(ARTIFACTS / f"{shots.prefix}-visit-390px-first-screen.png"))
        phone.goto("/console/tickets?overdue=yes")
        assert_fits(phone)
        shots(phone, "queue-overdue-390px")
        phone.screenshot(path=str(ARTIFACTS / f"{shots.prefix}-queue-390px-first-screen.png"))
    finally:
        demo.network.clear_fault(fault)
