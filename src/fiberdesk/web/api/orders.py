"""/api/v1/orders: from an accepted quote to an active customer (STEPS 2 to 5)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.signup import IdentityMethod
from fiberdesk.services import activation, equipment, lifecycle, orders, scheduling, signup
from fiberdesk.services.workorders import work_order
from fiberdesk.web.api.schemas import PROBLEM_RESPONSES
from fiberdesk.web.deps import ApiActor, ReadUow, WriteUow, get_app
from fiberdesk.web.idempotency import run_idempotent

router = APIRouter(prefix="/api/v1/orders", tags=["orders"], responses=PROBLEM_RESPONSES)
App = Annotated[Fiberdesk, Depends(get_app)]


class OrderIn(BaseModel):
    quote: str = Field(min_length=3, max_length=12, examples=["Q-7KX2M9PD"])
    name: str = Field(min_length=2, max_length=120)
    email: str = Field(max_length=254)
    phone: str = Field(max_length=40)
    unit: str | None = Field(None, max_length=16)
    access_notes: str | None = Field(None, max_length=1000)


class OrderOut(BaseModel):
    id: int
    type: str
    status: str
    customer_id: int
    account_number: str
    customer_name: str
    customer_status: str
    plan_code: str | None
    scheduled_date: str | None
    completed_date: datetime | None
    technician_id: int | None
    created_at: datetime
    details: dict[str, Any]
    steps: list[dict[str, Any]]
    checklist: list[dict[str, Any]]
    ready_to_schedule: bool
    missing: list[str]


def out(view: orders.OrderView) -> OrderOut:
    return OrderOut.model_validate(view, from_attributes=True)


@router.post("", response_model=OrderOut, status_code=201, summary="Enter an order")
def create_order(
    body: OrderIn,
    actor: ApiActor,
    uow: WriteUow,
    app: App,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Turn an accepted quote into a NEW_INSTALL order and a PENDING customer."""

    def work() -> OrderOut:
        with uow:
            return out(
                orders.create_order(
                    uow,
                    actor=actor,
                    quote_reference=body.quote,
                    name=body.name,
                    email=body.email,
                    phone=body.phone,
                    unit=body.unit,
                    access_notes=body.access_notes,
                )
            )

    return run_idempotent(
        app, actor=actor, key=idempotency_key, request=body.model_dump(), work=work
    )


@router.get("/{order_id}", response_model=OrderOut, summary="Get an order")
def get_order(order_id: int, actor: ApiActor, uow: ReadUow) -> OrderOut:
    with uow:
        return out(orders.show_order(uow, actor=actor, order_id=order_id))


class CodeIn(BaseModel):
    channel: Literal["sms", "email"]


@router.post("/{order_id}/identity/code", summary="Send a one-time code")
def send_code(order_id: int, body: CodeIn, actor: ApiActor, app: App) -> dict[str, str]:
    sent_to = signup.send_identity_code(
        app.uow,
        actor=actor,
        order_id=order_id,
        channel=body.channel,
        secret_key=app.settings.secret_key,
        ttl_minutes=app.settings.one_time_code_minutes,
    )
    return {"sent_to": sent_to}


class IdentityIn(BaseModel):
    method: IdentityMethod
    document_type: str | None = Field(None, max_length=30)
    document_number: str | None = Field(None, max_length=40)
    code: str | None = Field(None, max_length=10)


@router.post("/{order_id}/identity", response_model=OrderOut, summary="Verify identity")
def verify_identity(order_id: int, body: IdentityIn, actor: ApiActor, app: App) -> OrderOut:
    """Record how identity was verified: a photo ID (its number is never stored) or a
    one-time code sent with /identity/code."""
    return out(
        signup.verify_identity(
            app.uow,
            actor=actor,
            order_id=order_id,
            method=body.method,
            secret_key=app.settings.secret_key,
            document_type=body.document_type,
            document_number=body.document_number,
            code=body.code,
        )
    )


class CreditIn(BaseModel):
    date_of_birth: date
    ssn_last4: str | None = Field(None, min_length=4, max_length=4, pattern=r"^\d{4}$")


class CreditOut(BaseModel):
    outcome: str
    deposit: Decimal
    score: int | None
    reference: str
    order: OrderOut


@router.post("/{order_id}/credit-check", response_model=CreditOut, summary="Credit check")
def credit_check(order_id: int, body: CreditIn, actor: ApiActor, app: App) -> CreditOut:
    result = signup.credit_check(
        app.uow,
        actor=actor,
        order_id=order_id,
        bureau=app.bureau,
        policy=app.credit_policy,
        date_of_birth=body.date_of_birth,
        ssn_last4=body.ssn_last4,
    )
    return CreditOut(
        outcome=result.outcome.value,
        deposit=result.deposit,
        score=result.score,
        reference=result.reference,
        order=out(result.order),
    )


class PaymentIn(BaseModel):
    token: str = Field(
        min_length=3, max_length=120, description="the payment processor's token for the card"
    )
    autopay: bool = True


@router.post("/{order_id}/payment-method", response_model=OrderOut, summary="Payment setup")
def payment(order_id: int, body: PaymentIn, actor: ApiActor, app: App) -> OrderOut:
    return out(
        signup.setup_payment(
            app.uow,
            actor=actor,
            order_id=order_id,
            gateway=app.gateway,
            token=body.token,
            autopay=body.autopay,
            currency=app.settings.currency,
        )
    )


class ContractIn(BaseModel):
    accepted_name: str = Field(min_length=2, max_length=120)
    channel: Literal["console", "phone", "web", "agent"]


@router.post("/{order_id}/contract", response_model=OrderOut, summary="Accept the contract")
def contract(order_id: int, body: ContractIn, actor: ApiActor, app: App) -> OrderOut:
    return out(
        signup.accept_contract(
            app.uow,
            actor=actor,
            order_id=order_id,
            accepted_name=body.accepted_name,
            channel=body.channel,
        )
    )


class SlotOut(BaseModel):
    day: date
    window: str
    label: str
    available_technicians: int


@router.get("/{order_id}/windows", response_model=list[SlotOut], summary="Free windows")
def windows(
    order_id: int,
    actor: ApiActor,
    app: App,
    start: date | None = None,
    limit: int = Query(10, ge=1, le=100),
) -> list[SlotOut]:
    slots = scheduling.find_windows(
        app.uow, actor=actor, order_id=order_id, settings=app.scheduling, start=start, limit=limit
    )
    return [SlotOut.model_validate(s, from_attributes=True) for s in slots]


class BookIn(BaseModel):
    day: date
    window: str = Field(min_length=1, max_length=16)
    technician_id: int | None = Field(None, ge=1)


class BookingOut(BaseModel):
    appointment_id: int
    order_id: int
    technician_id: int
    technician_name: str
    day: date
    window: str
    label: str
    lead_time_flag: str | None


@router.post(
    "/{order_id}/appointments", response_model=BookingOut, status_code=201, summary="Book a visit"
)
def book(
    order_id: int,
    body: BookIn,
    actor: ApiActor,
    app: App,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    def work() -> BookingOut:
        booking = scheduling.book(
            app.uow,
            actor=actor,
            order_id=order_id,
            day=body.day,
            window=body.window,
            technician_id=body.technician_id,
            settings=app.scheduling,
        )
        return BookingOut.model_validate(booking, from_attributes=True)

    return run_idempotent(
        app,
        actor=actor,
        key=idempotency_key,
        request={"order": order_id, **body.model_dump()},
        work=work,
    )


class SurveyIn(BaseModel):
    passed: bool
    notes: str = Field(min_length=1, max_length=2000)


@router.post("/{order_id}/survey", status_code=204, summary="Close a site survey")
def survey(order_id: int, body: SurveyIn, actor: ApiActor, app: App) -> None:
    scheduling.complete_survey(
        app.uow, actor=actor, order_id=order_id, passed=body.passed, notes=body.notes
    )


class EquipmentIn(BaseModel):
    serial: str | None = Field(None, max_length=20, examples=["HWTC1A2B3C4D"])
    mac: str | None = Field(None, max_length=20)


@router.post("/{order_id}/equipment", response_model=OrderOut, summary="Assign an ONT")
def assign(order_id: int, body: EquipmentIn, actor: ApiActor, uow: WriteUow) -> OrderOut:
    with uow:
        return out(
            equipment.assign_ont(
                uow, actor=actor, order_id=order_id, serial=body.serial, mac=body.mac
            )
        )


@router.post("/{order_id}/provision", response_model=OrderOut, summary="Register on the OLT")
def provision(order_id: int, actor: ApiActor, app: App) -> OrderOut:
    return out(equipment.provision(app.uow, actor=actor, order_id=order_id, network=app.network))


class EnRouteIn(BaseModel):
    eta_minutes: int = Field(ge=1, le=600)


@router.post("/{order_id}/en-route", status_code=204, summary="Technician on the way")
def en_route(order_id: int, body: EnRouteIn, actor: ApiActor, app: App) -> None:
    activation.en_route(
        app.uow,
        actor=actor,
        order_id=order_id,
        eta_minutes=body.eta_minutes,
        company_name=app.settings.company_name,
        support_phone=app.settings.support_phone,
    )


@router.post("/{order_id}/arrive", response_model=OrderOut, summary="Technician on site")
def arrive(order_id: int, actor: ApiActor, app: App) -> OrderOut:
    return out(activation.arrive(app.uow, actor=actor, order_id=order_id))


class ActivateIn(BaseModel):
    physical_confirmed: bool
    download_mbps: Decimal = Field(ge=0, le=100_000)
    upload_mbps: Decimal = Field(ge=0, le=100_000)
    wired: bool = True


@router.post("/{order_id}/activate", response_model=OrderOut, summary="Activate")
def activate(order_id: int, body: ActivateIn, actor: ApiActor, app: App) -> OrderOut:
    """Checks the ONT is registered with Rx in range and that the wired speed test reaches
    the configured share of the plan; then the customer is ACTIVE."""
    return out(
        activation.activate(
            app.uow,
            actor=actor,
            order_id=order_id,
            network=app.network,
            speed_test=activation.SpeedTest(body.download_mbps, body.upload_mbps, body.wired),
            physical_confirmed=body.physical_confirmed,
            min_share=Decimal(str(app.settings.speed_test_min_share)),
            company_name=app.settings.company_name,
            support_phone=app.settings.support_phone,
            surveys=app.kpi_settings,
        )
    )


class CancelIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


@router.post("/{order_id}/cancel", response_model=OrderOut, summary="Cancel an installation")
def cancel(order_id: int, body: CancelIn, actor: ApiActor, uow: WriteUow) -> OrderOut:
    with uow:
        return out(lifecycle.cancel_order(uow, actor=actor, order_id=order_id, reason=body.reason))


class WorkOrderOut(BaseModel):
    order_id: int
    order_type: str
    order_status: str
    appointment_id: int | None
    appointment_status: str | None
    day: date | None
    window: str | None
    window_start: time | None
    window_end: time | None
    technician: str | None
    customer_name: str
    customer_phone: str | None
    account_number: str
    service_address: str
    unit: str | None
    lat: float | None
    lon: float | None
    directions: str
    access_notes: list[str]
    notes: list[str]
    nap_code: str | None
    nap_port: int | None
    nap_lat: float | None
    nap_lon: float | None
    plan: str | None
    profile: str | None
    ont_serial: str | None
    ont_mac: str | None
    static_ip: str | None
    survey_requirements: list[str]
    steps: list[dict[str, Any]]


@router.get("/{order_id}/work-order", response_model=WorkOrderOut, summary="Work order")
def get_work_order(order_id: int, actor: ApiActor, uow: ReadUow) -> WorkOrderOut:
    with uow:
        return WorkOrderOut.model_validate(
            work_order(uow, actor=actor, order_id=order_id), from_attributes=True
        )
