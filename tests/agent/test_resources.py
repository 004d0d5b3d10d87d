"""Resources (tiers, status codes, flows, templates) and the call-guide prompt."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import TextContent, TextResourceContents

from tests.agent.harness import Agent, World, stdio_agent


async def _read(agent: Agent, uri: str) -> Any:
    result = await agent.session.read_resource(uri)
    (content,) = result.contents
    assert isinstance(content, TextResourceContents)
    assert content.mime_type == "application/json"
    return json.loads(content.text)


def test_resources_and_the_prompt(world: World) -> None:
    token = world.token("csr")

    async def scenario() -> None:
        async with stdio_agent(world, token) as agent:
            listed = (await agent.session.list_resources()).resources
            assert [r.uri for r in listed] == [
                "fiberdesk://tiers",
                "fiberdesk://status-codes",
                "fiberdesk://flows",
                "fiberdesk://templates",
            ]
            templates = (await agent.session.list_resource_templates()).resource_templates
            assert [t.uri_template for t in templates] == [
                "fiberdesk://flows/{code}",
                "fiberdesk://templates/{kind}",
            ]
            tiers = {t["code"]: t for t in (await _read(agent, "fiberdesk://tiers"))["tiers"]}
            assert list(tiers) == ["BASIC", "STANDARD", "PLUS", "PREMIUM", "GIGABIT", "BUSINESS"]
            assert (tiers["GIGABIT"]["download_mbps"], tiers["GIGABIT"]["upload_mbps"]) == (
                1000,
                500,
            )
            assert tiers["BUSINESS"]["technologies"] == ["XGS_PON"]
            statuses = (await _read(agent, "fiberdesk://status-codes"))["statuses"]
            by_code = {s["code"]: s for s in statuses}
            assert list(by_code) == [
                "PENDING",
                "SCHEDULED",
                "INSTALLING",
                "ACTIVE",
                "SUSPENDED",
                "DISCONNECTED",
                "RELOCATING",
            ]
            assert by_code["SUSPENDED"]["meaning"] == "Payment/requested hold"
            assert "SCHEDULED" in by_code["PENDING"]["can_become"]
            assert by_code["DISCONNECTED"]["can_become"] == []
            flows = (await _read(agent, "fiberdesk://flows"))["flows"]
            assert {f["code"] for f in flows} == {"no_internet", "slow_internet", "intermittent"}
            flow = await _read(agent, "fiberdesk://flows/no_internet")
            nodes = {n["id"] for n in flow["definition"]["nodes"]}
            assert {"c_los", "q_lights", "o_outage"} <= nodes
            kinds = {
                k["kind"]: k for k in (await _read(agent, "fiberdesk://templates"))["templates"]
            }
            assert kinds["installation_confirmation"]["agent_may_send"] is True
            assert kinds["identity_code"]["agent_may_send"] is False
            one = await _read(agent, "fiberdesk://templates/outage_notification")
            assert "area" in [f["name"] for f in one["fields"]] and one["sample"]["subject"]
            for missing in ("fiberdesk://flows/nope", "fiberdesk://templates/nope", "https://x"):
                with pytest.raises(MCPError):
                    await agent.session.read_resource(missing)

            (prompt,) = (await agent.session.list_prompts()).prompts
            assert prompt.name == "customer_service_call"
            got = await agent.session.get_prompt(prompt.name, {"situation": "no_internet"})
            (message,) = got.messages
            assert isinstance(message.content, TextContent)
            text = message.content.text
            for needed in (
                "verify_identity",
                "confirm",
                "before you call a job done",
                "linked to it",
            ):
                assert needed.lower() in text.lower()
            with pytest.raises(MCPError):
                await agent.session.get_prompt(prompt.name, {"situation": "bored"})
            info = agent.session.initialize_result
            assert info is not None and info.instructions is not None
            assert "verify_identity" in info.instructions
            assert agent.calls == []

    anyio.run(scenario)
    assert world.agent_audit() == []  # reading is not a tool call
