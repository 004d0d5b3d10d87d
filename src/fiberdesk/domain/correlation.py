"""Alarm correlation: many ONTs dark at once under one element is one outage, not many
tickets.

The rules (thresholds in ``CorrelationRules``, defaults in brackets):

1. Two alarm kinds correlate, each on its own: LOS (loss of signal: a fiber cut) makes a
   FIBER outage, DYING_GASP (the ONT lost power) a POWER outage. LOF, low or high Rx and
   deregistration are faults of one ONT and never open an outage.
2. Each alarm comes placed in the tree: NAP -> splitter -> PON port -> OLT. The number of
   ONTs under each element (installed ONTs) is given; where it is missing or smaller than
   what the alarms show, the ONTs seen in the alarms count instead.
3. An element is *dark* when, inside one span of ``window`` [5 min] from the first alarm of
   the span, at least ``need`` distinct ONTs under it raised the alarm, where
   ``need = max(min_onts [3], ceil(min_share [60 %] x ONTs under it))``. Repeated alarms
   of one ONT count once.
4. The outage sits at the highest dark element. The tree is examined from the top: an OLT
   or a PON port is the fault only when at least ``min_children`` [2] of its children (PON
   ports, splitters) are dark too inside the same span, each by the share rule on its own
   ONTs. One dark splitter under a PON port (or one dark PON port under an OLT) is
   reported at the lower element, where the crew goes. A splitter or a NAP needs no such
   children. Alarms taken by an outage are not looked at again lower down, so one event
   opens one outage.
5. Everything else (one ONT in LOS, dying gasps scattered over the map, a few ONTs of a
   big splitter) is an individual fault, left to the ticket flow.

An outage starts at its earliest alarm and is *detected* at the alarm that made its element
dark. The work is one sort, then one sliding-window pass per level over the alarms grouped
by element: O(n log n) for n alarms, with no pairwise comparisons.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.outages import OutageKind, Scope

#: the alarm kinds that correlate, and the outage each makes
OUTAGE_KIND_OF: dict[str, OutageKind] = {"LOS": OutageKind.FIBER, "DYING_GASP": OutageKind.POWER}
#: where an outage can sit, highest first (the position in ``LocatedAlarm.path``)
LEVELS: tuple[Scope, ...] = (Scope.OLT, Scope.PON_PORT, Scope.SPLITTER, Scope.NAP)
#: the levels that need several dark children to be the fault
NEEDS_CHILDREN = frozenset({Scope.OLT, Scope.PON_PORT})

Counts = Mapping[tuple[Scope, int], int]


@dataclass(frozen=True, slots=True)
class CorrelationRules:
    window: timedelta = timedelta(minutes=5)
    min_share: float = 0.6
    min_onts: int = 3
    min_children: int = 2

    def __post_init__(self) -> None:
        if self.window <= timedelta(0):
            raise InvalidInput("the correlation window must be positive", field="window")
        if not 0 < self.min_share <= 1:
            raise InvalidInput("the share must be above 0 and at most 1", field="min_share")
        if self.min_onts < 2:
            raise InvalidInput("an outage needs at least 2 ONTs", field="min_onts")
        if self.min_children < 1:
            raise InvalidInput("min_children must be at least 1", field="min_children")

    def share_of(self, total: int) -> int:
        """ONTs that make ``min_share`` of ``total`` (at least one)."""
        return max(1, math.ceil(round(self.min_share * total, 9)))

    def need(self, total: int) -> int:
        """Distinct ONTs in one span that make an element of ``total`` ONTs dark."""
        return max(self.min_onts, self.share_of(total))


@dataclass(frozen=True, slots=True)
class LocatedAlarm:
    """An alarm of one ONT, placed in the tree."""

    id: int
    serial: str
    kind: str
    raised_at: datetime
    nap_id: int | None = None
    splitter_id: int | None = None
    pon_port_id: int | None = None
    olt_id: int | None = None

    @property
    def path(self) -> tuple[int | None, int | None, int | None, int | None]:
        """Element ids in the order of ``LEVELS``."""
        return (self.olt_id, self.pon_port_id, self.splitter_id, self.nap_id)


@dataclass(frozen=True, slots=True)
class Finding:
    """One outage: where it sits and the alarms that show it."""

    kind: OutageKind
    scope: Scope
    scope_id: int
    alarm_ids: tuple[int, ...]
    serials: frozenset[str]
    started_at: datetime
    detected_at: datetime
    onts_under: int
    #: dark children inside the span (PON ports of an OLT, splitters of a PON port)
    dark_children: int


@dataclass(frozen=True, slots=True)
class Correlation:
    outages: list[Finding]
    #: alarms in no outage: individual faults
    individual: list[int]


def roll_up(
    nap_counts: Mapping[int, int], tree: Iterable[tuple[int, int, int, int]]
) -> dict[tuple[Scope, int], int]:
    """ONTs under every element, from ONTs per NAP and (nap, splitter, pon_port, olt) rows."""
    counts: dict[tuple[Scope, int], int] = defaultdict(int)
    for nap_id, splitter_id, pon_port_id, olt_id in tree:
        n = nap_counts.get(nap_id, 0)
        if n:
            counts[(Scope.NAP, nap_id)] += n
            counts[(Scope.SPLITTER, splitter_id)] += n
            counts[(Scope.PON_PORT, pon_port_id)] += n
            counts[(Scope.OLT, olt_id)] += n
    return dict(counts)


_Path = tuple[int | None, int | None, int | None, int | None]
#: an alarm as the rules see it: when (seconds), the alarm, its path
_Row = tuple[float, LocatedAlarm, _Path]


def correlate(
    alarms: Iterable[LocatedAlarm], counts: Counts, rules: CorrelationRules | None = None
) -> Correlation:
    """Group alarms into outages by the rules at the top of this module."""
    rules = rules or CorrelationRules()
    by_kind: dict[OutageKind, list[_Row]] = defaultdict(list)
    individual: list[int] = []
    for alarm in alarms:
        kind = OUTAGE_KIND_OF.get(alarm.kind)
        if kind is None:
            individual.append(alarm.id)
        else:
            by_kind[kind].append((alarm.raised_at.timestamp(), alarm, alarm.path))
    found: list[Finding] = []
    for kind in sorted(by_kind):
        rows = sorted(by_kind[kind], key=lambda r: (r[0], r[1].id))
        claimed: set[int] = set()
        for depth, level in enumerate(LEVELS):
            for finding in _level(kind, depth, level, rows, claimed, counts, rules):
                claimed.update(finding.alarm_ids)
                found.append(finding)
        individual.extend(a.id for _, a, _ in rows if a.id not in claimed)
    found.sort(key=lambda f: (f.detected_at, f.kind, LEVELS.index(f.scope), f.scope_id))
    return Correlation(found, individual)


def _level(
    kind: OutageKind,
    depth: int,
    level: Scope,
    rows: list[_Row],
    claimed: set[int],
    counts: Counts,
    rules: CorrelationRules,
) -> Iterator[Finding]:
    groups: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        element = row[2][depth]
        if element is not None and row[1].id not in claimed:
            groups[element].append(row)
    child_level = LEVELS[depth + 1] if level in NEEDS_CHILDREN else None
    for element in sorted(groups):
        group = groups[element]
        if len(group) < rules.need(counts.get((level, element), 0)):
            continue  # too few alarms, let alone ONTs (most elements stop here)
        seen = len({a.serial for _, a, _ in group})
        total = max(counts.get((level, element), 0), seen)
        need = rules.need(total)
        if seen < need:
            continue
        child_need: dict[int, int] | None = None
        if child_level is not None:
            child_need = {
                c: rules.share_of(counts.get((child_level, c), 0))
                for c in {path[depth + 1] for _, _, path in group}
                if c is not None
            }
        for start, end, detected, dark in _dark_spans(group, need, depth, child_need, rules):
            span = [a for _, a, _ in group[start:end]]
            yield Finding(
                kind=kind,
                scope=level,
                scope_id=element,
                alarm_ids=tuple(a.id for a in span),
                serials=frozenset(a.serial for a in span),
                started_at=span[0].raised_at,
                detected_at=detected,
                onts_under=total,
                dark_children=dark,
            )


def _dark_spans(
    group: list[_Row],
    need: int,
    depth: int,
    child_need: dict[int, int] | None,
    rules: CorrelationRules,
) -> Iterator[tuple[int, int, datetime, int]]:
    """Spans [start, end) of ``group`` (sorted by time) in which the element is dark, each
    with the moment it went dark and its dark children: a sliding window of ``window``
    from each span's first alarm, with distinct ONTs (and dark children) counted as alarms
    enter and leave it."""
    window = rules.window.total_seconds()
    min_children = rules.min_children if child_need is not None else 0
    per_serial: dict[str, int] = {}
    per_child: dict[int | None, int] = defaultdict(int)
    distinct = dark = 0
    n, start, end = len(group), 0, 0

    def enter(row: _Row) -> None:
        nonlocal distinct, dark
        serial = row[1].serial
        count = per_serial.get(serial, 0)
        per_serial[serial] = count + 1
        if count == 0:
            distinct += 1
            if child_need is not None:
                child = row[2][depth + 1]
                per_child[child] += 1
                if child is not None and per_child[child] == child_need.get(child, 1):
                    dark += 1

    def leave(row: _Row) -> None:
        nonlocal distinct, dark
        serial = row[1].serial
        count = per_serial[serial] - 1
        per_serial[serial] = count
        if count == 0:
            distinct -= 1
            if child_need is not None:
                child = row[2][depth + 1]
                if child is not None and per_child[child] == child_need.get(child, 1):
                    dark -= 1
                per_child[child] -= 1

    while start < n:
        first = group[start][0]
        detected: datetime | None = None
        while end < n and group[end][0] - first <= window:
            enter(group[end])
            if detected is None and distinct >= need and dark >= min_children:
                detected = group[end][1].raised_at
            end += 1
        if detected is not None:
            yield start, end, detected, dark
            per_serial.clear()
            per_child.clear()
            distinct = dark = 0
            start = end
        else:
            leave(group[start])
            start += 1
