"""/api/v1/tickets and /api/v1/customers/{id}/notes, /diagnostics"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.customers import NoteType
from fiberdesk.domain.tickets import Team, TicketCategory, TicketPriority, TicketStatus
from fiberdesk.services import diagnostics, tickets
from fiberdesk.web.api.schemas import PROBLEM_RESPONSES
from fiberdesk.web.deps import ApiActor, ReadUow, WriteUow, get_app
from fiberdesk.web.idempotency import run_idempotent

router = APIRouter(prefix="/api/v1", tags=["support"], responses=PROBLEM_RESPONSES)
App = Annotated[Fiberdesk, Depends(get_app)]


class TicketIn(BaseModel):
    customer_id: int = Field(ge=1)
    category: TicketCategory
    description: str = Field(min_length=1, max_length=10_000)
    priority: TicketPriority = TicketPriority.NORMAL
    team: Team = Team.CSR


class TicketOut(BaseModel):
    id: int
    number: str
    customer_id: int
    account_number: str
    customer_name: str
    category: TicketCategory
    priority: TicketPriority
    status: TicketStatus
    team: Team
    assignee: str | None
    description: str
    resolution: str | None
    resolution_code: str | None
    first_contact_resolution: bool | None
    escalated: bool
    visit_booked: bool
    contacts: int
    outage_id: int | None
    created_at: datetime
    resolved_at: datetime | None
    sla_due_at: datetime | None
    sla_alert_at: datetime | None
    sla_state: str
    transcript: list[dict[str, Any]]


def out(view: tickets.TicketView) -> TicketOut:
    return TicketOut.model_validate(view, from_attributes=True)


@router.post("/tickets", response_model=TicketOut, status_code=201, summary="Open a ticket")
def open_ticket(
    body: TicketIn,
    actor: ApiActor,
    uow: WriteUow,
    app: App,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Open a ticket; inside an active outage on the customer's path it is linked to it."""

    def work() -> TicketOut:
        with uow:
            return out(
                tickets.open_ticket(
                    uow,
                    actor=actor,
                    customer_id=body.customer_id,
                    category=body.category,
                    description=body.description,
                    priority=body.priority,
                    team=body.team,
                    settings=app.ticket_settings,
                )
            )

    return run_idempotent(
        app, actor=actor, key=idempotency_key, request=body.model_dump(mode="json"), work=work
    )


@router.get("/tickets", response_model=list[TicketOut], summary="The ticket queue")
def queue(
    actor: ApiActor,
    uow: ReadUow,
    status: TicketStatus | None = None,
    open_only: bool = False,
    team: Team | None = None,
    customer_id: int | None = Query(None, ge=1),
    category: TicketCategory | None = None,
    sla: str | None = Query(None, pattern="^(on_track|due_soon|breached|alert)$"),
    limit: int = Query(100, ge=1, le=500),
) -> list[TicketOut]:
    with uow:
        return [
            out(v)
            for v in tickets.list_tickets(
                uow,
                actor=actor,
                status=status,
                open_only=open_only,
                team=team,
                customer_id=customer_id,
                category=category,
                sla=sla,
                limit=limit,
            )
        ]


@router.get("/tickets/{ticket_id}", response_model=TicketOut, summary="Get a ticket")
def get_ticket(ticket_id: int, actor: ApiActor, uow: ReadUow) -> TicketOut:
    with uow:
        return out(tickets.view(uow.session, tickets.get_ticket(uow.session, ticket_id)))


class TicketUpdate(BaseModel):
    status: TicketStatus | None = None
    team: Team | None = None
    assignee: str | None = Field(None, max_length=64)
    note: str | None = Field(None, max_length=10_000)
    customer_contact: bool = False


@router.patch("/tickets/{ticket_id}", response_model=TicketOut, summary="Update a ticket")
def update(
    ticket_id: int, body: TicketUpdate, actor: ApiActor, uow: WriteUow, app: App
) -> TicketOut:
    with uow:
        return out(
            tickets.update_ticket(
                uow,
                actor=actor,
                ticket_id=ticket_id,
                status=body.status,
                team=body.team,
                assignee=body.assignee,
                note=body.note,
                customer_contact=body.customer_contact,
                settings=app.ticket_settings,
            )
        )


class ResolveIn(BaseModel):
    code: str = Field(min_length=1, max_length=40, examples=["ROUTER_RESTART"])
    text: str = Field(min_length=1, max_length=10_000)


@router.post("/tickets/{ticket_id}/resolve", response_model=TicketOut, summary="Resolve")
def resolve(ticket_id: int, body: ResolveIn, actor: ApiActor, uow: WriteUow, app: App) -> TicketOut:
    with uow:
        return out(
            tickets.resolve_ticket(
                uow,
                actor=actor,
                ticket_id=ticket_id,
                code=body.code,
                text=body.text,
                settings=app.ticket_settings,
            )
        )


class NoteIn(BaseModel):
    type: NoteType = NoteType.GENERAL
    content: str = Field(min_length=1, max_length=10_000)


class NoteOut(BaseModel):
    id: int
    customer_id: int
    type: NoteType
    content: str
    created_by: str
    created_at: datetime


@router.post(
    "/customers/{customer_id}/notes",
    response_model=NoteOut,
    status_code=201,
    summary="Add a customer note",
)
def add_note(customer_id: int, body: NoteIn, actor: ApiActor, uow: WriteUow) -> NoteOut:
    with uow:
        note = tickets.add_note(
            uow, actor=actor, customer_id=customer_id, type=body.type, content=body.content
        )
    return NoteOut.model_validate(note, from_attributes=True)


@router.get(
    "/customers/{customer_id}/notes", response_model=list[NoteOut], summary="A customer's notes"
)
def notes(
    customer_id: int, actor: ApiActor, uow: ReadUow, type: NoteType | None = None
) -> list[NoteOut]:
    with uow:
        found = tickets.list_notes(uow, actor=actor, customer_id=customer_id, type=type)
    return [NoteOut.model_validate(n, from_attributes=True) for n in found]


@router.get("/customers/{customer_id}/diagnostics", summary="Remote diagnostics")
def run_diagnostics(
    customer_id: int, actor: ApiActor, app: App, ping: bool = True
) -> dict[str, Any]:
    """Live ONT status, Rx/Tx and signal class, alarms of the last 24 hours, ping, last
    seen, suspension, maintenance and outages on the customer's path, PON utilisation."""
    result = diagnostics.run_diagnostics(
        app.uow, actor=actor, customer_id=customer_id, network=app.network, ping=ping
    )
    return result.as_dict()
