"""Service tickets and customer notes: SLAs, assignment, transcript, resolution, FCR.

First-contact resolution is set by rule when a ticket is resolved: it was resolved in
the first contact with the customer, was never escalated, and no visit was booked.
A ticket opened by a customer inside an active outage is linked to the outage instead
of starting a new investigation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import Customer, CustomerNote, Ticket, User
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.customers import NoteType
from fiberdesk.domain.errors import InvalidInput, NotFound
from fiberdesk.domain.tickets import (
    DEFAULT_SLA_HOURS,
    TICKET_TRANSITIONS,
    Team,
    TicketCategory,
    TicketPriority,
    TicketStatus,
)
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit, messages
from fiberdesk.services.diagnostics import outages_on_path, path_of
from fiberdesk.services.orders import get_customer
from fiberdesk.services.pagination import Page, PageRequest

if TYPE_CHECKING:
    from fiberdesk.services.kpis import KpiSettings

MAX_TEXT = 10_000
OPEN_STATUSES = (
    TicketStatus.OPEN,
    TicketStatus.IN_PROGRESS,
    TicketStatus.WAITING_ON_CUSTOMER,
    TicketStatus.ESCALATED,
    TicketStatus.REOPENED,
)


def ticket_number(ticket_id: int) -> str:
    return f"TKT-{ticket_id:06d}"


def parse_ticket_number(text: str) -> int | None:
    digits = text.strip().upper().removeprefix("TKT-").removeprefix("TKT")
    return int(digits) if digits.isdigit() else None


@dataclass(frozen=True, slots=True)
class TicketView:
    id: int
    number: str
    customer_id: int
    account_number: str
    customer_name: str
    category: TicketCategory
    priority: TicketPriority
    status: TicketStatus
    team: Team
    assignee: str | None
    description: str
    resolution: str | None
    resolution_code: str | None
    first_contact_resolution: bool | None
    escalated: bool
    visit_booked: bool
    contacts: int
    outage_id: int | None
    created_at: datetime
    resolved_at: datetime | None
    sla_due_at: datetime | None
    sla_alert_at: datetime | None
    sla_state: str
    transcript: list[dict[str, Any]]


def sla_state(ticket: Ticket, now: datetime) -> str:
    """on_track, due_soon (within 2 h), breached (past target), alert (past alert)."""
    end = ticket.resolved_at or now
    if ticket.sla_alert_at and end > ticket.sla_alert_at:
        return "alert"
    if ticket.sla_due_at and end > ticket.sla_due_at:
        return "breached"
    if (
        ticket.resolved_at is None
        and ticket.sla_due_at
        and (ticket.sla_due_at - now) < timedelta(hours=2)
    ):
        return "due_soon"
    return "on_track"


def view(session: Session, ticket: Ticket, now: datetime | None = None) -> TicketView:
    customer = get_customer(session, ticket.customer_id)
    assignee = (
        session.scalar(sa.select(User.username).where(User.id == ticket.assignee_id))
        if ticket.assignee_id
        else None
    )
    return TicketView(
        ticket.id,
        ticket_number(ticket.id),
        customer.id,
        customer.account_number,
        customer.name,
        ticket.category,
        ticket.priority,
        ticket.status,
        ticket.team,
        assignee,
        ticket.description,
        ticket.resolution,
        ticket.resolution_code,
        ticket.first_contact_resolution,
        ticket.escalated,
        ticket.visit_booked,
        ticket.contacts,
        ticket.outage_id,
        ticket.created_at,
        ticket.resolved_at,
        ticket.sla_due_at,
        ticket.sla_alert_at,
        sla_state(ticket, now or utcnow()),
        list(ticket.transcript),
    )


def log(
    ticket: Ticket, *, actor: Actor, kind: str, text: str, at: datetime | None = None, **data: Any
) -> None:
    """Append to a ticket's transcript (every step of every interaction)."""
    entry: dict[str, Any] = {
        "at": (at or utcnow()).isoformat(),
        "by": actor.name,
        "via": actor.channel.value,
        "kind": kind,
        "text": text,
    }
    if data:
        entry["data"] = data
    ticket.transcript = [*ticket.transcript, entry]


def get_ticket(session: Session, ticket_id: int, *, for_update: bool = False) -> Ticket:
    query = sa.select(Ticket).where(Ticket.id == ticket_id)
    if for_update:
        query = query.with_for_update()
    ticket = session.scalar(query)
    if ticket is None:
        raise NotFound(f"no ticket {ticket_number(ticket_id)}")
    return ticket


def _notify(
    session: Session,
    ticket: Ticket,
    kind: str,
    *,
    settings: TicketSettings,
    extra: dict[str, Any] | None = None,
) -> None:
    customer = get_customer(session, ticket.customer_id)
    link = None
    if settings.secret_key:
        token = status_link_token(settings.secret_key, ticket.id)
        link = f"{settings.base_url.rstrip('/')}/tickets/status/{token}"
    messages.queue(
        session,
        kind=kind,
        key=f"{ticket.id}:{len(ticket.transcript)}",
        customer=customer,
        context={
            "customer_name": customer.name,
            "ticket_number": ticket_number(ticket.id),
            "category": ticket.category.label,
            "status": ticket.status.label,
            "description": ticket.description[:500],
            "resolution": ticket.resolution,
            "status_link": link,
            "company_name": settings.company_name,
            "support_number": settings.support_phone,
            **(extra or {}),
        },
    )


@dataclass(frozen=True, slots=True)
class TicketSettings:
    sla_hours: dict[TicketPriority, tuple[int, int]]
    company_name: str = "fiberdesk"
    support_phone: str = ""
    #: when set, a resolved ticket sends the customer a satisfaction survey
    surveys: KpiSettings | None = None
    #: when set, ticket messages carry a link to the ticket's public status page
    secret_key: str | None = None
    #: where that page is served, e.g. https://desk.example (empty: a path only)
    base_url: str = ""


DEFAULT_TICKET_SETTINGS = TicketSettings(dict(DEFAULT_SLA_HOURS))


def open_ticket(
    uow: UnitOfWork,
    *,
    actor: Actor,
    customer_id: int,
    category: TicketCategory,
    description: str,
    settings: TicketSettings = DEFAULT_TICKET_SETTINGS,
    priority: TicketPriority = TicketPriority.NORMAL,
    team: Team = Team.CSR,
    now: datetime | None = None,
) -> TicketView:
    """Open a ticket; inside an active outage on the customer's path it is linked to it."""
    actor.require(Permission.TICKETS_WRITE)
    session = uow.session
    now = now or utcnow()
    text = description.strip()
    if not text:
        raise InvalidInput("describe the problem", field="description")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"the description is over {MAX_TEXT} characters", field="description")
    customer = get_customer(session, customer_id)
    target, alert = settings.sla_hours[priority]
    ticket = Ticket(
        customer_id=customer.id,
        category=category,
        priority=priority,
        status=TicketStatus.OPEN,
        description=text,
        team=team,
        created_at=now,
        sla_due_at=now + timedelta(hours=target),
        sla_alert_at=now + timedelta(hours=alert),
        created_by=actor.name,
        transcript=[],
    )
    log(ticket, actor=actor, kind="opened", text=text, at=now)
    outages = outages_on_path(session, path_of(session, customer.nap_id))
    if outages:
        outage = outages[0]
        ticket.outage_id = outage.id
        log(
            ticket,
            actor=actor,
            kind="outage",
            at=now,
            text=f"linked to outage #{outage.id} ({outage.scope_label}, detected "
            f"{outage.detected_at:%Y-%m-%d %H:%M} UTC): no separate investigation",
        )
    session.add(ticket)
    session.flush()
    _notify(
        session,
        ticket,
        "ticket_opened",
        settings=settings,
    )
    audit.record(
        session,
        actor=actor,
        action="ticket.open",
        entity_type="ticket",
        entity_id=ticket.id,
        after=audit.snapshot(ticket, exclude=frozenset({"transcript"})),
    )
    result = view(session, ticket, now)
    uow.commit()
    return result


def update_ticket(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ticket_id: int,
    status: TicketStatus | None = None,
    team: Team | None = None,
    assignee: str | None = None,
    note: str | None = None,
    customer_contact: bool = False,
    settings: TicketSettings = DEFAULT_TICKET_SETTINGS,
) -> TicketView:
    """Move a ticket, reassign it, log a note or a new contact from the customer."""
    actor.require(Permission.TICKETS_WRITE)
    session = uow.session
    ticket = get_ticket(session, ticket_id, for_update=True)
    before = audit.snapshot(ticket, exclude=frozenset({"transcript"}))
    if status is not None and status is not ticket.status:
        if status is TicketStatus.RESOLVED:
            raise InvalidInput("resolve a ticket with its resolution (resolve)", field="status")
        TICKET_TRANSITIONS.check(ticket.status, status)
        if status is TicketStatus.ESCALATED:
            ticket.escalated = True
        if status is TicketStatus.REOPENED:
            ticket.resolved_at = None
            ticket.first_contact_resolution = False
        log(ticket, actor=actor, kind="status", text=f"{ticket.status.label} → {status.label}")
        ticket.status = status
    if team is not None and team is not ticket.team:
        log(ticket, actor=actor, kind="assign", text=f"team {ticket.team.label} → {team.label}")
        ticket.team = team
    if assignee is not None:
        user_id = session.scalar(sa.select(User.id).where(User.username == assignee.lower()))
        if user_id is None:
            raise InvalidInput(f"no user {assignee!r}", field="assignee")
        ticket.assignee_id = user_id
        log(ticket, actor=actor, kind="assign", text=f"assigned to {assignee.lower()}")
    if customer_contact:
        ticket.contacts += 1
        log(ticket, actor=actor, kind="contact", text="the customer got in touch again")
    if note:
        if len(note) > MAX_TEXT:
            raise InvalidInput(f"the note is over {MAX_TEXT} characters", field="note")
        log(ticket, actor=actor, kind="note", text=note.strip())
    if status is not None or note:
        _notify(
            session,
            ticket,
            "ticket_updated",
            settings=settings,
        )
    audit.record(
        session,
        actor=actor,
        action="ticket.update",
        entity_type="ticket",
        entity_id=ticket.id,
        before=before,
        after=audit.snapshot(ticket, exclude=frozenset({"transcript"})),
    )
    result = view(session, ticket)
    uow.commit()
    return result


def resolve(
    session: Session,
    ticket: Ticket,
    *,
    actor: Actor,
    code: str,
    text: str,
    now: datetime,
    settings: TicketSettings = DEFAULT_TICKET_SETTINGS,
) -> None:
    """Resolve within an open transaction (the troubleshooting engine uses this too); the
    customer is told."""
    if not code.strip() or not text.strip():
        raise InvalidInput("a resolution code and text are required", field="resolution")
    TICKET_TRANSITIONS.check(ticket.status, TicketStatus.RESOLVED)
    ticket.status = TicketStatus.RESOLVED
    ticket.resolution_code = code.strip().upper()[:40]
    ticket.resolution = text.strip()
    ticket.resolved_at = now
    ticket.first_contact_resolution = (
        ticket.contacts == 1 and not ticket.escalated and not ticket.visit_booked
    )
    log(
        ticket,
        actor=actor,
        kind="resolved",
        text=f"{ticket.resolution_code}: {text.strip()}",
        at=now,
    )
    _notify(
        session,
        ticket,
        "ticket_resolved",
        settings=settings,
    )
    if settings.surveys is not None:
        from fiberdesk.services.surveys import send_ticket_survey

        send_ticket_survey(session, ticket, settings.surveys, now=now)


def resolve_ticket(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ticket_id: int,
    code: str,
    text: str,
    settings: TicketSettings = DEFAULT_TICKET_SETTINGS,
    now: datetime | None = None,
) -> TicketView:
    actor.require(Permission.TICKETS_WRITE)
    session = uow.session
    ticket = get_ticket(session, ticket_id, for_update=True)
    before = audit.snapshot(ticket, exclude=frozenset({"transcript"}))
    resolve(
        session, ticket, actor=actor, code=code, text=text, now=now or utcnow(), settings=settings
    )
    audit.record(
        session,
        actor=actor,
        action="ticket.resolve",
        entity_type="ticket",
        entity_id=ticket.id,
        before=before,
        after=audit.snapshot(ticket, exclude=frozenset({"transcript"})),
    )
    result = view(session, ticket)
    uow.commit()
    return result


def list_tickets(
    uow: UnitOfWork,
    *,
    actor: Actor,
    status: TicketStatus | None = None,
    open_only: bool = False,
    team: Team | None = None,
    customer_id: int | None = None,
    category: TicketCategory | None = None,
    sla: str | None = None,
    limit: int = 100,
) -> list[TicketView]:
    """The queue: filters by status, team, customer, category, SLA state; oldest due first."""
    actor.require(Permission.CUSTOMERS_READ)
    if not 1 <= limit <= 500:
        raise InvalidInput("limit must be 1 to 500", field="limit")
    query = sa.select(Ticket)
    if status is not None:
        query = query.where(Ticket.status == status)
    if open_only:
        query = query.where(Ticket.status.in_(OPEN_STATUSES))
    if team is not None:
        query = query.where(Ticket.team == team)
    if customer_id is not None:
        query = query.where(Ticket.customer_id == customer_id)
    if category is not None:
        query = query.where(Ticket.category == category)
    now = utcnow()
    tickets = uow.session.scalars(
        query.order_by(Ticket.sla_due_at.asc(), Ticket.id).limit(limit * (4 if sla else 1))
    ).all()
    views = [view(uow.session, t, now) for t in tickets]
    if sla is not None:
        views = [v for v in views if v.sla_state == sla][:limit]
    return views


@dataclass(frozen=True, slots=True)
class NoteView:
    id: int
    customer_id: int
    type: NoteType
    content: str
    created_by: str
    created_at: datetime


def add_note(
    uow: UnitOfWork, *, actor: Actor, customer_id: int, type: NoteType, content: str
) -> NoteView:
    actor.require(Permission.CUSTOMERS_READ)
    text = content.strip()
    if not text:
        raise InvalidInput("the note is empty", field="content")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"the note is over {MAX_TEXT} characters", field="content")
    customer = get_customer(uow.session, customer_id)
    note = CustomerNote(customer_id=customer.id, type=type, content=text, created_by=actor.name)
    uow.session.add(note)
    uow.session.flush()
    audit.record(
        uow.session,
        actor=actor,
        action="note.add",
        entity_type="customer_note",
        entity_id=note.id,
        after=audit.snapshot(note),
    )
    result = NoteView(
        note.id, customer.id, note.type, note.content, note.created_by, note.created_at
    )
    uow.commit()
    return result


def list_notes(
    uow: UnitOfWork, *, actor: Actor, customer_id: int, type: NoteType | None = None
) -> list[NoteView]:
    actor.require(Permission.CUSTOMERS_READ)
    get_customer(uow.session, customer_id)
    query = sa.select(CustomerNote).where(CustomerNote.customer_id == customer_id)
    if type is not None:
        query = query.where(CustomerNote.type == type)
    return [
        NoteView(n.id, n.customer_id, n.type, n.content, n.created_by, n.created_at)
        for n in uow.session.scalars(query.order_by(CustomerNote.created_at.desc()))
    ]


def get_ticket_view(uow: UnitOfWork, *, actor: Actor, ticket_id: int) -> TicketView:
    """One ticket as the console and the API show it."""
    actor.require(Permission.CUSTOMERS_READ)
    return view(uow.session, get_ticket(uow.session, ticket_id))


#: most urgent first when two tickets fall due at the same time
PRIORITY_RANK = {
    TicketPriority.CRITICAL: 0,
    TicketPriority.HIGH: 1,
    TicketPriority.NORMAL: 2,
    TicketPriority.LOW: 3,
}
UNASSIGNED = "none"


def ticket_queue(
    uow: UnitOfWork,
    *,
    actor: Actor,
    page: PageRequest,
    status: TicketStatus | None = None,
    open_only: bool = False,
    priority: TicketPriority | None = None,
    team: Team | None = None,
    assignee: str | None = None,
    customer_id: int | None = None,
    customer: str | None = None,
    overdue: bool = False,
    now: datetime | None = None,
) -> Page[TicketView]:
    """The queue a person works from, one page at a time, the most urgent first: open
    tickets before finished ones, then by when their SLA target falls (the most overdue
    first), then by priority. ``assignee`` is a username or ``"none"`` (nobody yet);
    ``customer`` is an account number or part of a name; ``overdue`` keeps open tickets
    past their target."""
    actor.require(Permission.CUSTOMERS_READ)
    now = now or utcnow()
    conditions: list[sa.ColumnElement[bool]] = []
    if status is not None:
        conditions.append(Ticket.status == status)
    if open_only or overdue:
        conditions.append(Ticket.status.in_(OPEN_STATUSES))
    if overdue:
        conditions.append(Ticket.sla_due_at < now)
    if priority is not None:
        conditions.append(Ticket.priority == priority)
    if team is not None:
        conditions.append(Ticket.team == team)
    if assignee:
        if assignee.strip().lower() == UNASSIGNED:
            conditions.append(Ticket.assignee_id.is_(None))
        else:
            user_id = uow.session.scalar(
                sa.select(User.id).where(User.username == assignee.strip().lower())
            )
            if user_id is None:
                raise InvalidInput(f"no user {assignee.strip()!r}", field="assignee")
            conditions.append(Ticket.assignee_id == user_id)
    if customer_id is not None:
        conditions.append(Ticket.customer_id == customer_id)
    if customer and customer.strip():
        text = customer.strip()
        conditions.append(
            Ticket.customer_id.in_(
                sa.select(Customer.id).where(
                    sa.or_(
                        Customer.account_number == text,
                        sa.func.lower(Customer.name).contains(text.lower(), autoescape=True),
                    )
                )
            )
        )
    is_open = Ticket.status.in_(OPEN_STATUSES)
    rank = sa.case(
        *((Ticket.priority == p, r) for p, r in PRIORITY_RANK.items()), else_=len(PRIORITY_RANK)
    )
    query = sa.select(Ticket).where(*conditions)
    total = uow.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = uow.session.scalars(
        query.order_by(
            sa.case((is_open, 0), else_=1),
            sa.case((is_open, Ticket.sla_due_at), else_=None).asc().nulls_last(),
            rank,
            Ticket.id.desc(),
        )
        .offset(page.offset)
        .limit(page.per_page)
    ).all()
    return Page([view(uow.session, t, now) for t in rows], total, page.page, page.per_page)


@dataclass(frozen=True, slots=True)
class QueueCounts:
    open: int
    overdue: int
    due_soon: int
    unassigned: int


def queue_counts(uow: UnitOfWork, *, actor: Actor, now: datetime | None = None) -> QueueCounts:
    """How the queue stands: open tickets, past their target, due within two hours,
    and not yet given to anyone."""
    actor.require(Permission.CUSTOMERS_READ)
    now = now or utcnow()
    is_open = Ticket.status.in_(OPEN_STATUSES)

    def count(*where: sa.ColumnElement[bool]) -> int:
        return uow.session.scalar(sa.select(sa.func.count(Ticket.id)).where(is_open, *where)) or 0

    return QueueCounts(
        open=count(),
        overdue=count(Ticket.sla_due_at < now),
        due_soon=count(Ticket.sla_due_at >= now, Ticket.sla_due_at < now + timedelta(hours=2)),
        unassigned=count(Ticket.assignee_id.is_(None)),
    )


# ---- ticket status through a signed link (the public /tickets/status/{token} page) ----

#: how long a status link works
STATUS_LINK_DAYS = 30


def _status_mac(secret_key: str, payload: str) -> str:
    import hashlib
    import hmac

    text = f"ticket-status|{payload}".encode()
    return hmac.new(secret_key.encode(), text, hashlib.sha256).hexdigest()[:32]


def status_link_token(secret_key: str, ticket_id: int, *, now: datetime | None = None) -> str:
    """The token of a link that shows one ticket's status without signing in:
    ``<ticket id>.<issued, unix seconds>.<HMAC>``; it works for ``STATUS_LINK_DAYS``."""
    payload = f"{ticket_id}.{int((now or utcnow()).timestamp())}"
    return f"{payload}.{_status_mac(secret_key, payload)}"


@dataclass(frozen=True, slots=True)
class TicketStatusView:
    """What the customer may see of their ticket: no staff names, no internal notes."""

    number: str
    first_name: str
    category: TicketCategory
    status: TicketStatus
    description: str
    resolution: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    in_outage: bool
    visit_booked: bool
    link_expires_at: datetime


def ticket_for_status_token(
    uow: UnitOfWork,
    *,
    secret_key: str,
    token: str,
    max_age: timedelta = timedelta(days=STATUS_LINK_DAYS),
    now: datetime | None = None,
) -> TicketStatusView:
    """The ticket a status link names. A forged or altered link is refused (Forbidden);
    so is one older than ``max_age``, saying it has expired."""
    import contextlib
    import hmac

    from fiberdesk.domain.errors import Forbidden

    now = now or utcnow()
    ticket_id, _, rest = token.partition(".")
    issued, _, mac = rest.partition(".")
    if not (ticket_id.isdigit() and issued.isdigit() and len(ticket_id) < 12 and mac):
        raise Forbidden("this ticket link is not valid")
    if not hmac.compare_digest(mac, _status_mac(secret_key, f"{ticket_id}.{issued}")):
        raise Forbidden("this ticket link is not valid")
    issued_at = datetime.fromtimestamp(int(issued), tz=now.tzinfo)
    if issued_at > now + timedelta(minutes=5):
        raise Forbidden("this ticket link is not valid")
    if now - issued_at > max_age:
        raise Forbidden("this ticket link has expired")
    ticket = uow.session.get(Ticket, int(ticket_id))
    if ticket is None:
        raise NotFound("this ticket no longer exists")
    customer = get_customer(uow.session, ticket.customer_id)
    times = [ticket.created_at, *(t for t in (ticket.resolved_at,) if t)]
    for entry in ticket.transcript:
        at = entry.get("at") if isinstance(entry, dict) else None
        if isinstance(at, str):
            with contextlib.suppress(ValueError):
                times.append(datetime.fromisoformat(at))
    return TicketStatusView(
        ticket_number(ticket.id),
        customer.name.split(" ")[0],
        ticket.category,
        ticket.status,
        ticket.description,
        ticket.resolution,
        ticket.created_at,
        max(t for t in times if t.tzinfo is not None),
        ticket.resolved_at,
        ticket.outage_id is not None,
        ticket.visit_booked,
        issued_at + max_age,
    )
