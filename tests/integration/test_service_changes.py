"""Tier changes, relocation and disconnection (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import (
    Customer,
    EquipmentReturn,
    Invoice,
    LedgerEntry,
    NapPort,
    OutboxMessage,
    Plan,
    ServiceOrder,
)
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.errors import Conflict, InvalidInput, Refused
from fiberdesk.domain.network import NapPortStatus
from fiberdesk.domain.orders import OrderStatus, OrderType
from fiberdesk.domain.users import SYSTEM_ACTOR, Actor, Channel, Role
from fiberdesk.services import billing, changes, disconnect, relocation
from tests.factories import ActiveCustomers, make_active_customers, open_billing

SECRET = "test-secret-key"


@pytest.fixture
def active(fd: Fiberdesk) -> ActiveCustomers:
    return make_active_customers(fd, per_nap=2, naps=("NAP-A", "NAP-XGS"))


def _preview(fd: Fiberdesk, cid: int, plan: str, today: date) -> changes.ChangePreview:
    return changes.preview_change(
        fd.uow,
        actor=SYSTEM_ACTOR,
        customer_id=cid,
        plan_code=plan,
        rules=fd.rules,
        secret_key=SECRET,
        today=today,
    )


def test_upgrade_prorated_to_the_cent_and_profile_changed(
    fd: Fiberdesk, active: ActiveCustomers
) -> None:
    cid, serial = active.customer_ids[0], active.serials[0]
    open_billing(fd, cid, on=date(2026, 11, 1))  # cycle day 1
    today = date(2026, 11, 21)  # 10 of November's 30 days left
    p = _preview(fd, cid, "GIGABIT", today)
    assert (p.direction, p.days_left) == ("UPGRADE", 10)
    assert (p.credit_old, p.charge_new, p.net) == (
        Decimal("21.66"),
        Decimal("33.33"),
        Decimal("11.67"),
    )
    with pytest.raises(InvalidInput, match="confirmation"):
        changes.change_tier(
            fd.uow,
            actor=SYSTEM_ACTOR,
            network=fd.network,
            customer_id=cid,
            plan_code="GIGABIT",
            confirm="wrong.123",
            rules=fd.rules,
            secret_key=SECRET,
            today=today,
        )
    changes.change_tier(
        fd.uow,
        actor=SYSTEM_ACTOR,
        network=fd.network,
        customer_id=cid,
        plan_code="GIGABIT",
        confirm=p.token,
        rules=fd.rules,
        secret_key=SECRET,
        today=today,
    )
    assert fd.network.ont_status(serial=serial).profile == "GIGABIT-1000x500"
    with fd.uow(write=False) as uow:
        customer = uow.session.get(Customer, cid)
        plan = uow.session.scalar(sa.select(Plan.code).where(Plan.id == customer.plan_id))  # type: ignore[union-attr]
        assert plan == "GIGABIT"
        amounts = sorted(uow.session.scalars(sa.select(LedgerEntry.amount)))
        assert amounts == [Decimal("-21.66"), Decimal("33.33")]
        order = uow.session.scalar(
            sa.select(ServiceOrder).where(ServiceOrder.type == OrderType.UPGRADE)
        )
        assert order is not None and order.details["net"] == "11.67"


def test_downgrade_waits_for_the_next_cycle(fd: Fiberdesk, active: ActiveCustomers) -> None:
    cid, serial = active.customer_ids[0], active.serials[0]
    open_billing(fd, cid, on=date(2026, 11, 1))
    p = _preview(fd, cid, "BASIC", date(2026, 11, 21))
    assert p.direction == "DOWNGRADE" and p.net == 0
    changes.change_tier(
        fd.uow,
        actor=SYSTEM_ACTOR,
        network=fd.network,
        customer_id=cid,
        plan_code="BASIC",
        confirm=p.token,
        rules=fd.rules,
        secret_key=SECRET,
        today=date(2026, 11, 21),
    )
    assert fd.network.ont_status(serial=serial).profile == "PLUS-300x150"
    with pytest.raises(Conflict):
        _preview(fd, cid, "STANDARD", date(2026, 11, 22))
    assert (
        changes.apply_due_changes(
            fd.uow, actor=SYSTEM_ACTOR, network=fd.network, on=p.effective_on - timedelta(days=1)
        )
        == 0
    )
    assert (
        changes.apply_due_changes(fd.uow, actor=SYSTEM_ACTOR, network=fd.network, on=p.effective_on)
        == 1
    )
    assert fd.network.ont_status(serial=serial).profile == "BASIC-50x25"


def test_change_the_pon_cannot_carry_is_refused(fd: Fiberdesk, active: ActiveCustomers) -> None:
    cid = active.customer_ids[0]  # on NAP-A, a GPON tree
    open_billing(fd, cid, on=date(2026, 11, 1))
    with pytest.raises(Refused, match="XGS-PON"):
        _preview(fd, cid, "BUSINESS", date(2026, 11, 21))
    xgs = active.customer_ids[2]
    open_billing(fd, xgs, on=date(2026, 11, 1))
    assert _preview(fd, xgs, "BUSINESS", date(2026, 11, 21)).direction == "UPGRADE"


def test_relocation_keeps_service_until_the_new_address_is_live(
    fd: Fiberdesk, active: ActiveCustomers
) -> None:
    cid, serial = active.customer_ids[0], active.serials[0]
    open_billing(fd, cid, on=date(2026, 11, 1))
    world = active.world
    with pytest.raises(Refused, match="cannot be served"):
        relocation.start_relocation(
            fd.uow,
            actor=SYSTEM_ACTOR,
            customer_id=cid,
            new_premises_id=world.premises["no_coverage"],
            rules=fd.rules,
        )
    with fd.uow(write=False) as uow:
        assert uow.session.get(Customer, cid).status is ServiceStatus.ACTIVE  # type: ignore[union-attr]
    view = relocation.start_relocation(
        fd.uow,
        actor=SYSTEM_ACTOR,
        customer_id=cid,
        new_premises_id=world.premises["xgs"],
        rules=fd.rules,
        plan_code="GIGABIT",
    )
    assert view.customer_status is ServiceStatus.RELOCATING
    assert fd.network.ont_status(serial=serial).online, "service continues meanwhile"
    result = relocation.complete_relocation(
        fd.uow, actor=SYSTEM_ACTOR, network=fd.network, order_id=view.id, today=date(2026, 11, 21)
    )
    assert result.order.status is OrderStatus.COMPLETED
    assert result.proration == Decimal("11.67")
    status = fd.network.ont_status(serial=serial)
    assert status.online and status.profile == "GIGABIT-1000x500"
    with fd.uow(write=False) as uow:
        customer = uow.session.get(Customer, cid)
        assert customer is not None and customer.status is ServiceStatus.ACTIVE
        assert customer.premises_id == world.premises["xgs"]
        old = uow.session.scalar(
            sa.select(NapPort).where(
                NapPort.nap_id == world.naps["NAP-A"], NapPort.customer_id == cid
            )
        )
        assert old is None, "the old port is released"
        new = uow.session.scalar(sa.select(NapPort).where(NapPort.customer_id == cid))
        assert new is not None and new.status is NapPortStatus.IN_USE
        assert billing.account_of(uow.session, cid) is not None


def test_disconnect_final_bill_and_equipment_return(fd: Fiberdesk, active: ActiveCustomers) -> None:
    cid, serial = active.customer_ids[1], active.serials[1]
    open_billing(
        fd, cid, on=date(2026, 11, 1), card="4242424242424242", contract_months=12, deposit="100.00"
    )
    with fd.uow() as uow:
        billing.run_billing(
            uow, actor=SYSTEM_ACTOR, on=date(2026, 11, 1), settings=fd.billing_settings
        )
    on = date(2026, 11, 21)
    bill = disconnect.preview_disconnect(
        fd.uow,
        actor=SYSTEM_ACTOR,
        customer_id=cid,
        on=on,
        settings=fd.return_settings,
        secret_key=SECRET,
    )
    amounts = {
        line["description"].split(" (")[0].split(" Nov")[0]: Decimal(line["amount"])
        for line in bill.lines
    }
    assert amounts["Unused service"] == Decimal("-21.66")  # 10 of 30 days of 64.99
    assert amounts["Early termination"] == Decimal("137.50")  # 11 of 12 months left
    assert amounts["Security deposit returned"] == Decimal("-100.00")
    assert bill.equipment_to_return == [f"ONT {serial}"]
    with pytest.raises(InvalidInput):
        disconnect.disconnect(
            fd.uow,
            actor=SYSTEM_ACTOR,
            network=fd.network,
            gateway=fd.gateway,
            customer_id=cid,
            on=on,
            churn_reason="price",
            confirm="nope",
            settings=fd.return_settings,
            secret_key=SECRET,
        )
    disconnect.disconnect(
        fd.uow,
        actor=SYSTEM_ACTOR,
        network=fd.network,
        gateway=fd.gateway,
        customer_id=cid,
        on=on,
        churn_reason="price",
        confirm=bill.token,
        settings=fd.return_settings,
        secret_key=SECRET,
    )
    assert not fd.network.ont_status(serial=serial).registered
    with fd.uow(write=False) as uow:
        customer = uow.session.get(Customer, cid)
        assert customer is not None and customer.status is ServiceStatus.DISCONNECTED
        assert customer.churn_reason == "price"
        assert uow.session.scalar(sa.select(NapPort).where(NapPort.customer_id == cid)) is None
        final = uow.session.scalar(sa.select(Invoice).where(Invoice.kind == "FINAL"))
        assert final is not None
        assert billing.balance(uow.session, billing.account_of(uow.session, cid).id) == (
            bill.final_amount
        )
        msg = uow.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.kind == "disconnection_confirmation")
        )
        assert msg is not None and msg.context["final_bill_lines"]
    with pytest.raises(Refused, match="already closed"):
        disconnect.preview_disconnect(
            fd.uow,
            actor=SYSTEM_ACTOR,
            customer_id=cid,
            on=on,
            settings=fd.return_settings,
            secret_key=SECRET,
        )
    # the return: a reminder a week before, the fee after the date
    by = bill.return_by
    r = disconnect.run_returns(
        fd.uow, actor=SYSTEM_ACTOR, on=by - timedelta(days=5), settings=fd.return_settings
    )
    assert (r.reminders, r.fees) == (1, 0)
    r = disconnect.run_returns(
        fd.uow, actor=SYSTEM_ACTOR, on=by + timedelta(days=1), settings=fd.return_settings
    )
    assert r.fees == 1
    with fd.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(EquipmentReturn.fee_charged_on)) is not None


def test_a_relocation_without_a_port_at_the_new_address_is_refused(
    fd: Fiberdesk, active: ActiveCustomers
) -> None:
    cid = active.customer_ids[0]
    with fd.uow() as uow:
        customer = uow.session.get_one(Customer, cid)
        order = ServiceOrder(
            customer_id=cid,
            type=OrderType.RELOCATION,
            status=OrderStatus.SCHEDULED,
            plan_id=customer.plan_id,
            details={"new_premises_id": customer.premises_id, "new_address": "elsewhere"},
        )
        uow.session.add(order)
        uow.commit()
        order_id, nap_before = order.id, customer.nap_id
    with pytest.raises(Refused, match="holds no port at the new address"):
        relocation.complete_relocation(
            fd.uow, actor=SYSTEM_ACTOR, network=fd.network, order_id=order_id
        )
    with fd.uow(write=False) as uow:
        assert uow.session.get_one(ServiceOrder, order_id).status is OrderStatus.SCHEDULED
        assert uow.session.get_one(Customer, cid).nap_id == nap_before


def test_a_csr_disconnects_a_customer_owed_a_refund_and_billing_keeps_the_credit(
    fd: Fiberdesk, active: ActiveCustomers
) -> None:
    csr = Actor(name="casey", role=Role.CSR, channel=Channel.CONSOLE)
    cid = active.customer_ids[2]
    open_billing(fd, cid, on=date(2026, 11, 1), card="4242424242424242", deposit="100.00")
    with fd.uow() as uow:
        billing.run_billing(
            uow, actor=SYSTEM_ACTOR, on=date(2026, 11, 1), settings=fd.billing_settings
        )
    on = date(2026, 11, 21)
    bill = disconnect.preview_disconnect(
        fd.uow, actor=csr, customer_id=cid, on=on, settings=fd.return_settings, secret_key=SECRET
    )
    assert bill.final_amount < 0  # the deposit and unused days come back
    disconnect.disconnect(
        fd.uow,
        actor=csr,
        network=fd.network,
        gateway=fd.gateway,
        customer_id=cid,
        on=on,
        churn_reason="moving_out_of_area",
        confirm=bill.token,
        settings=fd.return_settings,
        secret_key=SECRET,
    )
    with fd.uow(write=False) as uow:
        customer = uow.session.get_one(Customer, cid)
        assert customer.status is ServiceStatus.DISCONNECTED
        account = billing.account_of(uow.session, cid)
        # no refund was attempted by the CSR: the credit waits for billing
        assert billing.balance(uow.session, account.id) == bill.final_amount
