"""The streamable-HTTP transport: ``fiberdesk mcp --http`` in its own process, reached with
the MCP SDK's streamable-HTTP client. A bearer token is required on every request, the
tool list is the token's role's, and each HTTP session keeps its own verifications."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import anyio
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from fiberdesk.agent.tools import REGISTRY
from fiberdesk.domain.users import Actor, Channel, Role
from tests.agent.harness import FIBERDESK, Agent, World
from tests.agent.scenarios import upgradable

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "raw-test", "version": "1"},
    },
}
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server(world: World) -> Iterator[str]:
    """``fiberdesk mcp --http`` on a free port; yields its /mcp URL."""
    port = _free_port()
    with (world.directory / "mcp-http.log").open("w") as log:
        process = subprocess.Popen(
            [str(FIBERDESK), "mcp", "--http", "--port", str(port)],
            env=world.env(),
            cwd=world.directory,
            stdout=log,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                assert process.poll() is None, (world.directory / "mcp-http.log").read_text()
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "the HTTP server did not start"
                    time.sleep(0.2)
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            process.terminate()
            process.wait(timeout=30)


@asynccontextmanager
async def http_agent(url: str, token: str | None) -> AsyncIterator[Agent]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield Agent(session)


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def test_no_token_or_a_bad_token_gets_401(world: World, server: str) -> None:
    for headers in ({}, {"Authorization": "Bearer fdk_000000000000_not-a-real-token"}):
        response = httpx2.post(server, json=INITIALIZE, headers={**ACCEPT, **headers})
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"
        assert response.headers["www-authenticate"].startswith("Bearer")

    async def official_client_without_token() -> None:
        async with http_agent(server, None):
            pass

    with pytest.raises(ExceptionGroup) as refused:
        anyio.run(official_client_without_token)
    assert any(isinstance(e, MCPError) for e in _leaves(refused.value))
    assert world.agent_audit() == []


def test_tools_with_a_token_and_identity_kept_per_session(world: World, server: str) -> None:
    customer_id, _ = upgradable(world)
    token = world.token("csr")

    async def scenario() -> tuple[Agent, Agent]:
        async with http_agent(server, token) as first:
            csr = Actor("x", Role.CSR, Channel.AGENT)
            assert await first.tool_names() == {s.name for s in REGISTRY.for_actor(csr)}
            resources = await first.session.list_resources()
            assert {r.name for r in resources.resources} >= {"tiers", "status-codes"}
            found = await first.ok("customer_context", customer_id=customer_id)
            assert found["customer_id"] == customer_id
            await first.ok("send_identity_code", customer_id=customer_id)
            await first.ok(
                "verify_identity", customer_id=customer_id, code=world.code_sent_to(customer_id)
            )
            async with http_agent(server, token) as second:
                # another HTTP session with the same token has verified nobody
                refusal = await second.refused(
                    "change_tier", customer_id=customer_id, plan="PREMIUM"
                )
                assert refusal["needs"] == "identity_verification"
            preview = await first.ok("change_tier", customer_id=customer_id, plan="PREMIUM")
            assert preview["done"] is False and preview["confirm"]
        return first, second

    first, second = anyio.run(scenario)
    rows = world.agent_audit()
    calls = [*first.calls[:3], *second.calls, first.calls[3]]
    assert [r.action for r in rows] == [f"agent.{c}" for c in calls]
    assert {(r.actor, r.via) for r in rows} == {("csr", "agent")}
    sessions = [r.after["session"] for r in rows if r.after]
    assert sessions[0] == sessions[1] == sessions[2] == sessions[4] != sessions[3]


def test_a_session_cannot_be_used_with_another_token(world: World, server: str) -> None:
    csr, supervisor = world.token("csr"), world.token("supervisor")
    opened = httpx2.post(
        server, json=INITIALIZE, headers={**ACCEPT, "Authorization": f"Bearer {csr}"}
    )
    assert opened.status_code == 200
    session_id = opened.headers["mcp-session-id"]
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
    hijack = httpx2.post(
        server,
        content=json.dumps(call),
        headers={
            **ACCEPT,
            "Authorization": f"Bearer {supervisor}",
            "mcp-session-id": session_id,
            "mcp-protocol-version": "2025-11-25",
        },
    )
    assert hijack.status_code == 404
