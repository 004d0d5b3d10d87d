"""/api/v1/waitlist and /api/v1/catalog"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.services import waitlist
from fiberdesk.web.api.schemas import PROBLEM_RESPONSES
from fiberdesk.web.deps import ApiActor, ReadUow, WriteUow, get_app

router = APIRouter(prefix="/api/v1/waitlist", tags=["waitlist"], responses=PROBLEM_RESPONSES)


class WaitlistIn(BaseModel):
    premises_id: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=120)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    plan: str | None = Field(None, max_length=24)


class WaitlistOut(BaseModel):
    id: int
    name: str
    address: str
    zip: str | None
    reason: str
    plan_code: str | None
    nap_code: str | None
    created_at: datetime


class DemandOut(BaseModel):
    key: str
    entries: int
    by_plan: dict[str, int]


class ReportOut(BaseModel):
    total: int
    by_reason: dict[str, int]
    by_zip: list[DemandOut]
    by_full_nap: list[DemandOut]


@router.post("", response_model=WaitlistOut, status_code=201, summary="Join the waitlist")
def join(
    body: WaitlistIn,
    actor: ApiActor,
    uow: WriteUow,
    app: Annotated[Fiberdesk, Depends(get_app)],
) -> WaitlistOut:
    with uow:
        view = waitlist.join_waitlist(
            uow,
            actor=actor,
            premises_id=body.premises_id,
            name=body.name,
            email=body.email,
            phone=body.phone,
            plan_code=body.plan,
            rules=app.rules,
        )
    return WaitlistOut.model_validate(view, from_attributes=True)


@router.get("/report", response_model=ReportOut, summary="Demand by area and full NAP")
def report(actor: ApiActor, uow: ReadUow) -> ReportOut:
    with uow:
        result = waitlist.waitlist_report(uow, actor=actor)
    return ReportOut.model_validate(result, from_attributes=True)
