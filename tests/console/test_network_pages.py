"""The network view (/console/network) on SQLite and PostgreSQL: a fiber cut injected in the
simulated OLT shows red in the SVG, in its titles and in the table; roles outside the
network area get 403."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from fiberdesk.adapters.network.simulated import SimulatedOlt
from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import Nap, Splitter
from fiberdesk.domain.users import Actor, Channel, Role
from fiberdesk.services import outages
from fiberdesk.web.app import create_app
from tests.console.support import make_user, sign_in
from tests.factories import ActiveCustomers, make_active_customers

NOC = Actor(name="noc-test", role=Role.NOC, channel=Channel.API)


@pytest.fixture
def client(fd: Fiberdesk) -> Iterator[TestClient]:
    with TestClient(create_app(fd), base_url="http://console.test") as c:
        yield c


@pytest.fixture
def active(fd: Fiberdesk) -> ActiveCustomers:
    return make_active_customers(fd, per_nap=3)


def _splitter_and_pon(fd: Fiberdesk, active: ActiveCustomers, code: str) -> tuple[int, int]:
    with fd.uow(write=False) as uow:
        nap = uow.session.get_one(Nap, active.world.naps[code])
        splitter = uow.session.get_one(Splitter, nap.splitter_id)
        return splitter.id, splitter.pon_port_id


def _svg(html: str, css_class: str) -> str:
    found = re.search(rf'<svg class="{css_class}".*?</svg>', html, re.S)
    assert found, f"no {css_class} drawing on the page"
    return found.group(0)


def test_a_fiber_cut_shows_red_from_the_overview_down_to_the_customers(
    fd: Fiberdesk, client: TestClient, active: ActiveCustomers
) -> None:
    splitter_a, pon_a = _splitter_and_pon(fd, active, "NAP-A")
    make_user(fd, Role.NOC, "nina")
    sign_in(client, "nina", page="/console/network")
    calm = client.get("/console/network")
    assert calm.status_code == 200
    assert "Every PON port is working" in calm.text
    assert "h-down" not in _svg(calm.text, "olt-ports")

    assert isinstance(fd.network, SimulatedOlt)
    fd.network.inject_fault("FIBER_CUT", splitter_id=splitter_a)

    overview = client.get("/console/network")
    assert overview.status_code == 200
    ports = _svg(overview.text, "olt-ports")
    # the cut port is a red, linked square whose title says why
    cell = re.search(
        rf'<a href="/console/network\?pon={pon_a}" class="node h-(\w+)">'
        r"<title>([^<]*)</title>",
        ports,
    )
    assert cell, ports
    assert cell.group(1) in ("down", "warning")
    assert "3 loss of signal" in cell.group(2)
    assert "PON ports that need attention" in overview.text
    assert f'href="/console/network?pon={pon_a}"' in overview.text.split("need attention")[1]

    tree = client.get(f"/console/network?pon={pon_a}")
    assert tree.status_code == 200
    svg = _svg(tree.text, "pon-tree")
    assert 'class="node splitter h-down"' in svg and 'class="node nap h-down"' in svg
    assert svg.count('class="node customer h-los"') == 3
    assert 'class="cut"' in svg  # the cross where the light stops
    for customer_id in (c for c in active.customer_ids if active.nap_of[c] == "NAP-A"):
        assert f'<a href="/console/customers/{customer_id}" class="node customer h-los">' in svg
    # the table says the same in words
    table = tree.text.split("The same tree as a table")[1]
    assert table.count("Loss of signal") >= 3 and "alarms: LOS" in table
    assert "No outage is open here yet" in tree.text
    assert "/console/outages/new?scope=PON_PORT" in tree.text

    # polled and correlated, the outage is named on the tree
    outages.poll(fd.uow, actor=NOC, network=fd.network, settings=outages.settings_from(fd.settings))
    tree = client.get(f"/console/network?pon={pon_a}")
    assert re.search(r'Open outage <a href="/console/outages/\d+">#\d+</a>: fiber fault', tree.text)


def test_drilling_down_by_olt_and_bad_input(
    fd: Fiberdesk, client: TestClient, active: ActiveCustomers
) -> None:
    _, pon_a = _splitter_and_pon(fd, active, "NAP-A")
    make_user(fd, Role.SUPERVISOR, "sam")
    sign_in(client, "sam")
    overview = client.get("/console/network")
    olt = re.search(r'href="/console/network\?olt=(\d+)"', overview.text)
    assert olt
    one = client.get(f"/console/network?olt={olt.group(1)}")
    assert one.status_code == 200
    assert "All PON ports of" in one.text and f"?pon={pon_a}" in one.text
    assert client.get("/console/network?pon=abc").status_code == 422
    assert client.get("/console/network?olt=-1").status_code == 422
    assert client.get("/console/network?pon=99999").status_code == 404
    assert client.get("/console/network?olt=99999").status_code == 404


@pytest.mark.parametrize("role", [Role.BILLING, Role.CSR, Role.TECHNICIAN])
def test_roles_outside_the_network_area_get_403(
    fd: Fiberdesk, client: TestClient, role: Role
) -> None:
    make_user(fd, role, "someone")
    sign_in(client, "someone", page="/console")
    refused = client.get("/console/network")
    assert refused.status_code == 403
    assert "<svg" not in refused.text
    assert client.get("/console/network?pon=1").status_code == 403
