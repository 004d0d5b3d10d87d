"""How a tool is declared: its name, what it does, its arguments, who may use it.

A tool is a ``ToolSpec``: a pydantic model of its arguments (strict types, unknown
arguments refused) from which its JSON schema is derived, the permission a role needs to
see and call it, the handler (a thin call into ``services``), and for a tool that changes
a customer's account, how to find that customer (``account``): the dispatcher then
refuses the call unless the customer's identity was verified in the session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

import mcp.types as types
from pydantic import BaseModel, ConfigDict

from fiberdesk.agent.session import AgentSession
from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.users import Actor, Permission


class Args(BaseModel):
    """Base of every tool's arguments: JSON types exactly, nothing unknown."""

    model_config = ConfigDict(extra="forbid", strict=True)


A = TypeVar("A", bound=Args)


@dataclass(frozen=True, slots=True)
class AgentSettings:
    #: how long a preview's confirmation token may be used in the session
    preview_ttl: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Call:
    """What a handler is given besides its arguments."""

    app: Fiberdesk
    actor: Actor
    session: AgentSession
    settings: AgentSettings
    tool: str


@dataclass(frozen=True, slots=True)
class ToolSpec(Generic[A]):
    name: str
    title: str
    description: str
    args: type[A]
    #: a role needs one of these to see and call the tool
    permissions: tuple[Permission, ...]
    handler: Callable[[Call, A], object]
    #: for a tool that changes a customer's account: whose account (from the arguments)
    account: Callable[[Call, A], int] | None = None
    read_only: bool = False
    destructive: bool = False
    #: a further rule of the service behind the tool (e.g. which roles may search)
    only_for: Callable[[Actor], bool] | None = None

    def allowed(self, actor: Actor) -> bool:
        permitted = any(actor.can(p) for p in self.permissions)
        return permitted and (self.only_for is None or self.only_for(actor))

    def schema(self) -> dict[str, Any]:
        return input_schema(self.args)

    def mcp_tool(self) -> types.Tool:
        return types.Tool(
            name=self.name,
            title=self.title,
            description=self.description,
            input_schema=self.schema(),
            annotations=types.ToolAnnotations(
                title=self.title,
                read_only_hint=self.read_only,
                destructive_hint=self.destructive,
                open_world_hint=False,
            ),
        )


def tool(
    name: str,
    *,
    title: str,
    description: str,
    args: type[A],
    permission: Permission | tuple[Permission, ...],
    handler: Callable[[Call, A], object],
    account: Callable[[Call, A], int] | None = None,
    read_only: bool = False,
    destructive: bool = False,
    only_for: Callable[[Actor], bool] | None = None,
) -> ToolSpec[Any]:
    permissions = permission if isinstance(permission, tuple) else (permission,)
    return ToolSpec(
        name,
        title,
        " ".join(description.split()),
        args,
        permissions,
        handler,
        account,
        read_only,
        destructive,
        only_for,
    )


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with every ``$ref`` replaced by its definition and titles left out."""
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        # a definition's description is its class's docstring, not the argument's
        target = {
            k: v for k, v in defs[node["$ref"].rsplit("/", 1)[-1]].items() if k != "description"
        }
        return _inline({**target, **{k: v for k, v in node.items() if k != "$ref"}}, defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "$defs"):
            continue
        if key == "properties":  # names of arguments, not schema keywords
            out[key] = {name: _inline(sub, defs) for name, sub in value.items()}
        else:
            out[key] = _inline(value, defs)
    return out


def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    raw = model.model_json_schema()
    schema: dict[str, Any] = _inline(raw, raw.get("$defs", {}))
    schema.setdefault("properties", {})
    return schema


class Registry:
    """Every tool by name, in the order they were declared."""

    def __init__(self, specs: Iterable[ToolSpec[Any]]) -> None:
        self._specs: dict[str, ToolSpec[Any]] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"two tools are named {spec.name}")
            self._specs[spec.name] = spec

    def get(self, name: str) -> ToolSpec[Any] | None:
        return self._specs.get(name)

    def all(self) -> list[ToolSpec[Any]]:
        return list(self._specs.values())

    def for_actor(self, actor: Actor) -> list[ToolSpec[Any]]:
        return [s for s in self._specs.values() if s.allowed(actor)]
