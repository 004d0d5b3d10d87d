"""Scenarios (c) and (d): an upgrade done the safe way (identity verified, preview shown,
then confirmed), and every way an account change is refused before that."""

from __future__ import annotations

from typing import Any

import anyio
import sqlalchemy as sa

from fiberdesk.db.models import Appointment, AuditEntry, ServiceOrder, SimOnt
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.services.diagnostics import ont_serial_of
from tests.agent.harness import World, assert_audited, stdio_agent
from tests.agent.scenarios import (
    active_on_olt,
    billed,
    booked_visit,
    in_days,
    in_status,
    open_signup,
    plan_of,
    status_of,
    upgradable,
)


def test_c_upgrade_after_identity_verification_and_confirmation(world: World) -> None:
    customer_id, name = upgradable(world, "PREMIUM")
    token = world.token("csr")

    async def scenario() -> None:
        async with stdio_agent(world, token) as agent:
            found = await agent.ok("find_customer", query=name, status="ACTIVE")
            assert customer_id in [m["customer_id"] for m in found["matches"]]
            context = await agent.ok("customer_context", customer_id=customer_id)
            assert context["tier"]["code"] == "STANDARD"
            assert context["identity_verified_in_session"] is False
            sent = await agent.ok("send_identity_code", customer_id=customer_id, channel="sms")
            assert "•" in sent["sent_to"]
            await agent.ok(
                "verify_identity", customer_id=customer_id, code=world.code_sent_to(customer_id)
            )
            preview = await agent.ok("change_tier", customer_id=customer_id, plan="PREMIUM")
            assert preview["done"] is False
            shown = preview["preview"]
            assert (shown["from_plan"], shown["to_plan"], shown["direction"]) == (
                "STANDARD",
                "PREMIUM",
                "UPGRADE",
            )
            assert "token" not in shown and len(preview["confirm"]) > 20
            assert plan_of(world, customer_id) == "STANDARD"  # a preview changes nothing
            done = await agent.ok(
                "change_tier", customer_id=customer_id, plan="PREMIUM", confirm=preview["confirm"]
            )
            assert done["done"] is True and done["change"]["net"] == shown["net"]
            after = await agent.ok("customer_context", customer_id=customer_id)
            assert after["tier"]["code"] == "PREMIUM"
            # the token was spent: the same confirmation cannot be used twice
            again = await agent.refused(
                "change_tier", customer_id=customer_id, plan="PREMIUM", confirm=preview["confirm"]
            )
            assert again["field"] == "confirm"

        assert plan_of(world, customer_id) == "PREMIUM"
        with world.app.uow(write=False) as uow:
            serial = ont_serial_of(uow.session, customer_id)
            ont = uow.session.scalar(sa.select(SimOnt).where(SimOnt.serial == serial))
            assert ont is not None and ont.down_mbps == 500  # the OLT has the new profile
            change = uow.session.scalar(
                sa.select(AuditEntry).where(
                    AuditEntry.action == "customer.upgrade",
                    AuditEntry.entity_id == str(customer_id),
                )
            )
            assert change is not None and (change.actor, change.via) == ("csr", "agent")
        rows = assert_audited(world, "csr", agent)
        assert [r.after["outcome"] for r in rows if r.after] == [
            "ok",
            "ok",
            "ok",
            "ok",
            "preview",
            "ok",
            "ok",
            "refused",
        ]

    anyio.run(scenario)


def test_d_no_account_change_before_identity_and_no_disconnect_unconfirmed(
    world: World,
) -> None:
    (active, _), (other, _) = active_on_olt(world)[:2]
    billed(world, active)
    suspended = in_status(world, ServiceStatus.SUSPENDED)
    scheduled, visit = booked_visit(world)
    pending, order_id = open_signup(world)
    steps = world.scalar(sa.select(ServiceOrder.steps).where(ServiceOrder.id == order_id))
    plan = plan_of(world, active)
    target = "BASIC" if plan != "BASIC" else "STANDARD"
    token = world.token("csr")

    async def scenario() -> None:
        async with stdio_agent(world, token) as agent:
            attempts: list[tuple[str, dict[str, Any]]] = [
                ("change_tier", {"customer_id": active, "plan": target}),
                ("suspend_service", {"customer_id": active, "until": in_days(14)}),
                ("disconnect_service", {"customer_id": active, "churn_reason": "price"}),
                ("relocate", {"customer_id": active, "new_premises_id": 1}),
                ("resume_service", {"customer_id": suspended}),
                ("cancel_appointment", {"appointment_id": visit, "reason": "customer asked"}),
                ("credit_check", {"order_id": order_id, "date_of_birth": "1980-04-02"}),
            ]
            for name, arguments in attempts:
                refusal = await agent.refused(name, **arguments)
                assert refusal["error"] == "refused", (name, refusal)
                assert refusal["needs"] == "identity_verification", (name, refusal)
                assert "has not been verified in this session" in refusal["reason"]
            # a wrong code verifies nobody
            await agent.ok("send_identity_code", customer_id=active, channel="email")
            right = world.code_sent_to(active)
            wrong = "000000" if right != "000000" else "111111"
            bad = await agent.refused(
                "verify_identity", customer_id=active, code=wrong, channel="email"
            )
            assert "does not match (4 attempts left)" in bad["reason"]
            still = await agent.refused("change_tier", customer_id=active, plan=target)
            assert still["needs"] == "identity_verification"
            # verifying one customer does not open another's account
            await agent.ok("verify_identity", customer_id=active, code=right, channel="email")
            other_refusal = await agent.refused("resume_service", customer_id=suspended)
            assert other_refusal["customer_id"] == suspended
            # a disconnection without confirmation is only a preview
            preview = await agent.ok("disconnect_service", customer_id=active, churn_reason="price")
            assert preview["done"] is False and preview["preview"]["final_bill"]["lines"]
            assert status_of(world, active) is ServiceStatus.ACTIVE
            made_up = await agent.refused(
                "disconnect_service",
                customer_id=active,
                churn_reason="price",
                confirm="made-up-token-123",
            )
            assert "not issued by a preview in this session" in made_up["reason"]
            other_reason = await agent.refused(
                "disconnect_service",
                customer_id=active,
                churn_reason="competitor",
                confirm=preview["confirm"],
            )
            assert "belongs to a different preview" in other_reason["reason"]
            assert status_of(world, active) is ServiceStatus.ACTIVE
            closed = await agent.ok(
                "disconnect_service",
                customer_id=active,
                churn_reason="price",
                confirm=preview["confirm"],
            )
            assert closed["done"] is True

        assert status_of(world, active) is ServiceStatus.DISCONNECTED
        assert status_of(world, other) is ServiceStatus.ACTIVE
        assert plan_of(world, active) == plan
        assert status_of(world, suspended) is ServiceStatus.SUSPENDED
        assert status_of(world, scheduled) is ServiceStatus.SCHEDULED
        appointment = world.scalar(sa.select(Appointment).where(Appointment.id == visit))
        assert appointment.status.value == "BOOKED"
        order = world.scalar(sa.select(ServiceOrder).where(ServiceOrder.id == order_id))
        assert order.steps == steps  # not even a refusal was recorded on the order
        assert status_of(world, pending) is ServiceStatus.PENDING
        rows = assert_audited(world, "csr", agent)
        refused = [r for r in rows if r.after and r.after["outcome"] == "refused"]
        assert len(refused) == 12
        assert all(r.after and r.after["reason"] for r in refused)
        assert {r.entity_id for r in refused[:4]} == {str(active)}

    anyio.run(scenario)
