"""Console sign-in: sessions, CSRF, role areas and HTML errors (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import AuditEntry, ConsoleSession
from fiberdesk.domain.errors import Forbidden
from fiberdesk.domain.users import Role
from fiberdesk.web.app import create_app
from fiberdesk.web.console.auth import (
    COOKIE,
    BillingUser,
    CheckedForm,
    Staff,
    kept_fields,
    safe_next,
)
from fiberdesk.web.console.nav import AREAS, HOME, may_open, menu
from tests.console.support import csrf_of, make_user, sign_in

#: pages guarded like the real ones, so these tests do not depend on any one page
probe = APIRouter()


@probe.get("/console/probe/{area}", response_class=HTMLResponse)
def _probe(area: str, request: Request, user: Staff) -> HTMLResponse:
    if not may_open(user.actor.role, area):
        raise Forbidden(
            f"the {user.actor.role.label.lower()} role may not open {AREAS[area].label}"
        )
    return HTMLResponse(f'area {area} <input name="csrf_token" value="{user.csrf_token}">')


@probe.get("/console/probe-billing", response_class=HTMLResponse)
def _billing(user: BillingUser) -> HTMLResponse:
    return HTMLResponse(f"billing for {user.actor.name}")


@probe.post("/console/probe-post", response_class=HTMLResponse)
def _post(user: Staff, form: CheckedForm) -> HTMLResponse:
    return HTMLResponse(f"posted {form.get('note')}")


@pytest.fixture
def client(fd: Fiberdesk) -> Iterator[TestClient]:
    app = create_app(fd)
    app.include_router(probe)
    with TestClient(app, base_url="http://console.test") as c:
        yield c


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_a_page_without_a_session_sends_to_sign_in_and_back(
    fd: Fiberdesk, client: TestClient
) -> None:
    make_user(fd, Role.CSR, "casey")
    first = client.get("/console/probe/tickets?status=open", follow_redirects=False)
    assert first.status_code == 303
    assert _query(first.headers["location"])["next"] == "/console/probe/tickets?status=open"
    sign_in(client, "casey")
    assert client.cookies.get(COOKIE)
    page = client.get("/console")
    assert page.status_code == 200
    assert "Test Customer service rep" in page.text
    assert 'href="/console/tickets"' in page.text  # the CSR's menu
    assert 'href="/console/admin"' not in page.text


def test_sign_in_returns_to_next_and_refuses_other_sites(fd: Fiberdesk, client: TestClient) -> None:
    make_user(fd, Role.NOC, "nora")
    form = client.get("/login?next=/console/probe/network")
    assert 'value="/console/probe/network"' in form.text
    evil = client.get("/login?next=//evil.example/x")
    assert "evil.example" not in evil.text
    assert safe_next("https://evil.example") is None
    assert safe_next("/\\evil") is None
    assert safe_next("/console/x?y=1") == "/console/x?y=1"


def test_wrong_password_says_so_once_and_opens_no_session(
    fd: Fiberdesk, client: TestClient
) -> None:
    make_user(fd, Role.CSR, "casey")
    token = client.get("/login").text.split('name="form_token" value="')[1].split('"')[0]
    bad = client.post(
        "/login", data={"username": "casey", "password": "nope-nope-nope", "form_token": token}
    )
    assert bad.status_code == 401
    assert "wrong username or password" in bad.text.lower()
    assert 'value="casey"' in bad.text  # the username is kept
    forged = client.post(
        "/login", data={"username": "casey", "password": "x", "form_token": "1.forged"}
    )
    assert forged.status_code == 400
    with fd.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(ConsoleSession)) == 0


def test_each_role_lands_on_its_home_and_is_refused_other_areas(
    fd: Fiberdesk, client: TestClient
) -> None:
    make_user(fd, Role.TECHNICIAN, "tess")
    sign_in(client, "tess", page="/console/probe/field")
    home = client.get("/console", follow_redirects=False)
    assert home.headers["location"] == HOME[Role.TECHNICIAN]
    assert client.get("/console/probe/field").status_code == 200
    refused = client.get("/console/probe-billing")
    assert refused.status_code == 403
    assert "text/html" in refused.headers["content-type"]
    assert "may not open Billing" in refused.text
    assert [a.key for a in menu(Role.TECHNICIAN)] == ["field"]


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.SELF_SERVICE])
def test_the_menu_lists_exactly_the_areas_a_role_may_open(role: Role) -> None:
    shown = {a.key for a in menu(role)}
    allowed = {k for k in AREAS if may_open(role, k) and AREAS[k].in_menu}
    assert shown == allowed
    assert may_open(role, "admin") == (role is Role.ADMIN or role is Role.SUPERVISOR)


def test_sign_out_ends_the_session_server_side(fd: Fiberdesk, client: TestClient) -> None:
    make_user(fd, Role.CSR, "casey")
    csrf = sign_in(client, "casey")
    cookie = client.cookies.get(COOKIE)
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set(COOKIE, cookie or "")  # a stolen copy of the cookie is dead too
    again = client.get("/console", follow_redirects=False)
    assert again.status_code == 303
    assert "signed out" in _query(again.headers["location"])["reason"]
    with fd.uow(write=False) as uow:
        actions = uow.session.scalars(
            sa.select(AuditEntry.action).where(AuditEntry.entity_type == "console_session")
        ).all()
    assert sorted(actions) == ["session.sign_in", "session.sign_out"]


def test_an_idle_session_expires(fd: Fiberdesk, client: TestClient) -> None:
    make_user(fd, Role.CSR, "casey")
    sign_in(client, "casey")
    with fd.uow() as uow:
        for row in uow.session.scalars(sa.select(ConsoleSession)):
            row.last_seen_at -= timedelta(minutes=fd.settings.session_idle_minutes + 1)
        uow.commit()
    expired = client.get("/console/probe/tickets", follow_redirects=False)
    assert expired.status_code == 303
    query = _query(expired.headers["location"])
    assert "expired" in query["reason"]
    assert query["next"] == "/console/probe/tickets"


def test_a_stale_csrf_token_keeps_the_typed_fields_but_not_secrets(
    fd: Fiberdesk, client: TestClient
) -> None:
    make_user(fd, Role.CSR, "casey")
    sign_in(client, "casey")
    ok = client.post(
        "/console/probe-post",
        data={"csrf_token": csrf_of(client.get("/console").text), "note": "hi"},
    )
    assert ok.text == "posted hi"
    sent = client.post(
        "/console/probe-post",
        data={"csrf_token": "stale", "note": "called about the bill", "card_number": "4242"},
        headers={"referer": "http://console.test/console/customers/7?tab=notes"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    back = _query(sent.headers["location"])["next"]
    assert back.startswith("/console/customers/7?tab=notes&")
    assert "note=called+about+the+bill" in back
    assert "4242" not in back
    assert client.get("/console").status_code == 200  # still signed in: nothing was done


def test_kept_fields_drop_secrets() -> None:
    from starlette.datastructures import FormData

    form = FormData([("name", "Ann"), ("password", "x"), ("csrf_token", "t"), ("ssn_last4", "1")])
    assert kept_fields(form) == {"name": "Ann"}


def test_api_errors_stay_problem_json(client: TestClient) -> None:
    answer = client.get("/api/v1/customers")
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
