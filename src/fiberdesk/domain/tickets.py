"""Service tickets: categories, priorities with SLA targets, and the ticket lifecycle."""

from __future__ import annotations

from fiberdesk.domain.status import LabelledStatus, Transitions


class TicketCategory(LabelledStatus):
    NO_INTERNET = ("NO_INTERNET", "No internet")
    SLOW_SPEED = ("SLOW_SPEED", "Slow speed")
    INTERMITTENT = ("INTERMITTENT", "Intermittent service")
    WIFI = ("WIFI", "WiFi")
    BILLING = ("BILLING", "Billing")
    INSTALLATION = ("INSTALLATION", "Installation")
    EQUIPMENT = ("EQUIPMENT", "Equipment")
    RELOCATION = ("RELOCATION", "Relocation")
    OTHER = ("OTHER", "Other")


class TicketPriority(LabelledStatus):
    """Priorities; the default resolution targets in hours are in ``DEFAULT_SLA_HOURS``."""

    CRITICAL = ("CRITICAL", "Critical", "red")
    HIGH = ("HIGH", "High", "orange")
    NORMAL = ("NORMAL", "Normal", "blue")
    LOW = ("LOW", "Low", "slate")


#: resolution target and alert threshold in hours; the spec's 24 h / 48 h is NORMAL's
DEFAULT_SLA_HOURS: dict[TicketPriority, tuple[int, int]] = {
    TicketPriority.CRITICAL: (4, 8),
    TicketPriority.HIGH: (12, 24),
    TicketPriority.NORMAL: (24, 48),
    TicketPriority.LOW: (72, 120),
}


def parse_sla(spec: str) -> dict[TicketPriority, tuple[int, int]]:
    """``"CRITICAL=4/8,HIGH=12/24,..."``: target/alert hours per priority; unnamed
    priorities keep their defaults."""
    from fiberdesk.domain.errors import InvalidInput

    hours = dict(DEFAULT_SLA_HOURS)
    for part in (p for p in spec.split(",") if p.strip()):
        name, _, pair = part.strip().partition("=")
        target, _, alert = pair.partition("/")
        try:
            priority = TicketPriority(name.strip().upper())
            t, a = int(target), int(alert)
        except ValueError:
            raise InvalidInput(f"ticket SLA {part!r} is not PRIORITY=TARGET/ALERT") from None
        if not 0 < t <= a:
            raise InvalidInput(f"ticket SLA {part!r}: the alert must not come before the target")
        hours[priority] = (t, a)
    return hours


class TicketStatus(LabelledStatus):
    OPEN = ("OPEN", "Open", "blue")
    IN_PROGRESS = ("IN_PROGRESS", "In progress", "amber")
    WAITING_ON_CUSTOMER = ("WAITING_ON_CUSTOMER", "Waiting on customer", "slate")
    ESCALATED = ("ESCALATED", "Escalated", "red")
    RESOLVED = ("RESOLVED", "Resolved", "green")
    CLOSED = ("CLOSED", "Closed", "grey")
    REOPENED = ("REOPENED", "Reopened", "orange")


_WORKING = {
    TicketStatus.IN_PROGRESS,
    TicketStatus.WAITING_ON_CUSTOMER,
    TicketStatus.ESCALATED,
    TicketStatus.RESOLVED,
}

TICKET_TRANSITIONS: Transitions[TicketStatus] = Transitions(
    "ticket",
    {
        TicketStatus.OPEN: _WORKING,
        TicketStatus.IN_PROGRESS: _WORKING - {TicketStatus.IN_PROGRESS},
        TicketStatus.WAITING_ON_CUSTOMER: _WORKING - {TicketStatus.WAITING_ON_CUSTOMER},
        TicketStatus.ESCALATED: _WORKING - {TicketStatus.ESCALATED},
        TicketStatus.RESOLVED: {TicketStatus.CLOSED, TicketStatus.REOPENED},
        TicketStatus.CLOSED: {TicketStatus.REOPENED},
        TicketStatus.REOPENED: _WORKING,
    },
)


class Team(LabelledStatus):
    CSR = ("CSR", "Customer service")
    NOC = ("NOC", "Network operations")
    DISPATCH = ("DISPATCH", "Dispatch")
    BILLING = ("BILLING", "Billing")
