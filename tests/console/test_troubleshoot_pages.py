"""Console troubleshooting wizard: choosing a flow, the live checks and what they skipped,
the questions, and the endings: a resolution, a booked visit (with window choice), an
outage escalation (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from fiberdesk.adapters.network.simulated import SimulatedOlt
from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import Appointment, Customer, Nap, Ticket
from fiberdesk.domain.customers import account_number
from fiberdesk.domain.orders import AppointmentStatus
from fiberdesk.domain.tickets import TicketCategory, TicketStatus
from fiberdesk.domain.users import SYSTEM_ACTOR, Role
from fiberdesk.services import outages, tickets, troubleshooting
from tests.console.support import client, error_beside, sign_in_as
from tests.factories import ActiveCustomers, make_active_customers, make_field_staff

__all__ = ["client"]


@pytest.fixture
def active(fd: Fiberdesk) -> ActiveCustomers:
    make_field_staff(fd)
    return make_active_customers(fd, per_nap=3)


@pytest.fixture
def sim(fd: Fiberdesk) -> SimulatedOlt:
    assert isinstance(fd.network, SimulatedOlt)
    return fd.network


def _tickets_of(fd: Fiberdesk, customer_id: int) -> list[Ticket]:
    with fd.uow(write=False) as uow:
        return list(uow.session.scalars(sa.select(Ticket).where(Ticket.customer_id == customer_id)))


def _session(fd: Fiberdesk, run_id: int) -> troubleshooting.SessionView:
    with fd.uow(write=False) as uow:
        return troubleshooting.get_session(uow, actor=SYSTEM_ACTOR, session_id=run_id)


def _day(iso: str) -> str:
    return f"{date.fromisoformat(iso):%a %b %d, %Y}"


def _start(client: TestClient, csrf: str, customer_id: int, **extra: str) -> int:
    data = {
        "csrf_token": csrf,
        "customer_id": str(customer_id),
        "flow": "no_internet",
        "description": "No internet since this morning",
        "priority": "NORMAL",
        **extra,
    }
    r = client.post("/console/troubleshoot/start", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    match = re.fullmatch(r"/console/troubleshoot/(\d+)", r.headers["location"])
    assert match, r.headers["location"]
    return int(match.group(1))


def test_choosing_a_flow_shows_the_line_and_refuses_bad_input(
    fd: Fiberdesk, client: TestClient, active: ActiveCustomers
) -> None:
    customer_id = active.customer_ids[0]
    csrf = sign_in_as(fd, client, Role.CSR, "casey")

    page = client.get(f"/console/troubleshoot/start?customer_id={customer_id}&flow=slow_internet")
    assert page.status_code == 200
    for name in ("No internet", "Slow internet", "Intermittent service"):
        assert name in page.text
    assert 'id="flow-slow_internet" value="slow_internet" checked' in page.text
    assert active.serials[0] in page.text  # the line now: the ONT
    assert re.search(r"-\d+\.\d+ dBm <span class=\"val good\">(Excellent|Good)", page.text)
    assert "none on the path" in page.text

    no_flow = client.post(
        "/console/troubleshoot/start",
        data={"csrf_token": csrf, "customer_id": str(customer_id), "description": "dead line"},
    )
    assert no_flow.status_code == 422
    assert "choose what the customer is calling about" in error_beside(no_flow.text, "flow")
    assert ">dead line</textarea>" in no_flow.text
    no_words = client.post(
        "/console/troubleshoot/start",
        data={"csrf_token": csrf, "customer_id": str(customer_id), "flow": "no_internet"},
    )
    assert no_words.status_code == 422
    assert "what the customer reports" in error_beside(no_words.text, "description")
    assert 'value="no_internet" checked' in no_words.text
    assert _tickets_of(fd, customer_id) == []  # nothing was opened

    # the qualification world's customer has no ONT: said before any ticket is opened
    with fd.uow(write=False) as uow:
        bare = uow.session.scalar(
            sa.select(Customer.id).where(Customer.account_number == account_number(900))
        )
    assert bare is not None
    shown = client.get(f"/console/troubleshoot/start?customer_id={bare}")
    assert "has no installed ONT" in shown.text and " disabled>Run the checks" in shown.text
    refused = client.post(
        "/console/troubleshoot/start",
        data={
            "csrf_token": csrf,
            "customer_id": str(bare),
            "flow": "no_internet",
            "description": "x",
        },
    )
    assert refused.status_code == 422 and "has no installed ONT" in refused.text
    assert _tickets_of(fd, bare) == []
    missing = client.get("/console/troubleshoot/start?customer_id=abc")
    assert missing.status_code == 422 and "whole number" in error_beside(
        missing.text, "customer_id"
    )


def test_no_internet_with_a_dead_ont_ends_in_a_booked_visit(
    fd: Fiberdesk, client: TestClient, active: ActiveCustomers, sim: SimulatedOlt
) -> None:
    customer_id, serial = active.customer_ids[0], active.serials[0]
    sim.inject_fault("POWER_LOSS", serial=serial)
    csrf = sign_in_as(fd, client, Role.CSR, "casey")
    start = client.get(f"/console/troubleshoot/start?customer_id={customer_id}")
    assert '<span class="val bad">offline</span>' in start.text
    assert "DYING GASP" in start.text

    run_id = _start(client, csrf, customer_id)
    url = f"/console/troubleshoot/{run_id}"
    page = client.get(url)
    assert page.status_code == 200
    # the checks, with what they saw, and the question they answered
    assert re.search(
        r'Dying gasp \(power lost\)</td>\s*<td data-label="Result" class="value">'
        r'<span class="val bad">yes</span>',
        page.text,
    )
    assert "Not asked: the checks answered" in page.text
    assert re.search(
        r"Ask the customer to look at the ONT[^<]* <strong>→ Power light off: the box looks dead"
        r"</strong><div class=\"muted\">because dying gasp \(power lost\): yes</div>",
        page.text,
    )
    assert "No power at the ONT" in page.text  # the advice to read out
    assert "Ask: After reseating the power, is the ONT&#39;s power light on?" in page.text
    [ticket] = _tickets_of(fd, customer_id)
    assert ticket.status is TicketStatus.IN_PROGRESS
    assert ticket.category is TicketCategory.NO_INTERNET

    # bad answers: shown beside the options, nothing changes
    empty = client.post(f"{url}/answer", data={"csrf_token": csrf, "node": "q_power_on"})
    assert empty.status_code == 422
    assert "choose the customer" in error_beside(empty.text, "option")
    wrong = client.post(
        f"{url}/answer", data={"csrf_token": csrf, "node": "q_power_on", "option": "disco"}
    )
    assert wrong.status_code == 422 and 'id="e-option"' in wrong.text
    assert _session(fd, run_id).answers == []

    done = client.post(
        f"{url}/answer",
        data={"csrf_token": csrf, "node": "q_power_on", "option": "off"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    run = _session(fd, run_id)
    assert run.status == "COMPLETED" and run.outcome is not None
    assert run.outcome["kind"] == "TECH_VISIT" and run.outcome["booked"] is True
    first = run.outcome["booking"]
    page = client.get(url)
    assert f"Technician visit booked: {_day(first['day'])} · {first['window']}" in page.text
    assert "Another window suits the customer better?" in page.text

    # move the visit to another window offered on the page
    slots = re.findall(r'name="slot" id="slot-\d+" value="([^"]+)"', page.text)
    assert slots and f"{first['day']}|{first['window']}" not in slots
    bad = client.post(f"{url}/visit", data={"csrf_token": csrf, "slot": "someday|AM"})
    assert bad.status_code == 422 and "choose one of the windows" in error_beside(bad.text, "slot")
    none = client.post(f"{url}/visit", data={"csrf_token": csrf})
    assert none.status_code == 422 and "choose a window" in error_beside(none.text, "slot")
    assert _session(fd, run_id).outcome["booking"] == first  # type: ignore[index]
    moved = client.post(
        f"{url}/visit", data={"csrf_token": csrf, "slot": slots[-1]}, follow_redirects=False
    )
    assert moved.status_code == 303 and moved.headers["location"] == f"{url}#outcome"
    booking = _session(fd, run_id).outcome["booking"]  # type: ignore[index]
    assert f"{booking['day']}|{booking['window']}" == slots[-1]
    with fd.uow(write=False) as uow:
        old = uow.session.get_one(Appointment, first["appointment_id"])
        new = uow.session.get_one(Appointment, booking["appointment_id"])
        assert old.status is AppointmentStatus.CANCELLED
        assert new.status is AppointmentStatus.BOOKED
    assert f"Technician visit booked: {_day(booking['day'])} · {booking['window']}" in (
        client.get(url).text
    )
    with fd.uow(write=False) as uow:
        view = tickets.get_ticket_view(uow, actor=SYSTEM_ACTOR, ticket_id=ticket.id)
    assert view.visit_booked
    assert (
        f'href="/console/troubleshoot/{run_id}"' in client.get(f"/console/tickets/{ticket.id}").text
    )


def test_a_resolution_with_pause_and_resume_on_an_open_ticket(
    fd: Fiberdesk, client: TestClient, active: ActiveCustomers
) -> None:
    customer_id = active.customer_ids[1]
    with fd.uow() as uow:
        ticket_id = tickets.open_ticket(
            uow,
            actor=SYSTEM_ACTOR,
            customer_id=customer_id,
            category=TicketCategory.NO_INTERNET,
            description="nothing loads",
        ).id
    csrf = sign_in_as(fd, client, Role.NOC, "nora", page="/console/tickets")
    chooser = client.get(
        f"/console/troubleshoot/start?customer_id={customer_id}&ticket_id={ticket_id}"
    )
    assert f'<option value="{ticket_id}" selected>' in chooser.text
    assert 'value="no_internet" checked' in chooser.text  # the ticket's category picks it

    run_id = _start(client, csrf, customer_id, ticket_id=str(ticket_id), description="")
    assert _start(client, csrf, customer_id, ticket_id=str(ticket_id)) == run_id  # goes on
    url = f"/console/troubleshoot/{run_id}"
    page = client.get(url)
    assert "Ask: Ask the customer to look at the ONT" in page.text
    assert 'id="opt-all_green"' in page.text
    assert len(_tickets_of(fd, customer_id)) == 1

    step = client.post(
        f"{url}/answer",
        data={"csrf_token": csrf, "node": "q_lights", "option": "all_green"},
        follow_redirects=False,
    )
    assert step.status_code == 303
    page = client.get(url)
    assert "The line is up: router or device" in page.text

    assert client.post(f"{url}/pause", data={"csrf_token": csrf}).status_code == 200
    paused = client.get(url)
    assert (
        "Waiting for the customer to call back" in paused.text
        and 'name="option"' not in paused.text
    )
    late = client.post(
        f"{url}/answer", data={"csrf_token": csrf, "node": "q_restart_works", "option": "yes"}
    )
    assert late.status_code == 422 and "paused: resume it first" in late.text
    assert client.post(f"{url}/resume", data={"csrf_token": csrf}).status_code == 200
    client.post(
        f"{url}/answer", data={"csrf_token": csrf, "node": "q_restart_works", "option": "yes"}
    )
    page = client.get(url)
    assert "The ticket is resolved, on the first contact" in page.text
    with fd.uow(write=False) as uow:
        view = tickets.get_ticket_view(uow, actor=SYSTEM_ACTOR, ticket_id=ticket_id)
    assert view.status is TicketStatus.RESOLVED and view.resolution_code == "ROUTER_RESTART"

    other = _tickets_of(fd, active.customer_ids[2])
    assert other == []
    foreign = client.post(
        "/console/troubleshoot/start",
        data={
            "csrf_token": csrf,
            "customer_id": str(active.customer_ids[2]),
            "flow": "no_internet",
            "ticket_id": str(ticket_id),
        },
    )
    assert foreign.status_code == 422
    assert "belongs to another customer" in error_beside(foreign.text, "ticket_id")


def test_a_customer_in_an_outage_is_sent_to_it(
    fd: Fiberdesk, client: TestClient, active: ActiveCustomers, sim: SimulatedOlt
) -> None:
    on_a = [c for c in active.customer_ids if active.nap_of[c] == "NAP-A"]
    with fd.uow(write=False) as uow:
        splitter_id = uow.session.get_one(Nap, active.world.naps["NAP-A"]).splitter_id
    sim.inject_fault("FIBER_CUT", splitter_id=splitter_id)
    outages.poll(
        fd.uow, actor=SYSTEM_ACTOR, network=fd.network, settings=outages.settings_from(fd.settings)
    )
    with fd.uow(write=False) as uow:
        [outage] = outages.list_outages(uow, actor=SYSTEM_ACTOR)
    csrf = sign_in_as(fd, client, Role.CSR, "casey")

    start = client.get(f"/console/troubleshoot/start?customer_id={on_a[0]}")
    assert f'href="/console/outages/{outage.id}"' in start.text and "is in outage" in start.text
    run_id = _start(client, csrf, on_a[0])
    page = client.get(f"/console/troubleshoot/{run_id}")
    assert "Escalated to the NOC" in page.text
    assert f'linked to outage <a href="/console/outages/{outage.id}">' in page.text
    [ticket] = _tickets_of(fd, on_a[0])
    assert ticket.outage_id == outage.id and ticket.status is TicketStatus.ESCALATED
    detail = client.get(f"/console/tickets/{ticket.id}")
    assert "Linked outage" in detail.text and f"Outage #{outage.id}" in detail.text


@pytest.mark.parametrize("role", [Role.BILLING, Role.TECHNICIAN, Role.DISPATCHER])
def test_roles_outside_troubleshooting_get_403(
    fd: Fiberdesk, client: TestClient, active: ActiveCustomers, role: Role
) -> None:
    customer_id = active.customer_ids[0]
    with fd.uow() as uow:
        ticket_id = tickets.open_ticket(
            uow,
            actor=SYSTEM_ACTOR,
            customer_id=customer_id,
            category=TicketCategory.NO_INTERNET,
            description="down",
        ).id
    run = troubleshooting.start_session(
        fd.uow, actor=SYSTEM_ACTOR, network=fd.network, ticket_id=ticket_id, flow_code="no_internet"
    )
    csrf = sign_in_as(fd, client, role, "outsider", page="/console/tickets")
    for path in (
        f"/console/troubleshoot/start?customer_id={customer_id}",
        f"/console/troubleshoot/{run.id}",
    ):
        r = client.get(path)
        assert r.status_code == 403 and "Not for your role" in r.text, path
        assert "Automatic checks" not in r.text
    post = client.post(
        f"/console/troubleshoot/{run.id}/answer",
        data={"csrf_token": csrf, "node": "q_lights", "option": "all_green"},
    )
    assert post.status_code == 403
    assert _session(fd, run.id).answers == []
    started = client.post(
        "/console/troubleshoot/start",
        data={
            "csrf_token": csrf,
            "customer_id": str(customer_id),
            "flow": "no_internet",
            "description": "x",
        },
    )
    assert started.status_code == 403 and len(_tickets_of(fd, customer_id)) == 1
