"""A supervisor reads the KPIs, narrows them to a team, and downloads the CSV; an
administrator previews a message template. In a real browser on the demo operator."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import Shots, assert_fits, assert_no_unlabelled_fields, sign_in

KPI_LABELS = (
    "Install lead time",
    "First-call resolution",
    "Customer satisfaction",
    "Monthly churn",
    "Ticket resolution time",
)


def test_a_supervisor_reads_the_kpis(page: Page, shots: Shots) -> None:
    sign_in(page, "supervisor")
    page.get_by_role("navigation", name="Console").get_by_role("link", name="KPIs").click()
    expect(page).to_have_url("/console/kpis")
    for label in KPI_LABELS:
        expect(page.get_by_role("heading", name=label)).to_be_visible()
    charts = page.locator("svg[role=img]")
    expect(charts).to_have_count(5)
    # the demo has six months of history: every chart has a drawn line
    assert page.locator("svg[role=img] polyline").count() == 5
    assert_no_unlabelled_fields(page)
    shots(page, "dashboard")

    page.get_by_label("Team").select_option("NOC")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url("/console/kpis?start=&end=&team=NOC&area=")
    expect(page.get_by_text("team NOC")).to_be_visible()
    shots(page, "team-noc")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    csv = download.value
    assert csv.suggested_filename.startswith("kpis-") and csv.suggested_filename.endswith(".csv")
    lines = Path(csv.path()).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6 and lines[0].startswith("metric,")

    page.get_by_label("Area (ZIP code)").fill("21x")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("ZIP")
    shots(page, "bad-area")


def test_the_kpis_at_390px(phone: Page, shots: Shots) -> None:
    sign_in(phone, "supervisor")
    phone.goto("/console/kpis")
    expect(phone.locator("svg[role=img]")).to_have_count(5)
    assert_fits(phone)
    shots(phone, "dashboard-390px")


def test_an_admin_previews_a_template_and_a_csr_may_not(page: Page, shots: Shots) -> None:
    sign_in(page, "admin")
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()
    shots(page, "tiers")
    page.get_by_role("link", name="Message templates").click()
    page.get_by_role("link", name="Outage notification").click()
    expect(page.get_by_role("heading", name="Subject")).to_be_visible()
    frame = page.frame_locator("iframe.message-html")
    expect(frame.locator("body")).to_contain_text("Chesapeake Fiber")
    shots(page, "template-preview")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "csr")
    response = page.goto("/console/admin/users")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not for your role")).to_be_visible()
    shots(page, "csr-refused")
