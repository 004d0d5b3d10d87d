"""How healthy an ONT and the network elements above it are, for the network view.

An ONT's health comes from its active alarms and its customer's service status; an element
(OLT, PON port, splitter, NAP) rolls up the health of the ONTs below it, and an open outage
on the element or above it marks it down, so everything below a fiber cut shows as down.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from fiberdesk.domain.status import LabelledStatus


class OntHealth(LabelledStatus):
    """An ONT as the NOC sees it, worst first."""

    LOS = ("LOS", "Loss of signal", "red", "No light reaches the ONT: fiber cut or unplugged")
    DYING_GASP = ("DYING_GASP", "Dying gasp", "orange", "The ONT lost power")
    DEGRADED = ("DEGRADED", "Degraded Rx", "amber", "Receive power outside the ONT's range")
    OFFLINE = ("OFFLINE", "Offline", "grey", "Suspended, deregistered or not reporting")
    ONLINE = ("ONLINE", "Online", "green", "Working")
    NOT_INSTALLED = ("NOT_INSTALLED", "Not installed", "slate", "No ONT installed yet")


class ElementHealth(LabelledStatus):
    """A network element (OLT, PON port, splitter, NAP), worst first."""

    DOWN = ("DOWN", "Down", "red", "A fiber outage, or every ONT below is in loss of signal")
    POWER = ("POWER", "Power outage", "orange", "A power outage covers it")
    WARNING = ("WARNING", "Problems", "amber", "Some ONTs below have alarms")
    OK = ("OK", "Working", "green", "Every ONT below is working")
    IDLE = ("IDLE", "No service", "grey", "No ONT in service below it")


#: ONT healths that count as a problem on the element above
PROBLEMS = frozenset({OntHealth.LOS, OntHealth.DYING_GASP, OntHealth.DEGRADED})
_ORDER = list(OntHealth)


def ont_health(alarms: Iterable[str], *, installed: bool, in_service: bool) -> OntHealth:
    """The health of one ONT from its active alarm kinds (LOS, LOF, DYING_GASP, LOW_RX,
    HIGH_RX, DEREGISTERED); ``in_service`` is False for a suspended customer."""
    if not installed:
        return OntHealth.NOT_INSTALLED
    kinds = {a.upper() for a in alarms}
    if kinds & {"LOS", "LOF"}:
        return OntHealth.LOS
    if "DYING_GASP" in kinds:
        return OntHealth.DYING_GASP
    if "DEREGISTERED" in kinds or not in_service:
        return OntHealth.OFFLINE
    if kinds & {"LOW_RX", "HIGH_RX"}:
        return OntHealth.DEGRADED
    return OntHealth.ONLINE


def worst(healths: Iterable[OntHealth]) -> OntHealth | None:
    found = list(healths)
    return min(found, key=_ORDER.index) if found else None


def element_health(counts: Counter[OntHealth], outage: str | None = None) -> ElementHealth:
    """An element's health from the ONT healths below it and the kind of an open outage on
    it or above it (``FIBER`` or ``POWER``), if any."""
    if outage == "FIBER":
        return ElementHealth.DOWN
    if outage == "POWER":
        return ElementHealth.POWER
    working = sum(n for h, n in counts.items() if h is not OntHealth.NOT_INSTALLED)
    if working and counts[OntHealth.LOS] == working:
        return ElementHealth.DOWN
    if working and counts[OntHealth.DYING_GASP] == working:
        return ElementHealth.POWER
    if any(counts[h] for h in PROBLEMS):
        return ElementHealth.WARNING
    if counts[OntHealth.ONLINE]:
        return ElementHealth.OK
    return ElementHealth.IDLE


def rank(health: ElementHealth) -> int:
    """Sort key: worst first."""
    return list(ElementHealth).index(health)
