"""Billing pages: the accounts overview, one account with its payment and adjustment
forms, invoices (TestClient on SQLite and PostgreSQL); and the overview's read service."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import Customer, Invoice, LedgerEntry, Payment
from fiberdesk.domain.billing import EntryKind
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.errors import Forbidden, InvalidInput
from fiberdesk.domain.users import SYSTEM_ACTOR, Actor, Channel, Role
from fiberdesk.services import billing, billing_views, holds
from fiberdesk.services.pagination import PageRequest
from tests.console.billing_support import overdue_invoice
from tests.console.support import client, sign_in_as
from tests.factories import ActiveCustomers, make_active_customers, open_billing

__all__ = ["client"]


@pytest.fixture
def world(fd: Fiberdesk) -> ActiveCustomers:
    """Four active customers with accounts: the first overdue, the second in credit with a
    card on file, the others owing nothing."""
    active = make_active_customers(fd, per_nap=2)
    today = utcnow().date()
    for i, customer_id in enumerate(active.customer_ids):
        open_billing(
            fd, customer_id, on=today - timedelta(days=40), card="4242424242424242" if i else None
        )
    overdue_invoice(fd, active.customer_ids[0])
    with fd.uow() as uow:
        billing.charge(
            uow,
            actor=SYSTEM_ACTOR,
            customer_id=active.customer_ids[1],
            amount=Decimal("-15.00"),
            description="Goodwill credit",
            kind=EntryKind.CREDIT,
        )
    return active


def _balance(fd: Fiberdesk, customer_id: int) -> Decimal:
    with fd.uow(write=False) as uow:
        return billing.account_view(uow, actor=SYSTEM_ACTOR, customer_id=customer_id).balance


def _clerk(fd: Fiberdesk, client: TestClient, customer_id: int) -> str:
    return sign_in_as(
        fd, client, Role.BILLING, "bea", page=f"/console/billing/accounts/{customer_id}"
    )


def _name(fd: Fiberdesk, customer_id: int) -> str:
    with fd.uow(write=False) as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        return customer.name


def test_the_overview_filters_and_counts_accounts(
    fd: Fiberdesk, client: TestClient, world: ActiveCustomers
) -> None:
    late, credit = world.customer_ids[0], world.customer_ids[1]
    _clerk(fd, client, late)
    page = client.get("/console/billing")
    assert page.status_code == 200
    assert "Billing accounts" in page.text
    for customer_id in world.customer_ids:
        assert _name(fd, customer_id) in page.text
    # the overdue account is listed first
    names = re.findall(r'href="/console/billing/accounts/(\d+)"', page.text)
    assert names[0] == str(late)
    assert "25 days late" in page.text

    overdue = client.get("/console/billing?show=overdue")
    assert _name(fd, late) in overdue.text and _name(fd, credit) not in overdue.text
    in_credit = client.get("/console/billing?show=credit")
    assert _name(fd, credit) in in_credit.text and _name(fd, late) not in in_credit.text
    found = client.get("/console/billing", params={"q": _name(fd, credit)[-4:]})
    assert _name(fd, credit) in found.text and _name(fd, late) not in found.text
    empty = client.get("/console/billing?show=suspended")
    assert "No accounts suspended for non-payment" in empty.text
    assert client.get("/console/billing?show=nonsense").status_code == 200  # shows all


def test_list_accounts_pages_and_refuses_an_unknown_filter(
    fd: Fiberdesk, world: ActiveCustomers
) -> None:
    today = utcnow().date()
    with fd.uow(write=False) as uow:
        first = billing_views.list_accounts(
            uow, actor=SYSTEM_ACTOR, page=PageRequest(1, 3), today=today
        )
        second = billing_views.list_accounts(
            uow, actor=SYSTEM_ACTOR, page=PageRequest(2, 3), today=today
        )
        assert first.page.total == 4 and first.page.pages == 2
        assert len(first.page.items) == 3 and len(second.page.items) == 1
        ids = {a.customer_id for a in first.page.items + second.page.items}
        assert ids == set(world.customer_ids)
        assert first.page.items[0].days_overdue == 25
        assert first.counts["overdue"] == 1 and first.counts["credit"] == 1
        assert first.owed == Decimal("64.99") and first.overdue_owed == Decimal("64.99")
        with pytest.raises(InvalidInput):
            billing_views.list_accounts(
                uow, actor=SYSTEM_ACTOR, page=PageRequest(), today=today, show="x"
            )
        tech = Actor("t", Role.TECHNICIAN, Channel.CONSOLE)
        with pytest.raises(Forbidden):
            billing_views.list_accounts(uow, actor=tech, page=PageRequest(), today=today)


def test_a_card_payment_with_the_test_card_clears_the_balance(
    fd: Fiberdesk, client: TestClient, world: ActiveCustomers
) -> None:
    cid = world.customer_ids[0]
    csrf = _clerk(fd, client, cid)
    page = client.get(f"/console/billing/accounts/{cid}")
    assert "Take a payment" in page.text and "Post a credit or charge" in page.text
    assert 'value="64.99"' in page.text  # the balance is proposed
    key = re.search(r'name="form_key" value="([^"]+)"', page.text)
    assert key
    form = {
        "csrf_token": csrf,
        "form_key": key.group(1),
        "amount": "64.99",
        "method": "new_card",
        "card_number": "4242 4242 4242 4242",
        "card_expiry": "12/30",
        "card_cvc": "123",
    }
    paid = client.post(f"/console/billing/accounts/{cid}/payments", data=form)
    assert paid.status_code == 200  # followed the 303 back to the account
    assert "Payment of $64.99 taken." in paid.text
    assert _balance(fd, cid) == Decimal("0.00")
    # the same form sent twice takes the money once
    again = client.post(f"/console/billing/accounts/{cid}/payments", data=form)
    assert again.status_code == 200
    with fd.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1
        invoice = uow.session.scalars(sa.select(Invoice)).one()
        assert invoice.status.value == "PAID"


def test_bad_and_declined_payments_are_shown_beside_the_field(
    fd: Fiberdesk, client: TestClient, world: ActiveCustomers
) -> None:
    cid = world.customer_ids[0]
    csrf = _clerk(fd, client, cid)
    base = {"csrf_token": csrf, "form_key": "k1", "method": "new_card", "card_cvc": "123"}
    bad = client.post(
        f"/console/billing/accounts/{cid}/payments",
        data={**base, "amount": "12.345", "card_number": "4242424242424242"},
    )
    assert bad.status_code == 422
    assert 'id="pay-e-amount"' in bad.text and "whole cents" in bad.text
    assert 'value="12.345"' in bad.text
    assert "4242424242424242" not in bad.text  # a card number is never shown back
    expired = client.post(
        f"/console/billing/accounts/{cid}/payments",
        data={
            **base,
            "amount": "10.00",
            "card_number": "4242424242424242",
            "card_expiry": "01/20",
        },
    )
    assert expired.status_code == 422
    assert 'id="e-card_expiry"' in expired.text and "expired" in expired.text
    declined = client.post(
        f"/console/billing/accounts/{cid}/payments",
        data={
            **base,
            "form_key": "k2",
            "amount": "10.00",
            "card_number": "4000000000000002",
            "card_expiry": "12/30",
        },
    )
    assert declined.status_code == 422
    assert "declined" in declined.text and "card declined" in declined.text  # in the list too
    # a fresh form key is given, so trying another card is a new payment
    assert 'name="form_key" value="k2"' not in declined.text
    assert _balance(fd, cid) == Decimal("64.99")
    no_card = client.post(
        f"/console/billing/accounts/{cid}/payments",
        data={"csrf_token": csrf, "form_key": "k3", "amount": "5", "method": "card_on_file"},
    )
    assert no_card.status_code == 422
    assert 'id="e-method"' in no_card.text and "no card is on file" in no_card.text


def test_paying_the_arrears_lifts_a_non_payment_suspension(
    fd: Fiberdesk, client: TestClient, world: ActiveCustomers
) -> None:
    cid = world.customer_ids[0]
    holds.suspend_for_non_payment(
        fd.uow,
        actor=SYSTEM_ACTOR,
        network=fd.network,
        customer_id=cid,
        settings=fd.hold_settings,
    )
    csrf = _clerk(fd, client, cid)
    page = client.get(f"/console/billing/accounts/{cid}")
    assert "Suspended for non-payment, 25 days past due" in page.text
    assert "Suspended for non-payment" in client.get("/console/billing?show=suspended").text
    client.post(
        f"/console/billing/accounts/{cid}/payments",
        data={"csrf_token": csrf, "form_key": "cash1", "amount": "64.99", "method": "cash"},
    )
    with fd.uow(write=False) as uow:
        customer = uow.session.get(Customer, cid)
        assert customer is not None and customer.status is ServiceStatus.ACTIVE


def test_a_credit_with_a_reason_goes_on_the_ledger(
    fd: Fiberdesk, client: TestClient, world: ActiveCustomers
) -> None:
    cid = world.customer_ids[2]
    csrf = _clerk(fd, client, cid)
    missing = client.post(
        f"/console/billing/accounts/{cid}/entries",
        data={"csrf_token": csrf, "form_key": "e1", "kind": "CREDIT", "amount": "10"},
    )
    assert missing.status_code == 422
    assert 'id="entry-e-description"' in missing.text and 'value="10"' in missing.text
    negative = client.post(
        f"/console/billing/accounts/{cid}/entries",
        data={
            "csrf_token": csrf,
            "form_key": "e1",
            "kind": "CHARGE",
            "amount": "-4",
            "description": "x y z",
        },
    )
    assert negative.status_code == 422 and 'id="entry-e-amount"' in negative.text
    assert _balance(fd, cid) == Decimal("0.00")
    done = client.post(
        f"/console/billing/accounts/{cid}/entries",
        data={
            "csrf_token": csrf,
            "form_key": "e2",
            "kind": "CREDIT",
            "amount": "10.00",
            "description": "Outage on 3 November",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert "Credit of $10.00 posted" in page.text and "Outage on 3 November" in page.text
    assert _balance(fd, cid) == Decimal("-10.00")
    twice = client.post(
        f"/console/billing/accounts/{cid}/entries",
        data={
            "csrf_token": csrf,
            "form_key": "e2",
            "kind": "CREDIT",
            "amount": "10.00",
            "description": "Outage on 3 November",
        },
    )
    assert twice.status_code == 422 and "already posted" in twice.text
    assert _balance(fd, cid) == Decimal("-10.00")


def test_a_csr_reads_billing_but_may_not_take_payments(
    fd: Fiberdesk, client: TestClient, world: ActiveCustomers
) -> None:
    cid = world.customer_ids[0]
    csrf = sign_in_as(fd, client, Role.CSR, "casey")
    assert client.get("/console/billing").status_code == 200
    page = client.get(f"/console/billing/accounts/{cid}")
    assert page.status_code == 200
    assert "Take a payment" not in page.text and 'name="amount"' not in page.text
    assert "cannot" not in page.text and "not take payments" in page.text
    for path, data in (
        ("payments", {"amount": "64.99", "method": "cash"}),
        ("entries", {"kind": "CREDIT", "amount": "5", "description": "sorry"}),
    ):
        refused = client.post(
            f"/console/billing/accounts/{cid}/{path}",
            data={"csrf_token": csrf, "form_key": "x", **data},
        )
        assert refused.status_code == 403, path
    assert _balance(fd, cid) == Decimal("64.99")
    with fd.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0


def test_an_invoice_and_its_printable_copy(
    fd: Fiberdesk, client: TestClient, world: ActiveCustomers
) -> None:
    cid = world.customer_ids[0]
    _clerk(fd, client, cid)
    with fd.uow(write=False) as uow:
        invoice = uow.session.scalars(sa.select(Invoice)).one()
    page = client.get(f"/console/billing/invoices/{invoice.id}")
    assert page.status_code == 200
    assert invoice.number in page.text and "Plus service" in page.text and "$64.99" in page.text
    assert f"/console/billing/invoices/{invoice.id}/print" in page.text
    printable = client.get(f"/console/billing/invoices/{invoice.id}/print")
    assert printable.status_code == 200 and invoice.number in printable.text
    assert client.get("/console/billing/invoices/999999").status_code == 404


@pytest.mark.parametrize("role", [Role.TECHNICIAN, Role.DISPATCHER])
def test_roles_outside_billing_get_403(
    fd: Fiberdesk, client: TestClient, world: ActiveCustomers, role: Role
) -> None:
    cid = world.customer_ids[0]
    csrf = sign_in_as(fd, client, role, "outsider")
    with fd.uow(write=False) as uow:
        invoice_id = uow.session.scalars(sa.select(Invoice.id)).one()
    for path in (
        "/console/billing",
        f"/console/billing/accounts/{cid}",
        f"/console/billing/invoices/{invoice_id}",
        f"/console/billing/invoices/{invoice_id}/print",
    ):
        page = client.get(path)
        assert page.status_code == 403, path
        assert "64.99" not in page.text
    posted = client.post(
        f"/console/billing/accounts/{cid}/payments",
        data={"csrf_token": csrf, "form_key": "x", "amount": "64.99", "method": "cash"},
    )
    assert posted.status_code == 403
    with fd.uow(write=False) as uow:
        assert (
            uow.session.scalar(
                sa.select(sa.func.count())
                .select_from(LedgerEntry)
                .where(LedgerEntry.kind == "PAYMENT")
            )
            == 0
        )
