"""/api/v1/customers"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel

from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.services import customers
from fiberdesk.services.pagination import MAX_PAGE_SIZE, PageRequest
from fiberdesk.web.api.schemas import PROBLEM_RESPONSES, PageOut
from fiberdesk.web.deps import ApiActor, ReadUow

router = APIRouter(prefix="/api/v1/customers", tags=["customers"], responses=PROBLEM_RESPONSES)


class CustomerOut(BaseModel):
    id: int
    account_number: str
    name: str
    email: str | None
    phone: str | None
    service_address: str
    premises_id: int | None
    nap_id: int | None
    nap_code: str | None
    port_number: int | None
    plan_code: str | None
    status: ServiceStatus
    status_label: str
    created_at: datetime
    activated_at: datetime | None
    disconnected_at: datetime | None


def _out(view: customers.CustomerView) -> CustomerOut:
    return CustomerOut(
        id=view.id,
        account_number=view.account_number,
        name=view.name,
        email=view.email,
        phone=view.phone,
        service_address=view.service_address,
        premises_id=view.premises_id,
        nap_id=view.nap_id,
        nap_code=view.nap_code,
        port_number=view.port_number,
        plan_code=view.plan_code,
        status=view.status,
        status_label=view.status.label,
        created_at=view.created_at,
        activated_at=view.activated_at,
        disconnected_at=view.disconnected_at,
    )


@router.get("", response_model=PageOut[CustomerOut], summary="List customers")
def list_customers(
    actor: ApiActor,
    uow: ReadUow,
    status: ServiceStatus | None = None,
    plan: str | None = Query(None, max_length=24, description="plan code, e.g. GIGABIT"),
    nap_id: int | None = Query(None, ge=1),
    name: str | None = Query(None, min_length=1, max_length=120),
    page: int = Query(1, ge=1),
    per_page: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
) -> PageOut[CustomerOut]:
    with uow:
        result = customers.list_customers(
            uow,
            actor=actor,
            page=PageRequest(page, per_page),
            status=status,
            plan_code=plan,
            nap_id=nap_id,
            name=name,
        )
    return PageOut[CustomerOut](
        items=[_out(c) for c in result.items],
        total=result.total,
        page=result.page,
        per_page=result.per_page,
        pages=result.pages,
    )


@router.get("/{customer_id}", response_model=CustomerOut, summary="Get one customer")
def get_customer(customer_id: int, actor: ApiActor, uow: ReadUow) -> CustomerOut:
    with uow:
        return _out(customers.get_customer(uow, actor=actor, customer_id=customer_id))
