"""Outages: their states, kinds and scopes."""

from __future__ import annotations

from fiberdesk.domain.status import LabelledStatus, Transitions


class OutageStatus(LabelledStatus):
    DETECTED = ("DETECTED", "Detected", "red", "Alarms point to a fault")
    CONFIRMED = ("CONFIRMED", "Confirmed", "orange", "The NOC confirmed the fault")
    RESOLVED = ("RESOLVED", "Resolved", "green", "Service restored")


OUTAGE_TRANSITIONS: Transitions[OutageStatus] = Transitions(
    "outage",
    {
        OutageStatus.DETECTED: {OutageStatus.CONFIRMED, OutageStatus.RESOLVED},
        OutageStatus.CONFIRMED: {OutageStatus.RESOLVED},
        OutageStatus.RESOLVED: set(),
    },
)


class OutageKind(LabelledStatus):
    FIBER = ("FIBER", "Fiber fault", "red", "Loss of signal on many ONTs at once")
    POWER = ("POWER", "Power outage", "amber", "Many ONTs lost power (dying gasp)")


class Scope(LabelledStatus):
    """Network elements, from the ONT up, as places an outage can sit."""

    ONT = ("ONT", "ONT")
    NAP = ("NAP", "NAP")
    SPLITTER = ("SPLITTER", "Splitter (LCP)")
    PON_PORT = ("PON_PORT", "PON port")
    OLT = ("OLT", "OLT")
