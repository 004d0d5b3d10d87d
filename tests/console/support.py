"""Signing in to the console from a TestClient, for the console's page tests."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.users import SYSTEM_ACTOR, Role
from fiberdesk.services import auth

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
