from __future__ import annotations

from decimal import Decimal

import pytest

from fiberdesk.domain.equipment import normalise_mac, normalise_ont_serial
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.network import (
    OpticalPath,
    PonTechnology,
    SignalClass,
    distance_m,
    signal_class,
)


def test_budget_by_hand() -> None:
    # 5 km at 1490 nm = 1.25; 1:32 = 17.5; 4 connectors = 1.2; 6 splices = 0.3; margin 3
    path = OpticalPath(
        fiber_m=Decimal(5000),
        splitter_ratios=(32,),
        connectors=4,
        splices=6,
        olt_tx_dbm=Decimal("3.0"),
    )
    assert path.loss_db() == Decimal("23.25")
    assert path.predicted_rx_dbm() == Decimal("-20.25")
    assert path.margin_db() == Decimal("6.75")


def test_cascaded_splitters_add_up() -> None:
    path = OpticalPath(fiber_m=Decimal(0), splitter_ratios=(4, 8), connectors=0, splices=0)
    assert path.loss_db() == Decimal("7.0") + Decimal("10.5") + Decimal(3)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"splitter_ratios": (3,)},
        {"wavelength_nm": 850},
        {"fiber_m": Decimal(-1)},
    ],
)
def test_budget_refuses_impossible_paths(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {
        "fiber_m": Decimal(1000),
        "splitter_ratios": (32,),
        "connectors": 2,
        "splices": 2,
    }
    base.update(kwargs)
    with pytest.raises(InvalidInput):
        OpticalPath(**base).loss_db()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rx", "expected"),
    [
        (-15, SignalClass.EXCELLENT),
        (Decimal("-19.99"), SignalClass.EXCELLENT),
        (-20, SignalClass.GOOD),
        (-25, SignalClass.GOOD),
        (Decimal("-25.01"), SignalClass.ACCEPTABLE),
        (-28, SignalClass.ACCEPTABLE),
        (Decimal("-28.01"), SignalClass.POOR),
        (-35, SignalClass.POOR),
    ],
)
def test_signal_classes(rx: Decimal | int, expected: SignalClass) -> None:
    assert signal_class(rx) is expected


def test_pon_capabilities() -> None:
    assert PonTechnology.GPON.max_split == 64
    assert PonTechnology.XGS_PON.max_split == 128
    assert PonTechnology.GPON.upstream_mbps < 1000 * 2


def test_distance_one_degree_of_latitude() -> None:
    assert distance_m(39.0, -76.6, 40.0, -76.6) == pytest.approx(111_195, rel=1e-3)


@pytest.mark.parametrize("raw", ["HWTC1A2B3C4D", "hwtc1a2b3c4d", " HWTC-1A2B3C4D "])
def test_serials_normalise(raw: str) -> None:
    assert normalise_ont_serial(raw) == "HWTC1A2B3C4D"


@pytest.mark.parametrize(
    "raw", ["HWT1A2B3C4D", "HWTC1A2B3C4G", "1234ABCDEF12", "HWTC1A2B3C4D5", ""]
)
def test_bad_serials(raw: str) -> None:
    with pytest.raises(InvalidInput, match="ONT serial"):
        normalise_ont_serial(raw)


def test_macs() -> None:
    assert normalise_mac("00-1a-2B-3c-4d-5e") == "00:1A:2B:3C:4D:5E"
    assert normalise_mac("001A.2B3C.4D5E") == "00:1A:2B:3C:4D:5E"
    with pytest.raises(InvalidInput):
        normalise_mac("01:00:5E:00:00:01")  # multicast
    with pytest.raises(InvalidInput):
        normalise_mac("00:1A:2B:3C:4D")
