"""The service functions the agent tools needed (SQLite and PostgreSQL): identity codes for
existing customers, the account at a glance, whose order or visit it is, the plans, and
messages sent by hand."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Appointment,
    AuditEntry,
    Customer,
    IdentityVerification,
    OutboxMessage,
    ServiceOrder,
)
from fiberdesk.domain.errors import Forbidden, InvalidInput, NotFound, Refused
from fiberdesk.domain.orders import AppointmentStatus, OrderStatus, OrderType
from fiberdesk.domain.signup import IdentityMethod
from fiberdesk.domain.users import PUBLIC_ACTOR, Actor, Channel, Role
from fiberdesk.services import accounts, identity, outreach
from tests.factories import make_active_customers, make_field_staff

CSR = Actor(name="csr1", role=Role.CSR, channel=Channel.AGENT, user_id=None)
NOC = Actor(name="noc1", role=Role.NOC, channel=Channel.AGENT)
KEY = "test-secret-key"


def _customer(fd: Fiberdesk) -> int:
    return make_active_customers(fd, per_nap=1, naps=("NAP-A",)).customer_ids[0]


def _code(fd: Fiberdesk, customer_id: int) -> str:
    with fd.uow(write=False) as uow:
        message = uow.session.scalar(
            sa.select(OutboxMessage)
            .where(OutboxMessage.customer_id == customer_id, OutboxMessage.kind == "identity_code")
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        assert message is not None
        return str(message.context["code"])


def _actions(fd: Fiberdesk, prefix: str) -> list[str]:
    with fd.uow(write=False) as uow:
        return list(
            uow.session.scalars(
                sa.select(AuditEntry.action)
                .where(AuditEntry.action.like(f"{prefix}%"))
                .order_by(AuditEntry.id)
            )
        )


def test_an_identity_code_verifies_an_existing_customer(fd: Fiberdesk) -> None:
    customer_id = _customer(fd)
    sent = identity.send_code(
        fd.uow, actor=CSR, customer_id=customer_id, channel="sms", secret_key=KEY
    )
    assert sent.endswith("0123") and "•" in sent
    code = _code(fd, customer_id)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(Refused, match=r"does not match \(4 attempts left\)"):
        identity.verify_code(
            fd.uow, actor=CSR, customer_id=customer_id, channel="sms", code=wrong, secret_key=KEY
        )
    with fd.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(IdentityVerification)) == 0
    done = identity.verify_code(
        fd.uow, actor=CSR, customer_id=customer_id, channel="sms", code=code, secret_key=KEY
    )
    assert (done.customer_id, done.method) == (customer_id, IdentityMethod.OTP_SMS)
    with fd.uow(write=False) as uow:
        row = uow.session.scalar(sa.select(IdentityVerification))
        assert row is not None and (row.verified_by, row.channel) == ("csr1", "agent")
        assert row.customer_id == customer_id and row.document_hash is None
    with pytest.raises(Refused, match="no sms code was sent"):  # a code is used once
        identity.verify_code(
            fd.uow, actor=CSR, customer_id=customer_id, channel="sms", code=code, secret_key=KEY
        )
    assert _actions(fd, "identity.") == [
        "identity.code_sent",
        "identity.refused",
        "identity.verify",
        "identity.refused",
    ]


def test_identity_codes_refuse_what_they_should(fd: Fiberdesk) -> None:
    customer_id = _customer(fd)
    past = utcnow() - timedelta(minutes=30)
    identity.send_code(
        fd.uow, actor=CSR, customer_id=customer_id, channel="email", secret_key=KEY, now=past
    )
    with pytest.raises(Refused, match="expired"):
        identity.verify_code(
            fd.uow,
            actor=CSR,
            customer_id=customer_id,
            channel="email",
            code=_code(fd, customer_id),
            secret_key=KEY,
        )
    with pytest.raises(NotFound):
        identity.send_code(fd.uow, actor=CSR, customer_id=999_999, channel="sms", secret_key=KEY)
    with pytest.raises(InvalidInput):
        identity.send_code(
            fd.uow, actor=CSR, customer_id=customer_id, channel="fax", secret_key=KEY
        )
    with pytest.raises(InvalidInput, match="six-digit"):
        identity.verify_code(
            fd.uow, actor=CSR, customer_id=customer_id, channel="sms", code="12", secret_key=KEY
        )
    with pytest.raises(Forbidden):
        identity.send_code(
            fd.uow, actor=PUBLIC_ACTOR, customer_id=customer_id, channel="sms", secret_key=KEY
        )
    with fd.uow() as uow:
        uow.session.execute(sa.update(Customer).values(phone=None))
        uow.commit()
    with pytest.raises(Refused, match="no phone"):
        identity.send_code(
            fd.uow, actor=CSR, customer_id=customer_id, channel="sms", secret_key=KEY
        )


def test_the_account_at_a_glance_and_whose_order_or_visit_it_is(fd: Fiberdesk) -> None:
    active = make_active_customers(fd, per_nap=1, naps=("NAP-A",))
    customer_id, serial = active.customer_ids[0], active.serials[0]
    staff = make_field_staff(fd)
    with fd.uow() as uow:
        order = ServiceOrder(
            customer_id=customer_id, type=OrderType.NEW_INSTALL, status=OrderStatus.COMPLETED
        )
        uow.session.add(order)
        uow.session.flush()
        visit = Appointment(
            order_id=order.id,
            technician_id=staff.technician_ids[0],
            day=date(2026, 3, 2),
            window_code="AM",
            window_start=time(8),
            window_end=time(12),
            status=AppointmentStatus.COMPLETED,
        )
        uow.session.add(visit)
        uow.session.flush()
        order_id, visit_id = order.id, visit.id
        uow.commit()
    with fd.uow(write=False) as uow:
        summary = accounts.account_summary(uow, actor=CSR, customer_id=customer_id)
        assert summary.plan is not None and summary.plan.code == "PLUS"
        assert [(e.type, e.serial, e.status) for e in summary.equipment] == [
            ("ONT", serial, "INSTALLED")
        ]
        (line,) = summary.orders
        assert (line.id, line.type, line.status) == (order_id, "NEW_INSTALL", "COMPLETED")
        assert [(v.appointment_id, v.window, v.technician) for v in line.visits] == [
            (visit_id, "AM", "Tech 1")
        ]
        assert accounts.order_customer(uow, actor=CSR, order_id=order_id) == customer_id
        assert accounts.appointment_customer(uow, actor=CSR, appointment_id=visit_id) == (
            customer_id
        )
        with pytest.raises(NotFound):
            accounts.appointment_customer(uow, actor=CSR, appointment_id=999_999)
        with pytest.raises(NotFound):
            accounts.order_customer(uow, actor=CSR, order_id=999_999)
        with pytest.raises(NotFound):
            accounts.account_summary(uow, actor=CSR, customer_id=999_999)
        with pytest.raises(InvalidInput):
            accounts.account_summary(uow, actor=CSR, customer_id=customer_id, orders=0)
        with pytest.raises(Forbidden):
            accounts.account_summary(uow, actor=PUBLIC_ACTOR, customer_id=customer_id)
        plans = accounts.list_plans(uow)
    assert [p.code for p in plans][:3] == ["BASIC", "STANDARD", "PLUS"]
    assert all(p.monthly_price > 0 for p in plans)


def test_a_message_sent_by_hand_is_queued_once_and_audited(fd: Fiberdesk) -> None:
    customer_id = _customer(fd)
    context = {
        "customer_name": "Ann",
        "ticket_number": "TKT-000001",
        "category": "Other",
        "status": "Open",
    }
    for _ in range(2):  # the same key is one message
        with fd.uow() as uow:
            sent = outreach.send_to_customer(
                uow,
                actor=CSR,
                customer_id=customer_id,
                kind="ticket_updated",
                context=context,
                key="k1",
            )
    assert (sent.kind, sent.channel, sent.customer_id) == ("ticket_updated", "email", customer_id)
    with fd.uow(write=False) as uow:
        rows = uow.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.kind == "ticket_updated")
        ).all()
        assert len(rows) == 1 and rows[0].recipient == sent.recipient
        assert rows[0].context == context
    assert _actions(fd, "message.") == ["message.send", "message.send"]
    with fd.uow() as uow, pytest.raises(Forbidden):
        outreach.send_to_customer(
            uow,
            actor=NOC,
            customer_id=customer_id,
            kind="ticket_updated",
            context=context,
            key="k2",
        )
    with fd.uow() as uow, pytest.raises(InvalidInput):
        outreach.send_to_customer(
            uow,
            actor=CSR,
            customer_id=customer_id,
            kind="ticket_updated",
            context=context,
            key="k3",
            channel="fax",
        )
    with fd.uow() as uow:
        uow.session.execute(sa.update(Customer).values(phone=None))
        uow.commit()
    with fd.uow() as uow, pytest.raises(Refused, match="no phone"):
        outreach.send_to_customer(
            uow,
            actor=CSR,
            customer_id=customer_id,
            kind="ticket_updated",
            context=context,
            key="k4",
            channel="sms",
        )
