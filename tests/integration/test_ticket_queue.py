"""The ticket queue's read functions: most urgent first, filters, paging, counts
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.domain.errors import Forbidden, InvalidInput
from fiberdesk.domain.tickets import Team, TicketCategory, TicketPriority, TicketStatus
from fiberdesk.domain.users import SYSTEM_ACTOR, Actor, Channel, Role
from fiberdesk.services import tickets
from fiberdesk.services.pagination import PageRequest
from tests.factories import make_active_customers, make_token

NOBODY = Actor(name="self", role=Role.SELF_SERVICE, channel=Channel.PUBLIC)


def _open(fd: Fiberdesk, customer_id: int, priority: TicketPriority, hours_ago: float) -> int:
    with fd.uow() as uow:
        return tickets.open_ticket(
            uow,
            actor=SYSTEM_ACTOR,
            customer_id=customer_id,
            category=TicketCategory.WIFI,
            description="wifi drops",
            priority=priority,
            now=utcnow() - timedelta(hours=hours_ago),
        ).id


def test_the_queue_orders_filters_pages_and_counts(fd: Fiberdesk) -> None:
    active = make_active_customers(fd, per_nap=2)
    a, b, c = active.customer_ids[:3]
    make_token(fd, Role.CSR, "casey")
    late = _open(fd, a, TicketPriority.NORMAL, 30)  # due 6 h ago
    late_low = _open(fd, b, TicketPriority.LOW, 80)  # due 8 h ago
    soon = _open(fd, b, TicketPriority.CRITICAL, 3)  # due in 1 h
    same_due_high = _open(fd, c, TicketPriority.HIGH, 0)  # due in 12 h
    calm = _open(fd, c, TicketPriority.LOW, 0)  # due in 72 h
    finished = _open(fd, a, TicketPriority.CRITICAL, 100)
    with fd.uow() as uow:
        tickets.resolve_ticket(uow, actor=SYSTEM_ACTOR, ticket_id=finished, code="X", text="y")
    with fd.uow() as uow:
        tickets.update_ticket(uow, actor=SYSTEM_ACTOR, ticket_id=soon, assignee="casey")

    def ids(**filters: object) -> list[int]:
        with fd.uow(write=False) as uow:
            page = tickets.ticket_queue(uow, actor=SYSTEM_ACTOR, page=PageRequest(), **filters)  # type: ignore[arg-type]
        return [v.id for v in page.items]

    assert ids() == [late_low, late, soon, same_due_high, calm, finished]
    assert ids(open_only=True) == [late_low, late, soon, same_due_high, calm]
    assert ids(overdue=True) == [late_low, late]
    assert ids(priority=TicketPriority.CRITICAL) == [soon, finished]
    assert ids(status=TicketStatus.RESOLVED) == [finished]
    assert ids(assignee="casey") == [soon]
    assert ids(assignee="none", open_only=True) == [late_low, late, same_due_high, calm]
    assert ids(customer_id=c) == [same_due_high, calm]
    assert ids(team=Team.NOC) == []
    with fd.uow(write=False) as uow:
        account = tickets.get_ticket_view(uow, actor=SYSTEM_ACTOR, ticket_id=late).account_number
    assert ids(customer=account) == [late, finished]
    assert ids(customer="active customer", overdue=True) == [late_low, late]
    assert ids(customer="%") == []  # a LIKE wildcard is taken literally

    with fd.uow(write=False) as uow:
        second = tickets.ticket_queue(uow, actor=SYSTEM_ACTOR, page=PageRequest(2, 4))
        counts = tickets.queue_counts(uow, actor=SYSTEM_ACTOR)
        with pytest.raises(InvalidInput) as bad:
            tickets.ticket_queue(uow, actor=SYSTEM_ACTOR, page=PageRequest(), assignee="ghost")
        with pytest.raises(Forbidden):
            tickets.ticket_queue(uow, actor=NOBODY, page=PageRequest())
    assert [v.id for v in second.items] == [calm, finished]
    assert (second.total, second.pages) == (6, 2)
    assert bad.value.field == "assignee"
    assert counts == tickets.QueueCounts(open=5, overdue=2, due_soon=1, unassigned=4)
