"""/api/v1/quotes: price a plan at a premises, accept it to hold the port."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.services import quotes
from fiberdesk.web.api.schemas import PROBLEM_RESPONSES
from fiberdesk.web.deps import ApiActor, ReadUow, WriteUow, get_app
from fiberdesk.web.idempotency import run_idempotent
from fiberdesk.web.render import render

router = APIRouter(prefix="/api/v1/quotes", tags=["quotes"], responses=PROBLEM_RESPONSES)


class QuoteIn(BaseModel):
    premises_id: int = Field(ge=1)
    plan: str = Field(min_length=2, max_length=24, examples=["GIGABIT"])
    term: str = Field("M2M", min_length=1, max_length=16)
    promotion: str | None = Field(None, max_length=24)
    contact_name: str | None = Field(None, max_length=120)
    contact_email: str | None = Field(None, max_length=254)
    contact_phone: str | None = Field(None, max_length=40)


class AcceptIn(BaseModel):
    port: int | None = Field(None, ge=1, le=16, description="a particular NAP port, if wanted")


class QuoteOut(BaseModel):
    id: int
    reference: str
    status: str
    premises_id: int
    address: str
    plan_code: str
    plan_name: str
    download_mbps: int
    upload_mbps: int
    term_code: str
    term_months: int
    promotion_code: str | None
    decision: str
    nap_code: str | None
    port: int | None
    predicted_rx_dbm: Decimal | None
    monthly_total: Decimal
    monthly_total_after_promotion: Decimal | None
    one_time_total: Decimal
    currency: str
    lines: list[dict[str, Any]]
    taxes: dict[str, str]
    notes: list[str]
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    hold_expires_at: datetime | None


def out(view: quotes.QuoteView) -> QuoteOut:
    return QuoteOut.model_validate(view, from_attributes=True)


@router.post("", response_model=QuoteOut, status_code=201, summary="Create a quote")
def create_quote(
    body: QuoteIn,
    actor: ApiActor,
    uow: WriteUow,
    app: Annotated[Fiberdesk, Depends(get_app)],
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Monthly and one-time totals for a plan at a premises. Refused (409) where the
    premises cannot be served or the plan is not on offer there."""

    def work() -> QuoteOut:
        with uow:
            return out(
                quotes.create_quote(
                    uow,
                    actor=actor,
                    premises_id=body.premises_id,
                    plan_code=body.plan,
                    term_code=body.term,
                    promotion_code=body.promotion,
                    contact_name=body.contact_name,
                    contact_email=body.contact_email,
                    contact_phone=body.contact_phone,
                    settings=app.quote_settings,
                )
            )

    return run_idempotent(
        app, actor=actor, key=idempotency_key, request=body.model_dump(), work=work
    )


@router.get("/{reference}", response_model=QuoteOut, summary="Get a quote")
def get_quote(reference: str, actor: ApiActor, uow: ReadUow) -> QuoteOut:
    with uow:
        return out(quotes.get_quote(uow, actor=actor, reference=reference))


@router.get("/{reference}/print", response_class=HTMLResponse, summary="Printable quote")
def print_quote(
    reference: str,
    actor: ApiActor,
    uow: ReadUow,
    app: Annotated[Fiberdesk, Depends(get_app)],
) -> HTMLResponse:
    with uow:
        view = quotes.get_quote(uow, actor=actor, reference=reference)
    return render("quote_print.html", quote=view, settings=app.settings)


@router.post("/{reference}/accept", response_model=QuoteOut, summary="Accept; hold the port")
def accept_quote(
    reference: str,
    actor: ApiActor,
    uow: WriteUow,
    app: Annotated[Fiberdesk, Depends(get_app)],
    body: AcceptIn | None = None,
) -> QuoteOut:
    """Hold the quote's NAP port until the hold expires. A taken port is refused with the
    next free one named; a full NAP is refused with a waitlist offer."""
    with uow:
        return out(
            quotes.accept_quote(
                uow,
                actor=actor,
                reference=reference,
                port_number=body.port if body else None,
                settings=app.quote_settings,
            )
        )
