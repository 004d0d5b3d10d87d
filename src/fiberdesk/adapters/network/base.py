"""The contract with the network: an OLT management system, or the simulator.

fiberdesk calls these outside its own database transactions, as it would call any remote
system; each call either does what it says or raises ``NetworkError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


class NetworkError(Exception):
    """The network refused or failed a request; ``reason`` says why, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AlarmKind(StrEnum):
    LOS = "LOS"  # loss of signal: fiber cut or unplugged
    LOF = "LOF"  # loss of frame
    DYING_GASP = "DYING_GASP"  # the ONT lost power
    LOW_RX = "LOW_RX"
    HIGH_RX = "HIGH_RX"
    DEREGISTERED = "DEREGISTERED"


@dataclass(frozen=True, slots=True)
class ServiceProfile:
    """What the OLT enforces for a subscriber: a name and the plan's rates."""

    name: str
    down_mbps: int
    up_mbps: int


@dataclass(frozen=True, slots=True)
class OntStatus:
    serial: str
    registered: bool  # provisioned on a PON port
    online: bool  # ranging and passing traffic
    admin_state: str  # ACTIVE, SUSPENDED or UNKNOWN
    rx_dbm: Decimal | None
    tx_dbm: Decimal | None
    last_seen_at: datetime | None
    pon_port_id: int | None = None
    profile: str | None = None
    active_alarms: list[AlarmKind] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Alarm:
    kind: AlarmKind
    serial: str | None
    pon_port_id: int | None
    raised_at: datetime
    cleared_at: datetime | None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PingResult:
    reachable: bool
    sent: int
    received: int
    avg_rtt_ms: float | None


@dataclass(frozen=True, slots=True)
class TrafficSample:
    """Octet counters of one ONT since its registration (they only grow)."""

    serial: str
    at: datetime
    rx_octets: int
    tx_octets: int


class NetworkAdapter(Protocol):
    def register_ont(
        self,
        *,
        serial: str,
        pon_port_id: int,
        nap_id: int | None,
        profile: ServiceProfile,
        expected_rx_dbm: Decimal,
    ) -> OntStatus: ...

    def change_profile(self, *, serial: str, profile: ServiceProfile) -> None: ...

    def suspend(self, *, serial: str) -> None: ...

    def resume(self, *, serial: str) -> None: ...

    def deprovision(self, *, serial: str) -> None: ...

    def ont_status(self, *, serial: str) -> OntStatus: ...

    def alarms(self, *, since: datetime, serial: str | None = None) -> list[Alarm]: ...

    def ping(self, *, serial: str, count: int = 4) -> PingResult: ...

    def traffic(self, *, serial: str) -> TrafficSample: ...

    def pon_utilisation(self, *, pon_port_id: int) -> float:
        """Downstream utilisation of a PON port now, 0.0 to 1.0."""
        ...
