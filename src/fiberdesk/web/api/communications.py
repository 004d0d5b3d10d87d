"""/api/v1: customers' message preferences and delivery log, the outbox's dead letters,
webhook endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from fiberdesk.services import outbox, preferences, webhooks
from fiberdesk.web.api.schemas import PROBLEM_RESPONSES
from fiberdesk.web.deps import ApiActor, ReadUow, WriteUow

router = APIRouter(prefix="/api/v1", tags=["communications"], responses=PROBLEM_RESPONSES)
Kind = Annotated[
    str,
    Path(min_length=1, max_length=40, description="a message kind (template name), or *"),
]

# -- preferences ------------------------------------------------------------------------


class PreferencesOut(BaseModel):
    customer_id: int
    #: the customer's choices, {kind or "*": email, sms or none}; other kinds use the default
    preferences: dict[str, str]


class ChannelIn(BaseModel):
    channel: str = Field(min_length=1, max_length=8, examples=["sms"])


class OptOutIn(BaseModel):
    kind: str = Field("*", min_length=1, max_length=40, examples=["*", "satisfaction_survey"])


@router.get(
    "/customers/{customer_id}/message-preferences",
    response_model=PreferencesOut,
    summary="A customer's message preferences",
)
def get_preferences(customer_id: int, actor: ApiActor, uow: ReadUow) -> PreferencesOut:
    with uow:
        prefs = preferences.get_preferences(uow, actor=actor, customer_id=customer_id)
    return PreferencesOut(customer_id=customer_id, preferences=prefs)


@router.put(
    "/customers/{customer_id}/message-preferences/{kind}",
    response_model=PreferencesOut,
    summary="Choose the channel for a kind of message",
)
def set_preference(
    customer_id: int, kind: Kind, body: ChannelIn, actor: ApiActor, uow: WriteUow
) -> PreferencesOut:
    """``email``, ``sms`` or ``none`` (opted out) for one kind, or ``*`` for every kind.
    Essential kinds (outages, suspension, the final bill) cannot be turned off."""
    with uow:
        prefs = preferences.set_preference(
            uow, actor=actor, customer_id=customer_id, kind=kind, channel=body.channel
        )
    return PreferencesOut(customer_id=customer_id, preferences=prefs)


@router.post(
    "/customers/{customer_id}/message-preferences/opt-out",
    response_model=PreferencesOut,
    summary="Opt out of a kind of message, or of every optional one",
)
def opt_out(customer_id: int, body: OptOutIn, actor: ApiActor, uow: WriteUow) -> PreferencesOut:
    """The channel ``none`` for ``kind`` (``*`` by default: every kind that is not
    essential; essential messages still go out)."""
    with uow:
        prefs = preferences.set_preference(
            uow, actor=actor, customer_id=customer_id, kind=body.kind, channel="none"
        )
    return PreferencesOut(customer_id=customer_id, preferences=prefs)


@router.delete(
    "/customers/{customer_id}/message-preferences/{kind}",
    response_model=PreferencesOut,
    summary="Forget a preference (back to the default)",
)
def clear_preference(
    customer_id: int, kind: Kind, actor: ApiActor, uow: WriteUow
) -> PreferencesOut:
    with uow:
        prefs = preferences.clear_preference(uow, actor=actor, customer_id=customer_id, kind=kind)
    return PreferencesOut(customer_id=customer_id, preferences=prefs)


# -- the delivery log and dead letters ---------------------------------------------------


class AttemptOut(BaseModel):
    attempt: int
    at: datetime
    outcome: str
    detail: str | None
    worker: str | None


class MessageOut(BaseModel):
    id: int
    kind: str
    channel: str
    recipient: str
    customer_id: int | None
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    log: list[AttemptOut]


def _message(view: outbox.MessageView) -> MessageOut:
    return MessageOut.model_validate(view, from_attributes=True)


@router.get(
    "/customers/{customer_id}/messages",
    response_model=list[MessageOut],
    summary="A customer's delivery log",
)
def delivery_log(
    customer_id: int, actor: ApiActor, uow: ReadUow, limit: int = Query(200, ge=1, le=1000)
) -> list[MessageOut]:
    """The customer's messages, newest first, each with every try at delivering it."""
    with uow:
        views = outbox.delivery_log(uow, actor=actor, customer_id=customer_id, limit=limit)
    return [_message(v) for v in views]


@router.get("/outbox/dead-letters", response_model=list[MessageOut], summary="Dead letters")
def dead_letters(
    actor: ApiActor, uow: ReadUow, limit: int = Query(200, ge=1, le=1000)
) -> list[MessageOut]:
    """Messages given up on (refused, or out of attempts), newest first."""
    with uow:
        return [_message(v) for v in outbox.dead_letters(uow, actor=actor, limit=limit)]


@router.post(
    "/outbox/{message_id}/requeue", response_model=MessageOut, summary="Requeue a dead letter"
)
def requeue(message_id: int, actor: ApiActor, uow: WriteUow) -> MessageOut:
    """Back to pending, due now, with a fresh count of attempts (audited). A webhook
    delivery needs an administrator."""
    with uow:
        return _message(outbox.retry_dead(uow, actor=actor, message_id=message_id))


# -- webhook endpoints -------------------------------------------------------------------


class EndpointIn(BaseModel):
    url: str = Field(min_length=8, max_length=500, examples=["https://hooks.example.com/fd"])
    events: str = Field(
        "*",
        min_length=1,
        max_length=500,
        description="comma-separated event names (the message kinds), or * for every event",
        examples=["ticket_opened,ticket_resolved"],
    )


class EndpointOut(BaseModel):
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class CreatedEndpointOut(EndpointOut):
    #: the signing secret, shown this once
    secret: str


def _endpoint(view: webhooks.EndpointView) -> EndpointOut:
    return EndpointOut(
        id=view.id,
        url=view.url,
        events=list(view.kinds),
        active=view.active,
        created_at=view.created_at,
    )


@router.post(
    "/webhooks",
    response_model=CreatedEndpointOut,
    status_code=201,
    summary="Register a webhook endpoint",
)
def create_endpoint(body: EndpointIn, actor: ApiActor, uow: WriteUow) -> CreatedEndpointOut:
    """Administrators only. The answer carries the endpoint's signing secret, shown this
    once (so no Idempotency-Key: a replayed answer would have to store it)."""
    with uow:
        view = webhooks.create_endpoint(uow, actor=actor, url=body.url, kinds=body.events)
    assert view.secret is not None
    return CreatedEndpointOut(**_endpoint(view).model_dump(), secret=view.secret)


@router.get("/webhooks", response_model=list[EndpointOut], summary="Webhook endpoints")
def list_endpoints(actor: ApiActor, uow: ReadUow) -> list[EndpointOut]:
    with uow:
        return [_endpoint(v) for v in webhooks.list_endpoints(uow, actor=actor)]


@router.post(
    "/webhooks/{endpoint_id}/enable", response_model=EndpointOut, summary="Turn an endpoint on"
)
def enable(endpoint_id: int, actor: ApiActor, uow: WriteUow) -> EndpointOut:
    with uow:
        return _endpoint(
            webhooks.set_active(uow, actor=actor, endpoint_id=endpoint_id, active=True)
        )


@router.post(
    "/webhooks/{endpoint_id}/disable",
    response_model=EndpointOut,
    summary="Turn an endpoint off",
)
def disable(endpoint_id: int, actor: ApiActor, uow: WriteUow) -> EndpointOut:
    """Its pending deliveries become dead letters when the worker reaches them."""
    with uow:
        return _endpoint(
            webhooks.set_active(uow, actor=actor, endpoint_id=endpoint_id, active=False)
        )
