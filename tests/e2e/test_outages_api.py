"""Alarms, outages and maintenance through the REST API (TestClient) and the NOC CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.cli.common import reset_app
from fiberdesk.cli.noc import noc_app
from fiberdesk.config import get_settings
from fiberdesk.db.models import Nap
from fiberdesk.domain.errors import TransitionRefused
from fiberdesk.domain.users import Role
from fiberdesk.web.api.outages import router
from fiberdesk.web.app import create_app
from tests.factories import ActiveCustomers, make_active_customers, make_token


def _app(fd: Fiberdesk) -> FastAPI:
    app = create_app(fd)
    if not any(getattr(r, "path", "") == "/api/v1/outages" for r in app.routes):
        app.include_router(router)  # until the lead wires the router into create_app
    return app


@pytest.fixture
def client(fd: Fiberdesk) -> Iterator[TestClient]:
    with TestClient(_app(fd)) as c:
        yield c


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _splitter_of(fd: Fiberdesk, active: ActiveCustomers, nap: str) -> int:
    with fd.uow(write=False) as uow:
        return uow.session.get_one(Nap, active.world.naps[nap]).splitter_id


def _los(serial: str, at: datetime, **extra: object) -> dict[str, object]:
    return {"kind": "LOS", "serial": serial, "raised_at": at.isoformat(), **extra}


def test_alarms_to_outage_to_restoration_over_the_api(fd: Fiberdesk, client: TestClient) -> None:
    noc = _auth(make_token(fd, Role.NOC))
    csr = _auth(make_token(fd, Role.CSR))
    active = make_active_customers(fd, per_nap=3)
    on_a = [s for c, s in zip(active.customer_ids, active.serials, strict=True)
            if active.nap_of[c] == "NAP-A"]  # fmt: skip
    now = datetime.now(UTC).replace(microsecond=0)
    body = [_los(s, now, source="olt-9", id=f"e{i}") for i, s in enumerate(on_a)]
    body.append(_los("ZZZZ12345678", now))

    assert client.post("/api/v1/alarms", json=body, headers=csr).status_code == 403
    r = client.post("/api/v1/alarms", json=body, headers=noc)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["ingest"]["stored"] == 4 and result["ingest"]["unmatched"] == 1
    assert result["ingest"]["reasons"] == [[3, "no ONT with serial 'ZZZZ12345678'"]]
    (outage_id,) = result["correlation"]["opened"]
    assert result["correlation"]["notified"] == 3
    # a retry stores nothing and opens nothing
    again = client.post("/api/v1/alarms", json=body, headers=noc).json()
    assert again["ingest"]["duplicates"] == 4 and again["correlation"]["opened"] == []

    listed = client.get("/api/v1/outages", headers=csr).json()
    assert [o["id"] for o in listed] == [outage_id]
    assert listed[0]["scope"] == "SPLITTER" and listed[0]["scope_label"] == "LCP-NAP-A"
    assert listed[0]["status"] == "DETECTED" and listed[0]["area"] == "Towson 21204"
    assert [o["id"] for o in client.get("/api/v1/outages?zip=21204", headers=noc).json()] == [
        outage_id
    ]
    assert client.get("/api/v1/outages?zip=99999", headers=noc).json() == []
    assert client.get("/api/v1/outages?zip=abc", headers=noc).status_code == 422
    assert client.get("/api/v1/outages?status=NOPE", headers=noc).status_code == 422
    detail = client.get(f"/api/v1/outages/{outage_id}", headers=noc).json()
    assert len(detail["customers"]) == 3 and detail["alarms"] == 3
    assert client.get("/api/v1/outages/999", headers=noc).status_code == 404

    unmatched = client.get("/api/v1/alarms?unmatched=true", headers=noc).json()
    assert [a["unmatched_reason"] for a in unmatched] == ["no ONT with serial 'ZZZZ12345678'"]
    linked = client.get(f"/api/v1/alarms?outage_id={outage_id}", headers=noc).json()
    assert len(linked) == 3 and {a["source"] for a in linked} == {"olt-9"}

    eta = (now + timedelta(hours=3)).isoformat()
    r = client.post(f"/api/v1/outages/{outage_id}/confirm", json={"cause": "cut", "eta": eta},
                    headers=noc)  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "CONFIRMED"
    r = client.post(f"/api/v1/outages/{outage_id}/confirm", json={"cause": "x"}, headers=noc)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    r = client.post(f"/api/v1/outages/{outage_id}/resolve", json={"note": ""}, headers=noc)
    assert r.status_code == 422
    r = client.post(f"/api/v1/outages/{outage_id}/resolve", json={"note": "spliced"}, headers=noc)
    assert r.status_code == 200 and r.json()["status"] == "RESOLVED"
    assert r.json()["cause"] == "cut\nspliced"


@pytest.mark.parametrize(
    "alarm",
    [
        {"kind": "LOS", "serial": "HWTC00000001", "raised_at": "2025-03-10T18:00:00"},
        {"kind": "LOS", "serial": "HWTC00000001", "raised_at": "2025-03-10T18:00:00Z",
         "cleared_at": "2025-03-10T17:00:00Z"},
        {"kind": "", "serial": "HWTC00000001", "raised_at": "2025-03-10T18:00:00Z"},
        {"serial": "HWTC00000001", "raised_at": "2025-03-10T18:00:00Z"},
    ],
)  # fmt: skip
def test_malformed_alarms_are_refused(
    fd: Fiberdesk, client: TestClient, alarm: dict[str, str]
) -> None:
    noc = _auth(make_token(fd, Role.NOC))
    r = client.post("/api/v1/alarms", json=[alarm], headers=noc)
    assert r.status_code == 422
    assert client.get("/api/v1/alarms", headers=noc).json() == []


def test_poll_and_maintenance_over_the_api(fd: Fiberdesk, client: TestClient) -> None:
    noc = _auth(make_token(fd, Role.NOC))
    active = make_active_customers(fd, per_nap=3)
    splitter_xgs = _splitter_of(fd, active, "NAP-XGS")
    splitter_a = _splitter_of(fd, active, "NAP-A")
    now = datetime.now(UTC)
    window = {
        "title": "Cabinet swap",
        "scope": "SPLITTER",
        "scope_id": splitter_a,
        "starts_at": (now - timedelta(minutes=5)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
    }
    headers = noc | {"Idempotency-Key": "mw-1"}
    first = client.post("/api/v1/maintenance", json=window, headers=headers)
    assert first.status_code == 201, first.text
    retry = client.post("/api/v1/maintenance", json=window, headers=headers)
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert first.json()["customers"] == 4 and first.json()["scope_label"] == "LCP-NAP-A"
    assert [w["id"] for w in client.get("/api/v1/maintenance", headers=noc).json()] == [
        first.json()["id"]
    ]
    backwards = window | {"ends_at": (now - timedelta(hours=1)).isoformat()}
    assert client.post("/api/v1/maintenance", json=backwards, headers=noc).status_code == 422
    nowhere = window | {"scope_id": 99_999}
    assert client.post("/api/v1/maintenance", json=nowhere, headers=noc).status_code == 404

    fd.network.inject_fault("FIBER_CUT", splitter_id=splitter_xgs)  # type: ignore[attr-defined]
    fd.network.inject_fault("FIBER_CUT", splitter_id=splitter_a)  # type: ignore[attr-defined]
    r = client.post("/api/v1/network/poll", headers=noc)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["ingest"]["stored"] == 6 and result["ingest"]["suppressed"] == 3
    (outage_id,) = result["correlation"]["opened"]
    outage = client.get(f"/api/v1/outages/{outage_id}", headers=noc).json()["outage"]
    assert outage["scope_label"] == "LCP-NAP-XGS"


# -- the NOC command line -----------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def cli_fd(
    fd: Fiberdesk, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Fiberdesk]:
    monkeypatch.setenv("FIBERDESK_DATABASE_URL", database_url)
    get_settings.cache_clear()
    reset_app()
    yield fd
    reset_app()
    get_settings.cache_clear()


def _ok(*args: str) -> str:
    result = runner.invoke(noc_app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_the_noc_drill_from_the_command_line(cli_fd: Fiberdesk) -> None:
    active = make_active_customers(cli_fd, per_nap=3)
    splitter = _splitter_of(cli_fd, active, "NAP-A")
    fault = json.loads(_ok("fault", "inject", "--kind", "FIBER_CUT", "--splitter", str(splitter),
                           "--json"))  # fmt: skip
    assert [f["id"] for f in json.loads(_ok("fault", "list", "--json"))] == [fault["id"]]
    polled = json.loads(_ok("poll", "--json"))
    (outage_id,) = polled["correlation"]["opened"]
    summary = _ok("poll")  # for people; nothing new this time
    assert "3 received, 0 new, 3 known" in summary and "0 opened" in summary
    listed = json.loads(_ok("outages", "--status", "DETECTED", "--json"))
    assert [o["id"] for o in listed] == [outage_id]
    shown = _ok("outage", "show", str(outage_id))
    assert "LCP-NAP-A" in shown and "Towson 21204" in shown
    assert len(json.loads(_ok("outage", "show", str(outage_id), "--json"))["customers"]) == 3
    assert "unknown" not in _ok("alarms")

    _ok("fault", "clear", str(fault["id"]))
    assert json.loads(_ok("poll", "--json"))["correlation"]["resolved"] == [outage_id]
    result = runner.invoke(noc_app, ["outage", "resolve", str(outage_id), "--note", "again"])
    assert isinstance(result.exception, TransitionRefused)

    starts = datetime.now(UTC) + timedelta(days=1)
    ends = starts + timedelta(hours=2)
    nap = str(active.world.naps["NAP-XGS"])
    window = json.loads(_ok("maintenance", "add", "--title", "Swap", "--scope", "NAP", "--id",
                            nap, "--starts", starts.isoformat(), "--ends", ends.isoformat(),
                            "--json"))  # fmt: skip
    assert window["customers"] == 3
    assert [w["id"] for w in json.loads(_ok("maintenance", "list", "--json"))] == [window["id"]]
    with cli_fd.uow(write=False) as uow:
        sent = uow.session.scalar(
            sa.text("SELECT count(*) FROM outbox_messages WHERE kind = 'planned_maintenance'")
        )
    assert sent == 3
