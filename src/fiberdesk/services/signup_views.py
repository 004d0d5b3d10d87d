"""What the sign-up pages (console wizard and public self-service) show between steps.

The steps themselves are the services of ``quotes``, ``orders``, ``signup`` and
``scheduling``; this module only reads: the contract terms and promotions on offer, and an
order's sign-up summary (its quote, the deposit, the booked visit). ``card_token`` turns a
test card into a token with the fake gateway, as a processor's own page would in a browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Protocol, runtime_checkable

import sqlalchemy as sa

from fiberdesk.adapters.payments.base import CardDetails, PaymentDeclined, PaymentGateway
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Appointment,
    ContractTermRow,
    PromotionRow,
    Quote,
    ServiceOrder,
    Technician,
)
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.orders import AppointmentStatus, OrderStatus, OrderType
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services.orders import OrderView, get_customer, get_order, order_view
from fiberdesk.services.quotes import QuoteView, get_quote


@dataclass(frozen=True, slots=True)
class TermOption:
    code: str
    name: str
    months: int
    monthly_discount: Decimal
    early_termination_fee: Decimal
    waive_install_fee: bool
    terms_version: str


@dataclass(frozen=True, slots=True)
class PromotionOption:
    code: str
    name: str
    monthly_discount: Decimal
    months: int
    waive_install_fee: bool
    #: plan codes it applies to; empty means every plan
    plan_codes: list[str]
    valid_until: date | None


def contract_terms(uow: UnitOfWork) -> list[TermOption]:
    """The contract terms a customer can sign, shortest first."""
    rows = uow.session.scalars(
        sa.select(ContractTermRow)
        .where(ContractTermRow.active.is_(True))
        .order_by(ContractTermRow.months, ContractTermRow.code)
    )
    return [
        TermOption(
            r.code,
            r.name,
            r.months,
            r.monthly_discount,
            r.early_termination_fee,
            r.waive_install_fee,
            r.terms_version,
        )
        for r in rows
    ]


def promotions(uow: UnitOfWork, *, now: datetime | None = None) -> list[PromotionOption]:
    """Promotions that can be quoted today."""
    today = (now or utcnow()).date()
    rows = uow.session.scalars(
        sa.select(PromotionRow)
        .where(
            PromotionRow.active.is_(True),
            sa.or_(PromotionRow.valid_until.is_(None), PromotionRow.valid_until >= today),
        )
        .order_by(PromotionRow.code)
    )
    return [
        PromotionOption(
            r.code,
            r.name,
            r.monthly_discount,
            r.months,
            r.waive_install_fee,
            list(r.plan_codes or []),
            r.valid_until,
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class Visit:
    appointment_id: int
    day: date
    window: str
    start: time
    end: time
    technician: str

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class SurveyView:
    """The site survey an installation waits for (qualification said SITE_SURVEY)."""

    order_id: int
    status: OrderStatus
    #: True or False once the surveyor closed it, None before
    passed: bool | None
    visit: Visit | None
    requirements: list[str]

    @property
    def pending(self) -> bool:
        """The installation cannot be booked yet: the survey has not passed."""
        return self.passed is not True


@dataclass(frozen=True, slots=True)
class SignupSummary:
    order: OrderView
    quote: QuoteView | None
    term: TermOption | None
    email: str | None
    phone: str | None
    service_address: str
    deposit: Decimal
    visit: Visit | None
    #: the last refusal recorded on the order, if it is the latest step
    last_refusal: str | None
    #: the site survey, when the address needs one before the installation
    survey: SurveyView | None = None

    @property
    def survey_pending(self) -> bool:
        return self.survey is not None and self.survey.pending

    @property
    def visit_order_id(self) -> int:
        """The order whose visit sign-up books next: the site survey while one is pending,
        else the installation."""
        return (
            self.survey.order_id
            if self.survey is not None and self.survey_pending
            else (self.order.id)
        )

    @property
    def done(self) -> dict[str, bool]:
        """The sign-up items done so far, by checklist key; ``visit_booked``: the next
        visit is booked (the installation, or the site survey that comes first)."""
        checklist = self.order.details.get("checklist", {})
        done = {
            key: bool(checklist.get(key))
            for key in ("identity", "credit", "payment", "contract", "scheduled")
        }
        survey_booked = self.survey_pending and self.survey is not None and bool(self.survey.visit)
        done["visit_booked"] = done["scheduled"] or survey_booked
        return done


def signup_summary(uow: UnitOfWork, *, actor: Actor, order_id: int) -> SignupSummary:
    """An order as the sign-up pages show it: the quote it came from, the contract term,
    any deposit the credit check asked for, and the booked installation visit."""
    actor.require(Permission.ORDERS_WRITE)
    session = uow.session
    order = get_order(session, order_id)
    customer = get_customer(session, order.customer_id)
    view = order_view(session, order)
    reference = order.details.get("quote")
    quote = None
    if reference and session.scalar(sa.select(Quote.id).where(Quote.reference == reference)):
        quote = get_quote(uow, actor=actor, reference=reference)
    term_code = order.details.get("term")
    term = next((t for t in contract_terms(uow) if t.code == term_code), None)
    visit = _visit(session, order.id)
    last = order.steps[-1] if order.steps else None
    refusal = last["detail"] if last and last.get("outcome") == "refused" else None
    return SignupSummary(
        view,
        quote,
        term,
        customer.email,
        customer.phone,
        customer.service_address,
        Decimal(order.details.get("deposit", "0")),
        visit,
        refusal,
        _survey(session, order) if order.details.get("survey_required") else None,
    )


def _visit(session: sa.orm.Session, order_id: int) -> Visit | None:
    """An order's booked visit (its latest appointment not cancelled), if any."""
    row = session.execute(
        sa.select(Appointment, Technician.name)
        .join(Technician, Technician.id == Appointment.technician_id)
        .where(
            Appointment.order_id == order_id,
            Appointment.status != AppointmentStatus.CANCELLED,
        )
        .order_by(Appointment.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    a, tech_name = row
    return Visit(a.id, a.day, a.window_code, a.window_start, a.window_end, tech_name)


def _survey(session: sa.orm.Session, order: ServiceOrder) -> SurveyView | None:
    """The site survey made for an installation order (the latest, if several)."""
    surveys = session.scalars(
        sa.select(ServiceOrder)
        .where(
            ServiceOrder.customer_id == order.customer_id,
            ServiceOrder.type == OrderType.SITE_SURVEY,
        )
        .order_by(ServiceOrder.id.desc())
    ).all()
    survey = next((o for o in surveys if o.details.get("install_order") == order.id), None)
    if survey is None:
        return None
    return SurveyView(
        survey.id,
        survey.status,
        survey.details.get("passed"),
        _visit(session, survey.id),
        list(survey.details.get("requirements", [])),
    )


def mask(contact: str | None) -> str:
    """A phone number or email shown without giving it away: +1•••••0123, ro•••@example.com."""
    if not contact:
        return ""
    if "@" in contact:
        name, _, host = contact.partition("@")
        return name[:2] + "•••@" + host
    return contact[:2] + "•" * max(0, len(contact) - 6) + contact[-4:]


#: which card field a gateway's refusal belongs to
_DECLINE_FIELDS = {
    "invalid_number": "card_number",
    "invalid_expiry": "card_expiry",
    "expired_card": "card_expiry",
    "invalid_cvc": "card_cvc",
}


@runtime_checkable
class CardTokenizer(Protocol):
    """A gateway that can turn a card into a token itself (the fake one does)."""

    def tokenize(
        self, card_number: str, exp_month: int, exp_year: int, cvc: str
    ) -> CardDetails: ...


def card_token(gateway: PaymentGateway, *, number: str, expiry: str, cvc: str) -> str:
    """The gateway's token for a card typed into a page (fake gateway only: a real
    processor tokenises in the customer's browser and fiberdesk never sees the number).
    ``expiry`` is MM/YY or MM/YYYY. Bad input is refused on the field it concerns."""
    if not isinstance(gateway, CardTokenizer):
        raise InvalidInput("cards are taken by the payment processor's own form", field="token")
    digits = "".join(ch for ch in number if ch not in " -")
    if not digits:
        raise InvalidInput("the card number is required", field="card_number")
    month, _, year = expiry.replace(" ", "").partition("/")
    if not (month.isdigit() and year.isdigit() and len(year) in (2, 4)):
        raise InvalidInput("give the expiry as MM/YY", field="card_expiry")
    try:
        card = gateway.tokenize(digits, int(month), int(year), cvc.strip())
    except PaymentDeclined as exc:
        raise InvalidInput(
            exc.message, field=_DECLINE_FIELDS.get(exc.code, "card_number")
        ) from None
    return card.token
