"""Tickets, notes and diagnostics (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import CustomerNote, OutboxMessage, Ticket
from fiberdesk.domain.customers import NoteType, ServiceStatus
from fiberdesk.domain.errors import InvalidInput, NotFound, Refused, TransitionRefused
from fiberdesk.domain.tickets import Team, TicketCategory, TicketPriority, TicketStatus
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import diagnostics, tickets
from tests.factories import ActiveCustomers, make_active_customers, make_customer


@pytest.fixture
def active(fd: Fiberdesk) -> ActiveCustomers:
    return make_active_customers(fd, per_nap=2)


def _open(fd: Fiberdesk, customer_id: int, **kw: object) -> tickets.TicketView:
    with fd.uow() as uow:
        return tickets.open_ticket(
            uow,
            actor=SYSTEM_ACTOR,
            customer_id=customer_id,
            category=kw.pop("category", TicketCategory.NO_INTERNET),  # type: ignore[arg-type]
            description=str(kw.pop("description", "No lights")),
            settings=fd.ticket_settings,
            **kw,
        )  # type: ignore[arg-type]


def test_open_sets_sla_transcript_and_message(fd: Fiberdesk, active: ActiveCustomers) -> None:
    now = utcnow()
    t = _open(fd, active.customer_ids[0], priority=TicketPriority.HIGH, now=now)
    assert t.number == f"TKT-{t.id:06d}" and t.status is TicketStatus.OPEN
    assert t.sla_due_at == now + timedelta(hours=12)
    assert t.sla_alert_at == now + timedelta(hours=24)
    assert t.sla_state == "on_track" and t.transcript[0]["kind"] == "opened"
    with fd.uow(write=False) as uow:
        msg = uow.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.kind == "ticket_opened")
        )
        assert msg is not None and msg.context["ticket_number"] == t.number


def test_first_contact_resolution_rules(fd: Fiberdesk, active: ActiveCustomers) -> None:
    a, b, c = (_open(fd, active.customer_ids[i]) for i in range(3))
    with fd.uow() as uow:
        tickets.update_ticket(uow, actor=SYSTEM_ACTOR, ticket_id=b.id, customer_contact=True)
    with fd.uow() as uow:
        tickets.update_ticket(
            uow, actor=SYSTEM_ACTOR, ticket_id=c.id, status=TicketStatus.ESCALATED, team=Team.NOC
        )
    results = {}
    for t in (a, b, c):
        with fd.uow() as uow:
            results[t.id] = tickets.resolve_ticket(
                uow, actor=SYSTEM_ACTOR, ticket_id=t.id, code="router_restart", text="Restarted"
            )
    assert results[a.id].first_contact_resolution is True
    assert results[b.id].first_contact_resolution is False, "a second contact"
    assert results[c.id].first_contact_resolution is False, "escalated"
    assert results[a.id].resolution_code == "ROUTER_RESTART"
    # reopening takes the credit away
    with fd.uow() as uow:
        again = tickets.update_ticket(
            uow, actor=SYSTEM_ACTOR, ticket_id=a.id, status=TicketStatus.REOPENED
        )
    assert again.first_contact_resolution is False and again.resolved_at is None


def test_refused_moves_change_nothing(fd: Fiberdesk, active: ActiveCustomers) -> None:
    t = _open(fd, active.customer_ids[0])
    with fd.uow() as uow, pytest.raises(TransitionRefused):
        tickets.update_ticket(
            uow,
            actor=SYSTEM_ACTOR,
            ticket_id=t.id,
            status=TicketStatus.CLOSED,
            note="should not stay",
        )
    with fd.uow() as uow, pytest.raises(InvalidInput):
        tickets.update_ticket(uow, actor=SYSTEM_ACTOR, ticket_id=t.id, status=TicketStatus.RESOLVED)
    with fd.uow() as uow, pytest.raises(InvalidInput):
        tickets.resolve_ticket(uow, actor=SYSTEM_ACTOR, ticket_id=t.id, code="", text="x")
    with fd.uow() as uow, pytest.raises(InvalidInput):
        tickets.update_ticket(uow, actor=SYSTEM_ACTOR, ticket_id=t.id, assignee="nobody")
    with fd.uow() as uow, pytest.raises(NotFound):
        tickets.update_ticket(uow, actor=SYSTEM_ACTOR, ticket_id=999_999, note="x")
    with fd.uow(write=False) as uow:
        row = uow.session.get(Ticket, t.id)
        assert row is not None and row.status is TicketStatus.OPEN
        assert len(row.transcript) == 1


def test_queue_filters(fd: Fiberdesk, active: ActiveCustomers) -> None:
    first = _open(
        fd, active.customer_ids[0], category=TicketCategory.BILLING, priority=TicketPriority.LOW
    )
    _open(
        fd,
        active.customer_ids[1],
        category=TicketCategory.SLOW_SPEED,
        priority=TicketPriority.CRITICAL,
        now=utcnow() - timedelta(hours=10),
    )
    with fd.uow(write=False) as uow:
        queue = tickets.list_tickets(uow, actor=SYSTEM_ACTOR, open_only=True)
        assert [t.category for t in queue] == [TicketCategory.SLOW_SPEED, TicketCategory.BILLING]
        assert queue[0].sla_state == "alert"
        billing = tickets.list_tickets(uow, actor=SYSTEM_ACTOR, category=TicketCategory.BILLING)
        assert [t.id for t in billing] == [first.id]
        assert [t.id for t in tickets.list_tickets(uow, actor=SYSTEM_ACTOR, sla="alert")] == [
            queue[0].id
        ]


def test_notes(fd: Fiberdesk, active: ActiveCustomers) -> None:
    cid = active.customer_ids[0]
    for kind in NoteType:
        with fd.uow() as uow:
            tickets.add_note(
                uow, actor=SYSTEM_ACTOR, customer_id=cid, type=kind, content=f"{kind.label} note"
            )
    with fd.uow(write=False) as uow:
        all_notes = tickets.list_notes(uow, actor=SYSTEM_ACTOR, customer_id=cid)
        assert {n.type for n in all_notes} == set(NoteType)
        assert all(n.created_by == "system" for n in all_notes)
    with fd.uow() as uow, pytest.raises(InvalidInput):
        tickets.add_note(
            uow, actor=SYSTEM_ACTOR, customer_id=cid, type=NoteType.CALL, content="   "
        )
    with fd.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(CustomerNote)) == len(
            NoteType
        )


def test_diagnostics(fd: Fiberdesk, active: ActiveCustomers) -> None:
    d = diagnostics.run_diagnostics(
        fd.uow, actor=SYSTEM_ACTOR, customer_id=active.customer_ids[0], network=fd.network
    )
    assert d.online and d.registered and d.signal in ("EXCELLENT", "GOOD")
    assert d.ping is not None and d.ping["reachable"] and not d.suspended
    assert d.pon_utilisation is not None and 0 <= d.pon_utilisation <= 1
    no_ont = make_customer(fd, seq=77, name="No Ont", status=ServiceStatus.ACTIVE)
    with pytest.raises(Refused, match="no installed ONT"):
        diagnostics.run_diagnostics(
            fd.uow, actor=SYSTEM_ACTOR, customer_id=no_ont, network=fd.network
        )


def test_diagnostics_reports_the_billing_balance(fd: Fiberdesk, active: ActiveCustomers) -> None:
    from datetime import date

    from fiberdesk.services import billing as billing_service
    from tests.factories import open_billing

    cid = active.customer_ids[0]
    before = diagnostics.run_diagnostics(
        fd.uow, actor=SYSTEM_ACTOR, customer_id=cid, network=fd.network, ping=False
    )
    assert before.balance is None and before.standing is None
    open_billing(fd, cid, on=date.today())
    with fd.uow() as uow:
        billing_service.run_billing(
            uow, actor=SYSTEM_ACTOR, on=date.today(), settings=fd.billing_settings
        )
    d = diagnostics.run_diagnostics(
        fd.uow, actor=SYSTEM_ACTOR, customer_id=cid, network=fd.network, ping=False
    )
    assert d.balance is not None and d.balance > 0 and d.standing == "CURRENT"
