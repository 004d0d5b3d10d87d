"""/api/v1/alarms, /api/v1/network/poll, /api/v1/outages and /api/v1/maintenance: the NOC."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field, model_validator

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.outages import OutageKind, OutageStatus, Scope
from fiberdesk.services import alarms, outages
from fiberdesk.web.api.schemas import PROBLEM_RESPONSES
from fiberdesk.web.deps import ApiActor, ReadUow, WriteUow, get_app
from fiberdesk.web.idempotency import run_idempotent

router = APIRouter(prefix="/api/v1", tags=["outages"], responses=PROBLEM_RESPONSES)
App = Annotated[Fiberdesk, Depends(get_app)]
MAX_ALARMS = 10_000


class AlarmIn(BaseModel):
    source: str = Field("api", min_length=1, max_length=40, examples=["olt-towson-1"])
    #: the sender's id for the alarm (dedupes retries); made from the content when absent
    id: str | None = Field(None, min_length=1, max_length=120)
    kind: str = Field(min_length=1, max_length=40, examples=["LOS"])
    serial: str | None = Field(None, max_length=40, examples=["HWTC1A2B3C4D"])
    raised_at: AwareDatetime
    cleared_at: AwareDatetime | None = None
    detail: str = Field("", max_length=500)

    @model_validator(mode="after")
    def _cleared_after_raised(self) -> AlarmIn:
        if self.cleared_at is not None and self.cleared_at < self.raised_at:
            raise ValueError("cleared_at is before raised_at")
        return self


class IngestOut(BaseModel):
    received: int
    stored: int
    duplicates: int
    unmatched: int
    suppressed: int
    cleared: int
    reasons: list[tuple[int, str]]


class CorrelationOut(BaseModel):
    candidates: int
    opened: list[int]
    attached: int
    resolved: list[int]
    notified: int
    tickets_linked: int


class PollOut(BaseModel):
    ingest: IngestOut
    correlation: CorrelationOut


def _poll_out(result: outages.PollResult) -> PollOut:
    return PollOut.model_validate(result, from_attributes=True)


@router.post("/alarms", response_model=PollOut, summary="Send alarms")
def post_alarms(
    actor: ApiActor,
    app: App,
    body: Annotated[list[AlarmIn], Body(max_length=MAX_ALARMS)],
) -> PollOut:
    """Store alarms (matched to ONTs and customers, or kept unmatched with the reason;
    a repeat is stored once) and correlate them into outages."""
    incoming = [
        alarms.IncomingAlarm(
            a.kind, a.serial, a.raised_at, a.cleared_at, a.id, a.detail, source=a.source
        )
        for a in body
    ]
    return _poll_out(
        outages.receive(
            app.uow,
            actor=actor,
            alarms=incoming,
            source="api",
            settings=outages.settings_from(app.settings),
        )
    )


@router.post("/network/poll", response_model=PollOut, summary="Poll the network for alarms")
def poll_network(actor: ApiActor, app: App) -> PollOut:
    """Pull the OLT's alarms of the lookback period, store the new ones and correlate."""
    return _poll_out(
        outages.poll(
            app.uow, actor=actor, network=app.network, settings=outages.settings_from(app.settings)
        )
    )


class AlarmOut(BaseModel):
    id: int
    source: str
    kind: str
    ont_serial: str | None
    raised_at: datetime
    cleared_at: datetime | None
    received_at: datetime
    customer_id: int | None
    matched: bool
    unmatched_reason: str | None
    suppressed_by: int | None
    outage_id: int | None
    detail: str | None


@router.get("/alarms", response_model=list[AlarmOut], summary="List alarms")
def list_alarms(
    actor: ApiActor,
    uow: ReadUow,
    unmatched: bool | None = None,
    outage_id: int | None = Query(None, ge=1),
    limit: int = Query(100, ge=1, le=1000),
) -> list[AlarmOut]:
    """The latest first; ``unmatched=true`` for alarms kept with the reason they matched
    nothing."""
    with uow:
        views = alarms.list_alarms(
            uow, actor=actor, unmatched=unmatched, outage_id=outage_id, limit=limit
        )
    return [AlarmOut.model_validate(v, from_attributes=True) for v in views]


class OutageOut(BaseModel):
    id: int
    status: OutageStatus
    kind: OutageKind
    scope: Scope
    scope_id: int
    scope_label: str
    area: str
    detected_at: datetime
    confirmed_at: datetime | None
    resolved_at: datetime | None
    estimated_resolution: datetime | None
    cause: str | None
    affected_onts: int
    affected_customers: int


class AffectedCustomerOut(BaseModel):
    id: int
    account_number: str
    name: str
    service_address: str
    notified_at: datetime | None
    restored_at: datetime | None


class OutageDetailOut(BaseModel):
    outage: OutageOut
    customers: list[AffectedCustomerOut]
    alarms: int
    tickets: list[int]


def _outage_out(view: outages.OutageView) -> OutageOut:
    return OutageOut.model_validate(view, from_attributes=True)


@router.get("/outages", response_model=list[OutageOut], summary="List outages")
def list_outages(
    actor: ApiActor,
    uow: ReadUow,
    status: OutageStatus | None = None,
    zip_code: str | None = Query(None, alias="zip", pattern=r"^\d{5}$"),
    limit: int = Query(100, ge=1, le=500),
) -> list[OutageOut]:
    """Newest first; ``zip`` keeps outages with an affected customer in that ZIP code."""
    with uow:
        views = outages.list_outages(
            uow, actor=actor, status=status, zip_code=zip_code, limit=limit
        )
    return [_outage_out(v) for v in views]


@router.get("/outages/{outage_id}", response_model=OutageDetailOut, summary="Get an outage")
def get_outage(outage_id: int, actor: ApiActor, uow: ReadUow) -> OutageDetailOut:
    """The outage with its affected customers, alarm count and linked tickets."""
    with uow:
        detail = outages.outage_detail(uow, actor=actor, outage_id=outage_id)
    return OutageDetailOut.model_validate(detail, from_attributes=True)


class ConfirmIn(BaseModel):
    cause: str = Field(min_length=1, max_length=2000)
    eta: AwareDatetime | None = None


@router.post("/outages/{outage_id}/confirm", response_model=OutageOut, summary="Confirm")
def confirm_outage(outage_id: int, body: ConfirmIn, actor: ApiActor, uow: WriteUow) -> OutageOut:
    """The NOC confirms the fault: its cause and, if known, a new estimated resolution."""
    with uow:
        return _outage_out(
            outages.confirm(uow, actor=actor, outage_id=outage_id, cause=body.cause, eta=body.eta)
        )


class ResolveIn(BaseModel):
    note: str = Field(min_length=1, max_length=2000)


@router.post("/outages/{outage_id}/resolve", response_model=OutageOut, summary="Resolve")
def resolve_outage(
    outage_id: int, body: ResolveIn, actor: ApiActor, uow: WriteUow, app: App
) -> OutageOut:
    """Service restored: the affected customers get a restoration notice."""
    with uow:
        return _outage_out(
            outages.resolve_outage(
                uow,
                actor=actor,
                outage_id=outage_id,
                note=body.note,
                settings=outages.settings_from(app.settings),
            )
        )


class MaintenanceIn(BaseModel):
    title: str = Field(min_length=1, max_length=120)
    scope: Scope
    scope_id: int = Field(ge=1)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    description: str = Field("", max_length=2000)


class MaintenanceOut(BaseModel):
    id: int
    title: str
    description: str
    scope: Scope
    scope_id: int
    scope_label: str
    starts_at: datetime
    ends_at: datetime
    created_by: str
    customers: int


@router.post(
    "/maintenance", response_model=MaintenanceOut, status_code=201, summary="Plan maintenance"
)
def create_maintenance(
    body: MaintenanceIn,
    actor: ApiActor,
    uow: WriteUow,
    app: App,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """A window of planned work: alarms on the element are suppressed while it lasts and the
    customers under it get a planned maintenance notice."""

    def work() -> MaintenanceOut:
        with uow:
            view = outages.create_maintenance(
                uow,
                actor=actor,
                title=body.title,
                scope=body.scope,
                scope_id=body.scope_id,
                starts_at=body.starts_at,
                ends_at=body.ends_at,
                description=body.description,
                settings=outages.settings_from(app.settings),
            )
        return MaintenanceOut.model_validate(view, from_attributes=True)

    return run_idempotent(
        app, actor=actor, key=idempotency_key, request=body.model_dump(mode="json"), work=work
    )


@router.get("/maintenance", response_model=list[MaintenanceOut], summary="List maintenance")
def list_maintenance(
    actor: ApiActor, uow: ReadUow, include_past: bool = False
) -> list[MaintenanceOut]:
    """Current and coming windows, soonest first."""
    with uow:
        views = outages.list_maintenance(uow, actor=actor, include_past=include_past)
    return [MaintenanceOut.model_validate(v, from_attributes=True) for v in views]
