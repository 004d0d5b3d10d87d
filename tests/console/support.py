"""Signing in to the console from a TestClient, for the console's page tests; the
``client`` fixture (import it into a test module), reading a field's error off a page, and
reading rows back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.users import SYSTEM_ACTOR, Role
from fiberdesk.services import auth
from fiberdesk.web.app import create_app

T = TypeVar("T")

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def make_user(fd: Fiberdesk, role: Role, username: str | None = None) -> str:
    username = username or f"{role.value}user"
    with fd.uow() as uow:
        auth.create_user(
            uow,
            actor=SYSTEM_ACTOR,
            username=username,
            full_name=f"Test {role.label}",
            role=role,
            password=PASSWORD,
        )
    return username


def sign_in(
    client: TestClient, username: str, password: str = PASSWORD, page: str = "/console"
) -> str:
    """Sign ``client`` in through the sign-in form; returns the session's CSRF token as
    ``page`` (any console page the user may open) shows it."""
    form = client.get("/login")
    token = _FORM_TOKEN.search(form.text)
    assert token, "the sign-in page has no form token"
    done = client.post(
        "/login",
        data={"username": username, "password": password, "form_token": token.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return csrf_of(client.get(page).text)


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


@pytest.fixture
def client(fd: Fiberdesk) -> Iterator[TestClient]:
    with TestClient(create_app(fd), base_url="http://console.test") as c:
        yield c


def sign_in_as(
    fd: Fiberdesk, client: TestClient, role: Role, username: str, page: str = "/console"
) -> str:
    """A new user of ``role`` signed in on ``client``; the CSRF token (see ``sign_in``)."""
    make_user(fd, role, username)
    return sign_in(client, username, page=page)


def error_of(html: str, field: str) -> str:
    """The error shown next to ``field`` (its ``e-`` block, anywhere on the page)."""
    found = re.search(rf'<div class="error" id="e-{field}" role="alert">([^<]*)</div>', html)
    assert found, f"no error shown next to {field}"
    return found.group(1)


def error_beside(html: str, name: str) -> str:
    """The error shown beside the field ``name`` (it must sit in the field's own block)."""
    start = html.find(f'name="{name}"')
    assert start >= 0, f"no field {name} on the page"
    block = html[start : start + 3000]
    found = re.search(rf'class="error" id="e-{re.escape(name)}" role="alert">([^<]+)<', block)
    assert found, f"no error beside {name}"
    return found.group(1)


def detached(fd: Fiberdesk, model: type[T], key: Any) -> T:
    """The row of ``model`` with primary key ``key``, read in its own unit of work."""
    with fd.uow(write=False) as uow:
        row = uow.session.get(model, key)
        assert row is not None
        uow.session.expunge(row)
        return row


def count_rows(fd: Fiberdesk, model: type, **where: object) -> int:
    """How many rows of ``model`` have the given column values."""
    with fd.uow(write=False) as uow:
        query = sa.select(sa.func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return uow.session.scalar(query) or 0
