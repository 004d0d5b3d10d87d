"""A CSR finds a customer from a misspelt name in the header search, opens the customer
page from the live suggestions and adds a note; the same page on a phone."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Shots, assert_fits, assert_no_unlabelled_fields, sign_in


def _misspell(name: str) -> str:
    """The surname with two neighbouring letters swapped, as a hurried typist would."""
    first, _, last = name.partition(" ")
    for i in range(1, len(last) - 2):
        if last[i] != last[i + 1] and last[i].isalpha() and last[i + 1].isalpha():
            last = last[:i] + last[i + 1] + last[i] + last[i + 2 :]
            break
    return f"{first} {last}".lower()


def _an_active_customer(page: Page) -> tuple[str, str]:
    """The name and page of an active customer with a surname long enough to misspell."""
    page.goto("/console/customers?status=ACTIVE")
    rows = page.locator("table.data tbody tr")
    for i in range(rows.count()):
        link = rows.nth(i).locator("td").first.get_by_role("link")
        name = link.inner_text().strip()
        if len(name.split(" ")[-1]) >= 5 and name.count(" ") == 1:
            href = link.get_attribute("href")
            assert href
            return name, href
    raise AssertionError("no active customer with a surname of five letters or more")


def test_a_csr_finds_a_customer_by_a_misspelt_name_and_adds_a_note(
    page: Page, shots: Shots
) -> None:
    sign_in(page, "csr")
    name, href = _an_active_customer(page)
    page.goto("/console")
    box = page.get_by_role("searchbox", name="Search customers, tickets, ONTs")
    box.click()
    box.press_sequentially(_misspell(name), delay=40)
    suggestions = page.locator("#search-suggestions")
    expect(suggestions).to_be_visible()
    expect(suggestions.get_by_role("option", name=re.compile(re.escape(name)))).not_to_have_count(0)
    shots(page, "suggestions")
    # keyboard: down to the first hit of that name, Enter opens it
    options = suggestions.get_by_role("option")
    index = next(i for i in range(options.count()) if name in options.nth(i).inner_text())
    for _ in range(index + 1):
        box.press("ArrowDown")
    expect(options.nth(index)).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/console/customers/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    for part in ("Service and contact", "Network and equipment", "Tickets", "Notes", "Timeline"):
        expect(page.get_by_role("heading", name=part)).to_be_visible()
    assert_no_unlabelled_fields(page)
    shots(page, "customer-page")

    # a note with nothing in it is refused next to the field, then a real one is added
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#e-content")).to_contain_text("The note is empty")
    page.get_by_label("Kind of note").select_option(label="Phone call")
    note = "Called about the bill; will pay on Friday."
    page.get_by_role("textbox", name="Note").fill(note)
    shots(page, "note-typed")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status").filter(has_text="Note added.")).to_be_visible()
    notes = page.locator("ul.notes")
    expect(notes.locator("li").first).to_contain_text(note)
    expect(notes.locator("li").first).to_contain_text("Phone call")
    expect(page.locator("ol.timeline")).to_contain_text("Note by csr")
    shots(page, "note-added")
    assert href  # the list's link and the search's lead to a customer page alike


def test_the_customer_page_and_search_on_a_phone(phone: Page, shots: Shots) -> None:
    sign_in(phone, "csr")
    name, href = _an_active_customer(phone)
    assert_fits(phone)
    shots(phone, "customer-list-390px")
    phone.goto(f"/console/search?q={_misspell(name).replace(' ', '+')}")
    expect(phone.get_by_role("link", name=name).first).to_be_visible()
    assert_fits(phone)
    shots(phone, "search-results-390px")
    phone.goto(href)
    expect(phone.get_by_role("heading", level=1)).to_contain_text(name)
    assert_fits(phone)
    assert_no_unlabelled_fields(phone)
    shots(phone, "customer-page-390px")
