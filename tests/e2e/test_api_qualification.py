"""Qualification, quotes, holds and the waitlist through the REST API; the public page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.users import Role
from fiberdesk.web.app import create_app
from tests.factories import QualificationWorld, make_qualification_world, make_token

PROBLEM = "application/problem+json"


@pytest.fixture
def world(fd: Fiberdesk) -> QualificationWorld:
    return make_qualification_world(fd)


@pytest.fixture
def client(fd: Fiberdesk) -> Iterator[TestClient]:
    with TestClient(create_app(fd)) as c:
        yield c


@pytest.fixture
def auth(fd: Fiberdesk) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(fd, Role.CSR)}"}


def test_qualify_by_address_and_by_id(
    client: TestClient, auth: dict[str, str], world: QualificationWorld
) -> None:
    r = client.post(
        "/api/v1/qualify", json={"address": "100 Test Road, Towson MD 21204"}, headers=auth
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["decision"] == "SERVICEABLE" and body["match_status"] == "MATCHED"
    assert body["premises"]["source_id"] == "Q0" and body["confidence"] >= 0.8
    assert body["nap"]["code"] == "NAP-A" and body["port"] == 1
    assert body["predicted_rx_dbm"] == "-20.19" and body["signal_class"] == "GOOD"
    assert [t["code"] for t in body["tiers"] if t["offered"]][-1] == "GIGABIT"
    r = client.post(
        "/api/v1/qualify", json={"premises_id": world.premises["nap_full"]}, headers=auth
    )
    assert r.json()["decision"] == "NOT_SERVICEABLE" and r.json()["waitlist_offered"]
    r = client.post("/api/v1/qualify", json={"source_id": "q9"}, headers=auth)
    assert r.json()["premises"]["source_id"] == "Q9"


@pytest.mark.parametrize(
    "body",
    [
        {"address": ""},
        {"address": "   "},
        {"address": "x" * 10_000},
        {"address": "\x00\x01binary\x02"},
        {"address": "please call me back tomorrow"},
        {},
        {"address": "1 Test Rd", "premises_id": 1},
        {"lat": 39.5},
        {"premises_id": 0},
    ],
)
def test_bad_qualify_input_is_422(
    client: TestClient, auth: dict[str, str], body: object, world: QualificationWorld
) -> None:
    r = client.post("/api/v1/qualify", json=body, headers=auth)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM and r.json()["detail"]


def test_ambiguous_address_gives_candidates(
    client: TestClient, auth: dict[str, str], world: QualificationWorld
) -> None:
    r = client.post("/api/v1/qualify", json={"address": "Test Rd Towson"}, headers=auth)
    assert r.status_code == 200
    assert r.json()["decision"] is None and r.json()["candidates"]


def test_quote_accept_and_idempotency(
    client: TestClient, auth: dict[str, str], world: QualificationWorld
) -> None:
    body = {"premises_id": world.premises["serviceable"], "plan": "plus", "term": "12M"}
    key = {**auth, "Idempotency-Key": "quote-1"}
    first = client.post("/api/v1/quotes", json=body, headers=key)
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/quotes", json=body, headers=key)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/quotes", json={**body, "plan": "BASIC"}, headers=key)
    assert other.status_code == 422 and "different request" in other.json()["detail"]
    ref = first.json()["reference"]
    assert client.get(f"/api/v1/quotes/{ref}", headers=auth).json()["monthly_total"] == "63.59"
    page = client.get(f"/api/v1/quotes/{ref}/print", headers=auth)
    assert page.status_code == 200 and ref in page.text and "$63.59" in page.text
    r = client.post(f"/api/v1/quotes/{ref}/accept", headers=auth)
    assert r.status_code == 200 and r.json()["status"] == "ACCEPTED" and r.json()["port"] == 1
    r = client.post(f"/api/v1/quotes/{ref}/accept", headers=auth)
    assert r.status_code == 409


def test_taken_port_refused_with_next_free(
    client: TestClient, auth: dict[str, str], world: QualificationWorld
) -> None:
    refs = [
        client.post(
            "/api/v1/quotes",
            headers=auth,
            json={"premises_id": world.premises["serviceable"], "plan": "BASIC"},
        ).json()["reference"]
        for _ in range(2)
    ]
    client.post(f"/api/v1/quotes/{refs[0]}/accept", headers=auth, json={"port": 3})
    r = client.post(f"/api/v1/quotes/{refs[1]}/accept", headers=auth, json={"port": 3})
    assert r.status_code == 409 and r.json()["next_free_port"] == 1


def test_quote_refused_for_unserviceable(
    client: TestClient, auth: dict[str, str], world: QualificationWorld
) -> None:
    r = client.post(
        "/api/v1/quotes",
        headers=auth,
        json={"premises_id": world.premises["no_coverage"], "plan": "BASIC"},
    )
    assert r.status_code == 409
    assert r.json()["waitlist_offered"] is True and r.json()["reasons"] == ["NO_COVERAGE"]


def test_waitlist_api(
    fd: Fiberdesk, client: TestClient, auth: dict[str, str], world: QualificationWorld
) -> None:
    r = client.post(
        "/api/v1/waitlist",
        headers=auth,
        json={"premises_id": world.premises["nap_full"], "name": "Ann", "email": "ann@example.com"},
    )
    assert r.status_code == 201 and r.json()["reason"] == "NAP_FULL"
    assert r.json()["nap_code"] == "NAP-FULL"
    report = client.get("/api/v1/waitlist/report", headers=auth)
    assert report.status_code == 403, "a CSR may not read reports"
    sup = {"Authorization": f"Bearer {make_token(fd, Role.SUPERVISOR)}"}
    assert client.get("/api/v1/waitlist/report", headers=sup).json()["total"] == 1


def test_public_availability_page(fd: Fiberdesk, world: QualificationWorld) -> None:
    fd.settings.public_rate_limit_per_minute = 5
    with TestClient(create_app(fd)) as client:
        page = client.get("/availability")
        assert page.status_code == 200 and "Check availability" in page.text
        page = client.get("/availability", params={"address": "100 Test Rd 21204"})
        assert "Serviceable" in page.text and "Gigabit" in page.text
        assert "NAP-A" not in page.text, "the public page does not show plant details"
        page = client.get("/availability", params={"address": "   "})
        assert page.status_code == 422 and "empty" in page.text
        page = client.get("/availability", params={"premises": world.premises["no_coverage"]})
        assert "Join the waitlist" in page.text
        token = page.text.split('name="token" value="')[1].split('"')[0]
        r = client.post(
            "/availability/waitlist",
            data={
                "premises_id": world.premises["no_coverage"],
                "token": token,
                "name": "Zoe",
                "email": "zoe@example.com",
            },
        )
        assert r.status_code == 200 and "Thank you, Zoe" in r.text
        sixth = client.get("/availability")
        assert sixth.status_code == 429, "five requests a minute"
        assert sixth.headers["Retry-After"]
    fd.settings.public_rate_limit_per_minute = 30
    with TestClient(create_app(fd)) as client:
        forged = client.post(
            "/availability/waitlist",
            data={
                "premises_id": world.premises["no_coverage"],
                "token": "1.abc",
                "name": "Mal",
                "email": "mal@example.com",
            },
        )
        assert forged.status_code == 400 and "expired" in forged.text
