"""/api/v1/appointments, /api/v1/technicians and /api/v1/inventory"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.equipment import EquipmentType
from fiberdesk.services import equipment, scheduling
from fiberdesk.services.workorders import technician_day
from fiberdesk.web.api.orders import BookingOut, CancelIn
from fiberdesk.web.api.schemas import PROBLEM_RESPONSES
from fiberdesk.web.deps import ApiActor, ReadUow, WriteUow, get_app

router = APIRouter(prefix="/api/v1", tags=["scheduling"], responses=PROBLEM_RESPONSES)
App = Annotated[Fiberdesk, Depends(get_app)]


class RescheduleIn(BaseModel):
    day: date
    window: str = Field(min_length=1, max_length=16)


@router.post(
    "/appointments/{appointment_id}/reschedule", response_model=BookingOut, summary="Move a visit"
)
def reschedule(appointment_id: int, body: RescheduleIn, actor: ApiActor, app: App) -> BookingOut:
    booking = scheduling.reschedule(
        app.uow,
        actor=actor,
        appointment_id=appointment_id,
        day=body.day,
        window=body.window,
        settings=app.scheduling,
    )
    return BookingOut.model_validate(booking, from_attributes=True)


@router.post("/appointments/{appointment_id}/cancel", status_code=204, summary="Cancel a visit")
def cancel(appointment_id: int, body: CancelIn, actor: ApiActor, app: App) -> None:
    scheduling.cancel(app.uow, actor=actor, appointment_id=appointment_id, reason=body.reason)


class VisitOut(BaseModel):
    order_id: int
    appointment_id: int
    order_type: str
    window: str
    window_start: time
    window_end: time
    status: str
    customer_name: str
    service_address: str


@router.get(
    "/technicians/{technician_id}/day",
    response_model=list[VisitOut],
    summary="A technician's visits on a day",
)
def day_of(
    technician_id: int, actor: ApiActor, uow: ReadUow, day: date = Query(..., alias="date")
) -> list[VisitOut]:
    with uow:
        visits = technician_day(uow, actor=actor, day=day, technician_id=technician_id)
    return [VisitOut.model_validate(v, from_attributes=True) for v in visits]


@router.get("/me/work-orders", response_model=list[VisitOut], summary="My visits (technician)")
def my_day(actor: ApiActor, uow: ReadUow, day: date = Query(..., alias="date")) -> list[VisitOut]:
    with uow:
        visits = technician_day(uow, actor=actor, day=day)
    return [VisitOut.model_validate(v, from_attributes=True) for v in visits]


class StockIn(BaseModel):
    serial: str = Field(min_length=4, max_length=20)
    mac: str | None = Field(None, max_length=20)
    vendor: str | None = Field(None, max_length=40)
    model: str | None = Field(None, max_length=40)
    type: EquipmentType = EquipmentType.ONT


class StockOut(BaseModel):
    received: int


@router.post("/inventory", response_model=StockOut, status_code=201, summary="Receive stock")
def receive(items: list[StockIn], actor: ApiActor, uow: WriteUow) -> StockOut:
    with uow:
        count = equipment.receive_stock(
            uow,
            actor=actor,
            items=[equipment.StockItem(i.serial, i.mac, i.vendor, i.model, i.type) for i in items],
        )
    return StockOut(received=count)
