"""Scenario (b): a customer calls with no internet; their ONT is in loss of signal because
of a fiber cut (a fault injected into the simulated OLT and picked up by the NOC's poll).
The assistant finds them, sees the outage, opens a ticket and runs the no-internet flow,
which ends with the ticket linked to the outage."""

from __future__ import annotations

from collections import defaultdict

import anyio
import sqlalchemy as sa

from fiberdesk.adapters.network.simulated import FaultKind, SimulatedOlt
from fiberdesk.db.models import (
    Customer,
    CustomerNote,
    Equipment,
    Nap,
    OutageCustomer,
    OutboxMessage,
    Premises,
    SimOnt,
    Ticket,
)
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType
from fiberdesk.domain.tickets import Team, TicketStatus
from fiberdesk.domain.users import Actor, Channel, Role
from fiberdesk.services import outages
from tests.agent.harness import World, assert_audited, stdio_agent

NOC = Actor(name="noc-poller", role=Role.NOC, channel=Channel.SYSTEM)


def _cut_the_fiber(world: World) -> tuple[int, str, str, int]:
    """Cut the fiber to the splitter serving the most active customers; the NOC polls.
    Returns one of its customers (id, name, ZIP) and the outage."""
    with world.app.uow(write=False) as uow:
        rows = uow.session.execute(
            sa.select(Customer.id, Customer.name, Nap.splitter_id, Premises.zip)
            .join(Nap, Nap.id == Customer.nap_id)
            .join(Premises, Premises.id == Customer.premises_id)
            .join(Equipment, Equipment.customer_id == Customer.id)
            .join(SimOnt, SimOnt.serial == Equipment.serial_number)
            .where(
                Customer.status == ServiceStatus.ACTIVE,
                Equipment.type == EquipmentType.ONT,
                Equipment.status == EquipmentStatus.INSTALLED,
            )
            .order_by(Customer.id)
        ).all()
    by_splitter: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for customer_id, name, splitter_id, zip_code in rows:
        by_splitter[splitter_id].append((customer_id, name, zip_code))
    splitter_id, served = max(by_splitter.items(), key=lambda kv: len(kv[1]))
    assert len(served) >= 2
    sim = world.app.network
    assert isinstance(sim, SimulatedOlt)
    sim.inject_fault(FaultKind.FIBER_CUT, splitter_id=splitter_id)
    polled = outages.poll(
        world.app.uow, actor=NOC, network=sim, settings=outages.settings_from(world.app.settings)
    )
    assert len(polled.correlation.opened) == 1
    customer_id, name, zip_code = served[0]
    outage_id = world.scalar(
        sa.select(OutageCustomer.outage_id).where(OutageCustomer.customer_id == customer_id)
    )
    assert outage_id == polled.correlation.opened[0]
    return customer_id, name, zip_code, outage_id


def test_b_no_internet_call_during_a_fiber_cut_ends_linked_to_the_outage(world: World) -> None:
    customer_id, name, zip_code, outage_id = _cut_the_fiber(world)
    token = world.token("csr")

    async def scenario() -> None:
        async with stdio_agent(world, token) as agent:
            found = await agent.ok("find_customer", query=name)
            assert customer_id in [m["customer_id"] for m in found["matches"]]
            context = await agent.ok("customer_context", customer_id=customer_id)
            live = context["live_diagnostics"]
            assert context["status"]["code"] == "ACTIVE"
            assert "LOS" in live["active_alarms"] and live["online"] is False
            assert [o["id"] for o in live["outages"]] == [outage_id]
            area = await agent.ok("outages_in_area", zip_code=zip_code)
            assert outage_id in [o["id"] for o in area["outages"]]
            ticket = (
                await agent.ok(
                    "create_ticket",
                    customer_id=customer_id,
                    category="NO_INTERNET",
                    description="No internet since this morning; the box's fiber light is red.",
                )
            )["ticket"]
            assert ticket["outage_id"] == outage_id
            flow = await agent.ok(
                "start_troubleshooting", ticket_id=ticket["id"], flow="no_internet"
            )
            session = flow["session"]
            assert session["status"] == "COMPLETED" and session["prompt"] is None
            assert session["outcome"]["kind"] == "ESCALATE_NOC"
            assert session["outcome"]["code"] == "AREA_OUTAGE"
            checks = {c["check"]: c["value"] for c in session["checks"]}
            assert checks["ont_los"] == "yes" and checks["area_outage"] == "yes"
            told = await agent.ok(
                "send_message",
                customer_id=customer_id,
                kind="ticket_updated",
                fields={
                    "ticket_number": ticket["number"],
                    "category": "No internet",
                    "status": "Escalated",
                    "description": "A fiber fault in your area; our engineers are on it.",
                },
                channel="email",
            )
            assert told["sent"]["kind"] == "ticket_updated" and told["subject"]
            await agent.ok(
                "add_note",
                customer_id=customer_id,
                content=f"No internet: part of outage #{outage_id}; customer told the ETA.",
            )

        saved = world.scalar(sa.select(Ticket).where(Ticket.id == ticket["id"]))
        assert saved.outage_id == outage_id
        assert saved.status is TicketStatus.ESCALATED and saved.team is Team.NOC
        message = world.scalar(
            sa.select(OutboxMessage).where(
                OutboxMessage.kind == "ticket_updated", OutboxMessage.customer_id == customer_id
            )
        )
        assert message is not None and message.context["ticket_number"] == ticket["number"]
        assert message.context["customer_name"] == name
        note = world.scalar(
            sa.select(CustomerNote)
            .where(CustomerNote.customer_id == customer_id)
            .order_by(CustomerNote.id.desc())
            .limit(1)
        )
        assert f"outage #{outage_id}" in note.content and note.created_by == "csr"
        rows = assert_audited(world, "csr", agent)
        assert len(rows) == 7
        assert rows[1].entity_type == "customer" and rows[1].entity_id == str(customer_id)

    anyio.run(scenario)
