"""Billing, tier changes, holds, relocation and disconnection through the API and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.cli import app as cli
from fiberdesk.cli.common import reset_app
from fiberdesk.config import get_settings
from fiberdesk.domain.users import Role
from fiberdesk.web.app import create_app
from tests.factories import ActiveCustomers, make_active_customers, make_token, open_billing


@pytest.fixture
def active(fd: Fiberdesk) -> ActiveCustomers:
    return make_active_customers(fd, per_nap=2, naps=("NAP-A",))


@pytest.fixture
def client(fd: Fiberdesk) -> Iterator[TestClient]:
    with TestClient(create_app(fd)) as c:
        yield c


def test_api(fd: Fiberdesk, client: TestClient, active: ActiveCustomers) -> None:
    cid = active.customer_ids[0]
    today = date.today()
    open_billing(fd, cid, on=today, card="4242424242424242", contract_months=12)
    billing_clerk = {"Authorization": f"Bearer {make_token(fd, Role.BILLING)}"}
    csr = {"Authorization": f"Bearer {make_token(fd, Role.CSR)}"}
    r = client.post("/api/v1/billing/runs", headers=billing_clerk, json={})
    assert r.status_code == 200 and r.json()["invoices_issued"] == 1
    assert (
        client.post("/api/v1/billing/runs", headers=billing_clerk, json={}).json()[
            "invoices_issued"
        ]
        == 0
    )
    acct = client.get(f"/api/v1/billing/customers/{cid}", headers=billing_clerk).json()
    assert acct["balance"] == "68.89" and acct["open_invoices"] == 1
    inv = client.get(f"/api/v1/billing/customers/{cid}/invoices", headers=billing_clerk).json()
    page = client.get(f"/api/v1/billing/invoices/{inv[0]['id']}/print", headers=billing_clerk)
    assert page.status_code == 200 and "$68.89" in page.text
    url = f"/api/v1/billing/customers/{cid}/payments"
    assert client.post(url, headers=billing_clerk, json={"amount": "10.00"}).status_code == 422
    for bad in ("0", "-1.00", "1.001"):
        r = client.post(
            url, headers={**billing_clerk, "Idempotency-Key": f"k{bad}"}, json={"amount": bad}
        )
        assert r.status_code == 422, bad
    r = client.post(
        url, headers={**billing_clerk, "Idempotency-Key": "pay-1"}, json={"amount": "68.89"}
    )
    assert r.status_code == 201 and r.json()["balance"] == "0.00"
    # a CSR changes the tier: preview, then confirm with the token
    p = client.post(
        f"/api/v1/customers/{cid}/tier/preview", headers=csr, json={"plan": "GIGABIT"}
    ).json()
    assert p["direction"] == "UPGRADE"
    r = client.post(
        f"/api/v1/customers/{cid}/tier", headers=csr, json={"plan": "GIGABIT", "confirm": "x" * 12}
    )
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/customers/{cid}/tier",
        headers=csr,
        json={"plan": "GIGABIT", "confirm": p["token"]},
    )
    assert r.status_code == 200, r.text
    # hold too long is refused; a good hold and resume work
    r = client.post(
        f"/api/v1/customers/{cid}/hold",
        headers=csr,
        json={"ends_on": (today + timedelta(days=200)).isoformat()},
    )
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/customers/{cid}/hold",
        headers=csr,
        json={"ends_on": (today + timedelta(days=14)).isoformat()},
    )
    assert r.status_code == 201
    assert client.post(f"/api/v1/customers/{cid}/resume", headers=csr, json={}).status_code == 204
    # relocation to an address without coverage is refused
    r = client.post(
        f"/api/v1/customers/{cid}/relocation",
        headers=csr,
        json={"new_premises_id": active.world.premises["no_coverage"]},
    )
    assert r.status_code == 409 and r.json()["reasons"] == ["NO_COVERAGE"]
    # disconnect: preview, confirm, and a second disconnect refused
    bill = client.post(f"/api/v1/customers/{cid}/disconnect/preview", headers=csr, json={}).json()
    assert any("Early termination" in line["description"] for line in bill["lines"])
    r = client.post(
        f"/api/v1/customers/{cid}/disconnect",
        headers=csr,
        json={"churn_reason": "moving_out_of_area", "confirm": bill["token"]},
    )
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/customers/{cid}/disconnect/preview", headers=csr, json={})
    assert r.status_code == 409 and "already closed" in r.json()["detail"]


@pytest.fixture
def cli_db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("FIBERDESK_DATABASE_URL", database_url)
    get_settings.cache_clear()
    reset_app()
    yield database_url
    reset_app()
    get_settings.cache_clear()


def test_cli(fd: Fiberdesk, cli_db: str, active: ActiveCustomers) -> None:
    runner = CliRunner()

    def ok(*args: str) -> str:
        result = runner.invoke(cli, list(args))
        assert result.exit_code == 0, (result.output, result.exception)
        return result.output

    cid = str(active.customer_ids[1])
    open_billing(fd, int(cid), on=date.today(), card="4242424242424242")
    assert json.loads(ok("billing", "run", "--json"))["invoices_issued"] == 1
    owed = json.loads(ok("billing", "account", cid, "--json"))["balance"]
    paid = json.loads(ok("billing", "pay", cid, "--amount", owed, "--key", "k1", "--json"))
    assert paid["balance"] == "0.00"
    p = json.loads(ok("change", "preview", cid, "--plan", "PREMIUM", "--json"))
    ok("change", "apply", cid, "--plan", "PREMIUM", "--confirm", p["token"])
    ok("suspend", cid, "--until", (date.today() + timedelta(days=10)).isoformat())
    ok("resume", cid)
    refused = runner.invoke(cli, ["disconnect", cid, "--reason", "price"], input="n\n")
    assert refused.exit_code != 0
    assert json.loads(ok("billing", "account", cid, "--json"))["standing"] == "CURRENT"
    out = json.loads(ok("disconnect", cid, "--reason", "price", "--yes", "--json"))
    assert out["customer_id"] == int(cid)
    bad = runner.invoke(cli, ["disconnect", cid, "--reason", "price", "--yes"])
    assert bad.exit_code != 0 and "already closed" in str(bad.exception)


def test_daily_cli_jobs(fd: Fiberdesk, cli_db: str, active: ActiveCustomers) -> None:
    runner = CliRunner()
    cid = active.customer_ids[0]
    open_billing(fd, cid, on=date.today())
    r = runner.invoke(
        cli, ["suspend", str(cid), "--until", (date.today() + timedelta(days=8)).isoformat()]
    )
    assert r.exit_code == 0, r.output
    early = runner.invoke(cli, ["billing", "holds-due", "--json"])
    assert early.exit_code == 0 and json.loads(early.output)["resumed"] == 0
    due = runner.invoke(
        cli,
        ["billing", "holds-due", "--json", "--on", (date.today() + timedelta(days=8)).isoformat()],
    )
    assert json.loads(due.output)["resumed"] == 1
    used = runner.invoke(cli, ["billing", "usage", "--json"])
    assert used.exit_code == 0, used.output
    assert json.loads(used.output)["collected"] == len(active.customer_ids)
