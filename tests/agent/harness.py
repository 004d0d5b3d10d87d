"""The agent tests' harness: a small demo operator, ``fiberdesk mcp`` as a subprocess, and
an official MCP client that remembers every tool it called (to check the audit log)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import CallToolResult

from fiberdesk.adapters.payments.fake import FakeGateway
from fiberdesk.bootstrap import Fiberdesk, build
from fiberdesk.config import Settings
from fiberdesk.db.models import AuditEntry, OutboxMessage
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import auth

FIBERDESK = Path(sys.executable).with_name("fiberdesk")
SECRET = "agent-tests-secret-key"
DEMO = ("--premises-limit", "6000", "--customers", "300")


def clean_env(url: str, **extra: str) -> dict[str, str]:
    """This process's environment without any FIBERDESK_* setting, plus the test's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIBERDESK_")}
    return {
        **env,
        "FIBERDESK_DATABASE_URL": url,
        "FIBERDESK_SECRET_KEY": SECRET,
        "FIBERDESK_WORKER_IN_PROCESS": "false",
        **extra,
    }


def build_demo(directory: Path) -> Path:
    """Migrate a SQLite file and build the small demo operator in it with the CLI."""
    path = directory / "demo.db"
    env = clean_env(f"sqlite:///{path}")
    for args in (["db", "upgrade"], ["demo", "--force", *DEMO, "--json"]):
        subprocess.run(
            [str(FIBERDESK), *args],
            env=env,
            cwd=directory,
            check=True,
            capture_output=True,
            timeout=300,
        )
    with sqlite3.connect(path) as conn:  # everything in the main file, so a copy is whole
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@dataclass
class World:
    """A copy of the demo database, the application on it, and tokens for its users."""

    directory: Path
    url: str
    app: Fiberdesk

    def token(self, username: str) -> str:
        with self.app.uow() as uow:
            return auth.create_token(
                uow, actor=SYSTEM_ACTOR, username=username, name="agent tests"
            ).secret

    def env(self, token: str | None = None) -> dict[str, str]:
        extra = {"FIBERDESK_MCP_TOKEN": token} if token else {}
        return clean_env(self.url, **extra)

    def scalar(self, query: sa.Select[Any]) -> Any:
        with self.app.uow(write=False) as uow:
            return uow.session.scalar(query)

    def code_sent_to(self, customer_id: int) -> str:
        """The one-time code in the customer's latest identity message (their phone)."""
        message = self.scalar(
            sa.select(OutboxMessage)
            .where(OutboxMessage.kind == "identity_code", OutboxMessage.customer_id == customer_id)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        assert message is not None, "no identity code was queued"
        return str(message.context["code"])

    def card_token(self) -> str:
        """What the payment processor's form gives back for the customer's card."""
        assert isinstance(self.app.gateway, FakeGateway)
        year = datetime.now(UTC).year + 2
        return self.app.gateway.tokenize("4242424242424242", 12, year, "123").token

    def agent_audit(self) -> list[AuditEntry]:
        with self.app.uow(write=False) as uow:
            return list(
                uow.session.scalars(
                    sa.select(AuditEntry)
                    .where(AuditEntry.action.like("agent.%"))
                    .order_by(AuditEntry.id)
                )
            )


def copy_world(template: Path, directory: Path) -> World:
    path = directory / "fiberdesk.db"
    shutil.copy(template, path)
    url = f"sqlite:///{path}"
    return World(directory, url, build(Settings(database_url=url, secret_key=SECRET)))


@dataclass
class Agent:
    """An MCP client session that notes the name of every tool it calls."""

    session: ClientSession
    calls: list[str] = field(default_factory=list)

    async def call(self, name: str, /, **arguments: Any) -> CallToolResult:
        self.calls.append(name)
        return await self.session.call_tool(name, arguments)

    async def ok(self, name: str, /, **arguments: Any) -> dict[str, Any]:
        result = await self.call(name, **arguments)
        assert not result.is_error, f"{name}: {result.structured_content}"
        data: dict[str, Any] = result.structured_content
        return data

    async def refused(self, name: str, /, **arguments: Any) -> dict[str, Any]:
        """The error of a call that must fail: its code, reason and field."""
        result = await self.call(name, **arguments)
        assert result.is_error, f"{name} was not refused: {result.structured_content}"
        data: dict[str, Any] = result.structured_content
        assert data["reason"], data
        return data

    async def tool_names(self) -> set[str]:
        return {t.name for t in (await self.session.list_tools()).tools}


@asynccontextmanager
async def stdio_agent(world: World, token: str, *options: str) -> AsyncIterator[Agent]:
    """``fiberdesk mcp`` (stdio) acting with ``token``, and a client session on it."""
    params = StdioServerParameters(
        command=str(FIBERDESK), args=["mcp", *options], env=world.env(token), cwd=world.directory
    )
    with (world.directory / "mcp-stderr.log").open("a") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield Agent(session)


def assert_audited(world: World, username: str, *agents: Agent) -> list[AuditEntry]:
    """Every tool the agents called has its own ``agent.<tool>`` row, in order, by the
    token's user on the agent channel, and there is no other."""
    rows = world.agent_audit()
    called = [f"agent.{name}" for agent in agents for name in agent.calls]
    assert [r.action for r in rows] == called
    assert all(r.actor == username and r.via == "agent" for r in rows)
    assert all(r.actor_token_id is not None and r.actor_user_id is not None for r in rows)
    return rows
