"""The simulated OLT: the default ``NetworkAdapter``, its state in ``sim_onts``/``sim_faults``.

Several fiberdesk processes share one simulated network through those tables. Each public
method runs its own short transaction: call it outside yours, as you would a remote OLT.
What an ONT reports is computed from the rows and the clock, deterministically; the rules
are written down in docs/adapters.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fiberdesk.adapters.network.base import (
    Alarm,
    AlarmKind,
    NetworkError,
    OntStatus,
    PingResult,
    ServiceProfile,
    TrafficSample,
)
from fiberdesk.db.base import utcnow
from fiberdesk.db.models.network import Nap, PonPort, Splitter
from fiberdesk.db.models.simulation import SimFault, SimOnt
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.equipment import normalise_ont_serial
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.network import ONT_OVERLOAD_DBM, ONT_SENSITIVITY_DBM, PonTechnology


class FaultKind(StrEnum):
    FIBER_CUT = "FIBER_CUT"  # a splitter or a PON port: every ONT below goes dark (LOS)
    POWER_LOSS = "POWER_LOSS"  # one ONT loses power (dying gasp)
    DEGRADED_DROP = "DEGRADED_DROP"  # one ONT's drop loses extra dB (bent, dirty, crushed)


@dataclass(frozen=True, slots=True)
class SimulatedFault:
    id: int
    kind: FaultKind
    #: splitter, pon_port or ont
    target_type: str
    #: the splitter or PON port id, or the ONT serial
    target: str
    extra_loss_db: Decimal | None
    started_at: datetime
    cleared_at: datetime | None


#: the most ONU ids a PON port of each technology gives out
ONU_ID_LIMIT = {PonTechnology.GPON: 128, PonTechnology.XGS_PON: 256}
DEFAULT_EXTRA_LOSS_DB = Decimal("6")
NOISE_DB = Decimal("0.3")
NOISE_WINDOW_S = 300
CENT_DB = Decimal("0.01")
#: "local" time for the daily traffic curve (US Eastern, ignoring daylight saving)
LOCAL_OFFSET_S = -5 * 3600
#: relative demand by local hour; trough at 04:00, evening peak 20:00 to 23:00
DAY_CURVE = (60, 40, 28, 20, 15, 18, 30, 45, 55, 60, 62, 65,
             70, 70, 72, 78, 88, 100, 115, 135, 160, 170, 165, 130)  # fmt: skip
_CURVE_SUM = sum(DAY_CURVE)
_CURVE_PREFIX = tuple(sum(DAY_CURVE[:h]) for h in range(24))
_HOUR_MS = 3_600_000
#: average utilisation of its profile's rate, per mille, drawn per ONT from these ranges
DOWN_UTILISATION_PM = (20, 80)
UP_UTILISATION_PM = (10, 40)


class SimulatedOlt:
    """A simulated OLT whose ONTs register, report Rx power, raise alarms and take faults.

    ``clock`` returns an aware UTC datetime (tests move it); ``seed`` varies the noise.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        clock: Callable[[], datetime] | None = None,
        seed: int = 0,
    ) -> None:
        self._factory = session_factory
        self._clock = clock or utcnow
        self._seed = seed

    # -- provisioning ---------------------------------------------------------------------

    def register_ont(
        self,
        *,
        serial: str,
        pon_port_id: int,
        nap_id: int | None,
        profile: ServiceProfile,
        expected_rx_dbm: Decimal,
    ) -> OntStatus:
        serial = _serial_or_refuse(serial)
        _check_profile(profile)
        now = self._clock()
        try:
            with UnitOfWork(self._factory) as uow:
                s = uow.session
                # the port's row lock makes concurrent registrations take ONU ids in turn
                port = s.get(PonPort, pon_port_id, with_for_update=True)
                if port is None:
                    raise NetworkError(f"PON port {pon_port_id} does not exist on this OLT")
                if nap_id is not None:
                    fed_by = s.scalar(
                        sa.select(Splitter.pon_port_id)
                        .join(Nap, Nap.splitter_id == Splitter.id)
                        .where(Nap.id == nap_id)
                    )
                    if fed_by is None:
                        raise NetworkError(f"NAP {nap_id} does not exist")
                    if fed_by != pon_port_id:
                        raise NetworkError(f"NAP {nap_id} is not fed by PON port {pon_port_id}")
                taken = s.scalar(sa.select(SimOnt.pon_port_id).where(SimOnt.serial == serial))
                if taken is not None:
                    raise NetworkError(f"ONT {serial} is already registered on PON port {taken}")
                onu_id = _next_onu_id(s, port)
                ont = SimOnt(
                    serial=serial,
                    pon_port_id=pon_port_id,
                    nap_id=nap_id,
                    onu_id=onu_id,
                    profile=profile.name,
                    down_mbps=profile.down_mbps,
                    up_mbps=profile.up_mbps,
                    admin_state="ACTIVE",
                    base_rx_dbm=expected_rx_dbm.quantize(CENT_DB),
                    registered_at=now,
                    last_seen_at=now,
                )
                s.add(ont)
                s.flush()
                status = self._status(s, ont, now)
                uow.commit()
                return status
        except IntegrityError:  # another process registered the serial in the meantime
            raise NetworkError(f"ONT {serial} is already registered") from None

    def change_profile(self, *, serial: str, profile: ServiceProfile) -> None:
        _check_profile(profile)
        with UnitOfWork(self._factory) as uow:
            ont = _ont_or_refuse(uow.session, serial)
            ont.profile, ont.down_mbps = profile.name, profile.down_mbps
            ont.up_mbps = profile.up_mbps
            uow.commit()

    def suspend(self, *, serial: str) -> None:
        self._set_admin_state(serial, "SUSPENDED")

    def resume(self, *, serial: str) -> None:
        self._set_admin_state(serial, "ACTIVE")

    def deprovision(self, *, serial: str) -> None:
        with UnitOfWork(self._factory) as uow:
            uow.session.delete(_ont_or_refuse(uow.session, serial))
            uow.commit()

    # -- monitoring -----------------------------------------------------------------------

    def ont_status(self, *, serial: str) -> OntStatus:
        now = self._clock()
        with UnitOfWork(self._factory, write=False) as uow:
            ont = _ont(uow.session, serial)
            if ont is None:
                return OntStatus(serial, False, False, "UNKNOWN", None, None, None)
            return self._status(uow.session, ont, now)

    def alarms(self, *, since: datetime, serial: str | None = None) -> list[Alarm]:
        now = self._clock()
        found: list[Alarm] = []
        with UnitOfWork(self._factory, write=False) as uow:
            s = uow.session
            query = _ont_paths()
            if serial is not None:
                one = _ont(s, serial)
                if one is None:
                    return []
                query = query.where(SimOnt.id == one.id)
            faults = s.scalars(
                sa.select(SimFault)
                .where(SimFault.started_at <= now)
                .where(sa.or_(SimFault.cleared_at.is_(None), SimFault.cleared_at >= since))
                .order_by(SimFault.started_at, SimFault.id)
            ).all()
            for ont, splitter_id in s.execute(query):
                found.extend(_standing_alarms(ont))
                for fault in faults:
                    if _hits(fault, ont, splitter_id):
                        found.extend(_fault_alarms(fault, ont, now))
        return sorted(
            (a for a in found if a.raised_at <= now and (a.cleared_at or now) >= since),
            key=lambda a: (a.raised_at, a.serial or "", a.kind),
        )

    def ping(self, *, serial: str, count: int = 4) -> PingResult:
        if not 1 <= count <= 100:
            raise ValueError("ping count must be 1 to 100")
        now = self._clock()
        with UnitOfWork(self._factory, write=False) as uow:
            status = self._status(uow.session, _ont_or_refuse(uow.session, serial), now)
        if not status.online:
            return PingResult(reachable=False, sent=count, received=0, avg_rtt_ms=None)
        jitter = self._unit(status.serial, "jitter", _window(now))
        rtt = 1.5 + 2.5 * self._unit(status.serial, "rtt") + 1.5 * jitter
        return PingResult(reachable=True, sent=count, received=count, avg_rtt_ms=round(rtt, 3))

    def traffic(self, *, serial: str) -> TrafficSample:
        now = self._clock()
        with UnitOfWork(self._factory, write=False) as uow:
            s = uow.session
            ont = _ont_or_refuse(s, serial)
            spl = _splitter_of(s, ont)
            faults = s.scalars(sa.select(SimFault).where(SimFault.started_at <= now)).all()
            dark = [(f.started_at, f.cleared_at) for f in faults if _cuts(f) and _hits(f, ont, spl)]
            start = ont.registered_at
            demand = _demand(start, now) - sum(_demand(a, b) for a, b in _merge(dark, start, now))
            down_pm, up_pm = self._utilisation_pm(ont.serial)
            down = _octets(ont.down_mbps, down_pm, demand)
            return TrafficSample(ont.serial, now, down, _octets(ont.up_mbps, up_pm, demand))

    def pon_utilisation(self, *, pon_port_id: int) -> float:
        now = self._clock()
        with UnitOfWork(self._factory, write=False) as uow:
            s = uow.session
            port = s.get(PonPort, pon_port_id)
            if port is None:
                raise NetworkError(f"PON port {pon_port_id} does not exist on this OLT")
            onts = s.execute(_ont_paths().where(SimOnt.pon_port_id == pon_port_id))
            faults = _active_faults(s, now)
            busy = [
                ont
                for ont, splitter_id in onts
                if ont.admin_state == "ACTIVE"
                and not any(_cuts(f) and _hits(f, ont, splitter_id) for f in faults)
            ]
            mbps = sum(o.down_mbps * self._utilisation_pm(o.serial)[0] / 1000 for o in busy)
            capacity = port.technology.downstream_mbps
        weight = DAY_CURVE[_local_hour(now)] * 24 / _CURVE_SUM
        return round(min(1.0, mbps * weight / capacity), 4)

    # -- faults (simulator only) ----------------------------------------------------------

    def inject_fault(
        self,
        kind: FaultKind | str,
        *,
        splitter_id: int | None = None,
        pon_port_id: int | None = None,
        serial: str | None = None,
        extra_loss_db: Decimal | None = None,
    ) -> int:
        """Start a fault now; returns its id. FIBER_CUT takes ``splitter_id`` or
        ``pon_port_id``; POWER_LOSS and DEGRADED_DROP take an ONT ``serial``."""
        kind = FaultKind(kind)
        with UnitOfWork(self._factory) as uow:
            s = uow.session
            if kind is FaultKind.FIBER_CUT:
                if (splitter_id is None) == (pon_port_id is None) or serial is not None:
                    raise ValueError("a fiber cut takes either splitter_id or pon_port_id")
                model, target_id = (
                    (Splitter, splitter_id) if splitter_id is not None else (PonPort, pon_port_id)
                )
                if s.get(model, target_id) is None:
                    raise NetworkError(f"no {model.__tablename__[:-1]} {target_id}")
                target_type = "splitter" if splitter_id is not None else "pon_port"
                target, loss = str(target_id), None
            else:
                if serial is None or splitter_id is not None or pon_port_id is not None:
                    raise ValueError(f"a {kind.value} fault takes an ONT serial only")
                target_type, target = "ont", _ont_or_refuse(s, serial).serial
                loss = None
                if kind is FaultKind.DEGRADED_DROP:
                    loss = DEFAULT_EXTRA_LOSS_DB if extra_loss_db is None else extra_loss_db
                    if not Decimal(0) < loss <= Decimal(40):
                        raise ValueError("extra loss must be more than 0 and at most 40 dB")
                elif extra_loss_db is not None:
                    raise ValueError("only a degraded drop has an extra loss")
            fault = SimFault(
                kind=kind.value,
                target_type=target_type,
                target=target,
                extra_loss_db=loss,
                started_at=self._clock(),
            )
            s.add(fault)
            s.flush()
            uow.commit()
            return fault.id

    def clear_fault(self, fault_id: int) -> None:
        """End a fault now; clearing a cleared fault changes nothing."""
        with UnitOfWork(self._factory) as uow:
            fault = uow.session.get(SimFault, fault_id)
            if fault is None:
                raise NetworkError(f"no fault {fault_id}")
            if fault.cleared_at is None:
                fault.cleared_at = self._clock()
            uow.commit()

    def clear_all_faults(self) -> int:
        """End every active fault now; returns how many there were."""
        with UnitOfWork(self._factory) as uow:
            result = uow.session.execute(
                sa.update(SimFault)
                .where(SimFault.cleared_at.is_(None))
                .values(cleared_at=self._clock())
            )
            uow.commit()
            return int(getattr(result, "rowcount", 0) or 0)

    def active_faults(self) -> list[SimulatedFault]:
        with UnitOfWork(self._factory, write=False) as uow:
            return [_fault_view(f) for f in _active_faults(uow.session, self._clock())]

    # -- internals ------------------------------------------------------------------------

    def _set_admin_state(self, serial: str, state: str) -> None:
        with UnitOfWork(self._factory) as uow:
            ont = _ont_or_refuse(uow.session, serial)
            if ont.admin_state != state:
                ont.admin_state = state
                uow.commit()

    def _status(self, s: Session, ont: SimOnt, now: datetime) -> OntStatus:
        splitter_id = _splitter_of(s, ont)
        hits = [f for f in _active_faults(s, now) if _hits(f, ont, splitter_id)]
        down = [f for f in hits if _cuts(f)]
        port, profile = ont.pon_port_id, ont.profile
        if down:
            first = min(f.started_at for f in down)
            seen = first if first >= ont.registered_at else None  # never online if not
            kinds = {_ALARM_OF[FaultKind(f.kind)] for f in down}
            alarms: list[AlarmKind] = [
                k for k in (AlarmKind.LOS, AlarmKind.DYING_GASP) if k in kinds
            ]
            return OntStatus(ont.serial, True, False, ont.admin_state, None, None, seen,
                             port, profile, alarms)  # fmt: skip
        level = ont.base_rx_dbm - sum((f.extra_loss_db or Decimal(0) for f in hits), Decimal(0))
        noise = (Decimal(str(self._unit(ont.serial, "rx", _window(now)))) * 2 - 1) * NOISE_DB
        rx = _reading(level, noise)
        tx = Decimal("0.5") + Decimal("4.5") * Decimal(str(self._unit(ont.serial, "tx")))
        return OntStatus(ont.serial, True, True, ont.admin_state, rx, tx.quantize(CENT_DB), now,
                         port, profile, _rx_alarms(level))  # fmt: skip

    def _unit(self, *parts: object) -> float:
        """A number in [0, 1) fixed by the seed and ``parts``."""
        text = ":".join(str(p) for p in (self._seed, *parts))
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64

    def _utilisation_pm(self, serial: str) -> tuple[int, int]:
        lo, hi = DOWN_UTILISATION_PM
        down = lo + int((hi - lo) * self._unit(serial, "down"))
        lo, hi = UP_UTILISATION_PM
        return down, lo + int((hi - lo) * self._unit(serial, "up"))


_ALARM_OF = {FaultKind.FIBER_CUT: AlarmKind.LOS, FaultKind.POWER_LOSS: AlarmKind.DYING_GASP}


def _serial_or_refuse(raw: str) -> str:
    try:
        return normalise_ont_serial(raw)
    except InvalidInput as exc:
        raise NetworkError(exc.reason) from None


def _check_profile(profile: ServiceProfile) -> None:
    if not profile.name or profile.down_mbps <= 0 or profile.up_mbps <= 0:
        raise NetworkError("a service profile needs a name and positive rates")


def _ont(s: Session, serial: str) -> SimOnt | None:
    try:
        serial = normalise_ont_serial(serial)
    except InvalidInput:
        return None
    return s.scalar(sa.select(SimOnt).where(SimOnt.serial == serial))


def _ont_or_refuse(s: Session, serial: str) -> SimOnt:
    ont = _ont(s, serial)
    if ont is None:
        raise NetworkError(f"ONT {serial} is not registered on this OLT")
    return ont


def _next_onu_id(s: Session, port: PonPort) -> int:
    limit = min(port.max_split, ONU_ID_LIMIT[port.technology])
    used = set(s.scalars(sa.select(SimOnt.onu_id).where(SimOnt.pon_port_id == port.id)))
    for onu_id in range(1, limit + 1):
        if onu_id not in used:
            return onu_id
    raise NetworkError(f"PON port {port.id} has no free ONU id: all {limit} are in use")


def _ont_paths() -> sa.Select[SimOnt, int]:
    return (
        sa.select(SimOnt, Nap.splitter_id)
        .outerjoin(Nap, Nap.id == SimOnt.nap_id)
        .order_by(SimOnt.serial)
    )


def _splitter_of(s: Session, ont: SimOnt) -> int | None:
    if ont.nap_id is None:
        return None
    return s.scalar(sa.select(Nap.splitter_id).where(Nap.id == ont.nap_id))


def _active_faults(s: Session, now: datetime) -> list[SimFault]:
    return list(
        s.scalars(
            sa.select(SimFault)
            .where(SimFault.started_at <= now)
            .where(sa.or_(SimFault.cleared_at.is_(None), SimFault.cleared_at > now))
            .order_by(SimFault.id)
        )
    )


def _hits(fault: SimFault, ont: SimOnt, splitter_id: int | None) -> bool:
    if fault.target_type == "splitter":
        return splitter_id is not None and fault.target == str(splitter_id)
    if fault.target_type == "pon_port":
        return fault.target == str(ont.pon_port_id)
    return fault.target == ont.serial


def _cuts(fault: SimFault) -> bool:
    """Does the fault take its ONTs offline?"""
    return fault.kind in (FaultKind.FIBER_CUT, FaultKind.POWER_LOSS)


def _reading(level: Decimal, noise: Decimal) -> Decimal:
    """``level`` plus ``noise``, kept on the same side of each alarm threshold as ``level``."""
    rx = (level + noise).quantize(CENT_DB)
    sens, over = ONT_SENSITIVITY_DBM, ONT_OVERLOAD_DBM
    rx = max(rx, sens) if level >= sens else min(rx, sens - CENT_DB)
    return min(rx, over) if level <= over else max(rx, over + CENT_DB)


def _rx_alarms(level: Decimal) -> list[AlarmKind]:
    if level < ONT_SENSITIVITY_DBM:
        return [AlarmKind.LOW_RX]
    if level > ONT_OVERLOAD_DBM:
        return [AlarmKind.HIGH_RX]
    return []


def _standing_alarms(ont: SimOnt) -> list[Alarm]:
    """Rx alarms the plant gives an ONT from the day it registered."""
    return [
        Alarm(kind, ont.serial, ont.pon_port_id, ont.registered_at, None,
              f"Rx {ont.base_rx_dbm} dBm without any fault")
        for kind in _rx_alarms(ont.base_rx_dbm)
    ]  # fmt: skip


def _fault_alarms(fault: SimFault, ont: SimOnt, now: datetime) -> list[Alarm]:
    raised = max(fault.started_at, ont.registered_at)
    cleared = fault.cleared_at if fault.cleared_at and fault.cleared_at <= now else None
    if cleared is not None and cleared < raised:
        return []
    kind = FaultKind(fault.kind)
    if kind is FaultKind.DEGRADED_DROP:
        loss = fault.extra_loss_db or Decimal(0)
        level = ont.base_rx_dbm - loss
        if level >= ONT_SENSITIVITY_DBM or ont.base_rx_dbm < ONT_SENSITIVITY_DBM:
            return []
        detail = f"drop degraded by {loss} dB: Rx about {level} dBm"
        return [Alarm(AlarmKind.LOW_RX, ont.serial, ont.pon_port_id, raised, cleared, detail)]
    where = {"splitter": "splitter", "pon_port": "PON port", "ont": "ONT"}[fault.target_type]
    detail = f"{kind.value.replace('_', ' ').lower()} on {where} {fault.target}"
    return [Alarm(_ALARM_OF[kind], ont.serial, ont.pon_port_id, raised, cleared, detail)]


def _fault_view(f: SimFault) -> SimulatedFault:
    return SimulatedFault(
        f.id, FaultKind(f.kind), f.target_type, f.target, f.extra_loss_db, f.started_at,
        f.cleared_at,
    )  # fmt: skip


def _window(now: datetime) -> int:
    return int(now.timestamp()) // NOISE_WINDOW_S


def _local_hour(now: datetime) -> int:
    return ((int(now.timestamp()) + LOCAL_OFFSET_S) // 3600) % 24


def _curve_ms(at: datetime) -> int:
    """The daily curve integrated from the epoch to ``at``: weight x milliseconds."""
    ms = int(at.timestamp() * 1000) + LOCAL_OFFSET_S * 1000
    days, rest = divmod(ms, 24 * _HOUR_MS)
    hour, into = divmod(rest, _HOUR_MS)
    return days * _CURVE_SUM * _HOUR_MS + _CURVE_PREFIX[hour] * _HOUR_MS + DAY_CURVE[hour] * into


def _demand(start: datetime, end: datetime) -> int:
    return max(0, _curve_ms(end) - _curve_ms(start))


def _merge(
    spans: Iterable[tuple[datetime, datetime | None]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The union of ``spans`` (open ones end at ``end``), clipped to [start, end]."""
    clipped = sorted(
        (max(a, start), min(b or end, end)) for a, b in spans if a < end and (b or end) > start
    )
    merged: list[tuple[datetime, datetime]] = []
    for a, b in clipped:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _octets(rate_mbps: int, utilisation_pm: int, demand: int) -> int:
    """Octets moved at ``utilisation_pm`` per mille of the rate on average over the curve."""
    bytes_per_s = rate_mbps * 125_000
    # demand / (curve mean x 1000) is the curve-weighted number of seconds
    return bytes_per_s * utilisation_pm * demand * 24 // (1000 * _CURVE_SUM * 1000)
