"""A new customer from address to ACTIVE through the REST API (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import AuditEntry, Customer, Equipment, NapPort, OutboxMessage
from fiberdesk.domain.users import Role
from fiberdesk.web.app import create_app
from tests.factories import (
    QualificationWorld,
    make_field_staff,
    make_qualification_world,
    make_token,
)


@pytest.fixture
def world(fd: Fiberdesk) -> QualificationWorld:
    return make_qualification_world(fd)


@pytest.fixture
def client(fd: Fiberdesk) -> Iterator[TestClient]:
    with TestClient(create_app(fd)) as c:
        yield c


def _h(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def _next_weekday(start: date) -> date:
    day = start + timedelta(days=1)
    while day.weekday() > 4:
        day += timedelta(days=1)
    return day


def _card(client: TestClient, h: dict[str, str], number: str = "4242424242424242") -> str:
    r = client.post(
        "/api/v1/dev/payment-tokens",
        headers=h,
        json={"number": number, "exp_month": 12, "exp_year": date.today().year + 2, "cvc": "123"},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def _sign_up(client: TestClient, h: dict[str, str], premises_id: int) -> int:
    quote = client.post(
        "/api/v1/quotes",
        headers=h,
        json={"premises_id": premises_id, "plan": "GIGABIT", "term": "12M"},
    ).json()
    assert client.post(f"/api/v1/quotes/{quote['reference']}/accept", headers=h).status_code == 200
    r = client.post(
        "/api/v1/orders",
        headers=h,
        json={
            "quote": quote["reference"],
            "name": "Robin Fiber",
            "email": "robin@example.com",
            "phone": "410-555-0123",
            "unit": "2B",
            "access_notes": "Gate code 4411; dog is friendly",
        },
    )
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["customer_status"] == "PENDING" and order["type"] == "NEW_INSTALL"
    assert order["missing"] == ["identity", "credit", "payment", "contract"]
    return int(order["id"])


def test_address_to_active(fd: Fiberdesk, client: TestClient, world: QualificationWorld) -> None:
    staff = make_field_staff(fd)
    csr = _h(make_token(fd, Role.CSR))
    tech = _h(make_token(fd, Role.TECHNICIAN, username="tech2"))
    # INQUIRY: qualify, quote
    q = client.post(
        "/api/v1/qualify", headers=csr, json={"address": "100 Test Rd, Towson MD 21204"}
    ).json()
    assert q["decision"] == "SERVICEABLE"
    order_id = _sign_up(client, csr, q["premises"]["premises_id"])
    # STEP 2: identity, credit, payment, contract
    r = client.post(
        f"/api/v1/orders/{order_id}/identity",
        headers=csr,
        json={
            "method": "PHOTO_ID",
            "document_type": "drivers_license",
            "document_number": "MD-123-456-789",
        },
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"/api/v1/orders/{order_id}/credit-check",
        headers=csr,
        json={"date_of_birth": "1980-04-02", "ssn_last4": "1111"},
    )
    assert r.status_code == 200 and r.json()["outcome"] == "APPROVED", r.text
    r = client.post(
        f"/api/v1/orders/{order_id}/payment-method", headers=csr, json={"token": _card(client, csr)}
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"/api/v1/orders/{order_id}/contract",
        headers=csr,
        json={"accepted_name": "robin fiber", "channel": "phone"},
    )
    assert r.status_code == 200 and r.json()["ready_to_schedule"], r.text
    # STEP 3: windows and booking
    slots = client.get(f"/api/v1/orders/{order_id}/windows", headers=csr).json()
    assert slots and slots[0]["available_technicians"] == 2
    first = slots[0]
    r = client.post(
        f"/api/v1/orders/{order_id}/appointments",
        headers=csr,
        json={"day": first["day"], "window": first["window"]},
    )
    assert r.status_code == 201, r.text
    booking = r.json()
    assert booking["lead_time_flag"] == "ON_TARGET"
    with fd.uow(write=False) as uow:
        customer = uow.session.scalar(sa.select(Customer).where(Customer.name == "Robin Fiber"))
        assert customer is not None and customer.status.value == "SCHEDULED"
        message = uow.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.kind == "installation_confirmation")
        )
        assert message is not None and message.recipient == "robin@example.com"
        for field in (
            "customer_name",
            "date",
            "time_window",
            "service_address",
            "what_to_expect",
            "how_to_prepare",
            "support_number",
            "company_name",
        ):
            assert message.context[field], field
    # STEP 4: equipment and provisioning
    r = client.post(
        f"/api/v1/orders/{order_id}/equipment",
        headers=csr,
        json={"serial": staff.serials[0].lower()},
    )
    assert r.status_code == 200, r.text
    assert r.json()["details"]["ont_serial"] == staff.serials[0]
    r = client.post(f"/api/v1/orders/{order_id}/provision", headers=csr)
    assert r.status_code == 200, r.text
    # the technician's work order has what they need
    wo = client.get(f"/api/v1/orders/{order_id}/work-order", headers=csr).json()
    assert (wo["nap_code"], wo["nap_port"], wo["ont_serial"]) == ("NAP-A", 1, staff.serials[0])
    assert "Gate code 4411" in wo["access_notes"][0] and wo["profile"].startswith("GIGABIT")
    # STEP 5: on site, a low speed test is refused and recorded, then activation
    for step in ("en-route", "arrive"):
        body = {"eta_minutes": 20} if step == "en-route" else None
        r = client.post(f"/api/v1/orders/{order_id}/{step}", headers=csr, json=body)
        assert r.status_code in (200, 204), r.text
    r = client.post(
        f"/api/v1/orders/{order_id}/activate",
        headers=csr,
        json={"physical_confirmed": True, "download_mbps": "700", "upload_mbps": "480"},
    )
    assert r.status_code == 409 and "under 90%" in r.json()["detail"]
    order = client.get(f"/api/v1/orders/{order_id}", headers=csr).json()
    assert order["customer_status"] == "INSTALLING"
    assert order["steps"][-1]["step"] == "speed_test"
    assert order["steps"][-1]["outcome"] == "refused"
    r = client.post(
        f"/api/v1/orders/{order_id}/activate",
        headers=csr,
        json={"physical_confirmed": True, "download_mbps": "941.5", "upload_mbps": "487"},
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["customer_status"] == "ACTIVE" and done["status"] == "COMPLETED"
    assert done["details"]["lead_time_days"] >= 0
    assert all(c["done"] for c in done["checklist"][:7])
    with fd.uow(write=False) as uow:
        customer = uow.session.scalar(sa.select(Customer).where(Customer.name == "Robin Fiber"))
        assert customer is not None and customer.billing_start is not None
        port = uow.session.scalar(sa.select(NapPort).where(NapPort.customer_id == customer.id))
        assert port is not None and port.status.value == "IN_USE"
        ont = uow.session.scalar(
            sa.select(Equipment).where(Equipment.serial_number == staff.serials[0])
        )
        assert ont is not None and ont.status.value == "INSTALLED"
        kinds = set(uow.session.scalars(sa.select(OutboxMessage.kind)))
        assert {
            "installation_confirmation",
            "technician_on_the_way",
            "welcome",
            "satisfaction_survey",
        } <= kinds
        actions = set(uow.session.scalars(sa.select(AuditEntry.action)))
        assert {
            "order.create",
            "identity.verify",
            "credit.check",
            "payment_method.add",
            "contract.accept",
            "appointment.book",
            "equipment.assign",
            "ont.provision",
            "customer.activate",
        } <= actions
    del tech


def test_refusals_are_recorded_and_change_nothing(
    fd: Fiberdesk, client: TestClient, world: QualificationWorld
) -> None:
    make_field_staff(fd, weekdays=(0, 1, 2, 3, 4))
    csr = _h(make_token(fd, Role.CSR))
    order_id = _sign_up(client, csr, world.premises["serviceable"])
    url = f"/api/v1/orders/{order_id}"
    # booking before the checklist is done
    r = client.post(
        f"{url}/appointments",
        headers=csr,
        json={"day": _next_weekday(date.today()).isoformat(), "window": "AM"},
    )
    assert r.status_code == 409 and r.json()["missing"] == [
        "identity",
        "credit",
        "payment",
        "contract",
    ]
    # declined credit check, declined card, invalid serial
    r = client.post(
        f"{url}/credit-check",
        headers=csr,
        json={"date_of_birth": "1980-01-01", "ssn_last4": "9999"},
    )
    assert r.status_code == 409 and "declined" in r.json()["detail"]
    r = client.post(
        f"{url}/credit-check", headers=csr, json={"date_of_birth": date.today().isoformat()}
    )
    assert r.status_code == 422 and r.json()["field"] == "date_of_birth"
    r = client.post(
        f"{url}/payment-method", headers=csr, json={"token": _card(client, csr, "4000000000000002")}
    )
    assert r.status_code == 409 and r.json()["decline_code"] == "card_declined"
    r = client.post(f"{url}/payment-method", headers=csr, json={"token": "4242424242424242"})
    assert r.status_code == 422 and "card number" in r.json()["detail"]
    r = client.post(f"{url}/equipment", headers=csr, json={"serial": "NOTASERIAL"})
    assert r.status_code == 422 and "ONT serial" in r.json()["detail"]
    order = client.get(url, headers=csr).json()
    refused = [s["step"] for s in order["steps"] if s["outcome"] == "refused"]
    assert refused == ["credit", "payment"]
    assert order["status"] == "OPEN" and order["customer_status"] == "PENDING"
    # a Saturday window is outside every shift (Monday to Friday here)
    for step, body in (
        (
            "identity",
            {"method": "PHOTO_ID", "document_type": "passport", "document_number": "X1234567"},
        ),
        ("credit-check", {"date_of_birth": "1980-01-01", "ssn_last4": "1111"}),
        ("payment-method", {"token": _card(client, csr)}),
        ("contract", {"accepted_name": "Robin Fiber", "channel": "console"}),
    ):
        assert client.post(f"{url}/{step}", headers=csr, json=body).status_code == 200
    saturday = date.today() + timedelta(days=(5 - date.today().weekday()) % 7 or 7)
    r = client.post(
        f"{url}/appointments", headers=csr, json={"day": saturday.isoformat(), "window": "AM"}
    )
    assert r.status_code == 409 and "outside every shift" in r.json()["detail"]
    r = client.post(
        f"{url}/appointments", headers=csr, json={"day": saturday.isoformat(), "window": "NIGHT"}
    )
    assert r.status_code == 422
    order = client.get(url, headers=csr).json()
    assert order["status"] == "OPEN" and order["steps"][-1]["step"] == "schedule"


def test_mac_in_use_and_unregistered_ont_are_refused(
    fd: Fiberdesk, client: TestClient, world: QualificationWorld
) -> None:
    staff = make_field_staff(fd)
    csr = _h(make_token(fd, Role.CSR))
    r = client.post(
        "/api/v1/inventory",
        headers=csr,
        json=[{"serial": "ZTEG00000001", "mac": "00:1A:2B:00:00:00"}],
    )
    assert r.status_code == 403, "a CSR may not receive stock"
    admin = _h(make_token(fd, Role.ADMIN))
    r = client.post(
        "/api/v1/inventory",
        headers=admin,
        json=[{"serial": "ZTEG00000001", "mac": "00:1A:2B:00:00:00"}],
    )
    assert r.status_code == 409 and "already in use" in r.json()["detail"]
    order_id = _sign_up(client, csr, world.premises["serviceable"])
    url = f"/api/v1/orders/{order_id}"
    for step, body in (
        (
            "identity",
            {"method": "PHOTO_ID", "document_type": "passport", "document_number": "X1234567"},
        ),
        ("credit-check", {"date_of_birth": "1980-01-01", "ssn_last4": "1111"}),
        ("payment-method", {"token": _card(client, csr)}),
        ("contract", {"accepted_name": "Robin Fiber", "channel": "console"}),
    ):
        assert client.post(f"{url}/{step}", headers=csr, json=body).status_code == 200
    slot = client.get(f"{url}/windows", headers=csr).json()[0]
    client.post(
        f"{url}/appointments", headers=csr, json={"day": slot["day"], "window": slot["window"]}
    )
    r = client.post(
        f"{url}/equipment",
        headers=csr,
        json={"serial": staff.serials[1], "mac": "00:1A:2B:00:00:00"},
    )
    assert r.status_code == 409 and "already in use" in r.json()["detail"]
    assert (
        client.post(f"{url}/equipment", headers=csr, json={"serial": staff.serials[1]}).status_code
        == 200
    )
    client.post(f"{url}/arrive", headers=csr)
    # not provisioned on the OLT: activation refused, recorded, nothing else changed
    r = client.post(
        f"{url}/activate",
        headers=csr,
        json={"physical_confirmed": True, "download_mbps": "990", "upload_mbps": "495"},
    )
    assert r.status_code == 409 and "provisioned" in r.json()["detail"]
    order = client.get(url, headers=csr).json()
    assert order["customer_status"] == "INSTALLING"
    assert order["steps"][-1] == {
        **order["steps"][-1],
        "step": "ont_registration",
        "outcome": "refused",
    }
