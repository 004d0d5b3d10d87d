"""Guided troubleshooting, flows and usage through the REST API (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.cli.common import reset_app
from fiberdesk.cli.troubleshooting import flow_app
from fiberdesk.config import get_settings
from fiberdesk.db.base import utcnow
from fiberdesk.domain.tickets import TicketCategory
from fiberdesk.domain.users import SYSTEM_ACTOR, Role
from fiberdesk.services import flows, tickets, usage
from fiberdesk.web.api.troubleshooting import router
from fiberdesk.web.app import create_app
from tests.factories import ActiveCustomers, make_active_customers, make_field_staff, make_token


@pytest.fixture
def client(fd: Fiberdesk) -> Iterator[TestClient]:
    app = create_app(fd)
    paths = {getattr(r, "path", "") for r in app.routes}
    if "/api/v1/troubleshooting/{session_id}" not in paths:  # until the lead wires it in
        app.include_router(router)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def active(fd: Fiberdesk) -> ActiveCustomers:
    make_field_staff(fd)
    return make_active_customers(fd)


def _h(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def _ticket(fd: Fiberdesk, customer_id: int) -> int:
    with fd.uow() as uow:
        return tickets.open_ticket(
            uow,
            actor=SYSTEM_ACTOR,
            customer_id=customer_id,
            category=TicketCategory.NO_INTERNET,
            description="no internet since this morning",
        ).id


def test_a_session_through_the_api(
    fd: Fiberdesk, client: TestClient, active: ActiveCustomers
) -> None:
    csr = _h(make_token(fd, Role.CSR))
    ticket_id = _ticket(fd, active.customer_ids[0])
    assert (
        client.post(
            f"/api/v1/tickets/{ticket_id}/troubleshooting", json={"flow": "no_internet"}
        ).status_code
        == 401
    )
    bad = client.post(
        f"/api/v1/tickets/{ticket_id}/troubleshooting", headers=csr, json={"flow": "No Internet!"}
    )
    assert bad.status_code == 422
    r = client.post(
        f"/api/v1/tickets/{ticket_id}/troubleshooting", headers=csr, json={"flow": "no_internet"}
    )
    assert r.status_code == 201, r.text
    session = r.json()
    sid = session["id"]
    assert session["prompt"]["node"] == "q_lights" and session["status"] == "ACTIVE"
    assert {c["check"] for c in session["checks"]} >= {"ont_los", "dying_gasp", "area_outage"}
    again = client.post(
        f"/api/v1/tickets/{ticket_id}/troubleshooting", headers=csr, json={"flow": "slow_internet"}
    )
    assert again.status_code == 409

    wrong = client.post(
        f"/api/v1/troubleshooting/{sid}/answer",
        headers=csr,
        json={"node": "q_lights", "option": "disco"},
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "option"
    assert wrong.headers["content-type"].startswith("application/problem+json")
    early = client.post(
        f"/api/v1/troubleshooting/{sid}/answer",
        headers=csr,
        json={"node": "q_final", "option": "yes"},
    )
    assert early.status_code == 422 and early.json()["field"] == "node"

    r = client.post(
        f"/api/v1/troubleshooting/{sid}/answer",
        headers=csr,
        json={"node": "q_lights", "option": "all_green"},
    )
    assert r.status_code == 200 and r.json()["prompt"]["node"] == "q_restart_works"
    assert r.json()["guidance"][0]["node"] == "a_restart"
    r = client.post(f"/api/v1/troubleshooting/{sid}/pause", headers=csr)
    assert r.status_code == 200 and r.json()["status"] == "PAUSED"
    paused = client.post(
        f"/api/v1/troubleshooting/{sid}/answer",
        headers=csr,
        json={"node": "q_restart_works", "option": "yes"},
    )
    assert paused.status_code == 409
    r = client.post(f"/api/v1/troubleshooting/{sid}/resume", headers=csr)
    assert r.status_code == 200 and r.json()["status"] == "ACTIVE"
    r = client.post(
        f"/api/v1/troubleshooting/{sid}/answer",
        headers=csr,
        json={"node": "q_restart_works", "option": "yes"},
    )
    outcome = r.json()["outcome"]
    assert outcome["kind"] == "RESOLVED" and outcome["first_contact_resolution"] is True
    r = client.get(f"/api/v1/troubleshooting/{sid}", headers=csr)
    assert r.status_code == 200 and r.json()["status"] == "COMPLETED"
    assert client.get("/api/v1/troubleshooting/999999", headers=csr).status_code == 404


def test_starting_is_idempotent(fd: Fiberdesk, client: TestClient, active: ActiveCustomers) -> None:
    csr = _h(make_token(fd, Role.CSR), **{"Idempotency-Key": "start-1"})
    ticket_id = _ticket(fd, active.customer_ids[1])
    url = f"/api/v1/tickets/{ticket_id}/troubleshooting"
    first = client.post(url, headers=csr, json={"flow": "slow_internet"})
    second = client.post(url, headers=csr, json={"flow": "slow_internet"})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers.get("Idempotent-Replayed") == "true"


def test_flows_through_the_api(fd: Fiberdesk, client: TestClient) -> None:
    csr = _h(make_token(fd, Role.CSR))
    supervisor = _h(make_token(fd, Role.SUPERVISOR))
    listed = client.get("/api/v1/flows", headers=csr).json()
    assert [f["code"] for f in listed] == ["no_internet", "slow_internet", "intermittent"]
    one = client.get("/api/v1/flows/slow_internet", headers=csr).json()
    assert one["version"] == 1 and one["definition"]["start"] == "c_plan"
    assert client.get("/api/v1/flows/tarot", headers=csr).status_code == 404

    edited = copy.deepcopy(flows.bundled_definition("slow_internet"))
    edited["name"] = "Slow internet (reviewed)"
    assert (
        client.put(
            "/api/v1/flows/slow_internet", headers=csr, json={"definition": edited}
        ).status_code
        == 403
    )
    broken = copy.deepcopy(edited)
    broken["nodes"][0]["check"] = "moon_phase"
    r = client.put("/api/v1/flows/slow_internet", headers=supervisor, json={"definition": broken})
    assert r.status_code == 422 and "node 'c_plan'" in r.json()["detail"]
    r = client.put("/api/v1/flows/slow_internet", headers=supervisor, json={"definition": edited})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["name"] == "Slow internet (reviewed)"
    old = client.get("/api/v1/flows/slow_internet?version=1", headers=csr).json()
    assert old["name"] == "Slow internet"


def test_usage_through_the_api(fd: Fiberdesk, client: TestClient, active: ActiveCustomers) -> None:
    csr = _h(make_token(fd, Role.CSR))
    usage.collect_daily_usage(fd.uow, network=fd.network, day=utcnow().date())
    customer = active.customer_ids[0]
    r = client.get(f"/api/v1/customers/{customer}/usage?days=7", headers=csr)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["days"]) == 1 and body["total_rx_bytes"] == body["days"][0]["rx_bytes"] > 0
    assert client.get(f"/api/v1/customers/{customer}/usage?days=0", headers=csr).status_code == 422
    assert client.get("/api/v1/customers/999999/usage", headers=csr).status_code == 404


def test_the_flow_cli(
    fd: Fiberdesk,
    database_url: str,
    active: ActiveCustomers,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("FIBERDESK_DATABASE_URL", database_url)
    get_settings.cache_clear()
    reset_app()
    runner = CliRunner()
    try:
        listed = runner.invoke(flow_app, ["list", "--json"])
        assert listed.exit_code == 0, listed.output
        codes = [f["code"] for f in json.loads(listed.output)]
        assert codes == ["no_internet", "slow_internet", "intermittent"]
        assert runner.invoke(flow_app, ["show", "intermittent"]).exit_code == 0
        ticket_id = _ticket(fd, active.customer_ids[0])
        started = runner.invoke(flow_app, ["start", str(ticket_id), "no_internet", "--json"])
        assert started.exit_code == 0, started.output
        sid = str(json.loads(started.output)["id"])
        shown = runner.invoke(flow_app, ["answer", sid, "q_lights", "lan_off"])
        assert shown.exit_code == 0 and "q_lan_works" in shown.output
        assert runner.invoke(flow_app, ["pause", sid]).exit_code == 0
        assert "PAUSED" in runner.invoke(flow_app, ["session", sid]).output
        assert runner.invoke(flow_app, ["resume", sid, "--json"]).exit_code == 0
        done = runner.invoke(flow_app, ["answer", sid, "q_lan_works", "yes", "--json"])
        assert json.loads(done.output)["outcome"]["code"] == "LAN_CABLE"
        edited = flows.bundled_definition("intermittent") | {"name": "Drop-outs"}
        (tmp_path / "flow.json").write_text(json.dumps(edited))
        saved = runner.invoke(flow_app, ["save", "intermittent", str(tmp_path / "flow.json")])
        assert saved.exit_code == 0 and "version 2" in saved.output
        (tmp_path / "bad.json").write_text("{not json")
        bad = runner.invoke(flow_app, ["save", "intermittent", str(tmp_path / "bad.json")])
        assert bad.exit_code != 0
    finally:
        reset_app()
        get_settings.cache_clear()
