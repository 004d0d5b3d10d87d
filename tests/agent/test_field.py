"""The field steps through the agent tools: a technician's assistant verifies the customer
on site, registers the ONT on the OLT and activates the service with the speed test."""

from __future__ import annotations

import anyio
import sqlalchemy as sa

from fiberdesk.db.models import BillingAccount, Customer, Plan, ServiceOrder
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.orders import OrderStatus, OrderType
from tests.agent.harness import Agent, World, assert_audited, stdio_agent
from tests.agent.scenarios import status_of

TECHNICIAN = "tech.ann.khan"


def _visit_today(world: World) -> tuple[int, int, int, int]:
    """A booked installation with its ONT assigned but not yet registered on the OLT:
    (order, customer, plan down, plan up)."""
    with world.app.uow(write=False) as uow:
        rows = uow.session.execute(
            sa.select(ServiceOrder, Plan.download_mbps, Plan.upload_mbps)
            .join(Customer, Customer.id == ServiceOrder.customer_id)
            .join(Plan, Plan.id == ServiceOrder.plan_id)
            .where(
                ServiceOrder.type == OrderType.NEW_INSTALL,
                ServiceOrder.status == OrderStatus.SCHEDULED,
                Customer.status == ServiceStatus.SCHEDULED,
                Plan.code != "BUSINESS",
            )
            .order_by(ServiceOrder.id)
        ).all()
    for order, down, up in rows:
        details = order.details
        ready = details.get("ont_serial") and not details.get("provisioned")
        if ready and details.get("checklist", {}).get("network") == "SERVICEABLE":
            return order.id, order.customer_id, down, up
    raise AssertionError("the demo has no booked installation ready for the field")


def test_a_technician_registers_the_ont_and_activates_after_verifying_the_customer(
    world: World,
) -> None:
    order_id, customer_id, down, up = _visit_today(world)
    token = world.token(TECHNICIAN)

    async def scenario() -> Agent:
        async with stdio_agent(world, token) as agent:
            early = await agent.refused("assign_equipment", order_id=order_id)
            assert early["needs"] == "identity_verification"
            await agent.ok("send_identity_code", customer_id=customer_id, channel="sms")
            await agent.ok(
                "verify_identity", customer_id=customer_id, code=world.code_sent_to(customer_id)
            )
            order = (await agent.ok("assign_equipment", order_id=order_id))["order"]
            assert order["details"]["provisioned"] and order["details"]["ont_serial"]
            slow = await agent.refused(
                "activate_service",
                order_id=order_id,
                physical_confirmed=True,
                download_mbps=down * 0.5,
                upload_mbps=up * 0.5,
            )
            assert slow["error"] == "refused" and "under 90%" in slow["reason"]
            assert status_of(world, customer_id) is ServiceStatus.INSTALLING  # on site
            done = (
                await agent.ok(
                    "activate_service",
                    order_id=order_id,
                    physical_confirmed=True,
                    download_mbps=down * 0.97,
                    upload_mbps=up * 0.98,
                )
            )["order"]
            assert done["customer_status"] == "ACTIVE" and done["status"] == "COMPLETED"
            return agent

    agent = anyio.run(scenario)
    assert status_of(world, customer_id) is ServiceStatus.ACTIVE
    assert world.scalar(
        sa.select(BillingAccount.id).where(BillingAccount.customer_id == customer_id)
    )
    rows = assert_audited(world, TECHNICIAN, agent)
    assert [r.after["outcome"] for r in rows if r.after] == [
        "refused",
        "ok",
        "ok",
        "ok",
        "refused",
        "ok",
    ]
