"""Customers: the spec's seven service status codes, account numbers and note types."""

from __future__ import annotations

from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.status import LabelledStatus, Transitions


class ServiceStatus(LabelledStatus):
    """The service status codes of the spec, with their category and meaning."""

    PENDING = ("PENDING", "Pre-Install", "slate", "Awaiting installation")
    SCHEDULED = ("SCHEDULED", "Pre-Install", "blue", "Install date set")
    INSTALLING = ("INSTALLING", "In Progress", "amber", "Tech on site")
    ACTIVE = ("ACTIVE", "In Service", "green", "Normal operation")
    SUSPENDED = ("SUSPENDED", "Inactive", "orange", "Payment/requested hold")
    DISCONNECTED = ("DISCONNECTED", "Closed", "grey", "Service terminated")
    RELOCATING = ("RELOCATING", "Transition", "purple", "Moving to new address")


SERVICE_TRANSITIONS: Transitions[ServiceStatus] = Transitions(
    "service status",
    {
        # an order taken; waiting for an installation window, or cancelled before one
        ServiceStatus.PENDING: {ServiceStatus.SCHEDULED, ServiceStatus.DISCONNECTED},
        # a window booked; the technician arrives, the booking is cancelled, or the order is
        ServiceStatus.SCHEDULED: {
            ServiceStatus.INSTALLING,
            ServiceStatus.PENDING,
            ServiceStatus.DISCONNECTED,
        },
        # on site; activated, or the visit failed and a new window is needed
        ServiceStatus.INSTALLING: {
            ServiceStatus.ACTIVE,
            ServiceStatus.SCHEDULED,
            ServiceStatus.PENDING,
        },
        ServiceStatus.ACTIVE: {
            ServiceStatus.SUSPENDED,
            ServiceStatus.RELOCATING,
            ServiceStatus.DISCONNECTED,
        },
        ServiceStatus.SUSPENDED: {ServiceStatus.ACTIVE, ServiceStatus.DISCONNECTED},
        # service continues at the old address until the new one is activated (or the move
        # is called off); non-payment can still suspend, a request can still disconnect
        ServiceStatus.RELOCATING: {
            ServiceStatus.ACTIVE,
            ServiceStatus.SUSPENDED,
            ServiceStatus.DISCONNECTED,
        },
        ServiceStatus.DISCONNECTED: set(),
    },
)

#: statuses in which a customer occupies a premises and a NAP port
OCCUPYING_STATUSES = frozenset(
    {
        ServiceStatus.PENDING,
        ServiceStatus.SCHEDULED,
        ServiceStatus.INSTALLING,
        ServiceStatus.ACTIVE,
        ServiceStatus.SUSPENDED,
        ServiceStatus.RELOCATING,
    }
)


class NoteType(LabelledStatus):
    """Kinds of customer note (the spec's ``customerNotes.type``)."""

    GENERAL = ("GENERAL", "General")
    CALL = ("CALL", "Phone call")
    EMAIL = ("EMAIL", "Email")
    TECHNICAL = ("TECHNICAL", "Technical")
    BILLING = ("BILLING", "Billing")
    INSTALLATION = ("INSTALLATION", "Installation")
    ACCESS = ("ACCESS", "Site access")
    COMPLAINT = ("COMPLAINT", "Complaint")
    SYSTEM = ("SYSTEM", "System")


ACCOUNT_NUMBER_LENGTH = 10


def luhn_check_digit(digits: str) -> int:
    """The Luhn (mod 10) check digit for a string of digits."""
    if not digits.isdigit():
        raise InvalidInput("a check digit needs digits only")
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def account_number(sequence: int) -> str:
    """Account number for a sequence number: nine digits and a Luhn check digit."""
    if not 0 < sequence < 10 ** (ACCOUNT_NUMBER_LENGTH - 1):
        raise InvalidInput("account sequence out of range")
    body = f"{sequence:0{ACCOUNT_NUMBER_LENGTH - 1}d}"
    return body + str(luhn_check_digit(body))


def is_valid_account_number(value: str) -> bool:
    """True if ``value`` is ten digits whose last is the Luhn check digit of the rest."""
    if len(value) != ACCOUNT_NUMBER_LENGTH or not value.isdigit():
        return False
    return luhn_check_digit(value[:-1]) == int(value[-1])
