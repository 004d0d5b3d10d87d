"""The simulated OLT on SQLite and PostgreSQL: registration, status, faults, alarms, traffic."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from fiberdesk.adapters.network.base import AlarmKind, NetworkAdapter, NetworkError, ServiceProfile
from fiberdesk.adapters.network.simulated import FaultKind, SimulatedOlt
from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.engine import make_engine, make_session_factory
from fiberdesk.db.models import Nap, PonPort, SimOnt, Splitter
from fiberdesk.domain.network import PonTechnology
from tests.factories import make_network

GIG = ServiceProfile("GIGABIT", 1000, 1000)
BASIC = ServiceProfile("BASIC", 300, 100)
#: 13:00 local (UTC-5) on a Monday
NOON = datetime(2025, 3, 10, 18, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Plant:
    """PON port 1 feeds splitters A and B (a NAP each); PON port 2 (XGS-PON) feeds C;
    PON port 3 has room for two ONTs only."""

    pon: int
    pon2: int
    tiny_pon: int
    splitter_a: int
    splitter_b: int
    nap_a: int
    nap_b: int
    nap_c: int


def make_plant(fd: Fiberdesk) -> Plant:
    net = make_network(fd, naps=1)
    with fd.uow() as uow:
        s = uow.session
        nap_a = s.get_one(Nap, net.nap_ids[0])
        pon = nap_a.splitter.pon_port

        def branch(port: PonPort, code: str) -> Nap:
            spl = Splitter(
                pon_port=port, code=f"LCP-{code}", ratio=32, lat=39.43, lon=-76.6, feeder_m=4000
            )
            nap = Nap(
                splitter=spl,
                code=f"NAP-{code}",
                lat=39.43,
                lon=-76.6,
                port_count=8,
                distribution_m=300,
            )
            s.add_all([spl, nap])
            return nap

        pon2 = PonPort(olt=pon.olt, slot=1, port=2, technology=PonTechnology.XGS_PON, max_split=128)
        tiny = PonPort(olt=pon.olt, slot=1, port=3, technology=PonTechnology.GPON, max_split=2)
        s.add_all([pon2, tiny])
        nap_b, nap_c = branch(pon, "B"), branch(pon2, "C")
        s.flush()
        plant = Plant(
            pon.id,
            pon2.id,
            tiny.id,
            nap_a.splitter_id,
            nap_b.splitter_id,
            nap_a.id,
            nap_b.id,
            nap_c.id,
        )
        uow.commit()
        return plant


@pytest.fixture
def plant(fd: Fiberdesk) -> Plant:
    return make_plant(fd)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture
def olt(fd: Fiberdesk, clock: Clock) -> SimulatedOlt:
    return SimulatedOlt(fd.session_factory, clock=clock)


@pytest.fixture
def other_process(database_url: str, clock: Clock) -> Iterator[SimulatedOlt]:
    """A second simulator on its own engine, as another fiberdesk process would have."""
    engine = make_engine(database_url)
    yield SimulatedOlt(make_session_factory(engine), clock=clock)
    engine.dispose()


def serial(n: int) -> str:
    return f"SIMT{n:08X}"


def register(
    olt: SimulatedOlt,
    n: int,
    pon: int,
    nap: int | None,
    rx: str = "-22.00",
    profile: ServiceProfile = GIG,
) -> None:
    olt.register_ont(
        serial=serial(n), pon_port_id=pon, nap_id=nap, profile=profile, expected_rx_dbm=Decimal(rx)
    )


def onu_ids(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as s:
        return dict(s.execute(sa.select(SimOnt.serial, SimOnt.onu_id)).all())


# -- registration -------------------------------------------------------------------------


def test_it_is_a_network_adapter(olt: SimulatedOlt) -> None:
    adapter: NetworkAdapter = olt
    assert adapter is olt


def test_register_reports_an_online_ont(olt: SimulatedOlt, plant: Plant, clock: Clock) -> None:
    status = olt.register_ont(
        serial="simt0000abcd",
        pon_port_id=plant.pon,
        nap_id=plant.nap_a,
        profile=GIG,
        expected_rx_dbm=Decimal("-21.5"),
    )
    assert status.serial == "SIMT0000ABCD"
    assert (status.registered, status.online, status.admin_state) == (True, True, "ACTIVE")
    assert status.rx_dbm is not None and abs(status.rx_dbm - Decimal("-21.5")) <= Decimal("0.3")
    assert status.tx_dbm is not None and Decimal("0.5") <= status.tx_dbm <= Decimal("5")
    assert (status.pon_port_id, status.profile, status.last_seen_at) == (plant.pon, "GIGABIT", NOON)
    assert status.active_alarms == []
    assert olt.ont_status(serial="SIMT0000ABCD") == status


def test_onu_ids_are_the_lowest_free_per_port(
    fd: Fiberdesk, olt: SimulatedOlt, plant: Plant
) -> None:
    for n in (1, 2, 3):
        register(olt, n, plant.pon, plant.nap_a)
    register(olt, 4, plant.pon2, plant.nap_c)
    olt.deprovision(serial=serial(2))
    register(olt, 5, plant.pon, plant.nap_b)
    assert onu_ids(fd.session_factory) == {serial(1): 1, serial(3): 3, serial(4): 1, serial(5): 2}


def test_concurrent_registrations_take_distinct_onu_ids(
    fd: Fiberdesk, olt: SimulatedOlt, other_process: SimulatedOlt, plant: Plant
) -> None:
    def run(n: int) -> None:
        register(olt if n % 2 else other_process, n, plant.pon, plant.nap_a)

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(run, range(1, 13)))
    assert sorted(onu_ids(fd.session_factory).values()) == list(range(1, 13))


def test_register_refusals(olt: SimulatedOlt, plant: Plant) -> None:
    register(olt, 1, plant.pon, plant.nap_a)
    with pytest.raises(NetworkError, match="PON port 9999 does not exist"):
        register(olt, 2, 9999, None)
    with pytest.raises(NetworkError, match="already registered on PON port"):
        register(olt, 1, plant.pon2, plant.nap_c)
    with pytest.raises(NetworkError, match="not an ONT serial"):
        olt.register_ont(
            serial="BAD",
            pon_port_id=plant.pon,
            nap_id=None,
            profile=GIG,
            expected_rx_dbm=Decimal("-20"),
        )
    with pytest.raises(NetworkError, match="not fed by PON port"):
        register(olt, 3, plant.pon2, plant.nap_a)
    with pytest.raises(NetworkError, match="NAP 9999 does not exist"):
        register(olt, 3, plant.pon, 9999)
    with pytest.raises(NetworkError, match="positive rates"):
        register(olt, 3, plant.pon, None, profile=ServiceProfile("X", 0, 10))
    assert olt.ont_status(serial=serial(3)).registered is False


def test_a_full_pon_port_is_refused(olt: SimulatedOlt, plant: Plant) -> None:
    register(olt, 1, plant.tiny_pon, None)
    register(olt, 2, plant.tiny_pon, None)
    with pytest.raises(NetworkError, match="no free ONU id: all 2 are in use"):
        register(olt, 3, plant.tiny_pon, None)
    olt.deprovision(serial=serial(1))
    register(olt, 3, plant.tiny_pon, None)


def test_unregistered_serial_status(olt: SimulatedOlt, plant: Plant) -> None:
    for raw in (serial(77), "not a serial"):
        status = olt.ont_status(serial=raw)
        assert (status.registered, status.online, status.admin_state) == (False, False, "UNKNOWN")
        assert (status.rx_dbm, status.tx_dbm, status.last_seen_at) == (None, None, None)
        assert status.active_alarms == []


def test_unknown_serials_are_refused(olt: SimulatedOlt, plant: Plant) -> None:
    calls: list[Callable[[], object]] = [
        lambda: olt.suspend(serial=serial(9)),
        lambda: olt.resume(serial=serial(9)),
        lambda: olt.change_profile(serial=serial(9), profile=BASIC),
        lambda: olt.deprovision(serial=serial(9)),
        lambda: olt.ping(serial=serial(9)),
        lambda: olt.traffic(serial=serial(9)),
        lambda: olt.inject_fault(FaultKind.POWER_LOSS, serial=serial(9)),
    ]
    for call in calls:
        with pytest.raises(NetworkError, match="not registered"):
            call()


def test_suspend_resume_profile_and_deprovision(olt: SimulatedOlt, plant: Plant) -> None:
    register(olt, 1, plant.pon, plant.nap_a)
    olt.suspend(serial=serial(1))
    olt.suspend(serial=serial(1))  # no-op
    status = olt.ont_status(serial=serial(1))
    assert (status.admin_state, status.online) == ("SUSPENDED", True)  # light stays on
    olt.resume(serial=serial(1))
    olt.resume(serial=serial(1))
    assert olt.ont_status(serial=serial(1)).admin_state == "ACTIVE"
    olt.change_profile(serial=serial(1), profile=BASIC)
    assert olt.ont_status(serial=serial(1)).profile == "BASIC"
    olt.deprovision(serial=serial(1))
    assert olt.ont_status(serial=serial(1)).registered is False
    register(olt, 1, plant.pon2, plant.nap_c)  # the serial may be registered again
    assert olt.ont_status(serial=serial(1)).pon_port_id == plant.pon2


# -- readings ------------------------------------------------------------------------------


def test_rx_noise_is_small_deterministic_and_bucketed(
    olt: SimulatedOlt, plant: Plant, clock: Clock
) -> None:
    register(olt, 1, plant.pon, plant.nap_a, rx="-22.00")
    first = olt.ont_status(serial=serial(1)).rx_dbm
    clock.advance(minutes=4)  # same 5-minute window
    assert olt.ont_status(serial=serial(1)).rx_dbm == first
    readings = set()
    for _ in range(40):
        clock.advance(minutes=5)
        rx = olt.ont_status(serial=serial(1)).rx_dbm
        assert rx is not None and Decimal("-22.30") <= rx <= Decimal("-21.70")
        readings.add(rx)
    assert len(readings) > 10


def test_noise_depends_on_the_seed_only(fd: Fiberdesk, plant: Plant, clock: Clock) -> None:
    same, other = (SimulatedOlt(fd.session_factory, clock=clock, seed=s) for s in (0, 0))
    reseeded = SimulatedOlt(fd.session_factory, clock=clock, seed=7)
    register(same, 1, plant.pon, plant.nap_a)
    differs = 0
    for _ in range(10):
        clock.advance(minutes=5)
        rx = same.ont_status(serial=serial(1)).rx_dbm
        assert other.ont_status(serial=serial(1)).rx_dbm == rx
        differs += reseeded.ont_status(serial=serial(1)).rx_dbm != rx
    assert differs >= 5


def test_readings_near_thresholds_agree_with_alarms(
    olt: SimulatedOlt, plant: Plant, clock: Clock
) -> None:
    register(olt, 1, plant.pon, None, rx="-26.95")
    register(olt, 2, plant.pon, None, rx="-27.05")
    register(olt, 3, plant.pon, None, rx="-7.90")
    for _ in range(30):
        clock.advance(minutes=5)
        ok, low, high = (olt.ont_status(serial=serial(n)) for n in (1, 2, 3))
        assert ok.rx_dbm is not None and ok.rx_dbm >= Decimal(-27) and ok.active_alarms == []
        assert low.rx_dbm is not None and low.rx_dbm < Decimal(-27)
        assert low.active_alarms == [AlarmKind.LOW_RX]
        assert high.rx_dbm is not None and high.rx_dbm > Decimal(-8)
        assert high.active_alarms == [AlarmKind.HIGH_RX]
    standing = olt.alarms(since=NOON)
    assert [(a.kind, a.serial, a.raised_at, a.cleared_at) for a in standing] == [
        (AlarmKind.LOW_RX, serial(2), NOON, None),
        (AlarmKind.HIGH_RX, serial(3), NOON, None),
    ]


def test_ping(olt: SimulatedOlt, plant: Plant, clock: Clock) -> None:
    register(olt, 1, plant.pon, plant.nap_a)
    result = olt.ping(serial=serial(1), count=5)
    assert (result.reachable, result.sent, result.received) == (True, 5, 5)
    assert result.avg_rtt_ms is not None and 1.5 <= result.avg_rtt_ms <= 6
    assert olt.ping(serial=serial(1), count=5) == result
    olt.inject_fault("POWER_LOSS", serial=serial(1))
    dark = olt.ping(serial=serial(1))
    assert (dark.reachable, dark.sent, dark.received, dark.avg_rtt_ms) == (False, 4, 0, None)
    with pytest.raises(ValueError):
        olt.ping(serial=serial(1), count=0)


# -- faults and alarms -----------------------------------------------------------------------


def test_state_is_shared_between_processes(
    olt: SimulatedOlt, other_process: SimulatedOlt, plant: Plant, clock: Clock
) -> None:
    register(olt, 1, plant.pon, plant.nap_a)
    assert other_process.ont_status(serial=serial(1)).registered is True
    with pytest.raises(NetworkError, match="already registered"):
        register(other_process, 1, plant.pon, plant.nap_a)
    register(other_process, 2, plant.pon, plant.nap_a)
    assert olt.ont_status(serial=serial(2)).online is True
    fault = other_process.inject_fault(FaultKind.FIBER_CUT, splitter_id=plant.splitter_a)
    assert [f.id for f in olt.active_faults()] == [fault]
    assert olt.ont_status(serial=serial(1)).active_alarms == [AlarmKind.LOS]
    clock.advance(minutes=30)
    olt.clear_fault(fault)
    assert other_process.active_faults() == []
    assert other_process.ont_status(serial=serial(2)).online is True


def test_fiber_cut_on_a_splitter(olt: SimulatedOlt, plant: Plant, clock: Clock) -> None:
    register(olt, 1, plant.pon, plant.nap_a)
    register(olt, 2, plant.pon, plant.nap_a)
    register(olt, 3, plant.pon, plant.nap_b)
    register(olt, 4, plant.pon2, plant.nap_c)
    cut_at = clock.advance(hours=1)
    fault = olt.inject_fault(FaultKind.FIBER_CUT, splitter_id=plant.splitter_a)
    clock.advance(minutes=20)
    for n in (1, 2):
        status = olt.ont_status(serial=serial(n))
        assert (status.registered, status.online, status.rx_dbm, status.tx_dbm) == (
            True,
            False,
            None,
            None,
        )
        assert status.active_alarms == [AlarmKind.LOS]
        assert status.last_seen_at == cut_at
    for n in (3, 4):
        status = olt.ont_status(serial=serial(n))
        assert status.online is True and status.active_alarms == []
        assert status.last_seen_at == clock.now
    los = olt.alarms(since=NOON)
    assert [(a.kind, a.serial, a.pon_port_id, a.raised_at, a.cleared_at) for a in los] == [
        (AlarmKind.LOS, serial(1), plant.pon, cut_at, None),
        (AlarmKind.LOS, serial(2), plant.pon, cut_at, None),
    ]
    assert f"splitter {plant.splitter_a}" in los[0].detail
    cleared_at = clock.advance(hours=2)
    olt.clear_fault(fault)
    assert all(olt.ont_status(serial=serial(n)).online for n in (1, 2, 3, 4))
    clock.advance(hours=1)
    history = olt.alarms(since=NOON, serial=serial(2))
    assert [(a.kind, a.raised_at, a.cleared_at) for a in history] == [
        (AlarmKind.LOS, cut_at, cleared_at)
    ]
    assert olt.alarms(since=cleared_at + timedelta(seconds=1)) == []
    assert len(olt.alarms(since=cleared_at)) == 2  # the interval touches ``since``


def test_fiber_cut_on_a_pon_port(olt: SimulatedOlt, plant: Plant) -> None:
    register(olt, 1, plant.pon, plant.nap_a)
    register(olt, 2, plant.pon, plant.nap_b)
    register(olt, 3, plant.pon, None)
    register(olt, 4, plant.pon2, plant.nap_c)
    olt.inject_fault(FaultKind.FIBER_CUT, pon_port_id=plant.pon)
    assert [olt.ont_status(serial=serial(n)).online for n in (1, 2, 3, 4)] == [
        False,
        False,
        False,
        True,
    ]
    assert {a.serial for a in olt.alarms(since=NOON)} == {serial(1), serial(2), serial(3)}


def test_power_loss_gives_a_dying_gasp(olt: SimulatedOlt, plant: Plant, clock: Clock) -> None:
    register(olt, 1, plant.pon, plant.nap_a)
    register(olt, 2, plant.pon, plant.nap_a)
    fault = olt.inject_fault(FaultKind.POWER_LOSS, serial=serial(1))
    status = olt.ont_status(serial=serial(1))
    assert (status.online, status.active_alarms) == (False, [AlarmKind.DYING_GASP])
    assert olt.ont_status(serial=serial(2)).online is True
    clock.advance(minutes=10)
    olt.clear_fault(fault)
    olt.clear_fault(fault)  # clearing twice changes nothing
    alarm = olt.alarms(since=NOON)[0]
    assert (alarm.kind, alarm.serial, alarm.cleared_at) == (
        AlarmKind.DYING_GASP,
        serial(1),
        NOON + timedelta(minutes=10),
    )


def test_degraded_drop_lowers_rx_and_raises_low_rx(
    olt: SimulatedOlt, plant: Plant, clock: Clock
) -> None:
    register(olt, 1, plant.pon, plant.nap_a, rx="-23.00")
    mild = olt.inject_fault(FaultKind.DEGRADED_DROP, serial=serial(1), extra_loss_db=Decimal(2))
    status = olt.ont_status(serial=serial(1))
    assert status.rx_dbm is not None and abs(status.rx_dbm - Decimal(-25)) <= Decimal("0.3")
    assert status.online is True and status.active_alarms == []
    olt.clear_fault(mild)
    raised_at = clock.advance(minutes=15)
    severe = olt.inject_fault(FaultKind.DEGRADED_DROP, serial=serial(1))  # 6 dB by default
    status = olt.ont_status(serial=serial(1))
    assert status.rx_dbm is not None and abs(status.rx_dbm - Decimal(-29)) <= Decimal("0.3")
    assert status.online is True and status.active_alarms == [AlarmKind.LOW_RX]
    assert olt.active_faults()[0].extra_loss_db == Decimal("6.00")
    cleared_at = clock.advance(minutes=45)
    olt.clear_fault(severe)
    restored = olt.ont_status(serial=serial(1))
    assert restored.rx_dbm is not None and abs(restored.rx_dbm - Decimal(-23)) <= Decimal("0.3")
    assert restored.active_alarms == []
    alarms = olt.alarms(since=NOON)
    assert [(a.kind, a.raised_at, a.cleared_at) for a in alarms] == [
        (AlarmKind.LOW_RX, raised_at, cleared_at)
    ]
    assert "6.00 dB" in alarms[0].detail


def test_alarms_since_and_serial_filters(olt: SimulatedOlt, plant: Plant, clock: Clock) -> None:
    register(olt, 1, plant.pon, plant.nap_a)
    register(olt, 2, plant.pon, plant.nap_b)
    old = olt.inject_fault(FaultKind.POWER_LOSS, serial=serial(1))
    clock.advance(hours=1)
    olt.clear_fault(old)
    later = clock.advance(hours=1)
    olt.inject_fault(FaultKind.POWER_LOSS, serial=serial(2))
    assert [a.serial for a in olt.alarms(since=later)] == [serial(2)]
    assert [a.serial for a in olt.alarms(since=NOON)] == [serial(1), serial(2)]
    assert [a.serial for a in olt.alarms(since=NOON, serial=serial(1))] == [serial(1)]
    assert olt.alarms(since=NOON, serial=serial(42)) == []


def test_fault_injection_checks_its_arguments(olt: SimulatedOlt, plant: Plant) -> None:
    register(olt, 1, plant.pon, plant.nap_a)
    bad_calls: list[Callable[[], object]] = [
        lambda: olt.inject_fault(FaultKind.FIBER_CUT),
        lambda: olt.inject_fault(
            FaultKind.FIBER_CUT, splitter_id=plant.splitter_a, pon_port_id=plant.pon
        ),
        lambda: olt.inject_fault(FaultKind.POWER_LOSS, splitter_id=plant.splitter_a),
        lambda: olt.inject_fault(FaultKind.POWER_LOSS, serial=serial(1), extra_loss_db=Decimal(3)),
        lambda: olt.inject_fault(
            FaultKind.DEGRADED_DROP, serial=serial(1), extra_loss_db=Decimal(0)
        ),
        lambda: olt.inject_fault("EARTHQUAKE", serial=serial(1)),
    ]
    for call in bad_calls:
        with pytest.raises(ValueError):
            call()
    with pytest.raises(NetworkError, match="no splitter 9999"):
        olt.inject_fault(FaultKind.FIBER_CUT, splitter_id=9999)
    with pytest.raises(NetworkError, match="no pon_port 9999"):
        olt.inject_fault(FaultKind.FIBER_CUT, pon_port_id=9999)
    with pytest.raises(NetworkError, match="no fault 9999"):
        olt.clear_fault(9999)
    assert olt.active_faults() == []


def test_clear_all_faults(olt: SimulatedOlt, plant: Plant, clock: Clock) -> None:
    register(olt, 1, plant.pon, plant.nap_a)
    a = olt.inject_fault(FaultKind.FIBER_CUT, pon_port_id=plant.pon)
    b = olt.inject_fault(FaultKind.DEGRADED_DROP, serial=serial(1), extra_loss_db=Decimal("1.5"))
    faults = olt.active_faults()
    assert [(f.id, f.kind, f.target_type, f.target) for f in faults] == [
        (a, FaultKind.FIBER_CUT, "pon_port", str(plant.pon)),
        (b, FaultKind.DEGRADED_DROP, "ont", serial(1)),
    ]
    clock.advance(minutes=1)
    assert olt.clear_all_faults() == 2
    assert olt.clear_all_faults() == 0
    assert olt.active_faults() == [] and olt.ont_status(serial=serial(1)).online is True


def test_registering_under_a_cut_fiber_is_never_seen(
    olt: SimulatedOlt, plant: Plant, clock: Clock
) -> None:
    olt.inject_fault(FaultKind.FIBER_CUT, splitter_id=plant.splitter_a)
    clock.advance(minutes=5)
    status = olt.register_ont(
        serial=serial(1),
        pon_port_id=plant.pon,
        nap_id=plant.nap_a,
        profile=GIG,
        expected_rx_dbm=Decimal("-20"),
    )
    assert (status.registered, status.online, status.last_seen_at) == (True, False, None)
    assert olt.alarms(since=NOON)[0].raised_at == clock.now  # raised when it registered


# -- traffic and utilisation -----------------------------------------------------------------


def test_traffic_grows_with_time_and_follows_the_day(
    olt: SimulatedOlt, plant: Plant, clock: Clock
) -> None:
    register(olt, 1, plant.pon, plant.nap_a, profile=BASIC)
    start = olt.traffic(serial=serial(1))
    assert (start.rx_octets, start.tx_octets, start.at) == (0, 0, NOON)
    by_hour: dict[int, int] = {}
    previous = start
    for _ in range(24):
        clock.advance(hours=1)
        sample = olt.traffic(serial=serial(1))
        assert sample.rx_octets > previous.rx_octets and sample.tx_octets > previous.tx_octets
        local_hour = (sample.at - timedelta(hours=6)).hour  # the hour just ended, UTC-5
        by_hour[local_hour] = sample.rx_octets - previous.rx_octets
        previous = sample
    assert max(by_hour, key=lambda h: by_hour[h]) in (20, 21, 22)
    assert min(by_hour, key=lambda h: by_hour[h]) == 4
    down = previous.rx_octets / (BASIC.down_mbps * 125_000 * 86_400)
    up = previous.tx_octets / (BASIC.up_mbps * 125_000 * 86_400)
    assert 0.02 <= down <= 0.08 and 0.01 <= up <= 0.04
    assert olt.traffic(serial=serial(1)) == previous  # deterministic for a given clock


def test_traffic_stops_while_offline(olt: SimulatedOlt, plant: Plant, clock: Clock) -> None:
    register(olt, 1, plant.pon, plant.nap_a)
    clock.advance(hours=2)
    fault = olt.inject_fault(FaultKind.FIBER_CUT, splitter_id=plant.splitter_a)
    frozen = olt.traffic(serial=serial(1))
    clock.advance(hours=3)
    assert olt.traffic(serial=serial(1)).rx_octets == frozen.rx_octets
    olt.clear_fault(fault)
    clock.advance(minutes=10)
    assert olt.traffic(serial=serial(1)).rx_octets > frozen.rx_octets


def test_pon_utilisation(olt: SimulatedOlt, plant: Plant, clock: Clock) -> None:
    assert olt.pon_utilisation(pon_port_id=plant.pon) == 0.0
    for n in range(1, 21):
        register(olt, n, plant.pon, plant.nap_a if n % 2 else plant.nap_b)
    clock.now = datetime(2025, 3, 11, 2, 30, tzinfo=UTC)  # 21:30 local
    evening = olt.pon_utilisation(pon_port_id=plant.pon)
    assert olt.pon_utilisation(pon_port_id=plant.pon) == evening
    clock.now = datetime(2025, 3, 11, 9, 30, tzinfo=UTC)  # 04:30 local
    night = olt.pon_utilisation(pon_port_id=plant.pon)
    assert 0 < night < evening <= 1
    assert olt.pon_utilisation(pon_port_id=plant.pon2) == 0.0
    olt.inject_fault(FaultKind.FIBER_CUT, splitter_id=plant.splitter_a)
    assert 0 < olt.pon_utilisation(pon_port_id=plant.pon) < night
    with pytest.raises(NetworkError, match="PON port 9999"):
        olt.pon_utilisation(pon_port_id=9999)
