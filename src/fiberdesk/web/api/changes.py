"""/api/v1/customers/{id}/...: tier changes, holds, relocation and disconnection."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.services import changes, disconnect, holds, relocation
from fiberdesk.web.api.orders import OrderOut, out
from fiberdesk.web.api.schemas import PROBLEM_RESPONSES
from fiberdesk.web.deps import ApiActor, get_app

router = APIRouter(
    prefix="/api/v1/customers", tags=["service changes"], responses=PROBLEM_RESPONSES
)
App = Annotated[Fiberdesk, Depends(get_app)]


class ChangeIn(BaseModel):
    plan: str = Field(min_length=2, max_length=24)


class ChangeOut(BaseModel):
    customer_id: int
    from_plan: str
    to_plan: str
    direction: str
    effective_on: date
    days_left: int
    credit_old: Decimal
    charge_new: Decimal
    net: Decimal
    new_monthly_price: Decimal
    summary: str
    token: str
    expires_at: datetime


@router.post(
    "/{customer_id}/tier/preview", response_model=ChangeOut, summary="Preview a tier change"
)
def preview_tier(customer_id: int, body: ChangeIn, actor: ApiActor, app: App) -> ChangeOut:
    """When it takes effect and the exact proration; confirm with the returned token."""
    return ChangeOut.model_validate(
        changes.preview_change(
            app.uow,
            actor=actor,
            customer_id=customer_id,
            plan_code=body.plan,
            rules=app.rules,
            secret_key=app.settings.secret_key,
        ),
        from_attributes=True,
    )


class ConfirmChangeIn(ChangeIn):
    confirm: str = Field(min_length=8, max_length=64, description="the preview's token")


@router.post("/{customer_id}/tier", response_model=ChangeOut, summary="Change tier")
def change_tier(customer_id: int, body: ConfirmChangeIn, actor: ApiActor, app: App) -> ChangeOut:
    return ChangeOut.model_validate(
        changes.change_tier(
            app.uow,
            actor=actor,
            network=app.network,
            customer_id=customer_id,
            plan_code=body.plan,
            confirm=body.confirm,
            rules=app.rules,
            secret_key=app.settings.secret_key,
        ),
        from_attributes=True,
    )


class HoldIn(BaseModel):
    ends_on: date


@router.post("/{customer_id}/hold", status_code=201, summary="Vacation hold")
def hold(customer_id: int, body: HoldIn, actor: ApiActor, app: App) -> dict[str, int]:
    hold_id = holds.vacation_hold(
        app.uow,
        actor=actor,
        network=app.network,
        customer_id=customer_id,
        ends_on=body.ends_on,
        settings=app.hold_settings,
    )
    return {"hold_id": hold_id}


class ResumeIn(BaseModel):
    reason: str = Field("on request", max_length=200)


@router.post("/{customer_id}/resume", status_code=204, summary="Resume service")
def resume(customer_id: int, body: ResumeIn, actor: ApiActor, app: App) -> None:
    holds.resume(
        app.uow,
        actor=actor,
        network=app.network,
        customer_id=customer_id,
        settings=app.hold_settings,
        reason=body.reason,
    )


class RelocateIn(BaseModel):
    new_premises_id: int = Field(ge=1)
    plan: str | None = Field(None, max_length=24)


@router.post(
    "/{customer_id}/relocation",
    response_model=OrderOut,
    status_code=201,
    summary="Start a relocation",
)
def relocate(customer_id: int, body: RelocateIn, actor: ApiActor, app: App) -> OrderOut:
    """Qualifies the new address and holds a port there; book the visit on the returned
    order; service stays at the old address until completion."""
    return out(
        relocation.start_relocation(
            app.uow,
            actor=actor,
            customer_id=customer_id,
            new_premises_id=body.new_premises_id,
            rules=app.rules,
            plan_code=body.plan,
        )
    )


class CompleteRelocationIn(BaseModel):
    new_serial: str | None = Field(
        None, max_length=20, description="a different ONT, if the unit is swapped"
    )


@router.post(
    "/relocations/{order_id}/complete", response_model=OrderOut, summary="Complete a relocation"
)
def complete(order_id: int, body: CompleteRelocationIn, actor: ApiActor, app: App) -> OrderOut:
    return out(
        relocation.complete_relocation(
            app.uow, actor=actor, network=app.network, order_id=order_id, new_serial=body.new_serial
        ).order
    )


class DisconnectIn(BaseModel):
    on: date | None = None


class FinalBillOut(BaseModel):
    customer_id: int
    disconnect_on: date
    lines: list[dict[str, str]]
    balance_before: Decimal
    final_amount: Decimal
    equipment_to_return: list[str]
    return_by: date
    token: str
    notes: list[str]


@router.post(
    "/{customer_id}/disconnect/preview",
    response_model=FinalBillOut,
    summary="Preview the final bill",
)
def preview_disconnect(
    customer_id: int, body: DisconnectIn, actor: ApiActor, app: App
) -> FinalBillOut:
    return FinalBillOut.model_validate(
        disconnect.preview_disconnect(
            app.uow,
            actor=actor,
            customer_id=customer_id,
            on=body.on or utcnow().date(),
            settings=app.return_settings,
            secret_key=app.settings.secret_key,
        ),
        from_attributes=True,
    )


class ConfirmDisconnectIn(DisconnectIn):
    churn_reason: str = Field(max_length=40)
    confirm: str = Field(min_length=8, max_length=64)


@router.post("/{customer_id}/disconnect", response_model=FinalBillOut, summary="Disconnect")
def do_disconnect(
    customer_id: int, body: ConfirmDisconnectIn, actor: ApiActor, app: App
) -> FinalBillOut:
    return FinalBillOut.model_validate(
        disconnect.disconnect(
            app.uow,
            actor=actor,
            network=app.network,
            gateway=app.gateway,
            customer_id=customer_id,
            on=body.on or utcnow().date(),
            churn_reason=body.churn_reason,
            confirm=body.confirm,
            settings=app.return_settings,
            secret_key=app.settings.secret_key,
        ),
        from_attributes=True,
    )
