"""The sign-in page in a real browser: a wrong password, then a role's home page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Shots, assert_fits, assert_no_unlabelled_fields, sign_in


def test_sign_in_with_the_keyboard_and_sign_out(page: Page, shots: Shots) -> None:
    page.goto("/console")
    expect(page).to_have_url("/login?next=%2Fconsole&reason=Please+sign+in.")
    assert_no_unlabelled_fields(page)
    page.get_by_label("Username").fill("csr")
    page.get_by_label("Password").fill("not the password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")
    shots(page, "wrong-password")
    page.get_by_label("Password").fill("fiberdesk-demo")
    page.keyboard.press("Enter")
    expect(page.get_by_role("navigation", name="Console")).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    shots(page, "csr-home")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("signed out")


def test_the_sign_in_page_fits_a_phone(phone: Page, shots: Shots) -> None:
    phone.goto("/login")
    assert_fits(phone)
    sign_in(phone, "admin")
    assert_fits(phone)
    shots(phone, "admin-home-390px")
