"""Every status code appears on its page in docs/domain/."""

from __future__ import annotations

from pathlib import Path

import pytest

from fiberdesk.domain.billing import EntryKind, HoldKind, InvoiceStatus, Standing
from fiberdesk.domain.customers import NoteType, ServiceStatus
from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType
from fiberdesk.domain.network import NapPortStatus
from fiberdesk.domain.orders import AppointmentStatus, OrderStatus, OrderType
from fiberdesk.domain.outages import OutageKind, OutageStatus, Scope
from fiberdesk.domain.qualification import Decision, MatchStatus, QuoteStatus, Reason
from fiberdesk.domain.signup import CreditOutcome, IdentityMethod, LeadTimeFlag
from fiberdesk.domain.tickets import Team, TicketCategory, TicketPriority, TicketStatus
from fiberdesk.domain.users import Role

DOCS = Path(__file__).resolve().parents[2] / "docs" / "domain"

PAGES = [
    ("customers.md", ServiceStatus),
    ("customers.md", NoteType),
    ("service-orders.md", OrderType),
    ("service-orders.md", OrderStatus),
    ("appointments.md", AppointmentStatus),
    ("equipment.md", EquipmentStatus),
    ("equipment.md", EquipmentType),
    ("network.md", NapPortStatus),
    ("tickets.md", TicketStatus),
    ("tickets.md", TicketCategory),
    ("tickets.md", TicketPriority),
    ("tickets.md", Team),
    ("users.md", Role),
    ("qualification.md", Decision),
    ("qualification.md", Reason),
    ("qualification.md", QuoteStatus),
    ("qualification.md", MatchStatus),
    ("signup.md", IdentityMethod),
    ("signup.md", CreditOutcome),
    ("signup.md", LeadTimeFlag),
    ("billing.md", EntryKind),
    ("billing.md", InvoiceStatus),
    ("billing.md", Standing),
    ("billing.md", HoldKind),
    ("outages.md", OutageStatus),
    ("outages.md", OutageKind),
    ("outages.md", Scope),
]


@pytest.mark.parametrize(("page", "enum"), PAGES)
def test_every_code_is_documented(page: str, enum: type) -> None:
    text = (DOCS / page).read_text()
    missing = [m.value for m in enum if f"`{m.value}`" not in text]
    assert missing == []
