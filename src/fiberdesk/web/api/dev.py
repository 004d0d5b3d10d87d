"""/api/v1/dev: helpers that exist only while the fake outside systems are in use.

A real processor tokenises cards in the customer's browser; with the fake gateway this
endpoint plays that part so that demos and tests can make tokens. It is not mounted when
a real gateway is configured.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from fiberdesk.adapters.payments.base import PaymentDeclined
from fiberdesk.adapters.payments.fake import FakeGateway
from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import Refused
from fiberdesk.web.api.schemas import PROBLEM_RESPONSES
from fiberdesk.web.deps import ApiActor, get_app

router = APIRouter(prefix="/api/v1/dev", tags=["development"], responses=PROBLEM_RESPONSES)


class CardIn(BaseModel):
    number: str = Field(min_length=12, max_length=23, examples=["4242 4242 4242 4242"])
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2100)
    cvc: str = Field(min_length=3, max_length=4)


class TokenOut(BaseModel):
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@router.post(
    "/payment-tokens",
    response_model=TokenOut,
    status_code=201,
    summary="Tokenise a test card (fake gateway only)",
)
def tokenize(
    body: CardIn, actor: ApiActor, app: Annotated[Fiberdesk, Depends(get_app)]
) -> TokenOut:
    gateway = app.gateway
    assert isinstance(gateway, FakeGateway)
    try:
        card = gateway.tokenize(body.number, body.exp_month, body.exp_year, body.cvc)
    except PaymentDeclined as exc:
        raise Refused(
            f"the test card was refused: {exc.message}", extra={"decline_code": exc.code}
        ) from None
    return TokenOut.model_validate(card, from_attributes=True)
