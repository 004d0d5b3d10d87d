"""The errors the domain and the services raise.

Every error is a plain exception; entry points map them to responses in one place
(HTTP problem+json in ``web/problems.py``, one-line messages in ``cli``).

    FiberdeskError            base of everything below
    ├── InvalidInput          the request itself is malformed or out of range (422)
    ├── NotFound              a named record does not exist (404)
    ├── Conflict              the request collides with current state (409),
    │   └── TransitionRefused a status change that the state machine does not allow
    ├── Refused               a business rule says no: declined card, NAP full (409/422)
    ├── Unauthorized          no or bad credentials (401)
    ├── Forbidden             the actor's role may not do this (403)
    └── RateLimited           too many requests from one client (429)
"""

from __future__ import annotations


class FiberdeskError(Exception):
    """Base of all fiberdesk errors. ``reason`` is a sentence a person can read out."""

    code = "error"

    def __init__(
        self, reason: str, *, field: str | None = None, extra: dict[str, object] | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        #: facts for the caller beyond the sentence, e.g. the next free port
        self.extra = extra or {}


class InvalidInput(FiberdeskError):
    code = "invalid-input"


class NotFound(FiberdeskError):
    code = "not-found"


class Conflict(FiberdeskError):
    code = "conflict"


class TransitionRefused(Conflict):
    code = "transition-refused"


class Refused(FiberdeskError):
    code = "refused"


class Unauthorized(FiberdeskError):
    code = "unauthorized"


class Forbidden(FiberdeskError):
    code = "forbidden"


class RateLimited(FiberdeskError):
    code = "rate-limited"
