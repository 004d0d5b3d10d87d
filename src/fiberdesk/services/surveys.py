"""Satisfaction surveys: sent after an installation and after a resolved ticket, answered
through a signed link without a login, and summed up per agent, team, area or month.

A link is ``{base_url}/survey/{id}?t={expiry}.{mac}``: ``mac`` is an HMAC-SHA256, keyed with
the secret key, of the survey id and the expiry (Unix seconds), so a link cannot be made for
another survey or kept alive longer. A forged link, an expired one and a second answer are
each refused with their own error; a score outside 1 to 5 is refused.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Appointment,
    Customer,
    Premises,
    ServiceOrder,
    Survey,
    Technician,
    Ticket,
    User,
)
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import Conflict, InvalidInput, NotFound, Refused
from fiberdesk.domain.kpis import FIELD_TEAM, rounded
from fiberdesk.domain.orders import OrderStatus, OrderType
from fiberdesk.domain.users import PUBLIC_ACTOR, SYSTEM_ACTOR, Actor, Permission
from fiberdesk.services import audit, messages
from fiberdesk.services.kpis import KpiSettings

INSTALLATION, TICKET = "INSTALLATION", "TICKET"
MAX_COMMENT = 2000
SCORES = range(1, 6)
GROUPS = ("agent", "team", "area", "month")


class LinkInvalid(InvalidInput):
    """The link was not made by us (or was altered)."""

    code = "survey-link-invalid"


class LinkExpired(Refused):
    code = "survey-link-expired"


class AlreadyAnswered(Conflict):
    code = "survey-answered"


@dataclass(frozen=True, slots=True)
class SurveyView:
    id: int
    kind: str
    #: what the survey asks about, e.g. "your support request TKT-000042 (No internet)"
    about: str
    customer_first_name: str
    sent_at: datetime
    expires_at: datetime
    answered_at: datetime | None
    score: int | None
    comment: str | None


@dataclass(frozen=True, slots=True)
class SurveyResult:
    #: the agent's name, the team, the ZIP code or the month (YYYY-MM); "" when unknown
    group: str
    #: surveys sent in the period
    sent: int
    #: surveys answered in the period, and their mean score and count per score 1..5
    answered: int
    average: float | None
    scores: tuple[int, int, int, int, int]


def _mac(secret: str, survey_id: int, expires: int) -> str:
    message = f"survey:{survey_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def sign_token(secret: str, survey_id: int, expires_at: datetime) -> str:
    expires = int(expires_at.timestamp())
    return f"{expires}.{_mac(secret, survey_id, expires)}"


def _genuine(secret: str, survey_id: int, token: str) -> int:
    """The expiry (Unix seconds) a genuine token carries; ``LinkInvalid`` otherwise."""
    expires, _, mac = token.strip().partition(".")
    if not expires.isdigit() or len(expires) > 12 or len(mac) != 32:
        raise LinkInvalid("this survey link is not valid", field="t")
    if not hmac.compare_digest(mac, _mac(secret, survey_id, int(expires))):
        raise LinkInvalid("this survey link is not valid", field="t")
    return int(expires)


def check_token(secret: str, survey_id: int, token: str, *, now: datetime) -> None:
    """Refuse a forged token (``LinkInvalid``) and an expired one (``LinkExpired``)."""
    if now.timestamp() > _genuine(secret, survey_id, token):
        raise LinkExpired("this survey link has expired", field="t")


def survey_link(settings: KpiSettings, survey: Survey) -> str:
    token = sign_token(settings.secret_key, survey.id, survey.expires_at)
    return f"{settings.base_url}/survey/{survey.id}?t={token}"


def _area(session: Session, customer: Customer) -> str | None:
    if customer.premises_id is None:
        return None
    return session.scalar(sa.select(Premises.zip).where(Premises.id == customer.premises_id))


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer


def _send(
    session: Session,
    settings: KpiSettings,
    *,
    customer: Customer,
    kind: str,
    about: str,
    agent: str | None,
    team: str | None,
    now: datetime,
    order_id: int | None = None,
    ticket_id: int | None = None,
) -> Survey:
    if not settings.secret_key:
        raise InvalidInput("survey links need a secret key", field="secret_key")
    expires_at = (now + timedelta(days=settings.survey_link_days)).replace(microsecond=0)
    survey = Survey(
        customer_id=customer.id,
        kind=kind,
        order_id=order_id,
        ticket_id=ticket_id,
        agent=agent[:80] if agent else None,
        team=team,
        area=_area(session, customer),
        sent_at=now,
        expires_at=expires_at,
    )
    session.add(survey)
    session.flush()
    messages.queue(
        session,
        kind="satisfaction_survey",
        key=f"survey{survey.id}",
        customer=customer,
        channel="email" if customer.email or not customer.phone else "sms",
        context={
            "customer_name": customer.name,
            "survey_link": survey_link(settings, survey),
            "topic": about,
            "expires_on": expires_at.date().isoformat(),
            "company_name": settings.company_name,
            "support_number": settings.support_phone,
        },
    )
    audit.record(
        session,
        actor=SYSTEM_ACTOR,
        action="survey.send",
        entity_type="survey",
        entity_id=survey.id,
        after=audit.snapshot(survey),
    )
    return survey


def _installer(session: Session, order: ServiceOrder) -> str | None:
    technician_id = order.technician_id or session.scalar(
        sa.select(Appointment.technician_id)
        .where(Appointment.order_id == order.id)
        .order_by(Appointment.id.desc())
        .limit(1)
    )
    if technician_id is None:
        return None
    row = session.execute(
        sa.select(Technician.name, User.username)
        .outerjoin(User, User.id == Technician.user_id)
        .where(Technician.id == technician_id)
    ).one_or_none()
    return None if row is None else (row.username or row.name)


def send_installation_survey(
    session: Session, order: ServiceOrder, settings: KpiSettings, *, now: datetime | None = None
) -> Survey:
    """After an activation: a survey about the installation, credited to the technician
    (team FIELD) and the premises' ZIP; sent once per order (a repeat returns the first)."""
    existing = session.scalar(sa.select(Survey).where(Survey.order_id == order.id))
    if existing is not None:
        return existing
    if order.type is not OrderType.NEW_INSTALL or order.status is not OrderStatus.COMPLETED:
        raise Refused(f"order {order.id} is not a completed installation")
    customer = _customer(session, order.customer_id)
    done = order.completed_date or utcnow()
    return _send(
        session,
        settings,
        customer=customer,
        kind=INSTALLATION,
        about=f"the installation of your fiber service on {done:%B} {done.day}, {done.year}",
        agent=_installer(session, order),
        team=FIELD_TEAM,
        now=now or utcnow(),
        order_id=order.id,
    )


def _resolver(session: Session, ticket: Ticket) -> str | None:
    if ticket.assignee_id is not None:
        name = session.scalar(sa.select(User.username).where(User.id == ticket.assignee_id))
        if name:
            return name
    for entry in reversed(ticket.transcript):
        if isinstance(entry, dict) and entry.get("kind") == "resolved" and entry.get("by"):
            return str(entry["by"])
    return ticket.created_by


def send_ticket_survey(
    session: Session, ticket: Ticket, settings: KpiSettings, *, now: datetime | None = None
) -> Survey:
    """After a ticket is resolved: a survey credited to its assignee (or whoever resolved
    it), its team and the premises' ZIP; sent once per ticket, even if it is reopened."""
    existing = session.scalar(sa.select(Survey).where(Survey.ticket_id == ticket.id))
    if existing is not None:
        return existing
    if ticket.resolved_at is None:
        raise Refused(f"ticket {ticket.id} is not resolved")
    return _send(
        session,
        settings,
        customer=_customer(session, ticket.customer_id),
        kind=TICKET,
        about=f"your support request TKT-{ticket.id:06d} ({ticket.category.label.lower()})",
        agent=_resolver(session, ticket),
        team=ticket.team.value,
        now=now or utcnow(),
        ticket_id=ticket.id,
    )


def _about(session: Session, survey: Survey) -> str:
    if survey.kind == TICKET and survey.ticket_id is not None:
        ticket = session.get(Ticket, survey.ticket_id)
        if ticket is not None:
            return f"your support request TKT-{ticket.id:06d} ({ticket.category.label.lower()})"
    if survey.kind == INSTALLATION:
        return "the installation of your fiber service"
    return "our service"


def _view(session: Session, survey: Survey) -> SurveyView:
    customer = _customer(session, survey.customer_id)
    first = customer.name.split()[0] if customer.name.split() else customer.name
    return SurveyView(
        survey.id,
        survey.kind,
        _about(session, survey),
        first,
        survey.sent_at,
        survey.expires_at,
        survey.answered_at,
        survey.score,
        survey.comment,
    )


def _checked(
    session: Session, survey_id: int, token: str, settings: KpiSettings, now: datetime
) -> Survey:
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise LinkInvalid("this survey link is not valid", field="t")
    expires = _genuine(settings.secret_key, survey.id, token)
    if survey.answered_at is not None:
        raise AlreadyAnswered("this survey has already been answered: thank you")
    if now.timestamp() > expires or now > survey.expires_at:
        raise LinkExpired("this survey link has expired", field="t")
    return survey


def open_survey(
    uow: UnitOfWork,
    *,
    survey_id: int,
    token: str,
    settings: KpiSettings,
    now: datetime | None = None,
) -> SurveyView:
    """What the public page shows, once the link is checked (same refusals as ``answer``)."""
    survey = _checked(uow.session, survey_id, token, settings, now or utcnow())
    return _view(uow.session, survey)


def answer(
    uow: UnitOfWork,
    *,
    survey_id: int,
    token: str,
    score: int,
    comment: str | None,
    settings: KpiSettings,
    now: datetime | None = None,
) -> SurveyView:
    """Record the customer's score (1 to 5) and comment; a survey is answered once."""
    now = now or utcnow()
    session = uow.session
    survey = _checked(session, survey_id, token, settings, now)
    if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
        raise InvalidInput("choose a score from 1 to 5", field="score")
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"the comment is over {MAX_COMMENT} characters", field="comment")
    answered = session.execute(
        sa.update(Survey)
        .where(Survey.id == survey.id, Survey.answered_at.is_(None))
        .values(answered_at=now, score=score, comment=text or None)
        .execution_options(synchronize_session=False)
    )
    if getattr(answered, "rowcount", 0) != 1:  # answered at the same moment elsewhere
        raise AlreadyAnswered("this survey has already been answered: thank you")
    session.refresh(survey)
    audit.record(
        session,
        actor=PUBLIC_ACTOR,
        action="survey.answer",
        entity_type="survey",
        entity_id=survey.id,
        after={"score": score, "comment": text or None},
    )
    view = _view(session, survey)
    uow.commit()
    return view


def _month(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.to_char(column, "YYYY-MM")
    return sa.func.strftime("%Y-%m", column)


def results(
    uow: UnitOfWork,
    *,
    actor: Actor,
    start: datetime,
    end: datetime,
    group_by: str = "agent",
    kind: str | None = None,
) -> list[SurveyResult]:
    """Surveys sent and answered in [start, end), grouped by agent, team, area or month
    (sent counted by when they were sent, answers by when they were answered); the mean
    of each group's answers is the group's CSAT for the period."""
    actor.require(Permission.REPORTS_READ)
    if group_by not in GROUPS:
        raise InvalidInput(f"group by one of {', '.join(GROUPS)}", field="group_by")
    if kind is not None and kind not in (INSTALLATION, TICKET):
        raise InvalidInput("kind is INSTALLATION or TICKET", field="kind")
    if end <= start:
        raise InvalidInput("the period must end after it starts", field="end")
    session = uow.session

    def key(column: Any) -> Any:
        return _month(session, column) if group_by == "month" else getattr(Survey, group_by)

    def filtered(query: Any, column: Any) -> Any:
        query = query.where(column >= start, column < end)
        return query if kind is None else query.where(Survey.kind == kind)

    sent_key = key(Survey.sent_at).label("g")
    sent_query = filtered(sa.select(sent_key, sa.func.count()), Survey.sent_at)
    sent = {row[0]: row[1] for row in session.execute(sent_query.group_by(sent_key))}
    answer_key = key(Survey.answered_at).label("g")
    per_score = [sa.func.sum(sa.case((Survey.score == n, 1), else_=0)) for n in SCORES]
    answered = {
        row[0]: row[1:]
        for row in session.execute(
            filtered(
                sa.select(answer_key, sa.func.count(), sa.func.avg(Survey.score), *per_score),
                Survey.answered_at,
            ).group_by(answer_key)
        )
    }
    out = []
    for group in sorted(set(sent) | set(answered), key=lambda g: (g is None, str(g or ""))):
        count, average, *scores = answered.get(group, (0, None, 0, 0, 0, 0, 0))
        out.append(
            SurveyResult(
                str(group or ""),
                int(sent.get(group, 0)),
                int(count),
                None if average is None else rounded(float(average)),
                (int(scores[0]), int(scores[1]), int(scores[2]), int(scores[3]), int(scores[4])),
            )
        )
    return out
