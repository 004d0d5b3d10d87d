"""A new customer from address to ACTIVE through the CLI (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from fiberdesk.bootstrap import build
from fiberdesk.cli import app
from fiberdesk.cli.common import reset_app
from fiberdesk.config import Settings, get_settings
from tests.factories import make_field_staff, make_qualification_world

runner = CliRunner()


@pytest.fixture
def cli_db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("FIBERDESK_DATABASE_URL", database_url)
    get_settings.cache_clear()
    reset_app()
    yield database_url
    reset_app()
    get_settings.cache_clear()


def _run(*args: str, ok: bool = True) -> str:
    result = runner.invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result.output


def _json(*args: str) -> dict[str, object]:
    value = json.loads(_run(*args, "--json"))
    assert isinstance(value, dict)
    return value


def test_address_to_active_by_cli(cli_db: str) -> None:
    setup = build(Settings(database_url=cli_db))
    make_qualification_world(setup)
    staff = make_field_staff(setup)
    setup.close()

    q = _json("qualify", "100 Test Rd Towson MD 21204")
    premises = q["premises"]
    assert isinstance(premises, dict) and q["decision"] == "SERVICEABLE"
    quote = _json("quote", "create", str(premises["premises_id"]), "--plan", "PLUS")
    _json("quote", "accept", str(quote["reference"]))
    order = _json(
        "order",
        "create",
        str(quote["reference"]),
        "--name",
        "Casey Glass",
        "--email",
        "casey@example.net",
        "--phone",
        "443 555 0188",
    )
    oid = str(order["id"])
    _json(
        "order",
        "identity",
        oid,
        "--method",
        "PHOTO_ID",
        "--document-type",
        "state_id",
        "--document-number",
        "S-555-12-3456",
    )
    credit = json.loads(
        _run("order", "credit", oid, "--dob", "1975-06-30", "--ssn-last4", "5555", "--json")
    )
    assert credit["outcome"] == "APPROVED_WITH_DEPOSIT" and credit["deposit"] == "100.00"
    token = _run("order", "card-token", "4242 4242 4242 4242").strip()
    assert token.startswith("tok_")
    paid = _json("order", "payment", oid, "--token", token)
    assert "deposit_charge" in paid["details"]  # type: ignore[operator]
    ready = _json("order", "contract", oid, "--name", "Casey Glass")
    assert ready["ready_to_schedule"] is True

    slots = json.loads(_run("dispatch", "windows", oid, "--json"))
    booking = _json(
        "dispatch", "book", oid, "--day", slots[1]["day"], "--window", slots[1]["window"]
    )
    moved = _json(
        "dispatch",
        "reschedule",
        str(booking["appointment_id"]),
        "--day",
        slots[0]["day"],
        "--window",
        slots[0]["window"],
    )
    assert moved["day"] == slots[0]["day"]
    day = json.loads(
        _run(
            "dispatch",
            "day",
            "--technician",
            str(moved["technician_id"]),
            "--date",
            str(moved["day"]),
            "--json",
        )
    )
    assert [v["order_id"] for v in day] == [int(oid)]

    _json("tech", "assign-ont", oid)
    _json("tech", "provision", oid)
    wo = _json("tech", "work-order", oid)
    assert wo["ont_serial"] == staff.serials[0] and wo["nap_code"] == "NAP-A"
    _run("tech", "en-route", oid, "--eta", "15")
    _json("tech", "arrive", oid)
    refused = runner.invoke(app, ["tech", "activate", oid, "--down", "290", "--up", "140"])
    assert refused.exit_code == 1 and "not confirmed" in str(refused.exception)
    done = _json("tech", "activate", oid, "--down", "296", "--up", "149", "--confirm-installed")
    assert done["customer_status"] == "ACTIVE"
    listed = json.loads(_run("order", "show", oid, "--json"))
    assert listed["status"] == "COMPLETED"
