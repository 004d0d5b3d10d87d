"""``fiberdesk mcp``: the agent tools as an MCP server, over stdio or streamable HTTP."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta

import typer

from fiberdesk.cli.common import get_app
from fiberdesk.db import migrate
from fiberdesk.domain.errors import InvalidInput

TOKEN_ENV = "FIBERDESK_MCP_TOKEN"


def mcp(
    http: bool = typer.Option(
        False, "--http", help="serve streamable HTTP at /mcp instead of stdio"
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="address to bind (--http)"),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="port (--http)"),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar=TOKEN_ENV,
        show_envvar=True,
        help="the API token the stdio session acts with (HTTP clients send their own)",
    ),
    preview_seconds: int = typer.Option(
        900,
        "--preview-seconds",
        min=1,
        max=24 * 3600,
        help="how long a preview's confirmation token stays good",
    ),
) -> None:
    """Serve the agent tools (MCP) for AI assistants: stdio by default, --http for HTTP."""
    # the MCP SDK is imported here, so that other commands do not pay for it
    import anyio
    import uvicorn

    from fiberdesk.agent import AgentServer, AgentSettings, http_app, serve_stdio
    from fiberdesk.agent.auth import HttpAuth, StdioAuth
    from fiberdesk.messages import default_templates

    # stdout is the protocol's channel on stdio: everything else goes to stderr
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    app = get_app()
    migrate.require_migrated(app.engine)
    default_templates()  # a broken message template stops start-up
    settings = AgentSettings(preview_ttl=timedelta(seconds=preview_seconds))
    if http:
        agent = AgentServer(app, HttpAuth(), settings=settings)
        print(f"fiberdesk MCP (streamable HTTP) on http://{host}:{port}/mcp", file=sys.stderr)
        uvicorn.run(
            http_app(agent, host=host, port=port), host=host, port=port, log_level="warning"
        )
        return
    if not token:
        raise InvalidInput(
            f"the stdio server acts with an API token: set {TOKEN_ENV} or pass --token "
            "(create one with `fiberdesk token create USER --name assistant`)"
        )
    agent = AgentServer(app, StdioAuth(app, token), settings=settings)
    anyio.run(serve_stdio, agent)
