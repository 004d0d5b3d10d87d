"""The REST API through TestClient: auth, problem responses, customers and NAPs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.network import NapPortStatus
from fiberdesk.domain.users import Role
from fiberdesk.web.app import create_app
from tests.factories import make_customer, make_network, make_token

PROBLEM = "application/problem+json"


@pytest.fixture
def client(fd: Fiberdesk) -> Iterator[TestClient]:
    with TestClient(create_app(fd)) as c:
        yield c


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_health_needs_no_token(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert client.get("/openapi.json").json()["info"]["title"] == "fiberdesk"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer fdk_000000000000_abc"},
    ],
)
def test_missing_or_wrong_token_is_401_problem(client: TestClient, headers: dict[str, str]) -> None:
    r = client.get("/api/v1/customers", headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized" and body["detail"]


def test_customers_list_filter_paginate_get(fd: Fiberdesk, client: TestClient) -> None:
    token = make_token(fd, Role.CSR)
    net = make_network(fd)
    ids = [
        make_customer(
            fd,
            seq=i + 1,
            name=name,
            status=status,
            nap_id=net.nap_ids[0],
            port=i + 1,
            plan_id=net.plan_ids["PLUS"],
        )
        for i, (name, status) in enumerate(
            [
                ("Alice Park", ServiceStatus.ACTIVE),
                ("Bob Stone", ServiceStatus.ACTIVE),
                ("Cara Park", ServiceStatus.PENDING),
            ]
        )
    ]
    r = client.get("/api/v1/customers", headers=_auth(token))
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 3 and [c["id"] for c in body["items"]] == ids[::-1]

    r = client.get("/api/v1/customers?status=ACTIVE&name=park", headers=_auth(token))
    assert [c["name"] for c in r.json()["items"]] == ["Alice Park"]

    r = client.get("/api/v1/customers?per_page=2&page=2", headers=_auth(token))
    assert r.json()["pages"] == 2 and [c["id"] for c in r.json()["items"]] == [ids[0]]

    r = client.get(f"/api/v1/customers/{ids[0]}", headers=_auth(token))
    one = r.json()
    assert (one["account_number"], one["nap_code"], one["plan_code"], one["status_label"]) == (
        "0000000018",
        "NAP-1",
        "PLUS",
        "In Service",
    )


def test_unknown_customer_404(fd: Fiberdesk, client: TestClient) -> None:
    token = make_token(fd)
    r = client.get("/api/v1/customers/424242", headers=_auth(token))
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    assert r.json()["detail"] == "no customer 424242"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=BOGUS", "status"),
        ("per_page=0", "per_page"),
        ("per_page=1000", "per_page"),
        ("page=-1", "page"),
        ("nap_id=abc", "nap_id"),
    ],
)
def test_bad_query_parameters_422_name_the_field(
    fd: Fiberdesk, client: TestClient, query: str, field: str
) -> None:
    token = make_token(fd)
    r = client.get(f"/api/v1/customers?{query}", headers=_auth(token))
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert [p["field"] for p in r.json()["invalid_params"]] == [field]
    assert field in r.json()["detail"]


def test_customer_id_not_a_number_is_422(fd: Fiberdesk, client: TestClient) -> None:
    token = make_token(fd)
    r = client.get("/api/v1/customers/abc", headers=_auth(token))
    assert r.status_code == 422 and r.json()["invalid_params"][0]["field"] == "customer_id"


def test_naps_with_port_usage(fd: Fiberdesk, client: TestClient) -> None:
    token = make_token(fd, Role.NOC)
    net = make_network(fd, naps=2, ports=8)
    make_customer(fd, seq=1, name="A", status=ServiceStatus.ACTIVE, nap_id=net.nap_ids[0], port=1)
    with fd.uow() as uow:
        from fiberdesk.db.models import NapPort

        for port in uow.session.query(NapPort).filter_by(nap_id=net.nap_ids[1]):
            port.status = NapPortStatus.IN_USE
        uow.commit()
    r = client.get("/api/v1/network/naps", headers=_auth(token))
    assert r.status_code == 200
    naps = {n["code"]: n for n in r.json()["items"]}
    assert naps["NAP-2"]["usage"] == {"FREE": 0, "RESERVED": 0, "IN_USE": 8, "FAULTY": 0}
    assert naps["NAP-1"]["usage"]["FREE"] == 8
    assert naps["NAP-1"]["pon_port"] == "OLT-1 1/1"
    r = client.get("/api/v1/network/naps?with_free_ports=true", headers=_auth(token))
    assert [n["code"] for n in r.json()["items"]] == ["NAP-1"]
    r = client.get(f"/api/v1/network/naps/{net.nap_ids[0]}", headers=_auth(token))
    assert [p["number"] for p in r.json()["ports"]] == list(range(1, 9))
    assert client.get("/api/v1/network/naps/999", headers=_auth(token)).status_code == 404


def test_role_without_network_read_is_403(fd: Fiberdesk, client: TestClient) -> None:
    token = make_token(fd, Role.BILLING)
    r = client.get("/api/v1/network/naps", headers=_auth(token))
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
