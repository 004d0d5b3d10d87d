"""Order entry (the spec's STEP 2): the order, the customer, and the sign-up checklist.

An accepted quote becomes a NEW_INSTALL order and a PENDING customer with an account
number; the quote's port hold becomes the order's reservation. Identity, credit, payment
and contract are then recorded on the order one by one (see ``signup.py``); every step
and every refusal goes into the order's ``steps``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Customer,
    CustomerNote,
    Nap,
    NapPort,
    Plan,
    Premises,
    Quote,
    ServiceOrder,
)
from fiberdesk.db.unit_of_work import UnitOfWork, UowFactory
from fiberdesk.domain.customers import NoteType, ServiceStatus, account_number
from fiberdesk.domain.errors import InvalidInput, NotFound, Refused
from fiberdesk.domain.network import NapPortStatus
from fiberdesk.domain.orders import OrderStatus, OrderType
from fiberdesk.domain.qualification import QUOTE_TRANSITIONS, Decision, QuoteStatus
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit, messages
from fiberdesk.services.contacts import normalise_email, normalise_phone

#: the spec's Service Checklist, in order, as recorded on a NEW_INSTALL order
CHECKLIST = (
    ("identity", "Customer identity verified"),
    ("address", "Service address confirmed"),
    ("network", "Network availability checked"),
    ("tier", "Service tier validated"),
    ("scheduled", "Installation scheduled"),
    ("equipment", "Equipment assigned"),
    ("activated", "Activation completed"),
    ("satisfaction", "Customer satisfaction confirmed"),
)
#: what must be done before an installation can be booked
BEFORE_SCHEDULING = ("identity", "credit", "payment", "contract")


def record_step(
    order: ServiceOrder,
    *,
    step: str,
    outcome: str,
    actor: Actor,
    detail: str = "",
    at: datetime | None = None,
) -> None:
    """Append a step (or a refusal) to an order's history."""
    order.steps = [
        *order.steps,
        {
            "at": (at or utcnow()).isoformat(),
            "step": step,
            "outcome": outcome,
            "by": actor.name,
            "via": actor.channel.value,
            "detail": detail,
        },
    ]


def refuse(
    uows: UowFactory, *, order_id: int, step: str, actor: Actor, reason: str, **extra: object
) -> Refused:
    """Record a refused step on the order in a transaction of its own, and return the
    error for the caller to raise: the order stays where it was and says why."""
    with uows() as uow:
        order = get_order(uow.session, order_id, for_update=True)
        record_step(order, step=step, outcome="refused", actor=actor, detail=reason)
        audit.record(
            uow.session,
            actor=actor,
            action=f"order.{step}.refused",
            entity_type="service_order",
            entity_id=order_id,
            after={"reason": reason},
        )
        uow.commit()
    return Refused(reason, extra=dict(extra))


def check_off(order: ServiceOrder, item: str, value: Any) -> None:
    checklist = dict(order.details.get("checklist", {}))
    checklist[item] = value
    order.details = {**order.details, "checklist": checklist}


def get_order(session: Session, order_id: int, *, for_update: bool = False) -> ServiceOrder:
    query = sa.select(ServiceOrder).where(ServiceOrder.id == order_id)
    if for_update:
        query = query.with_for_update()
    order = session.scalar(query)
    if order is None:
        raise NotFound(f"no order {order_id}")
    return order


def get_customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer


@dataclass(frozen=True, slots=True)
class OrderView:
    id: int
    type: OrderType
    status: OrderStatus
    customer_id: int
    account_number: str
    customer_name: str
    customer_status: ServiceStatus
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


def missing_before_scheduling(order: ServiceOrder) -> list[str]:
    checklist = order.details.get("checklist", {})
    return [item for item in BEFORE_SCHEDULING if not checklist.get(item)]


def order_view(session: Session, order: ServiceOrder) -> OrderView:
    customer = get_customer(session, order.customer_id)
    plan = session.get(Plan, order.plan_id) if order.plan_id else None
    done = order.details.get("checklist", {})
    checklist = [
        {"item": key, "label": label, "done": bool(done.get(key)), "detail": done.get(key)}
        for key, label in CHECKLIST
    ]
    missing = missing_before_scheduling(order) if order.type is OrderType.NEW_INSTALL else []
    return OrderView(
        order.id,
        order.type,
        order.status,
        customer.id,
        customer.account_number,
        customer.name,
        customer.status,
        plan.code if plan else None,
        order.scheduled_date.isoformat() if order.scheduled_date else None,
        order.completed_date,
        order.technician_id,
        order.created_at,
        order.details,
        order.steps,
        checklist,
        not missing,
        missing,
    )


def create_order(
    uow: UnitOfWork,
    *,
    actor: Actor,
    quote_reference: str,
    name: str,
    email: str,
    phone: str,
    unit: str | None = None,
    access_notes: str | None = None,
    now: datetime | None = None,
) -> OrderView:
    """Turn an accepted quote into a NEW_INSTALL order and a PENDING customer."""
    actor.require(Permission.ORDERS_WRITE)
    session = uow.session
    now = now or utcnow()
    if not name.strip() or len(name.strip()) < 2:
        raise InvalidInput("the customer's full name is required", field="name")
    email_n = normalise_email(email)
    phone_n = normalise_phone(phone)
    quote = session.scalar(sa.select(Quote).where(Quote.reference == quote_reference.upper()))
    if quote is None:
        raise NotFound(f"no quote {quote_reference}")
    if quote.status is not QuoteStatus.ACCEPTED:
        raise Refused(
            f"quote {quote.reference} is {quote.status.label.lower()}: only an "
            "accepted quote (with its port held) can be ordered"
        )
    port = session.get(NapPort, quote.nap_port_id) if quote.nap_port_id else None
    if (
        port is None
        or port.status is not NapPortStatus.RESERVED
        or port.held_by != quote.reference
        or (quote.hold_expires_at is not None and quote.hold_expires_at <= now)
    ):
        raise Refused(
            f"the port hold of quote {quote.reference} has lapsed; accept the quote "
            "again to hold a port"
        )
    premises = session.get(Premises, quote.premises_id)
    assert premises is not None
    nap_code = session.scalar(sa.select(Nap.code).where(Nap.id == port.nap_id))
    customer = Customer(
        # a unique placeholder until the id (and so the account number) is known
        account_number="T" + secrets.token_hex(4),
        name=" ".join(name.split()),
        email=email_n,
        phone=phone_n,
        service_address=premises.label + (f" UNIT {unit.strip().upper()}" if unit else ""),
        premises_id=premises.id,
        nap_id=port.nap_id,
        port_number=port.number,
        plan_id=quote.plan_id,
        status=ServiceStatus.PENDING,
        created_at=now,
        unit=unit.strip().upper() if unit else None,
        access_notes=(access_notes or "").strip() or None,
    )
    session.add(customer)
    session.flush()
    customer.account_number = account_number(customer.id + 100_000)
    # the hold becomes the order's reservation: no expiry, the customer named
    port.held_by = customer.account_number
    port.hold_expires_at = None
    port.customer_id = customer.id
    QUOTE_TRANSITIONS.check(quote.status, QuoteStatus.ORDERED)
    quote.status = QuoteStatus.ORDERED
    survey = quote.decision is Decision.SITE_SURVEY
    order = ServiceOrder(
        customer_id=customer.id,
        type=OrderType.NEW_INSTALL,
        status=OrderStatus.OPEN,
        plan_id=quote.plan_id,
        created_at=now,
        details={
            "quote": quote.reference,
            "premises_id": premises.id,
            "nap": nap_code,
            "port": port.number,
            "term": quote.term_code,
            "promotion": quote.promotion_code,
            "decision": quote.decision.value,
            "survey_required": survey,
            "survey_requirements": quote.details.get("notes", []),
            "checklist": {
                "address": premises.label,
                "network": quote.decision.value,
                "tier": session.scalar(sa.select(Plan.code).where(Plan.id == quote.plan_id)),
            },
        },
    )
    session.add(order)
    session.flush()
    record_step(
        order,
        step="order_entry",
        outcome="done",
        actor=actor,
        at=now,
        detail=f"from quote {quote.reference}; NAP {nap_code} port {port.number}",
    )
    if survey:
        session.add(
            ServiceOrder(
                customer_id=customer.id,
                type=OrderType.SITE_SURVEY,
                status=OrderStatus.OPEN,
                plan_id=quote.plan_id,
                created_at=now,
                details={"install_order": order.id, "requirements": quote.details.get("notes", [])},
                steps=[
                    {
                        "at": now.isoformat(),
                        "step": "created",
                        "outcome": "done",
                        "by": actor.name,
                        "via": actor.channel.value,
                        "detail": "qualification asked for a site survey",
                    }
                ],
            )
        )
    if customer.access_notes:
        session.add(
            CustomerNote(
                customer_id=customer.id,
                type=NoteType.ACCESS,
                content=customer.access_notes,
                created_by=actor.name,
            )
        )
    audit.record(
        session,
        actor=actor,
        action="customer.create",
        entity_type="customer",
        entity_id=customer.id,
        after=audit.snapshot(customer),
    )
    audit.record(
        session,
        actor=actor,
        action="order.create",
        entity_type="service_order",
        entity_id=order.id,
        after=audit.snapshot(order),
    )
    plan_row = session.get(Plan, quote.plan_id)
    messages.queue(
        session,
        kind="order_confirmation",
        key=f"order{order.id}",
        customer=customer,
        context={
            "customer_name": customer.name,
            "account_number": customer.account_number,
            "order_number": order.id,
            "service_address": customer.service_address,
            "plan_name": plan_row.name if plan_row else "",
            "monthly_total": str(quote.monthly_total),
            "one_time_total": str(quote.one_time_total),
            "next_steps": [
                "identity",
                "credit check",
                "payment",
                "contract",
                "installation window",
            ],
            "survey_required": survey,
        },
    )
    view = order_view(session, order)
    uow.commit()
    return view


def show_order(uow: UnitOfWork, *, actor: Actor, order_id: int) -> OrderView:
    actor.require(Permission.CUSTOMERS_READ)
    return order_view(uow.session, get_order(uow.session, order_id))
