"""What one MCP session remembers: whose identity was verified, and the previews shown.

A session is one conversation between an assistant and fiberdesk: the stdio process, or
one streamable-HTTP session (``mcp-session-id``). It is bound to the API token that opened
it. Nothing here is written to the database: a verification or a preview is only good in
the session where it happened, and is gone when the session ends.

- ``verify`` is called only by the identity tool, after the code the customer read back
  matched; ``require_verified`` is what account-changing tools check.
- ``offer`` keeps a preview's token with what it was for (tool, customer, arguments) and
  until when; ``redeem`` refuses a token that was not shown here, belongs to another
  preview, or has expired; ``spend`` forgets it once the change is done.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from fiberdesk.db.base import utcnow
from fiberdesk.domain.errors import InvalidInput, Refused, Unauthorized

#: a session not used for this long is forgotten (its verifications and previews with it)
IDLE_SECONDS = 2 * 60 * 60


def fingerprint(**facts: object) -> str:
    """A stable digest of what a preview was for (the arguments that decide the change)."""
    text = json.dumps(facts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Preview:
    token: str
    tool: str
    customer_id: int
    fingerprint: str
    expires_at: datetime


@dataclass
class AgentSession:
    key: str
    token_id: int | None
    #: customer id -> when their identity was verified in this session
    verified: dict[int, datetime] = field(default_factory=dict)
    previews: dict[str, Preview] = field(default_factory=dict)
    #: one tool call at a time per session: a check and the change it allows do not race
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_used: float = field(default_factory=time.monotonic)

    @property
    def tag(self) -> str:
        """A short, stable name for the session in the audit log (not the session id)."""
        return hashlib.sha256(self.key.encode()).hexdigest()[:12]

    def verify(self, customer_id: int, at: datetime | None = None) -> None:
        self.verified[customer_id] = at or utcnow()

    def is_verified(self, customer_id: int) -> bool:
        return customer_id in self.verified

    def require_verified(self, customer_id: int) -> None:
        if not self.is_verified(customer_id):
            raise Refused(
                f"customer {customer_id}'s identity has not been verified in this session: "
                "send a code with send_identity_code, then check the code the customer reads "
                "back with verify_identity",
                field="customer_id",
                extra={"needs": "identity_verification", "customer_id": customer_id},
            )

    def offer(
        self, *, tool: str, customer_id: int, facts: str, token: str, expires_at: datetime
    ) -> Preview:
        now = utcnow()
        for stale in [t for t, p in self.previews.items() if p.expires_at <= now]:
            del self.previews[stale]
        preview = Preview(token, tool, customer_id, facts, expires_at)
        self.previews[token] = preview
        return preview

    def redeem(self, *, tool: str, customer_id: int, facts: str, token: str) -> Preview:
        """The preview ``token`` stands for, if it is this very change and still current."""
        preview = self.previews.get(token)
        if preview is None:
            raise InvalidInput(
                "this confirmation token was not issued by a preview in this session; "
                f"call {tool} without confirm to preview the change, then confirm with "
                "the token it returns",
                field="confirm",
            )
        if (preview.tool, preview.customer_id, preview.fingerprint) != (tool, customer_id, facts):
            raise InvalidInput(
                "this confirmation token belongs to a different preview (another action, "
                f"customer or arguments); preview this {tool} and confirm with its token",
                field="confirm",
            )
        if preview.expires_at <= utcnow():
            del self.previews[token]
            raise InvalidInput(
                f"the preview has expired (at {preview.expires_at:%H:%M:%S} UTC); "
                f"call {tool} without confirm to preview it again",
                field="confirm",
            )
        return preview

    def spend(self, token: str) -> None:
        self.previews.pop(token, None)


class SessionStore:
    """The live sessions of one server, by session key."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self._sessions: dict[str, AgentSession] = {}
        self._lock = threading.Lock()
        self._idle = idle_seconds

    def get(self, key: str | None, token_id: int | None) -> AgentSession:
        """The session ``key`` (created on first use, bound to ``token_id``); ``None`` is a
        session of one request (the stateless protocol revision), remembered by nobody."""
        now = time.monotonic()
        if key is None:
            return AgentSession(f"request-{uuid.uuid4().hex}", token_id)
        with self._lock:
            for stale in [k for k, s in self._sessions.items() if now - s.last_used > self._idle]:
                del self._sessions[stale]
            session = self._sessions.get(key)
            if session is None:
                session = self._sessions[key] = AgentSession(key, token_id)
            elif session.token_id != token_id:
                raise Unauthorized("this MCP session was opened with another API token")
            session.last_used = now
            return session

    def __len__(self) -> int:
        return len(self._sessions)
