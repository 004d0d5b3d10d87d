"""Reading customers: lists with filters and one customer's record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from fiberdesk.db.models import Customer, Nap, Plan
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.errors import NotFound
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services.pagination import Page, PageRequest


@dataclass(frozen=True, slots=True)
class CustomerView:
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
    created_at: datetime
    activated_at: datetime | None
    disconnected_at: datetime | None


_COLUMNS = (Customer, Nap.code, Plan.code)


def _select() -> sa.Select[Customer, str, str]:
    return (
        sa.select(*_COLUMNS)
        .outerjoin(Nap, Customer.nap_id == Nap.id)
        .outerjoin(Plan, Customer.plan_id == Plan.id)
    )


def _view(customer: Customer, nap_code: str | None, plan_code: str | None) -> CustomerView:
    return CustomerView(
        id=customer.id,
        account_number=customer.account_number,
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        service_address=customer.service_address,
        premises_id=customer.premises_id,
        nap_id=customer.nap_id,
        nap_code=nap_code,
        port_number=customer.port_number,
        plan_code=plan_code,
        status=customer.status,
        created_at=customer.created_at,
        activated_at=customer.activated_at,
        disconnected_at=customer.disconnected_at,
    )


def list_customers(
    uow: UnitOfWork,
    *,
    actor: Actor,
    page: PageRequest,
    status: ServiceStatus | None = None,
    plan_code: str | None = None,
    nap_id: int | None = None,
    name: str | None = None,
) -> Page[CustomerView]:
    """Customers, newest first, filtered by status, plan, NAP or part of the name."""
    actor.require(Permission.CUSTOMERS_READ)
    conditions: list[sa.ColumnElement[bool]] = []
    if status is not None:
        conditions.append(Customer.status == status)
    if plan_code is not None:
        conditions.append(Plan.code == plan_code.upper())
    if nap_id is not None:
        conditions.append(Customer.nap_id == nap_id)
    if name:
        conditions.append(sa.func.lower(Customer.name).contains(name.strip().lower()))
    query = _select().where(*conditions)
    total = uow.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = uow.session.execute(
        query.order_by(Customer.id.desc()).offset(page.offset).limit(page.per_page)
    ).all()
    return Page([_view(*row) for row in rows], total, page.page, page.per_page)


def get_customer(uow: UnitOfWork, *, actor: Actor, customer_id: int) -> CustomerView:
    actor.require(Permission.CUSTOMERS_READ)
    row = uow.session.execute(_select().where(Customer.id == customer_id)).first()
    if row is None:
        raise NotFound(f"no customer {customer_id}")
    return _view(*row)
