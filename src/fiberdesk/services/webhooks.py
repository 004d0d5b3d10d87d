"""Webhook endpoints (configured by an administrator) and the events sent to them.

``emit`` writes one outbox row per active endpoint that subscribes to the event, in the
caller's transaction: an event of a change that rolls back is never sent. The outbox worker
delivers them like messages (channel ``webhook``, recipient = the endpoint's id), signing
each body with the endpoint's secret (``adapters.notifications.webhook``). The URL is read
from the endpoint at delivery time, so a webhook only ever goes to a URL an administrator
configured; a deactivated or deleted endpoint's pending deliveries are dead-lettered.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.adapters.notifications.webhook import signed_headers
from fiberdesk.db.models import OutboxMessage, WebhookEndpoint
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import InvalidInput, NotFound
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit


@dataclass(frozen=True, slots=True)
class EndpointView:
    id: int
    url: str
    kinds: tuple[str, ...]
    active: bool
    created_at: datetime
    #: shown once, when the endpoint is created; None afterwards
    secret: str | None = None


def _view(row: WebhookEndpoint, secret: str | None = None) -> EndpointView:
    kinds = tuple(k for k in row.kinds.split(",") if k)
    return EndpointView(row.id, row.url, kinds, row.active, row.created_at, secret)


def _kinds(kinds: str) -> str:
    parts = sorted({k.strip().lower() for k in kinds.split(",") if k.strip()})
    if not parts:
        raise InvalidInput("name at least one event, or '*' for every event", field="kinds")
    if "*" in parts:
        return "*"
    for part in parts:
        if len(part) > 40 or not all(c.isalnum() or c in "._-" for c in part):
            raise InvalidInput(f"not an event name: {part!r}", field="kinds")
    joined = ",".join(parts)
    if len(joined) > 500:
        raise InvalidInput("too many event names", field="kinds")
    return joined


def _url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("the webhook URL must be an http:// or https:// URL", field="url")
    if len(url) > 500:
        raise InvalidInput("the webhook URL is longer than 500 characters", field="url")
    if parts.username or parts.password:
        raise InvalidInput("put no credentials in the webhook URL", field="url")
    return url


def create_endpoint(uow: UnitOfWork, *, actor: Actor, url: str, kinds: str = "*") -> EndpointView:
    """Register an endpoint; the returned view carries its signing secret (shown once)."""
    actor.require(Permission.ADMIN)
    row = WebhookEndpoint(url=_url(url), kinds=_kinds(kinds), secret=secrets.token_hex(24))
    uow.session.add(row)
    uow.session.flush()
    audit.record(
        uow.session,
        actor=actor,
        action="webhook_endpoint.create",
        entity_type="webhook_endpoint",
        entity_id=row.id,
        after=audit.snapshot(row, exclude=frozenset({"secret"})),
    )
    view = _view(row, secret=row.secret)
    uow.commit()
    return view


def list_endpoints(uow: UnitOfWork, *, actor: Actor) -> list[EndpointView]:
    actor.require(Permission.ADMIN)
    rows = uow.session.scalars(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id))
    return [_view(r) for r in rows]


def set_active(uow: UnitOfWork, *, actor: Actor, endpoint_id: int, active: bool) -> EndpointView:
    actor.require(Permission.ADMIN)
    row = uow.session.get(WebhookEndpoint, endpoint_id)
    if row is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    before = {"active": row.active}
    row.active = active
    audit.record(
        uow.session,
        actor=actor,
        action="webhook_endpoint.activate" if active else "webhook_endpoint.deactivate",
        entity_type="webhook_endpoint",
        entity_id=row.id,
        before=before,
        after={"active": active},
    )
    view = _view(row)
    uow.commit()
    return view


def _subscribes(kinds: str, event: str) -> bool:
    return kinds == "*" or event in kinds.split(",")


def _event(event: str) -> str:
    event = event.strip().lower()
    if not event or len(event) > 40:
        raise InvalidInput("an event name has 1 to 40 characters", field="event")
    return event


def _cause(key: str | None) -> str:
    cause = key or uuid.uuid4().hex
    return cause if len(cause) <= 60 else hashlib.sha256(cause.encode()).hexdigest()[:40]


def emit(
    session: Session, event: str, payload: dict[str, Any], *, key: str | None = None
) -> list[OutboxMessage]:
    """Queue ``event`` with ``payload`` (JSON-ready) for every active endpoint that wants
    it, in the caller's transaction. ``key`` names the cause (e.g. ``order17``) so that a
    retried action does not emit twice; without one every call emits."""
    event = _event(event)
    cause = _cause(key)
    endpoints = session.scalars(
        sa.select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True))
    ).all()
    queued = []
    for endpoint in endpoints:
        if not _subscribes(endpoint.kinds, event):
            continue
        idempotency_key = f"webhook:{event}:{cause}:{endpoint.id}"
        existing = session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
        )
        if existing is not None:
            queued.append(existing)
            continue
        message = OutboxMessage(
            kind=event,
            channel="webhook",
            customer_id=None,
            recipient=str(endpoint.id),
            context=payload,
            idempotency_key=idempotency_key,
        )
        session.add(message)
        queued.append(message)
    return queued


#: idempotency keys looked up per statement by ``emit_many``
_CHUNK = 5000


def emit_many(session: Session, events: Sequence[tuple[str, dict[str, Any], str]]) -> int:
    """``emit`` for many ``(event, payload, key)`` at once, with the same rows and keys: one
    query for the endpoints (nothing more when none is active), one lookup of the keys
    already queued (per 5000) and one insert. Returns how many deliveries were queued."""
    if not events:
        return 0
    endpoints = session.execute(
        sa.select(WebhookEndpoint.id, WebhookEndpoint.kinds)
        .where(WebhookEndpoint.active.is_(True))
        .order_by(WebhookEndpoint.id)
    ).all()
    if not endpoints:
        return 0
    wanted: dict[str, dict[str, Any]] = {}
    for name, payload, key in events:
        event, cause = _event(name), _cause(key)
        for endpoint_id, kinds in endpoints:
            if _subscribes(kinds, event):
                idempotency_key = f"webhook:{event}:{cause}:{endpoint_id}"
                wanted.setdefault(idempotency_key, {
                    "kind": event, "channel": "webhook", "customer_id": None,
                    "recipient": str(endpoint_id), "context": payload,
                    "idempotency_key": idempotency_key,
                })  # fmt: skip
    ordered = sorted(wanted)
    for start in range(0, len(ordered), _CHUNK):
        for done in session.scalars(
            sa.select(OutboxMessage.idempotency_key).where(
                OutboxMessage.idempotency_key.in_(ordered[start : start + _CHUNK])
            )
        ):
            wanted.pop(done, None)
    if wanted:
        session.execute(sa.insert(OutboxMessage), list(wanted.values()))
    return len(wanted)


def signed_request(
    *,
    secret: str,
    event: str,
    delivery_id: str,
    created_at: datetime,
    data: dict[str, Any],
    timestamp: int,
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery. The body is the same on every retry:
    ``{"id": delivery id, "event", "created_at", "data": the payload}``, compact JSON with
    sorted keys; only the signature's timestamp changes."""
    document = {
        "id": delivery_id,
        "event": event,
        "created_at": created_at.isoformat(),
        "data": data,
    }
    body = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str).encode()
    headers = signed_headers(
        secret=secret, event=event, delivery_id=delivery_id, body=body, timestamp=timestamp
    )
    return body, headers
