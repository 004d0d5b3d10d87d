"""The correlation rules: which groups of alarms make an outage, and where it sits."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from fiberdesk.domain.correlation import (
    CorrelationRules,
    Finding,
    LocatedAlarm,
    correlate,
    roll_up,
)
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.outages import OutageKind, Scope

T0 = datetime(2025, 3, 10, 18, 0, tzinfo=UTC)

# A small tree: OLT 1 has PON ports 10 and 11, OLT 2 has PON port 20.
# PON port 10 feeds splitters 100 and 101, PON port 11 feeds 110, PON 20 feeds 200.
# Each splitter feeds two NAPs of 4 ONTs: NAP id = splitter id x 10 + (0 or 1).
SPLITTERS = {100: (10, 1), 101: (10, 1), 110: (11, 1), 200: (20, 2)}
ONTS_PER_NAP = 4


def _tree() -> list[tuple[int, int, int, int]]:
    return [
        (splitter * 10 + n, splitter, pon, olt)
        for splitter, (pon, olt) in SPLITTERS.items()
        for n in range(2)
    ]


COUNTS = roll_up({nap: ONTS_PER_NAP for nap, *_ in _tree()}, _tree())
_ids = itertools.count(1)


def onts(splitter: int, nap: int | None = None) -> list[tuple[str, int, int, int, int]]:
    """(serial, nap, splitter, pon, olt) of every ONT under a splitter (or one NAP of it)."""
    pon, olt = SPLITTERS[splitter]
    naps = [splitter * 10 + n for n in range(2)] if nap is None else [nap]
    return [(f"S{n}-{i}", n, splitter, pon, olt) for n in naps for i in range(ONTS_PER_NAP)]


def alarms(
    ont_list: list[tuple[str, int, int, int, int]],
    kind: str = "LOS",
    at: datetime = T0,
    gap_s: float = 1,
) -> list[LocatedAlarm]:
    return [
        LocatedAlarm(next(_ids), serial, kind, at + timedelta(seconds=i * gap_s), n, s, p, o)
        for i, (serial, n, s, p, o) in enumerate(ont_list)
    ]


def places(findings: list[Finding]) -> list[tuple[OutageKind, Scope, int]]:
    return sorted((f.kind, f.scope, f.scope_id) for f in findings)


def test_counts_roll_up_the_tree() -> None:
    assert COUNTS[(Scope.NAP, 1000)] == 4
    assert COUNTS[(Scope.SPLITTER, 100)] == 8
    assert COUNTS[(Scope.PON_PORT, 10)] == 16
    assert COUNTS[(Scope.OLT, 1)] == 24
    assert COUNTS[(Scope.OLT, 2)] == 8


def test_a_splitter_cut_is_one_outage_at_the_splitter() -> None:
    cut = alarms(onts(100))
    result = correlate(cut, COUNTS)
    assert places(result.outages) == [(OutageKind.FIBER, Scope.SPLITTER, 100)]
    finding = result.outages[0]
    assert set(finding.alarm_ids) == {a.id for a in cut}
    assert len(finding.serials) == 8 and finding.onts_under == 8
    assert finding.started_at == T0
    # dark at the 5th ONT: ceil(0.6 x 8) = 5
    assert finding.detected_at == T0 + timedelta(seconds=4)
    assert result.individual == []


def test_a_pon_port_cut_over_several_splitters_is_one_outage_at_the_port() -> None:
    result = correlate(alarms(onts(100) + onts(101)), COUNTS)
    assert places(result.outages) == [(OutageKind.FIBER, Scope.PON_PORT, 10)]
    assert result.outages[0].dark_children == 2
    assert len(result.outages[0].serials) == 16


def test_a_pon_port_with_one_dark_splitter_is_reported_at_the_splitter() -> None:
    # PON port 11 has one splitter: all its ONTs dark, but no second child
    result = correlate(alarms(onts(110)), COUNTS)
    assert places(result.outages) == [(OutageKind.FIBER, Scope.SPLITTER, 110)]


def test_an_olt_wide_event() -> None:
    everything = onts(100) + onts(101) + onts(110)
    result = correlate(alarms(everything), COUNTS)
    assert places(result.outages) == [(OutageKind.FIBER, Scope.OLT, 1)]
    assert result.outages[0].dark_children == 2 and len(result.outages[0].serials) == 24


def test_two_splitters_on_different_ports_are_two_outages() -> None:
    result = correlate(alarms(onts(100)) + alarms(onts(200)), COUNTS)
    assert places(result.outages) == [
        (OutageKind.FIBER, Scope.SPLITTER, 100),
        (OutageKind.FIBER, Scope.SPLITTER, 200),
    ]


def test_one_nap_dark_on_a_splitter_whose_other_nap_is_fine_is_a_nap_outage() -> None:
    result = correlate(alarms(onts(100, nap=1000)), COUNTS)
    assert places(result.outages) == [(OutageKind.FIBER, Scope.NAP, 1000)]


def test_dying_gasps_only_make_a_power_outage() -> None:
    result = correlate(alarms(onts(101), kind="DYING_GASP"), COUNTS)
    assert places(result.outages) == [(OutageKind.POWER, Scope.SPLITTER, 101)]


def test_los_and_dying_gasps_are_correlated_apart() -> None:
    # half the splitter in LOS, the other half dying gasps: neither reaches 60 %...
    half = onts(100)
    mixed = alarms(half[:4]) + alarms(half[4:], kind="DYING_GASP")
    result = correlate(mixed, COUNTS)
    # ...but each half is a whole NAP
    assert places(result.outages) == [
        (OutageKind.FIBER, Scope.NAP, 1000),
        (OutageKind.POWER, Scope.NAP, 1001),
    ]


def test_scattered_single_ont_alarms_make_no_outage() -> None:
    scattered = []
    for i, splitter in enumerate(SPLITTERS):
        serial, n, s, p, o = onts(splitter)[i]
        scattered.append(
            LocatedAlarm(next(_ids), serial, "LOS", T0 + timedelta(seconds=i), n, s, p, o)
        )
        scattered.append(LocatedAlarm(next(_ids), serial + "x", "DYING_GASP", T0, n, s, p, o))
    result = correlate(scattered, COUNTS)
    assert result.outages == []
    assert sorted(result.individual) == sorted(a.id for a in scattered)


def test_one_flapping_ont_is_not_an_outage() -> None:
    serial, n, s, p, o = onts(100)[0]
    flaps = [
        LocatedAlarm(next(_ids), serial, "LOS", T0 + timedelta(seconds=10 * i), n, s, p, o)
        for i in range(20)
    ]
    assert correlate(flaps, COUNTS).outages == []


def test_other_alarm_kinds_never_correlate() -> None:
    for kind in ("LOF", "LOW_RX", "HIGH_RX", "DEREGISTERED"):
        result = correlate(alarms(onts(100), kind=kind), COUNTS)
        assert result.outages == [] and len(result.individual) == 8


def test_alarms_spread_beyond_the_window_make_no_outage() -> None:
    # 8 ONTs, one every 3 minutes: no 5-minute span holds more than 2 of them
    slow = alarms(onts(100), gap_s=180)
    assert correlate(slow, COUNTS).outages == []
    # a 20-minute window gathers them
    rules = CorrelationRules(window=timedelta(minutes=20))
    assert places(correlate(slow, COUNTS, rules).outages) == [
        (OutageKind.FIBER, Scope.SPLITTER, 100)
    ]


def test_noise_before_a_cut_does_not_hide_it() -> None:
    serial, n, s, p, o = onts(100)[0]
    noise = LocatedAlarm(next(_ids), serial, "LOS", T0 - timedelta(minutes=4), n, s, p, o)
    cut = alarms(onts(100)[1:], at=T0)
    result = correlate([noise, *cut], COUNTS)
    assert places(result.outages) == [(OutageKind.FIBER, Scope.SPLITTER, 100)]
    # the noisy ONT is under the dark splitter: it is in the outage too
    assert result.outages[0].started_at == noise.raised_at
    assert result.outages[0].detected_at == T0 + timedelta(seconds=3)


def test_two_cuts_of_one_splitter_an_hour_apart_are_two_outages() -> None:
    first = alarms(onts(100), at=T0)
    second = alarms(onts(100), at=T0 + timedelta(hours=1))
    result = correlate(first + second, COUNTS)
    assert [(f.scope_id, f.started_at) for f in result.outages] == [
        (100, T0),
        (100, T0 + timedelta(hours=1)),
    ]


def test_the_share_threshold() -> None:
    one_nap = alarms(onts(100)[:4])  # 4 of the splitter's 8 (50 %), all of NAP 1000
    result = correlate(one_nap, COUNTS)
    assert places(result.outages) == [(OutageKind.FIBER, Scope.NAP, 1000)]
    spread = alarms([onts(100)[i] for i in (0, 1, 4, 5)])  # 2 per NAP: 50 % of each
    assert correlate(spread, COUNTS).outages == []
    lenient = CorrelationRules(min_share=0.5)
    assert places(correlate(spread, COUNTS, lenient).outages) == [
        (OutageKind.FIBER, Scope.SPLITTER, 100)
    ]


def test_the_minimum_of_onts() -> None:
    tiny = {(Scope.NAP, 1): 2, (Scope.SPLITTER, 1): 2, (Scope.PON_PORT, 1): 2, (Scope.OLT, 1): 2}
    both = [LocatedAlarm(next(_ids), f"T{i}", "LOS", T0, 1, 1, 1, 1) for i in range(2)]
    assert correlate(both, tiny).outages == []  # 100 % of 2, but fewer than 3 ONTs
    assert len(correlate(both, tiny, CorrelationRules(min_onts=2)).outages) == 1


def test_min_children() -> None:
    rules = CorrelationRules(min_children=1)
    result = correlate(alarms(onts(110)), COUNTS, rules)
    # one dark splitter is enough for its port now; 8 of OLT 1's 24 ONTs is under 60 %
    assert places(result.outages) == [(OutageKind.FIBER, Scope.PON_PORT, 11)]


def test_missing_counts_use_the_onts_seen() -> None:
    result = correlate(alarms(onts(100)), {})
    # every element counts the 8 ONTs it sees; the port and OLT have one child each
    assert places(result.outages) == [(OutageKind.FIBER, Scope.SPLITTER, 100)]
    assert result.outages[0].onts_under == 8


@pytest.mark.parametrize(
    "kwargs",
    [
        {"window": timedelta(0)},
        {"min_share": 0.0},
        {"min_share": 1.5},
        {"min_onts": 1},
        {"min_children": 0},
    ],
)
def test_bad_rules_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        CorrelationRules(**kwargs)  # type: ignore[arg-type]


def test_input_order_does_not_matter() -> None:
    storm = alarms(onts(100) + onts(101)) + alarms(onts(200), kind="DYING_GASP")
    expected = places(correlate(storm, COUNTS).outages)
    shuffled = storm[:]
    random.Random(4).shuffle(shuffled)
    assert places(correlate(shuffled, COUNTS).outages) == expected


def test_every_alarm_is_in_one_outage_or_individual() -> None:
    rng = random.Random(7)
    every = [o for s in SPLITTERS for o in onts(s)]
    storm = alarms(onts(100)) + alarms(onts(200), kind="DYING_GASP")
    for _ in range(200):
        serial, n, s, p, o = rng.choice(every)
        at = T0 + timedelta(minutes=rng.uniform(-120, 120))
        storm.append(
            LocatedAlarm(next(_ids), serial, rng.choice(["LOS", "LOW_RX"]), at, n, s, p, o)
        )
    result = correlate(storm, COUNTS)
    in_outages = [i for f in result.outages for i in f.alarm_ids]
    assert len(in_outages) == len(set(in_outages))
    assert sorted(in_outages + result.individual) == sorted(a.id for a in storm)
