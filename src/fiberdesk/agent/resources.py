"""Reference an assistant reads rather than calls: tiers, status codes, flows, templates.

fiberdesk://tiers              the plans on sale, speeds and prices (JSON)
fiberdesk://status-codes       the service statuses, what each means, where each can go
fiberdesk://flows              the troubleshooting flows
fiberdesk://flows/{code}       one flow's whole definition
fiberdesk://templates          every message kind: when it is sent, its fields
fiberdesk://templates/{kind}   one kind's fields and a sample rendering
"""

from __future__ import annotations

import json
from typing import Any

import mcp.types as types
from pydantic_core import to_jsonable_python

from fiberdesk.agent.tools.comms import SENDABLE
from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.customers import SERVICE_TRANSITIONS, ServiceStatus
from fiberdesk.domain.errors import NotFound
from fiberdesk.domain.users import Actor
from fiberdesk.messages import Branding, default_templates
from fiberdesk.services import accounts, flows

JSON = "application/json"
SCHEME = "fiberdesk://"

_FIXED = (
    ("tiers", "Service tiers", "The tiers on sale with their speeds, prices and use."),
    (
        "status-codes",
        "Service status codes",
        "PENDING to DISCONNECTED: each status's category, meaning and allowed next statuses.",
    ),
    ("flows", "Troubleshooting flows", "The guided flows start_troubleshooting can run."),
    (
        "templates",
        "Message templates",
        "Every kind of customer message, when it is sent, its fields, and which an agent "
        "may send with send_message.",
    ),
)


def list_resources() -> list[types.Resource]:
    return [
        types.Resource(
            uri=f"{SCHEME}{path}", name=path, title=title, description=text, mime_type=JSON
        )
        for path, title, text in _FIXED
    ]


def list_templates() -> list[types.ResourceTemplate]:
    return [
        types.ResourceTemplate(
            uri_template=f"{SCHEME}flows/{{code}}",
            name="flow",
            title="A troubleshooting flow",
            description="One flow's questions, checks, advice and outcomes (e.g. no_internet).",
            mime_type=JSON,
        ),
        types.ResourceTemplate(
            uri_template=f"{SCHEME}templates/{{kind}}",
            name="template",
            title="A message template",
            description="One message kind's fields and a sample rendering.",
            mime_type=JSON,
        ),
    ]


def _tiers(app: Fiberdesk) -> Any:
    with app.uow(write=False) as uow:
        return {"tiers": accounts.list_plans(uow)}


def _statuses() -> Any:
    return {
        "statuses": [
            {
                "code": s.value,
                "category": s.label,
                "meaning": s.description,
                "can_become": sorted(t.value for t in SERVICE_TRANSITIONS.targets(s)),
            }
            for s in ServiceStatus
        ]
    }


def _flows(app: Fiberdesk, actor: Actor, code: str | None) -> Any:
    with app.uow(write=False) as uow:
        if code is None:
            found = flows.list_flows(uow, actor=actor)
            return {
                "flows": [{k: v for k, v in vars_of(f).items() if k != "definition"} for f in found]
            }
        return vars_of(flows.get_flow(uow, actor=actor, code=code))


def vars_of(value: object) -> dict[str, Any]:
    plain = to_jsonable_python(value)
    return plain if isinstance(plain, dict) else {"value": plain}


def _templates(app: Fiberdesk, kind: str | None) -> Any:
    templates = default_templates()
    if kind is None:
        return {
            "templates": [
                {
                    "kind": k.name,
                    "label": k.label,
                    "audience": k.audience,
                    "essential": k.essential,
                    "sent_when": k.sent_when,
                    "fields": [f.name + ("" if f.required else "?") for f in k.fields],
                    "agent_may_send": k.name in SENDABLE,
                }
                for k in templates.catalog.values()
            ],
            "note": "a field marked ? may be left out",
        }
    if kind not in templates.catalog:
        raise NotFound(f"there is no message kind {kind!r}")
    spec = templates.spec(kind)
    sample = templates.sample(kind, Branding.from_settings(app.settings))
    return {
        "kind": kind,
        "label": spec.label,
        "sent_when": spec.sent_when,
        "agent_may_send": kind in SENDABLE,
        "fields": [
            {"name": f.name, "label": f.label, "required": f.required, "format": f.format}
            for f in spec.fields
        ],
        "sample": {"subject": sample.subject, "text": sample.text},
    }


def read(app: Fiberdesk, actor: Actor, uri: str) -> str:
    """The JSON text of a resource (``NotFound`` for an unknown one)."""
    path = uri.removeprefix(SCHEME) if uri.startswith(SCHEME) else None
    head, _, rest = (path or "").partition("/")
    if path == "tiers":
        data = _tiers(app)
    elif path == "status-codes":
        data = _statuses()
    elif head == "flows" and path is not None:
        data = _flows(app, actor, rest or None)
    elif head == "templates" and path is not None:
        data = _templates(app, rest or None)
    else:
        raise NotFound(f"there is no resource {uri[:200]!r}")
    return json.dumps(to_jsonable_python(data), indent=1, ensure_ascii=False)
