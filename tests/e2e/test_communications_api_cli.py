"""Message preferences, the delivery log, dead letters and webhook endpoints through the API
and the CLI, bad input included (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.cli import app as cli
from fiberdesk.cli.common import reset_app
from fiberdesk.config import get_settings
from fiberdesk.db.models import (
    AuditEntry,
    Customer,
    MessagePreference,
    OutboxMessage,
    WebhookEndpoint,
)
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.errors import InvalidInput, NotFound
from fiberdesk.domain.users import Role
from fiberdesk.services import messages
from fiberdesk.web.app import create_app
from tests.factories import make_customer, make_token


@pytest.fixture
def client(fd: Fiberdesk) -> Iterator[TestClient]:
    with TestClient(create_app(fd)) as c:
        yield c


def _h(fd: Fiberdesk, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(fd, role)}"}


def _queue(fd: Fiberdesk, customer_id: int | None, kind: str, key: str, **values: str) -> int:
    """A message as a service queues it, with an outcome written as the worker would."""
    with fd.uow() as uow:
        customer = uow.session.get(Customer, customer_id) if customer_id else None
        m = messages.queue(
            uow.session, kind=kind, key=key, customer=customer,
            context={"customer_name": "Ada"}, recipient=None if customer else "x@example.com",
        )  # fmt: skip
        assert m is not None
        uow.flush()
        for name, value in values.items():
            setattr(m, name, value)
        uow.commit()
        return m.id


def _state(fd: Fiberdesk) -> tuple[list[tuple[int, str, str]], int, list[tuple[str, bool]]]:
    """Preferences, audit rows and endpoints: what a refused request must leave alone."""
    with fd.uow(write=False) as uow:
        s = uow.session
        prefs = s.execute(
            sa.select(MessagePreference.customer_id, MessagePreference.kind,
                      MessagePreference.channel).order_by(MessagePreference.id)
        ).all()  # fmt: skip
        audits = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) or 0
        hooks = s.execute(
            sa.select(WebhookEndpoint.url, WebhookEndpoint.active).order_by(WebhookEndpoint.id)
        ).all()
    return [tuple(p) for p in prefs], audits, [tuple(h) for h in hooks]  # type: ignore[misc]


def test_preferences_over_the_api(fd: Fiberdesk, client: TestClient) -> None:
    cid = make_customer(fd, seq=1, name="Ada Lovelace", status=ServiceStatus.ACTIVE)
    csr, tech = _h(fd, Role.CSR), _h(fd, Role.TECHNICIAN)
    url = f"/api/v1/customers/{cid}/message-preferences"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=tech).json() == {"customer_id": cid, "preferences": {}}
    r = client.put(f"{url}/welcome", headers=tech, json={"channel": "sms"})
    assert r.status_code == 403  # a technician may read, not change, a customer
    r = client.put(f"{url}/installation_confirmation", headers=csr, json={"channel": "SMS"})
    assert r.status_code == 200, r.text
    assert r.json()["preferences"] == {"installation_confirmation": "sms"}
    r = client.post(f"{url}/opt-out", headers=csr, json={})
    assert r.json()["preferences"] == {"installation_confirmation": "sms", "*": "none"}
    r = client.post(f"{url}/opt-out", headers=csr, json={"kind": "satisfaction_survey"})
    assert r.json()["preferences"]["satisfaction_survey"] == "none"
    r = client.delete(f"{url}/*", headers=csr)
    assert r.status_code == 200
    assert r.json()["preferences"] == {
        "installation_confirmation": "sms",
        "satisfaction_survey": "none",
    }
    assert client.get(url, headers=csr).json()["preferences"] == r.json()["preferences"]

    before = _state(fd)
    bad = [
        ("put", f"{url}/fax_cover", {"channel": "email"}, 422, "unknown message kind"),
        ("put", f"{url}/welcome", {"channel": "pigeon"}, 422, "unknown channel"),
        ("put", f"{url}/welcome", {}, 422, "channel"),
        ("put", f"{url}/outage_notification", {"channel": "none"}, 422, "essential"),
        ("post", f"{url}/opt-out", {"kind": "suspension_notice"}, 422, "essential"),
        ("post", f"{url}/opt-out", {"kind": "bogus"}, 422, "unknown message kind"),
        ("delete", f"{url}/bogus", None, 422, "unknown message kind"),
        ("delete", f"{url}/welcome", None, 404, "no preference for 'welcome'"),
        ("put", "/api/v1/customers/9999/message-preferences/welcome", {"channel": "email"},
         404, "no customer 9999"),
        ("get", "/api/v1/customers/9999/message-preferences", None, 404, "no customer 9999"),
        ("post", "/api/v1/customers/9999/message-preferences/opt-out", {}, 404, "no customer"),
    ]  # fmt: skip
    for method, path, body, status, detail in bad:
        kwargs = {"json": body} if body is not None else {}
        r = client.request(method.upper(), path, headers=csr, **kwargs)
        assert r.status_code == status, (method, path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert detail in r.json()["detail"], (path, r.json())
    assert _state(fd) == before
    with fd.uow(write=False) as uow:
        actions = uow.session.scalars(
            sa.select(AuditEntry.action).where(AuditEntry.action.like("message_preference.%"))
        ).all()
    assert sorted(actions) == ["message_preference.clear"] + ["message_preference.set"] * 3


def test_delivery_log_dead_letters_and_requeue_over_the_api(
    fd: Fiberdesk, client: TestClient
) -> None:
    cid = make_customer(fd, seq=2, name="Grace Hopper", status=ServiceStatus.ACTIVE)
    other = make_customer(fd, seq=3, name="Alan Turing", status=ServiceStatus.ACTIVE)
    sent = _queue(fd, cid, "welcome", "w2", status="sent")
    dead = _queue(fd, cid, "ticket_opened", "t2", status="failed", last_error="550 no mailbox")
    _queue(fd, other, "welcome", "w3")
    csr, noc, billing = _h(fd, Role.CSR), _h(fd, Role.NOC), _h(fd, Role.BILLING)
    log = client.get(f"/api/v1/customers/{cid}/messages", headers=noc).json()
    assert [(m["id"], m["kind"], m["status"]) for m in log] == [
        (dead, "ticket_opened", "failed"),
        (sent, "welcome", "sent"),
    ]
    assert log[0]["recipient"] == "c2@example.com" and log[0]["log"] == []
    assert (
        client.get(f"/api/v1/customers/{cid}/messages?limit=1", headers=noc).json()[0]["id"] == dead
    )
    assert client.get("/api/v1/customers/9999/messages", headers=noc).status_code == 404
    assert client.get(f"/api/v1/customers/{cid}/messages?limit=0", headers=noc).status_code == 422

    letters = client.get("/api/v1/outbox/dead-letters", headers=csr).json()
    assert [(m["id"], m["last_error"]) for m in letters] == [(dead, "550 no mailbox")]
    assert client.post(f"/api/v1/outbox/{dead}/requeue", headers=billing).status_code == 403
    for message_id, status, detail in ((sent, 409, "not a dead letter"),
                                       (9999, 404, "no outbox message 9999")):  # fmt: skip
        r = client.post(f"/api/v1/outbox/{message_id}/requeue", headers=csr)
        assert r.status_code == status and detail in r.json()["detail"]
    r = client.post(f"/api/v1/outbox/{dead}/requeue", headers=csr)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["attempts"]) == ("pending", 0)
    assert client.get("/api/v1/outbox/dead-letters", headers=csr).json() == []
    with fd.uow(write=False) as uow:
        audit = uow.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "outbox.retry"))
        assert audit is not None and audit.entity_id == str(dead)
        assert uow.session.get_one(OutboxMessage, dead).status == "pending"


def test_webhook_endpoints_over_the_api(fd: Fiberdesk, client: TestClient) -> None:
    admin, supervisor = _h(fd, Role.ADMIN), _h(fd, Role.SUPERVISOR)
    body = {"url": "https://hooks.example.com/fd", "events": "ticket_opened, ticket_resolved"}
    assert client.post("/api/v1/webhooks", headers=supervisor, json=body).status_code == 403
    r = client.post("/api/v1/webhooks", headers=admin, json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["events"] == ["ticket_opened", "ticket_resolved"] and created["active"]
    assert len(created["secret"]) == 48
    listed = client.get("/api/v1/webhooks", headers=admin).json()
    assert [e["id"] for e in listed] == [created["id"]] and "secret" not in listed[0]
    r = client.post(f"/api/v1/webhooks/{created['id']}/disable", headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False
    r = client.post(f"/api/v1/webhooks/{created['id']}/enable", headers=admin)
    assert r.json()["active"] is True
    before = _state(fd)
    refused = [
        ({"url": "ftp://hooks.example.com/x"}, "url"),
        ({"url": "https://user:pw@hooks.example.com/"}, "url"),
        ({"url": "https://hooks.example.com/", "events": " , "}, "kinds"),
        ({"url": "https://hooks.example.com/", "events": "a b"}, "kinds"),
    ]
    for payload, field in refused:
        r = client.post("/api/v1/webhooks", headers=admin, json=payload)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert client.post("/api/v1/webhooks/999/disable", headers=admin).status_code == 404
    assert client.get("/api/v1/webhooks", headers=supervisor).status_code == 403
    assert _state(fd) == before


# -- the command line -------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def cli_db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("FIBERDESK_DATABASE_URL", database_url)
    get_settings.cache_clear()
    reset_app()
    yield database_url
    reset_app()
    get_settings.cache_clear()


def _ok(*args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def _refused(*args: str) -> BaseException:
    result = runner.invoke(cli, list(args))
    assert result.exit_code != 0, (args, result.output)
    assert result.exception is not None
    return result.exception


@pytest.mark.usefixtures("cli_db")
def test_messages_from_the_command_line(fd: Fiberdesk) -> None:
    cid = make_customer(fd, seq=4, name="Edsger Dijkstra", status=ServiceStatus.ACTIVE)
    c = str(cid)
    assert json.loads(_ok("messages", "prefs", "show", c, "--json"))["preferences"] == {}
    assert "no preferences" in _ok("messages", "prefs", "show", c)
    out = json.loads(_ok("messages", "prefs", "set", c, "welcome", "sms", "--json"))
    assert out == {"customer_id": cid, "preferences": {"welcome": "sms"}}
    out = json.loads(_ok("messages", "prefs", "opt-out", c, "--json"))
    assert out["preferences"] == {"welcome": "sms", "*": "none"}
    assert "welcome" in _ok("messages", "prefs", "show", c)
    out = json.loads(_ok("messages", "prefs", "clear", c, "welcome", "--json"))
    assert out["preferences"] == {"*": "none"}
    before = _state(fd)
    for args, error, text in (
        (("set", c, "fax_cover", "email"), InvalidInput, "unknown message kind"),
        (("set", c, "welcome", "pigeon"), InvalidInput, "unknown channel"),
        (("opt-out", c, "--kind", "restoration_notice"), InvalidInput, "essential"),
        (("clear", c, "bogus"), InvalidInput, "unknown message kind"),
        (("set", "9999", "welcome", "email"), NotFound, "no customer 9999"),
        (("show", "9999"), NotFound, "no customer 9999"),
    ):
        exc = _refused("messages", "prefs", *args)
        assert isinstance(exc, error) and text in str(exc), (args, exc)
    assert _state(fd) == before

    dead = _queue(fd, cid, "welcome", "d4", status="failed", last_error="550 refused")
    log = json.loads(_ok("messages", "log", c, "--json"))
    assert [(m["id"], m["status"]) for m in log] == [(dead, "failed")]
    assert "550 refused" in _ok("messages", "dead")
    assert [m["id"] for m in json.loads(_ok("messages", "dead", "--json"))] == [dead]
    out = json.loads(_ok("messages", "requeue", str(dead), "--json"))
    assert (out["status"], out["attempts"]) == ("pending", 0)
    assert json.loads(_ok("messages", "dead", "--json")) == []
    exc = _refused("messages", "requeue", str(dead))
    assert "not a dead letter" in str(exc)
    assert isinstance(_refused("messages", "log", "9999"), NotFound)


@pytest.mark.usefixtures("cli_db")
def test_webhooks_from_the_command_line(fd: Fiberdesk) -> None:
    text = _ok("webhook", "add", "https://hooks.example.com/a", "--events", "welcome")
    assert "signing secret (shown once)" in text
    created = json.loads(_ok("webhook", "add", "https://hooks.example.com/b", "--json"))
    assert created["events"] == ["*"] and len(created["secret"]) == 48
    listed = json.loads(_ok("webhook", "list", "--json"))
    assert [(e["url"], e["events"]) for e in listed] == [
        ("https://hooks.example.com/a", ["welcome"]),
        ("https://hooks.example.com/b", ["*"]),
    ]
    assert all("secret" not in e for e in listed)
    assert "disabled" in _ok("webhook", "disable", str(created["id"]))
    assert json.loads(_ok("webhook", "list", "--json"))[1]["active"] is False
    assert json.loads(_ok("webhook", "enable", str(created["id"]), "--json"))["active"] is True
    assert "hooks.example.com/a" in _ok("webhook", "list")
    before = _state(fd)
    assert isinstance(_refused("webhook", "add", "file:///etc/passwd"), InvalidInput)
    assert isinstance(_refused("webhook", "disable", "999"), NotFound)
    assert _state(fd) == before
    # a subscribed endpoint is what the services' messages now reach
    with fd.uow() as uow:
        messages.queue(uow.session, kind="welcome", key="cli", customer=None, context={},
                       recipient="x@example.com")  # fmt: skip
        uow.commit()
    with fd.uow(write=False) as uow:
        hooks = uow.session.scalars(
            sa.select(OutboxMessage.recipient).where(OutboxMessage.channel == "webhook")
        ).all()
    assert sorted(hooks) == sorted(str(e["id"]) for e in listed)
