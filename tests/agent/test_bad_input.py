"""Bad input comes back as a tool error with its reason, and changes nothing: unknown
tools and arguments, wrong types, unknown records, and confirmation tokens that do not
match their preview or have expired."""

from __future__ import annotations

import time
from typing import Any

import anyio

from fiberdesk.domain.customers import ServiceStatus
from tests.agent.harness import Agent, World, assert_audited, stdio_agent
from tests.agent.scenarios import in_days, plan_of, status_of, upgradable

UNKNOWN = 999_999


def _problems(refusal: dict[str, object]) -> dict[str, str]:
    problems = refusal["problems"]
    assert isinstance(problems, list)
    return {p["field"]: p["problem"] for p in problems}


BAD_ARGUMENTS: list[tuple[str, dict[str, object], str, str]] = [
    ("find_customer", {"query": "an", "colour": "red"}, "colour", "unknown argument"),
    ("customer_context", {"customer_id": "12"}, "customer_id", "valid integer"),
    ("customer_context", {"customer_id": 1.5}, "customer_id", "valid integer"),
    ("customer_context", {}, "customer_id", "Field required"),
    ("customer_context", {"customer_id": 0}, "customer_id", "greater than or equal to 1"),
    ("run_diagnostics", {"customer_id": 1, "ping": "yes"}, "ping", "valid boolean"),
    (
        "create_ticket",
        {"customer_id": 1, "category": "BROKEN", "description": "x"},
        "category",
        "Input should be",
    ),
    ("find_installation_windows", {"order_id": 1, "start": "soon"}, "start", "date"),
    ("verify_identity", {"customer_id": 1, "code": "12ab56"}, "code", "pattern"),
    ("change_tier", {"customer_id": 1, "plan": 5}, "plan", "valid string"),
    ("send_message", {"customer_id": 1, "kind": "identity_code"}, "kind", "Input should"),
    ("check_availability", {"address": "1 Main St", "premises_id": 3}, "arguments", "exactly one"),
]


def test_arguments_that_do_not_fit_are_refused_with_the_field_and_the_problem(
    world: World,
) -> None:
    token = world.token("csr")

    async def scenario() -> Agent:
        async with stdio_agent(world, token) as agent:
            for tool, arguments, field, problem in BAD_ARGUMENTS:
                refusal = await agent.refused(tool, **arguments)
                assert refusal["error"] == "invalid-arguments", (tool, refusal)
                assert problem in _problems(refusal)[field], (tool, refusal)
                assert field in refusal["reason"]
            return agent

    agent = anyio.run(scenario)
    rows = assert_audited(world, "csr", agent)
    assert len(rows) == len(BAD_ARGUMENTS)
    assert all(r.after and r.after["error"] == "invalid-arguments" for r in rows)


def test_unknown_tools_customers_and_records_are_tool_errors(world: World) -> None:
    token = world.token("csr")
    customer_id, _name = upgradable(world)

    async def scenario() -> Agent:
        async with stdio_agent(world, token) as agent:
            unknown_tool = await agent.refused("drop_tables", customer_id=1)
            assert unknown_tool["error"] == "unknown-tool"
            unknown: list[tuple[str, dict[str, Any]]] = [
                ("customer_context", {"customer_id": UNKNOWN}),
                ("run_diagnostics", {"customer_id": UNKNOWN}),
                ("change_tier", {"customer_id": UNKNOWN, "plan": "GIGABIT"}),
                ("disconnect_service", {"customer_id": UNKNOWN, "churn_reason": "price"}),
                ("send_identity_code", {"customer_id": UNKNOWN}),
                ("get_order", {"order_id": UNKNOWN}),
                ("book_installation", {"order_id": UNKNOWN, "day": in_days(3), "window": "AM"}),
                ("cancel_appointment", {"appointment_id": UNKNOWN, "reason": "x"}),
                ("update_ticket", {"ticket_id": UNKNOWN, "note": "x"}),
            ]
            for tool, arguments in unknown:
                refusal = await agent.refused(tool, **arguments)
                assert refusal["error"] == "not-found", (tool, refusal)
                assert str(UNKNOWN) in refusal["reason"]
            ticket = await agent.refused(
                "create_ticket", customer_id=UNKNOWN, category="OTHER", description="hello"
            )
            assert ticket["reason"] == f"no customer {UNKNOWN}"
            # a template's fields are checked before anything is queued
            missing = await agent.refused(
                "send_message", customer_id=customer_id, kind="ticket_updated", fields={}
            )
            assert missing["error"] == "invalid-input" and "needs" in missing["reason"]
            extra = await agent.refused(
                "send_message",
                customer_id=customer_id,
                kind="ticket_updated",
                fields={"ticket_number": "TKT-1", "category": "x", "status": "y", "colour": 1},
            )
            assert "has no field colour" in extra["reason"]
            return agent

    agent = anyio.run(scenario)
    rows = assert_audited(world, "csr", agent)
    assert len(rows) == 13 and all(r.after and r.after["outcome"] == "refused" for r in rows)
    assert rows[1].entity_type == "customer" and rows[1].entity_id == str(UNKNOWN)


def test_mismatching_confirmation_tokens_are_refused_and_change_nothing(world: World) -> None:
    first, _ = upgradable(world)
    second, _ = upgradable(world, skip=1)
    token = world.token("csr")

    async def verify(agent: Agent, customer_id: int) -> None:
        await agent.ok("send_identity_code", customer_id=customer_id)
        await agent.ok(
            "verify_identity", customer_id=customer_id, code=world.code_sent_to(customer_id)
        )

    async def scenario() -> Agent:
        async with stdio_agent(world, token) as agent:
            await verify(agent, first)
            await verify(agent, second)
            preview = await agent.ok("change_tier", customer_id=first, plan="PREMIUM")
            confirm = preview["confirm"]
            wrong = [
                ("change_tier", {"customer_id": first, "plan": "GIGABIT"}, "different preview"),
                ("change_tier", {"customer_id": second, "plan": "PREMIUM"}, "different preview"),
                (
                    "suspend_service",
                    {"customer_id": first, "until": in_days(14)},
                    "different preview",
                ),
            ]
            for tool, arguments, reason in wrong:
                refusal = await agent.refused(tool, confirm=confirm, **arguments)
                assert reason in refusal["reason"] and refusal["field"] == "confirm"
            forged = await agent.refused(
                "change_tier", customer_id=first, plan="PREMIUM", confirm=confirm[:-4] + "0000"
            )
            assert "not issued by a preview" in forged["reason"]
            assert (plan_of(world, first), plan_of(world, second)) == ("STANDARD", "STANDARD")
            # the right token still works after all that
            done = await agent.ok("change_tier", customer_id=first, plan="PREMIUM", confirm=confirm)
            assert done["done"] is True
            return agent

    agent = anyio.run(scenario)
    assert (plan_of(world, first), plan_of(world, second)) == ("PREMIUM", "STANDARD")
    rows = assert_audited(world, "csr", agent)
    assert [r.after["outcome"] for r in rows[-6:] if r.after] == [
        "preview",
        "refused",
        "refused",
        "refused",
        "refused",
        "ok",
    ]


def test_expired_confirmation_tokens_are_refused_and_change_nothing(world: World) -> None:
    customer_id, _ = upgradable(world)
    token = world.token("csr")

    async def scenario() -> Agent:
        async with stdio_agent(world, token, "--preview-seconds", "1") as agent:
            await agent.ok("send_identity_code", customer_id=customer_id)
            await agent.ok(
                "verify_identity", customer_id=customer_id, code=world.code_sent_to(customer_id)
            )
            tier = await agent.ok("change_tier", customer_id=customer_id, plan="PREMIUM")
            hold = await agent.ok("suspend_service", customer_id=customer_id, until=in_days(10))
            assert tier["done"] is False and hold["done"] is False
            time.sleep(1.5)
            late_tier = await agent.refused(
                "change_tier", customer_id=customer_id, plan="PREMIUM", confirm=tier["confirm"]
            )
            late_hold = await agent.refused(
                "suspend_service",
                customer_id=customer_id,
                until=in_days(10),
                confirm=hold["confirm"],
            )
            for refusal in (late_tier, late_hold):
                assert "the preview has expired" in refusal["reason"]
                assert refusal["field"] == "confirm"
            return agent

    agent = anyio.run(scenario)
    assert plan_of(world, customer_id) == "STANDARD"
    assert status_of(world, customer_id) is ServiceStatus.ACTIVE
    rows = assert_audited(world, "csr", agent)
    assert [r.after["outcome"] for r in rows if r.after] == [
        "ok",
        "ok",
        "preview",
        "preview",
        "refused",
        "refused",
    ]
