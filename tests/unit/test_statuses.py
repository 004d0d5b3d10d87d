"""Every status machine: each allowed move passes, each other move is refused."""

from __future__ import annotations

import itertools

import pytest

from fiberdesk.domain.customers import SERVICE_TRANSITIONS, ServiceStatus
from fiberdesk.domain.equipment import EQUIPMENT_TRANSITIONS, EquipmentStatus
from fiberdesk.domain.errors import TransitionRefused
from fiberdesk.domain.network import NAP_PORT_TRANSITIONS, NapPortStatus
from fiberdesk.domain.orders import (
    APPOINTMENT_TRANSITIONS,
    ORDER_TRANSITIONS,
    AppointmentStatus,
    OrderStatus,
)
from fiberdesk.domain.status import LabelledStatus, Transitions
from fiberdesk.domain.tickets import TICKET_TRANSITIONS, TicketStatus

S = ServiceStatus

#: the service status moves, written out independently of the table under test
EXPECTED_SERVICE_MOVES = {
    (S.PENDING, S.SCHEDULED),
    (S.PENDING, S.DISCONNECTED),
    (S.SCHEDULED, S.INSTALLING),
    (S.SCHEDULED, S.PENDING),
    (S.SCHEDULED, S.DISCONNECTED),
    (S.INSTALLING, S.ACTIVE),
    (S.INSTALLING, S.SCHEDULED),
    (S.INSTALLING, S.PENDING),
    (S.ACTIVE, S.SUSPENDED),
    (S.ACTIVE, S.RELOCATING),
    (S.ACTIVE, S.DISCONNECTED),
    (S.SUSPENDED, S.ACTIVE),
    (S.SUSPENDED, S.DISCONNECTED),
    (S.RELOCATING, S.ACTIVE),
    (S.RELOCATING, S.SUSPENDED),
    (S.RELOCATING, S.DISCONNECTED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_service_status_moves(current: ServiceStatus, target: ServiceStatus) -> None:
    if (current, target) in EXPECTED_SERVICE_MOVES:
        SERVICE_TRANSITIONS.check(current, target)
    else:
        with pytest.raises(TransitionRefused, match=f"from {current.value} to {target.value}"):
            SERVICE_TRANSITIONS.check(current, target)


def test_spec_status_codes_and_categories() -> None:
    assert {(s.value, s.label, s.description) for s in S} == {
        ("PENDING", "Pre-Install", "Awaiting installation"),
        ("SCHEDULED", "Pre-Install", "Install date set"),
        ("INSTALLING", "In Progress", "Tech on site"),
        ("ACTIVE", "In Service", "Normal operation"),
        ("SUSPENDED", "Inactive", "Payment/requested hold"),
        ("DISCONNECTED", "Closed", "Service terminated"),
        ("RELOCATING", "Transition", "Moving to new address"),
    }


def test_disconnected_is_final() -> None:
    assert SERVICE_TRANSITIONS.targets(S.DISCONNECTED) == frozenset()


MACHINES: list[tuple[Transitions[LabelledStatus], type[LabelledStatus]]] = [
    (EQUIPMENT_TRANSITIONS, EquipmentStatus),  # type: ignore[list-item]
    (NAP_PORT_TRANSITIONS, NapPortStatus),  # type: ignore[list-item]
    (ORDER_TRANSITIONS, OrderStatus),  # type: ignore[list-item]
    (APPOINTMENT_TRANSITIONS, AppointmentStatus),  # type: ignore[list-item]
    (TICKET_TRANSITIONS, TicketStatus),  # type: ignore[list-item]
    (SERVICE_TRANSITIONS, ServiceStatus),  # type: ignore[list-item]
]

CASES = [
    (machine, current, target)
    for machine, enum in MACHINES
    for current, target in itertools.product(enum, enum)
]


@pytest.mark.parametrize(("machine", "current", "target"), CASES)
def test_every_machine_allows_exactly_its_table(
    machine: Transitions[LabelledStatus], current: LabelledStatus, target: LabelledStatus
) -> None:
    listed = target in machine.moves.get(current, frozenset())
    assert machine.allowed(current, target) is listed
    if listed:
        machine.check(current, target)
    else:
        with pytest.raises(TransitionRefused):
            machine.check(current, target)


@pytest.mark.parametrize(("machine", "enum"), MACHINES)
def test_every_status_has_an_entry_and_no_self_loops(
    machine: Transitions[LabelledStatus], enum: type[LabelledStatus]
) -> None:
    assert set(machine.moves) == set(enum), "every status must say where it may go"
    for status, targets in machine.moves.items():
        assert status not in targets


def test_spot_checks_of_the_other_machines() -> None:
    assert EQUIPMENT_TRANSITIONS.allowed(EquipmentStatus.IN_STOCK, EquipmentStatus.ASSIGNED)
    assert not EQUIPMENT_TRANSITIONS.allowed(EquipmentStatus.IN_STOCK, EquipmentStatus.INSTALLED)
    assert not EQUIPMENT_TRANSITIONS.allowed(EquipmentStatus.DEFECTIVE, EquipmentStatus.IN_STOCK)
    assert NAP_PORT_TRANSITIONS.allowed(NapPortStatus.FREE, NapPortStatus.RESERVED)
    assert not NAP_PORT_TRANSITIONS.allowed(NapPortStatus.FREE, NapPortStatus.IN_USE)
    assert TICKET_TRANSITIONS.allowed(TicketStatus.RESOLVED, TicketStatus.REOPENED)
    assert not TICKET_TRANSITIONS.allowed(TicketStatus.CLOSED, TicketStatus.IN_PROGRESS)
    assert not ORDER_TRANSITIONS.allowed(OrderStatus.COMPLETED, OrderStatus.OPEN)


def test_labels_and_colours() -> None:
    assert S.ACTIVE.colour == "green"
    assert TicketStatus.WAITING_ON_CUSTOMER.label == "Waiting on customer"
    assert NapPortStatus("IN_USE") is NapPortStatus.IN_USE
