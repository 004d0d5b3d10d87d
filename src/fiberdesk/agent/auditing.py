"""One audit row per tool call, refused or not: ``agent.<tool>`` by the token's user.

The row names the customer (or order, ticket, session) the call was about, the arguments
with secrets blanked (one-time codes, payment tokens, birth dates), the outcome and, for
a refusal, the reason. It is written in a transaction of its own after the call, so a
refused call that changed nothing still leaves its trace.
"""

from __future__ import annotations

import logging
from typing import Any

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.users import Actor
from fiberdesk.services import audit

log = logging.getLogger(__name__)

SECRET_ARGUMENTS = frozenset(
    {"code", "payment_token", "date_of_birth", "ssn_last4", "document_number", "token"}
)
#: the first of these an argument list has says what the call was about
ENTITY_ARGUMENTS = (
    ("customer_id", "customer"),
    ("order_id", "service_order"),
    ("appointment_id", "appointment"),
    ("ticket_id", "ticket"),
    ("session_id", "troubleshooting_session"),
    ("premises_id", "premises"),
)
MAX_TEXT = 300
MAX_ITEMS = 30
MAX_DEPTH = 4


def clip(value: Any, depth: int = 0) -> Any:
    """A copy small enough for the audit log: long text cut, long lists and deep nesting
    summarised."""
    if depth > MAX_DEPTH:
        return "…"
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ITEMS]
        return {str(k)[:60]: clip(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple):
        return [clip(v, depth + 1) for v in value[:MAX_ITEMS]]
    if value is None or isinstance(value, bool | int | float):
        return value
    return clip(repr(value), depth)


def redact(arguments: object) -> object:
    if not isinstance(arguments, dict):
        return clip(arguments)
    return clip({k: ("[redacted]" if k in SECRET_ARGUMENTS else v) for k, v in arguments.items()})


def entity_of(arguments: object, customer_id: int | None) -> tuple[str, str | None]:
    if customer_id is not None:
        return "customer", str(customer_id)
    if isinstance(arguments, dict):
        for name, entity in ENTITY_ARGUMENTS:
            value = arguments.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                return entity, str(value)
    return "agent_session", None


def record_call(
    app: Fiberdesk,
    *,
    actor: Actor,
    tool: str,
    arguments: object,
    session_tag: str,
    outcome: str,
    customer_id: int | None = None,
    error: str | None = None,
    reason: str | None = None,
) -> None:
    """Write the call's audit row; a failure to write it is logged, never raised over the
    call's own answer."""
    entity_type, entity_id = entity_of(arguments, customer_id)
    after: dict[str, Any] = {
        "tool": tool[:80],
        "arguments": redact(arguments),
        "outcome": outcome,
        "session": session_tag,
    }
    if error is not None:
        after["error"] = error
        after["reason"] = clip(reason)
    try:
        with app.uow() as uow:
            audit.record(
                uow.session,
                actor=actor,
                action=f"agent.{tool[:50]}",
                entity_type=entity_type,
                entity_id=entity_id,
                after=after,
            )
            uow.commit()
    except Exception:  # the audit must not turn an answer into a crash; it is logged
        log.exception("could not write the audit row of agent.%s", tool[:50])
