"""The passive optical network: technologies, port states, the optical budget, signal classes.

Optical budget (predicted receive power at the ONT)::

    Rx = OLT Tx - (fiber km x dB/km + splitter loss + connectors x 0.3
                   + splices x 0.05 + 3 dB margin)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.status import LabelledStatus, Transitions


class PonTechnology(StrEnum):
    GPON = "GPON"
    XGS_PON = "XGS_PON"

    @property
    def downstream_mbps(self) -> int:
        return 2488 if self is PonTechnology.GPON else 9953

    @property
    def upstream_mbps(self) -> int:
        return 1244 if self is PonTechnology.GPON else 9953

    @property
    def max_split(self) -> int:
        """The largest total split one PON port of this technology may carry."""
        return 64 if self is PonTechnology.GPON else 128

    @property
    def label(self) -> str:
        return "GPON" if self is PonTechnology.GPON else "XGS-PON"


class NapPortStatus(LabelledStatus):
    FREE = ("FREE", "Free", "green", "Available for a new customer")
    RESERVED = ("RESERVED", "Reserved", "amber", "Held for a quote or an order")
    IN_USE = ("IN_USE", "In use", "blue", "A customer's drop is connected")
    FAULTY = ("FAULTY", "Faulty", "red", "Out of service until repaired")


NAP_PORT_TRANSITIONS: Transitions[NapPortStatus] = Transitions(
    "NAP port",
    {
        NapPortStatus.FREE: {NapPortStatus.RESERVED, NapPortStatus.FAULTY},
        NapPortStatus.RESERVED: {
            NapPortStatus.FREE,
            NapPortStatus.IN_USE,
            NapPortStatus.FAULTY,
        },
        NapPortStatus.IN_USE: {NapPortStatus.FREE, NapPortStatus.FAULTY},
        NapPortStatus.FAULTY: {NapPortStatus.FREE},
    },
)

NAP_PORT_COUNTS = (8, 16)

#: insertion loss in dB of a balanced splitter, by its number of outputs
SPLITTER_LOSS_DB: dict[int, Decimal] = {
    2: Decimal("3.5"),
    4: Decimal("7.0"),
    8: Decimal("10.5"),
    16: Decimal("14.0"),
    32: Decimal("17.5"),
    64: Decimal("21.0"),
}

#: fiber attenuation in dB/km by wavelength in nm
FIBER_LOSS_DB_PER_KM: dict[int, Decimal] = {
    1310: Decimal("0.35"),
    1490: Decimal("0.25"),
    1550: Decimal("0.22"),
}

CONNECTOR_LOSS_DB = Decimal("0.3")
SPLICE_LOSS_DB = Decimal("0.05")
DESIGN_MARGIN_DB = Decimal("3")

#: GPON class B+ figures
OLT_TX_MIN_DBM = Decimal("1.5")
OLT_TX_MAX_DBM = Decimal("5")
ONT_SENSITIVITY_DBM = Decimal("-27")
ONT_OVERLOAD_DBM = Decimal("-8")


@dataclass(frozen=True, slots=True)
class OpticalPath:
    """What lies between an OLT PON port and an ONT."""

    fiber_m: Decimal
    splitter_ratios: tuple[int, ...]
    connectors: int
    splices: int
    olt_tx_dbm: Decimal = OLT_TX_MIN_DBM
    wavelength_nm: int = 1490

    def loss_db(self) -> Decimal:
        if self.wavelength_nm not in FIBER_LOSS_DB_PER_KM:
            raise InvalidInput(f"no attenuation figure for {self.wavelength_nm} nm")
        if self.fiber_m < 0 or self.connectors < 0 or self.splices < 0:
            raise InvalidInput("fiber length, connectors and splices cannot be negative")
        fiber = self.fiber_m / Decimal(1000) * FIBER_LOSS_DB_PER_KM[self.wavelength_nm]
        split = sum((splitter_loss_db(r) for r in self.splitter_ratios), Decimal(0))
        return (
            fiber
            + split
            + self.connectors * CONNECTOR_LOSS_DB
            + self.splices * SPLICE_LOSS_DB
            + DESIGN_MARGIN_DB
        )

    def predicted_rx_dbm(self) -> Decimal:
        """Predicted receive power at the ONT, rounded to 0.01 dB."""
        return (self.olt_tx_dbm - self.loss_db()).quantize(Decimal("0.01"))

    def margin_db(self) -> Decimal:
        """How far the predicted Rx sits above the ONT's sensitivity."""
        return self.predicted_rx_dbm() - ONT_SENSITIVITY_DBM


def splitter_loss_db(ratio: int) -> Decimal:
    try:
        return SPLITTER_LOSS_DB[ratio]
    except KeyError:
        raise InvalidInput(f"no splitter of ratio 1:{ratio}") from None


class SignalClass(LabelledStatus):
    """Measured receive power classes."""

    EXCELLENT = ("EXCELLENT", "Excellent", "green", "Above -20 dBm")
    GOOD = ("GOOD", "Good", "green", "-20 to -25 dBm")
    ACCEPTABLE = ("ACCEPTABLE", "Acceptable, investigate", "amber", "-25 to -28 dBm")
    POOR = ("POOR", "Poor, repair needed", "red", "Below -28 dBm")


def signal_class(rx_dbm: Decimal | float) -> SignalClass:
    rx = Decimal(str(rx_dbm))
    if rx > Decimal(-20):
        return SignalClass.EXCELLENT
    if rx >= Decimal(-25):
        return SignalClass.GOOD
    if rx >= Decimal(-28):
        return SignalClass.ACCEPTABLE
    return SignalClass.POOR


EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


#: cables follow streets and poles, not straight lines
ROUTE_FACTOR = 1.3


def route_length_m(lat1: float, lon1: float, lat2: float, lon2: float) -> int:
    """Estimated cable length between two points, in whole metres."""
    return round(distance_m(lat1, lon1, lat2, lon2) * ROUTE_FACTOR)
