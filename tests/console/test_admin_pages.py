"""Console administration pages: tiers, users, tokens, templates, flows (SQLite and
PostgreSQL), with bad input re-shown and roles refused."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import ApiToken, AuditEntry, Plan, TroubleshootingFlow, User
from fiberdesk.domain.users import Role
from fiberdesk.web.app import create_app
from tests.console.support import PASSWORD, csrf_of, make_user, sign_in


@pytest.fixture
def client(fd: Fiberdesk) -> Iterator[TestClient]:
    with TestClient(create_app(fd), base_url="http://console.test") as c:
        yield c


@pytest.fixture
def admin(fd: Fiberdesk, client: TestClient) -> str:
    return sign_in(client, make_user(fd, Role.ADMIN, "ada"))


def _price(fd: Fiberdesk, code: str) -> tuple[Decimal, bool]:
    with fd.uow(write=False) as uow:
        plan = uow.session.scalars(sa.select(Plan).where(Plan.code == code)).one()
        return plan.monthly_price, plan.active


def test_tiers_are_listed_and_an_admin_changes_a_price(
    fd: Fiberdesk, client: TestClient, admin: str
) -> None:
    listing = client.get("/console/admin/plans")
    assert listing.status_code == 200
    codes = re.findall(r'action="/console/admin/plans/([A-Z0-9_]+)"', listing.text)
    assert len(codes) == 6
    code = codes[0]
    before, _ = _price(fd, code)
    done = client.post(
        f"/console/admin/plans/{code}",
        data={"csrf_token": admin, "monthly_price": "61.50", "install_fee": "0", "active": "no"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert _price(fd, code) == (Decimal("61.50"), False)
    shown = client.get(done.headers["location"]).text
    assert f"Tier {code} saved." in shown and "Not sold" in shown
    with fd.uow(write=False) as uow:
        entry = uow.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "plan.update")
        ).one()
    assert entry.via == "console" and entry.actor == "ada" and entry.entity_id == code
    assert entry.before is not None
    assert Decimal(str(entry.before["monthly_price"])) == before


@pytest.mark.parametrize(
    ("price", "message"),
    [("lots", "enter an amount such as 79.99"), ("-5", "an amount from 0.00"), ("0", "zero")],
)
def test_a_bad_price_is_shown_next_to_its_field_and_changes_nothing(
    fd: Fiberdesk, client: TestClient, admin: str, price: str, message: str
) -> None:
    code = re.findall(r'action="/console/admin/plans/([A-Z0-9_]+)"', client.get(
        "/console/admin/plans").text)[1]  # fmt: skip
    before = _price(fd, code)
    bad = client.post(
        f"/console/admin/plans/{code}",
        data={"csrf_token": admin, "monthly_price": price, "install_fee": "10", "active": "yes"},
    )
    assert bad.status_code == 422
    assert f'id="price-e-{code}"' in bad.text and message in bad.text
    assert f'value="{price}"' in bad.text  # the input is kept
    assert _price(fd, code) == before


def test_users_are_created_deactivated_and_refused_on_bad_input(
    fd: Fiberdesk, client: TestClient, admin: str
) -> None:
    form = {
        "csrf_token": admin,
        "full_name": "Robin Field",
        "username": "Robin Field",
        "email": "robin@example.com",
        "role": "csr",
        "password": "long enough pass",
    }
    bad = client.post("/console/admin/users", data=form)
    assert bad.status_code == 422
    assert 'id="e-username"' in bad.text and 'value="Robin Field"' in bad.text
    assert "long enough pass" not in bad.text  # a password is never shown back
    made = client.post(
        "/console/admin/users", data={**form, "username": "robin"}, follow_redirects=False
    )
    assert made.status_code == 303
    off = client.post(
        "/console/admin/users/robin/active",
        data={"csrf_token": admin, "active": "no"},
        follow_redirects=False,
    )
    assert off.status_code == 303
    with fd.uow(write=False) as uow:
        robin = uow.session.scalars(sa.select(User).where(User.username == "robin")).one()
        assert robin.role is Role.CSR and robin.active is False
    self_off = client.post(
        "/console/admin/users/ada/active", data={"csrf_token": admin, "active": "no"}
    )
    assert self_off.status_code == 422 and "cannot deactivate yourself" in self_off.text
    # the deactivated user cannot sign in
    other = TestClient(client.app, base_url="http://console.test")
    token = other.get("/login").text.split('name="form_token" value="')[1].split('"')[0]
    refused = other.post(
        "/login", data={"username": "robin", "password": "long enough pass", "form_token": token}
    )
    assert refused.status_code == 401


def test_a_token_is_shown_once_and_can_be_revoked(
    fd: Fiberdesk, client: TestClient, admin: str
) -> None:
    make_user(fd, Role.CSR, "casey")
    issued = client.post(
        "/console/admin/tokens",
        data={"csrf_token": admin, "username": "casey", "name": "billing system"},
    )
    assert issued.status_code == 200
    secret = re.search(r'id="issued-secret" readonly value="(fdk_[^"]+)"', issued.text)
    assert secret
    api = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {secret.group(1)}"})
    assert api.status_code == 200
    listing = client.get("/console/admin/tokens").text
    assert secret.group(1) not in listing and "billing system" in listing
    with fd.uow(write=False) as uow:
        token_id = uow.session.scalars(sa.select(ApiToken.id)).one()
    client.post(f"/console/admin/tokens/{token_id}/revoke", data={"csrf_token": admin})
    again = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {secret.group(1)}"})
    assert again.status_code == 401
    bad = client.post(
        "/console/admin/tokens",
        data={"csrf_token": admin, "username": "casey", "name": "x", "expires_in_days": "soon"},
    )
    assert bad.status_code == 422 and 'id="e-expires_in_days"' in bad.text


def test_every_template_previews_with_sample_data(client: TestClient, admin: str) -> None:
    listing = client.get("/console/admin/templates")
    kinds = re.findall(r'href="/console/admin/templates/([a-z_]+)"', listing.text)
    assert len(kinds) >= 18
    for kind in kinds:
        shown = client.get(f"/console/admin/templates/{kind}")
        assert shown.status_code == 200, kind
        assert 'sandbox srcdoc="' in shown.text
    assert client.get("/console/admin/templates/nonsense").status_code == 404


def test_a_flow_is_saved_as_a_new_version_and_bad_json_is_kept(
    fd: Fiberdesk, client: TestClient, admin: str
) -> None:
    page = client.get("/console/admin/flows/no_internet")
    assert page.status_code == 200
    definition = json.loads(
        re.search(r"<textarea[^>]*>(.*?)</textarea>", page.text, re.S).group(1)  # type: ignore[union-attr]
        .replace("&#34;", '"').replace("&quot;", '"').replace("&#39;", "'").replace("&amp;", "&")
        .replace("&lt;", "<").replace("&gt;", ">")
    )  # fmt: skip
    definition["description"] = "Edited in the console"
    saved = client.post(
        "/console/admin/flows/no_internet",
        data={"csrf_token": admin, "definition": json.dumps(definition)},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "Edited in the console" in client.get(saved.headers["location"]).text
    broken = client.post(
        "/console/admin/flows/no_internet",
        data={"csrf_token": admin, "definition": '{"code": "no_internet",'},
    )
    assert broken.status_code == 422 and "not valid JSON" in broken.text
    assert "{&#34;code&#34;: &#34;no_internet&#34;," in broken.text
    with fd.uow(write=False) as uow:
        versions = uow.session.scalars(
            sa.select(TroubleshootingFlow.version).where(TroubleshootingFlow.code == "no_internet")
        ).all()
    assert max(versions) == 2


def test_roles_see_only_their_part_of_admin(fd: Fiberdesk, client: TestClient) -> None:
    sign_in(client, make_user(fd, Role.SUPERVISOR, "sam"))
    assert client.get("/console/admin/plans").status_code == 200
    assert client.get("/console/admin/users").status_code == 403
    assert client.get("/console/admin/tokens").status_code == 403
    csrf = csrf_of(client.get("/console/admin/plans").text)
    refused = client.post(
        "/console/admin/plans/X",
        data={"csrf_token": csrf, "monthly_price": "1", "install_fee": "1"},
    )
    assert refused.status_code == 403
    assert 'action="/console/admin/plans/' not in client.get("/console/admin/plans").text
    client.cookies.clear()
    sign_in(client, make_user(fd, Role.CSR, "casey"), PASSWORD)
    assert client.get("/console/admin/plans").status_code == 403
    assert client.get("/console/admin/flows").status_code == 403
