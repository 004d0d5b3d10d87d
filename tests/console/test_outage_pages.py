"""The outage board and outage pages on SQLite and PostgreSQL: a fiber cut in the simulated
OLT, picked up by the NOC's "check the network" button, becomes an outage on the board; the
NOC's forms work, re-show bad input beside the field and refuse a CSR with 403."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from fiberdesk.adapters.network.simulated import SimulatedOlt
from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import MaintenanceWindow, Nap, Outage, OutboxMessage, Splitter
from fiberdesk.domain.outages import OutageStatus
from fiberdesk.domain.users import Role
from fiberdesk.web.app import create_app
from tests.console.support import make_user, sign_in
from tests.factories import ActiveCustomers, make_active_customers


@pytest.fixture
def client(fd: Fiberdesk) -> Iterator[TestClient]:
    with TestClient(create_app(fd), base_url="http://console.test") as c:
        yield c


@pytest.fixture
def active(fd: Fiberdesk) -> ActiveCustomers:
    return make_active_customers(fd, per_nap=3)


def _cut(fd: Fiberdesk, active: ActiveCustomers) -> None:
    with fd.uow(write=False) as uow:
        nap = uow.session.get_one(Nap, active.world.naps["NAP-A"])
        splitter = uow.session.get_one(Splitter, nap.splitter_id)
    assert isinstance(fd.network, SimulatedOlt)
    fd.network.inject_fault("FIBER_CUT", splitter_id=splitter.id)


def _outage(fd: Fiberdesk) -> Outage:
    with fd.uow(write=False) as uow:
        found = uow.session.scalars(sa.select(Outage)).one()
        uow.session.expunge(found)
        return found


def _local(minutes: int) -> str:
    """A datetime-local value (UTC) ``minutes`` from now."""
    return f"{utcnow() + timedelta(minutes=minutes):%Y-%m-%dT%H:%M}"


def _error_of(page: str, field: str) -> str:
    found = re.search(rf'<div class="error" id="e-{field}" role="alert">([^<]*)</div>', page)
    assert found, f"no error beside {field}"
    return html.unescape(found.group(1))


def test_a_fiber_cut_reaches_the_board_and_the_noc_works_it(
    fd: Fiberdesk, client: TestClient, active: ActiveCustomers
) -> None:
    make_user(fd, Role.NOC, "nina")
    csrf = sign_in(client, "nina", page="/console/outages")
    board = client.get("/console/outages")
    assert board.status_code == 200 and "No open outage" in board.text

    _cut(fd, active)
    polled = client.post("/console/outages/poll", data={"csrf_token": csrf}, follow_redirects=False)
    assert polled.status_code == 303
    board = client.get(polled.headers["location"])
    assert "Network checked: 3 new alarms, 1 outages opened." in board.text
    outage = _outage(fd)
    open_table = board.text.split("Open outages")[1].split("Planned maintenance")[0]
    assert f'href="/console/outages/{outage.id}"' in open_table
    assert "LCP-NAP-A" in open_table and "3 LOS" in open_table and "Detected" in open_table

    page = client.get(f"/console/outages/{outage.id}")
    assert page.status_code == 200
    assert "Affected customers (3)" in page.text
    assert "3 outage notices: waiting to be sent" in page.text
    assert "3 LOS alarms" in page.text
    for customer_id in (c for c in active.customer_ids if active.nap_of[c] == "NAP-A"):
        assert f'href="/console/customers/{customer_id}"' in page.text
    assert f'action="/console/outages/{outage.id}/confirm"' in page.text

    # bad input: shown beside the field with what was typed, nothing changed
    bad = client.post(
        f"/console/outages/{outage.id}/confirm",
        data={"csrf_token": csrf, "cause": "  ", "confirm_eta": _local(60)},
    )
    assert bad.status_code == 422
    assert "1 to 2000 characters" in _error_of(bad.text, "cause")
    assert f'value="{_local(60)}"' in bad.text
    assert _outage(fd).status is OutageStatus.DETECTED
    bad = client.post(
        f"/console/outages/{outage.id}/confirm",
        data={"csrf_token": csrf, "cause": "backhoe", "confirm_eta": "soon"},
    )
    assert bad.status_code == 422 and "YYYY-MM-DD" in _error_of(bad.text, "confirm_eta")
    assert ">backhoe</textarea>" in bad.text

    done = client.post(
        f"/console/outages/{outage.id}/confirm",
        data={"csrf_token": csrf, "cause": "backhoe cut the feeder"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert _outage(fd).status is OutageStatus.CONFIRMED

    past = client.post(
        f"/console/outages/{outage.id}/update",
        data={"csrf_token": csrf, "eta": _local(-90), "note": "crew late"},
    )
    assert past.status_code == 422 and "in the future" in _error_of(past.text, "eta")
    assert ">crew late</textarea>" in past.text
    eta = _local(180)
    updated = client.post(
        f"/console/outages/{outage.id}/update",
        data={"csrf_token": csrf, "eta": eta, "note": "splicing on site"},
        follow_redirects=False,
    )
    assert updated.status_code == 303
    shown = client.get(updated.headers["location"])
    assert "Outage updated." in shown.text and "splicing on site" in shown.text
    assert f"{eta.replace('T', ' ')} UTC" in shown.text

    empty = client.post(
        f"/console/outages/{outage.id}/resolve", data={"csrf_token": csrf, "resolve_note": ""}
    )
    assert empty.status_code == 422 and _error_of(empty.text, "resolve_note")
    assert _outage(fd).status is OutageStatus.CONFIRMED
    restored = client.post(
        f"/console/outages/{outage.id}/resolve",
        data={"csrf_token": csrf, "resolve_note": "feeder spliced"},
        follow_redirects=False,
    )
    assert restored.status_code == 303
    assert _outage(fd).status is OutageStatus.RESOLVED
    page = client.get(f"/console/outages/{outage.id}")
    assert "3 restoration notices" in page.text and "NOC actions" not in page.text
    board = client.get("/console/outages")
    assert f'href="/console/outages/{outage.id}"' in board.text.split("Restored in the last")[1]


def test_a_csr_sees_the_board_read_only_and_its_posts_are_refused(
    fd: Fiberdesk, client: TestClient, active: ActiveCustomers
) -> None:
    _cut(fd, active)
    from fiberdesk.domain.users import Actor, Channel
    from fiberdesk.services import outages

    noc = Actor(name="noc", role=Role.NOC, channel=Channel.API)
    outages.poll(fd.uow, actor=noc, network=fd.network, settings=outages.settings_from(fd.settings))
    outage = _outage(fd)
    make_user(fd, Role.CSR, "casey")
    csrf = sign_in(client, "casey", page="/console/outages")
    board = client.get("/console/outages")
    assert board.status_code == 200 and "LCP-NAP-A" in board.text
    assert "Check the network for alarms" not in board.text
    assert "Declare an outage" not in board.text
    page = client.get(f"/console/outages/{outage.id}")
    assert page.status_code == 200 and "Affected customers (3)" in page.text
    assert "NOC actions" not in page.text and "<form" not in page.text.split("</header>")[1]
    assert "see it on the network" not in page.text  # the CSR may not open the network
    for url, data in (
        (f"/console/outages/{outage.id}/confirm", {"cause": "x"}),
        (f"/console/outages/{outage.id}/update", {"note": "x"}),
        (f"/console/outages/{outage.id}/resolve", {"resolve_note": "x"}),
        ("/console/outages/poll", {}),
        (
            "/console/outages/new",
            {"scope": "NAP", "element": "NAP-A", "kind": "FIBER", "cause": "x"},
        ),
        (
            "/console/outages/maintenance",
            {
                "title": "x",
                "scope": "NAP",
                "element": "NAP-A",
                "starts_at": _local(60),
                "ends_at": _local(120),
            },
        ),
    ):
        refused = client.post(url, data={"csrf_token": csrf, **data})
        assert refused.status_code == 403, url
    assert client.get("/console/outages/new").status_code == 403
    assert _outage(fd).status is OutageStatus.DETECTED
    with fd.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Outage)) == 1
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(MaintenanceWindow)) == 0


def test_declaring_an_outage_and_planning_maintenance_by_hand(
    fd: Fiberdesk, client: TestClient, active: ActiveCustomers
) -> None:
    make_user(fd, Role.NOC, "nina")
    csrf = sign_in(client, "nina", page="/console/outages")
    form = client.get("/console/outages/new?scope=NAP&element=NAP-A")
    assert form.status_code == 200 and 'value="NAP-A"' in form.text
    bad = client.post(
        "/console/outages/new",
        data={
            "csrf_token": csrf,
            "scope": "NAP",
            "element": "NAP-NOWHERE",
            "kind": "FIBER",
            "cause": "cable cut by a crew",
        },
    )
    assert bad.status_code == 422
    assert "NAP-NOWHERE is not a known NAP" in _error_of(bad.text, "element")
    assert 'value="NAP-NOWHERE"' in bad.text and ">cable cut by a crew</textarea>" in bad.text
    odd = client.post(
        "/console/outages/new",
        data={
            "csrf_token": csrf,
            "scope": "ROOF",
            "element": "NAP-A",
            "kind": "FIBER",
            "cause": "x",
        },
    )
    assert odd.status_code == 422 and _error_of(odd.text, "scope")
    with fd.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Outage)) == 0

    made = client.post(
        "/console/outages/new",
        data={
            "csrf_token": csrf,
            "scope": "NAP",
            "element": "nap-a",
            "kind": "FIBER",
            "cause": "cable cut by a crew",
            "eta": _local(240),
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    page = client.get(made.headers["location"])
    assert "Outage declared" in page.text and "declared by the NOC" in page.text
    assert "Confirmed" in page.text
    with fd.uow(write=False) as uow:
        told = uow.session.scalar(
            sa.select(sa.func.count()).where(OutboxMessage.kind == "outage_notification")
        )
    assert told == 3

    wrong = client.post(
        "/console/outages/maintenance",
        data={
            "csrf_token": csrf,
            "title": "Splice closure swap",
            "scope": "NAP",
            "element": "NAP-A",
            "starts_at": _local(120),
            "ends_at": _local(60),
        },
    )
    assert wrong.status_code == 422
    assert "end after it starts" in _error_of(wrong.text, "ends_at")
    assert 'value="Splice closure swap"' in wrong.text
    planned = client.post(
        "/console/outages/maintenance",
        data={
            "csrf_token": csrf,
            "title": "Splice closure swap",
            "scope": "NAP",
            "element": "NAP-A",
            "starts_at": _local(60),
            "ends_at": _local(120),
            "description": "Short breaks.",
        },
        follow_redirects=False,
    )
    assert planned.status_code == 303
    board = client.get(planned.headers["location"])
    assert "Maintenance window planned" in board.text
    assert "Splice closure swap" in board.text.split("Planned maintenance")[1]


@pytest.mark.parametrize("role", [Role.BILLING, Role.TECHNICIAN, Role.DISPATCHER])
def test_roles_outside_the_outages_area_get_403(
    fd: Fiberdesk, client: TestClient, role: Role
) -> None:
    make_user(fd, role, "someone")
    sign_in(client, "someone", page="/console")
    assert client.get("/console/outages").status_code == 403
    assert client.get("/console/outages/1").status_code == 403
