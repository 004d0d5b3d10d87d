"""The MCP server: fiberdesk's tools, resources and prompts on the SDK's low-level server.

The low-level ``Server`` is used because what a client sees depends on who it is: the
tool list is the token's role's. Every handler authenticates the request first; tool
calls then run in a worker thread (the services are synchronous) through
``dispatch.execute``, one at a time per session.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import anyio.to_thread
import mcp.types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.auth.settings import AuthSettings
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, INVALID_REQUEST
from starlette.applications import Starlette

from fiberdesk import __version__
from fiberdesk.agent import auditing, prompts, resources
from fiberdesk.agent.auth import Authenticator, Principal, TokenVerifier
from fiberdesk.agent.dispatch import Outcome, execute
from fiberdesk.agent.registry import AgentSettings, Registry
from fiberdesk.agent.session import SessionStore
from fiberdesk.agent.tools import REGISTRY
from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import FiberdeskError, InvalidInput, NotFound

log = logging.getLogger(__name__)

INSTRUCTIONS = (
    "fiberdesk runs a fiber-to-the-home operator's customer operations. Load the "
    f"'{prompts.NAME}' prompt before working a call. Account changes need the customer's "
    "identity verified in this session (send_identity_code, then verify_identity with the "
    "code the customer reads back). change_tier, relocate, suspend_service and "
    "disconnect_service return a preview and a token first and change nothing; call again "
    "with confirm=<token> only after the customer agrees. Every call is audited."
)


class AgentServer:
    """The handlers, and the state they share: the application, the sessions, the tools."""

    def __init__(
        self,
        app: Fiberdesk,
        authenticator: Authenticator,
        *,
        settings: AgentSettings | None = None,
        registry: Registry = REGISTRY,
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.settings = settings or AgentSettings()
        self.registry = registry
        self.sessions = SessionStore()

    async def _principal(self, ctx: ServerRequestContext[Any]) -> Principal:
        try:
            return await anyio.to_thread.run_sync(self.authenticator.authenticate, ctx.request)
        except FiberdeskError as exc:
            raise MCPError(INVALID_REQUEST, exc.reason) from None

    async def list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        principal = await self._principal(ctx)
        return types.ListToolsResult(
            tools=[s.mcp_tool() for s in self.registry.for_actor(principal.actor)]
        )

    async def call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        try:
            principal = await anyio.to_thread.run_sync(self.authenticator.authenticate, ctx.request)
            session = self.sessions.get(principal.session_key, principal.actor.token_id)
        except FiberdeskError as exc:
            outcome = Outcome(False, {"error": exc.code, "reason": exc.reason})
            known = self.authenticator.known_actor
            if known is not None:
                await anyio.to_thread.run_sync(
                    functools.partial(
                        auditing.record_call,
                        self.app,
                        actor=known,
                        tool=params.name,
                        arguments=params.arguments,
                        session_tag="-",
                        outcome="refused",
                        error=exc.code,
                        reason=exc.reason,
                    )
                )
            return _result(outcome)
        outcome = await anyio.to_thread.run_sync(
            functools.partial(
                execute,
                self.app,
                registry=self.registry,
                settings=self.settings,
                actor=principal.actor,
                session=session,
                name=params.name,
                arguments=params.arguments,
            )
        )
        return _result(outcome)

    async def list_resources(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        await self._principal(ctx)
        return types.ListResourcesResult(resources=resources.list_resources())

    async def list_resource_templates(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        await self._principal(ctx)
        return types.ListResourceTemplatesResult(resource_templates=resources.list_templates())

    async def read_resource(
        self, ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        principal = await self._principal(ctx)
        try:
            text = await anyio.to_thread.run_sync(
                resources.read, self.app, principal.actor, params.uri
            )
        except NotFound as exc:
            raise MCPError(INVALID_PARAMS, exc.reason) from None
        except FiberdeskError as exc:
            raise MCPError(INVALID_REQUEST, exc.reason) from None
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(uri=params.uri, mime_type=resources.JSON, text=text)
            ]
        )

    async def list_prompts(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        await self._principal(ctx)
        return types.ListPromptsResult(prompts=prompts.list_prompts())

    async def get_prompt(
        self, ctx: ServerRequestContext[Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        await self._principal(ctx)
        try:
            return prompts.get_prompt(params.name, params.arguments)
        except (NotFound, InvalidInput) as exc:
            raise MCPError(INVALID_PARAMS, exc.reason) from None

    def input_schema(self, name: str) -> dict[str, Any] | None:
        spec = self.registry.get(name)
        return spec.schema() if spec is not None else None

    def server(self) -> Server[Any]:
        return Server(
            "fiberdesk",
            version=__version__,
            title="fiberdesk agent tools",
            description="Customer operations for fiber-to-the-home operators",
            instructions=INSTRUCTIONS,
            get_tool_input_schema=self.input_schema,
            on_list_tools=self.list_tools,
            on_call_tool=self.call_tool,
            on_list_resources=self.list_resources,
            on_list_resource_templates=self.list_resource_templates,
            on_read_resource=self.read_resource,
            on_list_prompts=self.list_prompts,
            on_get_prompt=self.get_prompt,
        )


def _result(outcome: Outcome) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(text=outcome.text())],
        structured_content=outcome.data,
        is_error=not outcome.ok,
    )


async def serve_stdio(agent: AgentServer) -> None:
    """Serve one session over this process's stdin and stdout until the client leaves."""
    server = agent.server()
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def http_app(agent: AgentServer, *, host: str, port: int) -> Starlette:
    """The streamable-HTTP app at ``/mcp``; every request needs ``Authorization: Bearer``."""
    shown = f"[{host}]" if ":" in host else host
    return agent.server().streamable_http_app(
        host=host,
        auth=AuthSettings(issuer_url=f"http://{shown}:{port}", resource_server_url=None),
        token_verifier=TokenVerifier(agent.app),
    )
