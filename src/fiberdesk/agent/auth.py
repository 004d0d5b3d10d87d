"""Who is calling: an API token, checked again on every request.

- stdio: one token for the process (``FIBERDESK_MCP_TOKEN`` or ``--token``), checked at
  start-up and at every request (``services.auth.actor_for_token``, as the REST API does),
  so an expired or revoked token stops the session; the process is one session.
- streamable HTTP: ``Authorization: Bearer <token>`` on every request, checked by the MCP
  SDK's bearer middleware with ``TokenVerifier`` below (no token, a bad token: 401); the
  SDK ties an HTTP session to the token that opened it; the session is ``mcp-session-id``.

Either way the actor is the token's user on the ``agent`` channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import anyio.to_thread
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import Unauthorized
from fiberdesk.domain.users import Actor, Channel, Role
from fiberdesk.services import auth

SESSION_HEADER = "mcp-session-id"


@dataclass(frozen=True, slots=True)
class Principal:
    actor: Actor
    #: the MCP session this request belongs to; None for a request with no session
    session_key: str | None


class Authenticator(Protocol):
    def authenticate(self, request: Any | None) -> Principal:
        """The caller of one request (blocking; ``Unauthorized`` when there is none)."""
        ...

    @property
    def known_actor(self) -> Actor | None:
        """Whom to audit a call under when authentication fails (stdio's token's user)."""
        ...


def actor_for(app: Fiberdesk, secret: str) -> Actor:
    with app.uow(write=False) as uow:
        return auth.actor_for_token(uow, secret=secret.strip(), channel=Channel.AGENT)


class StdioAuth:
    """The process's one token."""

    def __init__(self, app: Fiberdesk, secret: str) -> None:
        self._app = app
        self._secret = secret
        self._known = actor_for(app, secret)  # Unauthorized stops start-up

    @property
    def known_actor(self) -> Actor | None:
        return self._known

    def authenticate(self, request: Any | None) -> Principal:
        return Principal(actor_for(self._app, self._secret), "stdio")


class HttpAuth:
    """The bearer token the SDK's middleware verified for this HTTP request."""

    @property
    def known_actor(self) -> Actor | None:
        return None

    def authenticate(self, request: Any | None) -> Principal:
        if request is None:
            raise Unauthorized("this request carries no valid API token")
        user = getattr(request, "scope", {}).get("user")
        if not isinstance(user, AuthenticatedUser) or not user.access_token.claims:
            raise Unauthorized("this request carries no valid API token")
        claims = user.access_token.claims
        actor = Actor(
            name=str(claims["name"]),
            role=Role(claims["role"]),
            channel=Channel.AGENT,
            user_id=int(claims["user_id"]),
            token_id=int(claims["token_id"]),
        )
        return Principal(actor, request.headers.get(SESSION_HEADER))


class TokenVerifier:
    """The MCP SDK's ``TokenVerifier`` over fiberdesk's API tokens."""

    def __init__(self, app: Fiberdesk) -> None:
        self._app = app

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            actor = await anyio.to_thread.run_sync(actor_for, self._app, token)
        except Unauthorized:
            return None
        return AccessToken(
            token=token,
            client_id=f"fiberdesk-token-{actor.token_id}",
            scopes=[actor.role.value],
            subject=actor.name,
            claims={
                "name": actor.name,
                "role": actor.role.value,
                "user_id": actor.user_id,
                "token_id": actor.token_id,
            },
        )
