"""Global search on SQLite and PostgreSQL: every identifier, typos, phone formats,
ranking, roles and bad queries; and the REST endpoint."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import Forbidden, InvalidInput
from fiberdesk.domain.users import Actor, Channel, Role
from fiberdesk.services import search
from fiberdesk.services.search import SearchHit
from fiberdesk.services.tickets import ticket_number
from fiberdesk.web.app import create_app
from tests.factories import SearchWorld, make_search_world, make_token

CSR = Actor("csr1", Role.CSR, Channel.API)


@pytest.fixture
def world(fd: Fiberdesk) -> SearchWorld:
    return make_search_world(fd)


def find(fd: Fiberdesk, query: str, actor: Actor = CSR, limit: int = 10) -> list[SearchHit]:
    with fd.uow(write=False) as uow:
        return search.search(uow, actor=actor, query=query, limit=limit)


def test_an_account_number_is_found_exactly_and_while_typing(
    fd: Fiberdesk, world: SearchWorld
) -> None:
    account = world.accounts["Carlos Mendez"]
    hits = find(fd, account)
    assert hits[0].id == world.ids["Carlos Mendez"]
    assert (hits[0].kind, hits[0].matched, hits[0].score) == ("customer", "account_number", 100)
    assert hits[0].url == f"/console/customers/{world.ids['Carlos Mendez']}"
    assert hits[0].title == "Carlos Mendez" and account in hits[0].subtitle
    spaced = find(fd, f"{account[:5]} {account[5:]}")
    assert spaced[0].id == world.ids["Carlos Mendez"]
    typing = find(fd, account[:7])  # the first seven digits: every 70xx account
    assert {h.id for h in typing} >= set(world.ids.values())
    assert all(h.score == 90 and h.matched == "account_number" for h in typing)


def test_a_ticket_number_in_any_usual_form(fd: Fiberdesk, world: SearchWorld) -> None:
    for text in (ticket_number(world.ticket_id), f"tkt {world.ticket_id}", f"#{world.ticket_id}"):
        hits = find(fd, text)
        assert hits[0].kind == "ticket", text
        assert hits[0].id == world.ticket_id
        assert hits[0].customer_id == world.ids["Priya Raman"]
        assert hits[0].url == f"/console/tickets/{world.ticket_id}"
        assert hits[0].title.startswith(ticket_number(world.ticket_id))
        assert "Priya Raman" in hits[0].subtitle
    assert find(fd, "TKT-999999") == []


def test_an_ont_serial_in_any_case(fd: Fiberdesk, world: SearchWorld) -> None:
    for text in ("SRCH0000ABCD", "srch0000abcd", " SRCH0000ABCD "):
        hits = find(fd, text)
        assert hits[0].id == world.ont_owner
        assert (hits[0].matched, hits[0].score) == ("ont_serial", 100)
    partial = find(fd, "srch0000")
    assert partial[0].id == world.ont_owner and partial[0].score == 90


@pytest.mark.parametrize(
    "typed",
    ["(410) 555-0103", "410.555.0103", "+1 410 555 0103", "4105550103", "1-410-555-0103"],
)
def test_a_phone_number_in_any_format(fd: Fiberdesk, world: SearchWorld, typed: str) -> None:
    hits = find(fd, typed)
    assert hits[0].id == world.ids["Margaret Okafor"]
    assert (hits[0].matched, hits[0].score) == ("phone", 100)


def test_an_email_whatever_its_case(fd: Fiberdesk, world: SearchWorld) -> None:
    for typed in ("m.okafor@example.net", "m.okafor@EXAMPLE.NET", "M.Okafor@Example.net"):
        hits = find(fd, typed)
        assert hits[0].id == world.ids["Margaret Okafor"], typed
        assert hits[0].matched == "email"
    assert find(fd, "nobody@example.net") == []


@pytest.mark.parametrize(
    ("typed", "who"),
    [
        ("john smith", "John Smith"),
        ("Jonh Smiht", "John Smith"),
        ("smith john", "John Smith"),
        ("margret okafor", "Margaret Okafor"),
        ("okafr", "Margaret Okafor"),
        ("priya ramen", "Priya Raman"),
        ("carlos mendes", "Carlos Mendez"),
        ("marga", "Margaret Okafor"),
    ],
)
def test_names_with_typos_and_half_typed(
    fd: Fiberdesk, world: SearchWorld, typed: str, who: str
) -> None:
    hits = find(fd, typed)
    assert hits, typed
    assert hits[0].id == world.ids[who], [h.title for h in hits]
    assert hits[0].matched == "name" and hits[0].score < 100


@pytest.mark.parametrize(
    ("typed", "who"),
    [
        ("2803 10th st sparows point", "Jonathan Smyth"),
        ("300 dulany valley", "Priya Raman"),
        ("bellona ave", "Margaret Okafor"),
    ],
)
def test_addresses_with_typos(fd: Fiberdesk, world: SearchWorld, typed: str, who: str) -> None:
    hits = find(fd, typed)
    assert hits and hits[0].id == world.ids[who], [h.subtitle for h in hits]
    assert hits[0].matched == "address"


def test_ranking_puts_the_closest_first(fd: Fiberdesk, world: SearchWorld) -> None:
    hits = find(fd, "john smith")
    titles = [h.title for h in hits]
    assert titles[0] == "John Smith"
    assert hits[0].score > max(h.score for h in hits[1:]) if len(hits) > 1 else True
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert "Priya Raman" not in titles  # nothing alike
    assert find(fd, "zebulon quackenbush") == []


def test_exact_identifiers_come_before_names(fd: Fiberdesk, world: SearchWorld) -> None:
    hits = find(fd, "john.smith@example.com")
    assert hits[0].matched == "email" and hits[0].id == world.ids["John Smith"]


def test_the_limit_is_kept(fd: Fiberdesk, world: SearchWorld) -> None:
    account = world.accounts["John Smith"]
    assert len(find(fd, account[:7], limit=3)) == 3


@pytest.mark.parametrize(
    "role", [Role.ADMIN, Role.SUPERVISOR, Role.CSR, Role.DISPATCHER, Role.NOC, Role.BILLING]
)
def test_every_office_role_gets_hits(fd: Fiberdesk, world: SearchWorld, role: Role) -> None:
    hits = find(fd, "okafor", actor=Actor("x", role, Channel.API))
    assert [h.id for h in hits] == [world.ids["Margaret Okafor"]]


def test_a_technician_may_not_search(fd: Fiberdesk, world: SearchWorld) -> None:
    with pytest.raises(Forbidden, match="may not search"):
        find(fd, "okafor", actor=Actor("tech", Role.TECHNICIAN, Channel.API))


@pytest.mark.parametrize(
    ("query", "limit", "field", "reason"),
    [
        ("", 10, "q", "at least 2"),
        ("   a  ", 10, "q", "at least 2"),
        ("x" * 101, 10, "q", "at most 100"),
        ("smith", 0, "limit", "1 to 50"),
        ("smith", 51, "limit", "1 to 50"),
    ],
)
def test_bad_queries_are_refused_clearly(
    fd: Fiberdesk, world: SearchWorld, query: str, limit: int, field: str, reason: str
) -> None:
    with pytest.raises(InvalidInput, match=reason) as caught:
        find(fd, query, limit=limit)
    assert caught.value.field == field


def test_new_customers_are_found_by_a_misspelt_name(fd: Fiberdesk, world: SearchWorld) -> None:
    from fiberdesk.domain.customers import ServiceStatus
    from tests.factories import make_customer

    cid = make_customer(fd, seq=8123, name="Wilhelmina Quackenbush", status=ServiceStatus.ACTIVE)
    assert find(fd, "wilhelmena quakenbush")[0].id == cid


def test_the_rest_endpoint(fd: Fiberdesk, world: SearchWorld) -> None:
    client = TestClient(create_app(fd))
    token = make_token(fd, Role.CSR, "searcher")
    headers = {"Authorization": f"Bearer {token}"}
    ok = client.get("/api/v1/search", params={"q": "Jonh Smiht", "limit": 5}, headers=headers)
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["query"] == "Jonh Smiht"
    first = body["items"][0]
    assert first["title"] == "John Smith" and first["matched_label"] == "Name"
    assert first["url"] == f"/console/customers/{world.ids['John Smith']}"
    # the endpoint skips validating its answer: the bytes must be the response model's
    from fiberdesk.web.api.search import SearchOut

    assert ok.content == SearchOut.model_validate(body).model_dump_json().encode()
    accented = client.get("/api/v1/search", params={"q": "Zoë Ñúñez"}, headers=headers)
    assert accented.status_code == 200
    assert accented.content == (
        SearchOut.model_validate(accented.json()).model_dump_json().encode()
    )
    empty = client.get("/api/v1/search", params={"q": ""}, headers=headers)
    assert empty.status_code == 422
    assert empty.json()["field"] == "q" and "at least 2" in empty.json()["detail"]
    long = client.get("/api/v1/search", params={"q": "y" * 150}, headers=headers)
    assert long.status_code == 422 and long.json()["field"] == "q"
    assert client.get("/api/v1/search", params={"q": "smith"}).status_code == 401
    tech = make_token(fd, Role.TECHNICIAN, "tech1")
    refused = client.get(
        "/api/v1/search", params={"q": "smith"}, headers={"Authorization": f"Bearer {tech}"}
    )
    assert refused.status_code == 403


def test_live_customers_come_before_closed_namesakes(fd: Fiberdesk, world: SearchWorld) -> None:
    from fiberdesk.domain.customers import ServiceStatus
    from tests.factories import make_customer

    gone = make_customer(fd, seq=8201, name="Ada Lovelace", status=ServiceStatus.DISCONNECTED)
    here = make_customer(fd, seq=8202, name="Ada Lovelace", status=ServiceStatus.ACTIVE)
    hits = find(fd, "ada lovelace")
    assert [h.id for h in hits[:2]] == [here, gone]
    assert hits[0].score == hits[1].score
    assert "Closed" in hits[1].subtitle and "In Service" in hits[0].subtitle
