"""A NOC engineer sees a fiber cut on the network view, drills down to the cut PON port (red
below the cut), has the network checked for alarms from the outage board, opens the outage
that results, confirms it and declares it restored. In a real browser on the demo operator;
the PON port and the outage at 390 px too."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from fiberdesk.adapters.network.simulated import SimulatedOlt
from fiberdesk.bootstrap import Fiberdesk, build
from fiberdesk.config import Settings
from fiberdesk.domain.network_health import ElementHealth, OntHealth
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import network_map, outages
from fiberdesk.services.network_map import PonSummary
from tests.browser.conftest import Shots, assert_fits, assert_no_unlabelled_fields, sign_in


@pytest.fixture(scope="module")
def demo(demo_env: dict[str, str]) -> Iterator[Fiberdesk]:
    """The demo operator's database: the simulated OLT's state lives there, so a fault
    injected here is what the running server sees."""
    fd = build(
        Settings(
            database_url=demo_env["FIBERDESK_DATABASE_URL"],
            secret_key=demo_env["FIBERDESK_SECRET_KEY"],
        )
    )
    yield fd
    fd.close()


def healthy_pon(fd: Fiberdesk) -> PonSummary:
    """The working PON port with the most ONTs online (at least 4), and no outage."""
    state = network_map.live_state(fd.uow, actor=SYSTEM_ACTOR, network=fd.network)
    with fd.uow(write=False) as uow:
        olts = network_map.overview(uow, actor=SYSTEM_ACTOR, state=state)
    pons = [
        p
        for o in olts
        for p in o.pons
        if p.health is ElementHealth.OK and not p.outages and p.counts[OntHealth.ONLINE] >= 4
    ]
    if not pons:
        pytest.fail("the demo has no working PON port with four ONTs online")
    return max(pons, key=lambda p: (p.counts[OntHealth.ONLINE], -p.id))


def test_a_noc_engineer_sees_a_fiber_cut_and_works_its_outage(
    page: Page, phone: Page, shots: Shots, demo: Fiberdesk
) -> None:
    pon = healthy_pon(demo)
    cut_customers = pon.counts[OntHealth.ONLINE]
    assert isinstance(demo.network, SimulatedOlt)
    fault = demo.network.inject_fault("FIBER_CUT", pon_port_id=pon.id)
    try:
        sign_in(page, "noc")
        page.get_by_role("link", name="Network").click()
        expect(page.get_by_role("heading", name="Network", exact=True)).to_be_visible()
        # the cut port is red on its OLT's panel and first in the list of problems
        square = page.locator(f'svg.olt-ports a[href="/console/network?pon={pon.id}"]')
        expect(square).to_have_class(re.compile(r"h-down"))
        attention = page.get_by_role("region", name="PON ports that need attention")
        first = attention.get_by_role("row").nth(1)
        expect(first).to_contain_text(pon.label)
        expect(first).to_contain_text("Down")
        shots(page, "network-overview")

        attention.get_by_role("link", name=pon.label).click()
        expect(page.get_by_role("heading", name=f"PON port {pon.label}")).to_contain_text("Down")
        tree = page.locator("svg.pon-tree")
        expect(tree.locator("a.node.customer.h-los")).to_have_count(cut_customers)
        expect(tree.locator(".node.pon.h-down")).to_have_count(1)
        expect(tree.locator("g.cut")).not_to_have_count(0)
        expect(page.get_by_text("No outage is open here yet")).to_be_visible()
        table = page.get_by_role("region", name="The same tree as a table")
        expect(table.get_by_text("Loss of signal", exact=True)).to_have_count(cut_customers)
        shots(page, "pon-cut-in-red")

        # the alarms are processed as the product does: the board's check of the network
        page.get_by_role("link", name="Outages").click()
        page.get_by_role("button", name="Check the network for alarms").click()
        expect(page.get_by_role("status")).to_contain_text("outages opened")
        board = page.get_by_role("region", name="Open outages")
        row = board.get_by_role("row").filter(has_text=f"{cut_customers} LOS")
        expect(row).to_have_count(1)
        shots(page, "outage-board")
        row.get_by_role("link").first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Fiber fault")
        expect(
            page.get_by_role("heading", name=f"Affected customers ({cut_customers})")
        ).to_be_visible()
        expect(page.get_by_text(f"{cut_customers} LOS alarms")).to_be_visible()
        assert_no_unlabelled_fields(page)
        outage_url = page.url
        shots(page, "outage-page")

        # the same pages on a phone
        sign_in(phone, "noc")
        phone.goto(f"/console/network?pon={pon.id}")
        expect(phone.get_by_role("alert")).to_contain_text("Open outage")
        assert_fits(phone)
        shots(phone, "pon-cut-390px")
        phone.goto(outage_url)
        assert_fits(phone)
        shots(phone, "outage-page-390px")

        # confirm with a bad, then a good cause; then declare it restored
        page.get_by_role("button", name="Confirm").click()  # the cause is required
        expect(page.get_by_label("Cause")).to_have_attribute("required", "")
        page.get_by_label("Cause").fill("Feeder cut by a contractor's backhoe")
        page.get_by_role("button", name="Confirm").click()
        expect(page.get_by_role("status")).to_contain_text("Outage confirmed")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Confirmed")
        page.get_by_label("Note", exact=True).fill("Splicing crew on site")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_contain_text("Outage updated")
        demo.network.clear_fault(fault)
        page.get_by_label("What was done").fill("Feeder spliced, light is back")
        page.get_by_role("button", name="Declare restored").click()
        expect(page.get_by_role("status")).to_contain_text("restored")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Resolved")
        shots(page, "outage-restored")
    finally:
        demo.network.clear_fault(fault)
        outages.poll(demo.uow, actor=SYSTEM_ACTOR, network=demo.network)
