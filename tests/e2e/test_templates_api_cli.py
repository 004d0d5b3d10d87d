"""Message templates through the API (catalog, previews) and the CLI, and the messages the
services really queue rendered with the bundled templates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fiberdesk.bootstrap import Fiberdesk, build
from fiberdesk.cli.common import reset_app
from fiberdesk.cli.templates import template_app
from fiberdesk.config import Settings, get_settings
from fiberdesk.db.models import OutboxMessage
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.users import Role
from fiberdesk.messages import KINDS, Branding, TemplateError, default_templates
from fiberdesk.web.api.templates import router
from fiberdesk.web.app import create_app
from tests.factories import make_active_customers, make_token, open_billing

BRANDING = {
    "company_name": "Patapsco Light & Fiber",
    "support_phone": "410-555-0177",
    "support_email": "care@patapsco.example.com",
}


@pytest.fixture
def branded(database_url: str) -> Iterator[Fiberdesk]:
    app = build(
        Settings(
            database_url=database_url,
            secret_key="test-secret-key",
            company_name=BRANDING["company_name"],
            support_phone=BRANDING["support_phone"],
            support_email=BRANDING["support_email"],
        )
    )
    yield app
    app.close()


def _app(fd: Fiberdesk) -> FastAPI:
    app = create_app(fd)
    if not any(getattr(r, "path", "") == "/api/v1/templates" for r in app.routes):
        app.include_router(router)  # until the lead wires the router into create_app
    return app


@pytest.fixture
def client(branded: Fiberdesk) -> Iterator[TestClient]:
    with TestClient(_app(branded)) as c:
        yield c


def test_catalog_and_previews_over_the_api(branded: Fiberdesk, client: TestClient) -> None:
    assert client.get("/api/v1/templates").status_code == 401
    auth = {"Authorization": f"Bearer {make_token(branded, Role.CSR)}"}
    catalog = client.get("/api/v1/templates", headers=auth).json()
    assert [k["kind"] for k in catalog] == list(KINDS)
    by_kind = {k["kind"]: k for k in catalog}
    assert by_kind["outage_notification"]["essential"] is True
    assert by_kind["quote"]["essential"] is False
    fields = {f["name"]: f for f in by_kind["installation_confirmation"]["fields"]}
    assert fields["time_window"]["required"] and not fields["account_number"]["required"]

    r = client.get("/api/v1/templates/installation_confirmation/preview", headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["subject"].startswith("Booked: your fiber installation")
    assert "410-555-0177" in body["text"] and "Patapsco Light & Fiber" in body["text"]
    assert "Patapsco Light &amp; Fiber" in body["html"]

    page = client.get("/api/v1/templates/outage_notification/preview.html", headers=auth)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.lstrip().startswith("<!doctype html>") and "Towson 21286" in page.text

    missing = client.get("/api/v1/templates/fax_cover/preview", headers=auth)
    assert missing.status_code == 404 and "fax_cover" in missing.json()["detail"]
    assert client.get("/api/v1/templates/fax_cover/preview.html", headers=auth).status_code == 404


def test_what_the_services_queue_renders(branded: Fiberdesk, client: TestClient) -> None:
    """Real outbox rows (holds, disconnection, tickets) fit their templates' fields."""
    active = make_active_customers(branded, per_nap=1, naps=("NAP-A",))
    cid = active.customer_ids[0]
    open_billing(branded, cid, on=date.today(), card="4242424242424242", contract_months=12)
    csr = {"Authorization": f"Bearer {make_token(branded, Role.CSR)}"}
    ends = (date.today() + timedelta(days=14)).isoformat()
    post = client.post
    assert post(f"/api/v1/customers/{cid}/hold", headers=csr, json={"ends_on": ends}).is_success
    assert post(f"/api/v1/customers/{cid}/resume", headers=csr, json={}).is_success
    ticket = post("/api/v1/tickets", headers=csr, json={
        "customer_id": cid, "category": "SLOW_SPEED",
        "description": "<script>alert(1)</script> slow after dark"}).json()  # fmt: skip
    r = post(f"/api/v1/tickets/{ticket['id']}/resolve", headers=csr,
             json={"code": "ROUTER_RESTART", "text": "Restarted the router."})  # fmt: skip
    assert r.is_success, r.text
    bill = post(f"/api/v1/customers/{cid}/disconnect/preview", headers=csr, json={}).json()
    r = post(f"/api/v1/customers/{cid}/disconnect", headers=csr,
             json={"churn_reason": "price", "confirm": bill["token"]})  # fmt: skip
    assert r.is_success, r.text

    with branded.uow(write=False) as uow:
        rows = uow.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        queued = [(m.kind, dict(m.context)) for m in rows]
    kinds = {kind for kind, _ in queued}
    assert {"suspension_notice", "resume_notice", "ticket_opened", "ticket_resolved",
            "disconnection_confirmation"} <= kinds  # fmt: skip
    brand = Branding.from_settings(branded.settings)
    for kind, context in queued:
        message = default_templates().render(kind, context, brand)
        assert "Patapsco Light & Fiber" in message.text, kind
        assert "<script>" not in message.html, kind
    final = next(c for k, c in queued if k == "disconnection_confirmation")
    text = default_templates().render("disconnection_confirmation", final, brand).text
    assert all(line["description"] in text for line in final["final_bill_lines"])


# -- the command line -------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FIBERDESK_DATABASE_URL", database_url)
    for name, value in BRANDING.items():
        monkeypatch.setenv(f"FIBERDESK_{name.upper()}", value)
    get_settings.cache_clear()
    reset_app()
    yield
    reset_app()
    get_settings.cache_clear()


def _ok(*args: str) -> str:
    result = runner.invoke(template_app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


@pytest.mark.usefixtures("cli_env")
def test_list_and_preview_from_the_command_line() -> None:
    listed = json.loads(_ok("list", "--json"))
    assert [k["kind"] for k in listed] == list(KINDS)
    assert {k["kind"] for k in listed if k["essential"]} >= {"identity_code", "restoration_notice"}
    table = _ok("list")
    assert "disconnection_confirmation" in table and "survey_link" in table

    text = _ok("preview", "installation_confirmation")
    assert text.startswith("Subject: Booked: your fiber installation")
    assert "Patapsco Light & Fiber" in text and "410-555-0177" in text
    html = _ok("preview", "restoration_notice", "--html")
    assert html.startswith("<!doctype html>") and "Patapsco Light &amp; Fiber" in html
    as_json = json.loads(_ok("preview", "satisfaction_survey", "--json"))
    assert set(as_json) == {"kind", "subject", "text", "html"}
    assert "https://survey.example.com/" in as_json["text"]

    result = runner.invoke(template_app, ["preview", "fax_cover"])
    assert result.exit_code != 0 and isinstance(result.exception, InvalidInput)


@pytest.mark.usefixtures("cli_env")
def test_a_broken_template_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise TemplateError(
            "welcome: welcome/body.txt uses 'plan', which is not a field of welcome",
            kind="welcome",
            file="welcome/body.txt",
            field="plan",
        )

    monkeypatch.setattr("fiberdesk.cli.templates.default_templates", broken)
    result = runner.invoke(template_app, ["list"])
    assert result.exit_code == 1
    assert "broken template" in result.output and "welcome/body.txt" in result.output
