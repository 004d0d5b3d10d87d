"""Console tickets: the queue with SLA timers, filters and paging; one ticket and its
forms; opening a ticket (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.domain.tickets import TicketCategory, TicketPriority, TicketStatus
from fiberdesk.domain.users import SYSTEM_ACTOR, Role
from fiberdesk.services import tickets
from fiberdesk.services.pagination import PageRequest
from tests.console.support import client, error_beside, make_user, sign_in, sign_in_as
from tests.factories import ActiveCustomers, make_active_customers

__all__ = ["client"]


@pytest.fixture
def active(fd: Fiberdesk) -> ActiveCustomers:
    return make_active_customers(fd, per_nap=2)


def _open(
    fd: Fiberdesk,
    customer_id: int,
    *,
    priority: TicketPriority = TicketPriority.NORMAL,
    hours_ago: float = 0,
    text: str = "no internet since this morning",
) -> int:
    with fd.uow() as uow:
        return tickets.open_ticket(
            uow,
            actor=SYSTEM_ACTOR,
            customer_id=customer_id,
            category=TicketCategory.NO_INTERNET,
            description=text,
            priority=priority,
            now=utcnow() - timedelta(hours=hours_ago),
        ).id


def _ticket(fd: Fiberdesk, ticket_id: int) -> tickets.TicketView:
    with fd.uow(write=False) as uow:
        return tickets.get_ticket_view(uow, actor=SYSTEM_ACTOR, ticket_id=ticket_id)


def rows_of(html: str) -> list[str]:
    """The ticket numbers of the queue's rows, in order."""
    return re.findall(r'<a href="/console/tickets/\d+"><strong>(TKT-\d+)</strong>', html)


def test_the_queue_shows_sla_timers_most_urgent_first(
    fd: Fiberdesk, client: TestClient, active: ActiveCustomers
) -> None:
    c1, c2, c3 = active.customer_ids[:3]
    late = _open(fd, c1, hours_ago=30)  # NORMAL: 24 h target, 6 h overdue
    soon = _open(fd, c2, priority=TicketPriority.CRITICAL, hours_ago=3)  # 1 h left
    calm = _open(fd, c3, priority=TicketPriority.LOW)
    done = _open(fd, c3)
    with fd.uow() as uow:
        tickets.resolve_ticket(
            uow, actor=SYSTEM_ACTOR, ticket_id=done, code="FIXED_ON_CALL", text="fixed"
        )
    sign_in_as(fd, client, Role.CSR, "casey")

    page = client.get("/console/tickets")
    assert page.status_code == 200
    numbers = rows_of(page.text)
    assert numbers == [tickets.ticket_number(i) for i in (late, soon, calm)]  # open only
    assert re.search(r'sla-red" title="target [^"]+">overdue 6 h 0\d min', page.text)
    assert re.search(r'sla-amber" title="target [^"]+">(59 min|1 h 00 min) left', page.text)
    assert "2 d 23 h left" in page.text or "3 d 0 h left" in page.text  # LOW: 72 h
    assert "CRITICAL 4 h" not in page.text and "Critical 4 h (alert 8 h)" in page.text
    assert '<span class="count">1</span> overdue' in page.text

    overdue = client.get("/console/tickets?overdue=yes")
    assert rows_of(overdue.text) == [tickets.ticket_number(late)]
    assert 'name="overdue" value="yes" checked' in overdue.text

    critical = client.get("/console/tickets?priority=CRITICAL")
    assert rows_of(critical.text) == [tickets.ticket_number(soon)]
    assert '<option value="CRITICAL" selected>' in critical.text

    everything = client.get("/console/tickets?status=all")
    assert tickets.ticket_number(done) in rows_of(everything.text)
    assert rows_of(everything.text)[-1] == tickets.ticket_number(done)  # finished ones last
    resolved = client.get("/console/tickets?status=RESOLVED")
    assert rows_of(resolved.text) == [tickets.ticket_number(done)]
    assert "met" in resolved.text

    with fd.uow(write=False) as uow:
        account = tickets.get_ticket_view(uow, actor=SYSTEM_ACTOR, ticket_id=soon).account_number
    by_customer = client.get("/console/tickets", params={"customer": account})
    assert rows_of(by_customer.text) == [tickets.ticket_number(soon)]
    by_id = client.get(f"/console/tickets?customer_id={c3}&status=all")
    assert set(rows_of(by_id.text)) == {tickets.ticket_number(calm), tickets.ticket_number(done)}
    assert rows_of(client.get("/console/tickets?team=NOC").text) == []
    assert "No tickets match these filters." in client.get("/console/tickets?team=NOC").text


def test_the_queue_filters_by_assignee_and_pages(
    fd: Fiberdesk, client: TestClient, active: ActiveCustomers
) -> None:
    make_user(fd, Role.CSR, "casey")
    ids = [_open(fd, active.customer_ids[i % 4], hours_ago=i / 10) for i in range(27)]
    with fd.uow() as uow:
        tickets.update_ticket(uow, actor=SYSTEM_ACTOR, ticket_id=ids[5], assignee="casey")
    sign_in(client, "casey")

    first = client.get("/console/tickets")
    assert "27 tickets, most urgent first · page 1 of 2" in first.text
    assert len(rows_of(first.text)) == 25
    assert rows_of(first.text)[0] == tickets.ticket_number(ids[-1])  # opened earliest: due first
    assert 'href="/console/tickets?status=open&amp;page=2" rel="next"' in first.text
    second = client.get("/console/tickets?status=open&page=2")
    assert len(rows_of(second.text)) == 2
    assert set(rows_of(first.text)) | set(rows_of(second.text)) == {
        tickets.ticket_number(i) for i in ids
    }

    mine = client.get("/console/tickets?assignee=casey")
    assert rows_of(mine.text) == [tickets.ticket_number(ids[5])]
    nobody = client.get("/console/tickets?assignee=none")
    assert len(rows_of(nobody.text)) == 25 and "26 tickets" in nobody.text


def test_bad_filters_are_shown_beside_their_fields(
    fd: Fiberdesk, client: TestClient, active: ActiveCustomers
) -> None:
    sign_in_as(fd, client, Role.NOC, "nora", page="/console/tickets")
    bad = client.get("/console/tickets?priority=URGENTISH&customer=Smith")
    assert bad.status_code == 422
    assert "is not a priority" in error_beside(bad.text, "priority")
    assert 'value="Smith"' in bad.text  # the input is kept
    who = client.get("/console/tickets?assignee=ghost")
    assert who.status_code == 422 and "no user" in error_beside(who.text, "assignee")
    assert client.get("/console/tickets?page=0").status_code == 422


def test_a_ticket_page_and_its_forms(
    fd: Fiberdesk, client: TestClient, active: ActiveCustomers
) -> None:
    customer_id = active.customer_ids[0]
    ticket_id = _open(fd, customer_id, text="The internet drops every evening")
    _open(fd, customer_id, text="a second problem")
    make_user(fd, Role.CSR, "casey")
    make_user(fd, Role.NOC, "nora")
    csrf = sign_in(client, "casey")
    url = f"/console/tickets/{ticket_id}"

    page = client.get(url)
    assert page.status_code == 200
    assert "The internet drops every evening" in page.text
    assert f'href="/console/customers/{customer_id}"' in page.text
    assert "Other open tickets" in page.text
    assert f"/console/troubleshoot/start?customer_id={customer_id}&amp;ticket_id={ticket_id}" in (
        page.text
    )
    assert '<option value="ROUTER_RESTART">' in page.text  # a flow's resolution code
    assert '<option value="FIXED_ON_CALL">' in page.text

    # a status the ticket cannot move to: shown beside the field, the note kept, no change
    before = _ticket(fd, ticket_id)
    bad = client.post(
        f"{url}/update", data={"csrf_token": csrf, "status": "CLOSED", "note": "called back"}
    )
    assert bad.status_code == 422
    assert "cannot go from OPEN to CLOSED" in error_beside(bad.text, "status")
    assert ">called back</textarea>" in bad.text
    assert _ticket(fd, ticket_id).transcript == before.transcript
    empty = client.post(f"{url}/update", data={"csrf_token": csrf})
    assert empty.status_code == 422 and "write a note" in error_beside(empty.text, "note")

    ok = client.post(
        f"{url}/update",
        data={"csrf_token": csrf, "status": "IN_PROGRESS", "note": "called back", "contact": "yes"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == f"{url}#history"
    after = _ticket(fd, ticket_id)
    assert after.status is TicketStatus.IN_PROGRESS and after.contacts == 2
    assert "called back" in client.get(url).text

    ghost = client.post(
        f"{url}/assign", data={"csrf_token": csrf, "team": "CSR", "assignee": "ghost"}
    )
    assert ghost.status_code == 422 and "no user" in error_beside(ghost.text, "assignee")
    assigned = client.post(
        f"{url}/assign",
        data={"csrf_token": csrf, "team": "CSR", "assignee": "casey"},
        follow_redirects=False,
    )
    assert assigned.status_code == 303 and _ticket(fd, ticket_id).assignee == "casey"

    why = client.post(f"{url}/escalate", data={"csrf_token": csrf, "escalate_team": "NOC"})
    assert why.status_code == 422 and "say why" in error_beside(why.text, "reason")
    assert _ticket(fd, ticket_id).status is TicketStatus.IN_PROGRESS
    up = client.post(
        f"{url}/escalate",
        data={"csrf_token": csrf, "escalate_team": "NOC", "reason": "PON light red"},
        follow_redirects=False,
    )
    assert up.status_code == 303
    escalated = _ticket(fd, ticket_id)
    assert escalated.status is TicketStatus.ESCALATED and escalated.team.value == "NOC"

    nocode = client.post(f"{url}/resolve", data={"csrf_token": csrf, "text": "replaced the cable"})
    assert nocode.status_code == 422
    assert "choose a resolution code" in error_beside(nocode.text, "code")
    assert ">replaced the cable</textarea>" in nocode.text
    made_up = client.post(f"{url}/resolve", data={"csrf_token": csrf, "code": "MAGIC", "text": "x"})
    assert made_up.status_code == 422 and "MAGIC" in error_beside(made_up.text, "code")
    assert _ticket(fd, ticket_id).status is TicketStatus.ESCALATED
    done = client.post(
        f"{url}/resolve",
        data={"csrf_token": csrf, "code": "LAN_CABLE", "text": "replaced the cable"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    resolved = _ticket(fd, ticket_id)
    assert resolved.status is TicketStatus.RESOLVED and resolved.resolution_code == "LAN_CABLE"
    final = client.get(url)
    assert "LAN_CABLE" in final.text
    assert f'action="/console/tickets/{ticket_id}/resolve"' not in final.text
    assert '<option value="REOPENED">' in final.text  # a resolved ticket can be reopened

    assert client.get("/console/tickets/999999").status_code == 404


def test_opening_a_ticket(fd: Fiberdesk, client: TestClient, active: ActiveCustomers) -> None:
    customer_id = active.customer_ids[1]
    csrf = sign_in_as(fd, client, Role.CSR, "casey")
    form = client.get(f"/console/tickets/new?customer_id={customer_id}")
    assert form.status_code == 200 and "Active Customer" in form.text
    assert f'name="customer_id" value="{customer_id}"' in form.text

    bad = client.post(
        "/console/tickets/new",
        data={
            "csrf_token": csrf,
            "customer_id": str(customer_id),
            "category": "SLOW_SPEED",
            "priority": "HIGH",
            "description": "   ",
        },
    )
    assert bad.status_code == 422
    assert "describe the problem" in error_beside(bad.text, "description")
    assert '<option value="SLOW_SPEED" selected>' in bad.text
    assert '<option value="HIGH" selected>' in bad.text
    with fd.uow(write=False) as uow:
        page = tickets.ticket_queue(
            uow, actor=SYSTEM_ACTOR, page=PageRequest(), customer_id=customer_id
        )
        assert page.total == 0

    nobody = client.post(
        "/console/tickets/new",
        data={"csrf_token": csrf, "customer_id": "999999", "category": "OTHER", "description": "x"},
    )
    assert nobody.status_code == 422 and "no customer" in error_beside(nobody.text, "customer_id")
    nocat = client.post(
        "/console/tickets/new",
        data={"csrf_token": csrf, "customer_id": str(customer_id), "description": "slow"},
    )
    assert nocat.status_code == 422 and "choose what" in error_beside(nocat.text, "category")

    ok = client.post(
        "/console/tickets/new",
        data={
            "csrf_token": csrf,
            "customer_id": str(customer_id),
            "category": "SLOW_SPEED",
            "priority": "HIGH",
            "team": "CSR",
            "description": "Speed tests show 40 Mb/s on a 300 Mb/s plan",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    ticket_id = int(ok.headers["location"].rsplit("/", 1)[1])
    made = _ticket(fd, ticket_id)
    assert made.priority is TicketPriority.HIGH and made.customer_id == customer_id
    assert made.transcript[0]["via"] == "console"
    assert "40 Mb/s" in client.get(ok.headers["location"]).text


def test_a_stale_form_keeps_nothing_changed(
    fd: Fiberdesk, client: TestClient, active: ActiveCustomers
) -> None:
    ticket_id = _open(fd, active.customer_ids[0])
    sign_in_as(fd, client, Role.CSR, "casey")
    stale = client.post(
        f"/console/tickets/{ticket_id}/update",
        data={"csrf_token": "stale", "note": "hello"},
        follow_redirects=False,
    )
    assert stale.status_code == 303 and stale.headers["location"].startswith("/login")
    assert len(_ticket(fd, ticket_id).transcript) == 1


@pytest.mark.parametrize("role", [Role.BILLING, Role.TECHNICIAN, Role.DISPATCHER])
def test_roles_outside_tickets_get_403(
    fd: Fiberdesk, client: TestClient, active: ActiveCustomers, role: Role
) -> None:
    ticket_id = _open(fd, active.customer_ids[0])
    csrf = sign_in_as(fd, client, role, "outsider", page="/console/tickets")  # its 403 page
    for path in ("/console/tickets", f"/console/tickets/{ticket_id}", "/console/tickets/new"):
        r = client.get(path)
        assert r.status_code == 403, path
        assert "Not for your role" in r.text and "no internet since" not in r.text
    post = client.post(
        f"/console/tickets/{ticket_id}/update", data={"csrf_token": csrf, "note": "x"}
    )
    assert post.status_code == 403
    assert len(_ticket(fd, ticket_id).transcript) == 1
