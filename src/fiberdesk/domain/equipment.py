"""Customer equipment: ONT serials, MAC addresses and the equipment lifecycle."""

from __future__ import annotations

import re
from enum import StrEnum

from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.status import LabelledStatus, Transitions


class EquipmentType(StrEnum):
    ONT = "ONT"
    ROUTER = "ROUTER"
    MESH_NODE = "MESH_NODE"
    POWER_SUPPLY = "POWER_SUPPLY"


class EquipmentStatus(LabelledStatus):
    IN_STOCK = ("IN_STOCK", "In stock", "slate", "In the warehouse or a van")
    ASSIGNED = ("ASSIGNED", "Assigned", "blue", "Reserved for a customer's order")
    INSTALLED = ("INSTALLED", "Installed", "green", "At the customer's premises")
    RETURNED = ("RETURNED", "Returned", "grey", "Back from a customer")
    DEFECTIVE = ("DEFECTIVE", "Defective", "red", "Faulty, not to be issued")


EQUIPMENT_TRANSITIONS: Transitions[EquipmentStatus] = Transitions(
    "equipment",
    {
        EquipmentStatus.IN_STOCK: {EquipmentStatus.ASSIGNED, EquipmentStatus.DEFECTIVE},
        EquipmentStatus.ASSIGNED: {
            EquipmentStatus.INSTALLED,
            EquipmentStatus.IN_STOCK,
            EquipmentStatus.DEFECTIVE,
        },
        EquipmentStatus.INSTALLED: {EquipmentStatus.RETURNED, EquipmentStatus.DEFECTIVE},
        # a returned unit is checked, then restocked or written off
        EquipmentStatus.RETURNED: {EquipmentStatus.IN_STOCK, EquipmentStatus.DEFECTIVE},
        EquipmentStatus.DEFECTIVE: set(),
    },
)

_SERIAL = re.compile(r"^[A-Z]{4}[0-9A-F]{8}$")
_MAC_HEX = re.compile(r"^[0-9A-F]{12}$")


def normalise_ont_serial(raw: str) -> str:
    """An ITU-T G.984 ONT serial: a 4-letter vendor id and 8 hex digits, e.g. HWTC1A2B3C4D."""
    serial = raw.strip().upper().replace("-", "").replace(" ", "")
    if not _SERIAL.match(serial):
        raise InvalidInput(
            f"{raw!r} is not an ONT serial: expected 4 letters and 8 hex digits",
            field="serial_number",
        )
    return serial


def normalise_mac(raw: str) -> str:
    """A MAC address in the form AA:BB:CC:DD:EE:FF."""
    hexdigits = re.sub(r"[\s:.\-]", "", raw.strip().upper())
    if not _MAC_HEX.match(hexdigits):
        raise InvalidInput(f"{raw!r} is not a MAC address", field="mac_address")
    if int(hexdigits[:2], 16) & 1:
        raise InvalidInput(f"{raw!r} is a multicast MAC address", field="mac_address")
    return ":".join(hexdigits[i : i + 2] for i in range(0, 12, 2))
