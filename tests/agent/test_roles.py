"""Scenario (e) and the other roles: a token's role decides which tools are listed and
which calls are allowed; a technician sees no billing tools, and calling one is refused."""

from __future__ import annotations

import time

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from fiberdesk.agent.tools import REGISTRY
from fiberdesk.domain.users import SYSTEM_ACTOR, Actor, Channel, Role
from fiberdesk.services import auth
from tests.agent.harness import Agent, World, assert_audited, stdio_agent
from tests.agent.scenarios import active_on_olt, billed

TECHNICIAN = "tech.lisa.rose"
BILLING_TOOLS = {
    "billing_account",
    "disconnect_service",
    "suspend_service",
    "change_tier",
    "add_payment_method",
    "credit_check",
}


def test_e_a_technician_is_not_shown_billing_tools_and_is_refused_them(world: World) -> None:
    customer_id, _ = active_on_olt(world)[0]
    billed(world, customer_id)
    token = world.token(TECHNICIAN)

    async def scenario() -> Agent:
        async with stdio_agent(world, token) as agent:
            listed = await agent.tool_names()
            assert listed.isdisjoint(BILLING_TOOLS)
            # a technician works from their own work orders, not a search of everyone
            assert "find_customer" not in listed
            assert {
                "customer_context",
                "run_diagnostics",
                "assign_equipment",
                "activate_service",
                "verify_identity",
                "outages_in_area",
            } <= listed
            technician = Actor("t", Role.TECHNICIAN, Channel.AGENT)
            assert listed == {s.name for s in REGISTRY.for_actor(technician)}
            account = await agent.refused("billing_account", customer_id=customer_id)
            assert account["error"] == "forbidden" and "billing:read" in account["reason"]
            close = await agent.refused(
                "disconnect_service", customer_id=customer_id, churn_reason="price"
            )
            assert close["error"] == "forbidden"
            context = await agent.ok("customer_context", customer_id=customer_id)
            assert context["balance"].startswith("not shown")
            assert "balance" not in context["live_diagnostics"]
            assert context["live_diagnostics"]["registered"] is True
            live = await agent.ok("run_diagnostics", customer_id=customer_id, ping=False)
            assert "balance" not in live and "standing" not in live
            return agent

    agent = anyio.run(scenario)
    rows = assert_audited(world, TECHNICIAN, agent)
    assert [r.after["outcome"] for r in rows if r.after] == ["refused", "refused", "ok", "ok"]


def test_a_supervisor_sees_the_reports_that_a_csr_does_not(world: World) -> None:
    customer_id, _ = active_on_olt(world)[0]
    billed(world, customer_id)
    supervisor, csr = world.token("supervisor"), world.token("csr")

    async def scenario() -> tuple[Agent, Agent]:
        async with stdio_agent(world, supervisor) as boss:
            assert await boss.tool_names() == {s.name for s in REGISTRY.all()}
            metrics = (await boss.ok("key_metrics", team="CSR"))["kpis"]
            assert len(metrics) == 5 and all(m["team"] == "CSR" for m in metrics)
            account = (await boss.ok("billing_account", customer_id=customer_id))["account"]
            assert account["customer_id"] == customer_id and account["standing"]
            context = await boss.ok("customer_context", customer_id=customer_id)
            assert context["balance"]["standing"] == account["standing"]
            assert context["balance"]["balance"] == account["balance"]
        async with stdio_agent(world, csr) as rep:
            listed = await rep.tool_names()
            assert "key_metrics" not in listed and "billing_account" in listed
            refusal = await rep.refused("key_metrics")
            assert refusal["error"] == "forbidden" and "reports:read" in refusal["reason"]
        return boss, rep

    boss, rep = anyio.run(scenario)
    rows = world.agent_audit()
    assert [r.actor for r in rows] == ["supervisor"] * 3 + ["csr"]
    assert [r.action for r in rows] == [f"agent.{n}" for n in boss.calls + rep.calls]


def test_a_revoked_token_stops_the_session_at_its_next_request(world: World) -> None:
    customer_id, _ = active_on_olt(world)[0]
    token = world.token("csr")
    with world.app.uow(write=False) as uow:
        token_id = auth.actor_for_token(uow, secret=token, channel=Channel.AGENT).token_id
    assert token_id is not None

    # a server process may trust a token it checked a moment ago for as long as the API's
    # token cache says; after that, the revocation (made by this other process) must show
    patience = getattr(auth, "TOKEN_CACHE_TTL_S", 0.0) + 15

    async def scenario() -> Agent:
        async with stdio_agent(world, token) as agent:
            await agent.ok("customer_context", customer_id=customer_id)
            with world.app.uow() as uow:
                auth.revoke_token(uow, actor=SYSTEM_ACTOR, token_id=token_id)
            deadline = time.monotonic() + patience
            while not (await agent.call("customer_context", customer_id=customer_id)).is_error:
                assert time.monotonic() < deadline, "the revoked token kept working"
                await anyio.sleep(1)
            refusal = await agent.refused("customer_context", customer_id=customer_id)
            assert refusal["error"] == "unauthorized" and "revoked" in refusal["reason"]
            with pytest.raises(MCPError, match="revoked"):
                await agent.session.list_tools()
            return agent

    agent = anyio.run(scenario)
    rows = assert_audited(world, "csr", agent)
    outcomes = [r.after["outcome"] for r in rows if r.after]
    assert outcomes[0] == "ok" and outcomes[-2:] == ["refused", "refused"]
    assert rows[-1].after is not None and "revoked" in rows[-1].after["reason"]
