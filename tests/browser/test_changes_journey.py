"""A CSR upgrades an active demo customer's tier, seeing the proration and the PON port
check before confirming; then a billing clerk finds the account and sees the change on its
ledger, on a desktop and on a phone. In a real browser on the demo operator."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from fiberdesk.bootstrap import Fiberdesk, build
from fiberdesk.config import Settings
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.errors import FiberdeskError
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import billing, change_views, customers
from fiberdesk.services.customers import CustomerView
from fiberdesk.services.pagination import PageRequest
from tests.browser.conftest import (
    DESKTOP,
    Shots,
    assert_fits,
    assert_no_unlabelled_fields,
    sign_in,
)


@pytest.fixture(scope="module")
def demo(demo_env: dict[str, str]) -> Iterator[Fiberdesk]:
    fd = build(
        Settings(
            database_url=demo_env["FIBERDESK_DATABASE_URL"],
            secret_key=demo_env["FIBERDESK_SECRET_KEY"],
        )
    )
    yield fd
    fd.close()


def upgradable_customer(fd: Fiberdesk) -> CustomerView:
    """An ACTIVE customer on the Standard tier with a billing account, no change waiting
    and a PON port with room for a faster tier. Taken from the end of the list, away from
    the customers other journeys pick."""
    with fd.uow(write=False) as uow:
        listed = customers.list_customers(
            uow,
            actor=SYSTEM_ACTOR,
            page=PageRequest(1, 200),
            status=ServiceStatus.ACTIVE,
            plan_code="STANDARD",
        ).items
    for c in reversed(listed):
        try:
            with fd.uow(write=False) as uow:
                card = change_views.customer_card(uow, actor=SYSTEM_ACTOR, customer_id=c.id)
                offers = change_views.tier_options(
                    uow, actor=SYSTEM_ACTOR, customer_id=c.id, rules=fd.rules
                )
                billing.account_view(uow, actor=SYSTEM_ACTOR, customer_id=c.id)
        except FiberdeskError:
            continue
        if card.pending_change is None and any(o.offered and o.code == "PREMIUM" for o in offers):
            return c
    pytest.fail("the demo has no active Standard customer who could upgrade")


def test_a_csr_upgrades_a_tier_and_billing_sees_it(
    page: Page, phone: Page, browser: Browser, base_url: str, demo: Fiberdesk, shots: Shots
) -> None:
    customer = upgradable_customer(demo)
    sign_in(page, "csr")
    page.goto(f"/console/changes/{customer.id}/tier")
    expect(page.get_by_role("heading", name="Change tier")).to_be_visible()
    expect(page.get_by_text("Current tier")).to_be_visible()
    assert_no_unlabelled_fields(page)
    # straight to "Show the cost" without a choice: the error sits by the tiers
    page.get_by_role("button", name="Show the cost").click()
    expect(page.locator("#e-plan")).to_contain_text("choose the new tier")
    # choose Premium with the keyboard: focus its radio and press space
    page.locator('input[name="plan"][value="PREMIUM"]').focus()
    page.keyboard.press("Space")
    expect(page.locator('input[name="plan"][value="PREMIUM"]')).to_be_checked()
    shots(page, "choose-premium")
    page.get_by_role("button", name="Show the cost").click()

    expect(page.get_by_role("heading", name="Check the tier change")).to_be_visible()
    lines = page.locator("table.money-lines")
    expect(lines).to_contain_text("Credit for the unused")
    expect(lines).to_contain_text("Premium for the same")
    expect(page.get_by_role("heading", name="PON port check")).to_be_visible()
    expect(page.get_by_text("Passed")).to_be_visible()
    net = lines.locator("tfoot .num").inner_text()
    assert re.fullmatch(r"-?\$\d+\.\d\d", net), net
    shots(page, "proration")
    # nothing changed yet
    with demo.uow(write=False) as uow:
        assert (
            customers.get_customer(uow, actor=SYSTEM_ACTOR, customer_id=customer.id).plan_code
            == "STANDARD"
        )
    page.get_by_role("button", name="Confirm the upgrade").click()
    expect(page.get_by_role("status")).to_contain_text("The tier change is done.")
    expect(page.locator(".acct-facts")).to_contain_text("Premium")
    shots(page, "done")

    # the billing clerk finds the account from the billing overview
    context = browser.new_context(base_url=base_url, viewport=DESKTOP)  # type: ignore[arg-type]
    clerk = context.new_page()
    try:
        sign_in(clerk, "billing")
        expect(clerk).to_have_url(re.compile(r"/console/billing$"))
        expect(clerk.get_by_role("heading", name="Billing accounts")).to_be_visible()
        assert_no_unlabelled_fields(clerk)
        shots(clerk, "billing-overview")
        clerk.get_by_label("Name or account number").fill(customer.account_number)
        clerk.get_by_label("Name or account number").press("Enter")
        clerk.get_by_role("link", name=customer.name).click()
        expect(clerk.get_by_role("heading", name=customer.name)).to_be_visible()
        ledger = clerk.locator("section", has=clerk.get_by_role("heading", name="Ledger"))
        expect(ledger).to_contain_text("Unused STANDARD")
        expect(ledger).to_contain_text("Premium,")
        expect(clerk.get_by_role("heading", name="Take a payment")).to_be_visible()
        assert_no_unlabelled_fields(clerk)
        shots(clerk, "billing-account")
    finally:
        context.close()

    sign_in(phone, "billing")
    phone.goto(f"/console/billing/accounts/{customer.id}")
    expect(phone.get_by_role("heading", name=customer.name)).to_be_visible()
    assert_fits(phone)
    shots(phone, "billing-account-390px")
