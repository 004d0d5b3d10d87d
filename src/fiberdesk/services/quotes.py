"""Quotes and port holds: price a plan at a premises, then hold its NAP port."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    ContractTermRow,
    Nap,
    NapPort,
    Plan,
    PonPort,
    Premises,
    PromotionRow,
    Quote,
    Splitter,
)
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import InvalidInput, NotFound, Refused
from fiberdesk.domain.network import NapPortStatus
from fiberdesk.domain.pricing import ContractTerm, Promotion, QuotePrice, price_quote
from fiberdesk.domain.qualification import (
    QUOTE_TRANSITIONS,
    Decision,
    QualificationRules,
    QuoteStatus,
)
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit, messages
from fiberdesk.services.contacts import normalise_email, normalise_phone
from fiberdesk.services.qualification import (
    Qualification,
    free_port_condition,
    pon_usage,
    qualify_premises,
)

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True, slots=True)
class QuoteSettings:
    rules: QualificationRules
    tax_rate: Decimal
    valid_days: int
    hold_minutes: int
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class QuoteView:
    id: int
    reference: str
    status: QuoteStatus
    premises_id: int
    address: str
    plan_code: str
    plan_name: str
    download_mbps: int
    upload_mbps: int
    term_code: str
    term_months: int
    promotion_code: str | None
    decision: Decision
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


def _reference() -> str:
    return "Q-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def _term(session: Session, code: str) -> ContractTerm:
    row = session.scalar(
        sa.select(ContractTermRow).where(
            ContractTermRow.code == code.upper(), ContractTermRow.active.is_(True)
        )
    )
    if row is None:
        codes = session.scalars(
            sa.select(ContractTermRow.code).where(ContractTermRow.active.is_(True))
        ).all()
        raise InvalidInput(f"no contract term {code!r} (terms: {', '.join(codes)})", field="term")
    return ContractTerm(
        row.code,
        row.name,
        row.months,
        row.monthly_discount,
        row.early_termination_fee,
        row.waive_install_fee,
    )


def _promotion(session: Session, code: str, plan_code: str, today: datetime) -> Promotion:
    row = session.scalar(
        sa.select(PromotionRow).where(
            PromotionRow.code == code.upper(), PromotionRow.active.is_(True)
        )
    )
    if row is None or (row.valid_until is not None and row.valid_until < today.date()):
        raise InvalidInput(f"no current promotion {code!r}", field="promotion")
    if row.plan_codes and plan_code not in row.plan_codes:
        raise InvalidInput(f"promotion {row.code} does not apply to {plan_code}", field="promotion")
    return Promotion(row.code, row.name, row.monthly_discount, row.months, row.waive_install_fee)


def _view(session: Session, quote: Quote) -> QuoteView:
    plan = session.get(Plan, quote.plan_id)
    premises = session.get(Premises, quote.premises_id)
    assert plan is not None and premises is not None
    term = session.scalar(sa.select(ContractTermRow).where(ContractTermRow.code == quote.term_code))
    nap_code = port = None
    if quote.nap_port_id is not None:
        row = session.execute(
            sa.select(Nap.code, NapPort.number)
            .join(Nap, NapPort.nap_id == Nap.id)
            .where(NapPort.id == quote.nap_port_id)
        ).one()
        nap_code, port = row[0], row[1]
    elif quote.nap_id is not None:
        nap_code = session.scalar(sa.select(Nap.code).where(Nap.id == quote.nap_id))
    d = quote.details
    return QuoteView(
        quote.id,
        quote.reference,
        quote.status,
        premises.id,
        premises.label,
        plan.code,
        plan.name,
        plan.download_mbps,
        plan.upload_mbps,
        quote.term_code,
        term.months if term else 0,
        quote.promotion_code,
        quote.decision,
        nap_code,
        port,
        quote.predicted_rx_dbm,
        quote.monthly_total,
        quote.monthly_total_after_promotion,
        quote.one_time_total,
        quote.currency,
        d.get("lines", []),
        d.get("taxes", {}),
        d.get("notes", []),
        quote.contact_name,
        quote.contact_email,
        quote.contact_phone,
        quote.created_at,
        quote.expires_at,
        quote.accepted_at,
        quote.hold_expires_at,
    )


def _price_details(price: QuotePrice, tax_rate: Decimal, q: Qualification) -> dict[str, Any]:
    return {
        "lines": [
            {
                "description": line.description,
                "amount": str(line.amount),
                "recurring": line.recurring,
            }
            for line in price.lines
        ],
        "taxes": {
            "rate": str(tax_rate),
            "monthly_subtotal": str(price.monthly_subtotal),
            "monthly_tax": str(price.monthly_tax),
            "one_time_subtotal": str(price.one_time_subtotal),
            "one_time_tax": str(price.one_time_tax),
        },
        "notes": list(q.survey_requirements),
        "reasons": [r.value for r in q.reasons],
    }


def create_quote(
    uow: UnitOfWork,
    *,
    actor: Actor,
    premises_id: int,
    plan_code: str,
    settings: QuoteSettings,
    term_code: str = "M2M",
    promotion_code: str | None = None,
    contact_name: str | None = None,
    contact_email: str | None = None,
    contact_phone: str | None = None,
    now: datetime | None = None,
) -> QuoteView:
    """Price a plan at a premises. Refused where the premises cannot be served or the plan
    is not on offer there; nothing is written then."""
    session = uow.session
    now = now or utcnow()
    q = qualify_premises(uow, actor=actor, premises_id=premises_id, rules=settings.rules, now=now)
    if not q.can_quote:
        raise Refused(
            "no quote: " + " ".join(q.messages),
            extra={
                "decision": q.decision.value if q.decision else None,
                "reasons": [r.value for r in q.reasons],
                "waitlist_offered": q.waitlist_offered,
            },
        )
    tier = next((t for t in q.tiers if t.code == plan_code.upper()), None)
    if tier is None:
        raise InvalidInput(f"no plan {plan_code!r}", field="plan")
    if not tier.offered:
        offered = ", ".join(t.code for t in q.tiers if t.offered)
        raise Refused(
            f"{tier.name} is not on offer at this address: {tier.reason}. On offer: {offered}.",
            field="plan",
        )
    term = _term(session, term_code)
    promotion = _promotion(session, promotion_code, tier.code, now) if promotion_code else None
    price = price_quote(
        plan_name=tier.name,
        monthly_price=tier.monthly_price,
        install_fee=tier.install_fee,
        tax_rate=settings.tax_rate,
        term=term,
        promotion=promotion,
    )
    plan_id = session.scalar(sa.select(Plan.id).where(Plan.code == tier.code))
    assert plan_id is not None
    quote = Quote(
        reference=_reference(),
        premises_id=premises_id,
        plan_id=plan_id,
        term_code=term.code,
        promotion_code=promotion.code if promotion else None,
        decision=q.decision,
        nap_id=q.nap_id,
        predicted_rx_dbm=q.predicted_rx_dbm,
        monthly_total=price.monthly_total,
        monthly_total_after_promotion=price.monthly_total_after_promotion,
        one_time_total=price.one_time_total,
        currency=settings.currency,
        details=_price_details(price, settings.tax_rate, q),
        contact_name=(contact_name or "").strip() or None,
        contact_email=normalise_email(contact_email) if contact_email else None,
        contact_phone=normalise_phone(contact_phone) if contact_phone else None,
        created_at=now,
        expires_at=now + timedelta(days=settings.valid_days),
    )
    session.add(quote)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="quote.create",
        entity_type="quote",
        entity_id=quote.reference,
        after=audit.snapshot(quote),
    )
    view = _view(session, quote)
    if view.contact_email:
        messages.queue(
            session,
            kind="quote",
            key=quote.reference,
            customer=None,
            recipient=view.contact_email,
            context={
                "customer_name": view.contact_name or "there",
                "quote_reference": view.reference,
                "service_address": view.address,
                "plan_name": view.plan_name,
                "download_mbps": view.download_mbps,
                "upload_mbps": view.upload_mbps,
                "term": view.term_code,
                "monthly_total": str(view.monthly_total),
                "monthly_total_after_promotion": str(view.monthly_total_after_promotion)
                if view.monthly_total_after_promotion
                else None,
                "one_time_total": str(view.one_time_total),
                "valid_until": view.expires_at.date().isoformat(),
                "notes": view.notes,
            },
        )
    uow.commit()
    return view


def get_quote(uow: UnitOfWork, *, actor: Actor, reference: str) -> QuoteView:
    quote = uow.session.scalar(sa.select(Quote).where(Quote.reference == reference.upper()))
    if quote is None:
        raise NotFound(f"no quote {reference}")
    return _view(uow.session, quote)


def _lock_pon(session: Session, nap_id: int) -> PonPort:
    """Serialise holds on one PON port: a row lock on PostgreSQL (SQLite's writing
    transactions already hold the database's single write lock)."""
    pon_id = session.scalar(
        sa.select(Splitter.pon_port_id)
        .join(Nap, Nap.splitter_id == Splitter.id)
        .where(Nap.id == nap_id)
    )
    pon = session.scalar(sa.select(PonPort).where(PonPort.id == pon_id).with_for_update())
    assert pon is not None
    return pon


def take_port(
    session: Session,
    *,
    nap_id: int,
    port_number: int | None,
    holder: str,
    hold_until: datetime | None,
    now: datetime,
) -> NapPort:
    """Reserve a port of a NAP with one conditional update (never read-then-write).

    With ``port_number`` that port is taken or refused (naming the next free port); without,
    the lowest free port is taken. The PON port's split limit is checked under its lock.
    """
    pon = _lock_pon(session, nap_id)
    if pon_usage(session, [pon.id], now)[pon.id] >= pon.max_split:
        raise Refused(
            f"the PON port serving this NAP is at its split limit ({pon.max_split})",
            extra={"reason": "PON_FULL"},
        )
    free_numbers = session.scalars(
        sa.select(NapPort.number)
        .where(NapPort.nap_id == nap_id, free_port_condition(now))
        .order_by(NapPort.number)
    ).all()
    wanted = [port_number] if port_number is not None else list(free_numbers)
    for number in wanted:
        result = session.execute(
            sa.update(NapPort)
            .where(NapPort.nap_id == nap_id, NapPort.number == number, free_port_condition(now))
            .values(
                status=NapPortStatus.RESERVED,
                held_by=holder,
                hold_expires_at=hold_until,
                customer_id=None,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            port = session.scalar(
                sa.select(NapPort).where(NapPort.nap_id == nap_id, NapPort.number == number)
            )
            assert port is not None
            session.refresh(port)
            return port
    nap_code = session.scalar(sa.select(Nap.code).where(Nap.id == nap_id))
    others = [n for n in free_numbers if n != port_number]
    if port_number is not None and others:
        raise Refused(
            f"port {port_number} of NAP {nap_code} is taken; port {others[0]} is free",
            field="port",
            extra={"next_free_port": others[0]},
        )
    raise Refused(
        f"NAP {nap_code} is full: every port is taken",
        extra={"reason": "NAP_FULL", "waitlist_offered": True},
    )


def accept_quote(
    uow: UnitOfWork,
    *,
    actor: Actor,
    reference: str,
    settings: QuoteSettings,
    port_number: int | None = None,
    now: datetime | None = None,
) -> QuoteView:
    """Accept a quote: its NAP port is held until the hold expires (or an order takes it)."""
    actor.require(Permission.ORDERS_WRITE)
    session = uow.session
    now = now or utcnow()
    quote = session.scalar(sa.select(Quote).where(Quote.reference == reference.upper()))
    if quote is None:
        raise NotFound(f"no quote {reference}")
    QUOTE_TRANSITIONS.check(quote.status, QuoteStatus.ACCEPTED)
    if quote.expires_at <= now:
        raise Refused(
            f"quote {quote.reference} expired on {quote.expires_at:%Y-%m-%d}; ask for a new one"
        )
    nap_id = quote.nap_id
    if nap_id is None:
        raise Refused(f"quote {quote.reference} names no NAP")
    before = audit.snapshot(quote)
    hold_until = now + timedelta(minutes=settings.hold_minutes)
    port = take_port(
        session,
        nap_id=nap_id,
        port_number=port_number,
        holder=quote.reference,
        hold_until=hold_until,
        now=now,
    )
    quote.status = QuoteStatus.ACCEPTED
    quote.nap_port_id = port.id
    quote.accepted_at = now
    quote.hold_expires_at = hold_until
    audit.record(
        session,
        actor=actor,
        action="quote.accept",
        entity_type="quote",
        entity_id=quote.reference,
        before=before,
        after=audit.snapshot(quote),
    )
    view = _view(session, quote)
    uow.commit()
    return view


@dataclass(frozen=True, slots=True)
class ExpiryResult:
    ports_released: int
    quotes_expired: int


def release_expired(uow: UnitOfWork, *, actor: Actor, now: datetime | None = None) -> ExpiryResult:
    """Free the ports of lapsed holds and mark lapsed quotes EXPIRED (safe to run any time;
    a lapsed hold is already treated as free by qualification and holds)."""
    session = uow.session
    now = now or utcnow()
    released = session.execute(
        sa.update(NapPort)
        .where(
            NapPort.status == NapPortStatus.RESERVED,
            NapPort.customer_id.is_(None),
            NapPort.hold_expires_at.is_not(None),
            NapPort.hold_expires_at <= now,
        )
        .values(status=NapPortStatus.FREE, held_by=None, hold_expires_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    expired = session.execute(
        sa.update(Quote)
        .where(
            sa.or_(
                sa.and_(Quote.status == QuoteStatus.OPEN, Quote.expires_at <= now),
                sa.and_(Quote.status == QuoteStatus.ACCEPTED, Quote.hold_expires_at <= now),
            )
        )
        .values(status=QuoteStatus.EXPIRED)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if released or expired:
        audit.record(
            session,
            actor=actor,
            action="holds.release_expired",
            entity_type="nap_port",
            entity_id=None,
            after={"ports_released": released, "quotes_expired": expired},
        )
    uow.commit()
    return ExpiryResult(released, expired)
