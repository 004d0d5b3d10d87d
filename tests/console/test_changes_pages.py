"""Service-change pages: tier change, suspension and resume, move, disconnection
(TestClient on SQLite and PostgreSQL). Each costly change is previewed first, confirmed
with the preview's token, and refused with nothing changed when the token does not match."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Customer,
    EquipmentReturn,
    Invoice,
    LedgerEntry,
    Plan,
    ServiceHold,
    ServiceOrder,
)
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.users import Role
from tests.console.billing_support import overdue_invoice
from tests.console.support import client, count_rows, sign_in_as
from tests.factories import ActiveCustomers, make_active_customers, open_billing

__all__ = ["client"]

_CONFIRM = re.compile(r'name="confirm" value="([^"]+)"')


@pytest.fixture
def world(fd: Fiberdesk) -> ActiveCustomers:
    active = make_active_customers(fd, per_nap=2)
    today = utcnow().date()
    for customer_id in active.customer_ids:
        open_billing(fd, customer_id, on=today - timedelta(days=10), deposit="50.00")
    return active


def _plan(fd: Fiberdesk, customer_id: int) -> str:
    with fd.uow(write=False) as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        plan = uow.session.get(Plan, customer.plan_id)
        assert plan is not None
        return plan.code


def _status(fd: Fiberdesk, customer_id: int) -> ServiceStatus:
    with fd.uow(write=False) as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        return customer.status


def _csr(fd: Fiberdesk, client: TestClient, customer_id: int) -> str:
    return sign_in_as(fd, client, Role.CSR, "casey", page=f"/console/changes/{customer_id}/tier")


def test_an_upgrade_shows_the_proration_first_and_changes_only_when_confirmed(
    fd: Fiberdesk, client: TestClient, world: ActiveCustomers
) -> None:
    cid = world.customer_ids[0]
    csrf = _csr(fd, client, cid)
    form = client.get(f"/console/changes/{cid}/tier")
    assert form.status_code == 200
    assert "Current tier" in form.text and "Gigabit" in form.text
    # Business needs XGS-PON; this customer is on a GPON port
    assert "Not possible: needs XGS-PON" in form.text

    preview = client.post(
        f"/console/changes/{cid}/tier/preview", data={"csrf_token": csrf, "plan": "GIGABIT"}
    )
    assert preview.status_code == 200
    assert "Credit for the unused" in preview.text
    assert "PON port check" in preview.text and "Passed" in preview.text
    token = _CONFIRM.search(preview.text)
    assert token
    # nothing has changed yet
    assert _plan(fd, cid) == "PLUS"
    assert count_rows(fd, ServiceOrder, customer_id=cid) == 0

    done = client.post(
        f"/console/changes/{cid}/tier",
        data={"csrf_token": csrf, "plan": "GIGABIT", "confirm": token.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/changes/{cid}/done?action=tier"
    assert _plan(fd, cid) == "GIGABIT"
    with fd.uow(write=False) as uow:
        refs = set(
            uow.session.scalars(
                sa.select(LedgerEntry.reference).where(LedgerEntry.reference.like("change:%"))
            )
        )
    assert any(r.endswith(":credit") for r in refs) and any(r.endswith(":charge") for r in refs)
    after = client.get(done.headers["location"])
    assert "The tier change is done." in after.text and "Gigabit" in after.text


def test_a_mismatching_token_is_refused_and_nothing_changes(
    fd: Fiberdesk, client: TestClient, world: ActiveCustomers
) -> None:
    cid = world.customer_ids[0]
    csrf = _csr(fd, client, cid)
    preview = client.post(
        f"/console/changes/{cid}/tier/preview", data={"csrf_token": csrf, "plan": "PREMIUM"}
    )
    token = _CONFIRM.search(preview.text)
    assert token
    # a token for another tier, and a made-up one
    for plan, confirm in (("GIGABIT", token.group(1)), ("PREMIUM", "0123456789abcdef.1")):
        refused = client.post(
            f"/console/changes/{cid}/tier",
            data={"csrf_token": csrf, "plan": plan, "confirm": confirm},
            follow_redirects=False,
        )
        assert refused.status_code == 422
        assert 'id="e-confirm"' in refused.text
        assert "does not match" in refused.text and "Nothing was changed" in refused.text
        # a fresh preview with a fresh token is shown beside the refusal
        assert _CONFIRM.search(refused.text)
    assert _plan(fd, cid) == "PLUS"
    assert count_rows(fd, ServiceOrder, customer_id=cid) == 0
    assert count_rows(fd, LedgerEntry, kind="CREDIT") == 0


def test_bad_tier_input_is_shown_beside_the_choice(
    fd: Fiberdesk, client: TestClient, world: ActiveCustomers
) -> None:
    cid = world.customer_ids[0]
    csrf = _csr(fd, client, cid)
    empty = client.post(f"/console/changes/{cid}/tier/preview", data={"csrf_token": csrf})
    assert empty.status_code == 422
    assert 'id="e-plan"' in empty.text and "choose the new tier" in empty.text
    same = client.post(
        f"/console/changes/{cid}/tier/preview", data={"csrf_token": csrf, "plan": "PLUS"}
    )
    assert same.status_code == 422
    assert "already on Plus" in same.text
    business = client.post(
        f"/console/changes/{cid}/tier/preview", data={"csrf_token": csrf, "plan": "BUSINESS"}
    )
    assert business.status_code == 422
    assert "cannot be carried on this customer&#39;s PON port" in business.text
    # the radio the user picked stays picked
    assert re.search(r'value="BUSINESS"[^>]* checked', business.text)
    assert _plan(fd, cid) == "PLUS"


def test_a_downgrade_waits_for_the_next_cycle(
    fd: Fiberdesk, client: TestClient, world: ActiveCustomers
) -> None:
    cid = world.customer_ids[1]
    csrf = _csr(fd, client, cid)
    preview = client.post(
        f"/console/changes/{cid}/tier/preview", data={"csrf_token": csrf, "plan": "BASIC"}
    )
    assert "No proration" in preview.text
    token = _CONFIRM.search(preview.text)
    assert token
    done = client.post(
        f"/console/changes/{cid}/tier",
        data={"csrf_token": csrf, "plan": "BASIC", "confirm": token.group(1)},
        follow_redirects=False,
    )
    assert done.headers["location"].endswith("action=downgrade")
    assert _plan(fd, cid) == "PLUS"  # until the cycle ends
    page = client.get(done.headers["location"])
    assert "Downgrade to BASIC" in page.text


def test_disconnection_shows_the_final_bill_then_closes_with_return_instructions(
    fd: Fiberdesk, client: TestClient, world: ActiveCustomers
) -> None:
    cid = world.customer_ids[0]
    csrf = _csr(fd, client, cid)
    form = client.get(f"/console/changes/{cid}/disconnect")
    assert form.status_code == 200
    assert world.serials[0] in form.text

    bad = client.post(
        f"/console/changes/{cid}/disconnect/preview",
        data={"csrf_token": csrf, "on": "2026-13-40", "churn_reason": ""},
    )
    assert bad.status_code == 422
    assert 'id="e-churn_reason"' in bad.text and "choose why the customer is leaving" in bad.text
    bad = client.post(
        f"/console/changes/{cid}/disconnect/preview",
        data={"csrf_token": csrf, "on": "2026-13-40", "churn_reason": "price"},
    )
    assert bad.status_code == 422
    assert 'id="e-on"' in bad.text and 'value="2026-13-40"' in bad.text

    today = utcnow().date().isoformat()
    data = {"csrf_token": csrf, "on": today, "churn_reason": "price"}
    bill = client.post(f"/console/changes/{cid}/disconnect/preview", data=data)
    assert bill.status_code == 200
    assert "Security deposit returned" in bill.text and "Tax on service lines" in bill.text
    assert "Refund due to the customer" in bill.text or "Total owed" in bill.text
    token = _CONFIRM.search(bill.text)
    assert token
    assert _status(fd, cid) is ServiceStatus.ACTIVE

    wrong = client.post(
        f"/console/changes/{cid}/disconnect",
        data={**data, "confirm": "f" * 24},
        follow_redirects=False,
    )
    assert wrong.status_code == 422 and "does not match the final bill" in wrong.text
    # the confirmed bill was for another day: refused too
    other_day = {**data, "on": (utcnow().date() + timedelta(days=3)).isoformat()}
    wrong = client.post(
        f"/console/changes/{cid}/disconnect",
        data={**other_day, "confirm": token.group(1)},
        follow_redirects=False,
    )
    assert wrong.status_code == 422
    assert _status(fd, cid) is ServiceStatus.ACTIVE
    assert count_rows(fd, Invoice, kind="FINAL") == 0

    done = client.post(
        f"/console/changes/{cid}/disconnect",
        data={**data, "confirm": token.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert _status(fd, cid) is ServiceStatus.DISCONNECTED
    assert count_rows(fd, EquipmentReturn, customer_id=cid) == 1
    page = client.get(done.headers["location"])
    assert "The account is closed." in page.text
    assert "Equipment return" in page.text and world.serials[0] in page.text
    assert "FIN-" in page.text
    assert "Change tier" not in page.text  # no changes offered on a closed account


def test_vacation_hold_and_resume(
    fd: Fiberdesk, client: TestClient, world: ActiveCustomers
) -> None:
    cid = world.customer_ids[0]
    csrf = _csr(fd, client, cid)
    form = client.get(f"/console/changes/{cid}/suspend")
    assert form.status_code == 200
    assert 'value="vacation"' in form.text
    assert 'value="non_payment"' not in form.text  # billing's, not the CSR's

    too_short = (utcnow().date() + timedelta(days=2)).isoformat()
    short = client.post(
        f"/console/changes/{cid}/suspend",
        data={"csrf_token": csrf, "kind": "vacation", "ends_on": too_short},
    )
    assert short.status_code == 422
    assert 'id="e-ends_on"' in short.text and "at least 7 days" in short.text
    assert f'value="{too_short}"' in short.text
    assert _status(fd, cid) is ServiceStatus.ACTIVE

    ends = (utcnow().date() + timedelta(days=20)).isoformat()
    held = client.post(
        f"/console/changes/{cid}/suspend",
        data={"csrf_token": csrf, "kind": "vacation", "ends_on": ends},
        follow_redirects=False,
    )
    assert held.status_code == 303
    assert _status(fd, cid) is ServiceStatus.SUSPENDED
    assert "Vacation hold" in client.get(held.headers["location"]).text

    empty = client.post(f"/console/changes/{cid}/resume", data={"csrf_token": csrf})
    assert empty.status_code == 422 and 'id="e-reason"' in empty.text
    back = client.post(
        f"/console/changes/{cid}/resume",
        data={"csrf_token": csrf, "reason": "customer came home early"},
        follow_redirects=False,
    )
    assert back.status_code == 303
    assert _status(fd, cid) is ServiceStatus.ACTIVE
    assert count_rows(fd, ServiceHold, customer_id=cid) == 1


def test_billing_suspends_for_non_payment_only_when_overdue(
    fd: Fiberdesk, client: TestClient, world: ActiveCustomers
) -> None:
    cid = world.customer_ids[0]
    csrf = sign_in_as(fd, client, Role.BILLING, "bill", page=f"/console/changes/{cid}/suspend")
    form = client.get(f"/console/changes/{cid}/suspend")
    assert 'value="non_payment"' in form.text and 'value="vacation"' not in form.text
    refused = client.post(
        f"/console/changes/{cid}/suspend", data={"csrf_token": csrf, "kind": "non_payment"}
    )
    assert refused.status_code == 422
    assert "nothing on this account is past due" in refused.text
    assert _status(fd, cid) is ServiceStatus.ACTIVE
    overdue_invoice(fd, cid)  # due 25 days ago, unpaid
    done = client.post(
        f"/console/changes/{cid}/suspend",
        data={"csrf_token": csrf, "kind": "non_payment", "note": "no answer to calls"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert _status(fd, cid) is ServiceStatus.SUSPENDED
    with fd.uow(write=False) as uow:
        hold = uow.session.scalars(sa.select(ServiceHold)).one()
        assert hold.kind.value == "NON_PAYMENT" and "no answer to calls" in hold.reason
    # the billing clerk may not change tiers or disconnect
    assert client.get(f"/console/changes/{cid}/tier").status_code == 403
    assert client.get(f"/console/changes/{cid}/disconnect").status_code == 403


def test_a_move_qualifies_the_new_address_before_starting(
    fd: Fiberdesk, client: TestClient, world: ActiveCustomers
) -> None:
    cid = world.customer_ids[0]
    csrf = _csr(fd, client, cid)
    assert client.get(f"/console/changes/{cid}/relocate").status_code == 200
    move_on = (utcnow().date() + timedelta(days=7)).isoformat()
    past = client.post(
        f"/console/changes/{cid}/relocate/check",
        data={"csrf_token": csrf, "address": "100 Test Rd Towson", "move_on": "2020-01-01"},
    )
    assert past.status_code == 422 and 'id="e-move_on"' in past.text
    assert 'value="100 Test Rd Towson"' in past.text
    check = client.post(
        f"/console/changes/{cid}/relocate/check",
        data={
            "csrf_token": csrf,
            "premises_id": str(world.world.premises["serviceable"]),
            "move_on": move_on,
        },
    )
    assert check.status_code == 200, check.text
    assert "Serviceable" in check.text and "NAP-A" in check.text
    assert _status(fd, cid) is ServiceStatus.ACTIVE
    done = client.post(
        f"/console/changes/{cid}/relocate",
        data={
            "csrf_token": csrf,
            "premises_id": str(world.world.premises["serviceable"]),
            "plan": "PLUS",
            "move_on": move_on,
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert _status(fd, cid) is ServiceStatus.RELOCATING
    page = client.get(done.headers["location"])
    assert "book the technician" in page.text.lower() and f"date={move_on}" in page.text


@pytest.mark.parametrize("role", [Role.TECHNICIAN, Role.DISPATCHER])
def test_roles_outside_service_changes_get_403(
    fd: Fiberdesk, client: TestClient, world: ActiveCustomers, role: Role
) -> None:
    cid = world.customer_ids[0]
    csrf = sign_in_as(fd, client, role, "outsider")
    for path in ("tier", "suspend", "resume", "relocate", "disconnect", "done"):
        page = client.get(f"/console/changes/{cid}/{path}")
        assert page.status_code == 403, path
        assert "Not for your role" in page.text and world.world.plan_ids and "PLUS" not in page.text
    posted = client.post(
        f"/console/changes/{cid}/tier/preview", data={"csrf_token": csrf, "plan": "GIGABIT"}
    )
    assert posted.status_code == 403
    assert _plan(fd, cid) == "PLUS"
