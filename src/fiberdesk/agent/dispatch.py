"""Carrying out one tool call: the checks in order, the handler, the answer, the audit row.

1. the tool exists and the token's role may use it (else *forbidden*);
2. the arguments validate against the tool's model (strict types, nothing unknown);
3. for an account change, the customer's identity was verified in this session;
4. the handler runs (services do their own permission checks and refusals).

Whatever happens, the call is audited and the caller gets an ``Outcome``: the result, or
the error's code and reason. A domain error, a validation error or an unknown record is
an error outcome with its reason; anything unexpected is logged and reported as an
internal error, never raised into the MCP server.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy.exc import SQLAlchemyError

from fiberdesk.agent import auditing
from fiberdesk.agent.registry import AgentSettings, Call, Registry
from fiberdesk.agent.session import AgentSession
from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import FiberdeskError
from fiberdesk.domain.users import Actor

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    #: the result (a JSON object) or, for an error, {error, reason, field, ...}
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return str(self.data.get("reason", ""))

    def text(self) -> str:
        if self.ok:
            return json.dumps(self.data, indent=1, ensure_ascii=False)
        return f"{self.data.get('error', 'error')}: {self.reason}"


def _error(code: str, reason: str, **extra: Any) -> Outcome:
    return Outcome(False, {"error": code, "reason": reason, **extra})


def _from_domain(exc: FiberdeskError) -> Outcome:
    extra = {k: v for k, v in exc.extra.items() if k not in ("error", "reason")}
    return _error(exc.code, exc.reason, field=exc.field, **to_jsonable_python(extra))


def _from_validation(exc: ValidationError) -> Outcome:
    problems = []
    for e in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in e["loc"]) or "arguments"
        message = "unknown argument" if e["type"] == "extra_forbidden" else e["msg"]
        problems.append({"field": where, "problem": message})
    text = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return _error(
        "invalid-arguments", f"the arguments do not fit the tool: {text}", problems=problems
    )


def _result(value: object) -> dict[str, Any]:
    plain = to_jsonable_python(value)
    return plain if isinstance(plain, dict) else {"result": plain}


def execute(
    app: Fiberdesk,
    *,
    registry: Registry,
    settings: AgentSettings,
    actor: Actor,
    session: AgentSession,
    name: str,
    arguments: dict[str, Any] | None,
) -> Outcome:
    """Run one tool call for ``actor`` in ``session`` (blocking: call it off the event loop)."""
    raw: dict[str, Any] = arguments or {}
    customer_id: int | None = None
    with session.lock:
        try:
            spec = registry.get(name)
            if spec is None:
                outcome = _error("unknown-tool", f"there is no tool named {name[:80]!r}")
            elif not spec.allowed(actor):
                needs = " or ".join(p.value for p in spec.permissions)
                outcome = _error(
                    "forbidden",
                    f"the {actor.role.label.lower()} role may not use {name} (it needs {needs})",
                )
            else:
                args = spec.args.model_validate_json(json.dumps(raw))
                call = Call(app, actor, session, settings, name)
                if spec.account is not None:
                    customer_id = spec.account(call, args)
                    session.require_verified(customer_id)
                elif isinstance(named := getattr(args, "customer_id", None), int):
                    customer_id = named
                outcome = Outcome(True, _result(spec.handler(call, args)))
        except ValidationError as exc:
            outcome = _from_validation(exc)
        except FiberdeskError as exc:
            outcome = _from_domain(exc)
        except SQLAlchemyError:
            log.exception("database error in agent tool %s", name[:80])
            outcome = _error("database", "the database could not answer; try again shortly")
        except Exception:  # a bug must come back as a tool error, not stop the server
            log.exception("agent tool %s failed", name[:80])
            outcome = _error("internal", "the tool failed unexpectedly; the error was logged")
        auditing.record_call(
            app,
            actor=actor,
            tool=name,
            arguments=raw,
            session_tag=session.tag,
            outcome=_label(outcome),
            customer_id=customer_id,
            error=None if outcome.ok else str(outcome.data.get("error")),
            reason=None if outcome.ok else outcome.reason,
        )
    return outcome


def _label(outcome: Outcome) -> str:
    if not outcome.ok:
        return "refused"
    return "preview" if outcome.data.get("done") is False else "ok"
