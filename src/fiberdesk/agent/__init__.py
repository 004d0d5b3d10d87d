"""Agent tools: an MCP server through which an AI assistant does customer service work.

    server.py     the MCP server (low-level SDK server): tools, resources, prompts; stdio
                  and streamable HTTP
    auth.py       the API token behind each request (stdio: one per process; HTTP: bearer)
    session.py    per-session state: verified identities, previews and their tokens
    dispatch.py   one tool call: permission, arguments, identity, handler, error, audit
    registry.py   how a tool is declared (pydantic arguments -> JSON schema)
    auditing.py   the audit row of every call, refused ones included
    tools/        the tools by area, thin calls into ``fiberdesk.services``
    resources.py  tiers, status codes, flows, message templates
    prompts.py    the customer-service call guide and checklist

Entry point: ``fiberdesk mcp`` (``fiberdesk.cli.agent``); see docs/agent-tools.md.
"""

from __future__ import annotations

from fiberdesk.agent.registry import AgentSettings
from fiberdesk.agent.server import AgentServer, http_app, serve_stdio

__all__ = ["AgentServer", "AgentSettings", "http_app", "serve_stdio"]
