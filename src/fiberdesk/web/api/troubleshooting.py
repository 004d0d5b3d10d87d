"""/api/v1: guided troubleshooting sessions on tickets, the flows, and customer usage."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.services import flows, troubleshooting, usage
from fiberdesk.web.api.schemas import PROBLEM_RESPONSES
from fiberdesk.web.deps import ApiActor, ReadUow, WriteUow, get_app
from fiberdesk.web.idempotency import run_idempotent

router = APIRouter(prefix="/api/v1", tags=["troubleshooting"], responses=PROBLEM_RESPONSES)
App = Annotated[Fiberdesk, Depends(get_app)]
CODE = r"^[a-z][a-z0-9_]{1,31}$"


class StartIn(BaseModel):
    flow: str = Field(pattern=CODE, examples=["no_internet"])


class AnswerIn(BaseModel):
    node: str = Field(min_length=1, max_length=60, examples=["q_lights"])
    option: str = Field(min_length=1, max_length=60, examples=["all_green"])


class SessionOut(BaseModel):
    id: int
    ticket_id: int
    ticket_number: str
    customer_id: int
    flow_code: str
    flow_name: str
    flow_version: int
    status: str
    current_node: str | None
    prompt: dict[str, Any] | None
    guidance: list[dict[str, Any]]
    outcome: dict[str, Any] | None
    checks: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    answers: list[dict[str, Any]]
    started_by: str
    started_at: datetime
    updated_at: datetime


def out(view: troubleshooting.SessionView) -> SessionOut:
    return SessionOut.model_validate(view, from_attributes=True)


@router.post(
    "/tickets/{ticket_id}/troubleshooting",
    response_model=SessionOut,
    status_code=201,
    summary="Start troubleshooting a ticket",
)
def start(
    ticket_id: int,
    body: StartIn,
    actor: ApiActor,
    app: App,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Run the flow's automatic checks for the ticket's customer and stop at the first
    question they do not answer (or at an outcome). One live session per ticket."""

    def work() -> SessionOut:
        return out(
            troubleshooting.start_session(
                app.uow,
                actor=actor,
                network=app.network,
                ticket_id=ticket_id,
                flow_code=body.flow,
                scheduling=app.scheduling,
            )
        )

    return run_idempotent(
        app,
        actor=actor,
        key=idempotency_key,
        request={"ticket_id": ticket_id, **body.model_dump()},
        work=work,
    )


@router.post("/troubleshooting/{session_id}/answer", response_model=SessionOut, summary="Answer")
def answer(session_id: int, body: AnswerIn, actor: ApiActor, app: App) -> SessionOut:
    """Answer the open question with one of its options."""
    return out(
        troubleshooting.answer(
            app.uow,
            actor=actor,
            network=app.network,
            session_id=session_id,
            node_id=body.node,
            option=body.option,
            scheduling=app.scheduling,
        )
    )


@router.post("/troubleshooting/{session_id}/pause", response_model=SessionOut, summary="Pause")
def pause(session_id: int, actor: ApiActor, app: App) -> SessionOut:
    return out(troubleshooting.pause(app.uow, actor=actor, session_id=session_id))


@router.post("/troubleshooting/{session_id}/resume", response_model=SessionOut, summary="Resume")
def resume(session_id: int, actor: ApiActor, app: App) -> SessionOut:
    """Resume a paused session; every check is re-read first."""
    return out(
        troubleshooting.resume(
            app.uow,
            actor=actor,
            network=app.network,
            session_id=session_id,
            scheduling=app.scheduling,
        )
    )


@router.get("/troubleshooting/{session_id}", response_model=SessionOut, summary="A session")
def get_session(session_id: int, actor: ApiActor, uow: ReadUow) -> SessionOut:
    with uow:
        return out(troubleshooting.get_session(uow, actor=actor, session_id=session_id))


class FlowSummaryOut(BaseModel):
    code: str
    version: int
    name: str
    category: str | None
    description: str
    nodes: int
    checks: list[str]
    stored: bool
    updated_by: str
    updated_at: datetime | None


class FlowOut(FlowSummaryOut):
    definition: dict[str, Any]


class FlowIn(BaseModel):
    definition: dict[str, Any] = Field(description="the whole flow (docs/troubleshooting.md)")


@router.get("/flows", response_model=list[FlowSummaryOut], summary="Troubleshooting flows")
def list_flows(actor: ApiActor, uow: ReadUow) -> list[FlowSummaryOut]:
    with uow:
        return [
            FlowSummaryOut.model_validate(f, from_attributes=True)
            for f in flows.list_flows(uow, actor=actor)
        ]


@router.get("/flows/{code}", response_model=FlowOut, summary="A flow's definition")
def get_flow(
    code: str,
    actor: ApiActor,
    uow: ReadUow,
    version: int | None = Query(None, ge=1, description="a past version; default the active"),
) -> FlowOut:
    with uow:
        view = flows.get_flow(uow, actor=actor, code=code, version=version)
        return FlowOut.model_validate(view, from_attributes=True)


@router.put("/flows/{code}", response_model=FlowOut, summary="Store a new version (supervisor)")
def save_flow(code: str, body: FlowIn, actor: ApiActor, uow: WriteUow) -> FlowOut:
    """Validate the definition and store it as the flow's next, active version; running
    sessions keep the version they started with."""
    with uow:
        view = flows.save_flow(uow, actor=actor, code=code, definition=body.definition)
        return FlowOut.model_validate(view, from_attributes=True)


class UsageDayOut(BaseModel):
    day: date
    rx_bytes: int
    tx_bytes: int


class UsageOut(BaseModel):
    customer_id: int
    account_number: str
    first_day: date
    last_day: date
    days: list[UsageDayOut]
    total_rx_bytes: int
    total_tx_bytes: int


@router.get("/customers/{customer_id}/usage", response_model=UsageOut, summary="Daily usage")
def customer_usage(
    customer_id: int,
    actor: ApiActor,
    uow: ReadUow,
    days: int = Query(30, ge=1, le=usage.MAX_HISTORY_DAYS),
) -> UsageOut:
    """Bytes down (rx) and up (tx) per day, from the ONT's counters."""
    with uow:
        history = usage.usage_history(uow, actor=actor, customer_id=customer_id, days=days)
        return UsageOut.model_validate(history, from_attributes=True)
