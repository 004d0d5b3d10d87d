"""/api/v1/qualify and /api/v1/premises: is fiber available here?"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, model_validator

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.users import Actor
from fiberdesk.services import address_match
from fiberdesk.services.qualification import (
    qualification_payload,
    qualify_address,
    qualify_premises,
)
from fiberdesk.web.api.schemas import PROBLEM_RESPONSES, prebuilt_json
from fiberdesk.web.deps import ApiActor, CurrentApp, ReadUow
from fiberdesk.web.threads import run_lookup

router = APIRouter(prefix="/api/v1", tags=["qualification"], responses=PROBLEM_RESPONSES)


class QualifyIn(BaseModel):
    """Give exactly one of: a typed address, a premises id, a source id, or coordinates."""

    address: str | None = Field(None, max_length=20_000, examples=["1901 Old Court Rd, Towson"])
    premises_id: int | None = Field(None, ge=1)
    source_id: str | None = Field(None, min_length=1, max_length=40)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)

    @model_validator(mode="after")
    def _one_way(self) -> QualifyIn:
        ways = [
            self.address is not None,
            self.premises_id is not None,
            self.source_id is not None,
            self.lat is not None or self.lon is not None,
        ]
        if sum(ways) != 1:
            raise ValueError("give exactly one of address, premises_id, source_id, lat+lon")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together")
        return self


class CandidateOut(BaseModel):
    premises_id: int
    source_id: str
    label: str
    confidence: float
    distance_m: float | None = None


class TierOut(BaseModel):
    code: str
    name: str
    download_mbps: int
    upload_mbps: int
    monthly_price: Decimal
    install_fee: Decimal
    currency: str
    use_case: str
    offered: bool
    reason: str | None


class QualificationOut(BaseModel):
    query: str | None
    decision: str | None = Field(
        description="SERVICEABLE, SITE_SURVEY, NOT_SERVICEABLE, "
        "ALREADY_SERVED; null when the address matched no one premises"
    )
    decision_label: str | None
    messages: list[str]
    reasons: list[str]
    match_status: str
    premises: CandidateOut | None
    confidence: float | None
    multi_dwelling: bool
    candidates: list[CandidateOut]
    parsed: dict[str, str | None] | None
    nap: dict[str, Any] | None
    port: int | None
    predicted_rx_dbm: Decimal | None
    signal_class: str | None
    margin_db: Decimal | None
    pon: dict[str, Any] | None
    tiers: list[TierOut]
    survey_requirements: list[str]
    waitlist_offered: bool


@router.post("/qualify", response_model=QualificationOut, summary="Qualify an address")
async def qualify(
    body: QualifyIn, actor: ApiActor, uow: ReadUow, app: CurrentApp, request: Request
) -> Response:
    """The serviceability decision with its reasons, the NAP and port that would be used,
    the predicted signal, and the tiers on offer with prices."""
    return await run_lookup(request, _qualify, body, actor, uow, app)


def _qualify(body: QualifyIn, actor: Actor, uow: UnitOfWork, app: Fiberdesk) -> Response:
    with uow:
        if body.address is not None:
            q = qualify_address(uow, actor=actor, address=body.address, rules=app.rules)
            return prebuilt_json(qualification_payload(q, query=body.address))
        if body.premises_id is not None:
            premises_id = body.premises_id
        elif body.source_id is not None:
            premises_id = address_match.premises_by_source_id(
                uow.session, body.source_id
            ).premises_id
        else:
            assert body.lat is not None and body.lon is not None
            premises_id = address_match.nearest_premises(uow.session, lat=body.lat, lon=body.lon)[
                0
            ].premises_id
        q = qualify_premises(uow, actor=actor, premises_id=premises_id, rules=app.rules)
        return prebuilt_json(qualification_payload(q))


@router.get(
    "/premises/nearest", response_model=list[CandidateOut], summary="Premises nearest to a point"
)
def nearest(
    actor: ApiActor,
    uow: ReadUow,
    lat: float = Query(..., ge=-90, le=90),
    lon: float = Query(..., ge=-180, le=180),
) -> list[CandidateOut]:
    with uow:
        found = address_match.nearest_premises(uow.session, lat=lat, lon=lon)
    return [CandidateOut.model_validate(c, from_attributes=True) for c in found]


@router.get(
    "/premises/by-source/{source_id}",
    response_model=CandidateOut,
    summary="Premises by its source id",
)
def by_source(source_id: str, actor: ApiActor, uow: ReadUow) -> CandidateOut:
    with uow:
        found = address_match.premises_by_source_id(uow.session, source_id)
    return CandidateOut.model_validate(found, from_attributes=True)
