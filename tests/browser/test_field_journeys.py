"""Dispatch and field journeys in a real browser against the demo operator:
(a) a dispatcher moves a booked visit to another window on the board;
(b) a technician on a 390 px phone activates an installation: ONT from stock, Rx reading
(a bad one first), speed test, activation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.browser.conftest import Shots, assert_fits, assert_no_unlabelled_fields, sign_in


@pytest.fixture(scope="module")
def demo_db(demo_env: dict[str, str]) -> Iterator[sa.Engine]:
    """The demo database, to pick records in the state a journey needs (reads only)."""
    engine = sa.create_engine(demo_env["FIBERDESK_DATABASE_URL"])
    yield engine
    engine.dispose()


@dataclass
class Visit:
    appointment_id: int
    order_id: int
    day: str
    customer: str
    username: str | None


def _visits(engine: sa.Engine, order_status: str, appointment_status: str) -> list[Visit]:
    with engine.connect() as c:
        rows = c.execute(
            sa.text(
                """SELECT a.id, o.id, a.day, c.name, u.username
                FROM appointments a
                JOIN service_orders o ON o.id = a.order_id
                JOIN customers c ON c.id = o.customer_id
                JOIN technicians t ON t.id = a.technician_id
                LEFT JOIN users u ON u.id = t.user_id
                WHERE o.type = 'NEW_INSTALL' AND o.status = :o AND a.status = :a
                ORDER BY a.day DESC, a.id DESC"""
            ),
            {"o": order_status, "a": appointment_status},
        ).all()
    return [Visit(r[0], r[1], str(r[2]), r[3], r[4]) for r in rows]


def test_a_dispatcher_moves_a_visit_on_the_board(
    page: Page, shots: Shots, demo_db: sa.Engine
) -> None:
    visits = _visits(demo_db, "SCHEDULED", "BOOKED")
    assert visits, "the demo has no booked installation"
    visit = visits[0]
    sign_in(page, "dispatcher")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dispatch")
    shots(page, "board-today")
    page.goto(f"/console/dispatch?date={visit.day}")
    board = page.get_by_role("table", name="Technicians")
    expect(board).to_contain_text(visit.customer)
    assert_no_unlabelled_fields(page)
    shots(page, "board-day")
    page.get_by_label("View").select_option("week")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("week of")
    shots(page, "board-week")
    page.goto(f"/console/dispatch?date={visit.day}")
    page.get_by_role("table", name="Technicians").get_by_role(
        "link", name=visit.customer
    ).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(visit.customer)
    assert_no_unlabelled_fields(page)
    shots(page, "appointment")
    slots = page.get_by_role("radio")
    expect(slots.first).to_be_visible()
    chosen = slots.nth(2) if slots.count() > 2 else slots.first
    label = chosen.get_attribute("value")
    assert label
    chosen.focus()
    page.keyboard.press("Space")
    expect(chosen).to_be_checked()
    page.get_by_role("button", name="Move to this window").click()
    expect(page.get_by_role("status")).to_contain_text("Visit moved")
    moved_day, _, window = label.partition(" ")
    expect(page.locator("dl.facts").first).to_contain_text(window)
    expect(page.get_by_text("Earlier bookings for this order")).to_be_visible()
    shots(page, "moved")
    # an empty cancellation reason is refused next to the field, nothing changes
    page.get_by_role("button", name="Cancel the visit").click()
    reason = page.get_by_label("Why is it cancelled?")
    # the browser's own check stops an empty reason; a blank one reaches the server
    reason.fill("   ")
    page.get_by_role("button", name="Cancel the visit").click()
    expect(page.locator("#e-reason")).to_contain_text("Say why")
    shots(page, "cancel-needs-a-reason")
    page.goto(f"/console/dispatch?date={moved_day}")
    expect(page.get_by_role("table", name="Technicians")).to_contain_text(visit.customer)
    # an order waiting for a window opens on its booking page (not booked here)
    waiting = page.get_by_role("table", name="Waiting for a window")
    waiting.get_by_role("link", name="Book a visit").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Book a visit")
    assert_no_unlabelled_fields(page)
    shots(page, "book-a-waiting-order")


def test_a_technician_activates_an_installation_on_a_phone(
    phone: Page, shots: Shots, demo_db: sa.Engine
) -> None:
    candidates = [
        v
        for v in _visits(demo_db, "IN_PROGRESS", "ON_SITE")
        + _visits(demo_db, "SCHEDULED", "BOOKED")
        if v.username
    ]
    assert candidates, "the demo has no installation with a technician who signs in"
    visit = candidates[0]
    with demo_db.connect() as c:
        serial = c.execute(
            sa.text(
                "SELECT serial_number FROM customer_equipment "
                "WHERE status = 'IN_STOCK' AND type = 'ONT' ORDER BY id DESC LIMIT 1"
            )
        ).scalar_one()
        down, up = c.execute(
            sa.text(
                "SELECT p.download_mbps, p.upload_mbps FROM service_orders o "
                "JOIN plans p ON p.id = o.plan_id WHERE o.id = :o"
            ),
            {"o": visit.order_id},
        ).one()
    assert visit.username
    sign_in(phone, visit.username)
    expect(phone.get_by_role("heading", level=1)).to_have_text("My work orders")
    expect(phone.get_by_role("link", name=visit.customer).first).to_be_visible()
    assert_fits(phone)
    shots(phone, "route")
    phone.get_by_role("link", name=visit.customer).first.click()
    expect(phone.get_by_role("heading", level=2, name=visit.customer)).to_be_visible()
    assert_fits(phone)
    assert_no_unlabelled_fields(phone)
    shots(phone, "work-order")
    if phone.get_by_role("button", name="I'm on my way").count():
        phone.get_by_label("Minutes until you arrive").fill("15")
        phone.get_by_role("button", name="I'm on my way").click()
        expect(phone.get_by_role("status")).to_contain_text("on the way")
        shots(phone, "on-the-way")
        phone.get_by_role("button", name="I'm on site").click()
        expect(phone.get_by_role("status")).to_contain_text("on site")
    # the ONT in hand, by the serial on its label
    phone.get_by_label("Serial on the ONT label").fill("HWTC12")
    phone.locator("#ont button").click()
    expect(phone.locator("#e-serial")).to_contain_text("not an ONT serial")
    assert_fits(phone)
    shots(phone, "bad-serial")
    phone.get_by_label("Serial on the ONT label").fill(serial)
    phone.locator("#ont button").click()
    expect(phone.get_by_role("status")).to_contain_text("ONT assigned")
    expect(phone.locator("#ont")).to_contain_text(serial)
    # a reading the ONT cannot work with, then a good one
    phone.get_by_label("Power meter reading (dBm)").fill("-31.2")
    phone.locator("#rx button").click()
    expect(phone.locator("#e-rx_dbm")).to_contain_text("below the ONT's sensitivity")
    assert_fits(phone)
    shots(phone, "rx-too-low")
    phone.get_by_label("Power meter reading (dBm)").fill("-19.4")
    phone.locator("#rx button").click()
    expect(phone.locator("#rx")).to_contain_text("-19.4 dBm")
    shots(phone, "rx-saved")
    phone.get_by_label("Down (Mbps)").fill(str(int(down * 0.5)))
    phone.get_by_label("Up (Mbps)").fill(str(up))
    phone.locator("#speed button").click()
    expect(phone.locator("#e-download_mbps")).to_contain_text("under 90%")
    assert_fits(phone)
    shots(phone, "speed-too-low")
    phone.get_by_label("Down (Mbps)").fill(str(round(down * 0.96, 1)))
    phone.get_by_label("Up (Mbps)").fill(str(round(up * 0.97, 1)))
    phone.locator("#speed button").click()
    expect(phone.locator("#speed")).to_contain_text("Saved")
    phone.get_by_label("The drop, the ONT and the router are installed").check()
    assert_no_unlabelled_fields(phone)
    shots(phone, "ready-to-activate")
    phone.get_by_role("button", name="Activate the service").click()
    expect(phone.get_by_role("status")).to_contain_text("Service activated")
    expect(phone.get_by_role("heading", name="Done")).to_be_visible()
    assert_fits(phone)
    shots(phone, "activated")


def test_the_dispatch_board_at_390px(phone: Page, shots: Shots, demo_db: sa.Engine) -> None:
    visits = _visits(demo_db, "SCHEDULED", "BOOKED")
    assert visits
    sign_in(phone, "dispatcher")
    phone.goto(f"/console/dispatch?date={visits[-1].day}")
    expect(phone.get_by_role("table", name="Technicians")).to_contain_text(visits[-1].customer)
    assert_fits(phone)
    assert_no_unlabelled_fields(phone)
    shots(phone, "board-390px")
    phone.get_by_role("table", name="Technicians").get_by_role(
        "link", name=visits[-1].customer
    ).first.click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text(visits[-1].customer)
    assert_fits(phone)
    shots(phone, "appointment-390px")
