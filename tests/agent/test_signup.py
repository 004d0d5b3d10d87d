"""Scenario (a): an assistant signs a new customer up, from the address they give to a
booked installation, through ``fiberdesk mcp`` over stdio."""

from __future__ import annotations

import anyio
import sqlalchemy as sa

from fiberdesk.db.models import Appointment, Customer, OutboxMessage, Premises, Technician
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services.qualification import qualify_premises
from tests.agent.harness import World, assert_audited, stdio_agent


def _serviceable_address(world: World) -> tuple[int, str]:
    """A premises with nobody on it, fiber within reach, in a technician's zone."""
    with world.app.uow(write=False) as uow:
        s = uow.session
        zones = {z for t in s.scalars(sa.select(Technician)) for z in t.zones}
        served = sa.select(Customer.premises_id).where(Customer.premises_id.is_not(None))
        candidates = s.scalars(
            sa.select(Premises)
            .where(Premises.zip.in_(zones), Premises.id.not_in(served))
            .order_by(Premises.id)
            .limit(200)
        ).all()
        for p in candidates:
            q = qualify_premises(uow, actor=SYSTEM_ACTOR, premises_id=p.id, rules=world.app.rules)
            if q.decision is not None and q.decision.value == "SERVICEABLE":
                return p.id, p.label
    raise AssertionError("the demo has no serviceable free premises")


def test_a_new_customer_from_address_to_booked_installation(world: World) -> None:
    premises_id, address = _serviceable_address(world)
    token = world.token("csr")

    async def scenario() -> None:
        async with stdio_agent(world, token) as agent:
            # INQUIRY: the address as the customer says it, then a quote
            found = await agent.ok("check_availability", address=address.title())
            assert found["decision"] == "SERVICEABLE"
            assert found["premises"]["premises_id"] == premises_id
            offered = [t["code"] for t in found["tiers"] if t["offered"]]
            assert "PLUS" in offered
            quote = (
                await agent.ok("create_quote", premises_id=premises_id, plan="PLUS", term="12M")
            )["quote"]
            assert quote["plan_code"] == "PLUS" and quote["status"] == "OPEN"
            # SIGN-UP: the order makes a PENDING customer who still needs four steps
            order = (
                await agent.ok(
                    "create_order",
                    quote=quote["reference"],
                    name="Robin Fiber",
                    email="robin.fiber@example.com",
                    phone="410-555-0123",
                    access_notes="Gate code 4411",
                )
            )["order"]
            order_id, customer_id = order["id"], order["customer_id"]
            assert order["customer_status"] == "PENDING"
            assert order["missing"] == ["identity", "credit", "payment", "contract"]
            sent = await agent.ok(
                "send_identity_code", customer_id=customer_id, order_id=order_id, channel="sms"
            )
            assert sent["sent_to"].endswith("0123")
            verified = await agent.ok(
                "verify_identity",
                customer_id=customer_id,
                order_id=order_id,
                code=world.code_sent_to(customer_id),
            )
            assert verified["verified"] is True
            credit = await agent.ok(
                "credit_check", order_id=order_id, date_of_birth="1980-04-02", ssn_last4="1111"
            )
            assert credit["outcome"] == "APPROVED"
            await agent.ok(
                "add_payment_method", order_id=order_id, payment_token=world.card_token()
            )
            ready = (
                await agent.ok("accept_contract", order_id=order_id, accepted_name="robin fiber")
            )["order"]
            assert ready["ready_to_schedule"] is True and ready["missing"] == []
            # INSTALLATION SCHEDULING: the earliest window, booked
            windows = (await agent.ok("find_installation_windows", order_id=order_id))["windows"]
            assert windows and windows[0]["available_technicians"] >= 1
            first = windows[0]
            booking = (
                await agent.ok(
                    "book_installation",
                    order_id=order_id,
                    day=first["day"],
                    window=first["window"],
                )
            )["booking"]
            assert (booking["day"], booking["window"]) == (first["day"], first["window"])
            context = await agent.ok("customer_context", customer_id=customer_id)
            assert context["status"]["code"] == "SCHEDULED"
            assert context["identity_verified_in_session"] is True
            visits = context["recent_orders"][0]["visits"]
            assert [v["appointment_id"] for v in visits] == [booking["appointment_id"]]
            calls = list(agent.calls)

        customer = world.scalar(sa.select(Customer).where(Customer.id == customer_id))
        assert customer.status is ServiceStatus.SCHEDULED and customer.name == "Robin Fiber"
        assert customer.premises_id == premises_id
        appointment = world.scalar(
            sa.select(Appointment).where(Appointment.id == booking["appointment_id"])
        )
        assert appointment.order_id == order_id and appointment.status.value == "BOOKED"
        confirmation = world.scalar(
            sa.select(OutboxMessage).where(
                OutboxMessage.kind == "installation_confirmation",
                OutboxMessage.customer_id == customer_id,
            )
        )
        assert confirmation is not None and confirmation.recipient == "robin.fiber@example.com"
        rows = assert_audited(world, "csr", agent)
        assert len(rows) == len(calls) == 11
        # the rows name the customer, and never hold the one-time code or the card token
        verify_row = rows[calls.index("verify_identity")]
        assert verify_row.entity_type == "customer" and verify_row.entity_id == str(customer_id)
        assert verify_row.after is not None
        assert verify_row.after["arguments"]["code"] == "[redacted]"
        payment_row = rows[calls.index("add_payment_method")]
        assert payment_row.after is not None
        assert payment_row.after["arguments"]["payment_token"] == "[redacted]"
        assert all(r.after and r.after["outcome"] == "ok" for r in rows)

    anyio.run(scenario)
