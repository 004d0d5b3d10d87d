"""Troubleshooting flows as stored data: the bundled three, listing, reading, new versions.

A flow's definition is JSON (docs/troubleshooting.md). Saving never edits a stored
version: it validates the definition and stores it as the next version, which becomes
the active one; sessions keep the version they started with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import TroubleshootingFlow
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from fiberdesk.domain.troubleshooting import Flow, parse_flow
from fiberdesk.domain.users import SYSTEM_ACTOR, Actor, Permission, Role
from fiberdesk.services import audit

#: the flows fiberdesk ships, in src/fiberdesk/data/flows/<code>.json
BUNDLED = ("no_internet", "slow_internet", "intermittent")
EDITORS = (Role.SUPERVISOR, Role.ADMIN)


def bundled_definition(code: str) -> dict[str, Any]:
    if code not in BUNDLED:
        raise NotFound(f"no bundled flow {code!r}")
    path = resources.files("fiberdesk") / "data" / "flows" / f"{code}.json"
    definition: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return definition


@dataclass(frozen=True, slots=True)
class FlowView:
    code: str
    version: int
    name: str
    category: str | None
    description: str
    nodes: int
    checks: list[str]
    #: False for a bundled flow not yet written to the database (it is on first use)
    stored: bool
    updated_by: str
    updated_at: datetime | None
    definition: dict[str, Any]


def _view(flow: Flow, definition: dict[str, Any], row: TroubleshootingFlow | None) -> FlowView:
    return FlowView(
        flow.code,
        row.version if row else 1,
        flow.name,
        flow.category,
        flow.description,
        len(flow.nodes),
        flow.checks_used(),
        row is not None,
        row.updated_by if row else "bundled",
        row.updated_at if row else None,
        definition,
    )


def active_row(
    session: Session, code: str, *, for_update: bool = False
) -> TroubleshootingFlow | None:
    query = sa.select(TroubleshootingFlow).where(
        TroubleshootingFlow.code == code, TroubleshootingFlow.active.is_(True)
    )
    if for_update:
        query = query.with_for_update()
    return session.scalar(query.order_by(TroubleshootingFlow.version.desc()).limit(1))


def seed(session: Session, *, actor: Actor = SYSTEM_ACTOR) -> list[str]:
    """Store each bundled flow that has no version yet as version 1 (inside the caller's
    transaction); returns the codes stored."""
    present = set(session.scalars(sa.select(TroubleshootingFlow.code).distinct()))
    added = []
    for code in BUNDLED:
        if code in present:
            continue
        definition = bundled_definition(code)
        flow = parse_flow(definition)
        try:
            with session.begin_nested():  # another process may be seeding at the same time
                session.add(
                    TroubleshootingFlow(
                        code=code,
                        version=1,
                        name=flow.name,
                        definition=definition,
                        active=True,
                        updated_by=actor.name,
                        updated_at=utcnow(),
                    )
                )
        except IntegrityError:
            continue
        added.append(code)
    if added:
        audit.record(
            session,
            actor=actor,
            action="flow.seed",
            entity_type="troubleshooting_flow",
            entity_id=None,
            after={"codes": added, "version": 1},
        )
    return added


def ensure_default_flows(uow: UnitOfWork, *, actor: Actor = SYSTEM_ACTOR) -> list[str]:
    """Seed the bundled flows that are not stored yet; returns the codes stored."""
    added = seed(uow.session, actor=actor)
    uow.commit()
    return added


def list_flows(uow: UnitOfWork, *, actor: Actor) -> list[FlowView]:
    """The active version of every flow (bundled ones not yet stored included)."""
    actor.require(Permission.CUSTOMERS_READ)
    rows = uow.session.scalars(
        sa.select(TroubleshootingFlow)
        .where(TroubleshootingFlow.active.is_(True))
        .order_by(TroubleshootingFlow.code, TroubleshootingFlow.version.desc())
    ).all()
    latest: dict[str, TroubleshootingFlow] = {}
    for row in rows:
        latest.setdefault(row.code, row)
    views = [_view(parse_flow(r.definition), r.definition, r) for r in latest.values()]
    for code in BUNDLED:
        if code not in latest:
            definition = bundled_definition(code)
            views.append(_view(parse_flow(definition), definition, None))
    order = {code: i for i, code in enumerate(BUNDLED)}
    return sorted(views, key=lambda v: (order.get(v.code, len(order)), v.code))


def get_flow(uow: UnitOfWork, *, actor: Actor, code: str, version: int | None = None) -> FlowView:
    """A flow's active version, or the version asked for."""
    actor.require(Permission.CUSTOMERS_READ)
    session = uow.session
    if version is None:
        row = active_row(session, code)
    else:
        row = session.scalar(
            sa.select(TroubleshootingFlow).where(
                TroubleshootingFlow.code == code, TroubleshootingFlow.version == version
            )
        )
    if row is not None:
        return _view(parse_flow(row.definition), row.definition, row)
    if code in BUNDLED and version in (None, 1):
        definition = bundled_definition(code)
        return _view(parse_flow(definition), definition, None)
    raise NotFound(f"no flow {code!r}" + (f" version {version}" if version else ""))


def load_active(session: Session, code: str) -> tuple[TroubleshootingFlow, Flow]:
    """The stored active version (the caller has seeded), parsed."""
    row = active_row(session, code)
    if row is None:
        raise NotFound(f"no flow {code!r}", field="flow")
    return row, parse_flow(row.definition)


def save_flow(uow: UnitOfWork, *, actor: Actor, code: str, definition: dict[str, Any]) -> FlowView:
    """Validate a definition and store it as the flow's next version (supervisors)."""
    if actor.role not in EDITORS:
        raise Forbidden(
            f"the {actor.role.label.lower()} role may not change troubleshooting flows "
            "(supervisors and administrators may)"
        )
    if not isinstance(definition, dict):
        raise InvalidInput("a definition is a JSON object", field="definition")
    if definition.get("code") != code:
        raise InvalidInput(
            f"the definition's code {definition.get('code')!r} is not {code!r}", field="code"
        )
    flow = parse_flow(definition)
    session = uow.session
    seed(session, actor=actor)
    current = active_row(session, code, for_update=True)
    version = 1 + (
        session.scalar(
            sa.select(sa.func.max(TroubleshootingFlow.version)).where(
                TroubleshootingFlow.code == code
            )
        )
        or 0
    )
    if current is not None:
        current.active = False
    row = TroubleshootingFlow(
        code=code,
        version=version,
        name=flow.name,
        definition=definition,
        active=True,
        updated_by=actor.name,
        updated_at=utcnow(),
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"flow {code} was saved by someone else at the same time") from None
    audit.record(
        session,
        actor=actor,
        action="flow.save",
        entity_type="troubleshooting_flow",
        entity_id=row.id,
        before={"code": code, "version": current.version} if current else None,
        after={"code": code, "version": version, "name": flow.name, "nodes": len(flow.nodes)},
    )
    result = _view(flow, definition, row)
    uow.commit()
    return result
